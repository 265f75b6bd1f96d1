package mql

// Update documents: which fields a write touches (UpdatePaths,
// ReplacementPaths) and what the document looks like after it
// (ApplyUpdate), so that field-level write permissions and %%root in write
// rules can be checked before the write reaches the server.
//
// The operators are those App Services lets application users run
// (mongodb/docs-app-services source/mongodb/crud-and-aggregation-apis.txt,
// "Update Operators"); their semantics follow the MongoDB manual's update
// operator pages (https://www.mongodb.com/docs/manual/reference/operator/update/).

import (
	"errors"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Stable codes of update diagnostics.
const (
	CodeUpdateMalformed   = "update/malformed"        // not a well-formed BSON document
	CodeUpdatePipeline    = "update/pipeline"         // an update pipeline (array of stages)
	CodeUpdateMixed       = "update/mixed"            // update operators mixed with plain fields
	CodeUpdateUnknownOp   = "update/unknown-operator" // not an update operator App Services supports
	CodeUpdateOperand     = "update/operand"          // an operator's argument has the wrong shape
	CodeUpdatePath        = "update/path"             // an invalid field path
	CodeUpdateConflict    = "update/conflict"         // two paths of one update overlap
	CodeUpdateImmutable   = "update/immutable-field"  // the update would change _id
	CodeUpdateNotViable   = "update/not-viable"       // the path cannot be created in the document
	CodeUpdateType        = "update/type"             // the field holds a value of the wrong type for the operator
	CodeUpdateOverflow    = "update/overflow"         // integer arithmetic overflowed
	CodeUpdateUnsupported = "update/unsupported"      // ApplyUpdate cannot compute the result exactly
)

// ErrInvalidUpdate is wrapped by every error that rejects an update
// document the server would reject too (or that rulegate refuses, such as
// an update pipeline). Match it with errors.Is; errors.As finds the
// *source.Error with the code and the JSON pointer into the update.
var ErrInvalidUpdate = errors.New("mql: invalid update")

// ErrUnsupportedUpdate is wrapped by the errors of ApplyUpdate for valid
// updates whose result it cannot compute exactly: positional paths ($ and
// $[<id>]) without the query and arrayFilters (ApplyOptions) or whose
// element is not defined (see ResolveUpdate), $push with $sort, $pull with a query condition, decimal128
// arithmetic, $currentDate with {$type: "timestamp"}. Callers must deny the
// write (fail closed) or evaluate it some other way.
var ErrUnsupportedUpdate = errors.New("mql: update not supported")

// codedError is a *source.Error that also matches a sentinel with
// errors.Is.
type codedError struct {
	err  *source.Error
	kind error
}

func (e *codedError) Error() string   { return e.err.Error() }
func (e *codedError) Unwrap() []error { return []error{e.err, e.kind} }

func updateErr(ptr source.Pointer, code, msg string) error {
	kind := ErrInvalidUpdate
	if code == CodeUpdateUnsupported {
		kind = ErrUnsupportedUpdate
	}
	return &codedError{err: &source.Error{Ptr: ptr, Code: code, Msg: msg}, kind: kind}
}

// UpdateInfo describes the fields an update document touches.
type UpdateInfo struct {
	// Paths are the touched field paths, deduplicated and sorted: dotted
	// field names without positional components ($, $[], $[<id>]) or
	// array indexes, since field-level rules are keyed by field name:
	// "items.$.qty", "items.$[].qty" and "items.$[i].qty" all become
	// "items.qty". A numeric component (value.ArrayIndex: "3", not "03"
	// or "-3") is an array index only where the stored value at that point
	// is an array; in an embedded document it is a field name
	// ({"a": {"2024": {"b": 1}}}: "a.2024.b" writes the field "2024" of
	// a). UpdatePathsIn decides that on the stored document. UpdatePaths,
	// without it, lists both readings of each numeric component after the
	// first ("items.3.qty" gives "items.3.qty" and "items.qty"), so that a
	// permission check needs both (fail closed). The first component is
	// always a field name.
	//
	// For a replacement, Paths are the top-level fields of the replacement
	// (the fields the previous document loses are not known without it:
	// see ReplacementPaths).
	Paths []string
	// Replacement is true when the update is a replacement document (no
	// top-level key starts with "$").
	Replacement bool
	// Operators are the update operators used, sorted ("$inc", "$set"...);
	// nil for a replacement.
	Operators []string
	// Positional is true when some path uses $, $[] or $[<id>].
	Positional bool
}

// TopLevel returns the distinct first components of Paths, sorted: the
// top-level fields the update touches.
func (u UpdateInfo) TopLevel() []string {
	var out []string
	for _, p := range u.Paths {
		f, _, _ := strings.Cut(p, ".")
		if len(out) == 0 || out[len(out)-1] != f {
			out = append(out, f)
		}
	}
	sort.Strings(out)
	return dedupSorted(out)
}

// updateKind classifies the update operators.
type updateKind uint8

const (
	opSet updateKind = iota + 1
	opUnset
	opInc
	opMul
	opMin
	opMax
	opPush
	opPull
	opPullAll
	opAddToSet
	opPop
	opRename
	opSetOnInsert
	opCurrentDate
	opBit
)

// updateOperators are the update operators App Services supports for
// application users (crud-and-aggregation-apis.txt, "Field Update
// Operator Availability", "Array Update Operator Availability",
// "Bitwise Update Operator Availability").
var updateOperators = map[string]updateKind{
	"$set":         opSet,
	"$unset":       opUnset,
	"$inc":         opInc,
	"$mul":         opMul,
	"$min":         opMin,
	"$max":         opMax,
	"$push":        opPush,
	"$pull":        opPull,
	"$pullAll":     opPullAll,
	"$addToSet":    opAddToSet,
	"$pop":         opPop,
	"$rename":      opRename,
	"$setOnInsert": opSetOnInsert,
	"$currentDate": opCurrentDate,
	"$bit":         opBit,
}

// updateOp is one field of one operator: {"$inc": {"n": 1}} gives
// {op: "$inc", path: ["n"], arg: 1}.
type updateOp struct {
	name  string
	kind  updateKind
	path  []string // components as written
	field string   // the path as written
	arg   value.Value
	ptr   source.Pointer
	to    []string // $rename target
	toPtr source.Pointer
}

// UpdatePaths returns the field paths an update document touches. The
// update is either a document of update operators ({"$set": {...},
// "$inc": {...}}) or a replacement document (no key starts with "$").
//
// It rejects, with an error wrapping ErrInvalidUpdate whose *source.Error
// carries a JSON pointer into the update and a stable code: malformed
// BSON (update/malformed); update pipelines (update/pipeline), which can
// compute any field from any other, so rulegate fails closed on them;
// operators mixed with plain fields (update/mixed); operators App Services
// does not support for users, $where-like nonsense included
// (update/unknown-operator); operator arguments that are not documents, and
// arguments the server rejects, such as a non-numeric $inc
// (update/operand); invalid paths (update/path); and overlapping paths
// (update/conflict). Operators with an empty argument ({"$set": {}}) are
// accepted and touch nothing, as in MongoDB 5.0 and later.
//
// $rename touches its source and its target. $setOnInsert's fields are
// listed although they are written only when an upsert inserts: a
// permission check on them is never weaker than needed.
func UpdatePaths(update bson.Raw) (UpdateInfo, error) {
	return updatePaths(nil, false, update)
}

// UpdatePathsIn is UpdatePaths for an update of the stored document prev:
// a numeric path component is an array index (dropped) where the value of
// prev at that point is an array, and a field name (kept) elsewhere: in an
// embedded document, in a scalar (the server rejects the update) or where
// prev has nothing (the server creates an embedded document). $rename's
// source and target are decided alike. After a positional component every
// element of the array is a candidate: a numeric component that is an
// index in some elements and a field name in others has both readings.
// A nil prev is a document without fields.
func UpdatePathsIn(prev, update bson.Raw) (UpdateInfo, error) {
	if prev == nil {
		prev = emptyDoc
	}
	return updatePaths(prev, true, update)
}

func updatePaths(prev bson.Raw, known bool, update bson.Raw) (UpdateInfo, error) {
	ops, names, repl, err := parseUpdateOps(update)
	if err != nil {
		return UpdateInfo{}, err
	}
	var info UpdateInfo
	info.Replacement = repl
	if repl {
		elems, _ := update.Elements()
		for _, e := range elems {
			info.Paths = append(info.Paths, e.Key())
		}
		sort.Strings(info.Paths)
		info.Paths = dedupSorted(info.Paths)
		return info, nil
	}
	info.Operators = append(info.Operators, names...)
	for _, op := range ops {
		for _, t := range []struct {
			path []string
			ptr  source.Pointer
		}{{op.path, op.ptr}, {op.to, op.toPtr}} {
			if t.path == nil {
				continue
			}
			readings, pos, err := fieldPaths(t.path, prev, known, t.ptr)
			if err != nil {
				return UpdateInfo{}, err
			}
			for _, r := range readings {
				info.Paths = append(info.Paths, strings.Join(r, "."))
			}
			info.Positional = info.Positional || pos
		}
	}
	sort.Strings(info.Operators)
	info.Operators = dedupSorted(info.Operators)
	sort.Strings(info.Paths)
	info.Paths = dedupSorted(info.Paths)
	return info, nil
}

// maxReadings bounds the readings of one update path (fieldPaths): each
// numeric component whose meaning is unknown doubles them.
const maxReadings = 16

// fieldPaths returns the field paths (the readings) that the update path
// comps writes: positional components ($, $[], $[<id>]) are array elements
// and dropped; a numeric component (value.ArrayIndex) is dropped where the
// value at that point is an array and kept (a field name) elsewhere. With
// known, the values are looked up in prev; without, every numeric
// component after the first has both readings. pos reports a positional
// component. More than maxReadings readings is refused
// (update/unsupported): the write cannot be checked.
func fieldPaths(comps []string, prev bson.Raw, known bool, ptr source.Pointer) (readings [][]string, pos bool, err error) {
	var cands []value.Value
	if known {
		cands = []value.Value{value.FromDocument(prev)}
	}
	var walk func(i int, prefix []string, cands []value.Value)
	walk = func(i int, prefix []string, cands []value.Value) {
		if len(readings) > maxReadings {
			return
		}
		if i == len(comps) {
			readings = append(readings, append([]string(nil), prefix...))
			return
		}
		c := comps[i]
		keep := append(prefix[:len(prefix):len(prefix)], c)
		if i > 0 && isPositional(c) {
			pos = true
			var elems []value.Value
			for _, v := range cands {
				if v.IsArray() {
					v.Each(func(_ int, e value.Value) bool {
						elems = append(elems, e)
						return false
					})
				}
			}
			walk(i+1, prefix, elems)
			return
		}
		n, num := value.ArrayIndex(c)
		if i == 0 || !num {
			walk(i+1, keep, fields(cands, c))
			return
		}
		if !known || len(cands) == 0 {
			// Unknown, or no element to look at: both readings.
			walk(i+1, prefix, nil)
			walk(i+1, keep, nil)
			return
		}
		var elems, others []value.Value
		for _, v := range cands {
			if v.IsArray() {
				elems = append(elems, v.Index(n))
			} else {
				others = append(others, v)
			}
		}
		if len(elems) > 0 {
			walk(i+1, prefix, elems)
		}
		if len(others) > 0 {
			walk(i+1, keep, fields(others, c))
		}
	}
	walk(0, nil, cands)
	if len(readings) > maxReadings {
		return nil, pos, updateErr(ptr, CodeUpdateUnsupported, "field path "+strconv.Quote(strings.Join(comps, "."))+
			" has too many numeric components whose meaning (array index or field name) is not known: the fields it writes cannot be checked")
	}
	return readings, pos, nil
}

// WritePath is one field path an update writes, as a filter built before
// the stored document is read needs it (the evaluator's WriteFilter). Its
// Readings (field paths, as UpdateInfo.Paths, split into components) must
// all be writable, except when ArrayAt is set: the path has one numeric
// component (value.ArrayIndex) after the field path ArrayAt and no
// positional component before it, and Readings[0] (the component is an
// array index, dropped) applies where the stored value at ArrayAt is an
// array, Readings[1] (a field name, kept) elsewhere. For a replacement,
// Replacement is the replacement document and Readings is nil: it writes
// its own fields and removes the stored document's others.
type WritePath struct {
	Readings    [][]string
	ArrayAt     string
	Replacement bson.Raw
}

// WritePaths returns the paths update writes, with $rename's source and
// target, validated as UpdatePaths validates them (same errors). A path
// with several numeric components has every reading of UpdatePaths.
func WritePaths(update bson.Raw) ([]WritePath, error) {
	ops, _, repl, err := parseUpdateOps(update)
	if err != nil {
		return nil, err
	}
	if repl {
		return []WritePath{{Replacement: update}}, nil
	}
	var out []WritePath
	for _, op := range ops {
		for _, t := range []struct {
			path []string
			ptr  source.Pointer
		}{{op.path, op.ptr}, {op.to, op.toPtr}} {
			if t.path == nil {
				continue
			}
			at, num, positional := -1, 0, false
			for i, c := range t.path[1:] {
				if isPositional(c) {
					positional = positional || num == 0
				} else if _, ok := value.ArrayIndex(c); ok {
					num++
					at = i + 1
				}
			}
			if num == 1 && !positional {
				var idx, key []string
				for i, c := range t.path {
					if isPositional(c) && i > 0 {
						continue
					}
					key = append(key, c)
					if i != at {
						idx = append(idx, c)
					}
				}
				out = append(out, WritePath{Readings: [][]string{idx, key}, ArrayAt: strings.Join(t.path[:at], ".")})
				continue
			}
			readings, _, err := fieldPaths(t.path, nil, false, t.ptr)
			if err != nil {
				return nil, err
			}
			out = append(out, WritePath{Readings: readings})
		}
	}
	return out, nil
}

// fields returns the values of field c of each candidate (Missing for a
// candidate that is not a document), keeping one Missing at most.
func fields(cands []value.Value, c string) []value.Value {
	if cands == nil {
		return nil
	}
	out := make([]value.Value, 0, len(cands))
	missing := false
	for _, v := range cands {
		f := v.Field(c)
		if f.IsMissing() {
			if missing {
				continue
			}
			missing = true
		}
		out = append(out, f)
	}
	return out
}

// ReplacementPaths returns the top-level fields a replacement touches when
// it replaces prev: every top-level field of the replacement, and every
// top-level field of prev that the replacement lacks (it disappears). _id
// is listed only when the replacement gives an _id different from prev's
// (which the server rejects, as ApplyUpdate does); the server keeps prev's
// _id otherwise. The result is sorted. Every field of the replacement is
// listed even when its value is unchanged: the client writes it.
func ReplacementPaths(prev, replacement bson.Raw) ([]string, error) {
	if tooDeep(replacement, maxUpdateDepth) || tooDeep(prev, maxUpdateDepth) {
		return nil, updateErr("", CodeUpdateMalformed, "document is nested more than "+strconv.Itoa(maxUpdateDepth)+" levels deep")
	}
	if err := replacement.Validate(); err != nil {
		return nil, updateErr("", CodeUpdateMalformed, "replacement is not a BSON document: "+err.Error())
	}
	if err := checkReplacement(replacement); err != nil {
		return nil, err
	}
	var prevElems []bson.RawElement
	if len(prev) > 0 {
		if err := prev.Validate(); err != nil {
			return nil, updateErr("", CodeUpdateMalformed, "previous document is not a BSON document: "+err.Error())
		}
		prevElems, _ = prev.Elements()
	}
	var out []string
	seen := map[string]bool{}
	elems, _ := replacement.Elements()
	prevID := value.FromDocument(prev).Field("_id")
	for _, e := range elems {
		k := e.Key()
		seen[k] = true
		if k == "_id" && value.Equal(prevID, value.FromRaw(e.Value())) {
			continue
		}
		out = append(out, k)
	}
	for _, e := range prevElems {
		if k := e.Key(); k != "_id" && !seen[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return dedupSorted(out), nil
}

// MarshalUpdate encodes an update given as a Go value, as the driver's
// UpdateOne and ReplaceOne accept it (bson.D, bson.M, a map, a struct or
// bson.Raw), for UpdatePaths and ApplyUpdate. A slice other than bson.D or
// bson.Raw (bson.A, []bson.D, mongo.Pipeline) is an update pipeline and is
// rejected with update/pipeline.
func MarshalUpdate(update any) (bson.Raw, error) {
	switch u := update.(type) {
	case nil:
		return nil, updateErr("", CodeUpdateMalformed, "update is nil")
	case bson.Raw:
		if tooDeep(u, maxUpdateDepth) {
			return nil, updateErr("", CodeUpdateMalformed, "update is nested more than "+strconv.Itoa(maxUpdateDepth)+" levels deep")
		}
		if err := u.Validate(); err != nil {
			return nil, updateErr("", CodeUpdateMalformed, "update is not a BSON document: "+err.Error())
		}
		return u, nil
	case []byte:
		return MarshalUpdate(bson.Raw(u))
	case bson.D, bson.M, map[string]any:
		b, err := bson.Marshal(u)
		if err != nil {
			return nil, updateErr("", CodeUpdateMalformed, "update cannot be encoded: "+err.Error())
		}
		return b, nil
	}
	if es, ok := update.([]bson.E); ok {
		return MarshalUpdate(bson.D(es))
	}
	if k := reflect.TypeOf(update).Kind(); k == reflect.Slice || k == reflect.Array {
		return nil, updateErr("", CodeUpdatePipeline, "update pipelines are not supported: a pipeline can compute any field from any other, so field-level rules cannot be checked")
	}
	b, err := bson.Marshal(update)
	if err != nil {
		return nil, updateErr("", CodeUpdateMalformed, "update cannot be encoded: "+err.Error())
	}
	return b, nil
}

// IsReplacement reports whether update is a replacement document, as
// UpdatePaths and ApplyUpdate tell one from an update with operators: its
// top-level keys can be read and none starts with "$". It does not
// validate the update further (UpdatePaths does: a mixed update, for
// one, is neither). An empty update is no update, not a replacement.
func IsReplacement(update bson.Raw) bool {
	if len(update) == 0 {
		return false // no update: a decision on the document alone
	}
	elems, err := update.Elements()
	return err == nil && noOperator(elems)
}

func noOperator(elems []bson.RawElement) bool {
	for _, e := range elems {
		if strings.HasPrefix(e.Key(), "$") {
			return false
		}
	}
	return true
}

func allOperators(elems []bson.RawElement) bool {
	for _, e := range elems {
		if !strings.HasPrefix(e.Key(), "$") {
			return false
		}
	}
	return true
}

// parseUpdateOps is parseUpdate that also returns the operator names in
// the order written, including operators with an empty argument.
func parseUpdateOps(update bson.Raw) (ops []updateOp, names []string, repl bool, err error) {
	if len(update) == 0 {
		return nil, nil, false, updateErr("", CodeUpdateMalformed, "update is empty (no BSON document)")
	}
	if tooDeep(update, maxUpdateDepth) {
		return nil, nil, false, updateErr("", CodeUpdateMalformed, "update is nested more than "+strconv.Itoa(maxUpdateDepth)+" levels deep")
	}
	if err := update.Validate(); err != nil {
		return nil, nil, false, updateErr("", CodeUpdateMalformed, "update is not a BSON document: "+err.Error())
	}
	elems, _ := update.Elements()
	if looksLikePipeline(elems) {
		return nil, nil, false, updateErr("", CodeUpdatePipeline, "update pipelines are not supported: a pipeline can compute any field from any other, so field-level rules cannot be checked")
	}
	if noOperator(elems) {
		return nil, nil, true, checkReplacement(update)
	}
	if !allOperators(elems) {
		for _, e := range elems {
			if !strings.HasPrefix(e.Key(), "$") {
				return nil, nil, false, updateErr(source.Pointer("").Key(e.Key()), CodeUpdateMixed,
					"update mixes operators and plain fields: "+strconv.Quote(e.Key())+" is not an update operator (use $set, or send a replacement document)")
			}
		}
	}
	for _, e := range elems {
		name := e.Key()
		ptr := source.Pointer("").Key(name)
		kind, ok := updateOperators[name]
		if !ok {
			return nil, nil, false, updateErr(ptr, CodeUpdateUnknownOp, "unknown update operator "+strconv.Quote(name))
		}
		for _, seen := range names {
			if seen == name {
				return nil, nil, false, updateErr(ptr, CodeUpdateOperand, "update operator "+name+" appears twice")
			}
		}
		names = append(names, name)
		arg := e.Value()
		if arg.Type != bson.TypeEmbeddedDocument {
			return nil, nil, false, updateErr(ptr, CodeUpdateOperand, name+" expects a document of fields, got "+typeName(arg.Type))
		}
		fields, _ := arg.Document().Elements()
		for _, f := range fields {
			op := updateOp{name: name, kind: kind, arg: value.FromRaw(f.Value()), ptr: ptr.Key(f.Key()), field: f.Key()}
			if op.path, err = parseUpdatePath(op.field, op.ptr); err != nil {
				return nil, nil, false, err
			}
			if err := checkOperand(&op); err != nil {
				return nil, nil, false, err
			}
			ops = append(ops, op)
		}
	}
	if err := checkConflicts(ops); err != nil {
		return nil, nil, false, err
	}
	sort.SliceStable(ops, func(i, j int) bool { return comparePaths(ops[i].path, ops[j].path) < 0 })
	return ops, names, false, nil
}

// looksLikePipeline reports whether a document is an array in disguise
// whose elements are aggregation stages: bson.Raw of the array
// [{"$set": ...}] is the document {"0": {"$set": ...}}.
func looksLikePipeline(elems []bson.RawElement) bool {
	if len(elems) == 0 {
		return false
	}
	for i, e := range elems {
		if e.Key() != strconv.Itoa(i) {
			return false
		}
		v := e.Value()
		if v.Type != bson.TypeEmbeddedDocument {
			return false
		}
		first, err := v.Document().IndexErr(0)
		if err != nil || !strings.HasPrefix(first.Key(), "$") {
			return false
		}
	}
	return true
}

// checkReplacement rejects replacement documents the server rejects: a
// top-level key that starts with "$" among plain fields is reported by
// parseUpdate; here, empty documents are fine and nothing else is checked
// beyond what ValidateDocument does for inserts.
func checkReplacement(repl bson.Raw) error {
	elems, _ := repl.Elements()
	for _, e := range elems {
		if strings.HasPrefix(e.Key(), "$") {
			return updateErr(source.Pointer("").Key(e.Key()), CodeUpdateMixed,
				"a replacement document cannot hold the operator "+strconv.Quote(e.Key()))
		}
	}
	return nil
}

// parseUpdatePath splits a dotted update path and checks its components:
// no empty component, and no "$"-prefixed component except the positional
// operators $, $[] and $[<identifier>] after the first component.
func parseUpdatePath(p string, ptr source.Pointer) ([]string, error) {
	if p == "" {
		return nil, updateErr(ptr, CodeUpdatePath, "empty field path")
	}
	if strings.IndexByte(p, 0) >= 0 {
		return nil, updateErr(ptr, CodeUpdatePath, "field path "+strconv.Quote(p)+" holds a NUL byte")
	}
	comps := strings.Split(p, ".")
	for i, c := range comps {
		if c == "" {
			return nil, updateErr(ptr, CodeUpdatePath, "field path "+strconv.Quote(p)+" has an empty component")
		}
		if c[0] != '$' {
			continue
		}
		if i == 0 {
			return nil, updateErr(ptr, CodeUpdatePath, "field path "+strconv.Quote(p)+" starts with \"$\"")
		}
		if !isPositional(c) {
			return nil, updateErr(ptr, CodeUpdatePath, "field path "+strconv.Quote(p)+": "+strconv.Quote(c)+" is neither a field name nor a positional operator ($, $[], $[<identifier>])")
		}
	}
	return comps, nil
}

// isPositional reports whether c is $, $[] or $[<identifier>], where the
// identifier starts with a lowercase letter and holds only letters and
// digits (MongoDB's rule for arrayFilters identifiers).
func isPositional(c string) bool {
	if c == "$" || c == "$[]" {
		return true
	}
	if len(c) < 4 || !strings.HasPrefix(c, "$[") || c[len(c)-1] != ']' {
		return false
	}
	id := c[2 : len(c)-1]
	if id[0] < 'a' || id[0] > 'z' {
		return false
	}
	for i := 1; i < len(id); i++ {
		ch := id[i]
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
			return false
		}
	}
	return true
}

// allDigits reports whether c is a non-empty run of ASCII digits. It is
// the server's str::isAllDigits, which orders the fields of an update
// (pathsupport::cmpPathsAndArrayIndexes), deliberately not
// value.ArrayIndex: "01" and "1234567890" order as numbers too, although
// neither is an array index.
func allDigits(c string) bool {
	if c == "" {
		return false
	}
	for i := 0; i < len(c); i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// comparePaths orders paths component by component; components that are
// both all digits compare as numbers, as MongoDB orders the fields it
// updates.
func comparePaths(a, b []string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := compareComponent(a[i], b[i]); c != 0 {
			return c
		}
	}
	return len(a) - len(b)
}

func compareComponent(a, b string) int {
	if allDigits(a) && allDigits(b) {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) - len(b)
		}
	}
	return strings.Compare(a, b)
}

