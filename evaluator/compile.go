package evaluator

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// Stable diagnostic codes of Compile.
const (
	// CodeTooLarge: the rules exceed the node limit (WithMaxNodes).
	CodeTooLarge = "evaluator/too-large"
	// CodeInvalid: the AST is malformed (a nil node where one is needed).
	CodeInvalid = "evaluator/invalid"
)

// phase says when a compiled node's value becomes known.
type phase uint8

const (
	phConst phase = iota + 1 // at compile time
	phReq                    // once per request (Bind)
	phDoc                    // per document
)

func maxPhase(a, b phase) phase {
	if a > b {
		return a
	}
	return b
}

// docSel selects the document a path is read from.
type docSel uint8

const (
	selRoot docSel = iota + 1 // %%root
	selPrev                   // %%prevRoot
)

type operandKind uint8

const (
	oConst    operandKind = iota + 1 // val
	oReq                             // Bound.vals[slot]
	oDocPath                         // the value at path in the selected document
	oDocBuild                        // built per document (array, document or call over document values)
)

type buildKind uint8

const (
	bRef   buildKind = iota + 1 // a request-phase expansion
	bArray                      // an array of operands
	bDoc                        // a document of operands
	bCall                       // %stringToOid, %oidToString, %stringToUuid, %uuidToString, %function
)

// operand is a compiled value position.
type operand struct {
	at    rules.At
	kind  operandKind
	phase phase
	val   value.Value // oConst
	slot  int         // oReq: index into Bound.vals
	sel   docSel      // oDocPath
	path  value.Path  // oDocPath; empty means the whole document
	// fromExp marks values that come from an expansion or a call rather
	// than a literal: a null among them never matches (fail closed), and
	// an array compared for equality means membership.
	fromExp bool
	// left marks the left side of a match: its nulls are kept.
	left bool
	// need, on the left side only, reads the input that an app value
	// this operand reads comes in (%%values.<name> of values/, or
	// %%environment.values of environments/): when the request does not
	// provide it, the operand fails with ErrNotProvided and needMsg (see
	// Bound.bind).
	need    *expansion.Accessor
	needMsg string
	// negNull marks the operand of a $ne that means membership (an
	// array from an expansion, outside filter queries): a value of it
	// that holds a null reads as Missing (nullInMembership).
	negNull bool
	// inSet marks the operand of $in and $nin: its set keeps the null
	// elements of an array that comes from an expansion, as MongoDB's
	// {"$nin": [null]} excludes null and missing fields. Dropping them
	// would widen $nin (and $in under $nor).
	inSet bool
	// set is the $in/$nin or membership set: setConst for constants,
	// Bound.sets[setSlot] for request values (setSlot < 0: none).
	setConst value.Set
	setSlot  int
	needSet  bool
	text     string // the operand as written, for traces

	build *builder
}

type builder struct {
	kind  buildKind
	elems []*operand
	keys  []string
	op    string // call operator
	name  string // %function name
	// acc resolves a request-phase expansion (bRef), compiled once.
	acc *expansion.Accessor
}

type condKind uint8

const (
	cEq condKind = iota + 1
	cNe
	cCmp
	cIn
	cNin
	cExists
	cAll
	cSize
	cType
	cMod
	cRegex
	cElemMatch
	cAnd
	cOr
	cNor
)

// cnode is a compiled condition: what the left side of a match is tested
// against.
type cnode struct {
	at   rules.At
	kind condKind
	op   string // as written, for traces
	cmp  value.CmpOp
	arg  *operand
	kids []*cnode
	re   *value.Pattern // cRegex
	// cElemMatch: q, the query form over a document element, or kids[0],
	// the operator form tested on the element as the value.
	q     *node
	phase phase
	// neg: the comparison sits under an odd number of $nor (expression or
	// condition level). A comparison with a missing value compared against
	// is then true, so that the $nor above it is false: a missing claim never
	// widens access, under negation either (Kleene logic with unknown
	// collapsed to false at the top, decided per comparison).
	neg bool
}

type nodeKind uint8

const (
	nConst nodeKind = iota + 1
	nAnd
	nOr
	nNor
	nMatch
)

// node is a compiled rule expression.
type node struct {
	at    rules.At
	kind  nodeKind
	phase phase
	val   bool // nConst
	kids  []*node
	left  *operand // nMatch
	cond  *cnode   // nMatch
	// query marks a node compiled from a filter query (MongoDB semantics:
	// no membership for array expansions).
	query bool
	slot  int // request-phase nodes: Bound.bools[slot]
	what  string
	// synth marks the nodes of role semantics (roles.go): no trace step
	// of their own, never cached by Bind, every child translated.
	synth bool
	gate  uint8 // nGate: 0 document_filters.read, 1 document_filters.write
}

// perms are compiled read/write permissions; nil means absent.
type perms struct {
	at          rules.At
	read, write *node
}

// cfield is a compiled field rule.
type cfield struct {
	at          rules.At
	name        string
	path        []string // from the document root
	read, write *node    // nil: not set
	fields      []*cfield
	addl        *perms
	// Role semantics (roles.go), indexed read 0, write 1: the labeled
	// own permission (nil: none), additional_fields, some field granted,
	// every embedded field granted; for a top-level field, read and
	// write access to it (crole.topAccess).
	permL, addlL, any, allSub, top [2]*node
}

