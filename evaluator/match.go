package evaluator

import (
	"errors"
	"fmt"

	"github.com/rulegate/rulegate/value"
)

// ErrRegex is the error (and ReasonError denial) of a decision whose
// comparison has a regular expression as its operand, or as an element
// of its array operand (value.HasRegex): from a claim, a request value, a
// function or a stored document. MongoDB
// reads a regex in an equality, $in or $nin as a pattern (PCRE), which
// rulegate does not implement; comparing it as a value would disagree
// with the server. ReadFilter and WriteFilter return it rather than send
// such an operand to the server. Literal regexes in rules are refused
// earlier, by rules.LoadApp (code rules/regex).
var ErrRegex = errors.New("evaluator: a regular expression operand cannot be matched (MongoDB reads it as a pattern)")

// ErrOperator is the error (and ReasonError denial) of a decision whose
// comparison has, as its operand or an element of its array operand, a
// document whose first field name starts with "$" and that is not a DBRef
// (value.CheckOperand, value.RefuseOperator): from a claim (the legacy
// {"$regex": ..., "$options": ...} form is such a document), a request
// value, a function or a stored document. MongoDB reads such a document
// as operators and refuses it in $in and $nin ("cannot nest $ under
// $in"), so Evaluate cannot decide what the server would; ReadFilter and
// WriteFilter return it rather than send such an operand.
var ErrOperator = errors.New("evaluator: a document operand starting with a $ field cannot be matched (MongoDB reads it as operators)")

// ErrUndefined is the error (and ReasonError denial) of a decision whose
// comparison operand holds undefined, anywhere in it (value.CheckOperand,
// value.RefuseUndefined): MongoDB refuses comparisons to undefined
// ("cannot compare to undefined"). ReadFilter and WriteFilter return it
// rather than send such an operand.
var ErrUndefined = errors.New("evaluator: an operand holding undefined cannot be matched (MongoDB refuses comparisons to undefined)")

// regexErr is the ErrRegex of operand o, with where the rules use it.
func regexErr(o *operand) error { return operandErr(ErrRegex, o) }

// refusalErr is the error of operand o whose value CheckOperand refuses
// with r (ErrRegex, ErrOperator or ErrUndefined); nil for Comparable.
func refusalErr(o *operand, r value.Refusal) error {
	switch r {
	case value.RefuseRegex:
		return regexErr(o)
	case value.RefuseOperator:
		return operandErr(ErrOperator, o)
	case value.RefuseUndefined:
		return operandErr(ErrUndefined, o)
	}
	return nil
}

// operandErr is sentinel for operand o, with where the rules use it.
func operandErr(sentinel error, o *operand) error {
	if pos := o.at.FileName(); pos != "" {
		p := o.at.Pos()
		return fmt.Errorf("%w: %s:%d:%d: %s %s", sentinel, pos, p.Line, p.Col, o.at.Ptr, o.text)
	}
	return fmt.Errorf("%w: %s %s", sentinel, o.at.Ptr, o.text)
}

// truthy is how rules' $exists reads its operand: booleans, and numbers
// (true unless zero); any other operand (a claim holding a string, say, or
// a missing one) decides the comparison as a missing operand does: false,
// true under $nor, unknown in a filter's apply_when (fail closed). The
// server reads every other value as true but null (mql.Match follows it):
// the filters built here only ever send a boolean.
func truthy(v value.Value) (want, ok bool) {
	if b, isB := v.BoolOK(); isB {
		return b, true
	}
	if v.IsNumber() {
		i, isInt := v.IntOK()
		if isInt {
			return i != 0, true
		}
		return true, true
	}
	return false, false
}
