package rules

import (
	"sort"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
)

// The custom user data lint (rules/custom-data-unprotected, a warning).
// Custom user data is read-only on the user object and changes only by
// writing its document under the collection's rules; what it holds rides
// in the access token as %%user.custom_data (source/users/custom-metadata.txt).
// So a collection clients cannot write is the safest setup (no warning),
// and two setups are warned of:
//
//   - anyone can write anyone's document: a role that every user gets for
//     every document (apply_when and document_filters.write always hold,
//     no filter narrows the collection to the user's own document) and
//     that may write;
//   - users can write a field of a custom data document (their own, or
//     one they insert) that rules read back as %%user.custom_data.<field>:
//     a user could grant themselves whatever those rules grant
//     (privilege escalation).
//
// A role counts when an ordinary user can get it: its apply_when calls no
// %function and does not require a custom data claim or %%user.id pinned
// to a constant (see privileged; those are roles for privileged users,
// which the lint trusts).
// A role may write a field when its document-level write does not always
// fail, or the field's (or additional_fields') write does not; a write
// the expressions decide per document counts as possible. When the rules
// of the collection's data source failed to load, the lint says nothing:
// the load error is the finding.

// customDataWrites runs the lint for the custom data collection c of ds.
func (v *validator) customDataWrites(c *CustomUserData, ds *DataSource) {
	if v.failedToLoad(ds.Name) {
		return
	}
	var roles []*Role
	var filters []*Filter
	for _, coll := range ds.Collections {
		if coll.Namespace() == c.Namespace() && len(coll.Roles) > 0 {
			roles, filters = coll.Roles, coll.Filters
			break
		}
	}
	if roles == nil && ds.DefaultRule != nil {
		roles, filters = ds.DefaultRule.Roles, ds.DefaultRule.Filters
	}
	reads := customDataReads(v.app)
	for _, r := range roles {
		if !openRole(r) || !writesSomething(r) {
			continue
		}
		if isTrueOrNil(r.ApplyWhen) && (r.DocumentFilters == nil || isTrueOrNil(r.DocumentFilters.Write)) && !narrowsToUser(filters, c.UserIDField) {
			v.warnAt(r.At, CodeCustomDataUnprotected, "role %q lets any user write any user's custom data document (collection %s), which every user's token carries as %%%%user.custom_data: restrict it to the user's own document ({%q: \"%%%%user.id\"}) with no write on the fields rules read, or let only a system function write it", r.Name, c.Namespace(), c.UserIDField)
			continue
		}
		var fields []string
		for _, rd := range reads {
			if writable(r, rd.path) {
				fields = append(fields, "%%user.custom_data."+strings.Join(rd.path, ".")+" (read at "+rd.where+")")
			}
		}
		if len(fields) > 0 {
			v.warnAt(r.At, CodeCustomDataUnprotected, "role %q lets users write fields of their custom data document (collection %s) that rules read back: %s; a user could grant themselves what those rules grant: make these fields read-only for the role", r.Name, c.Namespace(), strings.Join(fields, ", "))
		}
	}
}

// failedToLoad reports whether a file of the data source named name (its
// folder in either layout) failed to load.
func (v *validator) failedToLoad(name string) bool {
	for _, e := range v.app.LoadErrors {
		if strings.HasPrefix(e.File, "data_sources/"+name+"/") || strings.HasPrefix(e.File, "services/"+name+"/") {
			return true
		}
	}
	return false
}

// customDataRead is a %%user.custom_data.<path> the rules read, and where
// first.
type customDataRead struct {
	path  []string
	where string
}

