package rules

// Loc returns a itself, so that every AST type embedding At is a Node.
func (a At) Loc() At { return a }

// Node is any node of the AST: *Collection, *DefaultRule, *Role,
// *DocumentFilters, Perm, *FieldRule, *FieldPerms, *Filter, Projection,
// Expr (*Bool, *And, *Or, *Nor, *Match), Left, Cond (*Equals, *Ops,
// *CondLogic), OpArg, Operand (*Literal, *ExpansionRef, *ArrayOperand,
// *DocOperand, *Call).
type Node interface {
	Loc() At
}

// Walk calls fn for n and, when fn returns true, for every node below n,
// depth first in file order. Absent parts (nil expressions, permissions
// that are not Set) are skipped.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	expr := func(e Expr) {
		if e != nil {
			Walk(e, fn)
		}
	}
	perm := func(p Perm) {
		if p.Set {
			Walk(p, fn)
		}
	}
	switch n := n.(type) {
	case *Collection:
		for _, r := range n.Roles {
			Walk(r, fn)
		}
		for _, f := range n.Filters {
			Walk(f, fn)
		}
	case *DefaultRule:
		for _, r := range n.Roles {
			Walk(r, fn)
		}
		for _, f := range n.Filters {
			Walk(f, fn)
		}
	case *Role:
		expr(n.ApplyWhen)
		if n.DocumentFilters != nil {
			Walk(n.DocumentFilters, fn)
		}
		perm(n.Read)
		perm(n.Write)
		perm(n.Insert)
		perm(n.Delete)
		perm(n.Search)
		for _, f := range n.Fields {
			Walk(f, fn)
		}
		if n.AdditionalFields != nil {
			Walk(n.AdditionalFields, fn)
		}
	case *DocumentFilters:
		expr(n.Read)
		expr(n.Write)
	case Perm:
		expr(n.Expr)
	case *FieldRule:
		perm(n.Read)
		perm(n.Write)
		for _, f := range n.Fields {
			Walk(f, fn)
		}
		if n.AdditionalFields != nil {
			Walk(n.AdditionalFields, fn)
		}
	case *FieldPerms:
		perm(n.Read)
		perm(n.Write)
	case *Filter:
		expr(n.ApplyWhen)
		expr(n.Query)
		for _, p := range n.Projection {
			Walk(p, fn)
		}
	case *And:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case *Or:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case *Nor:
		for _, a := range n.Args {
			Walk(a, fn)
		}
	case *Match:
		Walk(n.Left, fn)
		if n.Cond != nil {
			Walk(n.Cond, fn)
		}
	case *Equals:
		if n.Operand != nil {
			Walk(n.Operand, fn)
		}
	case *Ops:
		for _, o := range n.Ops {
			Walk(o, fn)
		}
	case *CondLogic:
		for _, c := range n.Args {
			Walk(c, fn)
		}
	case *ElemMatch:
		if n.Cond != nil {
			Walk(n.Cond, fn)
		}
		if n.Query != nil {
			Walk(n.Query, fn)
		}
	case OpArg:
		if n.Arg != nil {
			Walk(n.Arg, fn)
		}
	case *ArrayOperand:
		for _, e := range n.Elems {
			Walk(e, fn)
		}
	case *DocOperand:
		for _, f := range n.Fields {
			if f.Value != nil {
				Walk(f.Value, fn)
			}
		}
	case *Call:
		if n.Arg != nil {
			Walk(n.Arg, fn)
		}
		for _, a := range n.Args {
			Walk(a, fn)
		}
	}
}
