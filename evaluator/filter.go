package evaluator

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrNotExpressible is returned by ReadFilter and WriteFilter when a rule
// cannot be written as a MongoDB query exactly: it compares two values of
// the document ({"a": "%%root.b"}), or calls a function or a conversion on
// document values. The caller must then evaluate each document with
// Evaluate instead (fail closed: no approximate filter is returned).
var ErrNotExpressible = errors.New("evaluator: rule cannot be written as a MongoDB query")

// fk is the kind of a filter under construction.
type fk uint8

const (
	fTrue fk = iota + 1
	fFalse
	fQuery
)

// flt is a filter under construction: a constant or a query document.
type flt struct {
	k fk
	q bson.D
}

var (
	tTrue  = flt{k: fTrue}
	tFalse = flt{k: fFalse}
)

func fconst(b bool) flt {
	if b {
		return tTrue
	}
	return tFalse
}

func fq(field string, op string, v any) flt {
	return flt{k: fQuery, q: bson.D{{Key: field, Value: bson.D{{Key: op, Value: v}}}}}
}

// scan classifies xs for a logical operator: the number of queries and
// the last one, or a constant result (absorb) when some argument is the
// absorbing constant.
func scan(xs []flt, absorbing fk) (n int, last flt, absorbed bool) {
	for _, x := range xs {
		switch x.k {
		case absorbing:
			return 0, flt{}, true
		case fQuery:
			n++
			last = x
		}
	}
	return n, last, false
}

func fand(xs ...flt) flt {
	n, last, absorbed := scan(xs, fFalse)
	switch {
	case absorbed:
		return tFalse
	case n == 0:
		return tTrue
	case n == 1 || last.q == nil:
		return last
	}
	qs := make(bson.A, 0, n+2)
	for _, x := range xs {
		if x.k != fQuery {
			continue
		}
		if len(x.q) == 1 && x.q[0].Key == "$and" {
			qs = append(qs, x.q[0].Value.(bson.A)...)
		} else {
			qs = append(qs, x.q)
		}
	}
	return simplify("$and", "$or", qs)
}

// simplify builds {op: qs} without duplicate clauses (compared as BSON
// bytes) and without a clause of the dual operator that repeats a sibling
// (absorption: A ∧ (A ∨ B) = A, A ∨ (A ∧ B) = A); a single clause is
// returned as it is.
func simplify(op, dual string, qs bson.A) flt {
	keys := make([]string, len(qs))
	seen := make(map[string]bool, len(qs))
	out := qs[:0]
	for i, q := range qs {
		k := clauseKey(q, i)
		if seen[k] {
			continue
		}
		seen[k] = true
		keys[len(out)] = k
		out = append(out, q)
	}
	kept := out[:0]
	for i, q := range out {
		if d, ok := q.(bson.D); ok && len(d) == 1 && d[0].Key == dual {
			absorbed := false
			if kids, ok := d[0].Value.(bson.A); ok {
				for j, kid := range kids {
					if k := clauseKey(kid, -1-j); k != keys[i] && seen[k] {
						absorbed = true
						break
					}
				}
			}
			if absorbed {
				continue
			}
		}
		kept = append(kept, q)
	}
	if len(kept) == 1 {
		if d, ok := kept[0].(bson.D); ok {
			return flt{k: fQuery, q: d}
		}
	}
	return flt{k: fQuery, q: bson.D{{Key: op, Value: kept}}}
}

// clauseKey is the canonical form of a clause: its BSON bytes. A clause
// that cannot be encoded gets a key of its own (i).
func clauseKey(q any, i int) string {
	b, err := bson.Marshal(q)
	if err != nil {
		return fmt.Sprintf("\x00%d", i)
	}
	return string(b)
}

func forr(xs ...flt) flt {
	n, last, absorbed := scan(xs, fTrue)
	switch {
	case absorbed:
		return tTrue
	case n == 0:
		return tFalse
	case n == 1 || last.q == nil:
		return last
	}
	qs := make(bson.A, 0, n+2)
	for _, x := range xs {
		if x.k != fQuery {
			continue
		}
		if len(x.q) == 1 && x.q[0].Key == "$or" {
			qs = append(qs, x.q[0].Value.(bson.A)...)
		} else {
			qs = append(qs, x.q)
		}
	}
	return simplify("$or", "$and", qs)
}

