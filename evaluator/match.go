package evaluator

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
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

// The helpers below apply MongoDB query semantics (value.MatchEq and
// friends) to a document held as a value.Value, through value.EachValue:
// unlike value.Raw, they never box the document in an interface, so the
// per-document path does not allocate.

func isNullish(c value.Value) bool { return c.Type == 0 || c.Type == bson.TypeNull }

// each is value.Each over a document value, with the first path
// component found by fieldOf.
func each(d value.Value, p value.Path, fn func(value.Value) bool) bool {
	if len(p) == 0 {
		return false
	}
	return value.EachValue(fieldOf(d, p[0]), p[1:], fn)
}

// docEq is value.MatchEq over a document value.
func docEq(d value.Value, p value.Path, v value.Value) bool {
	if v.IsMissing() {
		return false
	}
	if v.IsNull() {
		return each(d, p, isNullish)
	}
	return each(d, p, func(c value.Value) bool { return value.Equal(c, v) })
}

// docIn is value.MatchIn over a document value.
func docIn(d value.Value, p value.Path, s value.Set, hasNull bool) bool {
	return each(d, p, func(c value.Value) bool {
		if c.IsMissing() {
			return hasNull
		}
		return s.Has(c)
	})
}

// docExists is value.MatchExists over a document value.
func docExists(d value.Value, p value.Path, want bool) bool {
	return each(d, p, func(c value.Value) bool { return !c.IsMissing() }) == want
}

// docCmp is value.MatchCmp over a document value.
func docCmp(d value.Value, p value.Path, op value.CmpOp, v value.Value) bool {
	if v.IsMissing() {
		return false
	}
	return each(d, p, func(c value.Value) bool { return cmpCand(c, op, v) })
}

// cmpCand compares one candidate as the server does: an array candidate is
// compared as a whole (its elements are candidates of their own).
func cmpCand(c value.Value, op value.CmpOp, v value.Value) bool {
	if !c.IsArray() {
		return value.CmpValue(c, op, v)
	}
	switch v.Type {
	case bson.TypeNull:
		return false
	case bson.TypeMinKey:
		return op == value.Gt || op == value.Gte
	case bson.TypeMaxKey:
		return op == value.Lt || op == value.Lte
	case bson.TypeArray:
		r := value.Compare(c, v)
		switch op {
		case value.Gt:
			return r > 0
		case value.Gte:
			return r >= 0
		case value.Lt:
			return r < 0
		case value.Lte:
			return r <= 0
		}
	}
	return false
}

// flip returns the operator that holds for (b, a) when op holds for (a, b).
func flip(op value.CmpOp) value.CmpOp {
	switch op {
	case value.Gt:
		return value.Lt
	case value.Gte:
		return value.Lte
	case value.Lt:
		return value.Gt
	case value.Lte:
		return value.Gte
	}
	return op
}

// resolve returns the plain value at path p of d (no array traversal but
// numeric indexes), Missing when absent: value.ResolveValue.
func resolve(d value.Value, p value.Path) value.Value { return value.ResolveValue(d, p) }

// truthy is how $exists reads its operand: booleans, and numbers other
// than zero.
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

// fieldOf returns the top-level field name of the document value d, or
// Missing: value.Value.Field with the key compared in place while
// scanning (the per-document hot path). Malformed bytes read as Missing.
func fieldOf(d value.Value, name string) value.Value {
	if d.Type != bson.TypeEmbeddedDocument || len(d.Data) < 5 {
		return value.Value{}
	}
	b := d.Data
	n := int(binary.LittleEndian.Uint32(b))
	if n < 5 || n > len(b) {
		return value.Value{}
	}
	b = b[4 : n-1]
	for len(b) > 1 {
		t := bson.Type(b[0])
		b = b[1:]
		match := len(b) > len(name) && b[len(name)] == 0 && string(b[:len(name)]) == name
		if match {
			b = b[len(name)+1:]
		} else {
			k := 0
			for k < len(b) && b[k] != 0 {
				k++
			}
			if k == len(b) {
				return value.Value{}
			}
			b = b[k+1:]
		}
		sz := valueLen(t, b)
		if sz < 0 || sz > len(b) {
			return value.Value{}
		}
		if match {
			return value.Value{Type: t, Data: b[:sz:sz]}
		}
		b = b[sz:]
	}
	return value.Value{}
}

// valueLen is the length of the value of type t at the start of b, or -1
// (as the value package computes it).
func valueLen(t bson.Type, b []byte) int {
	switch t {
	case bson.TypeDouble, bson.TypeDateTime, bson.TypeInt64, bson.TypeTimestamp:
		return 8
	case bson.TypeString, bson.TypeJavaScript, bson.TypeSymbol:
		if len(b) >= 4 {
			if n := 4 + int(int32(binary.LittleEndian.Uint32(b))); n >= 5 {
				return n
			}
		}
	case bson.TypeEmbeddedDocument, bson.TypeArray, bson.TypeCodeWithScope:
		if len(b) >= 4 {
			if n := int(int32(binary.LittleEndian.Uint32(b))); n >= 5 {
				return n
			}
		}
	case bson.TypeBinary:
		if len(b) >= 4 {
			if n := 5 + int(int32(binary.LittleEndian.Uint32(b))); n >= 5 {
				return n
			}
		}
	case bson.TypeUndefined, bson.TypeNull, bson.TypeMinKey, bson.TypeMaxKey:
		return 0
	case bson.TypeObjectID:
		return 12
	case bson.TypeBoolean:
		return 1
	case bson.TypeRegex:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			if j := bytes.IndexByte(b[i+1:], 0); j >= 0 {
				return i + j + 2
			}
		}
	case bson.TypeDBPointer:
		if len(b) >= 4 {
			if n := 4 + int(int32(binary.LittleEndian.Uint32(b))) + 12; n >= 17 {
				return n
			}
		}
	case bson.TypeInt32:
		return 4
	case bson.TypeDecimal128:
		return 16
	}
	return -1
}
