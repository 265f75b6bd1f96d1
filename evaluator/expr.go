package evaluator

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// evalCtx is the state of one evaluation: the bound request, the documents
// (%%root and %%prevRoot) and the trace. A zero evalCtx evaluates constant
// nodes at compile time.
type evalCtx struct {
	ctx   context.Context
	b     *Bound
	root  value.Value // Missing when there is no document
	prev  value.Value
	trace *Trace
	file  string
	err   error
	live  bool // evaluate request-phase nodes instead of using Bound.bools
	// gateOf is the role whose document_filters were evaluated for this
	// decision (evalGates), with their results: nGate reads them.
	gateOf *crole
	gate   [2]bool
	// field is the field that decided a field-level denial (fieldOf).
	field string
	// indexPaths: the update has a numeric path component, read as an
	// array index or a field name on the stored document, which may hold
	// values the caller cannot read there; fieldOf then names no field.
	indexPaths bool
	// applied are the filters applied to the decision that decide needs
	// (those with a projection, for writes and deletes).
	applied []*cfilter
}

func (ec *evalCtx) doc(s docSel) value.Value {
	if s == selPrev {
		return ec.prev
	}
	return ec.root
}

// val returns an operand's value. Right-hand values that come from
// expansions read null as Missing: a null claim never matches (fail
// closed).
func (ec *evalCtx) val(o *operand) value.Value {
	var v value.Value
	switch o.kind {
	case oConst:
		return o.val
	case oReq:
		if ec.b == nil {
			return value.Value{}
		}
		if ec.b.opErr != nil && ec.b.opErr[o.slot] != nil {
			ec.failUnlessThrew(ec.b.opErr[o.slot])
			return value.Value{}
		}
		v = ec.b.vals[o.slot]
	case oDocPath:
		d := ec.doc(o.sel)
		if d.IsMissing() {
			return value.Value{}
		}
		v = value.Resolve(d, o.path)
		if r := value.CheckOperand(v); r != value.Comparable {
			ec.fail(refusalErr(o, r))
			return value.Value{}
		}
	case oDocBuild:
		var err error
		v, err = ec.build(o)
		if err != nil {
			ec.failUnlessThrew(err)
			return value.Value{}
		}
		if r := value.CheckOperand(v); r != value.Comparable {
			ec.fail(refusalErr(o, r))
			return value.Value{}
		}
	}
	if o.fromExp && !o.left && v.Type == bson.TypeNull || o.kind >= oDocPath && nullInMembership(o, v) {
		return value.Value{}
	}
	return v
}

func (ec *evalCtx) fail(err error) {
	if ec.err == nil {
		ec.err = err
	}
}

// failUnlessThrew records err, the error of an operand, unless a function
// threw it (ErrFunctionThrew): then the operand is only missing, and the
// expression that compares it false.
func (ec *evalCtx) failUnlessThrew(err error) {
	if !errors.Is(err, ErrFunctionThrew) {
		ec.fail(err)
	}
}

// set returns the set of an operand that needs one.
func (ec *evalCtx) set(o *operand) value.Set {
	switch o.kind {
	case oConst:
		return o.setConst
	case oReq:
		if ec.b != nil && o.setSlot >= 0 {
			return ec.b.sets[o.setSlot]
		}
	}
	return makeSet(ec.val(o), o.dropsNulls())
}

