package rules

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// ParseRules parses a collection's rules.json
// (data_sources/<service>/<db>/<coll>/rules.json): "database",
// "collection", "roles" and "filters", as the collection rules
// configuration reference defines them (mongodb/docs-app-services
// source/reference/config/data_sources.txt, "Collection Rules"), and the
// "id" (or "_id") App Services' own export writes, which is checked and
// not kept. Database and Collection are left empty when the keys are
// absent; LoadApp fills them from the folder names.
//
// Every problem of the file is reported, not just the first: the error is a
// sorted source.ErrorList. On error the result is nil.
func ParseRules(f *source.File) (*Collection, error) {
	return parseRules(f, false)
}

// parseRules parses a rules.json, or with legacy an old layout's
// services/<service>/rules/<db>.<coll>.json, which has the same keys and
// an inline "schema" (source/includes/appschema-mongodb.rst, "MongoDB
// Collection Rules (Non-Sync)").
func parseRules(f *source.File, legacy bool) (*Collection, error) {
	p := &parser{f: f}
	root := p.root()
	if root == nil {
		return nil, p.errs.Err()
	}
	c := &Collection{At: p.at(root)}
	known := []string{"database", "collection", "roles", "filters"}
	if legacy {
		known = append(known, "schema")
	}
	p.object(root, func(key string, v *source.Node) bool {
		switch key {
		case "database":
			c.Database = p.str(v)
		case "collection":
			c.Collection = p.str(v)
		case "roles":
			c.Roles = p.roles(v)
		case "filters":
			c.Filters = p.filters(v)
		case "id", "_id":
			p.exportID(key, v)
		case "schema":
			if !legacy {
				return false
			}
			if v.Kind != source.Object {
				p.errorf(v, CodeSchema, "a schema must be an object, got %s", v.Kind.Article())
				return true
			}
			c.InlineSchema = v
		default:
			return false
		}
		return true
	}, known...)
	if err := p.done(); err != nil {
		return nil, err
	}
	return c, nil
}

// ParseDefaultRule parses a data source's default_rule.json
// (data_sources/<service>/default_rule.json): "roles" and "filters", as the
// default rules configuration reference defines them
// (source/reference/config/data_sources.txt, "Default Rules"), and the
// exporter's "id" (or "_id"). On error the result is nil and the error a
// sorted source.ErrorList.
func ParseDefaultRule(f *source.File) (*DefaultRule, error) {
	p := &parser{f: f}
	root := p.root()
	if root == nil {
		return nil, p.errs.Err()
	}
	d := &DefaultRule{At: p.at(root)}
	p.object(root, func(key string, v *source.Node) bool {
		switch key {
		case "roles":
			d.Roles = p.roles(v)
		case "filters":
			d.Filters = p.filters(v)
		case "id", "_id":
			p.exportID(key, v)
		default:
			return false
		}
		return true
	}, "roles", "filters")
	if err := p.done(); err != nil {
		return nil, err
	}
	return d, nil
}

// exportID checks the "id" App Services writes into exported rule files
// (the rule's ObjectId as 24 hex digits; source/includes/appschema-mongodb.rst
// "A string that uniquely identifies" it); "_id" may hold the same as a
// string or {"$oid": ...}. It means nothing to the rules.
func (p *parser) exportID(key string, n *source.Node) {
	if n.Kind == source.String || (key == "_id" && isExtJSON(n) && n.Members[0].Key == "$oid") {
		return
	}
	p.errorf(n, CodeSchema, "the exported rule %q must be a string, got %s", key, n.Kind.Article())
}

// ParseExpr parses one rule expression (a JSON boolean or an expression
// object, source/rules/expressions.txt) from f, for tools and tests. The
// nodes' pointers are relative to the document f holds.
func ParseExpr(f *source.File) (Expr, error) {
	p := &parser{f: f}
	n, err := source.ParseJSON(f)
	if err != nil {
		return nil, asList(err)
	}
	e := p.expr(n)
	if err := p.done(); err != nil {
		return nil, err
	}
	return e, nil
}

// ParseExprNode parses the rule expression n, a value inside a parsed
// file (the "validate" expression of a schema); the nodes keep n's file
// and pointers.
func ParseExprNode(n *source.Node) (Expr, error) {
	p := &parser{f: n.File()}
	e := p.expr(n)
	if err := p.done(); err != nil {
		return nil, err
	}
	return e, nil
}