func fnor(xs ...flt) flt {
	n, last, absorbed := scan(xs, fTrue)
	switch {
	case absorbed:
		return tFalse
	case n == 0:
		return tTrue
	case last.q == nil:
		return last
	}
	qs := make(bson.A, 0, n)
	seen := make(map[string]bool, n)
	for i, x := range xs {
		if x.k != fQuery {
			continue
		}
		if k := clauseKey(x.q, i); !seen[k] {
			seen[k] = true
			qs = append(qs, x.q)
		}
	}
	return flt{k: fQuery, q: bson.D{{Key: "$nor", Value: qs}}}
}

func (f flt) doc() bson.D {
	switch f.k {
	case fTrue:
		return bson.D{}
	case fFalse:
		return mql.NeverMatch()
	}
	return f.q
}

// arrayElems returns the elements of an array value, without its nulls
// when dropNulls (the membership sets of equality, see makeSet).
func arrayElems(v value.Value, dropNulls bool) bson.A {
	out := bson.A{}
	v.Each(func(_ int, e value.Value) bool {
		if !(dropNulls && e.IsNull()) {
			out = append(out, e.RawValue())
		}
		return false
	})
	return out
}

// fb translates compiled expressions into MongoDB filters for one bound
// request: request values become literals, %%root and %%prevRoot paths
// become field paths of the stored document.
type fb struct {
	ec  evalCtx
	err error
	// kindOnly classifies (constant true, false, or depends on the
	// document) without building queries.
	kindOnly bool
}

func (f *fb) fail(err error) flt {
	if f.err == nil {
		f.err = err
	}
	return tFalse
}

func (f *fb) node(n *node) flt {
	if n == nil {
		return tTrue
	}
	if n.phase <= phReq && !n.synth {
		return fconst(f.ec.node(n))
	}
	switch n.kind {
	case nConst:
		return fconst(n.val)
	case nLabel, nGate:
		return f.node(n.kids[0])
	case nAnd, nOr, nNor:
		xs := make([]flt, 0, len(n.kids))
		for _, k := range n.kids {
			xs = append(xs, f.node(k))
		}
		switch n.kind {
		case nAnd:
			return fand(xs...)
		case nOr:
			return forr(xs...)
		}
		return fnor(xs...)
	case nMatch:
		return f.match(n)
	}
	return f.fail(fmt.Errorf("%w: unknown node", ErrNotExpressible))
}

func (f *fb) notExpressible(n *node, why string) flt {
	pos := n.at.FileName()
	if pos != "" {
		p := n.at.Pos()
		pos = fmt.Sprintf("%s:%d:%d: ", pos, p.Line, p.Col)
	}
	return f.fail(fmt.Errorf("%w: %s%s: %s", ErrNotExpressible, pos, n.at.Ptr, why))
}

func (f *fb) match(n *node) flt {
	if f.kindOnly {
		return flt{k: fQuery}
	}
	l := n.left
	switch {
	case l.kind == oDocPath && len(l.path) > 0:
		return f.condPath(n, n.cond, strings.Join(l.path, "."))
	case l.kind == oDocPath:
		// The whole stored document exists; only $exists can test it.
		return f.condWhole(n, n.cond)
	case l.phase <= phReq:
		return f.condSwapped(n, n.cond, f.ec.val(l))
	}
	return f.notExpressible(n, "the left side is computed from the document")
}

func (f *fb) condWhole(n *node, c *cnode) flt {
	switch c.kind {
	case cAnd, cOr, cNor:
		xs := make([]flt, 0, len(c.kids))
		for _, k := range c.kids {
			xs = append(xs, f.condWhole(n, k))
		}
		return combine(c.kind, xs)
	case cExists:
		if c.arg.phase > phReq {
			return f.notExpressible(n, "$exists with a document value")
		}
		want, ok := truthy(f.ec.val(c.arg))
		if !ok {
			return fconst(c.neg) // as in memory (condVal)
		}
		return fconst(want)
	}
	return f.notExpressible(n, "a whole document compared with a value")
}

