package value

import (
	"math"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// CmpOp is a range comparison operator of the query language.
type CmpOp uint8

// The range comparison operators.
const (
	Gt  CmpOp = iota + 1 // $gt
	Gte                  // $gte
	Lt                   // $lt
	Lte                  // $lte
)

// String returns the operator's query-language name ("$gt", ...).
func (op CmpOp) String() string {
	switch op {
	case Gt:
		return "$gt"
	case Gte:
		return "$gte"
	case Lt:
		return "$lt"
	case Lte:
		return "$lte"
	}
	return "$invalid"
}

// Flip returns the operator that holds for (b, a) when op holds for
// (a, b): $gt becomes $lt, $gte becomes $lte, and the reverse. A rule
// {"%%user.age": {"$gt": "%%root.min"}} is {"min": {"$lt": age}} seen from
// the document.
func (op CmpOp) Flip() CmpOp {
	switch op {
	case Gt:
		return Lt
	case Gte:
		return Lte
	case Lt:
		return Gt
	case Lte:
		return Gte
	}
	return op
}

// The matchers below take, as Each does, the value at the empty path: a
// document (FromDocument) for {p: ...} over a document, or a plain value
// with the empty path, such as the result of an expansion on the left of
// a rule ({"%%user.custom_data.roles": "admin"} is MatchEq(roles, nil,
// "admin")). They do not allocate.

// MatchEq reports whether v matches {p: x} (equally {p: {$eq: x}}): some
// candidate of Each(v, p) equals x. When x is an array, a candidate equal
// to the whole array matches, as does an array element that is an equal
// array. When x is null, Missing candidates match as well (MongoDB 8.0
// semantics: undefined does NOT match null). A Missing x matches nothing.
// {p: {$ne: x}} is !MatchEq(v, p, x), which matches documents without p.
//
// A regular-expression operand is compared as a value here, never matched
// against strings as the server does: callers refuse such operands (see
// HasRegex).
func MatchEq(v Value, p Path, x Value) bool {
	if x.Type == 0 {
		return false
	}
	if x.Type == bson.TypeNull {
		return Each(v, p, isNullish)
	}
	return Each(v, p, func(c Value) bool { return Equal(c, x) })
}

func isNullish(c Value) bool { return c.Type == 0 || c.Type == bson.TypeNull }

// MatchIn reports whether v matches {p: {$in: [...]}} for the set s of the
// operand's elements: some candidate of Each(v, p) is in s, or hasNull
// (null is one of the elements: s.HasNull()) and some candidate is
// Missing. {p: {$nin: [...]}} is the negation. With hasNull false, a
// Missing candidate matches nothing: membership in an array that comes
// from an expansion, whose null never matches a missing field. MatchIn
// does not allocate for candidates whose keys fit in 64 bytes.
//
// Regular expressions among the elements are compared as values, not as
// the server's patterns: callers refuse such operands (see HasRegex).
func MatchIn(v Value, p Path, s Set, hasNull bool) bool {
	return Each(v, p, func(c Value) bool {
		if c.Type == 0 {
			return hasNull
		}
		return s.Has(c)
	})
}

// MatchExists reports whether v matches {p: {$exists: want}}: p exists
// when some candidate of Each(v, p) is not Missing.
func MatchExists(v Value, p Path, want bool) bool {
	return Each(v, p, func(c Value) bool { return c.Type != 0 }) == want
}

// MatchAll reports whether v matches {p: {$all: xs}} for the array xs:
// every element of xs matches as {p: element} does (MatchEq), so an array
// element of xs also matches a candidate equal to it; an empty xs matches
// nothing (the MongoDB manual, $all: "equivalent to an $and of the
// specified values"; jstests/core/query/all: [] matches no document). A
// Missing or non-array xs matches nothing.
func MatchAll(v Value, p Path, xs Value) bool {
	if !xs.IsArray() || xs.Len() == 0 {
		return false
	}
	all := true
	xs.Each(func(_ int, e Value) bool {
		all = MatchEq(v, p, e)
		return !all
	})
	return all
}

// MatchSize reports whether v matches {p: {$size: n}}: some candidate of
// EachWhole(v, p) is an array of n elements (an array nested in the
// array at p is not a candidate: {"a": [[1, 2]]} has size 1). A negative
// n matches nothing.
func MatchSize(v Value, p Path, n int64) bool {
	return n >= 0 && EachWhole(v, p, func(c Value) bool { return c.IsArray() && int64(c.Len()) == n })
}

// SizeOK returns the operand of $size as the server reads it: a number
// with an integral value from 0 to 2^31-1 (1, 1.0, {"$numberLong": "1"});
// ok is false for anything else, which the server refuses ("$size needs a
// number", "$size must be a whole number", "$size may not be negative",
// "$size must be representable as a 32-bit integer").
func SizeOK(x Value) (n int64, ok bool) {
	if !x.IsNumber() {
		return 0, false
	}
	n, ok = x.IntOK()
	return n, ok && n >= 0 && n <= math.MaxInt32
}

// Types is a set of BSON types, the operand of $type (TypesOK).
type Types [4]uint64

// has reports whether t is in the set.
func (ts *Types) has(t bson.Type) bool { return ts[t>>6]&(1<<(t&63)) != 0 }

func (ts *Types) add(t bson.Type) { ts[t>>6] |= 1 << (t & 63) }

// typeAlias is the BSON type of each $type alias but "number" (the
// MongoDB manual, $type, "Available Types").
var typeAlias = map[string]bson.Type{
	"double": bson.TypeDouble, "string": bson.TypeString, "object": bson.TypeEmbeddedDocument,
	"array": bson.TypeArray, "binData": bson.TypeBinary, "undefined": bson.TypeUndefined,
	"objectId": bson.TypeObjectID, "bool": bson.TypeBoolean, "date": bson.TypeDateTime,
	"null": bson.TypeNull, "regex": bson.TypeRegex, "dbPointer": bson.TypeDBPointer,
	"javascript": bson.TypeJavaScript, "symbol": bson.TypeSymbol, "javascriptWithScope": bson.TypeCodeWithScope,
	"int": bson.TypeInt32, "timestamp": bson.TypeTimestamp, "long": bson.TypeInt64,
	"decimal": bson.TypeDecimal128, "minKey": bson.TypeMinKey, "maxKey": bson.TypeMaxKey,
}

// aliasOf is typeAlias the other way round.
var aliasOf = func() (a [256]string) {
	for name, t := range typeAlias {
		a[byte(t)] = name
	}
	return a
}()

// TypeAlias returns the $type alias of t ("string", "objectId", "minKey"),
// the name messages give a BSON type; ok is false for a type that has
// none.
func TypeAlias(t bson.Type) (alias string, ok bool) {
	a := aliasOf[byte(t)]
	return a, a != ""
}

// TypesOK returns the types the operand of $type names: an alias
// ("string", "number" for the four numeric types), a type number (1 to
// 19, -1, 127, as any numeric type with an integral value) or a non-empty
// array of them; ok is false for anything else, which the server refuses.
func TypesOK(x Value) (ts Types, ok bool) {
	one := func(e Value) bool {
		if s, ok := e.StringOK(); ok {
			if s == "number" {
				ts.add(bson.TypeDouble)
				ts.add(bson.TypeInt32)
				ts.add(bson.TypeInt64)
				ts.add(bson.TypeDecimal128)
				return true
			}
			t, ok := typeAlias[s]
			if ok {
				ts.add(t)
			}
			return ok
		}
		n, ok := e.IntOK()
		switch {
		case ok && n >= 1 && n <= 19, ok && n == 127:
			ts.add(bson.Type(n))
		case ok && n == -1:
			ts.add(bson.TypeMinKey)
		default:
			return false
		}
		return true
	}
	if !x.IsArray() {
		return ts, one(x)
	}
	ok = x.Len() > 0
	x.Each(func(_ int, e Value) bool {
		ok = ok && one(e)
		return !ok
	})
	return ts, ok
}

// MatchType reports whether v matches {p: {$type: ts}}: some candidate of
// Each(v, p) has a type in ts, so an array matches "array" and the types
// of its elements; a Missing candidate has no type ({p: {$type: "null"}}
// does not match a missing p).
func MatchType(v Value, p Path, ts Types) bool {
	return Each(v, p, func(c Value) bool { return c.Type != 0 && ts.has(c.Type) })
}

// ModOK returns the operand of $mod as the server reads it (the MongoDB
// manual, $mod, since 5.1): an array of exactly two numbers, divisor and
// remainder, each truncated toward zero, neither NaN nor infinite, the
// divisor not zero; ok is false for anything else, which the server
// refuses.
func ModOK(x Value) (divisor, remainder int64, ok bool) {
	if !x.IsArray() || x.Len() != 2 {
		return 0, 0, false
	}
	d, okD := truncInt(x.Index(0))
	r, okR := truncInt(x.Index(1))
	if !okD || !okR || d == 0 {
		return 0, 0, false
	}
	return d, r, true
}

// MatchMod reports whether v matches {p: {$mod: [divisor, remainder]}}:
// some numeric candidate of Each(v, p), truncated toward zero, leaves
// remainder when divided by divisor, with the sign of the dividend
// (C's %). NaN, infinite and out-of-range doubles and decimals match
// nothing.
func MatchMod(v Value, p Path, divisor, remainder int64) bool {
	return Each(v, p, func(c Value) bool {
		n, ok := truncInt(c)
		if !ok {
			return false
		}
		if divisor == -1 { // math.MinInt64 % -1 overflows; every n % -1 is 0
			return remainder == 0
		}
		return n%divisor == remainder
	})
}

// truncInt truncates a number toward zero to an int64; ok is false for a
// value that is not a number, NaN, infinite or out of range.
func truncInt(v Value) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return intOf(v)
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		if f != f || f >= 0x1p63 || f < -0x1p63 {
			return 0, false
		}
		return int64(f), true
	case bson.TypeDecimal128:
		var d dec
		if !d.set(v) || d.kind != decFinite && d.kind != decZero {
			return 0, false
		}
		k := d.n + d.exp // digits before the decimal point
		if d.kind == decZero || k <= 0 {
			return 0, true
		}
		if k > 19 {
			return 0, false
		}
		var u uint64
		for i := 0; i < k; i++ {
			u *= 10
			if i < d.n {
				u += uint64(d.digits[i] - '0')
			}
		}
		if d.neg && u <= 1<<63 {
			return int64(-u), true
		}
		if !d.neg && u < 1<<63 {
			return int64(u), true
		}
	}
	return 0, false
}