// customDataReads lists the custom data fields the app's rules read, in
// the order of their first use (file, then position).
func customDataReads(app *App) []customDataRead {
	seen := map[string]bool{}
	var out []customDataRead
	add := func(at At, r expansion.Ref) {
		if r.Root != expansion.RootUser || len(r.Path) < 2 || r.Path[0] != "custom_data" {
			return
		}
		key := strings.Join(r.Path[1:], ".")
		if seen[key] {
			return
		}
		seen[key] = true
		pos := at.Pos()
		out = append(out, customDataRead{path: r.Path[1:], where: at.FileName() + ":" + strconv.Itoa(pos.Line) + ":" + strconv.Itoa(pos.Col)})
	}
	visit := func(n Node) bool {
		switch n := n.(type) {
		case Left:
			add(n.At, n.Ref)
		case *ExpansionRef:
			add(n.At, n.Ref)
		}
		return true
	}
	var nodes []Node
	for _, ds := range app.DataSources {
		if ds.DefaultRule != nil {
			nodes = append(nodes, ds.DefaultRule)
		}
		for _, c := range ds.Collections {
			nodes = append(nodes, c)
		}
	}
	sort.SliceStable(nodes, func(i, j int) bool { return nodes[i].Loc().FileName() < nodes[j].Loc().FileName() })
	for _, n := range nodes {
		Walk(n, visit)
	}
	return out
}

// openRole reports whether an ordinary user can get r (see the lint's
// comment above).
func openRole(r *Role) bool {
	if r.ApplyWhen == nil {
		return true
	}
	if isFalse(r.ApplyWhen) {
		return false
	}
	calls := false
	Walk(r.ApplyWhen, func(n Node) bool {
		if c, ok := n.(*Call); ok && c.Op == CallFunction {
			calls = true
		}
		return !calls
	})
	return !calls && !privileged(r.ApplyWhen)
}

// privileged reports whether e holds only for users the rules single out:
// it requires, outside any $nor, a custom data claim that a user without
// it lacks (a missing subject is decided as null: {"%%user.custom_data.x":
// {"$ne": true}} holds for every user without x), a comparison with a
// custom data value (a missing one matches nothing), or %%user.id pinned
// to constants. An $or is privileged only when each of its arguments is.
func privileged(e Expr) bool {
	switch e := e.(type) {
	case *And:
		for _, a := range e.Args {
			if privileged(a) {
				return true
			}
		}
	case *Or:
		for _, a := range e.Args {
			if !privileged(a) {
				return false
			}
		}
		return len(e.Args) > 0
	case *Match:
		switch {
		case isCustomData(e.Left.Ref):
			return requiresSubject(e.Cond)
		case isUserID(e.Left.Ref) && pinned(e.Cond):
			return true
		}
		return readsCustomData(e.Cond)
	}
	return false
}

// requiresSubject reports whether c fails for a missing (null) subject:
// equality with a value other than null, $eq or $in of literals without
// null, {"$exists": true}, $size or $mod. Other conditions may hold for
// null, or are not tried.
func requiresSubject(c Cond) bool {
	switch c := c.(type) {
	case *Equals:
		lit, ok := c.Operand.(*Literal)
		return !ok || !lit.Value.IsNull()
	case *Ops:
		for _, o := range c.Ops {
			lit, ok := o.Arg.(*Literal)
			if !ok {
				continue
			}
			switch o.Op {
			case OpEq:
				if !lit.Value.IsNull() {
					return true
				}
			case OpIn:
				if lit.Value.IsArray() && !holdsNull(lit.Value) {
					return true
				}
			case OpExists:
				if b, ok := lit.Value.BoolOK(); ok && b {
					return true
				}
			case OpSize, OpMod:
				return true
			}
		}
	case *CondLogic:
		switch c.Op {
		case "%and", "$and":
			for _, a := range c.Args {
				if requiresSubject(a) {
					return true
				}
			}
		case "%or", "$or":
			for _, a := range c.Args {
				if !requiresSubject(a) {
					return false
				}
			}
			return len(c.Args) > 0
		}
	}
	return false
}