// checkConflicts rejects updates where one path equals or is a prefix of
// another ("a" and "a.b"), as the server does.
func checkConflicts(ops []updateOp) error {
	type entry struct {
		path []string
		ptr  source.Pointer
	}
	var all []entry
	for _, op := range ops {
		all = append(all, entry{op.path, op.ptr})
		if op.to != nil {
			all = append(all, entry{op.to, op.toPtr})
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return comparePaths(all[i].path, all[j].path) < 0 })
	for i := 1; i < len(all); i++ {
		a, b := all[i-1].path, all[i].path
		if len(a) <= len(b) && equalComps(a, b[:len(a)]) {
			return updateErr(all[i].ptr, CodeUpdateConflict,
				"updating the path "+strconv.Quote(strings.Join(b, "."))+" would create a conflict at "+strconv.Quote(strings.Join(a, ".")))
		}
	}
	return nil
}

func equalComps(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return len(a) == len(b)
}

// checkOperand checks the argument of one operator field as the server
// does when it parses the update.
func checkOperand(op *updateOp) error {
	bad := func(msg string) error { return updateErr(op.ptr, CodeUpdateOperand, op.name+": "+msg) }
	a := op.arg
	switch op.kind {
	case opInc, opMul:
		if !a.IsNumber() {
			return bad("expects a number, got " + typeName(a.Type))
		}
	case opPop:
		n, ok := wholeNumber(a)
		if !ok || (n != 1 && n != -1) {
			return bad("expects 1 or -1, got " + a.ExtJSON())
		}
	case opRename:
		s, ok := a.StringOK()
		if !ok {
			return bad("expects the new field name as a string, got " + typeName(a.Type))
		}
		op.toPtr = op.ptr
		to, err := parseUpdatePath(s, op.ptr)
		if err != nil {
			return err
		}
		for _, p := range [][]string{op.path, to} {
			for _, c := range p {
				if strings.HasPrefix(c, "$") {
					return bad("the source and target of $rename cannot be array elements (" + strconv.Quote(c) + ")")
				}
			}
		}
		if equalComps(op.path, to) {
			return bad("the source and target of $rename are the same field")
		}
		op.to = to
	case opCurrentDate:
		if _, ok := a.BoolOK(); ok {
			return nil
		}
		d, ok := a.DocumentOK()
		if !ok {
			return bad("expects true, false or {$type: \"date\"|\"timestamp\"}, got " + typeName(a.Type))
		}
		elems, _ := d.Elements()
		if len(elems) != 1 || elems[0].Key() != "$type" {
			return bad("expects {$type: \"date\"|\"timestamp\"}")
		}
		if s, _ := value.FromRaw(elems[0].Value()).StringOK(); s != "date" && s != "timestamp" {
			return bad("$type must be \"date\" or \"timestamp\"")
		}
	case opBit:
		d, ok := a.DocumentOK()
		if !ok {
			return bad("expects a document such as {and: 5}, got " + typeName(a.Type))
		}
		elems, _ := d.Elements()
		if len(elems) == 0 {
			return bad("expects at least one of and, or, xor")
		}
		for _, e := range elems {
			switch e.Key() {
			case "and", "or", "xor":
			default:
				return bad("unknown bitwise operation " + strconv.Quote(e.Key()) + " (and, or, xor)")
			}
			if t := e.Value().Type; t != bson.TypeInt32 && t != bson.TypeInt64 {
				return bad("the argument of " + e.Key() + " must be an int or a long, got " + typeName(t))
			}
		}
	case opPullAll:
		if !a.IsArray() {
			return bad("expects an array, got " + typeName(a.Type))
		}
	case opPush, opAddToSet:
		d, ok := a.DocumentOK()
		if !ok {
			return nil
		}
		elems, _ := d.Elements()
		hasEach := false
		for _, e := range elems {
			if e.Key() == "$each" {
				hasEach = true
			}
		}
		if !hasEach {
			for _, e := range elems {
				if strings.HasPrefix(e.Key(), "$") {
					return bad("the modifier " + strconv.Quote(e.Key()) + " needs $each")
				}
			}
			return nil
		}
		for _, e := range elems {
			v := value.FromRaw(e.Value())
			switch k := e.Key(); {
			case k == "$each":
				if !v.IsArray() {
					return bad("$each expects an array, got " + typeName(v.Type))
				}
			case op.kind == opPush && (k == "$position" || k == "$slice"):
				if _, ok := wholeNumber(v); !ok {
					return bad(k + " expects an integer, got " + v.ExtJSON())
				}
			case op.kind == opPush && k == "$sort":
				if !v.IsNumber() && !v.IsDocument() {
					return bad("$sort expects 1, -1 or a document, got " + typeName(v.Type))
				}
			default:
				return bad("unknown modifier " + strconv.Quote(k))
			}
		}
	}
	return nil
}