func (f *cfield) hasSub() bool { return len(f.fields) > 0 || f.addl != nil }

// crole is a compiled role.
type crole struct {
	at                      rules.At
	name                    string
	applyWhen               *node
	dfRead, dfWrite         *node // nil: not set
	read, write             *node // nil: not set
	insert, delete, search  *node
	fields                  []*cfield
	addl                    *perms
	hasFieldRules           bool
	insertSet, deleteSet    bool
	searchSet, applyWhenSet bool

	// Role semantics (roles.go): the document_filters gates (gWIR: the
	// gate under which write implies read; readGate: the gate of read and
	// search), additional_fields, some field granted (any, read 0 and
	// write 1), read access to something, the labeled action permissions,
	// every field readable, and a sufficient condition for every field
	// writable.
	gRead, gWrite, gWIR, readGate *node
	addlL, any                    [2]*node
	mayRead                       *node
	searchL, insertL, deleteL     *node
	readsAll, allWritable         *node
	// other is read and write access to a top-level field no rule names
	// (crole.topAccess).
	other [2]*node
}

// cfilter is a compiled filter.
type cfilter struct {
	at         rules.At
	name       string
	applyWhen  *node
	query      *node // nil: none
	projection []rules.Projection
	projKind   projKind
	// idx is the filter's index in ccoll.filters (Bound.forced).
	idx int
	// watch are the request-phase operands of apply_when's comparisons
	// other than $exists; when one is missing at Bind, apply_when is
	// evaluated in three-valued logic and an unknown result applies the
	// filter (a missing claim never widens access; Bind, evalCtx.tri).
	// always: such an operand is missing at compile time.
	watch  []*operand
	always bool
}

// projKind is the type of a filter's projection. _id may be excluded
// alongside inclusions (and included alongside exclusions), as in
// MongoDB, so it does not decide the type.
type projKind uint8

const (
	projNone projKind = iota // no projection, or _id only
	projIncl                 // includes fields
	projExcl                 // excludes fields
)

func projectionKind(ps []rules.Projection) projKind {
	k := projNone
	for _, p := range ps {
		if p.Field == "_id" {
			continue
		}
		if p.Include {
			return projIncl
		}
		k = projExcl
	}
	return k
}

func (k projKind) String() string {
	if k == projIncl {
		return "inclusive"
	}
	return "exclusive"
}

// ccoll is the compiled rules of one namespace (or the default rule).
type ccoll struct {
	ns      string
	file    string
	dflt    bool
	roles   []*crole
	filters []*cfilter
	// watched: some filter has watched operands (Bound.forced is needed).
	watched bool
	// projMixed: some filters include and some exclude fields; when such
	// filters apply together the request fails (ErrProjectionConflict).
	projMixed bool

	reqOps   []*operand // request-phase operands, children before parents
	setOps   []*operand // request-phase operands that need a Set
	reqNodes []*node    // request-phase nodes, children before parents
	// drift are the conditions whose operand is a request value of a
	// shape the operator needs ($in, $nin, $all, $size, $type, $mod):
	// Bind notes those whose value has another (CodeTypeDrift).
	drift []*cnode

	namedPaths []string // Bound.NamedPaths, computed once (namedPaths)
}

// Program is a compiled set of rules. It is immutable and safe for
// concurrent use.
type Program struct {
	colls map[string]*ccoll
	dflt  *ccoll
	// schemas are the compiled schemas by namespace (nil when none).
	schemas map[string]*cschema
	fns     *functions
	nodes   int
}

