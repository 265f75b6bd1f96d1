package mql

import (
	"errors"
	"strconv"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// ErrUnsupportedFilter is wrapped by the errors of Match for a filter it
// cannot decide as the server would: an operator it does not implement,
// an operand the server does not compare as a value (value.CheckOperand),
// or an operand of the wrong shape. errors.As finds the *source.Error
// with the JSON pointer into the filter.
var ErrUnsupportedFilter = errors.New("mql: filter not supported by Match")

// Match reports whether doc matches the query filter as the server would,
// for the operators rulegate's filters are made of: $and, $or and $nor at
// the top level, and on a field a literal (equality) or an operator
// document of $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $type,
// $all, $size, $mod, $not, $elemMatch (both forms; an element that is
// an array never matches) and $regex with $options (the subset of
// patterns value.CompileRegex accepts). Values compare with the value
// package's MongoDB semantics (value.MatchEq, MatchIn, MatchCmp,
// MatchExists, MatchAll, MatchSize, MatchType, MatchMod, MatchRegex): an
// array field matches when an
// element does, {f: null} matches a missing f, comparisons are
// type-bracketed.
//
// Match never guesses. Any other operator, an operand value.CheckOperand
// refuses (a regular expression, which the server reads as a pattern; an
// operator document; undefined), and an operand of the wrong shape ($in
// or $all of a non-array, $size of anything but a whole number, $and of an empty array, an unknown $type alias) are an
// error wrapping ErrUnsupportedFilter, whatever doc holds: the whole
// filter is checked, not only the clauses that decide. A malformed filter
// wraps ErrInvalidQuery (query/malformed), a malformed doc
// ErrInvalidDocument (document/malformed); a nil doc has no fields.
func Match(filter, doc bson.Raw) (bool, error) {
	if err := bsoncore.Document(filter).Validate(); err != nil {
		return false, newChecker(ErrInvalidQuery).fail(CodeQueryMalformed, "filter is not a BSON document: "+err.Error())
	}
	if doc == nil {
		doc = emptyDoc
	} else if err := bsoncore.Document(doc).Validate(); err != nil {
		return false, newChecker(ErrInvalidDocument).fail(CodeDocumentMalformed, "document is not a BSON document: "+err.Error())
	}
	m := &matcher{doc: value.FromDocument(doc)}
	return m.query(filter, "")
}

// matcher matches one document; every clause is evaluated, so that an
// unsupported one is reported whatever the document holds.
type matcher struct{ doc value.Value }

func unsupported(ptr source.Pointer, msg string) error {
	return &codedError{err: &source.Error{Ptr: ptr, Msg: msg}, kind: ErrUnsupportedFilter}
}

// query matches a query document: the AND of its clauses.
func (m *matcher) query(q []byte, ptr source.Pointer) (bool, error) {
	all := true
	err := elems(q, func(k []byte, v value.Value) error {
		key := string(k)
		ok, err := m.clause(key, v, ptr.Key(key))
		all = all && ok
		return err
	})
	return all && err == nil, err
}

func (m *matcher) clause(key string, v value.Value, ptr source.Pointer) (bool, error) {
	switch key {
	case "$and", "$or", "$nor":
		return m.logical(key, v, ptr)
	}
	if len(key) > 0 && key[0] == '$' {
		return false, unsupported(ptr, "operator "+key+" is not supported by Match")
	}
	p := value.ParsePath(key)
	if isOperators(v) {
		return m.operators(p, v, ptr)
	}
	if err := refuseOperand(v, ptr); err != nil {
		return false, err
	}
	return value.MatchEq(m.doc, p, v), nil
}

// isOperators reports whether the value of a field is an operator
// document: its first field name starts with "$" and it is not a DBRef
// (which value.CheckOperand, alone, finds comparable).
func isOperators(v value.Value) bool {
	return v.IsDocument() && firstKeyIsOperator(v.Data) && value.CheckOperand(v) != value.Comparable
}

func (m *matcher) logical(op string, v value.Value, ptr source.Pointer) (bool, error) {
	bad := unsupported(ptr, op+" expects a non-empty array of documents")
	if !v.IsArray() || v.Len() == 0 {
		return false, bad
	}
	some, all, i := false, true, 0
	err := elems(v.Data, func(_ []byte, e value.Value) error {
		at := ptr.Index(i)
		i++
		if !e.IsDocument() {
			return unsupported(at, op+" expects a non-empty array of documents")
		}
		ok, err := m.query(e.Data, at)
		some, all = some || ok, all && ok
		return err
	})
	if err != nil {
		return false, err
	}
	switch op {
	case "$and":
		return all, nil
	case "$or":
		return some, nil
	}
	return !some, nil
}

// operators matches an operator document on path p: the AND of its
// operators.
func (m *matcher) operators(p value.Path, ops value.Value, ptr source.Pointer) (bool, error) {
	all := true
	err := elems(ops.Data, func(k []byte, v value.Value) error {
		op := string(k)
		at := ptr.Key(op)
		if len(op) == 0 || op[0] != '$' {
			return unsupported(at, strconv.Quote(op)+" is not an operator: an operator document holds only operators")
		}
		var ok bool
		var err error
		switch op {
		case "$regex":
			ok, err = m.regex(p, v, ops, at)
		case "$options":
			if ops.Field("$regex").IsMissing() {
				return unsupported(at, "$options without $regex")
			}
			ok = true // read with $regex
		default:
			ok, err = m.operator(p, op, v, at)
		}
		all = all && ok
		return err
	})
	return all && err == nil, err
}

// elemMatch matches {p: {$elemMatch: v}}: some element of an array at p
// (value.EachWhole) satisfies v, the operator form (its first key an
// operator other than $and, $or, $nor) tested on the element as the
// value, the query form on a document element. An element that is itself
// an array never matches (the server tests it whole, or as a document of
// its indexes, which rulegate does not; see package evaluator). v is first
// checked on {}, so that its errors do not depend on the document.
func (m *matcher) elemMatch(p value.Path, v value.Value, ptr source.Pointer) (bool, error) {
	if !v.IsDocument() {
		return false, unsupported(ptr, "$elemMatch expects a document, got "+typeName(v.Type))
	}
	valueForm := false
	if first, err := bson.Raw(v.Data).IndexErr(0); err == nil && firstKeyIsOperator(v.Data) {
		switch first.Key() {
		case "$and", "$or", "$nor":
		default:
			valueForm = true
		}
	}
	test := func(e value.Value) (bool, error) {
		sub := &matcher{doc: e}
		if valueForm {
			return sub.operators(nil, v, ptr)
		}
		return sub.query(v.Data, ptr)
	}
	if _, err := test(value.FromDocument(emptyDoc)); err != nil {
		return false, err
	}
	return value.EachWhole(m.doc, p, func(a value.Value) bool {
		found := false
		a.Each(func(_ int, e value.Value) bool {
			if e.IsArray() || !valueForm && !e.IsDocument() {
				return false
			}
			found, _ = test(e)
			return found
		})
		return found
	}), nil
}

// regex matches {$regex: v, $options: ...} of the operator document ops
// on path p: v a string, the options a string, both as value.CompileRegex
// accepts them.
func (m *matcher) regex(p value.Path, v, ops value.Value, ptr source.Pointer) (bool, error) {
	pattern, ok := v.StringOK()
	if !ok {
		return false, unsupported(ptr, "$regex expects a string, got "+typeName(v.Type))
	}
	options := ""
	if o := ops.Field("$options"); !o.IsMissing() {
		if options, ok = o.StringOK(); !ok {
			return false, unsupported(ptr, "$options expects a string, got "+typeName(o.Type))
		}
	}
	re, err := value.CompileRegex(pattern, options)
	if err != nil {
		return false, unsupported(ptr, err.Error())
	}
	return value.MatchRegex(m.doc, p, re), nil
}

func (m *matcher) operator(p value.Path, op string, v value.Value, ptr source.Pointer) (bool, error) {
	if op == "$not" {
		if !isOperators(v) {
			return false, unsupported(ptr, "$not expects a document of operators, got "+typeName(v.Type))
		}
		ok, err := m.operators(p, v, ptr)
		return !ok, err
	}
	if op == "$elemMatch" {
		return m.elemMatch(p, v, ptr)
	}
	if err := refuseOperand(v, ptr); err != nil {
		return false, err
	}
	switch op {
	case "$eq":
		return value.MatchEq(m.doc, p, v), nil
	case "$ne":
		return !value.MatchEq(m.doc, p, v), nil
	case "$gt":
		return value.MatchCmp(m.doc, p, value.Gt, v), nil
	case "$gte":
		return value.MatchCmp(m.doc, p, value.Gte, v), nil
	case "$lt":
		return value.MatchCmp(m.doc, p, value.Lt, v), nil
	case "$lte":
		return value.MatchCmp(m.doc, p, value.Lte, v), nil
	case "$in", "$nin":
		if !v.IsArray() {
			return false, unsupported(ptr, op+" expects an array, got "+typeName(v.Type))
		}
		var set []value.Value
		hasNull := false
		v.Each(func(_ int, e value.Value) bool {
			set = append(set, e)
			hasNull = hasNull || e.IsNull()
			return false
		})
		in := value.MatchIn(m.doc, p, value.NewSet(set...), hasNull)
		return in == (op == "$in"), nil
	case "$all":
		if !v.IsArray() {
			return false, unsupported(ptr, "$all expects an array, got "+typeName(v.Type))
		}
		return value.MatchAll(m.doc, p, v), nil
	case "$mod":
		d, r, ok := value.ModOK(v)
		if !ok {
			return false, unsupported(ptr, "$mod expects [divisor, remainder], two numbers and a divisor other than 0")
		}
		return value.MatchMod(m.doc, p, d, r), nil
	case "$size":
		n, ok := value.SizeOK(v)
		if !ok {
			return false, unsupported(ptr, "$size expects a non-negative integer, got "+describe(v))
		}
		return value.MatchSize(m.doc, p, n), nil
	case "$exists":
		return value.MatchExists(m.doc, p, truthy(v)), nil
	case "$type":
		types, ok := value.TypesOK(v)
		if !ok {
			return false, unsupported(ptr, "$type expects a BSON type alias or number, or an array of them")
		}
		return value.MatchType(m.doc, p, types), nil
	}
	return false, unsupported(ptr, "operator "+op+" is not supported by Match")
}

// refuseOperand refuses the operands the server does not compare as values.
func refuseOperand(v value.Value, ptr source.Pointer) error {
	switch r := value.CheckOperand(v); r {
	case value.Comparable:
		return nil
	case value.RefuseRegex:
		return unsupported(ptr, "a regular expression operand is a pattern on the server, which Match does not implement")
	default:
		return unsupported(ptr, "the server does not compare the operand as a value ("+r.String()+")")
	}
}