// wholeNumber returns v as an integer when it is a number with an exact
// integer value (1, int64(1), 1.0).
func wholeNumber(v value.Value) (int64, bool) {
	return v.IntOK()
}

func typeName(t bson.Type) string {
	if t == 0 {
		return "nothing"
	}
	return t.String()
}

func dedupSorted(s []string) []string {
	if len(s) < 2 {
		return s
	}
	out := s[:1]
	for _, x := range s[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}

// ApplyOptions tune ApplyUpdateWith.
type ApplyOptions struct {
	// Insert says the update inserts a new document: an upsert that
	// matched nothing. prev is then the seed document (the server seeds it
	// with the query's equality fields; nil for none) and $setOnInsert
	// applies. Otherwise $setOnInsert does nothing.
	Insert bool
	// Now is the time $currentDate writes; the zero Time means time.Now().
	Now time.Time
	// Query is the filter that selected prev: the positional $ stands
	// for the element of an array it matched (see ResolveUpdate). nil
	// when not known: an update with $ is then ErrUnsupportedUpdate.
	Query bson.Raw
	// ArrayFilters is the update's arrayFilters option, one filter per
	// identifier of $[<identifier>] (see ResolveUpdate). nil when not
	// known: an update with $[<identifier>] is then ErrUnsupportedUpdate;
	// an empty, non-nil slice gives none.
	ArrayFilters []bson.Raw
}

// ApplyUpdate returns the document as it is after the update: the
// post-image that %%root stands for in write rules. A nil or empty prev
// means the update inserts (an upsert that matched nothing, starting from
// an empty document), so $setOnInsert applies; see ApplyUpdateWith for the
// options.
//
// It computes $set, $unset, $inc, $mul, $min, $max, $rename, $push (with
// $each, $position and $slice), $addToSet (with $each), $pull of values
// (by equality), $pullAll, $pop, $bit, $currentDate (dates) and
// $setOnInsert, on plain paths, numeric array indexes, the
// all-positional $[] (every element of an existing array), the
// positional $ and the filtered $[<identifier>] (ApplyUpdateWith with
// the query and arrayFilters: see ResolveUpdate), and
// replacements (which keep prev's _id). New fields are
// added in the order MongoDB adds them (by path). Comparisons use the
// value package's BSON order and equality.
//
// Errors wrap ErrInvalidUpdate for updates the server would reject
// (including a change of _id, code update/immutable-field, and paths that
// cannot be created, update/not-viable), and ErrUnsupportedUpdate for valid
// updates whose result ApplyUpdate cannot compute exactly; callers deny the
// write in both cases.
func ApplyUpdate(prev, update bson.Raw) (bson.Raw, error) {
	return ApplyUpdateWith(prev, update, ApplyOptions{Insert: len(prev) == 0})
}

// ApplyUpdateWith is ApplyUpdate with options: whether the update inserts
// (upserts), the clock of $currentDate, and the query and arrayFilters
// that positional paths need (see ResolveUpdate; the update is applied as
// ResolveUpdate resolves it, with the errors' pointers into the update as
// written).
func ApplyUpdateWith(prev, update bson.Raw, opt ApplyOptions) (bson.Raw, error) {
	ops, names, repl, err := parseUpdateOps(update)
	if err != nil {
		return nil, err
	}
	if len(prev) == 0 {
		prev = emptyDoc
	} else if tooDeep(prev, maxUpdateDepth) {
		return nil, updateErr("", CodeUpdateMalformed, "previous document is nested more than "+strconv.Itoa(maxUpdateDepth)+" levels deep")
	} else if err := prev.Validate(); err != nil {
		return nil, updateErr("", CodeUpdateMalformed, "previous document is not a BSON document: "+err.Error())
	}
	prevID := value.FromDocument(prev).Field("_id")
	if repl {
		return applyReplacement(prev, prevID, update)
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	resolved, ptrs, err := resolvePositional(prev, update, ops, names, opt)
	if err != nil {
		return nil, err
	}
	if ptrs != nil {
		if ops, _, _, err = parseUpdateOps(resolved); err != nil {
			return nil, repoint(err, ptrs)
		}
		for i := range ops {
			ops[i].ptr = ptrs[ops[i].ptr]
		}
	}
	root := expandDoc(prev)
	for _, op := range ops {
		if err := applyOp(root, op, opt.Insert, now); err != nil {
			return nil, err
		}
	}
	out := encodeDoc(nil, root)
	if !prevID.IsMissing() && !value.Equal(prevID, value.FromDocument(out).Field("_id")) {
		return nil, updateErr("", CodeUpdateImmutable, "the update would change the immutable field _id")
	}
	return out, nil
}

var emptyDoc = bson.Raw{5, 0, 0, 0, 0}

// maxUpdateDepth bounds the nesting of update documents and of the
// documents ApplyUpdate reads: the server stores documents at most 100
// levels deep, and an update adds two ({"$set": {"f": ...}}).
const maxUpdateDepth = 2 * MaxDepth

func applyReplacement(prev bson.Raw, prevID value.Value, repl bson.Raw) (bson.Raw, error) {
	newID := value.FromDocument(repl).Field("_id")
	if newID.IsMissing() || prevID.IsMissing() {
		if prevID.IsMissing() {
			return append(bson.Raw(nil), repl...), nil
		}
		d := expandDoc(repl)
		d.keys = append([]string{"_id"}, d.keys...)
		d.vals = append([]any{prevID}, d.vals...)
		return encodeDoc(nil, d), nil
	}
	if !value.Equal(prevID, newID) {
		return nil, updateErr(source.Pointer("/_id"), CodeUpdateImmutable, "the replacement would change the immutable field _id")
	}
	return append(bson.Raw(nil), repl...), nil
}

// The mutable document tree of ApplyUpdate. A node is a value.Value (a
// leaf, or a document or array not yet opened), a *mdoc or a *marr.
type mdoc struct {
	keys []string
	vals []any
}

type marr struct{ elems []any }

func expandDoc(raw []byte) *mdoc {
	d := &mdoc{}
	elems, _ := bson.Raw(raw).Elements()
	for _, e := range elems {
		d.keys = append(d.keys, e.Key())
		d.vals = append(d.vals, value.FromRaw(e.Value()))
	}
	return d
}

func expandArr(raw []byte) *marr {
	a := &marr{}
	vals, _ := bson.Raw(raw).Values()
	for _, v := range vals {
		a.elems = append(a.elems, value.FromRaw(v))
	}
	return a
}

// open turns a document or array Value into a mutable node.
func open(n any) any {
	if v, ok := n.(value.Value); ok {
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			return expandDoc(v.Data)
		case bson.TypeArray:
			return expandArr(v.Data)
		}
	}
	return n
}

func (d *mdoc) index(k string) int {
	for i, x := range d.keys {
		if x == k {
			return i
		}
	}
	return -1
}

func (d *mdoc) remove(i int) {
	d.keys = append(d.keys[:i], d.keys[i+1:]...)
	d.vals = append(d.vals[:i], d.vals[i+1:]...)
}

// toValue returns a node as a Value (encoding mutable nodes).
func toValue(n any) value.Value {
	switch x := n.(type) {
	case value.Value:
		return x
	case *mdoc:
		return value.FromDocument(encodeDoc(nil, x))
	case *marr:
		return value.FromArray(encodeArr(nil, x))
	}
	return value.Value{}
}

func encodeDoc(dst []byte, d *mdoc) []byte {
	idx, dst := bsoncore.AppendDocumentStart(dst)
	for i, k := range d.keys {
		dst = appendNode(dst, k, d.vals[i])
	}
	dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
	return dst
}

func encodeArr(dst []byte, a *marr) []byte {
	idx, dst := bsoncore.AppendArrayStart(dst)
	for i, e := range a.elems {
		dst = appendNode(dst, strconv.Itoa(i), e)
	}
	dst, _ = bsoncore.AppendArrayEnd(dst, idx)
	return dst
}

func appendNode(dst []byte, key string, n any) []byte {
	switch x := n.(type) {
	case value.Value:
		dst = bsoncore.AppendHeader(dst, bsoncore.Type(x.Type), key)
		return append(dst, x.Data...)
	case *mdoc:
		dst = bsoncore.AppendHeader(dst, bsoncore.TypeEmbeddedDocument, key)
		return encodeDoc(dst, x)
	case *marr:
		dst = bsoncore.AppendHeader(dst, bsoncore.TypeArray, key)
		return encodeArr(dst, x)
	}
	return dst
}

// maxPad bounds the nulls ApplyUpdate adds when a path names an array
// index past the end (the server pads up to 1,500,000).
const maxPad = 1 << 16

// lookupNode returns the node at path, without creating anything. found
// is false when some component is missing or cannot be followed.
func lookupNode(root *mdoc, path []string) (node any, found bool) {
	var cur any = root
	for _, c := range path {
		cur = open(cur)
		switch n := cur.(type) {
		case *mdoc:
			i := n.index(c)
			if i < 0 {
				return nil, false
			}
			n.vals[i] = open(n.vals[i])
			cur = n.vals[i]
		case *marr:
			i, ok := value.ArrayIndex(c)
			if !ok || i >= len(n.elems) {
				return nil, false
			}
			n.elems[i] = open(n.elems[i])
			cur = n.elems[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// setNode sets the node at path, creating embedded documents for missing
// components and padding arrays with nulls, as $set does.
func setNode(root *mdoc, path []string, v any, ptr source.Pointer) error {
	var cur any = root
	for i, c := range path {
		last := i == len(path)-1
		switch n := cur.(type) {
		case *mdoc:
			j := n.index(c)
			if j < 0 {
				n.keys = append(n.keys, c)
				n.vals = append(n.vals, nested(path[i+1:], v))
				return nil
			}
			if last {
				n.vals[j] = v
				return nil
			}
			n.vals[j] = open(n.vals[j])
			cur = n.vals[j]
		case *marr:
			j, ok := value.ArrayIndex(c)
			if !ok {
				return updateErr(ptr, CodeUpdateNotViable, "cannot create field "+strconv.Quote(c)+" in an array (path "+strconv.Quote(strings.Join(path, "."))+")")
			}
			if j >= len(n.elems) {
				if j-len(n.elems) > maxPad {
					return updateErr(ptr, CodeUpdateUnsupported, "array index "+c+" is too far past the end of the array")
				}
				for len(n.elems) < j {
					n.elems = append(n.elems, value.Null())
				}
				n.elems = append(n.elems, nested(path[i+1:], v))
				return nil
			}
			if last {
				n.elems[j] = v
				return nil
			}
			n.elems[j] = open(n.elems[j])
			cur = n.elems[j]
		default:
			return updateErr(ptr, CodeUpdateNotViable, "cannot create field "+strconv.Quote(c)+" in a "+typeName(toValue(cur).Type)+" value (path "+strconv.Quote(strings.Join(path, "."))+")")
		}
	}
	return nil
}

// nested returns v wrapped in embedded documents named by path.
func nested(path []string, v any) any {
	for i := len(path) - 1; i >= 0; i-- {
		v = &mdoc{keys: []string{path[i]}, vals: []any{v}}
	}
	return v
}

// unsetNode removes the field at path; an array element becomes null, as
// $unset does. Missing paths are left alone.
func unsetNode(root *mdoc, path []string) {
	parent, ok := lookupNode(root, path[:len(path)-1])
	if !ok {
		return
	}
	last := path[len(path)-1]
	switch n := parent.(type) {
	case *mdoc:
		if i := n.index(last); i >= 0 {
			n.remove(i)
		}
	case *marr:
		if i, ok := value.ArrayIndex(last); ok && i < len(n.elems) {
			n.elems[i] = value.Null()
		}
	}
}

func applyOp(root *mdoc, op updateOp, insert bool, now time.Time) error {
	cur, found := lookupNode(root, op.path)
	var curV value.Value
	if found {
		curV = toValue(cur)
	}
	switch op.kind {
	case opSet:
		return setNode(root, op.path, op.arg, op.ptr)
	case opSetOnInsert:
		if !insert {
			return nil
		}
		return setNode(root, op.path, op.arg, op.ptr)
	case opUnset:
		unsetNode(root, op.path)
		return nil
	case opCurrentDate:
		if d, ok := op.arg.DocumentOK(); ok {
			if s, _ := value.FromRaw(d.Lookup("$type")).StringOK(); s == "timestamp" {
				return updateErr(op.ptr, CodeUpdateUnsupported, "$currentDate with a timestamp is set by the server and cannot be computed here")
			}
		}
		return setNode(root, op.path, value.Time(now), op.ptr)
	case opInc, opMul:
		if !found {
			if op.kind == opInc {
				return setNode(root, op.path, op.arg, op.ptr)
			}
			zero, err := arith(opMul, zeroOf(op.arg), op.arg)
			if err != nil {
				return updateErr(op.ptr, codeOf(err), err.Error())
			}
			return setNode(root, op.path, zero, op.ptr)
		}
		if !curV.IsNumber() {
			return updateErr(op.ptr, CodeUpdateType, "cannot apply "+op.name+" to a value of type "+typeName(curV.Type))
		}
		r, err := arith(op.kind, curV, op.arg)
		if err != nil {
			return updateErr(op.ptr, codeOf(err), op.name+": "+err.Error())
		}
		return setNode(root, op.path, r, op.ptr)
	case opMin, opMax:
		c := value.Compare(op.arg, curV)
		if !found || (op.kind == opMin && c < 0) || (op.kind == opMax && c > 0) {
			return setNode(root, op.path, op.arg, op.ptr)
		}
		return nil
	case opBit:
		return applyBit(root, op, found, curV)
	case opRename:
		return applyRename(root, op)
	}
	// Array operators.
	var arr *marr
	if found {
		a, ok := cur.(*marr)
		if !ok {
			return updateErr(op.ptr, CodeUpdateType, op.name+" needs an array, the field holds a value of type "+typeName(curV.Type))
		}
		arr = a
	}
	switch op.kind {
	case opPop:
		if arr == nil || len(arr.elems) == 0 {
			return nil
		}
		if n, _ := wholeNumber(op.arg); n == 1 {
			arr.elems = arr.elems[:len(arr.elems)-1]
		} else {
			arr.elems = arr.elems[1:]
		}
		return nil
	case opPull, opPullAll:
		if arr == nil {
			return nil
		}
		return applyPull(arr, op)
	case opPush, opAddToSet:
		if arr == nil {
			arr = &marr{}
			if err := setNode(root, op.path, arr, op.ptr); err != nil {
				return err
			}
		}
		if op.kind == opPush {
			return applyPush(arr, op)
		}
		items := []value.Value{op.arg}
		if d, ok := op.arg.DocumentOK(); ok {
			if each := value.FromRaw(d.Lookup("$each")); each.IsArray() {
				items = items[:0]
				each.Each(func(_ int, e value.Value) bool { items = append(items, e); return false })
			}
		}
		for _, it := range items {
			present := false
			for _, e := range arr.elems {
				if value.Equal(toValue(e), it) {
					present = true
					break
				}
			}
			if !present {
				arr.elems = append(arr.elems, it)
			}
		}
		return nil
	}
	return updateErr(op.ptr, CodeUpdateUnsupported, op.name+" is not supported by ApplyUpdate")
}

func applyPush(arr *marr, op updateOp) error {
	d, isDoc := op.arg.DocumentOK()
	each := value.FromRaw(d.Lookup("$each"))
	if !isDoc || !each.IsArray() {
		arr.elems = append(arr.elems, op.arg)
		return nil
	}
	if !value.FromRaw(d.Lookup("$sort")).IsMissing() {
		return updateErr(op.ptr, CodeUpdateUnsupported, "$push with $sort is not supported by ApplyUpdate")
	}
	var items []any
	each.Each(func(_ int, e value.Value) bool { items = append(items, e); return false })
	pos := len(arr.elems)
	if p := value.FromRaw(d.Lookup("$position")); !p.IsMissing() {
		n, _ := wholeNumber(p)
		switch {
		case n < 0:
			pos = len(arr.elems) + int(max(n, -int64(len(arr.elems))))
		case n < int64(len(arr.elems)):
			pos = int(n)
		}
	}
	out := make([]any, 0, len(arr.elems)+len(items))
	out = append(out, arr.elems[:pos]...)
	out = append(out, items...)
	out = append(out, arr.elems[pos:]...)
	if s := value.FromRaw(d.Lookup("$slice")); !s.IsMissing() {
		n, _ := wholeNumber(s)
		switch {
		case n >= 0 && n < int64(len(out)):
			out = out[:n]
		case n < 0 && -n < int64(len(out)):
			out = out[len(out)+int(n):]
		}
	}
	arr.elems = out
	return nil
}

func applyPull(arr *marr, op updateOp) error {
	var drop []value.Value
	if op.kind == opPullAll {
		op.arg.Each(func(_ int, e value.Value) bool { drop = append(drop, e); return false })
	} else {
		switch op.arg.Type {
		case bson.TypeEmbeddedDocument, bson.TypeRegex:
			return updateErr(op.ptr, CodeUpdateUnsupported, "$pull with a condition or a regular expression is not supported by ApplyUpdate; only values are")
		}
		if !op.arg.IsArray() {
			for _, e := range arr.elems {
				if t := toValue(e).Type; t == bson.TypeArray {
					return updateErr(op.ptr, CodeUpdateUnsupported, "$pull of a value from an array holding arrays is not supported by ApplyUpdate")
				}
			}
		}
		drop = []value.Value{op.arg}
	}
	out := arr.elems[:0]
	for _, e := range arr.elems {
		ev := toValue(e)
		keep := true
		for _, d := range drop {
			if value.Equal(ev, d) {
				keep = false
				break
			}
		}
		if keep {
			out = append(out, e)
		}
	}
	arr.elems = out
	return nil
}

func applyRename(root *mdoc, op updateOp) error {
	for _, p := range []struct {
		path []string
		what string
	}{{op.path, "source"}, {op.to, "target"}} {
		var cur any = root
		for _, c := range p.path[:len(p.path)-1] {
			d, ok := cur.(*mdoc)
			if !ok {
				break
			}
			i := d.index(c)
			if i < 0 {
				break
			}
			d.vals[i] = open(d.vals[i])
			cur = d.vals[i]
			if _, isArr := cur.(*marr); isArr {
				return updateErr(op.ptr, CodeUpdateNotViable, "the "+p.what+" of $rename cannot be an array element")
			}
		}
	}
	v, found := lookupNode(root, op.path)
	if !found {
		return nil
	}
	unsetNode(root, op.path)
	unsetNode(root, op.to)
	return setNode(root, op.to, v, op.ptr)
}

func applyBit(root *mdoc, op updateOp, found bool, cur value.Value) error {
	if !found {
		cur = value.Int32(0)
	}
	x, ok := cur.IntOK()
	if !ok || (cur.Type != bson.TypeInt32 && cur.Type != bson.TypeInt64) {
		return updateErr(op.ptr, CodeUpdateType, "$bit needs an int or a long, the field holds "+typeName(cur.Type))
	}
	long := cur.Type == bson.TypeInt64
	d, _ := op.arg.DocumentOK()
	elems, _ := d.Elements()
	for _, e := range elems {
		a := value.FromRaw(e.Value())
		y, _ := a.IntOK()
		long = long || a.Type == bson.TypeInt64
		switch e.Key() {
		case "and":
			x &= y
		case "or":
			x |= y
		case "xor":
			x ^= y
		}
	}
	r := value.Int32(int32(x))
	if long {
		r = value.Int64(x)
	}
	return setNode(root, op.path, r, op.ptr)
}

// arithError is an arithmetic failure with its code.
type arithError struct{ code, msg string }

func (e *arithError) Error() string { return e.msg }

func codeOf(err error) string {
	var a *arithError
	if errors.As(err, &a) {
		return a.code
	}
	return CodeUpdateOperand
}

// zeroOf returns 0 of v's numeric type.
func zeroOf(v value.Value) value.Value {
	switch v.Type {
	case bson.TypeInt64:
		return value.Int64(0)
	case bson.TypeDouble:
		return value.Double(0)
	case bson.TypeDecimal128:
		return v // arith rejects decimals
	}
	return value.Int32(0)
}

// arith adds (opInc) or multiplies (opMul) two numbers as the server
// does: a double makes a double; else an int64 makes an int64; int32
// results that overflow become int64; int64 overflow is an error.
// Decimal128 arithmetic is not supported.
func arith(kind updateKind, a, b value.Value) (value.Value, error) {
	if a.Type == bson.TypeDecimal128 || b.Type == bson.TypeDecimal128 {
		return value.Value{}, &arithError{CodeUpdateUnsupported, "decimal128 arithmetic is not supported by ApplyUpdate"}
	}
	if a.Type == bson.TypeDouble || b.Type == bson.TypeDouble {
		x, y := toFloat(a), toFloat(b)
		if kind == opInc {
			return value.Double(x + y), nil
		}
		return value.Double(x * y), nil
	}
	x, _ := a.IntOK()
	y, _ := b.IntOK()
	var r int64
	var overflow bool
	if kind == opInc {
		r = x + y
		overflow = (x > 0 && y > 0 && r < 0) || (x < 0 && y < 0 && r >= 0)
	} else {
		r = x * y
		overflow = x != 0 && (r/x != y || (x == -1 && y == math.MinInt64) || (y == -1 && x == math.MinInt64))
	}
	if overflow {
		return value.Value{}, &arithError{CodeUpdateOverflow, "integer overflow"}
	}
	if a.Type == bson.TypeInt32 && b.Type == bson.TypeInt32 && r >= math.MinInt32 && r <= math.MaxInt32 {
		return value.Int32(int32(r)), nil
	}
	return value.Int64(r), nil
}

func toFloat(v value.Value) float64 {
	if f, ok := v.DoubleOK(); ok {
		return f
	}
	n, _ := v.IntOK()
	return float64(n)
}