// Namespaces returns the namespaces that have rules of their own, sorted.
func (p *Program) Namespaces() []string {
	out := make([]string, 0, len(p.colls))
	for ns := range p.colls {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// HasDefaultRule reports whether collections without rules fall back to a
// default rule.
func (p *Program) HasDefaultRule() bool { return p.dflt != nil }

type compiler struct {
	cfg   config
	errs  source.ErrorList
	nodes int
	c     *ccoll
	fns   *functions
	// values are the app's values/ by name, envValues the names that
	// its environments/ set.
	values    map[string]*rules.Value
	envValues map[string]bool
	// watch is the filter whose apply_when is being compiled: its
	// comparisons' request-phase operands are recorded (cfilter.watch).
	watch *cfilter
	// neg is the polarity of the expression being compiled: true under an
	// odd number of $nor (see cnode.neg).
	neg bool
	// overAt is the file whose rules crossed the node limit.
	overAt rules.At
	over   bool
}

// Compile compiles the rules of an app: the collections of its data
// sources and the default rule. The app is validated first
// (rules.Validate); its errors, and compile errors (an unknown function,
// the node limit), are returned as a source.ErrorList with positions. Expansions are bound to accessors,
// constant sub-expressions are folded, and each node is marked as
// constant, per-request or per-document. Errors are a source.ErrorList with
// positions.
func Compile(app *rules.App, opts ...Option) (*Program, error) {
	if app == nil {
		return nil, fmt.Errorf("evaluator: nil app")
	}
	cfg := newConfig(opts)
	// The rules are validated first (rules.Validate): a Program is never
	// compiled from rules with errors. Warnings do not stop compilation.
	fns, ferrs := newFunctions(app, cfg.funcs, cfg.funcSet)
	if errs := rules.Validate(app, rules.ValidateOptions{Functions: fns.names()}).Errors(); len(errs) > 0 {
		return nil, errs
	}
	if len(ferrs) > 0 {
		return nil, ferrs
	}
	p := &Program{colls: map[string]*ccoll{}, fns: fns}
	cp := newCompiler(app, cfg, fns)
	if cfg.dataSource != "" {
		ds := app.DataSource(cfg.dataSource)
		if ds == nil {
			return nil, fmt.Errorf("evaluator: no data source %q", cfg.dataSource)
		}
		for _, coll := range ds.Collections {
			if ns := coll.Namespace(); p.colls[ns] == nil {
				d := ds.DefaultRule
				if rules.Reserved(ns) {
					d = nil
				}
				p.colls[ns] = cp.collOrDefault(ns, coll, d)
			}
		}
		if ds.DefaultRule != nil {
			p.dflt = cp.collection("", ds.DefaultRule.At, ds.DefaultRule.Roles, ds.DefaultRule.Filters, true)
		}
	} else {
		// The data source of each namespace, and the default rule, are
		// chosen as rules.App.Collection and rules.App.DefaultRuleFor do.
		for _, ds := range app.DataSources {
			for _, coll := range ds.Collections {
				ns := coll.Namespace()
				if p.colls[ns] != nil {
					continue
				}
				if c, _ := app.Collection(ns); c != nil {
					p.colls[ns] = cp.collOrDefault(ns, c, app.DefaultRuleFor(ns))
				}
			}
		}
		if d := app.DefaultRuleFor("\x00"); d != nil {
			p.dflt = cp.collection("", d.At, d.Roles, d.Filters, true)
		}
	}
	p.schemas = cp.schemas(app, cfg.dataSource)
	if cp.nodes > cfg.maxNodes {
		cp.errorf(cp.overAt, CodeTooLarge, "the rules have %d nodes, more than the limit of %d (WithMaxNodes)", cp.nodes, cfg.maxNodes)
	}
	p.nodes = cp.nodes
	if err := cp.errs.Err(); err != nil {
		return nil, err
	}
	return p, nil
}

// cschema is the compiled schema of a namespace (schema.json, or an old
// rule file's inline schema): the schema package's Schema, and its
// validate expressions compiled as rule expressions whose %%this and
// %%prev name the field they validate. The expressions have a collection
// of their own, so that their request-phase operands (%%user, ...) are
// bound per request as a collection's are.
type cschema struct {
	s     *schema.Schema
	coll  *ccoll // nil without validate expressions
	exprs []*node
}

// schemas compiles the schema of each namespace: of the data source
// WithDataSource names, else the one rules.App.Schema chooses. Schema
// errors are compile errors; its warnings are rulegate check's
// (schema.Check).
func (cp *compiler) schemas(app *rules.App, dataSource string) map[string]*cschema {
	var out map[string]*cschema
	for _, ds := range app.DataSources {
		if dataSource != "" && ds.Name != dataSource {
			continue
		}
		for _, rs := range ds.Schemas {
			ns := rs.Namespace()
			if out[ns] != nil {
				continue
			}
			if dataSource == "" {
				rs = app.Schema(ns)
			}
			s, diags := schema.Compile(rs.Node)
			cp.errs = append(cp.errs, diags.Errors()...)
			if s == nil {
				continue
			}
			cs := &cschema{s: s}
			if exprs := s.Expressions(); len(exprs) > 0 {
				cs.coll = &ccoll{ns: ns, file: s.File()}
				cp.c = cs.coll
				for _, e := range exprs {
					cs.exprs = append(cs.exprs, cp.expr(e.Expr, false, e.Path, "schema.validate"))
				}
				cp.c = nil
			}
			if out == nil {
				out = map[string]*cschema{}
			}
			out[ns] = cs
		}
	}
	return out
}

// CompileCollection compiles the rules of one collection (a rules.json
// parsed with rules.ParseRules) into a Program that enforces them on the
// collection's namespace.
func CompileCollection(c *rules.Collection, opts ...Option) (*Program, error) {
	if c == nil {
		return nil, fmt.Errorf("evaluator: nil collection")
	}
	app := &rules.App{DataSources: []*rules.DataSource{{Name: "mongodb-atlas", Collections: []*rules.Collection{c}}}}
	return Compile(app, opts...)
}

func (cp *compiler) errorf(at rules.At, code, format string, args ...any) {
	e := &source.Error{Ptr: at.Ptr, Code: code, Msg: fmt.Sprintf(format, args...)}
	if at.File != nil {
		e.File = at.File.Name
		pos := at.Pos()
		e.Line, e.Col = pos.Line, pos.Col
	}
	cp.errs.Add(e)
}

// collOrDefault compiles the rules.json of ns. A rules.json without roles
// ("roles": [], or none, as the scaffold `echo '{}' > rules.json` of
// source/rules/filters.txt) has no collection-level roles, so the request
// "falls back to the data source's default roles" (source/rules/roles.txt,
// "How App Services Assigns Roles"): the default rule's roles decide, and
// both the collection's filters and the default rule's apply (more filters
// only restrict: fail closed). Without a default rule the collection keeps
// no roles and denies (ReasonNoRole).
func (cp *compiler) collOrDefault(ns string, c *rules.Collection, d *rules.DefaultRule) *ccoll {
	if d == nil || hasRole(c.Roles) {
		return cp.collection(ns, c.At, c.Roles, c.Filters, false)
	}
	filters := append(append([]*rules.Filter(nil), c.Filters...), d.Filters...)
	return cp.collection(ns, c.At, d.Roles, filters, false)
}

func hasRole(rs []*rules.Role) bool {
	for _, r := range rs {
		if r != nil {
			return true
		}
	}
	return false
}

func (cp *compiler) collection(ns string, at rules.At, roles []*rules.Role, filters []*rules.Filter, dflt bool) *ccoll {
	c := &ccoll{ns: ns, file: at.FileName(), dflt: dflt}
	cp.c = c
	for _, f := range filters {
		if f == nil {
			continue
		}
		cf := &cfilter{at: f.At, name: f.Name, projection: f.Projection, projKind: projectionKind(f.Projection), idx: len(c.filters)}
		cp.watch = cf
		cf.applyWhen = cp.exprOr(f.ApplyWhen, true, false, nil, "filter.apply_when")
		cp.watch = nil
		c.watched = c.watched || len(cf.watch) > 0
		for _, o := range c.filters {
			if o.projKind != projNone && cf.projKind != projNone && o.projKind != cf.projKind {
				c.projMixed = true
			}
		}
		if f.Query != nil {
			cf.query = cp.expr(f.Query, true, nil, "filter.query")
		}
		c.filters = append(c.filters, cf)
	}
	for _, r := range roles {
		if r == nil {
			continue
		}
		c.roles = append(c.roles, cp.role(r))
	}
	c.namedPaths = namedPaths(c)
	cp.c = nil
	if cp.nodes > cp.cfg.maxNodes && !cp.over {
		cp.over, cp.overAt = true, rules.At{File: at.File}
	}
	return c
}

func (cp *compiler) role(r *rules.Role) *crole {
	cr := &crole{at: r.At, name: r.Name}
	cr.applyWhenSet = r.ApplyWhen != nil
	cr.applyWhen = cp.exprOr(r.ApplyWhen, true, false, nil, "apply_when")
	if df := r.DocumentFilters; df != nil {
		if df.Read != nil {
			cr.dfRead = cp.expr(df.Read, false, nil, "document_filters.read")
		}
		if df.Write != nil {
			cr.dfWrite = cp.expr(df.Write, false, nil, "document_filters.write")
		}
	}
	cr.read = cp.perm(r.Read, nil, "read")
	cr.write = cp.perm(r.Write, nil, "write")
	cr.insertSet, cr.deleteSet, cr.searchSet = r.Insert.Set, r.Delete.Set, r.Search.Set
	cr.insert = cp.permDefault(r.Insert, true, "insert")
	cr.delete = cp.permDefault(r.Delete, true, "delete")
	cr.search = cp.permDefault(r.Search, true, "search")
	if r.AdditionalFields != nil {
		cr.addl = cp.fieldPerms(r.AdditionalFields, nil)
	}
	cr.fields = cp.fields(r.Fields, nil, cr.addl)
	cr.hasFieldRules = len(cr.fields) > 0 || cr.addl != nil && (cr.addl.read != nil || cr.addl.write != nil)
	roleSem(cr)
	return cr
}

// fields compiles field rules. A dotted rule name ("address.zip") names
// an embedded field: it is nested under a rule for its parent ("address"),
// created without permissions of its own when the rules have none, whose
// unnamed fields keep the enclosing additional_fields (addl).
func (cp *compiler) fields(frs []*rules.FieldRule, parent []string, addl *perms) []*cfield {
	var out []*cfield
	for _, fr := range frs {
		if fr == nil {
			continue
		}
		segs := strings.Split(fr.Name, ".")
		level, prefix, laddl := &out, parent, addl
		for _, seg := range segs[:len(segs)-1] {
			prefix = append(append([]string(nil), prefix...), seg)
			var host *cfield
			for _, f := range *level {
				if f.name == seg {
					host = f
				}
			}
			if host == nil {
				host = &cfield{at: fr.At, name: seg, path: prefix, addl: laddl}
				*level = append(*level, host)
			}
			level, laddl = &host.fields, host.addl
		}
		name := segs[len(segs)-1]
		path := append(append([]string(nil), prefix...), name)
		cf := &cfield{at: fr.At, name: name, path: path}
		cf.read = cp.perm(fr.Read, path, "field.read")
		cf.write = cp.perm(fr.Write, path, "field.write")
		if fr.AdditionalFields != nil {
			cf.addl = cp.fieldPerms(fr.AdditionalFields, path)
		}
		cf.fields = cp.fields(fr.Fields, path, cf.addl)
		if prev := findField(*level, name); prev != nil && len(segs) == 1 && prev.read == nil && prev.write == nil {
			// A host created for an earlier dotted rule: this rule is its
			// own definition.
			prev.at, prev.read, prev.write, prev.addl = cf.at, cf.read, cf.write, cf.addl
			prev.fields = append(cf.fields, prev.fields...)
			continue
		}
		*level = append(*level, cf)
	}
	return out
}

func (cp *compiler) fieldPerms(fp *rules.FieldPerms, path []string) *perms {
	// %%this in additional_fields has no single field: it stays missing.
	return &perms{at: fp.At, read: cp.perm(fp.Read, nil, "additional_fields.read"), write: cp.perm(fp.Write, nil, "additional_fields.write")}
}

// perm compiles a permission; nil when absent.
func (cp *compiler) perm(pm rules.Perm, this []string, what string) *node {
	if !pm.Set || pm.Expr == nil {
		return nil
	}
	return cp.expr(pm.Expr, false, this, what)
}

func (cp *compiler) permDefault(pm rules.Perm, def bool, what string) *node {
	if n := cp.perm(pm, nil, what); n != nil {
		return n
	}
	return &node{kind: nConst, phase: phConst, val: def, at: pm.At, what: what}
}

func (cp *compiler) exprOr(e rules.Expr, def bool, query bool, this []string, what string) *node {
	if e == nil {
		return &node{kind: nConst, phase: phConst, val: def, what: what}
	}
	return cp.expr(e, query, this, what)
}

// expr compiles an expression. query is true for filter queries. this is
// the path of the field a field-level rule is evaluated on (%%this).
func (cp *compiler) expr(e rules.Expr, query bool, this []string, what string) *node {
	n := cp.expr1(e, query, this)
	n.what = what
	return n
}

func (cp *compiler) expr1(e rules.Expr, query bool, this []string) *node {
	cp.nodes++
	switch e := e.(type) {
	case *rules.Bool:
		return &node{at: e.At, kind: nConst, phase: phConst, val: e.Value}
	case *rules.And:
		return cp.logic(e.At, nAnd, e.Args, query, this)
	case *rules.Or:
		return cp.logic(e.At, nOr, e.Args, query, this)
	case *rules.Nor:
		return cp.logic(e.At, nNor, e.Args, query, this)
	case *rules.Match:
		return cp.match(e, query, this)
	}
	at := rules.At{}
	if e != nil {
		at = e.Loc()
	}
	cp.errorf(at, CodeInvalid, "missing or unknown expression %T", e)
	return &node{at: at, kind: nConst, phase: phConst, val: false}
}

func (cp *compiler) logic(at rules.At, k nodeKind, args []rules.Expr, query bool, this []string) *node {
	n := &node{at: at, kind: k, phase: phConst, query: query}
	if k == nNor {
		cp.neg = !cp.neg
		defer func() { cp.neg = !cp.neg }()
	}
	for _, a := range args {
		kid := cp.expr1(a, query, this)
		n.kids = append(n.kids, kid)
		n.phase = maxPhase(n.phase, kid.phase)
	}
	return cp.fold(n)
}

// fold evaluates constant nodes at compile time and drops constant
// children that cannot change a result; it registers request-phase nodes
// for Bind.
func (cp *compiler) fold(n *node) *node {
	switch n.kind {
	case nAnd, nOr, nNor:
		var keep []*node
		for _, k := range n.kids {
			if k.kind == nConst {
				switch {
				case n.kind == nAnd && !k.val, n.kind == nOr && k.val:
					return &node{at: n.at, kind: nConst, phase: phConst, val: n.kind == nOr, query: n.query}
				case n.kind == nNor && k.val:
					return &node{at: n.at, kind: nConst, phase: phConst, val: false, query: n.query}
				}
				continue // neutral
			}
			keep = append(keep, k)
		}
		n.kids = keep
		if len(keep) == 0 {
			// {} and %and: [] hold; %or: [] does not; $nor: [] holds.
			return &node{at: n.at, kind: nConst, phase: phConst, val: n.kind != nOr, query: n.query}
		}
		if len(keep) == 1 && n.kind != nNor {
			return keep[0]
		}
		n.phase = phConst
		for _, k := range keep {
			n.phase = maxPhase(n.phase, k.phase)
		}
	case nMatch:
		if n.phase == phConst {
			ec := evalCtx{}
			v := ec.match(n)
			return &node{at: n.at, kind: nConst, phase: phConst, val: v, query: n.query}
		}
	}
	if n.phase == phReq {
		n.slot = len(cp.c.reqNodes)
		cp.c.reqNodes = append(cp.c.reqNodes, n)
	}
	return n
}

func (cp *compiler) match(m *rules.Match, query bool, this []string) *node {
	n := &node{at: m.At, kind: nMatch, query: query}
	text := m.Left.Key
	if m.Left.Implicit {
		text = "%%root." + text
	}
	n.left = cp.ref(m.Left.At, m.Left.Ref, this, true, text)
	n.cond = cp.cond(m.Cond, query, this)
	if cp.watch != nil && n.cond != nil && cp.watchCond(n.cond) {
		cp.watchOperand(n.left)
	}
	if n.cond == nil {
		return &node{at: m.At, kind: nConst, phase: phConst, val: false}
	}
	n.phase = maxPhase(n.left.phase, n.cond.phase)
	return cp.fold(n)
}

// watchCond records the operands of the comparisons of c for the filter
// being compiled, and reports whether c has a comparison other than
// $exists (which is well defined on a missing subject, not on a missing
// operand).
func (cp *compiler) watchCond(c *cnode) bool {
	switch c.kind {
	case cExists:
		cp.watchOperand(c.arg)
		return false
	case cAnd, cOr, cNor, cElemMatch:
		any := c.q != nil
		for _, k := range c.kids {
			if cp.watchCond(k) {
				any = true
			}
		}
		return any
	}
	cp.watchOperand(c.arg)
	return true
}

// watchOperand records a request-phase operand of a filter's apply_when,
// or marks the filter as always applying when the operand is missing at
// compile time (%%this outside a field rule).
func (cp *compiler) watchOperand(o *operand) {
	switch {
	case o == nil:
	case o.kind == oReq:
		cp.watch.watch = append(cp.watch.watch, o)
	case o.kind == oConst && o.val.IsMissing():
		cp.watch.always = true
	}
}

func (cp *compiler) cond(c rules.Cond, query bool, this []string) *cnode {
	cp.nodes++
	switch c := c.(type) {
	case *rules.Equals:
		arg := cp.operand(c.Operand, this)
		if !query {
			arg.needSet = arg.fromExp
			cp.registerSet(arg)
		}
		return &cnode{at: c.At, kind: cEq, op: "=", arg: arg, phase: arg.phase, neg: cp.neg}
	case *rules.Ops:
		ops := c.Ops
		options := ""
		for i, oa := range ops {
			if oa.Op == rules.OpOptions {
				// $options belongs to the $regex beside it (rules.OpOptions).
				options = literalString(oa.Arg)
				ops = append(ops[:i:i], ops[i+1:]...)
				break
			}
		}
		if len(ops) == 1 {
			return cp.regex(cp.opArg(ops[0], query, this), options)
		}
		n := &cnode{at: c.At, kind: cAnd, phase: phConst}
		for _, oa := range ops {
			k := cp.regex(cp.opArg(oa, query, this), options)
			n.kids = append(n.kids, k)
			n.phase = maxPhase(n.phase, k.phase)
		}
		return n
	case *rules.ElemMatch:
		// The element is a value of the document: phDoc whatever the
		// operands (rules.Validate has refused document operands inside).
		n := &cnode{at: c.At, kind: cElemMatch, op: "$elemMatch", phase: phDoc, neg: cp.neg}
		if c.Query != nil {
			n.q = cp.expr1(c.Query, query, this)
			return n
		}
		k := cp.cond(c.Cond, query, this)
		if k == nil {
			return nil
		}
		n.kids = []*cnode{k}
		return n
	case *rules.CondLogic:
		n := &cnode{at: c.At, op: c.Op, phase: phConst}
		switch c.Op {
		case "%and", "$and":
			n.kind = cAnd
		case "%or", "$or":
			n.kind = cOr
		default:
			n.kind = cNor
			cp.neg = !cp.neg
			defer func() { cp.neg = !cp.neg }()
		}
		for _, a := range c.Args {
			k := cp.cond(a, query, this)
			if k == nil {
				continue
			}
			n.kids = append(n.kids, k)
			n.phase = maxPhase(n.phase, k.phase)
		}
		return n
	}
	at := rules.At{}
	if c != nil {
		at = c.Loc()
	}
	cp.errorf(at, CodeInvalid, "missing or unknown condition %T", c)
	return nil
}

func (cp *compiler) opArg(oa rules.OpArg, query bool, this []string) *cnode {
	cp.nodes++
	arg := cp.operand(oa.Arg, this)
	spelled := oa.Spelling
	if spelled == "" {
		spelled = string(oa.Op)
	}
	n := &cnode{at: oa.At, op: spelled, arg: arg, phase: arg.phase, neg: cp.neg}
	switch oa.Op {
	case rules.OpEq:
		n.kind = cEq
		if !query {
			arg.needSet = arg.fromExp
		}
	case rules.OpNe:
		n.kind = cNe
		if !query {
			arg.needSet = arg.fromExp
			// (A constant operand from an expansion is never an array:
			// %%true, %%false, or a missing %%this.)
			arg.negNull = arg.fromExp
		}
	case rules.OpGt:
		n.kind, n.cmp = cCmp, value.Gt
	case rules.OpGte:
		n.kind, n.cmp = cCmp, value.Gte
	case rules.OpLt:
		n.kind, n.cmp = cCmp, value.Lt
	case rules.OpLte:
		n.kind, n.cmp = cCmp, value.Lte
	case rules.OpIn:
		n.kind, arg.needSet, arg.inSet = cIn, true, true
	case rules.OpNin:
		n.kind, arg.needSet, arg.inSet = cNin, true, true
	case rules.OpExists:
		n.kind = cExists
	case rules.OpAll:
		n.kind = cAll
	case rules.OpSize:
		n.kind = cSize
	case rules.OpType:
		n.kind = cType
	case rules.OpMod:
		n.kind = cMod
	case rules.OpRegex:
		n.kind = cRegex
	default:
		cp.errorf(oa.At, rules.CodeUnknownOperator, "unknown operator %q", spelled)
		n.kind = cEq
		arg.kind, arg.val, arg.phase = oConst, value.Missing(), phConst
	}
	if arg.kind == oReq && cp.c != nil {
		if _, shaped := shapeWanted(n.kind); shaped {
			cp.c.drift = append(cp.c.drift, n)
		}
	}
	cp.registerSet(arg)
	return n
}

// regex compiles the pattern of a $regex condition n, a literal string,
// with the options of its operator object; any other n is returned as it
// is. rules.Validate has refused what CompileRegex does not accept
// (rules/regex-unsupported), before Compile gets here.
func (cp *compiler) regex(n *cnode, options string) *cnode {
	if n.kind != cRegex {
		return n
	}
	pattern, _ := n.arg.val.StringOK()
	re, err := value.CompileRegex(pattern, options)
	if err != nil {
		cp.errorf(n.at, rules.CodeRegexUnsupported, "%v", err)
	}
	n.re = re
	return n
}

// literalString returns the string of a string literal, else "".
func literalString(o rules.Operand) string {
	if lit, ok := o.(*rules.Literal); ok {
		s, _ := lit.Value.StringOK()
		return s
	}
	return ""
}

// registerSet prepares the Set of an operand that needs one.
func (cp *compiler) registerSet(o *operand) {
	if !o.needSet || o.setSlot >= 0 {
		return
	}
	switch o.kind {
	case oConst:
		o.setConst = makeSet(o.val, o.dropsNulls())
	case oReq:
		o.setSlot = len(cp.c.setOps)
		cp.c.setOps = append(cp.c.setOps, o)
	}
}

// dropsNulls reports whether the operand's set leaves out null elements:
// only a membership set (an array from an expansion compared for
// equality) does, where a null element would otherwise match missing
// fields; a $in/$nin set keeps them (see inSet).
func (o *operand) dropsNulls() bool { return o.fromExp && !o.inSet }

// makeSet returns the set of the elements of an array value (empty for
// anything else). With dropNulls, null elements are left out (membership
// sets: a null claim element never matches, fail closed).
func makeSet(v value.Value, dropNulls bool) value.Set {
	if !v.IsArray() {
		return value.Set{}
	}
	elems := make([]value.Value, 0, v.Len())
	v.Each(func(_ int, e value.Value) bool {
		if !(dropNulls && e.IsNull()) {
			elems = append(elems, e)
		}
		return false
	})
	return value.NewSet(elems...)
}

// ref compiles an expansion (on the left of a match, or as an operand).
func (cp *compiler) ref(at rules.At, r expansion.Ref, this []string, left bool, text string) *operand {
	cp.nodes++
	o := &operand{at: at, fromExp: true, left: left, setSlot: -1, text: text}
	if text == "" {
		o.text = r.String()
	}
	switch r.Root {
	case expansion.RootTrue, expansion.RootFalse:
		o.kind, o.phase, o.val = oConst, phConst, value.Bool(r.Root == expansion.RootTrue)
		return o
	case expansion.RootRoot, expansion.RootPrevRoot:
		o.kind, o.phase, o.path = oDocPath, phDoc, value.Path(r.Path)
		o.sel = selRoot
		if r.Root == expansion.RootPrevRoot {
			o.sel = selPrev
		}
		return o
	case expansion.RootThis, expansion.RootPrev:
		if this == nil {
			// %%this and %%prev name the field a field-level rule is
			// evaluated on; elsewhere they are missing.
			o.kind, o.phase, o.val = oConst, phConst, value.Missing()
			return o
		}
		o.kind, o.phase = oDocPath, phDoc
		o.path = append(append(value.Path(nil), this...), r.Path...)
		o.sel = selRoot
		if r.Root == expansion.RootPrev {
			o.sel = selPrev
		}
		return o
	}
	o.kind, o.phase = oReq, phReq
	o.build = &builder{kind: bRef, acc: expansion.Compile(r)}
	if left {
		cp.needs(o, r)
	}
	cp.addReq(o)
	return o
}

// needs sets o.need when the subject o (expansion r) reads a value the app
// defines, or a %%request field, which the request must carry: deciding it
// as a missing field would grant {"%%values.x": {"$ne": ...}} whatever the
// app sets x to, and {"%%request.remoteIPAddress": {"$nin": [...]}} to
// every caller of a library user who set no %%request.
func (cp *compiler) needs(o *operand, r expansion.Ref) {
	switch {
	case r.Root == expansion.RootValues && len(r.Path) > 0 && cp.values[r.Path[0]] != nil:
		v := cp.values[r.Path[0]]
		o.need = expansion.Compile(expansion.Ref{Root: expansion.RootValues, Path: r.Path[:1]})
		o.needMsg = fmt.Sprintf("%%%%values.%s is the app's value (%s), which the request does not carry; build the inputs with rules.App.Inputs", v.Name, v.FileName())
		if v.Secret != "" {
			o.needMsg = fmt.Sprintf("%%%%values.%s exposes a secret, which an export does not hold; provide its value (expansion.Inputs.Values)", v.Name)
		}
	case r.Root == expansion.RootRequest && len(r.Path) > 0:
		// App Services sets %%request on every request
		// (source/rules/expansions.txt): one that carries none was not
		// built from a request, and its fields are not known missing.
		o.need = expansion.Compile(expansion.Ref{Root: expansion.RootRequest})
		o.needMsg = fmt.Sprintf("%%%%request.%s: the request carries no %%%%request, which App Services sets on every request; set expansion.Inputs.Request", strings.Join(r.Path, "."))
	case r.Root == expansion.RootEnvironment && len(r.Path) > 1 && r.Path[0] == "values" && cp.envValues[r.Path[1]]:
		o.need = expansion.Compile(expansion.Ref{Root: expansion.RootEnvironment, Path: r.Path[:1]})
		o.needMsg = fmt.Sprintf("%%%%environment.values.%s is set by the app's environments/, which the request does not carry; build the inputs with rules.App.Inputs", r.Path[1])
	}
}

func (cp *compiler) addReq(o *operand) {
	o.slot = len(cp.c.reqOps)
	cp.c.reqOps = append(cp.c.reqOps, o)
}

func (cp *compiler) operand(op rules.Operand, this []string) *operand {
	cp.nodes++
	switch op := op.(type) {
	case *rules.Literal:
		return &operand{at: op.At, kind: oConst, phase: phConst, val: op.Value, setSlot: -1, text: op.Value.ExtJSON()}
	case *rules.ExpansionRef:
		return cp.ref(op.At, op.Ref, this, false, "")
	case *rules.ArrayOperand:
		b := &builder{kind: bArray}
		o := &operand{at: op.At, setSlot: -1, build: b, phase: phConst}
		var parts []string
		for _, e := range op.Elems {
			k := cp.operand(e, this)
			b.elems = append(b.elems, k)
			o.phase = maxPhase(o.phase, k.phase)
			parts = append(parts, k.text)
		}
		o.text = "[" + strings.Join(parts, ", ") + "]"
		return cp.finishBuild(o)
	case *rules.DocOperand:
		b := &builder{kind: bDoc}
		o := &operand{at: op.At, setSlot: -1, build: b, phase: phConst}
		var parts []string
		for _, f := range op.Fields {
			k := cp.operand(f.Value, this)
			b.keys = append(b.keys, f.Key)
			b.elems = append(b.elems, k)
			o.phase = maxPhase(o.phase, k.phase)
			parts = append(parts, fmt.Sprintf("%q: %s", f.Key, k.text))
		}
		o.text = "{" + strings.Join(parts, ", ") + "}"
		return cp.finishBuild(o)
	case *rules.Call:
		b := &builder{kind: bCall, op: op.Op, name: op.Name}
		o := &operand{at: op.At, setSlot: -1, build: b, phase: phConst, fromExp: true}
		var parts []string
		if op.Op == "%function" {
			if !cp.fns.has(op.Name) {
				cp.errorf(op.At, rules.CodeUnknownFunction, "%s", cp.fns.unknown(op.Name))
			}
			for _, a := range op.Args {
				k := cp.operand(a, this)
				b.elems = append(b.elems, k)
				parts = append(parts, k.text)
			}
			// A function call is never folded at compile time: its result
			// may depend on the request context.
			o.phase = phReq
			o.text = fmt.Sprintf("%%function %s(%s)", op.Name, strings.Join(parts, ", "))
		} else {
			if op.Arg == nil {
				cp.errorf(op.At, CodeInvalid, "%s without an operand", op.Op)
				return &operand{at: op.At, kind: oConst, phase: phConst, val: value.Missing(), setSlot: -1, text: op.Op}
			}
			k := cp.operand(op.Arg, this)
			b.elems = append(b.elems, k)
			o.text = fmt.Sprintf("%s(%s)", op.Op, k.text)
		}
		for _, k := range b.elems {
			o.phase = maxPhase(o.phase, k.phase)
		}
		return cp.finishBuild(o)
	}
	at := rules.At{}
	if op != nil {
		at = op.Loc()
	}
	cp.errorf(at, CodeInvalid, "missing or unknown operand %T", op)
	return &operand{at: at, kind: oConst, phase: phConst, val: value.Missing(), setSlot: -1, text: "missing"}
}

// finishBuild folds constant builders and registers request-phase ones.
func (cp *compiler) finishBuild(o *operand) *operand {
	for _, k := range o.build.elems {
		if k.fromExp {
			o.fromExp = true
		}
	}
	if o.build.kind != bCall {
		// An array or document literal written with expansions inside is
		// itself a literal: membership and null rules apply to its
		// elements, not to it.
		o.fromExp = false
	}
	switch o.phase {
	case phConst:
		var ec evalCtx
		v, err := ec.build(o)
		if err != nil {
			cp.errorf(o.at, CodeInvalid, "%v", err)
		}
		o.kind, o.val, o.build = oConst, v, nil
	case phReq:
		o.kind = oReq
		cp.addReq(o)
	default:
		o.kind = oDocBuild
	}
	return o
}

// newConfig applies opts, with the defaults, for Compile and
// CompileCondition.
func newConfig(opts []Option) config {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.maxNodes <= 0 {
		cfg.maxNodes = defaultMaxNodes
	}
	return cfg
}

// newCompiler is the compiler of app's expressions: its %%values and the
// names its environments give values.
func newCompiler(app *rules.App, cfg config, fns *functions) *compiler {
	cp := &compiler{cfg: cfg, fns: fns, values: map[string]*rules.Value{}, envValues: map[string]bool{}}
	for _, v := range app.Values {
		cp.values[v.Name] = v
	}
	for _, e := range app.Environments {
		var vals map[string]json.RawMessage
		if json.Unmarshal(e.Values, &vals) == nil {
			for name := range vals {
				cp.envValues[name] = true
			}
		}
	}
	return cp
}