// build computes an array, document or call operand.
func (ec *evalCtx) build(o *operand) (value.Value, error) {
	b := o.build
	switch b.kind {
	case bRef:
		if ec.b == nil {
			return value.Value{}, nil
		}
		return b.acc.Resolve(&ec.b.in)
	case bArray, bDoc:
		// An element that is missing (a missing claim, %%values or
		// %%request field, a null expansion, a function returning
		// undefined, a failed conversion, a failing element) makes the
		// whole operand missing, never the operand without it:
		// {"$nin": [missing]} is not {"$nin": []}, which holds for every
		// document, nor {"owner": {"org": missing}} {"owner": {}}. A
		// missing operand compares false, and as a filter's apply_when
		// is unknown (a missing claim never widens access).
		vals := make([]value.Value, 0, len(b.elems))
		for _, e := range b.elems {
			v := ec.val(e)
			if v.IsMissing() {
				return value.Value{}, nil
			}
			vals = append(vals, v)
		}
		if b.kind == bArray {
			return value.FromArray(buildBSON(nil, vals)), nil
		}
		return value.FromDocument(buildBSON(b.keys, vals)), nil
	case bCall:
		switch b.op {
		case "%stringToOid":
			return stringToOid(ec.val(b.elems[0])), nil
		case "%oidToString":
			return oidToString(ec.val(b.elems[0])), nil
		case rules.CallStringToUuid:
			return value.StringToUUID(ec.val(b.elems[0])), nil
		case rules.CallUuidToString:
			return value.UUIDToString(ec.val(b.elems[0])), nil
		case "%function":
			args := make([]value.Value, len(b.elems))
			for i, e := range b.elems {
				args[i] = ec.val(e)
			}
			return ec.call(b.name, args)
		}
		return value.Value{}, fmt.Errorf("unknown operator %s", b.op)
	}
	return value.Value{}, nil
}

func (ec *evalCtx) call(name string, args []value.Value) (value.Value, error) {
	if ec.b == nil {
		return value.Value{}, fmt.Errorf("%w: %s: called outside a request", ErrFunctionCall, name)
	}
	ctx := ec.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	env := FuncEnv{Namespace: ec.b.ns, Inputs: &ec.b.in}
	return ec.b.p.fns.call(ctx, name, args, env)
}

// stringToOid converts a 24-digit hex string or a 12-byte string to an
// ObjectId (an ObjectId is returned as is); anything else is Missing.
func stringToOid(v value.Value) value.Value {
	if v.Type == bson.TypeObjectID {
		return v
	}
	s, ok := v.StringOK()
	if !ok {
		return value.Value{}
	}
	if id, err := bson.ObjectIDFromHex(s); err == nil {
		return value.ObjectID(id)
	}
	if len(s) == 12 {
		var id bson.ObjectID
		copy(id[:], s)
		return value.ObjectID(id)
	}
	return value.Value{}
}

// oidToString converts an ObjectId to its hex string (a string is returned
// as is); anything else is Missing.
func oidToString(v value.Value) value.Value {
	if id, ok := v.ObjectIDOK(); ok {
		return value.String(hex.EncodeToString(id[:]))
	}
	if v.Type == bson.TypeString {
		return v
	}
	return value.Value{}
}

// encodeDoc encodes a document (keys != nil) or an array.
func buildBSON(keys []string, vals []value.Value) []byte {
	b := make([]byte, 4, 64)
	for i, v := range vals {
		b = append(b, byte(v.Type))
		if keys != nil {
			b = append(b, keys[i]...)
		} else {
			b = strconv.AppendInt(b, int64(i), 10)
		}
		b = append(b, 0)
		b = append(b, v.Data...)
	}
	b = append(b, 0)
	binary.LittleEndian.PutUint32(b, uint32(len(b)))
	return b
}

// node evaluates an expression node.
func (ec *evalCtx) node(n *node) bool {
	if n.phase == phReq && !n.synth && !ec.live && ec.b != nil && ec.trace == nil {
		if ec.b.nodeErr != nil && ec.b.nodeErr[n.slot] != nil {
			ec.fail(ec.b.nodeErr[n.slot])
		}
		return ec.b.bools[n.slot]
	}
	var r bool
	switch n.kind {
	case nConst:
		r = n.val
	case nAnd:
		r = true
		for _, k := range n.kids {
			if !ec.node(k) {
				r = false
				break
			}
		}
	case nOr:
		for _, k := range n.kids {
			if ec.node(k) {
				r = true
				break
			}
		}
	case nNor:
		r = true
		for _, k := range n.kids {
			if ec.node(k) {
				r = false
				break
			}
		}
	case nMatch:
		return ec.match(n)
	case nLabel:
		r = ec.node(n.kids[0])
		if ec.trace != nil {
			ec.step(n.at, n.what, "", r)
		}
		return r
	case nGate:
		if g := ec.gateOf; g != nil && n.kids[0] == pick(g.dfRead, g.dfWrite, n.gate == 1) {
			return ec.gate[n.gate]
		}
		return ec.node(n.kids[0])
	}
	if ec.trace != nil && n.kind != nConst && !n.synth {
		ec.step(n.at, logicName(n), "", r)
	}
	return r
}

