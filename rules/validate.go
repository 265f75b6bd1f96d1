package rules

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// ValidateOptions configure Validate.
type ValidateOptions struct {
	// Functions are the names of functions provided by Go, callable with
	// %function besides the app's functions/*.expr.
	Functions []string
}

// Validate checks a loaded app for mistakes the parser cannot see, and
// re-checks what the parser does for ASTs built by hand. It returns every
// finding, sorted, starting from the problems LoadApp found (App.LoadErrors,
// and its warnings, which LoadApp's error leaves out),
// so that an app that failed to load validates with errors too; warnings have Severity "warning" (see
// ErrorList.Errors and Warnings). The checks and their codes:
//
//	| code                          | sev     | finding                                                              |
//	|-------------------------------|---------|----------------------------------------------------------------------|
//	| expansion/unknown(-field)     | error   | an expansion the vocabulary does not define                          |
//	| rules/unknown-operator        | error   | an operator the expression language does not define                  |
//	| rules/type                    | error   | $in/$nin without an array (literal or array-valued expansion),       |
//	|                               |         | $exists without a boolean, %stringToOid/%oidToString of an operator  |
//	| rules/phase                   | error   | %%root, %%prevRoot, %%this, %%prev (or a plain field) in a filter's  |
//	|                               |         | apply_when, or in a value of a filter's query                        |
//	| rules/phase                   | warning | %%this or %%prev outside field-level permissions (always missing)    |
//	| rules/shadowed-role           | warning | a role after a role whose apply_when always holds never applies      |
//	| rules/subsumed-role           | warning | a role whose apply_when implies an earlier role's never applies (the |
//	|                               |         | same expression, or the earlier one's conditions a part of its own)  |
//	| rules/id-unreadable           | warning | a role that reads fields of documents but never _id; a filter whose  |
//	|                               |         | projection excludes _id                                              |
//	| rules/duplicate-role          | error   | two roles of one collection share a name                             |
//	| rules/duplicate-filter        | error   | two filters of one collection share a name                           |
//	| rules/duplicate-collection    | error   | two rules.json of one data source name the same namespace            |
//	| rules/unknown-function        | error   | %function names no JavaScript function of the export, no             |
//	|                               |         | functions/<name>.expr and no Go function; a trigger names no         |
//	|                               |         | JavaScript function of the export                                    |
//	| rules/js-function             | warning | %function names a JavaScript function of the export (App.JSFunctions)|
//	|                               |         | without its source that no Go function provides: its calls fail      |
//	| rules/function-config         | warning | a function configuration that is not JSON, a source without one, a   |
//	|                               |         | function run as a chosen user (LoadApp's warnings, and the last)     |
//	| rules/function-source         | warning | a configured function without its source                             |
//	| rules/unused-function         | warning | a private function nothing calls (rules, can_evaluate, triggers,     |
//	|                               |         | custom user data, providers, context.functions.execute in sources)   |
//	| rules/trigger-not-run         | warning | a DATABASE or SCHEDULED trigger                                      |
//	| rules/phase                   | error   | a document expansion (or a plain field) in a function's can_evaluate |
//	| rules/custom-data             | error   | custom_user_data.json enabled but a field is missing or its data     |
//	|                               |         | source does not exist                                                |
//	| rules/custom-data-unprotected | warning | clients can write custom user data: a role lets any user write any   |
//	|                               |         | user's document, or write fields of their own that rules read back   |
//	|                               |         | as %%user.custom_data (privilege escalation)                         |
//	| rules/namespace               | warning | rules.json's database/collection keys differ from its folder         |
//	| rules/projection              | error   | a projection mixes inclusion and exclusion (other than _id)          |
//	| rules/provider                | error   | an enabled custom-token provider without a JWK URI it uses, or      |
//	|                               |         | without signing algorithm or key; an enabled local-userpass provider |
//	|                               |         | that runs a confirmation or reset function it does not name          |
//	| rules/data-api                | error   | run_as_user_id with run_as_user_id_script_source; a secret           |
//	|                               |         | validation method without secret_name                                |
//	| rules/phase                   | error   | a document expansion (or a plain field) in the Data API's can_evaluate |
//	| rules/spelling                | warning | the Data API's "verification_method" (read as validation_method)     |
//
// A shadowed role is a warning, not an error: App Services accepts such a
// configuration and its behaviour is well defined (the earlier role wins,
// source/rules/roles.txt "Role Order"); the later role is dead code. So
// is a subsumed role, and a role or filter that withholds _id is a warning
// too: App Services serves such documents, which a client then cannot
// address.
// Custom data that clients can write is a warning for the same reason: App
// Services accepts it; the finding is what a user could do with it. A
// custom data collection without rules is no finding (no client can write
// it, the safest setup; see the package documentation).
func Validate(app *App, opts ValidateOptions) source.ErrorList {
	v := &validator{app: app, funcs: map[string]bool{}, called: map[string]bool{}}
	v.errs = append(v.errs, app.LoadErrors...)
	v.errs = append(v.errs, app.loadWarnings...)
	for _, f := range opts.Functions {
		v.funcs[f] = true
	}
	for _, f := range app.Functions {
		v.funcs[f.Name] = true
	}
	for _, ds := range app.DataSources {
		if ds.DefaultRule != nil {
			v.ruleset(ds.DefaultRule.Roles, ds.DefaultRule.Filters)
		}
		seen := map[string]*Collection{}
		for _, c := range ds.Collections {
			if prev := seen[c.Namespace()]; prev != nil {
				v.errorAt(c.At, CodeDuplicateCollection, "data source %q has rules for %s in %s already", ds.Name, c.Namespace(), prev.FileName())
			} else {
				seen[c.Namespace()] = c
			}
			v.namespace(c)
			v.ruleset(c.Roles, c.Filters)
		}
	}
	v.customUserData()
	v.providers()
	v.dataAPI()
	v.jsFunctions()
	v.triggers()
	v.unusedFunctions()
	v.errs.Sort()
	return v.errs
}