// parser turns the JSON tree of one file into the AST, collecting every
// diagnostic.
type parser struct {
	f    *source.File
	errs source.ErrorList
}

func asList(err error) error {
	if e, ok := err.(*source.Error); ok {
		return source.ErrorList{e}
	}
	return err
}

func (p *parser) root() *source.Node {
	n, err := source.ParseJSON(p.f)
	if err != nil {
		if e, ok := err.(*source.Error); ok {
			p.errs.Add(e)
		} else {
			p.errs.Add(&source.Error{File: p.f.Name, Code: source.CodeJSONSyntax, Msg: err.Error()})
		}
		return nil
	}
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "the file must hold a JSON object, not %s", n.Kind.Article())
		return nil
	}
	return n
}

func (p *parser) done() error {
	p.errs.Sort()
	return p.errs.Err()
}

func (p *parser) at(n *source.Node) At { return At{File: p.f, Ptr: n.Ptr, Offset: n.Offset} }

// keyAt locates an object member by its key.
func (p *parser) keyAt(parent source.Pointer, m source.Member) At {
	return At{File: p.f, Ptr: parent.Key(m.Key), Offset: m.KeyOffset}
}

func (p *parser) errorf(n *source.Node, code, format string, args ...any) {
	p.errs.Add(source.Errorf(p.f, n.Offset, n.Ptr, code, format, args...))
}

func (p *parser) errorAt(a At, code, format string, args ...any) {
	p.errs.Add(source.Errorf(p.f, a.Offset, a.Ptr, code, format, args...))
}

// object walks the members of a configuration object, calling fn for each;
// fn returns false for a key it does not know, which is reported as
// rules/unknown-key with a suggestion from known.
func (p *parser) object(n *source.Node, fn func(key string, v *source.Node) bool, known ...string) {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "want an object, got %s", n.Kind.Article())
		return
	}
	for _, m := range n.Members {
		if !fn(m.Key, m.Value) {
			p.errorAt(p.keyAt(n.Ptr, m), CodeUnknownKey, "unknown key %q%s", m.Key, suggestKey(m.Key, known))
		}
	}
}

// suggestKey proposes the known key close to key (source.Closest), else
// lists them.
func suggestKey(key string, known []string) string {
	best, ok := source.Closest(key, known)
	if !ok {
		list := append([]string(nil), known...)
		sort.Strings(list)
		return fmt.Sprintf(" (want one of %s)", strings.Join(list, ", "))
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func (p *parser) str(n *source.Node) string {
	if n.Kind != source.String {
		p.errorf(n, CodeSchema, "want a string, got %s", n.Kind.Article())
		return ""
	}
	return n.Str
}

func (p *parser) boolean(n *source.Node) bool {
	if n.Kind != source.Bool {
		p.errorf(n, CodeSchema, "want a boolean, got %s", n.Kind.Article())
		return false
	}
	return n.Bool
}

func (p *parser) array(n *source.Node) []*source.Node {
	if n.Kind != source.Array {
		p.errorf(n, CodeSchema, "want an array, got %s", n.Kind.Article())
		return nil
	}
	return n.Elems
}

// roleKeys are the keys of a role (source/mongodb/tables/role-configuration.rst).
func roleKeys() []string {
	return []string{"name", "apply_when", "document_filters", "read", "write", "insert", "delete", "search", "fields", "additional_fields"}
}

func (p *parser) roles(n *source.Node) []*Role {
	elems := p.array(n)
	out := make([]*Role, 0, len(elems))
	for _, e := range elems {
		if r := p.role(e); r != nil {
			out = append(out, r)
		}
	}
	return out
}

// role parses one role (source/mongodb/tables/role-configuration.rst).
func (p *parser) role(n *source.Node) *Role {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "a role must be an object, got %s", n.Kind.Article())
		return nil
	}
	r := &Role{At: p.at(n)}
	hasName := false
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "name":
			r.Name, hasName = p.str(v), true
		case "apply_when":
			r.ApplyWhen = p.expr(v)
		case "document_filters", "document_filter":
			if r.DocumentFilters != nil {
				p.errorf(v, CodeSchema, "a role has both \"document_filters\" and \"document_filter\": write it once, as \"document_filters\"")
				return true
			}
			r.DocumentFilters = p.documentFilters(v)
			if r.DocumentFilters != nil {
				r.DocumentFilters.Key = key
			}
		case "read":
			r.Read = p.perm(v)
		case "write":
			r.Write = p.perm(v)
		case "insert":
			r.Insert = p.perm(v)
		case "delete":
			r.Delete = p.perm(v)
		case "search":
			r.Search = p.perm(v)
		case "fields":
			r.Fields = p.fieldRules(v)
		case "additional_fields":
			r.AdditionalFields = p.fieldPerms(v)
		default:
			return false
		}
		return true
	}, roleKeys()...)
	if !hasName {
		p.errorf(n, CodeRequired, `a role needs a "name"`)
	} else if r.Name == "" && n.Get("name").Kind == source.String {
		p.errorf(n.Get("name"), CodeRequired, "a role name must not be empty")
	}
	return r
}