func combine(k condKind, xs []flt) flt {
	switch k {
	case cAnd:
		return fand(xs...)
	case cOr:
		return forr(xs...)
	}
	return fnor(xs...)
}

func (f *fb) condPath(n *node, c *cnode, field string) flt {
	switch c.kind {
	case cAnd, cOr, cNor:
		xs := make([]flt, 0, len(c.kids))
		for _, k := range c.kids {
			xs = append(xs, f.condPath(n, k, field))
		}
		return combine(c.kind, xs)
	case cElemMatch:
		return f.elemMatch(n, c, field)
	}
	if c.arg.phase > phReq {
		return f.notExpressible(n, "two values of the document are compared")
	}
	rv := f.ec.val(c.arg)
	if c.kind == cExists {
		want, ok := truthy(rv)
		if !ok {
			return fconst(c.neg) // as in memory (condPath)
		}
		return fq(field, "$exists", want)
	}
	if rv.IsMissing() || refusedOperand(c, rv) {
		return fconst(c.neg) // as in memory (cnode.neg)
	}
	switch c.kind {
	case cEq:
		return f.eq(n, c, field, rv)
	case cNe:
		return fnor(f.eq(n, c, field, rv))
	case cCmp:
		return fq(field, c.cmp.String(), rv.RawValue())
	case cIn, cNin:
		op := "$in"
		if c.kind == cNin {
			op = "$nin"
		}
		// Every element, nulls included: {"$nin": [null]} must exclude
		// null and missing fields as in memory (operand.inSet).
		return fq(field, op, arrayElems(rv, false))
	case cAll:
		if rv.Len() == 0 {
			return tFalse
		}
		return fq(field, "$all", arrayElems(rv, false))
	case cSize:
		n, _ := value.SizeOK(rv)
		return fq(field, "$size", n)
	case cType:
		return fq(field, "$type", rv.RawValue())
	case cMod:
		d, r, _ := value.ModOK(rv)
		// Truncated, as the server since 5.1 and shapeOp read them.
		return fq(field, "$mod", bson.A{d, r})
	case cRegex:
		// The pattern and options as written: the server's PCRE reads
		// them as shapeOp does (value.CompileRegex).
		q := bson.D{{Key: "$regex", Value: c.re.Source}}
		if c.re.Options != "" {
			q = append(q, bson.E{Key: "$options", Value: c.re.Options})
		}
		return flt{k: fQuery, q: bson.D{{Key: field, Value: q}}}
	}
	return f.notExpressible(n, "unknown condition")
}

// elemField stands for the element while the operator form of an
// $elemMatch is built: {elemField: {ops}} becomes {$elemMatch: {ops}}.
const elemField = "$elem"

// elemMatch builds {field: {$elemMatch: ...}}: the query of the query
// form, or the operators of the operator form. A constant test is false,
// or, true, some document element (the query form: {$type: "object"}) or
// some element (the operator form: {$exists: true}, which the server also
// grants an element that is an array, elemMatches not).
func (f *fb) elemMatch(n *node, c *cnode, field string) flt {
	var in flt
	if c.q != nil {
		in = f.node(c.q)
	} else {
		in = f.condPath(n, c.kids[0], elemField)
	}
	switch in.k {
	case fFalse:
		return tFalse
	case fTrue:
		if c.q != nil {
			// Some document element, as elemMatches reads the query
			// form ({} would also take an array element).
			return fq(field, "$elemMatch", bson.D{{Key: "$type", Value: "object"}})
		}
		return fq(field, "$elemMatch", bson.D{{Key: "$exists", Value: true}})
	}
	if c.q != nil {
		return fq(field, "$elemMatch", in.q)
	}
	ops, ok := elemOps(in.q)
	if !ok {
		return f.notExpressible(n, "$elemMatch with a test of the element that is not one set of operators")
	}
	return fq(field, "$elemMatch", ops)
}