type validator struct {
	app    *App
	funcs  map[string]bool
	called map[string]bool // the functions %function calls name
	errs   source.ErrorList
}

func (v *validator) errorAt(a At, code, format string, args ...any) {
	v.errs.Add(source.Errorf(a.File, a.Offset, a.Ptr, code, format, args...))
}

func (v *validator) warnAt(a At, code, format string, args ...any) {
	e := source.Errorf(a.File, a.Offset, a.Ptr, code, format, args...)
	e.Severity = source.SeverityWarning
	v.errs.Add(e)
}

func (v *validator) namespace(c *Collection) {
	where := "folder"
	db, coll := c.pathDB, c.pathColl
	switch {
	case c.Dir != "":
		db, coll = path.Base(path.Dir(c.Dir)), path.Base(c.Dir)
	case db != "":
		where = "file"
	default:
		return
	}
	if c.Database != db || c.Collection != coll {
		v.warnAt(c.At, CodeNamespace, "rules for %s are in the %s of %s.%s; App Services uses the \"database\" and \"collection\" keys", c.Namespace(), where, db, coll)
	}
}

// context says where an expression sits, which decides the expansions it
// may use.
type context uint8

const (
	ctxRole        context = iota // apply_when, document_filters, document-level permissions
	ctxField                      // fields.<name>.read/write, additional_fields
	ctxFilterApply                // a filter's apply_when: per request only
	ctxQuery                      // a filter's query
	ctxRequest                    // the Data API's can_evaluate: per request only
)