func logicName(n *node) string {
	switch n.kind {
	case nAnd:
		return "and"
	case nOr:
		return "or"
	case nNor:
		return "nor"
	}
	return "expression"
}

func (ec *evalCtx) step(at rules.At, what, detail string, r bool) {
	ec.trace.Steps = append(ec.trace.Steps, Step{File: at.FileName(), Ptr: at.Ptr, What: what, Detail: detail, Result: r})
}

// match evaluates one field of an expression: the left side tested against
// its condition.
func (ec *evalCtx) match(n *node) bool {
	l := n.left
	var r bool
	if l.kind == oDocPath && len(l.path) > 0 {
		d := ec.doc(l.sel)
		r = ec.condPath(n.cond, d, l.path, n.query)
	} else {
		r = ec.condVal(n.cond, ec.leftVal(l), l.kind == oDocPath, n.query)
	}
	if ec.trace != nil {
		ec.traceMatch(n, r)
	}
	return r
}

func (ec *evalCtx) leftVal(l *operand) value.Value {
	if l.kind == oDocPath {
		// The whole document: %%root or %%prevRoot.
		return ec.doc(l.sel)
	}
	return ec.val(l)
}

// condPath tests the field at path p of document d (MongoDB query
// semantics: array fields match when an element does, missing fields are
// null for equality with null).
func (ec *evalCtx) condPath(c *cnode, d value.Value, p value.Path, query bool) bool {
	switch c.kind {
	case cAnd:
		for _, k := range c.kids {
			if !ec.condPath(k, d, p, query) {
				return false
			}
		}
		return true
	case cOr:
		for _, k := range c.kids {
			if ec.condPath(k, d, p, query) {
				return true
			}
		}
		return false
	case cNor:
		for _, k := range c.kids {
			if ec.condPath(k, d, p, query) {
				return false
			}
		}
		return true
	case cExists:
		want, ok := truthy(ec.val(c.arg))
		if !ok {
			return c.neg // a missing or refused operand (truthy)
		}
		return value.MatchExists(d, p, want)
	case cElemMatch:
		return value.EachWhole(d, p, func(a value.Value) bool {
			found := false
			a.Each(func(_ int, e value.Value) bool {
				found = ec.elemMatches(c, e, query)
				return found
			})
			return found
		})
	}
	rv := ec.val(c.arg)
	if rv.IsMissing() || refusedOperand(c, rv) {
		// A missing right-hand value (a missing claim) matches nothing,
		// not even with $ne or $nin: fail closed; under $nor it holds, so
		// that the $nor fails (cnode.neg). So does an operand the server
		// refuses.
		return c.neg
	}
	if len(p) == 1 && (c.kind == cEq || c.kind == cIn) {
		// Fast path: a top-level field holding one value that is not an
		// array has itself as its only candidate.
		if fv := d.Field(p[0]); fv.Type != 0 && fv.Type != bson.TypeArray && rv.Type != bson.TypeNull {
			if c.kind == cIn {
				return rv.IsArray() && ec.set(c.arg).Has(fv)
			}
			if value.Equal(fv, rv) {
				return true
			}
			return !query && c.arg.fromExp && rv.IsArray() && ec.set(c.arg).Has(fv)
		}
	}
	switch c.kind {
	case cEq:
		return ec.eqPath(c, d, p, rv, query)
	case cNe:
		return !ec.eqPath(c, d, p, rv, query)
	case cCmp:
		return value.MatchCmp(d, p, c.cmp, rv)
	case cIn:
		s := ec.set(c.arg)
		return value.MatchIn(d, p, s, s.HasNull())
	case cNin:
		s := ec.set(c.arg)
		return !value.MatchIn(d, p, s, s.HasNull())
	}
	return shapeOp(c, d, p, rv)
}