// elemOps turns the filter of an element test on elemField into the
// operators of the operator form: {elemField: ops} is ops, an $and merges
// its clauses' operators (each once), a $nor of one clause is $not.
func elemOps(q bson.D) (bson.D, bool) {
	if len(q) != 1 {
		return nil, false
	}
	switch q[0].Key {
	case elemField:
		ops, ok := q[0].Value.(bson.D)
		return ops, ok
	case "$and":
		var out bson.D
		seen := map[string]bool{}
		for _, x := range q[0].Value.(bson.A) {
			d, ok := x.(bson.D)
			if !ok {
				return nil, false
			}
			ops, ok := elemOps(d)
			if !ok {
				return nil, false
			}
			for _, o := range ops {
				if seen[o.Key] {
					return nil, false
				}
				seen[o.Key] = true
				out = append(out, o)
			}
		}
		return out, true
	case "$nor":
		if xs := q[0].Value.(bson.A); len(xs) == 1 {
			if d, ok := xs[0].(bson.D); ok {
				if ops, ok := elemOps(d); ok {
					return bson.D{{Key: "$not", Value: ops}}, true
				}
			}
		}
	}
	return nil, false
}

func (f *fb) eq(n *node, c *cnode, field string, rv value.Value) flt {
	eq := fq(field, "$eq", rv.RawValue())
	if !n.query && c.arg.fromExp && rv.IsArray() {
		if es := arrayElems(rv, true); len(es) > 0 {
			return forr(eq, fq(field, "$in", es))
		}
	}
	return eq
}

// condSwapped translates a per-request left value tested against the
// document: {"%%user.id": {"$in": "%%root.members"}} is {"members":
// "%%user.id"}.
func (f *fb) condSwapped(n *node, c *cnode, lv value.Value) flt {
	switch c.kind {
	case cAnd, cOr, cNor:
		xs := make([]flt, 0, len(c.kids))
		for _, k := range c.kids {
			xs = append(xs, f.condSwapped(n, k, lv))
		}
		return combine(c.kind, xs)
	case cElemMatch:
		return tFalse // as condVal: rules.Validate allows it on document fields only
	}
	a := c.arg
	if a.kind != oDocPath || len(a.path) == 0 {
		return f.notExpressible(n, "a request value compared with a value computed from the document")
	}
	if !swappable(c.kind) {
		return f.notExpressible(n, "a request value tested with "+c.op+" against a value of the document")
	}
	if c.kind == cExists {
		want, ok := truthy(f.ec.val(a))
		_ = want
		_ = ok
		return f.notExpressible(n, "$exists with a document value")
	}
	if lv.IsMissing() || swappedNegNull(c, lv) {
		return fconst(c.neg)
	}
	field := strings.Join(a.path, ".")
	eq := func() flt {
		if lv.IsNull() {
			return tFalse
		}
		e := fq(field, "$eq", lv.RawValue())
		if lv.IsArray() {
			if es := arrayElems(lv, true); len(es) > 0 {
				return forr(e, fq(field, "$in", es))
			}
		}
		return e
	}
	switch c.kind {
	case cEq, cIn:
		return eq()
	case cNe:
		return fnor(eq())
	case cNin:
		return fand(fq(field, "$exists", true), fnor(eq()))
	case cCmp:
		return fq(field, c.cmp.Flip().String(), lv.RawValue())
	}
	return f.notExpressible(n, "unknown condition")
}

// gates translates the role's document_filters first, both, as Evaluate
// evaluates them for every decision (evalCtx.evalGates): their failures
// come first, and a failing read gate fails a write too. The rules that
// need a gate translate it again.
func (f *fb) gates(r *crole) {
	f.node(r.gRead)
	f.node(r.gWrite)
}

// governed returns, for each role, the filter of the documents it decides:
// its apply_when holds and no earlier role's does (source/rules/roles.txt,
// "Role Order").
func (f *fb) governed(c *ccoll, each func(r *crole, gov flt) flt) flt {
	var prev []flt
	var clauses []flt
	for _, r := range c.roles {
		a := f.node(r.applyWhen)
		gov := fand(a, fnor(prev...))
		if gov.k != fFalse {
			clauses = append(clauses, fand(gov, each(r, gov)))
		}
		if a.k == fTrue {
			break
		}
		prev = append(prev, a)
	}
	return forr(clauses...)
}