func (v *validator) ruleset(roles []*Role, filters []*Filter) {
	names := map[string]bool{}
	var always *Role
	var sub subsumption
	for i, r := range roles {
		if names[r.Name] {
			v.errorAt(r.At, CodeDuplicateRole, "duplicate role name %q (role names must be unique within a collection)", r.Name)
		}
		names[r.Name] = true
		v.nameLength(r.At, "role", r.Name)
		if always != nil {
			v.warnAt(r.At, CodeShadowedRole, "role %q never applies: the earlier role %q always applies", r.Name, always.Name)
		} else if r.ApplyWhen == nil || isTrue(r.ApplyWhen) {
			always = r
		} else if e := sub.subsumedBy(r, roles[:i]); e != nil {
			v.warnAt(r.At, CodeSubsumedRole, "role %q never applies: whenever its apply_when holds, so does the earlier role %q's, which then decides", r.Name, e.Name)
		}
		if idUnreadable(r) {
			v.warnAt(r.At, CodeIDUnreadable, "role %q can read fields of documents but never their _id (no document-level read or write, and no field rule or additional_fields grants _id); the gate and App Services clients address documents by _id", r.Name)
		}
		v.role(r)
	}
	fnames := map[string]bool{}
	for _, f := range filters {
		if fnames[f.Name] {
			v.errorAt(f.At, CodeDuplicateFilter, "duplicate filter name %q", f.Name)
		}
		fnames[f.Name] = true
		v.nameLength(f.At, "filter", f.Name)
		if f.ProjectionKey == "project" {
			v.warnAt(f.At, CodeSpelling, "filter %q writes its projection under \"project\"; the configuration reference names the key \"projection\" (read as such)", f.Name)
		}
		if f.ApplyWhen != nil {
			v.expr(f.ApplyWhen, ctxFilterApply)
		}
		if f.Query != nil {
			v.expr(f.Query, ctxQuery)
		}
		v.projection(f)
		if p, ok := idExcluded(f); ok {
			v.warnAt(p.At, CodeIDUnreadable, "filter %q withholds _id from the documents it applies to (projection \"_id\": 0); the gate and App Services clients address documents by _id", f.Name)
		}
	}
}

// MaxNameLength is the longest role or filter name App Services accepts
// (source/mongodb/tables/role-configuration.rst and query-filter-params.rst,
// "name": "Limited to 100 characters or fewer").
const MaxNameLength = 100

func (v *validator) nameLength(at At, what, name string) {
	if n := utf8.RuneCountInString(name); n > MaxNameLength {
		v.errorAt(at, CodeSchema, "%s name is %d characters long; App Services limits it to %d", what, n, MaxNameLength)
	}
}

func (v *validator) role(r *Role) {
	if r.ApplyWhen != nil {
		v.expr(r.ApplyWhen, ctxRole)
	}
	if d := r.DocumentFilters; d != nil && d.Key == "document_filter" {
		v.warnAt(d.At, CodeSpelling, "role %q writes \"document_filter\"; the configuration reference names the key \"document_filters\" (read as such)", r.Name)
	}
	if d := r.DocumentFilters; d != nil {
		if d.Read != nil {
			v.expr(d.Read, ctxRole)
		}
		if d.Write != nil {
			v.expr(d.Write, ctxRole)
		}
	}
	for _, p := range []Perm{r.Read, r.Write, r.Insert, r.Delete, r.Search} {
		v.perm(p, ctxRole)
	}
	v.fields(r.Fields, r.AdditionalFields)
}

func (v *validator) fields(fs []*FieldRule, ap *FieldPerms) {
	for _, f := range fs {
		v.perm(f.Read, ctxField)
		v.perm(f.Write, ctxField)
		v.fields(f.Fields, f.AdditionalFields)
	}
	if ap != nil {
		v.perm(ap.Read, ctxField)
		v.perm(ap.Write, ctxField)
	}
}

func (v *validator) perm(p Perm, ctx context) {
	if p.Set && p.Expr != nil {
		v.expr(p.Expr, ctx)
	}
}

func (v *validator) projection(f *Filter) {
	var inc, exc *Projection
	for i := range f.Projection {
		p := &f.Projection[i]
		if p.Field == "_id" {
			continue
		}
		if p.Include && inc == nil {
			inc = p
		} else if !p.Include && exc == nil {
			exc = p
		}
	}
	if inc != nil && exc != nil {
		later := inc
		if exc.Offset > inc.Offset {
			later = exc
		}
		v.errorAt(later.At, CodeProjection, "projection of filter %q mixes inclusion (%q) and exclusion (%q); MongoDB refuses it", f.Name, inc.Field, exc.Field)
	}
}

// isTrue reports whether e holds whatever the request and document: true,
// {}, an And of such, an Or with such an argument, {"%%true": true}.
func isTrue(e Expr) bool {
	b, ok := constValue(e)
	return ok && b
}