// MatchCmp reports whether v matches {p: {op: x}}: some candidate of
// Each(v, p) compares to x as op requires. Comparison is type bracketed:
// only candidates of x's type class (all numbers are one class) are
// compared, so {$gt: 5} never matches a string. NaN equals NaN under $gte
// and $lte but is otherwise unordered. Exceptions, as in the server: a
// null x matches null and Missing candidates under $gte and $lte and
// nothing under $gt and $lt; a MinKey x under $gt/$gte and a MaxKey x
// under $lt/$lte match every candidate that is not Missing. An array
// candidate is compared whole, which only an array, MinKey or MaxKey x
// can match (its elements are candidates of their own, so an array
// matches when any element does). A Missing x matches nothing.
func MatchCmp(v Value, p Path, op CmpOp, x Value) bool {
	if x.Type == 0 {
		return false
	}
	return Each(v, p, func(c Value) bool { return cmpOne(c, op, x) })
}

func cmpOne(c Value, op CmpOp, v Value) bool {
	if v.Type == bson.TypeNull {
		return isNullish(c) && (op == Gte || op == Lte)
	}
	if c.Type == 0 {
		return false
	}
	cc, cv := class(c.Type), class(v.Type)
	if cc != cv {
		switch {
		case cv == classMinKey:
			return op == Gt || op == Gte
		case cv == classMaxKey:
			return op == Lt || op == Lte
		}
		return false
	}
	if cc == classNumber {
		// NaN equals NaN but is neither above nor below any number.
		if cn, vn := isNaN(c), isNaN(v); cn || vn {
			return cn && vn && (op == Gte || op == Lte)
		}
	}
	r := Compare(c, v)
	switch op {
	case Gt:
		return r > 0
	case Gte:
		return r >= 0
	case Lt:
		return r < 0
	case Lte:
		return r <= 0
	}
	return false
}