// filters returns the conjunction of the applied filters' queries, and the
// applied filters.
func (f *fb) filters(c *ccoll) (flt, []*cfilter) {
	var xs []flt
	var applied, maybe []*cfilter
	for _, fl := range c.filters {
		on := f.filterOn(fl)
		if on.k == fFalse {
			continue
		}
		maybe = append(maybe, fl)
		if on.k == fTrue {
			applied = append(applied, fl)
		}
		if fl.query != nil {
			xs = append(xs, forr(fnor(on), f.node(fl.query)))
		}
	}
	if c.projMixed {
		// Filters that may apply together must agree on the type of
		// their projections (fail closed: the query fails).
		if err := projectionConflict(c, maybe); err != nil && f.err == nil {
			f.err = err
		}
	}
	return fand(xs...), applied
}

// filterOn is the filter of the documents filter fl applies to.
func (f *fb) filterOn(fl *cfilter) flt {
	if forcedOn(f.ec.b, fl) {
		return tTrue
	}
	return f.node(fl.applyWhen)
}

// ReadFilter returns the MongoDB filter that selects exactly the documents
// of caller.Namespace that the caller may read, and a projection that removes
// fields no applicable role may read (and applies the applied filters'
// projections). Combine it with a client query as {"$and": [client,
// filter]} (mql.And), never key by key. When nothing can be read the
// filter is mql.NeverMatch(). A nil projection means no projection.
//
// The filter agrees with Evaluate on every document. The projection is
// exact when all the roles that can apply read the same fields; otherwise
// it removes only what none of them may read, and documents must be
// redacted one by one with Decision.Fields (WithFields). Merged with the
// applied filters' projections on dotted paths, it keeps less where
// MongoDB cannot write the merge (a field included by one and an
// embedded field of it excluded by another is left out), and an
// inclusion that keeps no field includes the field "_rulegate_no_field_"
// (never {} or {_id: 0} alone, which would keep everything). Rules that
// compare two values of the document give ErrNotExpressible.
func (p *Program) ReadFilter(ctx context.Context, caller Caller) (filter, projection bson.D, err error) {
	b, err := p.Bind(ctx, caller)
	if err != nil {
		return nil, nil, err
	}
	return b.ReadFilter(ctx)
}

// ReadFilter is Program.ReadFilter for the bound request.
func (b *Bound) ReadFilter(ctx context.Context) (filter, projection bson.D, err error) {
	c := b.c
	if c == nil {
		return mql.NeverMatch(), nil, nil
	}
	f := &fb{ec: evalCtx{ctx: ctx, b: b}}
	fq, applied := f.filters(c)
	roles := f.governed(c, func(r *crole, _ flt) flt {
		// The document_filters gate of reads is implied by read access.
		f.gates(r)
		return f.node(r.mayRead)
	})
	all := fand(fq, roles)
	if f.err == nil {
		f.err = f.ec.err
	}
	if f.err != nil {
		return nil, nil, f.err
	}
	if all.k == fFalse {
		return mql.NeverMatch(), nil, nil
	}
	return all.doc(), f.projection(c, applied), f.err
}

// WriteFilter returns the MongoDB filter that selects exactly the stored
// documents of caller.Namespace that the caller may modify: for
// ActionDelete, those it may delete; otherwise those it may update, and
// when update is set, only those whose role may write every path the
// update touches (mql.UpdatePaths; a numeric component is decided with
// {$type: "array"}, see the package's fail-closed choices) and, for an
// update that touches a path an applicable filter's projection withholds
// and for every replacement, none where that filter applies; a
// replacement only where the role reads every field. %%root and %%prevRoot both stand for the
// stored document: the document after the write is not known before it,
// so every write must still be checked with Evaluate on its result.
func (p *Program) WriteFilter(ctx context.Context, caller Caller, action Action, update bson.Raw) (bson.D, error) {
	b, err := p.Bind(ctx, caller)
	if err != nil {
		return nil, err
	}
	return b.WriteFilter(ctx, action, update)
}

