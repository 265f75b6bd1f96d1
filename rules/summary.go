package rules

import (
	"fmt"
	"strings"

	"github.com/rulegate/rulegate/value"
)

// Summary renders a node of the AST (*Collection, *DefaultRule, *Role,
// *Filter, an Expr, a Cond or an Operand, and *Provider, *DataAPIConfig) as deterministic text for tests,
// goldens and tools. Unlike Format it shows what the parser understood: the
// canonical operator beside its spelling, the %%root expansion behind a
// plain field, the BSON type of every literal:
//
//	role owner
//	  apply_when: owner_id[%%root.owner_id] == %%user.id
//	  document_filters.read: %%user.custom_data.teamIds {$in [string:"red", string:"blue"]}
func Summary(node any) string {
	var b strings.Builder
	switch n := node.(type) {
	case *Collection:
		fmt.Fprintf(&b, "collection %s\n", n.Namespace())
		summarizeRules(&b, n.Roles, n.Filters)
	case *DefaultRule:
		b.WriteString("default_rule\n")
		summarizeRules(&b, n.Roles, n.Filters)
	case *Role:
		summarizeRole(&b, n)
	case *Filter:
		summarizeFilter(&b, n)
	case *Provider:
		summarizeProvider(&b, n)
	case *DataAPIConfig:
		summarizeDataAPI(&b, n)
	case *JSFunction:
		summarizeJSFunction(&b, n)
	case *Trigger:
		summarizeTrigger(&b, n)
	case Expr:
		b.WriteString(exprString(n))
	case Cond:
		b.WriteString(condString(n))
	case Operand:
		b.WriteString(operandString(n))
	default:
		fmt.Fprintf(&b, "<%T>", node)
	}
	return b.String()
}

func summarizeRules(b *strings.Builder, roles []*Role, filters []*Filter) {
	for _, r := range roles {
		summarizeRole(b, r)
	}
	for _, f := range filters {
		summarizeFilter(b, f)
	}
}

func summarizeRole(b *strings.Builder, r *Role) {
	fmt.Fprintf(b, "role %q\n", r.Name)
	if r.ApplyWhen != nil {
		fmt.Fprintf(b, "  apply_when: %s\n", exprString(r.ApplyWhen))
	}
	if d := r.DocumentFilters; d != nil {
		b.WriteString("  document_filters\n")
		if d.Read != nil {
			fmt.Fprintf(b, "  document_filters.read: %s\n", exprString(d.Read))
		}
		if d.Write != nil {
			fmt.Fprintf(b, "  document_filters.write: %s\n", exprString(d.Write))
		}
	}
	perm := func(indent, name string, p Perm) {
		if p.Set {
			fmt.Fprintf(b, "%s%s: %s\n", indent, name, exprString(p.Expr))
		}
	}
	perm("  ", "read", r.Read)
	perm("  ", "write", r.Write)
	perm("  ", "insert", r.Insert)
	perm("  ", "delete", r.Delete)
	perm("  ", "search", r.Search)
	var fields func(indent string, fs []*FieldRule, ap *FieldPerms)
	fields = func(indent string, fs []*FieldRule, ap *FieldPerms) {
		for _, f := range fs {
			fmt.Fprintf(b, "%sfield %q\n", indent, f.Name)
			perm(indent+"  ", "read", f.Read)
			perm(indent+"  ", "write", f.Write)
			fields(indent+"  ", f.Fields, f.AdditionalFields)
		}
		if ap != nil {
			fmt.Fprintf(b, "%sadditional_fields\n", indent)
			perm(indent+"  ", "read", ap.Read)
			perm(indent+"  ", "write", ap.Write)
		}
	}
	fields("  ", r.Fields, r.AdditionalFields)
}

func summarizeFilter(b *strings.Builder, f *Filter) {
	fmt.Fprintf(b, "filter %q\n", f.Name)
	if f.ApplyWhen != nil {
		fmt.Fprintf(b, "  apply_when: %s\n", exprString(f.ApplyWhen))
	}
	if f.Query != nil {
		fmt.Fprintf(b, "  query: %s\n", exprString(f.Query))
	}
	if f.Projection != nil {
		b.WriteString("  projection:")
		for _, p := range f.Projection {
			inc := 0
			if p.Include {
				inc = 1
			}
			fmt.Fprintf(b, " %q=%d", p.Field, inc)
		}
		b.WriteString("\n")
	}
}