func isNaN(v Value) bool {
	switch v.Type {
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		return f != f
	case bson.TypeDecimal128:
		return len(v.Data) == 16 && (v.Data[15]>>2)&0x1f == 0x1f
	}
	return false
}

// HasRegex reports whether v is a regular expression, or an array with
// one among its elements: the operands the server reads as patterns to
// match strings with (PCRE) in an equality, $in and $nin, which this
// package does not implement (MatchEq and MatchIn compare them as
// values). Callers refuse what HasRegex reports (see the package
// documentation). A regex deeper inside, in an embedded document or a
// nested array, is compared as a value by the server too, as are regexes
// stored in documents (candidates, not operands). HasRegex does not
// allocate.
func HasRegex(v Value) bool {
	switch v.Type {
	case bson.TypeRegex:
		return true
	case bson.TypeArray:
		found := false
		v.Each(func(_ int, e Value) bool {
			found = e.Type == bson.TypeRegex
			return found
		})
		return found
	}
	return false
}

// Refusal says why an operand cannot be compared as a value the way the
// server would compare it (see CheckOperand). Its String is stable.
type Refusal uint8

// The refusals of CheckOperand.
const (
	// Comparable: the server compares the operand as a value.
	Comparable Refusal = iota
	// RefuseRegex: a regex, or an array with a regex element: a pattern
	// (HasRegex).
	RefuseRegex
	// RefuseOperator: a document whose first field name starts with
	// "$" and that is not a DBRef, or an array with such an element:
	// the server reads it as operators.
	RefuseOperator
	// RefuseUndefined: undefined anywhere in the operand.
	RefuseUndefined
)