func (p *parser) documentFilters(n *source.Node) *DocumentFilters {
	d := &DocumentFilters{At: p.at(n)}
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "read":
			d.Read = p.expr(v)
		case "write":
			d.Write = p.expr(v)
		default:
			return false
		}
		return true
	}, "read", "write")
	return d
}

func (p *parser) perm(n *source.Node) Perm {
	return Perm{At: p.at(n), Set: true, Expr: p.expr(n)}
}

func (p *parser) fieldRules(n *source.Node) []*FieldRule {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, `"fields" must be an object of field names, got %s`, n.Kind.Article())
		return nil
	}
	out := make([]*FieldRule, 0, len(n.Members))
	for _, m := range n.Members {
		v := m.Value
		if m.Key == "" {
			p.errorAt(p.keyAt(n.Ptr, m), CodeField, "empty field name")
		}
		fr := &FieldRule{At: p.at(v), Name: m.Key}
		p.object(v, func(key string, v *source.Node) bool {
			switch key {
			case "read":
				fr.Read = p.perm(v)
			case "write":
				fr.Write = p.perm(v)
			case "fields":
				fr.Fields = p.fieldRules(v)
			case "additional_fields":
				fr.AdditionalFields = p.fieldPerms(v)
			default:
				return false
			}
			return true
		}, "read", "write", "fields", "additional_fields")
		out = append(out, fr)
	}
	return out
}

func (p *parser) fieldPerms(n *source.Node) *FieldPerms {
	fp := &FieldPerms{At: p.at(n)}
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "read":
			fp.Read = p.perm(v)
		case "write":
			fp.Write = p.perm(v)
		default:
			return false
		}
		return true
	}, "read", "write")
	return fp
}

func (p *parser) filters(n *source.Node) []*Filter {
	elems := p.array(n)
	out := make([]*Filter, 0, len(elems))
	for _, e := range elems {
		if f := p.filter(e); f != nil {
			out = append(out, f)
		}
	}
	return out
}

// filter parses one filter (source/mongodb/tables/query-filter-params.rst).
func (p *parser) filter(n *source.Node) *Filter {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "a filter must be an object, got %s", n.Kind.Article())
		return nil
	}
	f := &Filter{At: p.at(n)}
	hasName := false
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "name":
			f.Name, hasName = p.str(v), true
		case "apply_when":
			f.ApplyWhen = p.expr(v)
		case "query":
			if v.Kind != source.Object {
				p.errorf(v, CodeSchema, "a filter query must be an object, got %s", v.Kind.Article())
				return true
			}
			f.Query = p.expr(v)
		case "projection", "project":
			if f.ProjectionKey != "" {
				p.errorf(v, CodeSchema, "a filter has both %q and %q: write the projection once, as \"projection\"", f.ProjectionKey, key)
				return true
			}
			f.ProjectionKey = key
			f.Projection = p.projection(v)
			if f.Projection == nil {
				f.Projection = []Projection{}
			}
		default:
			return false
		}
		return true
	}, "name", "apply_when", "query", "projection")
	if !hasName {
		p.errorf(n, CodeRequired, `a filter needs a "name"`)
	} else if f.Name == "" && n.Get("name").Kind == source.String {
		p.errorf(n.Get("name"), CodeRequired, "a filter name must not be empty")
	}
	return f
}

func (p *parser) projection(n *source.Node) []Projection {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "a projection must be an object, got %s", n.Kind.Article())
		return nil
	}
	var out []Projection
	for _, m := range n.Members {
		v := m.Value
		pr := Projection{At: p.at(v), Field: m.Key}
		if m.Key == "" {
			p.errorAt(p.keyAt(n.Ptr, m), CodeField, "empty field name")
		}
		switch {
		case v.Kind == source.Bool:
			pr.Include = v.Bool
		case v.Kind == source.Number && (string(v.Raw()) == "0" || string(v.Raw()) == "1"):
			pr.Include = string(v.Raw()) == "1"
		default:
			p.errorf(v, CodeType, "a projection value must be 1, 0, true or false, got %s", shortRaw(v))
			continue
		}
		out = append(out, pr)
	}
	return out
}