func constValue(e Expr) (bool, bool) {
	switch e := e.(type) {
	case *Bool:
		return e.Value, true
	case *And:
		all := true
		for _, a := range e.Args {
			b, ok := constValue(a)
			if ok && !b {
				return false, true
			}
			all = all && ok
		}
		return true, all
	case *Or:
		all := true
		for _, a := range e.Args {
			b, ok := constValue(a)
			if ok && b {
				return true, true
			}
			all = all && ok
		}
		return false, all
	case *Nor:
		all := true
		for _, a := range e.Args {
			b, ok := constValue(a)
			if ok && b {
				return false, true
			}
			all = all && ok
		}
		return true, all
	case *Match:
		l, ok := constRef(e.Left.Ref)
		if !ok || e.Left.Implicit {
			return false, false
		}
		eq, ok := e.Cond.(*Equals)
		if !ok {
			return false, false
		}
		var r bool
		switch o := eq.Operand.(type) {
		case *Literal:
			b, isBool := o.Value.BoolOK()
			if !isBool {
				return false, true // a boolean never equals a non-boolean
			}
			r = b
		case *ExpansionRef:
			if r, ok = constRef(o.Ref); !ok {
				return false, false
			}
		default:
			return false, false
		}
		return l == r, true
	}
	return false, false
}

func constRef(r expansion.Ref) (bool, bool) {
	if len(r.Path) > 0 {
		return false, false
	}
	switch r.Root {
	case expansion.RootTrue:
		return true, true
	case expansion.RootFalse:
		return false, true
	}
	return false, false
}

func (v *validator) expr(e Expr, ctx context) {
	switch e := e.(type) {
	case *And:
		for _, a := range e.Args {
			v.expr(a, ctx)
		}
	case *Or:
		for _, a := range e.Args {
			v.expr(a, ctx)
		}
	case *Nor:
		for _, a := range e.Args {
			v.expr(a, ctx)
		}
	case *Match:
		v.left(e.Left, ctx)
		v.cond(e.Cond, ctx, e.Left)
	}
}

func (v *validator) ref(at At, r expansion.Ref, ctx context, isKey bool, implicit bool) {
	if r.Root < expansion.RootUser || r.Root > expansion.RootFalse {
		v.errorAt(at, expansion.CodeUnknown, "unknown expansion root %d", r.Root)
		return
	}
	if !implicit {
		if _, err := expansion.Parse(r.String()); err != nil {
			if xe, ok := err.(*expansion.Error); ok {
				v.errorAt(at, xe.Code, "%s", xe.Msg)
			} else {
				v.errorAt(at, expansion.CodeSyntax, "%v", err)
			}
			return
		}
	}
	if r.Phase() != expansion.PhaseDocument {
		return
	}
	what := r.Root.Name()
	if implicit {
		what = fmt.Sprintf("the field %q (%s)", strings.Join(r.Path, "."), r.String())
	}
	switch ctx {
	case ctxFilterApply:
		v.errorAt(at, CodePhase, "a filter's apply_when is evaluated before any document is read: it cannot use %s", what)
	case ctxRequest:
		v.errorAt(at, CodePhase, "can_evaluate is decided per request, before any document is read: it cannot use %s", what)
	case ctxQuery:
		if !isKey {
			v.errorAt(at, CodePhase, "a filter query's values are computed once per request: they cannot use %s", what)
		} else if !implicit {
			v.errorAt(at, CodePhase, "a filter query names document fields directly: write %q instead of %s", strings.Join(r.Path, "."), r.String())
		}
	case ctxRole:
		if r.Root == expansion.RootThis || r.Root == expansion.RootPrev {
			v.warnAt(at, CodePhase, "%s is the value of the field a field-level permission is evaluated on; outside \"fields\" and \"additional_fields\" it is always missing", r.Root.Name())
		}
	}
}

func (v *validator) left(l Left, ctx context) {
	v.ref(l.At, l.Ref, ctx, true, l.Implicit)
}

