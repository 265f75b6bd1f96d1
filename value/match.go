package value

import "go.mongodb.org/mongo-driver/v2/bson"

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

// MatchEq reports whether doc matches {p: v} (equally {p: {$eq: v}}): some
// candidate of Each(doc, p) equals v. When v is an array, a candidate equal
// to the whole array matches, as does an array element that is an equal
// array. When v is null, Missing candidates match as well (MongoDB 8.0
// semantics: undefined does NOT match null). A Missing v matches nothing.
// {p: {$ne: v}} is !MatchEq(doc, p, v), which matches documents without
// p. MatchEq does not allocate.
//
// A regular-expression operand is compared as a value here, never matched
// against strings as the server does: callers refuse such operands (see
// HasRegex).
func MatchEq(doc Document, p Path, v Value) bool {
	if v.Type == 0 {
		return false
	}
	if v.Type == bson.TypeNull {
		return Each(doc, p, isNullish)
	}
	return Each(doc, p, func(c Value) bool { return Equal(c, v) })
}

// EqValue is MatchEq for a plain value on the left, such as the result of
// an expansion ({"%%user.custom_data.roles": "admin"}): left matches when
// it equals right or, being an array, has an element equal to right. A
// null right matches a Missing or null left.
func EqValue(left, right Value) bool {
	if right.Type == 0 {
		return false
	}
	if right.Type == bson.TypeNull {
		return walk(left, nil, isNullish)
	}
	return walk(left, nil, func(c Value) bool { return Equal(c, right) })
}

func isNullish(c Value) bool { return c.Type == 0 || c.Type == bson.TypeNull }

// MatchIn reports whether doc matches {p: {$in: [...]}} for the set s of
// the operand's elements: some candidate of Each(doc, p) is in s, or
// hasNull (null is one of the elements) and some candidate is Missing.
// {p: {$nin: [...]}} is the negation. MatchIn does not allocate for
// candidates whose keys fit in 64 bytes.
//
// Regular expressions among the elements are compared as values, not as
// the server's patterns: callers refuse such operands (see HasRegex).
func MatchIn(doc Document, p Path, s Set, hasNull bool) bool {
	return Each(doc, p, func(c Value) bool { return inSet(c, s, hasNull) })
}

// InValue is MatchIn for a plain value on the left.
func InValue(left Value, s Set, hasNull bool) bool {
	return walk(left, nil, func(c Value) bool { return inSet(c, s, hasNull) })
}

func inSet(c Value, s Set, hasNull bool) bool {
	if c.Type == 0 {
		return hasNull
	}
	return s.Has(c)
}

// MatchExists reports whether doc matches {p: {$exists: want}}: p exists
// when some candidate of Each(doc, p) is not Missing.
func MatchExists(doc Document, p Path, want bool) bool {
	exists := Each(doc, p, func(c Value) bool { return c.Type != 0 })
	return exists == want
}

// MatchCmp reports whether doc matches {p: {op: v}}: some candidate of
// Each(doc, p) compares to v as op requires. Comparison is type bracketed:
// only candidates of v's type class (all numbers are one class) are
// compared, so {$gt: 5} never matches a string. NaN equals NaN under $gte
// and $lte but is otherwise unordered. Exceptions, as in the server: a null v matches null and Missing candidates under $gte and $lte
// and nothing under $gt and $lt; a MinKey v under $gt/$gte and a MaxKey v
// under $lt/$lte match every candidate that is not Missing. Array
// candidates yield their elements, so an array matches when any element
// does; the whole array is compared only with an array v. A Missing v
// matches nothing. MatchCmp does not allocate.
func MatchCmp(doc Document, p Path, op CmpOp, v Value) bool {
	if v.Type == 0 {
		return false
	}
	return Each(doc, p, func(c Value) bool { return cmpOne(c, op, v) })
}

// CmpValue is MatchCmp for a plain value on the left.
func CmpValue(left Value, op CmpOp, right Value) bool {
	if right.Type == 0 {
		return false
	}
	return walk(left, nil, func(c Value) bool { return cmpOne(c, op, right) })
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
