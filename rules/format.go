package rules

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
)

// Format renders a collection's rules as canonical rules.json: keys in the
// order of the configuration reference (database, collection, roles,
// filters; a role's name, apply_when, document_filters, read, write,
// insert, delete, search, fields, additional_fields), two-space indentation,
// a final newline. Absent permissions stay absent; operators keep the
// spelling they were written with ("%in", "$or"), so that ParseRules(Format(c))
// yields the same AST (Summary is equal). Literals are written as extended
// JSON that parses back to the same BSON type ({"$numberLong": "5"} for an
// int64, 1.0 for a double).
func Format(c *Collection) []byte {
	var w fmtWriter
	w.b.WriteByte('{')
	if c.Database != "" {
		w.key("database")
		w.str(c.Database)
	}
	if c.Collection != "" {
		w.key("collection")
		w.str(c.Collection)
	}
	w.rules(c.Roles, c.Filters)
	w.b.WriteByte('}')
	return w.indent()
}

// FormatDefaultRule renders a default_rule.json as Format does.
func FormatDefaultRule(d *DefaultRule) []byte {
	var w fmtWriter
	w.b.WriteByte('{')
	w.rules(d.Roles, d.Filters)
	w.b.WriteByte('}')
	return w.indent()
}

// FormatExpr renders one rule expression as compact JSON.
func FormatExpr(e Expr) []byte {
	var w fmtWriter
	w.expr(e)
	return w.b.Bytes()
}

type fmtWriter struct {
	b     bytes.Buffer
	comma []bool // per open object/array: whether a separator is due
}