// elemMatches reports whether the element e of an array satisfies the
// $elemMatch c: its query, with e as the document, when e is a document
// (the query form), or its operators on e as the value (the operator
// form). An element that is itself an array never matches: the server
// tests it whole (matchesSingleElement), or as a document of its indexes
// in the query form, which the path functions of package value do not
// (they would expand it); see doc.go.
func (ec *evalCtx) elemMatches(c *cnode, e value.Value, query bool) bool {
	if e.IsArray() {
		return false
	}
	if c.q == nil {
		return ec.condPath(c.kids[0], e, nil, query)
	}
	if !e.IsDocument() {
		return false
	}
	root := ec.root
	ec.root = e
	r := ec.node(c.q)
	ec.root = root
	return r
}

// refusedOperand reports whether the server refuses rv (not Missing) as
// the operand of c: $in and $nin of a non-array ("$in needs an array"),
// $all of a non-array, $size of anything but a whole number from 0 to
// 2^31-1, $type of anything but type aliases or numbers, $mod of anything
// but [divisor, remainder]; and an $all array from an expansion holding a
// null, which would match documents that lack the field (a null claim
// never does). Such an operand decides as a missing one: false, true
// under $nor (cnode.neg), unknown in a filter's apply_when.
func refusedOperand(c *cnode, rv value.Value) bool {
	if c.kind < cIn {
		return false // $eq, $ne and the range operators take any value
	}
	switch c.kind {
	case cIn, cNin:
		return !rv.IsArray()
	case cAll:
		return !allOperand(c, rv)
	case cSize:
		_, ok := value.SizeOK(rv)
		return !ok
	case cType:
		_, ok := value.TypesOK(rv)
		return !ok
	case cMod:
		_, _, ok := value.ModOK(rv)
		return !ok
	}
	return false
}

// shapeOp decides $all, $size, $type, $mod and $regex, whose operands
// have a shape, on the candidates of path p in v, for the operand rv
// (neither Missing nor refused: refusedOperand).
func shapeOp(c *cnode, v value.Value, p value.Path, rv value.Value) bool {
	switch c.kind {
	case cAll:
		return value.MatchAll(v, p, rv)
	case cSize:
		n, _ := value.SizeOK(rv)
		return value.MatchSize(v, p, n)
	case cType:
		ts, _ := value.TypesOK(rv)
		return value.MatchType(v, p, ts)
	case cMod:
		d, r, _ := value.ModOK(rv)
		return value.MatchMod(v, p, d, r)
	case cRegex:
		return value.MatchRegex(v, p, c.re)
	}
	return false
}

// allOperand reports whether rv is an operand $all compares: an array,
// without a null element when it comes from an expansion (shapeOp).
func allOperand(c *cnode, rv value.Value) bool {
	return rv.IsArray() && !(c.arg.fromExp && hasNullElem(rv))
}

// swappable reports whether a condition of kind k with a per-request
// value on the left and a document path on the right is read from the
// document's side ({"%%user.id": {"$in": "%%root.members"}} is
// {"members": "%%user.id"}). The array operators are not: their operand,
// the document's value, is compared as a value.
func swappable(k condKind) bool {
	return k == cEq || k == cNe || k == cCmp || k == cIn || k == cNin
}

// nullInMembership reports whether v, the value of operand o, is an
// array holding a null where o is the operand of a $ne that means
// membership (o.negNull): membership drops the nulls (a null claim never
// matches documents that lack the field), which in the negation would
// widen it. Such a value reads as Missing, so the negation is decided as
// with a missing operand (false; true under $nor, cnode.neg; unknown in a
// filter's apply_when). $nin keeps the nulls of its set
// (operand.dropsNulls), so it needs no such rule.
func nullInMembership(o *operand, v value.Value) bool {
	return o.negNull && v.IsArray() && hasNullElem(v)
}

