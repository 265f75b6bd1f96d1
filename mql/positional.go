package mql

// Positional update paths, decided on the stored document: the positional
// $ (https://www.mongodb.com/docs/manual/reference/operator/update/positional/),
// the all-positional $[] (.../update/positional-all/) and the filtered
// positional $[<identifier>] with arrayFilters
// (.../update/positional-filtered/). App Services lets application users
// run all three (crud-and-aggregation-apis.txt, "Array Update Operator
// Availability").

import (
	"errors"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// CodeUpdateArrayFilter is the code of an arrayFilters option the server
// rejects: not a document, no or several identifiers, an identifier given
// twice, used by no path of the update, or a path's identifier without a
// filter.
const CodeUpdateArrayFilter = "update/array-filter"

// ResolveUpdate returns update with every positional path replaced by the
// paths of the array elements it stands for in prev, the stored document:
// "items.$.qty" by "items.<i>.qty" for the element i that opt.Query
// matched, "items.$[].qty" by one path per element, "items.$[e].qty" by
// one path per element that e's filter in opt.ArrayFilters matches. The
// result is the same update for prev with array indexes only: it computes
// the same document (ApplyUpdateWith gives the same answer for both), and
// it can be sent to a server that does not decide positional paths, or
// whose query differs from opt.Query (a rule filter AND-ed in reads arrays
// too, and would change the element $ stands for), provided prev is still
// the stored document. An update without positional paths and without
// arrayFilters is returned as given.
//
// The element of $ is the first element of the array that the query's one
// condition on an array matched, as MongoDB records it (the conditions at
// the top of the query or in $and; those in $or and $nor record nothing):
// a literal other than null or an array, $eq, $gt, $gte, $lt, $lte of such
// a value, $in of such values, $exists: true, or $elemMatch on the array
// itself. A query with several conditions that traverse arrays in prev
// (an operator document of two operators is two conditions), or another
// kind of condition, leaves the element undefined ("ambiguous" in the
// manual) and is refused (update/unsupported), as is a $ on no array of
// prev or past the end of the array it names. On an insert (opt.Insert)
// no query has matched, and $ is an error, as on the server.
//
// Errors wrap ErrInvalidUpdate for updates the server rejects (an unused
// or missing array filter: update/array-filter; $ without a match, $[]
// on a missing or non-array field: update/not-viable; two paths meeting
// on one element: update/conflict) and ErrUnsupportedUpdate for the
// ones it cannot decide exactly (an array filter Match does not support,
// nil opt.Query with $, nil opt.ArrayFilters with $[<identifier>]).
func ResolveUpdate(prev, update bson.Raw, opt ApplyOptions) (bson.Raw, error) {
	ops, names, repl, err := parseUpdateOps(update)
	if err != nil || repl {
		return update, err
	}
	if len(prev) == 0 {
		prev = emptyDoc
	}
	resolved, ptrs, err := resolvePositional(prev, update, ops, names, opt)
	if err != nil || ptrs == nil {
		return resolved, err
	}
	// Two paths meeting on one element conflict, as on the server.
	if _, _, _, err := parseUpdateOps(resolved); err != nil {
		return nil, repoint(err, ptrs)
	}
	return resolved, nil
}

// resolvePositional is ResolveUpdate on a parsed update. ptrs maps the
// pointer of each resolved path ("/$set/items.1.qty") to the pointer of
// the path it comes from in update; nil when resolved is update.
func resolvePositional(prev, update bson.Raw, ops []updateOp, names []string, opt ApplyOptions) (resolved bson.Raw, ptrs map[source.Pointer]source.Pointer, err error) {
	positional := false
	for _, op := range ops {
		for i, c := range op.path {
			if i > 0 && isPositional(c) {
				positional = true
			}
		}
	}
	if !positional && len(opt.ArrayFilters) == 0 {
		return update, nil, nil
	}
	filters, err := parseArrayFilters(opt.ArrayFilters)
	if err != nil {
		return nil, nil, err
	}
	used := map[string]bool{}
	r := &resolver{prev: value.FromDocument(prev), opt: opt, filters: filters, key: -1}
	byName := map[string][][]byte{}
	ptrs = map[source.Pointer]source.Pointer{}
	for _, op := range ops {
		dollars := 0
		for i, c := range op.path {
			if i == 0 || !isPositional(c) {
				continue
			}
			if c == "$" {
				dollars++
			}
			if id, ok := identifier(c); ok {
				if _, ok := filters[id]; !ok && opt.ArrayFilters != nil {
					return nil, nil, updateErr(op.ptr, CodeUpdateArrayFilter, "no array filter found for identifier "+strconv.Quote(id)+" in path "+strconv.Quote(op.field))
				}
				used[id] = true
			}
		}
		if dollars > 1 {
			return nil, nil, updateErr(op.ptr, CodeUpdatePath, "too many positional ($) elements in path "+strconv.Quote(op.field))
		}
		paths, err := r.expand(op, 0, nil, r.prev)
		if err != nil {
			return nil, nil, err
		}
		for _, p := range paths {
			ptrs[source.Pointer("").Key(op.name).Key(strings.Join(p, "."))] = op.ptr
			byName[op.name] = append(byName[op.name], bsoncore.AppendValueElement(nil, strings.Join(p, "."), bsoncore.Value{Type: bsoncore.Type(op.arg.Type), Data: op.arg.Data}))
		}
	}
	for _, f := range opt.ArrayFilters {
		id, _ := filterIdentifier(f)
		if !used[id] {
			return nil, nil, updateErr("", CodeUpdateArrayFilter, "the array filter for identifier "+strconv.Quote(id)+" is not used in the update")
		}
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, name := range names {
		out = bsoncore.AppendDocumentElement(out, name, bsoncore.BuildDocument(nil, byName[name]...))
	}
	out, _ = bsoncore.AppendDocumentEnd(out, idx)
	return bson.Raw(out), ptrs, nil
}

// resolver expands the positional components of update paths on prev.
type resolver struct {
	prev    value.Value
	opt     ApplyOptions
	filters map[string]bson.Raw
	key     int // the element of $, -1 before it is decided
}

// expand returns the concrete paths op.path[i:] stands for under prefix,
// v being the value of prev at prefix (Missing where prev has nothing).
func (r *resolver) expand(op updateOp, i int, prefix []string, v value.Value) ([][]string, error) {
	if i == len(op.path) {
		return [][]string{append([]string(nil), prefix...)}, nil
	}
	c := op.path[i]
	if i == 0 || !isPositional(c) {
		next := value.Value{}
		switch {
		case v.IsDocument():
			next = v.Field(c)
		case v.IsArray():
			if n, ok := value.ArrayIndex(c); ok {
				next = v.Index(n)
			}
		}
		return r.expand(op, i+1, append(prefix[:len(prefix):len(prefix)], c), next)
	}
	at := strings.Join(prefix, ".")
	var elems []int
	switch c {
	case "$":
		if r.opt.Insert {
			return nil, updateErr(op.ptr, CodeUpdateNotViable, "the positional operator did not find the match needed from the query (an upsert inserts: no query matched)")
		}
		if r.opt.Query == nil {
			return nil, updateErr(op.ptr, CodeUpdateUnsupported, "positional operators ($) need the query and arrayFilters; the result cannot be computed here")
		}
		if r.key < 0 {
			k, err := positionalKey(r.prev, r.opt.Query, op.ptr)
			if err != nil {
				return nil, err
			}
			r.key = k
		}
		if !v.IsArray() || r.key >= v.Len() {
			return nil, updateErr(op.ptr, CodeUpdateUnsupported, "the positional $ of "+strconv.Quote(op.field)+" stands for element "+strconv.Itoa(r.key)+" of the array the query matched, which "+strconv.Quote(at)+" does not hold: the result cannot be computed exactly")
		}
		elems = []int{r.key}
	default:
		if v.IsMissing() {
			return nil, updateErr(op.ptr, CodeUpdateNotViable, "the path "+strconv.Quote(at)+" must exist in the document to apply array updates")
		}
		if !v.IsArray() {
			return nil, updateErr(op.ptr, CodeUpdateNotViable, "cannot apply array updates to the non-array value at "+strconv.Quote(at))
		}
		id, filtered := identifier(c)
		if filtered && r.opt.ArrayFilters == nil {
			return nil, updateErr(op.ptr, CodeUpdateUnsupported, "positional operators ("+c+") need the query and arrayFilters; the result cannot be computed here")
		}
		var ferr error
		v.Each(func(j int, e value.Value) bool {
			if filtered {
				ok, err := elementMatches(r.filters[id], id, e, op.ptr)
				if err != nil {
					ferr = err
					return true
				}
				if !ok {
					return false
				}
			}
			elems = append(elems, j)
			return false
		})
		if ferr != nil {
			return nil, ferr
		}
	}
	var out [][]string
	for _, j := range elems {
		ps, err := r.expand(op, i+1, append(prefix[:len(prefix):len(prefix)], strconv.Itoa(j)), v.Index(j))
		if err != nil {
			return nil, err
		}
		out = append(out, ps...)
	}
	return out, nil
}

// identifier returns the identifier of a filtered positional component
// ("$[e]" gives "e").
func identifier(c string) (string, bool) {
	if c == "$" || c == "$[]" {
		return "", false
	}
	return c[2 : len(c)-1], true
}

// elementMatches reports whether the array filter f of identifier id
// matches the array element e: the server matches f against {id: e}.
func elementMatches(f bson.Raw, id string, e value.Value, ptr source.Pointer) (bool, error) {
	doc := bsoncore.NewDocumentBuilder().AppendValue(id, bsoncore.Value{Type: bsoncore.Type(e.Type), Data: e.Data}).Build()
	ok, err := Match(f, bson.Raw(doc))
	if err != nil {
		if errors.Is(err, ErrUnsupportedFilter) {
			return false, updateErr(ptr, CodeUpdateUnsupported, "the array filter of "+strconv.Quote(id)+" cannot be matched exactly: "+err.Error())
		}
		return false, updateErr(ptr, CodeUpdateArrayFilter, "the array filter of "+strconv.Quote(id)+" is not a valid query: "+err.Error())
	}
	return ok, nil
}

// parseArrayFilters checks the arrayFilters option as the server does and
// returns each filter by its identifier.
func parseArrayFilters(fs []bson.Raw) (map[string]bson.Raw, error) {
	out := map[string]bson.Raw{}
	for i, f := range fs {
		bad := func(msg string) error {
			return updateErr("", CodeUpdateArrayFilter, "arrayFilters["+strconv.Itoa(i)+"]: "+msg)
		}
		if err := f.Validate(); err != nil {
			return nil, bad("not a BSON document: " + err.Error())
		}
		id, err := filterIdentifier(f)
		if err != nil {
			return nil, bad(err.Error())
		}
		if _, dup := out[id]; dup {
			return nil, bad("another array filter has the identifier " + strconv.Quote(id))
		}
		out[id] = f
	}
	return out, nil
}

// filterIdentifier returns the one identifier an array filter names: the
// first component of each of its field paths, at the top and in $and,
// $or and $nor.
func filterIdentifier(f bson.Raw) (string, error) {
	ids := map[string]bool{}
	var walk func(d bson.Raw) error
	walk = func(d bson.Raw) error {
		elems, err := d.Elements()
		if err != nil {
			return err
		}
		for _, e := range elems {
			k := e.Key()
			switch {
			case k == "$and" || k == "$or" || k == "$nor":
				vals, _ := e.Value().Array().Values()
				for _, v := range vals {
					sub, ok := v.DocumentOK()
					if !ok {
						return errors.New(k + " expects an array of documents")
					}
					if err := walk(sub); err != nil {
						return err
					}
				}
			case strings.HasPrefix(k, "$"):
				return errors.New("the operator " + k + " names no identifier")
			default:
				id, _, _ := strings.Cut(k, ".")
				ids[id] = true
			}
		}
		return nil
	}
	if err := walk(f); err != nil {
		return "", err
	}
	if len(ids) != 1 {
		return "", errors.New("an array filter must name exactly one identifier, found " + strconv.Itoa(len(ids)))
	}
	for id := range ids {
		if !isPositional("$[" + id + "]") {
			return "", errors.New("the identifier " + strconv.Quote(id) + " must be an alphanumeric string beginning with a lowercase letter")
		}
		return id, nil
	}
	return "", nil
}

// positionalKey returns the element that the positional $ stands for:
// the first element of the array that the query's one condition on an
// array of prev matched (see ResolveUpdate).
func positionalKey(prev value.Value, query bson.Raw, ptr source.Pointer) (int, error) {
	type cond struct {
		path []string // up to and including the array
		rest string   // the path inside an element
		key  string   // the query key
		op   string   // "" for a literal
		arg  value.Value
	}
	var found []cond
	var walk func(q bson.Raw) error
	walk = func(q bson.Raw) error {
		elems, err := q.Elements()
		if err != nil {
			return updateErr(ptr, CodeUpdateUnsupported, "the query is not a BSON document")
		}
		for _, e := range elems {
			k := e.Key()
			switch {
			case k == "$and":
				vals, _ := e.Value().Array().Values()
				for _, v := range vals {
					if d, ok := v.DocumentOK(); ok {
						if err := walk(d); err != nil {
							return err
						}
					}
				}
				continue
			case k == "$or" || k == "$nor" || k == "$comment":
				continue // they record no element
			case strings.HasPrefix(k, "$"):
				return updateErr(ptr, CodeUpdateUnsupported, "the element the positional $ stands for cannot be decided for a query with "+k)
			}
			comps := strings.Split(k, ".")
			cur, at := prev, -1
			for j, c := range comps {
				if !cur.IsDocument() {
					break
				}
				cur = cur.Field(c)
				if cur.IsArray() {
					at = j
					break
				}
			}
			if at < 0 {
				continue // it traverses no array: it records no element
			}
			c := cond{path: comps[:at+1], rest: strings.Join(comps[at+1:], "."), key: k}
			v := value.FromRaw(e.Value())
			if !isOperators(v) {
				c.arg = v
				found = append(found, c)
				continue
			}
			ops, _ := bson.Raw(v.Data).Elements()
			for _, o := range ops {
				c.op, c.arg = o.Key(), value.FromRaw(o.Value())
				found = append(found, c)
			}
		}
		return nil
	}
	if err := walk(query); err != nil {
		return 0, err
	}
	switch {
	case len(found) == 0:
		return 0, updateErr(ptr, CodeUpdateNotViable, "the positional operator did not find the match needed from the query")
	case len(found) > 1:
		return 0, updateErr(ptr, CodeUpdateUnsupported, "the query has "+strconv.Itoa(len(found))+" conditions on arrays of the document: the element the positional $ stands for is not defined")
	}
	c := found[0]
	if !positionalOperand(c.op, c.arg, c.rest == "") {
		what := "a literal"
		if c.op != "" {
			what = c.op
		}
		return 0, updateErr(ptr, CodeUpdateUnsupported, "the element the positional $ stands for cannot be decided for the condition "+what+" on "+strconv.Quote(c.key))
	}
	for _, p := range strings.Split(c.rest, ".") {
		if _, num := value.ArrayIndex(p); num && c.rest != "" {
			return 0, updateErr(ptr, CodeUpdateUnsupported, "the element the positional $ stands for cannot be decided for the numeric component "+strconv.Quote(p)+" of "+strconv.Quote(c.key))
		}
	}
	arr := prev
	for _, p := range c.path {
		arr = arr.Field(p)
	}
	// Element i matches when the condition holds with the array reduced
	// to [element i]: the conditions above match through an element only.
	qkey := "v"
	if c.rest != "" {
		qkey += "." + c.rest
	}
	qb := bsoncore.NewDocumentBuilder()
	if c.op == "" {
		qb.AppendValue(qkey, bsoncore.Value{Type: bsoncore.Type(c.arg.Type), Data: c.arg.Data})
	} else {
		qb.AppendDocument(qkey, bsoncore.NewDocumentBuilder().AppendValue(c.op, bsoncore.Value{Type: bsoncore.Type(c.arg.Type), Data: c.arg.Data}).Build())
	}
	q := bson.Raw(qb.Build())
	key, ferr := -1, error(nil)
	arr.Each(func(i int, e value.Value) bool {
		if e.IsArray() {
			ferr = updateErr(ptr, CodeUpdateUnsupported, "the array "+strconv.Quote(strings.Join(c.path, "."))+" holds arrays: the element the positional $ stands for cannot be decided")
			return true
		}
		one := bsoncore.NewArrayBuilder().AppendValue(bsoncore.Value{Type: bsoncore.Type(e.Type), Data: e.Data}).Build()
		doc := bsoncore.NewDocumentBuilder().AppendArray("v", one).Build()
		ok, err := Match(q, bson.Raw(doc))
		if err != nil {
			ferr = updateErr(ptr, CodeUpdateUnsupported, "the element the positional $ stands for cannot be decided: "+err.Error())
			return true
		}
		if ok {
			key = i
			return true
		}
		return false
	})
	if ferr != nil {
		return 0, ferr
	}
	if key < 0 {
		return 0, updateErr(ptr, CodeUpdateNotViable, "the positional operator did not find the match needed from the query")
	}
	return key, nil
}

// positionalOperand reports whether a condition (op, "" for a literal)
// matches an array through one of its elements only, so that the element
// $ stands for is the first one it holds for.
func positionalOperand(op string, arg value.Value, onArray bool) bool {
	plain := func(v value.Value) bool {
		return !v.IsMissing() && !v.IsNull() && !v.IsArray() && v.Type != bson.TypeRegex &&
			v.Type != bson.TypeMinKey && v.Type != bson.TypeMaxKey && v.Type != bson.TypeUndefined
	}
	switch op {
	case "", "$eq", "$gt", "$gte", "$lt", "$lte":
		return plain(arg)
	case "$in":
		if !arg.IsArray() || arg.Len() == 0 {
			return false
		}
		all := true
		arg.Each(func(_ int, e value.Value) bool { all = all && plain(e); return !all })
		return all
	case "$exists":
		return truthy(arg)
	case "$elemMatch":
		return onArray && arg.IsDocument()
	}
	return false
}

// repoint gives an error of a resolved update the pointer of the path it
// comes from in the update as written.
func repoint(err error, ptrs map[source.Pointer]source.Pointer) error {
	var ce *codedError
	if errors.As(err, &ce) {
		if p, ok := ptrs[ce.err.Ptr]; ok {
			e := *ce.err
			e.Ptr = p
			return &codedError{err: &e, kind: ce.kind}
		}
	}
	return err
}
