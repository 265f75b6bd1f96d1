package evaluator

import (
	"fmt"
	"strings"

	"github.com/rulegate/rulegate/value"
)

// traceMatch records a match with the concrete values compared:
// `%%user.custom_data.team = "red" vs %%root.team = "blue"`. It runs only
// when a trace is being recorded.
func (ec *evalCtx) traceMatch(n *node, r bool) {
	var b strings.Builder
	b.WriteString(ec.describe(n.left, true))
	ec.describeCond(&b, n.cond)
	ec.traceDrift(&b, n.cond)
	ec.step(n.at, "match", b.String(), r)
}

func (ec *evalCtx) describeCond(b *strings.Builder, c *cnode) {
	switch c.kind {
	case cAnd, cOr, cNor:
		op := c.op
		if op == "" {
			op = "$and"
		}
		fmt.Fprintf(b, " %s [", op)
		for i, k := range c.kids {
			if i > 0 {
				b.WriteString(",")
			}
			ec.describeCond(b, k)
		}
		b.WriteString(" ]")
		return
	case cElemMatch:
		b.WriteString(" $elemMatch")
		if c.q == nil {
			ec.describeCond(b, c.kids[0])
		} else {
			b.WriteString(" (query)")
		}
		return
	case cEq:
		b.WriteString(" vs ")
	default:
		b.WriteString(" ")
		b.WriteString(c.op)
		b.WriteString(" ")
	}
	b.WriteString(ec.describe(c.arg, false))
}

// describe renders an operand with its value: a literal as itself, an
// expansion as `%%user.id = "u1"`.
func (ec *evalCtx) describe(o *operand, left bool) string {
	if o.kind == oConst && !o.fromExp {
		return o.text
	}
	var v value.Value
	switch {
	case o.kind == oDocPath && len(o.path) == 0:
		v = ec.doc(o.sel)
		if !v.IsMissing() {
			return o.text + " = <document>"
		}
	case o.kind == oDocPath:
		d := ec.doc(o.sel)
		if !d.IsMissing() {
			v = value.Resolve(d, o.path)
		}
	default:
		// A value that failed (a %function that threw) says why.
		if o.kind == oReq && ec.b != nil && ec.b.opErr != nil && ec.b.opErr[o.slot] != nil {
			return o.text + " = error: " + ec.b.opErr[o.slot].Error()
		}
		saved := ec.trace
		ec.trace = nil
		if o.kind == oDocBuild {
			if _, err := ec.build(o); err != nil {
				ec.trace = saved
				ec.fail(err)
				return o.text + " = error: " + err.Error()
			}
		}
		v = ec.val(o)
		ec.trace = saved
	}
	return o.text + " = " + v.ExtJSON()
}

// String renders a trace one step a line: `file#ptr what detail -> result`.
func (t *Trace) String() string {
	var b strings.Builder
	for _, s := range t.Steps {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// String renders one step: `file#ptr what: detail -> true`.
func (s Step) String() string {
	var b strings.Builder
	if s.File != "" {
		b.WriteString(s.File)
	}
	if s.Ptr != "" || s.File != "" {
		b.WriteString("#")
		b.WriteString(string(s.Ptr))
		b.WriteString(" ")
	}
	b.WriteString(s.What)
	if s.Detail != "" {
		b.WriteString(": ")
		b.WriteString(s.Detail)
	}
	fmt.Fprintf(&b, " -> %v", s.Result)
	return b.String()
}