// hasNullElem reports whether the array v has a null element.
func hasNullElem(v value.Value) bool {
	found := false
	v.Each(func(_ int, e value.Value) bool {
		found = e.IsNull()
		return found
	})
	return found
}

// swappedNegNull reports whether a negation ($ne, $nin) of a per-request
// left value lv tested against a document path reads a null from an
// expansion: lv null (which never matches, as a null claim on the right),
// or an array holding one (dropped from the membership). Dropping it
// would widen the negation: it is false (fail closed).
func swappedNegNull(c *cnode, lv value.Value) bool {
	if c.kind != cNe && c.kind != cNin {
		return false
	}
	return lv.IsNull() || lv.IsArray() && hasNullElem(lv)
}

// eqPath is {p: rv}; an array that comes from an expansion also matches
// when the field holds one of its elements (membership, as in the Manager
// role of source/rules/roles.txt: {"email": "%%user.custom_data.manages"}).
func (ec *evalCtx) eqPath(c *cnode, d value.Value, p value.Path, rv value.Value, query bool) bool {
	if value.MatchEq(d, p, rv) {
		return true
	}
	if !query && c.arg.fromExp && rv.IsArray() {
		return value.MatchIn(d, p, ec.set(c.arg), false)
	}
	return false
}

// condVal tests a plain value: a per-request value, or a whole document
// (fromDoc).
func (ec *evalCtx) condVal(c *cnode, lv value.Value, fromDoc bool, query bool) bool {
	switch c.kind {
	case cAnd:
		for _, k := range c.kids {
			if !ec.condVal(k, lv, fromDoc, query) {
				return false
			}
		}
		return true
	case cOr:
		for _, k := range c.kids {
			if ec.condVal(k, lv, fromDoc, query) {
				return true
			}
		}
		return false
	case cNor:
		for _, k := range c.kids {
			if ec.condVal(k, lv, fromDoc, query) {
				return false
			}
		}
		return true
	case cExists:
		want, ok := truthy(ec.val(c.arg))
		if !ok {
			return c.neg // a missing or refused operand (truthy)
		}
		return !lv.IsMissing() == want
	case cElemMatch:
		return false // rules.Validate allows it on document fields only
	}
	// A document path on the right: {"%%user.id": "%%root.members"} is
	// {"members": "%%user.id"} seen from the document, where the request
	// value is the value compared against: missing (or null), it matches
	// nothing (true under $nor, cnode.neg).
	if a := c.arg; a.kind == oDocPath && len(a.path) > 0 && swappable(c.kind) {
		d := ec.doc(a.sel)
		if lv.IsMissing() || swappedNegNull(c, lv) {
			return c.neg
		}
		switch c.kind {
		case cEq:
			return ec.swappedEq(c, d, a.path, lv)
		case cNe:
			return !ec.swappedEq(c, d, a.path, lv)
		case cCmp:
			return value.MatchCmp(d, a.path, c.cmp.Flip(), lv)
		case cIn:
			return ec.swappedEq(c, d, a.path, lv)
		case cNin:
			return value.MatchExists(d, a.path, true) && !ec.swappedEq(c, d, a.path, lv)
		}
		return false
	}
	// Otherwise lv is the subject: a missing lv (a missing claim, no
	// document) is decided as a null one, as a missing document field is
	// ({$eq: null}, {$in: [null]}, {$gte: null}, {$ne: 5}, {$nin: [5]}
	// hold), never beyond what the rule grants a null lv (the MinKey and
	// MaxKey bounds, where a missing field matches less, included: under
	// $nor it would match more). A missing rv matches nothing.
	rv := ec.val(c.arg)
	if rv.IsMissing() || refusedOperand(c, rv) {
		return c.neg
	}
	if lv.IsMissing() && c.kind != cType {
		// (A missing subject has no type, as a missing field: {"$type":
		// "null"} does not match it, as {"$exists": true} does not.)
		lv = value.Null()
	}
	switch c.kind {
	case cEq:
		return ec.eqVal(c, lv, rv, query)
	case cNe:
		return !ec.eqVal(c, lv, rv, query)
	case cCmp:
		return value.MatchCmp(lv, nil, c.cmp, rv)
	case cIn:
		s := ec.set(c.arg)
		return value.MatchIn(lv, nil, s, s.HasNull())
	case cNin:
		s := ec.set(c.arg)
		return !value.MatchIn(lv, nil, s, s.HasNull())
	}
	return shapeOp(c, lv, nil, rv)
}