// WriteFilter is Program.WriteFilter for the bound request.
func (b *Bound) WriteFilter(ctx context.Context, action Action, update bson.Raw) (bson.D, error) {
	c := b.c
	if c == nil {
		return mql.NeverMatch(), nil
	}
	var paths []mql.WritePath
	if update != nil {
		var err error
		if paths, err = mql.WritePaths(update); err != nil {
			return nil, err
		}
	}
	f := &fb{ec: evalCtx{ctx: ctx, b: b}}
	fq, _ := f.filters(c)
	if action != ActionDelete && update != nil {
		// An update that touches a path a filter's projection withholds,
		// and every replacement, is denied where that filter applies
		// (Evaluate, updateWithholds).
		for _, fl := range c.filters {
			if len(fl.projection) == 0 {
				continue
			}
			if w := f.withholds(fl, paths); w.k != fFalse {
				fq = fand(fq, fnor(fand(f.filterOn(fl), w)))
			}
		}
	}
	roles := f.governed(c, func(r *crole, _ flt) flt {
		f.gates(r)
		writeOK := f.node(r.gWrite)
		switch action {
		case ActionDelete:
			// A delete also removes the fields the caller cannot read
			// (Evaluate, readsAll).
			return fand(writeOK, f.node(r.readsAll), f.node(r.allWritable), f.node(r.delete))
		}
		if update == nil {
			return fand(writeOK, f.node(r.any[1]))
		}
		xs := []flt{writeOK}
		for _, p := range paths {
			switch {
			case p.Replacement != nil:
				// A replacement also removes the fields the caller
				// cannot read (Evaluate, readsAll).
				xs = append(xs, f.node(r.readsAll), f.replaceWritable(r, p.Replacement))
			case p.ArrayAt != "":
				// One numeric component: an index where the stored
				// value is an array, a field name elsewhere.
				xs = append(xs, byReading(p.ArrayAt, f.node(r.permAt(p.Readings[0], true)), f.node(r.permAt(p.Readings[1], true))))
			default:
				for _, q := range p.Readings {
					xs = append(xs, f.node(r.permAt(q, true)))
				}
			}
		}
		return fand(xs...)
	})
	all := fand(fq, roles)
	if f.err == nil {
		f.err = f.ec.err
	}
	if f.err != nil {
		return nil, f.err
	}
	return all.doc(), nil
}

// hasKey reports whether d has the key k.
func hasKey(d bson.D, k string) bool {
	for _, e := range d {
		if e.Key == k {
			return true
		}
	}
	return false
}

// hasInclusion reports whether d includes the key k.
func hasInclusion(d bson.D, k string) bool {
	for _, e := range d {
		if e.Key == k && e.Value == 1 {
			return true
		}
	}
	return false
}

// dedupE drops repeated keys of d (the first is kept).
func dedupE(d bson.D) bson.D {
	var out bson.D
	for _, e := range d {
		if !hasKey(out, e.Key) {
			out = append(out, e)
		}
	}
	return out
}

// byReading is idx where the stored value at arrayAt is an array (the
// numeric component after it is an index) and key elsewhere (a field
// name): a mql.WritePath with ArrayAt set.
func byReading(arrayAt string, idx, key flt) flt {
	isArr := bson.D{{Key: "$type", Value: "array"}}
	return forr(
		fand(flt{k: fQuery, q: bson.D{{Key: arrayAt, Value: isArr}}}, idx),
		fand(flt{k: fQuery, q: bson.D{{Key: arrayAt, Value: bson.D{{Key: "$not", Value: isArr}}}}}, key))
}

// withholds is the condition on the stored document under which the
// projection of filter fl withholds a path the update writes (paths, from
// mql.WritePaths): always for a replacement, which removes the fields it does
// not give; for one numeric component, the reading that applies (index
// where the value is an array, field name elsewhere).
func (f *fb) withholds(fl *cfilter, paths []mql.WritePath) flt {
	one := []*cfilter{fl}
	hides := func(r []string) bool { return projectionHides(strings.Join(r, "."), one) }
	var xs []flt
	for _, p := range paths {
		switch {
		case p.Replacement != nil:
			return tTrue
		case p.ArrayAt != "":
			xs = append(xs, byReading(p.ArrayAt, fconst(hides(p.Readings[0])), fconst(hides(p.Readings[1]))))
		default:
			for _, r := range p.Readings {
				if hides(r) {
					return tTrue
				}
			}
		}
	}
	return forr(xs...)
}