func (v *validator) cond(c Cond, ctx context, left Left) {
	switch c := c.(type) {
	case *Equals:
		v.operand(c.Operand, ctx)
	case *Ops:
		for _, o := range c.Ops {
			spelled := o.Spelling
			if spelled == "" {
				spelled = string(o.Op)
			}
			switch o.Op {
			case OpEq, OpNe, OpGt, OpGte, OpLt, OpLte:
			case OpIn, OpNin, OpAll, OpMod:
				if kind, from, ok := operandKind(o.Arg); ok && kind != "array" {
					v.errorAt(o.Arg.Loc(), CodeType, "%s expects an array, got %s%s", spelled, kind, from)
				}
			case OpType:
				if kind, from, ok := operandKind(o.Arg); ok && kind != "string" && kind != "number" && kind != "array" {
					v.errorAt(o.Arg.Loc(), CodeType, "%s expects a BSON type alias or number, or an array of them, got %s%s", spelled, kind, from)
				}
			case OpSize:
				if kind, from, ok := operandKind(o.Arg); ok && kind != "number" {
					v.errorAt(o.Arg.Loc(), CodeType, "%s expects a number, got %s%s", spelled, kind, from)
				}
			case OpExists:
				if kind, from, ok := operandKind(o.Arg); ok && kind != "boolean" && kind != "number" {
					v.errorAt(o.Arg.Loc(), CodeType, "%s expects a boolean, got %s%s", spelled, kind, from)
				}
			case OpRegex, OpOptions:
				if _, ok := stringLiteral(o.Arg); !ok {
					v.errorAt(o.Arg.Loc(), CodeType, "%s expects a string written in the rules, got %s", spelled, operandDesc(o.Arg))
				}
			default:
				v.errorAt(o.At, CodeUnknownOperator, "unknown operator %q", spelled)
			}
			v.operand(o.Arg, ctx)
		}
		v.regex(c)
	case *ElemMatch:
		v.elemMatch(c, ctx, left)
	case *CondLogic:
		switch c.Op {
		case "%and", "$and", "%or", "$or", "$nor", opNot:
		default:
			v.errorAt(c.At, CodeUnknownOperator, "unknown operator %q", c.Op)
		}
		for _, a := range c.Args {
			v.cond(a, ctx, left)
		}
	}
}

// elemMatch checks an $elemMatch: its left side a document field, the
// fields of its query form plain names of the element, and no operand
// inside reading a document (%%root, %%prevRoot, %%this, %%prev): the
// element is the only document value in it (fail closed: the docs say
// nothing of those expansions there).
func (v *validator) elemMatch(c *ElemMatch, ctx context, left Left) {
	if left.Ref.Root != expansion.RootRoot || len(left.Ref.Path) == 0 {
		v.errorAt(c.At, CodeType, "$elemMatch tests the elements of a document field, not of %s", left.Ref.String())
	}
	if c.Cond != nil {
		v.cond(c.Cond, ctx, left)
	}
	if c.Query != nil {
		v.expr(c.Query, ctx)
	}
	Walk(c, func(n Node) bool {
		switch n := n.(type) {
		case *Match:
			if !n.Left.Implicit {
				v.errorAt(n.Left.At, CodeType, "inside $elemMatch a key names a field of the element; %q is not a field name", n.Left.Key)
			}
		case *ExpansionRef:
			switch n.Ref.Root {
			case expansion.RootRoot, expansion.RootPrevRoot, expansion.RootThis, expansion.RootPrev:
				v.errorAt(n.At, CodePhase, "inside $elemMatch operands are request values; %s reads a document", n.Ref.String())
			}
		case *ElemMatch:
			return n == c // nested ones check themselves
		}
		return true
	})
}

// regex checks the $regex and $options of an operator object: $options
// only beside $regex, and the pair accepted by value.CompileRegex
// (CodeRegexUnsupported otherwise).
func (v *validator) regex(c *Ops) {
	re, opts := -1, -1
	for i, o := range c.Ops {
		switch o.Op {
		case OpRegex:
			re = i
		case OpOptions:
			opts = i
		}
	}
	if re < 0 {
		if opts >= 0 {
			v.errorAt(c.Ops[opts].At, CodeType, "$options without $regex in the same object")
		}
		return
	}
	pattern, ok := stringLiteral(c.Ops[re].Arg)
	options := ""
	if opts >= 0 {
		options, ok = stringLiteral(c.Ops[opts].Arg)
	}
	if !ok {
		return // reported above
	}
	if _, err := value.CompileRegex(pattern, options); err != nil {
		v.errorAt(c.Ops[re].Arg.Loc(), CodeRegexUnsupported, "$regex: %s is not in the syntax PCRE (the server) and Go's RE2 read alike", strings.TrimPrefix(err.Error(), value.ErrRegexUnsupported.Error()+": "))
	}
}