func shortRaw(n *source.Node) string {
	var b bytes.Buffer
	s := string(n.Raw())
	if json.Compact(&b, n.Raw()) == nil {
		s = b.String()
	}
	if len(s) > 40 {
		s = s[:37] + "..."
	}
	return s
}

// Logical operators of expressions. The documentation writes %and and %or
// (source/rules/expressions.txt, source/rules/examples.txt); real apps also
// write the MongoDB query spellings $and and $or, and filter queries may use
// $nor. All are accepted; the spelling is kept for Format.
func isLogical(key string) bool {
	switch key {
	case "%and", "$and", "%or", "$or", "$nor":
		return true
	}
	return false
}

// compareOps maps every accepted spelling of a comparison operator to its
// canonical $ spelling. The expressions reference says operators "begin with
// either a single percent sign (%) or a dollar sign ($)" and its examples
// write "%exists"; real apps write "%in" (partition sync permissions), so
// both spellings are accepted for each operator.
func compareOp(key string) (Op, bool) {
	if len(key) < 2 || (key[0] != '$' && key[0] != '%') || key[1] == '%' {
		return "", false
	}
	switch op := Op("$" + key[1:]); op {
	case OpEq, OpNe, OpGt, OpGte, OpLt, OpLte, OpIn, OpNin, OpExists:
		return op, true
	case OpAll, OpSize, OpType, OpMod, OpRegex, OpOptions:
		return op, key[0] == '$'
	}
	return "", false
}

// Value operators compute an operand (source/rules/expressions.txt,
// "Convert EJSON Values" and "Call a Function").
const (
	CallStringToOid  = "%stringToOid"
	CallOidToString  = "%oidToString"
	CallStringToUuid = "%stringToUuid"
	CallUuidToString = "%uuidToString"
	CallFunction     = "%function"
)

func isCall(key string) bool {
	switch key {
	case CallStringToOid, CallOidToString, CallStringToUuid, CallUuidToString, CallFunction:
		return true
	}
	return false
}

// isExtJSONKey reports whether key introduces a MongoDB extended JSON value
// ({"$oid": ...}); an object whose first key is one of them is a literal.
func isExtJSONKey(key string) bool {
	switch key {
	case "$oid", "$date", "$numberInt", "$numberLong", "$numberDouble", "$numberDecimal",
		"$binary", "$uuid", "$regularExpression", "$timestamp", "$minKey", "$maxKey",
		"$symbol", "$code", "$undefined", "$dbPointer", "$scope":
		return true
	}
	return false
}

// The legacy extended JSON regular expression {"$regex": ..., "$options":
// ...} is deliberately not a literal: {"name": {"$regex": "^a"}} is the
// MongoDB query operator (OpRegex, checked by Validate). A regular
// expression literal,
// {"$regularExpression": {"pattern": ..., "options": ...}}, is refused as
// rules/regex (see CodeRegex).

func isExtJSON(n *source.Node) bool {
	return n.Kind == source.Object && len(n.Members) > 0 && isExtJSONKey(n.Members[0].Key)
}

// isOperatorKey reports whether key is written as an operator: "$..." or
// "%..." but not an expansion "%%...".
func isOperatorKey(key string) bool {
	return strings.HasPrefix(key, "$") || (strings.HasPrefix(key, "%") && !strings.HasPrefix(key, "%%"))
}

// expr parses a rule expression: true, false, or an object whose fields
// are matches or logical operators (source/rules/expressions.txt,
// "Expression Syntax"). An object with one field is that field's
// expression; with several, their And ("Multi-Field Expressions"); {} is the
// empty And, which holds.
func (p *parser) expr(n *source.Node) Expr {
	switch n.Kind {
	case source.Bool:
		return &Bool{At: p.at(n), Value: n.Bool}
	case source.Object:
	default:
		p.errorf(n, CodeType, "an expression must be true, false or an object, got %s", n.Kind.Article())
		return &Bool{At: p.at(n), Value: false}
	}
	args := make([]Expr, 0, len(n.Members))
	for _, m := range n.Members {
		if e := p.member(n.Ptr, m); e != nil {
			args = append(args, e)
		}
	}
	if len(args) == 1 && len(n.Members) == 1 {
		return args[0]
	}
	return &And{At: p.at(n), Args: args}
}

