package evaluator

import (
	"strings"

	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Type drift: a request value (a claim, most often a custom data field)
// whose type is not the one the operator it feeds needs. The decision is
// already fail closed (refusedOperand); the notes make it visible.

// shapeWanted says what the operand of a condition of kind k must be,
// when k needs a shape: "" and false for the operators that take any
// value.
func shapeWanted(k condKind) (string, bool) {
	switch k {
	case cIn, cNin, cAll:
		return "an array", true
	case cSize:
		return "a whole number from 0 to 2^31-1", true
	case cType:
		return "a type alias or number", true
	case cMod:
		return "[divisor, remainder] with a divisor other than 0", true
	}
	return "", false
}

// drifted reports whether v, the value of c's request operand, is
// present but of a shape c's operator refuses. A missing or null value is
// not drift (it is a missing operand, see doc.go), nor is an $all array
// holding a null from an expansion (a null claim, not a type).
func drifted(c *cnode, v value.Value) bool {
	if v.IsMissing() || v.IsNull() {
		return false
	}
	switch c.kind {
	case cIn, cNin, cAll:
		return !v.IsArray()
	}
	return refusedOperand(c, v)
}

// driftNote returns the note of condition c, in the file of the rules
// being bound, when its request operand drifted for b.
func (b *Bound) driftNote(c *cnode) (Note, bool) {
	o := c.arg
	if b.opErr != nil && b.opErr[o.slot] != nil {
		return Note{}, false // a failing value is an error, not drift
	}
	v := b.vals[o.slot]
	if !drifted(c, v) {
		return Note{}, false
	}
	want, _ := shapeWanted(c.kind)
	var msg strings.Builder
	msg.WriteString(c.op)
	msg.WriteString(" expects ")
	msg.WriteString(want)
	msg.WriteString(", got ")
	msg.WriteString(typeAlias(v.Type))
	msg.WriteString(" from ")
	msg.WriteString(o.text)
	return Note{File: c.at.FileName(), Ptr: c.at.Ptr, Code: CodeTypeDrift, Msg: msg.String()}, true
}

// bindNotes records the notes of the bound request (Bind).
func (b *Bound) bindNotes() {
	for _, c := range b.c.drift {
		if n, ok := b.driftNote(c); ok {
			b.notes = append(b.notes, n)
		}
	}
}

// Notes returns the notes of the request's values under the rules of the
// Bound's namespace, whatever the document: a claim of the wrong type
// where an array is expected (CodeTypeDrift), in the order of the rules.
// Every Decision of the Bound carries them, and ReadFilter and
// WriteFilter built from it are decided with them (as with a missing
// operand); a caller that only builds filters (a gated Find) reports them
// from here. nil when none; callers must not modify them.
func (b *Bound) Notes() []Note { return b.notes }

// traceDrift appends to a match step's detail the notes of the
// conditions of c that drifted.
func (ec *evalCtx) traceDrift(b *strings.Builder, c *cnode) {
	switch c.kind {
	case cAnd, cOr, cNor:
		for _, k := range c.kids {
			ec.traceDrift(b, k)
		}
		return
	}
	if ec.b == nil || c.arg == nil || c.arg.kind != oReq {
		return
	}
	if _, shaped := shapeWanted(c.kind); !shaped {
		return
	}
	if n, ok := ec.b.driftNote(c); ok {
		b.WriteString("; note: ")
		b.WriteString(n.Msg)
		b.WriteString(" (")
		b.WriteString(n.Code)
		b.WriteString(")")
	}
}

// typeAlias is the $type alias of a BSON type (value.TypeAlias), else
// the driver's name for it.
func typeAlias(t bson.Type) string {
	if a, ok := value.TypeAlias(t); ok {
		return a
	}
	return t.String()
}