// stringLiteral returns the string of a string literal.
func stringLiteral(o Operand) (string, bool) {
	if lit, ok := o.(*Literal); ok {
		return lit.Value.StringOK()
	}
	return "", false
}

// operandDesc describes an operand for a message: its kind and where it
// comes from.
func operandDesc(o Operand) string {
	if kind, from, ok := operandKind(o); ok {
		return kind + from
	}
	if e, ok := o.(*ExpansionRef); ok {
		return e.Ref.String()
	}
	return "a computed value"
}

func (v *validator) operand(o Operand, ctx context) {
	switch o := o.(type) {
	case *Literal:
		// The parser refuses regex, undefined and operator-document
		// literals; an App built in Go is checked here (CodeRegex,
		// CodeOperand).
		if code, msg := operandRefusal(value.CheckOperand(o.Value), o.Value.ExtJSON()); code != "" {
			v.errorAt(o.At, code, "%s", msg)
		}
	case *ExpansionRef:
		if o.Written != "" {
			v.warnAt(o.At, CodeSpelling, "%q is read as %s; write it without the trailing %%%%", o.Written, o.Ref.String())
		}
		v.ref(o.At, o.Ref, ctx, false, false)
	case *ArrayOperand:
		for _, e := range o.Elems {
			v.operand(e, ctx)
		}
	case *DocOperand:
		for _, f := range o.Fields {
			v.operand(f.Value, ctx)
		}
	case *Call:
		switch o.Op {
		case CallStringToOid, CallOidToString, CallStringToUuid, CallUuidToString:
			switch a := o.Arg.(type) {
			case *ExpansionRef:
				v.operand(a, ctx)
			case *Literal:
				_, isStr := a.Value.StringOK()
				_, isOid := a.Value.ObjectIDOK()
				isUUID := !isStr && !value.UUIDToString(a.Value).IsMissing()
				if !isStr && !(isOid && o.Op == CallOidToString) && !(isUUID && o.Op == CallUuidToString) {
					v.errorAt(a.At, CodeType, "%s expects a string or an expansion, got %s", o.Op, a.Value.ExtJSON())
				}
			case nil:
				v.errorAt(o.At, CodeType, "%s needs an operand", o.Op)
			default:
				v.errorAt(a.Loc(), CodeType, "%s evaluates no inner operators: its operand must be a string or an expansion", o.Op)
			}
		case CallFunction:
			v.called[o.Name] = true
			js := v.app.jsFunction(o.Name)
			switch {
			case v.funcs[o.Name]:
			case js == nil:
				v.errorAt(o.At, CodeUnknownFunction, "%%function %q is not defined (no JavaScript function of that name in functions/, no functions/%s.expr, and no function provided by the program)%s", o.Name, o.Name, v.suggestFunc(o.Name))
			case js.SourceFile == "":
				v.warnAt(o.At, CodeJSFunction, "%%function %q is JavaScript (%s) without its source: each call fails and denies until a Go function (evaluator.WithFunction) provides it, or the tests stub its result (\"functions\": {%q: <result>})", o.Name, js.File, o.Name)
			}
			for _, a := range o.Args {
				v.operand(a, ctx)
			}
		default:
			v.errorAt(o.At, CodeUnknownOperator, "unknown operator %q", o.Op)
		}
	}
}