// replaceWritable is the condition under which the role may write every
// field the replacement repl touches (mql.ReplacementPaths): the fields it
// gives (_id only where it differs from the stored one), and every named
// field it lacks unless the stored document lacks it too. The fields no
// rule names that the stored document holds are unknown: where
// additional_fields is not writable this excludes documents Evaluate
// allows (those without such fields), never the reverse.
func (f *fb) replaceWritable(r *crole, repl bson.Raw) flt {
	elems, _ := repl.Elements()
	given := map[string]bool{}
	var xs []flt
	for _, e := range elems {
		k := e.Key()
		given[k] = true
		w := f.node(r.permAt([]string{k}, true))
		if k == "_id" {
			w = forr(w, flt{k: fQuery, q: bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: e.Value()}}}}})
		}
		xs = append(xs, w)
	}
	xs = append(xs, f.node(r.permAt([]string{unnamedField}, true)))
	for _, fr := range r.fields {
		if given[fr.name] || fr.name == "_id" {
			continue
		}
		absent := flt{k: fQuery, q: bson.D{{Key: fr.name, Value: bson.D{{Key: "$exists", Value: false}}}}}
		xs = append(xs, forr(f.node(r.permAt([]string{fr.name}, true)), absent))
	}
	return fand(xs...)
}

// projection computes the read projection (see ReadFilter).
func (f *fb) projection(c *ccoll, applied []*cfilter) bson.D {
	f.kindOnly = true
	defer func() { f.kindOnly = false }()
	// Roles that can apply at all.
	var roles []*crole
	for _, r := range c.roles {
		a := f.node(r.applyWhen)
		if a.k != fFalse {
			roles = append(roles, r)
		}
		if a.k == fTrue {
			break
		}
	}
	// status of a path under one role: 0 unreadable, 1 readable, 2 depends
	// on the document, 3 partly readable through rules for its embedded
	// fields. A field only partly readable under every role is left out of
	// the projection: kept whole it would carry the embedded fields those
	// rules hide to whoever applies the projection without redacting each
	// document (a pipeline), and whether such a field is present is not
	// something the projection can decide.
	status := func(r *crole, path []string) int {
		x := f.node(r.readable(path))
		if x.k == fFalse && len(path) == 1 {
			// A field without a permission of its own but with rules for
			// its embedded fields may be partly readable: keep it.
			if fr := findField(r.fields, path[0]); fr != nil && r.read == nil && r.write == nil && fr.read == nil && fr.write == nil && fr.hasSub() {
				if f.node(r.readVia(fr.any[0], fr.any[1])).k != fFalse {
					return 3
				}
			}
		}
		switch x.k {
		case fTrue:
			return 1
		case fFalse:
			return 0
		}
		return 2
	}
	// Unnamed top-level fields readable under some role?
	unnamed := false
	named := map[string]bool{}
	for _, r := range roles {
		for _, fr := range r.fields {
			named[fr.name] = true
		}
	}
	for _, r := range roles {
		if status(r, []string{unnamedField}) != 0 {
			unnamed = true
		}
	}
	var names []string
	for n := range named {
		names = append(names, n)
	}
	sort.Strings(names)
	var proj bson.D
	readableSomewhere := func(n string) bool {
		for _, r := range roles {
			if st := status(r, []string{n}); st == 1 || st == 2 {
				return true
			}
		}
		return false
	}
	if unnamed || len(roles) == 0 {
		for _, n := range names {
			if !readableSomewhere(n) {
				proj = append(proj, bson.E{Key: n, Value: 0})
			}
		}
	} else {
		idSeen := false
		for _, n := range names {
			if n == "_id" {
				idSeen = true
			}
			if readableSomewhere(n) {
				proj = append(proj, bson.E{Key: n, Value: 1})
			} else if n == "_id" {
				proj = append(proj, bson.E{Key: "_id", Value: 0})
			}
		}
		if !idSeen {
			proj = append(proj, bson.E{Key: "_id", Value: 0})
		}
	}
	return dropCoveredExclusions(mergeProjections(proj, applied))
}