// String returns "comparable", "regex", "operator" or "undefined".
func (r Refusal) String() string {
	switch r {
	case Comparable:
		return "comparable"
	case RefuseRegex:
		return "regex"
	case RefuseOperator:
		return "operator"
	case RefuseUndefined:
		return "undefined"
	}
	return "invalid"
}

// CheckOperand reports whether v, as the operand of an equality, $ne,
// $in, $nin or range comparison, is a value the server reads as something
// else than a value or refuses, and which this package therefore cannot
// be trusted to match as the server would (callers refuse it; see the
// package documentation). The server (mongodb/mongo
// src/mongo/db/matcher/expression_parser.cpp, expression_leaf.cpp):
//
//   - reads a regex operand, or a regex element of $in/$nin, as a pattern
//     (RefuseRegex, HasRegex);
//   - refuses an element of $in/$nin that is a document whose first field
//     name starts with "$" unless it holds $ref and $id (a DBRef):
//     "cannot nest $ under $in" (parseInExpression, isExpressionDocument);
//     as the document a field is matched with, {"f": {"$regex": "o"}}, it
//     is an operator document. An equality with such an operand, or an
//     array holding one (whose elements are $in elements in membership),
//     is RefuseOperator. Deeper, inside an embedded document or a nested
//     array, such a document is compared as a value;
//   - refuses comparisons to undefined: "cannot compare to undefined"
//     (ComparisonMatchExpression) and "InMatchExpression equality cannot
//     be undefined". RefuseUndefined is reported for undefined anywhere in
//     v, deeper too, where the server would compare it (fail closed: the
//     8.0 null/undefined change makes undefined a value to avoid).
//
// CheckOperand does not allocate.
func CheckOperand(v Value) Refusal {
	if hasUndefined(v) {
		return RefuseUndefined
	}
	r := checkOne(v)
	if r == Comparable && v.Type == bson.TypeArray {
		v.Each(func(_ int, e Value) bool {
			r = checkOne(e)
			return r != Comparable
		})
	}
	return r
}

func checkOne(v Value) Refusal {
	switch v.Type {
	case bson.TypeRegex:
		return RefuseRegex
	case bson.TypeEmbeddedDocument:
		if isOperatorDocument(v) {
			return RefuseOperator
		}
	}
	return Comparable
}

// isOperatorDocument reports whether the document v is an expression
// document for the server's query parser: not empty, its first field name
// starts with "$", and it is not a DBRef (it does not hold both $ref and
// $id; expression_parser.cpp isDBRefDocument without incomplete DBRefs).
func isOperatorDocument(v Value) bool {
	it := newIter(v.Data)
	k, _, ok := it.next()
	if !ok || len(k) == 0 || k[0] != '$' {
		return false
	}
	hasRef, hasID := false, false
	for ok {
		switch string(k) {
		case "$ref":
			hasRef = true
		case "$id":
			hasID = true
		}
		k, _, ok = it.next()
	}
	return !(hasRef && hasID)
}

// hasUndefined reports whether v is undefined or holds one at any depth.
func hasUndefined(v Value) bool {
	switch v.Type {
	case bson.TypeUndefined:
		return true
	case bson.TypeArray, bson.TypeEmbeddedDocument:
		it := newIter(v.Data)
		for {
			_, e, ok := it.next()
			if !ok {
				return false
			}
			if hasUndefined(e) {
				return true
			}
		}
	}
	return false
}