func (v *validator) suggestFunc(name string) string {
	var names []string
	for n := range v.funcs {
		names = append(names, n)
	}
	for _, f := range v.app.JSFunctions {
		names = append(names, f.Name)
	}
	sort.Strings(names)
	best, ok := source.Closest(name, names)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// operandKind returns the JSON kind of an operand when it is known before
// the request ("array", "string", "boolean", "number", "object", "null",
// "objectId", ...) and, for expansions and calls, where it comes from.
func operandKind(o Operand) (kind, from string, ok bool) {
	switch o := o.(type) {
	case *Literal:
		return valueKind(o.Value), "", true
	case *ArrayOperand:
		return "array", "", true
	case *DocOperand:
		return "object", "", true
	case *ExpansionRef:
		if k, ok := ExpansionKind(o.Ref); ok {
			return k, " from " + o.Ref.String(), true
		}
	case *Call:
		switch o.Op {
		case CallStringToOid:
			return "objectId", " from " + CallStringToOid, true
		case CallOidToString:
			return "string", " from " + CallOidToString, true
		case CallStringToUuid:
			return "binData", " from " + CallStringToUuid, true
		case CallUuidToString:
			return "string", " from " + CallUuidToString, true
		}
	}
	return "", "", false
}

func valueKind(v value.Value) string {
	switch {
	case v.IsMissing():
		return "nothing"
	case v.IsArray():
		return "array"
	case v.IsDocument():
		return "object"
	case v.IsNull():
		return "null"
	case v.IsNumber():
		return "number"
	}
	if _, ok := v.BoolOK(); ok {
		return "boolean"
	}
	if _, ok := v.StringOK(); ok {
		return "string"
	}
	return typeName(v)
}

// ExpansionKind returns the JSON kind of the value an expansion yields when
// the documentation fixes it (source/rules/expressions.txt): %%user.id and
// %%user.type are strings, %%user.identities an array, %%request's fields
// strings except requestHeaders (an object of arrays), %%environment.tag a
// string, %%true and %%false booleans, %%root and %%prevRoot objects. ok is
// false when the kind depends on the app's data (%%user.custom_data.x,
// %%values.x, ...).
func ExpansionKind(r expansion.Ref) (kind string, ok bool) {
	switch r.Root {
	case expansion.RootTrue, expansion.RootFalse:
		return "boolean", true
	case expansion.RootRoot, expansion.RootPrevRoot:
		if len(r.Path) == 0 {
			return "object", true
		}
	case expansion.RootUser:
		switch len(r.Path) {
		case 0:
			return "object", true
		case 1:
			switch r.Path[0] {
			case "id", "type":
				return "string", true
			case "identities":
				return "array", true
			case "data", "custom_data":
				return "object", true
			}
		}
	case expansion.RootRequest:
		switch len(r.Path) {
		case 0:
			return "object", true
		case 1:
			if r.Path[0] == "requestHeaders" {
				return "object", true
			}
			return "string", true
		case 2:
			if r.Path[0] == "requestHeaders" {
				return "array", true
			}
		}
	case expansion.RootEnvironment:
		switch {
		case len(r.Path) == 0:
			return "object", true
		case len(r.Path) == 1 && r.Path[0] == "tag":
			return "string", true
		case len(r.Path) == 1 && r.Path[0] == "values":
			return "object", true
		}
	}
	return "", false
}

// customUserData checks auth/custom_user_data.json against the app
// (source/reference/config/auth.txt, "Custom User Data").
func (v *validator) customUserData() {
	c := v.app.CustomUserData
	if c == nil || !c.Enabled {
		return
	}
	at := At{File: c.file, Ptr: c.Ptr, Offset: c.Offset}
	if at.File == nil {
		at.File = v.app.Files[c.File]
	}
	missing := false
	for _, f := range []struct{ key, val string }{
		{"mongo_service_name", c.MongoServiceName},
		{"database_name", c.DatabaseName},
		{"collection_name", c.CollectionName},
		{"user_id_field", c.UserIDField},
	} {
		switch {
		case f.val != "":
		case f.key == "mongo_service_name" && c.serviceID != "":
			v.errorAt(at, CodeCustomData, "custom user data names the data source by mongo_service_id %q, which no services/<service>/config.json of a data source has", c.serviceID)
			missing = true
		default:
			v.errorAt(at, CodeCustomData, "custom user data is enabled but %q is missing", f.key)
			missing = true
		}
	}
	if missing {
		return
	}
	ds := v.app.DataSource(c.MongoServiceName)
	if ds == nil {
		if v.failedToLoad(c.MongoServiceName) {
			return // the load error is the finding, not a missing data source
		}
		folder := "data_sources/" + c.MongoServiceName + "/"
		if c.File != "" && !strings.HasPrefix(c.File, "auth/") {
			folder = "services/" + c.MongoServiceName + "/config.json of type mongodb-atlas"
		}
		v.errorAt(at, CodeCustomData, "custom user data names data source %q, which the app does not have (%s)", c.MongoServiceName, folder)
		return
	}
	v.customDataWrites(c, ds)
}