// member parses one field of an expression object.
func (p *parser) member(parent source.Pointer, m source.Member) Expr {
	v := m.Value
	key := m.Key
	at := p.keyAt(parent, m)
	switch {
	case isLogical(key):
		return p.logical(at, key, v)
	case expansion.IsExpansion(key):
		ref, err := expansion.Parse(key)
		if err != nil {
			p.expansionErr(at, err)
			return nil
		}
		cond := p.cond(v)
		if cond == nil {
			return nil
		}
		return &Match{At: at, Left: Left{At: at, Ref: ref, Key: key}, Cond: cond}
	case isOperatorKey(key):
		if _, ok := compareOp(key); ok {
			p.errorAt(at, CodeUnknownOperator, "%s compares a field: write {\"<field>\": {%q: ...}}", key, key)
		} else if isCall(key) {
			p.errorAt(at, CodeUnknownOperator, "%s computes a value and must be the value of a field, as in {\"%%%%true\": {%q: ...}}", key, key)
		} else {
			p.errorAt(at, CodeUnknownOperator, "unknown operator %q%s", key, suggestOp(key))
		}
		return nil
	default:
		path, ok := fieldPath(key)
		if !ok {
			p.errorAt(at, CodeField, "malformed field name %q: empty path segment", key)
			return nil
		}
		cond := p.cond(v)
		if cond == nil {
			return nil
		}
		return &Match{At: at, Left: Left{At: at, Ref: expansion.Ref{Root: expansion.RootRoot, Path: path}, Implicit: true, Key: key}, Cond: cond}
	}
}

// fieldPath splits a dotted MongoDB field path; every segment must be
// non-empty.
func fieldPath(key string) ([]string, bool) {
	path := strings.Split(key, ".")
	for _, s := range path {
		if s == "" {
			return nil, false
		}
	}
	return path, true
}

func (p *parser) expansionErr(at At, err error) {
	if e, ok := err.(*expansion.Error); ok {
		p.errorAt(at, e.Code, "%s", e.Msg)
		return
	}
	p.errorAt(at, expansion.CodeSyntax, "%v", err)
}

func (p *parser) logical(_ At, key string, v *source.Node) Expr {
	if v.Kind != source.Array {
		p.errorf(v, CodeType, "%s expects an array of expressions, got %s", key, v.Kind.Article())
		return nil
	}
	args := make([]Expr, 0, len(v.Elems))
	for _, e := range v.Elems {
		args = append(args, p.expr(e))
	}
	at := p.at(v)
	switch key {
	case "%and", "$and":
		return &And{At: at, Args: args, Op: key}
	case "%or", "$or":
		return &Or{At: at, Args: args, Op: key}
	default:
		return &Nor{At: at, Args: args}
	}
}