func (ec *evalCtx) eqVal(c *cnode, lv, rv value.Value, query bool) bool {
	if value.MatchEq(lv, nil, rv) {
		return true
	}
	if !query && c.arg.fromExp && rv.IsArray() {
		return value.MatchIn(lv, nil, ec.set(c.arg), false)
	}
	return false
}

// swappedEq is {path: lv} over document d, with membership when lv is an
// array (every value on the left comes from an expansion).
func (ec *evalCtx) swappedEq(c *cnode, d value.Value, p value.Path, lv value.Value) bool {
	if lv.IsNull() {
		return false
	}
	if value.MatchEq(d, p, lv) {
		return true
	}
	if lv.IsArray() {
		return value.MatchIn(d, p, makeSet(lv, true), false)
	}
	return false
}

// tri is a three-valued truth value (Kleene logic): a comparison of a
// missing request value is unknown.
type tri uint8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

func triOf(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// tri evaluates a request-phase expression in Kleene logic: a match whose
// comparisons (other than $exists) read a missing request value is
// unknown; and, or and nor combine unknowns (false and unknown is false,
// true or unknown is true). Used for filters' apply_when, where unknown
// means the filter applies (a missing claim never widens access).
func (ec *evalCtx) tri(n *node) tri {
	switch n.kind {
	case nAnd:
		r := triTrue
		for _, k := range n.kids {
			switch ec.tri(k) {
			case triFalse:
				return triFalse
			case triUnknown:
				r = triUnknown
			}
		}
		return r
	case nOr, nNor:
		r := triFalse
		for _, k := range n.kids {
			v := ec.tri(k)
			if v == triTrue {
				r = triTrue
				break
			}
			if v == triUnknown {
				r = triUnknown
			}
		}
		if n.kind == nOr || r == triUnknown {
			return r
		}
		return triOf(r == triFalse)
	case nMatch:
		if ec.condMissing(n.cond, n.left) {
			return triUnknown
		}
		return triOf(ec.match(n))
	}
	return triOf(ec.node(n))
}

// condMissing reports whether a comparison of c reads a missing operand:
// its own (or one the server refuses, refusedOperand; for $exists, one
// truthy does not read), or left (but for $exists). A missing subject (left) is
// unknown here too, although condVal decides it as null: a filter only
// restricts, so applying it whatever the subject would be is fail closed.
func (ec *evalCtx) condMissing(c *cnode, left *operand) bool {
	switch c.kind {
	case cExists:
		// Well defined on a missing subject; not on a missing operand.
		if o := c.arg; o.kind == oReq || o.kind == oConst {
			_, ok := truthy(ec.val(o))
			return !ok
		}
		return false
	case cAnd, cOr, cNor:
		for _, k := range c.kids {
			if ec.condMissing(k, left) {
				return true
			}
		}
		return false
	}
	if ec.opMissing(left) || ec.opMissing(c.arg) {
		return true
	}
	if o := c.arg; o != nil && (o.kind == oReq || o.kind == oConst) {
		return refusedOperand(c, ec.val(o))
	}
	return false
}

// opMissing reports whether a request-phase or constant operand is
// missing (document values are not claims).
func (ec *evalCtx) opMissing(o *operand) bool {
	if o == nil || o.kind != oReq && o.kind != oConst {
		return false
	}
	return ec.val(o).IsMissing()
}
