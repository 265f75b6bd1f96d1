package rules

// The role lints of Validate that read a whole role list: roles that an
// earlier role's apply_when subsumes (rules/subsumed-role), and roles and
// filters that let a caller read documents but not their _id
// (rules/id-unreadable). Both are warnings: App Services accepts such
// rules and decides them as written.

// subsumedBy returns the first role of earlier whose apply_when holds
// whenever r's does, so that r never applies (source/rules/roles.txt,
// "Role Order": the first role whose apply_when holds decides the
// document); nil when none is found. Roles that always apply are the
// rules/shadowed-role finding, and apply_when expressions that call
// %function are not compared (a function may answer differently from one
// call to the next).
func (s *subsumption) subsumedBy(r *Role, earlier []*Role) *Role {
	if r.ApplyWhen == nil || isTrue(r.ApplyWhen) || isFalse(r.ApplyWhen) || callsFunction(r.ApplyWhen) {
		return nil
	}
	for _, e := range earlier {
		if e.ApplyWhen == nil || callsFunction(e.ApplyWhen) {
			continue
		}
		if s.implies(r.ApplyWhen, e.ApplyWhen) {
			return e
		}
	}
	return nil
}

// subsumption compares the apply_when expressions of one role list,
// formatting each sub-expression once.
type subsumption struct {
	text map[Expr]string
}

func (s *subsumption) same(a, b Expr) bool {
	if s.text == nil {
		s.text = map[Expr]string{}
	}
	for _, e := range []Expr{a, b} {
		if _, ok := s.text[e]; !ok {
			s.text[e] = string(FormatExpr(e))
		}
	}
	return s.text[a] == s.text[b]
}

// implies reports whether l ⇒ e for every request and document, deciding
// only what follows from the structure: e always holds; l and e are the
// same expression (FormatExpr); e is an And each of whose arguments l
// implies, or an Or one of whose arguments it implies; l is an And one of
// whose arguments implies e, or an Or each of whose arguments does. A
// comparison is compared whole, $nor included (its arguments are not
// descended into, so every comparison compared sits at the same polarity
// in both), and so is an expression of another form: implies may answer
// false for an l that does imply e, never true for one that does not.
func (s *subsumption) implies(l, e Expr) bool {
	if isTrue(e) || s.same(l, e) {
		return true
	}
	switch e := e.(type) {
	case *And:
		for _, a := range e.Args {
			if !s.implies(l, a) {
				return false
			}
		}
		return true
	case *Or:
		for _, a := range e.Args {
			if s.implies(l, a) {
				return true
			}
		}
	}
	switch l := l.(type) {
	case *And:
		for _, a := range l.Args {
			if s.implies(a, e) {
				return true
			}
		}
	case *Or:
		if len(l.Args) == 0 {
			return false
		}
		for _, a := range l.Args {
			if !s.implies(a, e) {
				return false
			}
		}
		return true
	}
	return false
}

// callsFunction reports whether e calls %function.
func callsFunction(e Expr) bool {
	found := false
	Walk(e, func(n Node) bool {
		if c, ok := n.(*Call); ok && c.Op == "%function" {
			found = true
		}
		return !found
	})
	return found
}

// idUnreadable reports whether role r lets a caller read some field of a
// document but never its _id: r has no document-level read or write
// (either, when set, decides every field: role-configuration.rst), some
// field rule or additional_fields may grant reading or writing a field
// (write implies read), and nothing may grant _id: no "_id" field rule
// whose read or write may hold, and, unless _id has a rule of its own
// that sets a permission, no additional_fields whose read or write may
// hold. An "_id" rule with rules for embedded fields is not decided.
func idUnreadable(r *Role) bool {
	if r.Read.Set || r.Write.Set || !fieldsGrant(r.Fields, r.AdditionalFields) {
		return false
	}
	var id *FieldRule
	for _, f := range r.Fields {
		if f.Name == "_id" {
			id = f
		}
	}
	if id != nil {
		if len(id.Fields) > 0 || id.AdditionalFields != nil || mayHold(id.Read) || mayHold(id.Write) {
			return false
		}
		if id.Read.Set || id.Write.Set {
			return true // _id's own permissions are false: additional_fields do not apply
		}
	}
	ap := r.AdditionalFields
	return ap == nil || !mayHold(ap.Read) && !mayHold(ap.Write)
}

// fieldsGrant reports whether some field rule of fs (at any depth) or
// additional_fields may grant reading or writing a field.
func fieldsGrant(fs []*FieldRule, ap *FieldPerms) bool {
	for _, f := range fs {
		if mayHold(f.Read) || mayHold(f.Write) || fieldsGrant(f.Fields, f.AdditionalFields) {
			return true
		}
	}
	return ap != nil && (mayHold(ap.Read) || mayHold(ap.Write))
}

// idExcluded returns the projection entry of f that excludes _id, if any.
func idExcluded(f *Filter) (Projection, bool) {
	for _, p := range f.Projection {
		if p.Field == "_id" && !p.Include {
			return p, true
		}
	}
	return Projection{}, false
}