// suggestOp proposes the known operator close to key (source.Closest: at
// most one edit for every three characters of the name after its "$" or
// "%", so that "$all" would not suggest "$lt", nor "$bad" "$and").
func suggestOp(key string) string {
	known := []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$all", "$size", "$type", "$mod", "$regex", "$options", "$not", "$elemMatch", "%and", "%or", "$and", "$or", "$nor", CallStringToOid, CallOidToString, CallStringToUuid, CallUuidToString, CallFunction}
	best, ok := source.Closest(key, known)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// cond parses the value of a match: an operator object ({"$in": [...]}),
// a logical combination of operator objects ({"%and": [{"$gt": 0}, {"$lte":
// 42}]}, as in the expressions reference's "Embedded Expressions" example),
// or an operand compared for equality.
func (p *parser) cond(n *source.Node) Cond {
	if n.Kind != source.Object || len(n.Members) == 0 || isExtJSON(n) {
		return &Equals{At: p.at(n), Operand: p.operand(n)}
	}
	first := n.Members[0].Key
	if !isOperatorKey(first) {
		// An embedded document compared for equality; operators may not
		// be mixed in.
		for _, m := range n.Members[1:] {
			if isOperatorKey(m.Key) {
				p.errorAt(p.keyAt(n.Ptr, m), CodeType, "an object mixes field %q and operator %q", first, m.Key)
				return nil
			}
		}
		return &Equals{At: p.at(n), Operand: p.operand(n)}
	}
	if len(n.Members) == 1 && isCall(first) {
		return &Equals{At: p.at(n), Operand: p.operand(n)}
	}
	if len(n.Members) == 1 && isLogical(first) {
		return p.condLogic(first, n.Members[0].Value)
	}
	if len(n.Members) == 1 && first == opNot {
		return p.not(n.Members[0].Value)
	}
	if len(n.Members) == 1 && first == opElemMatch {
		return p.elemMatch(n.Members[0].Value)
	}
	ops := &Ops{At: p.at(n)}
	bad := false
	for _, m := range n.Members {
		at := p.keyAt(n.Ptr, m)
		op, ok := compareOp(m.Key)
		if !ok {
			bad = true
			switch {
			case !isOperatorKey(m.Key):
				p.errorAt(at, CodeType, "an object mixes operator %q and field %q", first, m.Key)
			case isLogical(m.Key) || isCall(m.Key) || m.Key == opNot || m.Key == opElemMatch:
				p.errorAt(at, CodeUnknownOperator, "%s must be the only key of its object", m.Key)
			default:
				p.errorAt(at, CodeUnknownOperator, "unknown operator %q%s", m.Key, suggestOp(m.Key))
			}
			continue
		}
		arg := p.operand(m.Value)
		ops.Ops = append(ops.Ops, OpArg{At: at, Op: op, Spelling: m.Key, Arg: arg})
		p.checkOpArg(op, m.Key, arg)
	}
	if bad {
		return nil
	}
	return ops
}

// checkOpArg reports operand types that can never be right, whatever the
// request: $in/$nin/$all with a literal that is not an array, $exists with a
// literal that is not a boolean or number, $size with a literal that is
// not a non-negative whole number.
func (p *parser) checkOpArg(op Op, spelled string, arg Operand) {
	lit, ok := arg.(*Literal)
	if !ok || lit.Value.IsMissing() { // Missing: the operand's own error is reported
		return
	}
	switch op {
	case OpIn, OpNin, OpAll:
		if !lit.Value.IsArray() {
			p.errorAt(lit.At, CodeType, "%s expects an array, got %s", spelled, lit.Value.ExtJSON())
		}
	case OpType:
		if _, ok := value.TypesOK(lit.Value); !ok {
			p.errorAt(lit.At, CodeType, "%s expects a BSON type alias or number, or an array of them, got %s", spelled, lit.Value.ExtJSON())
		}
	case OpMod:
		if _, _, ok := value.ModOK(lit.Value); !ok {
			p.errorAt(lit.At, CodeType, "%s expects [divisor, remainder], two numbers and a divisor other than 0, got %s", spelled, lit.Value.ExtJSON())
		}
	case OpSize:
		if _, ok := value.SizeOK(lit.Value); !ok {
			p.errorAt(lit.At, CodeType, "%s expects a non-negative whole number, got %s", spelled, lit.Value.ExtJSON())
		}
	case OpExists:
		if _, isBool := lit.Value.BoolOK(); !isBool && !lit.Value.IsNumber() {
			p.errorAt(lit.At, CodeType, "%s expects a boolean, got %s", spelled, lit.Value.ExtJSON())
		}
	}
}

// opElemMatch is the array operator whose elements are tested
// (ElemMatch).
const opElemMatch = "$elemMatch"

// elemMatch parses the value of {"$elemMatch": ...}: an object, its first
// key choosing the operator form (an operator that is not logical nor a
// call: Cond) or the query form (Query), as the server chooses
// (the MongoDB manual, $elemMatch).
func (p *parser) elemMatch(v *source.Node) Cond {
	if v.Kind != source.Object || isExtJSON(v) {
		p.errorf(v, CodeType, "$elemMatch expects an object, got %s", v.Kind.Article())
		return nil
	}
	em := &ElemMatch{At: p.at(v)}
	if len(v.Members) > 0 && isOperatorKey(v.Members[0].Key) && !isLogical(v.Members[0].Key) {
		if isCall(v.Members[0].Key) {
			p.errorf(v, CodeType, "$elemMatch expects operators or a query, got %s", v.Members[0].Key)
			return nil
		}
		if em.Cond = p.cond(v); em.Cond == nil {
			return nil
		}
		return em
	}
	em.Query = p.expr(v)
	return em
}

// opNot is the condition-level negation of one operator object.
const opNot = "$not"

// not parses the value of {"$not": ...}: an object of operators, which it
// negates (a CondLogic "$not" with that one condition). The MongoDB
// manual's other form, a regular expression, is refused as regexes are.
func (p *parser) not(v *source.Node) Cond {
	if v.Kind != source.Object || len(v.Members) == 0 || isExtJSON(v) || !isOperatorKey(v.Members[0].Key) || isCall(v.Members[0].Key) {
		p.errorf(v, CodeType, "$not expects an object of operators, got %s", v.Kind.Article())
		return nil
	}
	sub := p.cond(v)
	if sub == nil {
		return nil
	}
	return &CondLogic{At: p.at(v), Op: opNot, Args: []Cond{sub}}
}

func (p *parser) condLogic(key string, v *source.Node) Cond {
	if v.Kind != source.Array {
		p.errorf(v, CodeType, "%s expects an array of conditions, got %s", key, v.Kind.Article())
		return nil
	}
	c := &CondLogic{At: p.at(v), Op: key}
	for _, e := range v.Elems {
		sub := p.cond(e)
		if sub == nil {
			continue
		}
		c.Args = append(c.Args, sub)
	}
	return c
}

// operand parses a value position: an expansion string, a call, an array
// or document holding expansions, or a literal (plain or extended JSON).
func (p *parser) operand(n *source.Node) Operand {
	switch n.Kind {
	case source.String:
		if expansion.IsExpansion(n.Str) {
			ref, err := expansion.Parse(n.Str)
			if err != nil && len(n.Str) > 4 && strings.HasSuffix(n.Str, "%%") {
				if r2, err2 := expansion.Parse(strings.TrimSuffix(n.Str, "%%")); err2 == nil {
					return &ExpansionRef{At: p.at(n), Ref: r2, Written: n.Str}
				}
			}
			if err != nil {
				p.expansionErr(p.at(n), err)
				return &Literal{At: p.at(n), Value: value.Missing()}
			}
			return &ExpansionRef{At: p.at(n), Ref: ref}
		}
	case source.Array:
		if dynamic(n) {
			a := &ArrayOperand{At: p.at(n)}
			for _, e := range n.Elems {
				a.Elems = append(a.Elems, p.operand(e))
			}
			return a
		}
	case source.Object:
		if len(n.Members) == 1 && isCall(n.Members[0].Key) {
			return p.call(n.Members[0].Key, n.Members[0].Value, p.keyAt(n.Ptr, n.Members[0]))
		}
		if isExtJSON(n) {
			break
		}
		if !p.valueKeys(n) {
			return &Literal{At: p.at(n), Value: value.Missing()}
		}
		if dynamic(n) {
			d := &DocOperand{At: p.at(n)}
			for _, m := range n.Members {
				d.Fields = append(d.Fields, DocField{Key: m.Key, Value: p.operand(m.Value)})
			}
			return d
		}
	}
	if !p.literalKeys(n) {
		return &Literal{At: p.at(n), Value: value.Missing()}
	}
	v, err := value.FromExtJSON(n.Raw())
	if err != nil {
		p.errorf(n, CodeType, "malformed extended JSON value %s", shortRaw(n))
		return &Literal{At: p.at(n), Value: value.Missing()}
	}
	if code, msg := operandRefusal(value.CheckOperand(v), shortRaw(n)); code != "" {
		p.errorf(n, code, "%s", msg)
		return &Literal{At: p.at(n), Value: value.Missing()}
	}
	return &Literal{At: p.at(n), Value: v}
}

// valueKeys checks the keys of a document in a value position: operators
// have no meaning there, and an expansion key would make the document an
// embedded expression, which rulegate does not guess at (it refuses it
// rather than compare with a document that has a "%%..." key).
func (p *parser) valueKeys(n *source.Node) bool {
	ok := true
	for _, m := range n.Members {
		switch {
		case expansion.IsExpansion(m.Key):
			p.errorAt(p.keyAt(n.Ptr, m), CodeType, "an expansion (%s) cannot be a key inside a value; compare it in the expression itself: {%q: ...}", m.Key, m.Key)
			ok = false
		case isOperatorKey(m.Key):
			p.errorAt(p.keyAt(n.Ptr, m), CodeUnknownOperator, "operator %q is not allowed in a value", m.Key)
			ok = false
		}
	}
	return ok
}

// literalKeys applies valueKeys to every document nested in a literal,
// except extended JSON values.
func (p *parser) literalKeys(n *source.Node) bool {
	switch n.Kind {
	case source.Array:
		ok := true
		for _, e := range n.Elems {
			ok = p.literalKeys(e) && ok
		}
		return ok
	case source.Object:
		if isExtJSON(n) {
			return true
		}
		ok := p.valueKeys(n)
		for _, m := range n.Members {
			ok = p.literalKeys(m.Value) && ok
		}
		return ok
	}
	return true
}

// dynamic reports whether a JSON value holds an expansion string or a call
// anywhere inside.
func dynamic(n *source.Node) bool {
	switch n.Kind {
	case source.String:
		return expansion.IsExpansion(n.Str)
	case source.Array:
		for _, e := range n.Elems {
			if dynamic(e) {
				return true
			}
		}
	case source.Object:
		for _, m := range n.Members {
			if isCall(m.Key) || dynamic(m.Value) {
				return true
			}
		}
	}
	return false
}

// call parses %stringToOid, %oidToString, %stringToUuid, %uuidToString
// and %function (source/rules/expressions.txt). The conversions "do not
// evaluate JSON operators": their operand is a literal string (or EJSON
// ObjectId, or UUID: {"$uuid": ...} or a {"$binary": ...} of subtype 4)
// or an expansion, nothing else.
func (p *parser) call(op string, v *source.Node, at At) Operand {
	c := &Call{At: at, Op: op}
	switch op {
	case CallStringToOid, CallOidToString, CallStringToUuid, CallUuidToString:
		switch {
		case v.Kind == source.String:
			c.Arg = p.operand(v)
		case op == CallOidToString && isExtJSON(v) && v.Members[0].Key == "$oid":
			c.Arg = p.operand(v)
		case op == CallUuidToString && isExtJSON(v) && (v.Members[0].Key == "$uuid" || v.Members[0].Key == "$binary"):
			c.Arg = p.operand(v)
		default:
			p.errorf(v, CodeType, "%s expects a string or an expansion (it evaluates no inner operators), got %s", op, shortRaw(v))
			c.Arg = &Literal{At: p.at(v), Value: value.Missing()}
			return c
		}
		if lit, ok := c.Arg.(*Literal); ok && op == CallStringToOid {
			if s, isStr := lit.Value.StringOK(); isStr && !validOidString(s) && len(s) != 12 {
				p.errorf(v, CodeType, "%s expects a 24-digit hex or 12-byte string, got %q", op, s)
			}
		}
		if lit, ok := c.Arg.(*Literal); ok && op == CallStringToUuid {
			if s, isStr := lit.Value.StringOK(); isStr && value.StringToUUID(value.String(s)).IsMissing() {
				p.errorf(v, CodeType, "%s expects a UUID string (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), got %q", op, s)
			}
		}
	case CallFunction:
		if v.Kind != source.Object {
			p.errorf(v, CodeType, `%%function expects {"name": ..., "arguments": [...]}, got %s`, v.Kind.Article())
			return c
		}
		hasName := false
		p.object(v, func(key string, a *source.Node) bool {
			switch key {
			case "name":
				c.Name, hasName = p.str(a), true
			case "arguments":
				for _, e := range p.array(a) {
					c.Args = append(c.Args, p.operand(e))
				}
			default:
				return false
			}
			return true
		}, "name", "arguments")
		if !hasName {
			p.errorf(v, CodeRequired, `%%function needs a "name"`)
		} else if c.Name == "" && v.Get("name").Kind == source.String {
			p.errorf(v.Get("name"), CodeRequired, "%%function name must not be empty")
		}
	}
	return c
}

// validOidString reports whether s is the 24 hex digits of an ObjectId.
// The expressions reference also allows a 12-byte string (the raw id).
func validOidString(s string) bool {
	if len(s) != 24 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// operandRefusal is the code and message of a literal that CheckOperand
// refuses with r (got: the value as written); "" for a comparable one.
func operandRefusal(r value.Refusal, got string) (code, msg string) {
	switch r {
	case value.RefuseRegex:
		return CodeRegex, "regular expression values are not supported: MongoDB matches them as patterns, which rulegate does not implement; got " + got
	case value.RefuseUndefined:
		return CodeOperand, "undefined values are not supported: MongoDB refuses comparisons to undefined; got " + got
	case value.RefuseOperator:
		return CodeOperand, "a document starting with a $ field is not supported as a value: MongoDB reads it as operators; got " + got
	}
	return "", ""
}