// dropCoveredExclusions removes the exclusions below another exclusion
// ({"profile": 0, "profile.addr.zip": 0} is a path collision to MongoDB;
// {"profile": 0} says it all).
func dropCoveredExclusions(proj bson.D) bson.D {
	out := proj[:0:0]
next:
	for _, e := range proj {
		if e.Value == 0 {
			for _, o := range proj {
				if o.Value == 0 && strings.HasPrefix(e.Key, o.Key+".") {
					continue next
				}
			}
		}
		out = append(out, e)
	}
	return out
}

// noField is a field name included by a projection that must keep no
// field: an inclusion projection reduced to nothing ({_id: 0} alone would
// be an exclusion of _id, and an empty projection keeps everything).
const noField = "_rulegate_no_field_"

// mergeProjections merges the applied filters' projections into proj.
// Fields are dotted paths: a field is covered by an ancestor (under).
// Where MongoDB cannot write the merge (an exclusion below an included
// field, a path collision), the included field is left out: the
// projection keeps less, never more.
func mergeProjections(proj bson.D, applied []*cfilter) bson.D {
	inclusive := func(d bson.D) bool {
		for _, e := range d {
			if e.Key != "_id" && e.Value == 1 {
				return true
			}
		}
		return false
	}
	// collides reports whether some exclusion of d is p, above p or
	// below it.
	collides := func(p string, d bson.D) bool {
		for _, e := range d {
			if e.Value == 0 && e.Key != "_id" && (within(p, e.Key) || within(e.Key, p)) {
				return true
			}
		}
		return false
	}
	for _, fl := range applied {
		if len(fl.projection) == 0 {
			continue
		}
		wasIncl := inclusive(proj)
		var fp bson.D
		for _, pr := range fl.projection {
			v := 0
			if pr.Include {
				v = 1
			}
			fp = append(fp, bson.E{Key: pr.Field, Value: v})
		}
		switch {
		case len(proj) == 0:
			proj = fp
		case !inclusive(proj) && !inclusive(fp):
			proj = append(proj, fp...)
		case inclusive(proj) && inclusive(fp):
			// Keep the paths both include: a field of proj that fp
			// includes (or includes an ancestor of), or fp's inclusions
			// below a field of proj.
			var out bson.D
			idOut := false
			for _, e := range proj {
				if e.Value == 0 {
					out = append(out, e)
					idOut = idOut || e.Key == "_id"
					continue
				}
				if e.Key == "_id" {
					if !hasKey(fp, "_id") || hasInclusion(fp, "_id") {
						out = append(out, e)
					}
					continue
				}
				covered := false
				for _, x := range fp {
					if x.Value == 1 && within(e.Key, x.Key) {
						covered = true
						break
					}
				}
				if covered {
					out = append(out, e)
					continue
				}
				for _, x := range fp {
					if x.Value == 1 && x.Key != "_id" && within(x.Key, e.Key) {
						out = append(out, x)
					}
				}
			}
			for _, e := range fp {
				if e.Key == "_id" && e.Value == 0 && !idOut {
					out = append(out, e)
				}
			}
			proj = dedupE(out)
		case inclusive(proj):
			// Drop the excluded fields from the inclusion.
			var out bson.D
			for _, e := range proj {
				if e.Key == "_id" && e.Value == 0 || e.Key == "_id" && !hasKey(fp, "_id") || e.Key != "_id" && !collides(e.Key, fp) {
					out = append(out, e)
				}
			}
			if hasKey(fp, "_id") {
				out = append(out, bson.E{Key: "_id", Value: 0})
			}
			proj = dedupE(out)
		default:
			// proj excludes, fp includes: include fp's fields minus proj's
			// exclusions.
			var out bson.D
			for _, e := range fp {
				if e.Value == 1 && (e.Key == "_id" && !hasKey(proj, "_id") || e.Key != "_id" && !collides(e.Key, proj)) || e.Value == 0 {
					out = append(out, e)
				}
			}
			if hasKey(proj, "_id") {
				out = append(out, bson.E{Key: "_id", Value: 0})
			}
			proj = dedupE(out)
		}
		if (wasIncl || inclusive(fp)) && !inclusive(proj) {
			// An inclusion that keeps no field.
			proj = append(proj, bson.E{Key: noField, Value: 1})
		}
	}
	if len(proj) == 0 {
		return nil
	}
	return proj
}