func exprString(e Expr) string {
	switch e := e.(type) {
	case nil:
		return "<nil>"
	case *Bool:
		return fmt.Sprint(e.Value)
	case *And:
		op := e.Op
		if op == "" {
			op = "and"
		}
		return op + "(" + joinExprs(e.Args) + ")"
	case *Or:
		op := e.Op
		if op == "" {
			op = "or"
		}
		return op + "(" + joinExprs(e.Args) + ")"
	case *Nor:
		return "$nor(" + joinExprs(e.Args) + ")"
	case *Match:
		left := e.Left.Ref.String()
		if e.Left.Implicit {
			left = e.Left.Key + "[" + left + "]"
		}
		return left + " " + condString(e.Cond)
	}
	return fmt.Sprintf("<%T>", e)
}

func joinExprs(es []Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = exprString(e)
	}
	return strings.Join(parts, ", ")
}

func condString(c Cond) string {
	switch c := c.(type) {
	case nil:
		return "<nil>"
	case *Equals:
		return "== " + operandString(c.Operand)
	case *Ops:
		parts := make([]string, len(c.Ops))
		for i, o := range c.Ops {
			op := string(o.Op)
			if o.Spelling != "" && o.Spelling != op {
				op += "(" + o.Spelling + ")"
			}
			parts[i] = op + " " + operandString(o.Arg)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *CondLogic:
		parts := make([]string, len(c.Args))
		for i, a := range c.Args {
			parts[i] = condString(a)
		}
		return c.Op + "[" + strings.Join(parts, "; ") + "]"
	case *ElemMatch:
		if c.Cond != nil {
			return "$elemMatch " + condString(c.Cond)
		}
		return "$elemMatch (" + exprString(c.Query) + ")"
	}
	return fmt.Sprintf("<%T>", c)
}

func operandString(o Operand) string {
	switch o := o.(type) {
	case nil:
		return "<nil>"
	case *Literal:
		return literalString(o.Value)
	case *ExpansionRef:
		return o.Ref.String()
	case *ArrayOperand:
		parts := make([]string, len(o.Elems))
		for i, e := range o.Elems {
			parts[i] = operandString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case *DocOperand:
		parts := make([]string, len(o.Fields))
		for i, f := range o.Fields {
			parts[i] = fmt.Sprintf("%q: %s", f.Key, operandString(f.Value))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *Call:
		if o.Op == CallFunction {
			parts := make([]string, len(o.Args))
			for i, a := range o.Args {
				parts[i] = operandString(a)
			}
			return fmt.Sprintf("%%function %q(%s)", o.Name, strings.Join(parts, ", "))
		}
		return o.Op + "(" + operandString(o.Arg) + ")"
	}
	return fmt.Sprintf("<%T>", o)
}

// literalString renders a literal with its BSON type, recursing into
// arrays so that element types show.
func literalString(v value.Value) string {
	if v.IsMissing() {
		return "missing"
	}
	if v.IsArray() {
		var parts []string
		v.Each(func(_ int, e value.Value) bool {
			parts = append(parts, literalString(e))
			return false
		})
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return typeName(v) + ":" + v.ExtJSON()
}

// typeName is the MongoDB $type alias of v's BSON type.
func typeName(v value.Value) string {
	names := map[byte]string{
		0x01: "double", 0x02: "string", 0x03: "object", 0x04: "array", 0x05: "binData",
		0x06: "undefined", 0x07: "objectId", 0x08: "bool", 0x09: "date", 0x0A: "null",
		0x0B: "regex", 0x0C: "dbPointer", 0x0D: "javascript", 0x0E: "symbol",
		0x0F: "javascriptWithScope", 0x10: "int", 0x11: "timestamp", 0x12: "long",
		0x13: "decimal", 0xFF: "minKey", 0x7F: "maxKey",
	}
	if n, ok := names[byte(v.Type)]; ok {
		return n
	}
	return fmt.Sprintf("type%#02x", byte(v.Type))
}

func summarizeProvider(b *strings.Builder, p *Provider) {
	fmt.Fprintf(b, "provider %q type %q", p.Name, p.Type)
	if p.Disabled {
		b.WriteString(" disabled")
	}
	b.WriteByte('\n')
	if c := p.UserPass; c != nil {
		fmt.Fprintf(b, "  autoConfirm: %t, runConfirmationFunction: %t %q, emailConfirmationUrl: %q\n", c.AutoConfirm, c.RunConfirmationFunction, c.ConfirmationFunctionName, c.EmailConfirmationURL)
		fmt.Fprintf(b, "  runResetFunction: %t %q, resetPasswordUrl: %q\n", c.RunResetFunction, c.ResetFunctionName, c.ResetPasswordURL)
	}
	if c := p.CustomToken; c != nil {
		fmt.Fprintf(b, "  audience: %q, requireAnyAudience: %t, signingAlgorithm: %q\n", c.Audience, c.RequireAnyAudience, c.SigningAlgorithm)
		fmt.Fprintf(b, "  useJWKURI: %t %q, signingKeys: %q\n", c.UseJWKURI, c.JWKURI, c.SigningKeys)
	}
	for _, f := range p.MetadataFields {
		fmt.Fprintf(b, "  metadata %q %q -> %q", f.Name, f.Path, f.FieldName)
		if f.Required {
			b.WriteString(" required")
		}
		b.WriteByte('\n')
	}
}

func summarizeDataAPI(b *strings.Builder, c *DataAPIConfig) {
	b.WriteString("data_api")
	if c.Disabled {
		b.WriteString(" disabled")
	}
	fmt.Fprintf(b, "\n  versions: %q, return_type: %s, create_user_on_auth: %t\n", c.Versions, c.ReturnType, c.CreateUserOnAuth)
	switch {
	case c.RunAsSystem:
		b.WriteString("  run_as_system\n")
	case c.RunAsUserID != "":
		fmt.Fprintf(b, "  run_as_user_id: %q\n", c.RunAsUserID)
	case c.RunAsUserIDScriptSource != "":
		fmt.Fprintf(b, "  run_as_user_id_script_source: %q\n", c.RunAsUserIDScriptSource)
	}
	if c.CanEvaluate != nil {
		fmt.Fprintf(b, "  can_evaluate: %s\n", exprString(c.CanEvaluate))
	}
	if c.ValidationMethod != "" {
		fmt.Fprintf(b, "  validation_method: %s, secret_name: %q\n", c.ValidationMethod, c.SecretName)
	}
}

func summarizeJSFunction(b *strings.Builder, f *JSFunction) {
	fmt.Fprintf(b, "function %q (%s)", f.Name, f.File)
	for _, flag := range []struct {
		set  bool
		name string
	}{{f.Private, "private"}, {f.RunAsSystem, "run_as_system"}, {f.DisableArgLogs, "disable_arg_logs"}, {f.SourceFile == "", "no source"}} {
		if flag.set {
			b.WriteString(" " + flag.name)
		}
	}
	b.WriteByte('\n')
	if f.RunAsUserID != "" {
		fmt.Fprintf(b, "  run_as_user_id: %q\n", f.RunAsUserID)
	}
	if f.RunAsUserIDScriptSource != "" {
		fmt.Fprintf(b, "  run_as_user_id_script_source: %q\n", f.RunAsUserIDScriptSource)
	}
	if f.CanEvaluate != nil {
		fmt.Fprintf(b, "  can_evaluate: %s\n", exprString(f.CanEvaluate))
	}
}

func summarizeTrigger(b *strings.Builder, t *Trigger) {
	fmt.Fprintf(b, "trigger %q %s", t.Name, t.Operation)
	if t.Disabled {
		b.WriteString(" disabled")
	}
	fmt.Fprintf(b, " -> %q", t.FunctionName)
	if len(t.Providers) > 0 {
		fmt.Fprintf(b, " providers %q", t.Providers)
	}
	b.WriteByte('\n')
}