// readsCustomData reports whether c compares with a custom data value.
func readsCustomData(c Cond) bool {
	found := false
	Walk(c, func(n Node) bool {
		if x, ok := n.(*ExpansionRef); ok && isCustomData(x.Ref) {
			found = true
		}
		return !found
	})
	return found
}

// pinned reports whether c compares with constants only: {"%%user.id":
// "<id>"}, {"$eq": "<id>"}, {"$in": ["<id>", ...]}.
func pinned(c Cond) bool {
	switch c := c.(type) {
	case *Equals:
		_, lit := c.Operand.(*Literal)
		return lit
	case *Ops:
		for _, o := range c.Ops {
			if _, lit := o.Arg.(*Literal); lit && (o.Op == OpEq || o.Op == OpIn) {
				return true
			}
		}
	}
	return false
}

func isCustomData(r expansion.Ref) bool {
	return r.Root == expansion.RootUser && len(r.Path) > 0 && r.Path[0] == "custom_data"
}

func isUserID(r expansion.Ref) bool {
	return r.Root == expansion.RootUser && len(r.Path) == 1 && r.Path[0] == "id"
}

func isTrueOrNil(e Expr) bool { return e == nil || isTrue(e) }

func isFalse(e Expr) bool {
	b, ok := constValue(e)
	return ok && !b
}

// mayHold reports whether a permission can hold for some request and
// document (absent: the default, false).
func mayHold(p Perm) bool { return p.Set && p.Expr != nil && !isFalse(p.Expr) }

// writesSomething reports whether r may write any field of some document.
func writesSomething(r *Role) bool {
	if d := r.DocumentFilters; d != nil && d.Write != nil && isFalse(d.Write) {
		return false
	}
	if mayHold(r.Write) {
		return true
	}
	var any func(fs []*FieldRule, ap *FieldPerms) bool
	any = func(fs []*FieldRule, ap *FieldPerms) bool {
		for _, f := range fs {
			if mayHold(f.Write) || any(f.Fields, f.AdditionalFields) {
				return true
			}
		}
		return ap != nil && mayHold(ap.Write)
	}
	return any(r.Fields, r.AdditionalFields)
}

// writable reports whether r may write the field at path (document-level
// write overrides field-level; a field's permission covers its embedded
// fields).
func writable(r *Role, path []string) bool {
	if d := r.DocumentFilters; d != nil && d.Write != nil && isFalse(d.Write) {
		return false
	}
	if mayHold(r.Write) {
		return true
	}
	fs, ap := r.Fields, r.AdditionalFields
	for _, seg := range path {
		var found *FieldRule
		for _, f := range fs {
			if f.Name == seg {
				found = f
				break
			}
		}
		if found == nil {
			return ap != nil && mayHold(ap.Write)
		}
		if mayHold(found.Write) {
			return true
		}
		fs, ap = found.Fields, found.AdditionalFields
	}
	return false
}

// narrowsToUser reports whether a filter that always applies restricts the
// collection to documents whose field is the user's id: its query is, or
// is an AND holding, {<field>: "%%user.id"}.
func narrowsToUser(filters []*Filter, field string) bool {
	for _, f := range filters {
		if !isTrueOrNil(f.ApplyWhen) || f.Query == nil {
			continue
		}
		clauses := []Expr{f.Query}
		if and, ok := f.Query.(*And); ok {
			clauses = and.Args
		}
		for _, e := range clauses {
			m, ok := e.(*Match)
			if !ok || !m.Left.Implicit || strings.Join(m.Left.Ref.Path, ".") != field {
				continue
			}
			if eq, ok := m.Cond.(*Equals); ok {
				if x, ok := eq.Operand.(*ExpansionRef); ok && isUserID(x.Ref) {
					return true
				}
			}
		}
	}
	return false
}

// holdsNull reports whether the array a has a null element.
func holdsNull(a value.Value) bool {
	found := false
	a.Each(func(_ int, e value.Value) bool {
		found = e.IsNull()
		return found
	})
	return found
}