func (w *fmtWriter) indent() []byte {
	var out bytes.Buffer
	if err := json.Indent(&out, w.b.Bytes(), "", "  "); err != nil {
		// The writer only produces valid JSON; keep the compact form if
		// that ever fails rather than lose the content.
		return append(w.b.Bytes(), '\n')
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// sep writes a comma when the enclosing object or array already has an
// item. Objects and arrays are opened with open and closed with close.
func (w *fmtWriter) sep() {
	if n := len(w.comma); n > 0 {
		if w.comma[n-1] {
			w.b.WriteByte(',')
		}
		w.comma[n-1] = true
	}
}

func (w *fmtWriter) open(c byte)  { w.b.WriteByte(c); w.comma = append(w.comma, false) }
func (w *fmtWriter) close(c byte) { w.b.WriteByte(c); w.comma = w.comma[:len(w.comma)-1] }

func (w *fmtWriter) key(k string) {
	if len(w.comma) == 0 {
		// top-level object written with WriteByte('{')
		w.comma = append(w.comma, false)
	}
	w.sep()
	w.str(k)
	w.b.WriteByte(':')
}

func (w *fmtWriter) str(s string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // strings always encode
	w.b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

func (w *fmtWriter) rules(roles []*Role, filters []*Filter) {
	w.key("roles")
	w.open('[')
	for _, r := range roles {
		w.sep()
		w.role(r)
	}
	w.close(']')
	w.key("filters")
	w.open('[')
	for _, f := range filters {
		w.sep()
		w.filter(f)
	}
	w.close(']')
}

func (w *fmtWriter) role(r *Role) {
	w.open('{')
	w.key("name")
	w.str(r.Name)
	if r.ApplyWhen != nil {
		w.key("apply_when")
		w.expr(r.ApplyWhen)
	}
	if d := r.DocumentFilters; d != nil {
		w.key("document_filters")
		w.open('{')
		if d.Read != nil {
			w.key("read")
			w.expr(d.Read)
		}
		if d.Write != nil {
			w.key("write")
			w.expr(d.Write)
		}
		w.close('}')
	}
	w.perm("read", r.Read)
	w.perm("write", r.Write)
	w.perm("insert", r.Insert)
	w.perm("delete", r.Delete)
	w.perm("search", r.Search)
	if r.Fields != nil {
		w.key("fields")
		w.fields(r.Fields)
	}
	if r.AdditionalFields != nil {
		w.key("additional_fields")
		w.fieldPerms(r.AdditionalFields)
	}
	w.close('}')
}

func (w *fmtWriter) perm(name string, p Perm) {
	if !p.Set || p.Expr == nil {
		return
	}
	w.key(name)
	w.expr(p.Expr)
}

func (w *fmtWriter) fields(fs []*FieldRule) {
	w.open('{')
	for _, f := range fs {
		w.key(f.Name)
		w.open('{')
		w.perm("read", f.Read)
		w.perm("write", f.Write)
		if f.Fields != nil {
			w.key("fields")
			w.fields(f.Fields)
		}
		if f.AdditionalFields != nil {
			w.key("additional_fields")
			w.fieldPerms(f.AdditionalFields)
		}
		w.close('}')
	}
	w.close('}')
}

func (w *fmtWriter) fieldPerms(p *FieldPerms) {
	w.open('{')
	w.perm("read", p.Read)
	w.perm("write", p.Write)
	w.close('}')
}

func (w *fmtWriter) filter(f *Filter) {
	w.open('{')
	w.key("name")
	w.str(f.Name)
	if f.ApplyWhen != nil {
		w.key("apply_when")
		w.expr(f.ApplyWhen)
	}
	if f.Query != nil {
		w.key("query")
		w.expr(f.Query)
	}
	if f.Projection != nil {
		w.key("projection")
		w.open('{')
		for _, p := range f.Projection {
			w.key(p.Field)
			if p.Include {
				w.b.WriteByte('1')
			} else {
				w.b.WriteByte('0')
			}
		}
		w.close('}')
	}
	w.close('}')
}

// expr writes an expression. An implicit And is an object with one member
// per argument, unless its arguments cannot be members of one object (a
// boolean, a nested implicit And, two members with the same key): then it
// is written as {"%and": [...]}.
func (w *fmtWriter) expr(e Expr) {
	switch e := e.(type) {
	case *Bool:
		w.b.WriteString(strconv.FormatBool(e.Value))
	case *And:
		if e.Op == "" && membersOK(e.Args) {
			w.open('{')
			for _, a := range e.Args {
				w.member(a)
			}
			w.close('}')
			return
		}
		op := e.Op
		if op == "" {
			op = "%and"
		}
		w.open('{')
		w.logical(op, e.Args)
		w.close('}')
	case *Or, *Nor, *Match:
		w.open('{')
		w.member(e)
		w.close('}')
	default:
		w.b.WriteString("false") // nil: fail closed
	}
}

// membersOK reports whether args can be written as the members of one
// object.
func membersOK(args []Expr) bool {
	seen := map[string]bool{}
	for _, a := range args {
		var k string
		switch a := a.(type) {
		case *Match:
			k = leftKey(a.Left)
		case *And:
			if a.Op == "" {
				return false
			}
			k = a.Op
		case *Or:
			k = orOp(a)
		case *Nor:
			k = "$nor"
		default:
			return false
		}
		if seen[k] {
			return false
		}
		seen[k] = true
	}
	return true
}

func orOp(o *Or) string {
	if o.Op == "" {
		return "%or"
	}
	return o.Op
}

func leftKey(l Left) string {
	if l.Key != "" {
		return l.Key
	}
	if l.Implicit && l.Ref.Root == expansion.RootRoot {
		return strings.Join(l.Ref.Path, ".")
	}
	return l.Ref.String()
}

func (w *fmtWriter) member(e Expr) {
	switch e := e.(type) {
	case *Match:
		w.key(leftKey(e.Left))
		w.cond(e.Cond)
	case *And:
		w.logical(e.Op, e.Args)
	case *Or:
		w.logical(orOp(e), e.Args)
	case *Nor:
		w.logical("$nor", e.Args)
	}
}

func (w *fmtWriter) logical(op string, args []Expr) {
	w.key(op)
	w.open('[')
	for _, a := range args {
		w.sep()
		w.expr(a)
	}
	w.close(']')
}

func (w *fmtWriter) cond(c Cond) {
	switch c := c.(type) {
	case *Equals:
		w.operand(c.Operand)
	case *Ops:
		w.open('{')
		for _, o := range c.Ops {
			k := o.Spelling
			if k == "" {
				k = string(o.Op)
			}
			w.key(k)
			w.operand(o.Arg)
		}
		w.close('}')
	case *CondLogic:
		if c.Op == opNot && len(c.Args) == 1 {
			w.open('{')
			w.key(c.Op)
			w.cond(c.Args[0])
			w.close('}')
			return
		}
		w.open('{')
		w.key(c.Op)
		w.open('[')
		for _, a := range c.Args {
			w.sep()
			w.cond(a)
		}
		w.close(']')
		w.close('}')
	case *ElemMatch:
		w.open('{')
		w.key(opElemMatch)
		if c.Cond != nil {
			w.cond(c.Cond)
		} else {
			w.expr(c.Query)
		}
		w.close('}')
	default:
		w.b.WriteString("null")
	}
}

func (w *fmtWriter) operand(o Operand) {
	switch o := o.(type) {
	case *Literal:
		w.value(o.Value)
	case *ExpansionRef:
		w.str(o.Ref.String())
	case *ArrayOperand:
		w.open('[')
		for _, e := range o.Elems {
			w.sep()
			w.operand(e)
		}
		w.close(']')
	case *DocOperand:
		w.open('{')
		for _, f := range o.Fields {
			w.key(f.Key)
			w.operand(f.Value)
		}
		w.close('}')
	case *Call:
		w.open('{')
		w.key(o.Op)
		if o.Op == CallFunction {
			w.open('{')
			w.key("name")
			w.str(o.Name)
			w.key("arguments")
			w.open('[')
			for _, a := range o.Args {
				w.sep()
				w.operand(a)
			}
			w.close(']')
			w.close('}')
		} else {
			w.operand(o.Arg)
		}
		w.close('}')
	default:
		w.b.WriteString("null")
	}
}

// value writes v as extended JSON that FromExtJSON reads back as the same
// BSON type.
func (w *fmtWriter) value(v value.Value) {
	switch {
	case v.IsMissing():
		w.b.WriteString("null")
	case v.IsArray():
		w.open('[')
		v.Each(func(_ int, e value.Value) bool {
			w.sep()
			w.value(e)
			return false
		})
		w.close(']')
	case v.IsDocument():
		doc, _ := v.DocumentOK()
		elems, err := doc.Elements()
		if err != nil {
			w.b.WriteString(v.ExtJSON())
			return
		}
		w.open('{')
		for _, el := range elems {
			w.key(el.Key())
			w.value(value.FromRaw(el.Value()))
		}
		w.close('}')
	default:
		if s, ok := v.StringOK(); ok {
			w.str(s)
			return
		}
		if i, ok := v.Int64OK(); ok {
			w.b.WriteString(`{"$numberLong":"` + strconv.FormatInt(i, 10) + `"}`)
			return
		}
		w.b.WriteString(v.ExtJSON())
	}
}
