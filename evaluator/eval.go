package evaluator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Bound is a Program bound to one request: the per-request values
// (%%user, %%request, %%values, ...) are resolved once, arrays used with
// $in become sets once, and every sub-expression that depends on nothing
// but the request is decided once. Evaluating documents against a Bound
// does no string work and, without trace or fields, no allocation.
//
// A Bound is immutable and safe for concurrent use.
type Bound struct {
	p     *Program
	c     *ccoll // nil: the namespace has no rules
	ns    string
	in    expansion.Inputs
	vals  []value.Value
	sets  []value.Set
	bools []bool
	// forced[i]: filter i applies because its apply_when compares a
	// missing request value (nil when no filter watches one).
	forced []bool
	// opErr and nodeErr hold the errors of request-phase values and
	// nodes (a failing function); nil when there are none.
	opErr   []error
	nodeErr []error
	// sch is the namespace's schema (nil when none) and schB the binding
	// of its validate expressions (nil when it has none).
	sch  *cschema
	schB *Bound
	// notes are the request's values of the wrong type (Notes).
	notes []Note
}

// Doc is the document side of a decision: what the caller does (Action)
// and to which document.
type Doc struct {
	Action Action
	// Document is %%root: the document read, or the document as it would
	// be after the write (for inserts, the inserted document). nil when
	// there is none.
	Document bson.Raw
	// PrevDocument is %%prevRoot: the document before a write; nil on
	// reads and inserts.
	PrevDocument bson.Raw
	// Update is the update document of a write ({"$set": ...} or a
	// replacement), when known: its field paths are checked against the
	// role's field-level write permissions.
	Update bson.Raw
	// Query and ArrayFilters, when either is given, are the filter that
	// selected PrevDocument and the update's arrayFilters: an Update with
	// the positional $, $[] or $[<identifier>] is then resolved on
	// PrevDocument first (mql.ResolveUpdate), so that its paths name the
	// elements it writes. Without them such an Update is an error
	// (mql.ErrUnsupportedUpdate). The gate resolves its updates itself.
	Query        bson.Raw
	ArrayFilters []bson.Raw
}

// collection returns the compiled rules that govern ns: its own, else the
// default rule unless ns is reserved (rules.Reserved), else nil.
func (p *Program) collection(ns string) *ccoll {
	if c, ok := p.colls[ns]; ok {
		return c
	}
	if rules.Reserved(ns) {
		return nil
	}
	return p.dflt
}

// Bind resolves the per-request part of a decision, the caller, once for
// evaluating many documents.
func (p *Program) Bind(ctx context.Context, caller Caller) (*Bound, error) {
	if err := caller.Inputs.Validate(); err != nil {
		return nil, err
	}
	b := &Bound{p: p, c: p.collection(caller.Namespace), ns: caller.Namespace, in: caller.Inputs}
	if cs := p.schemas[caller.Namespace]; cs != nil {
		b.sch = cs
		if cs.coll != nil {
			b.schB = &Bound{p: p, c: cs.coll, ns: caller.Namespace, in: caller.Inputs}
			b.schB.bind(ctx)
		}
	}
	if b.c != nil {
		b.bind(ctx)
		b.bindNotes()
	}
	return b, nil
}

// bind resolves the request-phase operands and nodes of b.c.
func (b *Bound) bind(ctx context.Context) {
	c := b.c
	ec := evalCtx{ctx: ctx, b: b, live: true}
	b.vals = make([]value.Value, len(c.reqOps))
	for _, o := range c.reqOps {
		v, err := ec.build(o)
		if err == nil && ec.err != nil {
			// An element of an array or document operand failed (a
			// function error, a regex): the whole operand fails, never
			// the operand without it ({"$nin": []} would hold).
			err, ec.err = ec.err, nil
		}
		if err == nil && o.need != nil {
			if nv, _ := o.need.Resolve(&b.in); nv.IsMissing() {
				err = fmt.Errorf("%w: %s", ErrNotProvided, o.needMsg)
			}
		}
		if err != nil {
			// A failing %function denies only the decisions that need
			// its value (App Services evaluates roles lazily, in order);
			// so does an app value the request does not carry.
			if b.opErr == nil {
				b.opErr = make([]error, len(c.reqOps))
			}
			b.opErr[o.slot] = err
			ec.err = nil
			continue
		}
		if r := value.CheckOperand(v); r != value.Comparable {
			// A regex operand would be a pattern on the server
			// (ErrRegex), a $-document operators (ErrOperator), and the
			// server refuses undefined (ErrUndefined).
			if b.opErr == nil {
				b.opErr = make([]error, len(c.reqOps))
			}
			b.opErr[o.slot] = refusalErr(o, r)
			continue
		}
		if nullInMembership(o, v) {
			v = value.Missing()
		}
		b.vals[o.slot] = v
	}
	b.sets = make([]value.Set, len(c.setOps))
	for _, o := range c.setOps {
		b.sets[o.setSlot] = makeSet(ec.val(o), o.dropsNulls())
	}
	ec.err = nil // recorded in opErr
	if c.watched {
		b.forced = make([]bool, len(c.filters))
		for _, f := range c.filters {
			if len(f.watch) == 0 {
				continue
			}
			if f.applyWhen.phase <= phReq {
				// Three-valued: a comparison of a missing value is
				// unknown; the filter applies unless apply_when is false
				// whatever the missing values would be.
				b.forced[f.idx] = ec.tri(f.applyWhen) == triUnknown
				continue
			}
			// apply_when reads the document too (filters.txt forbids
			// it): any missing value makes the filter apply.
			for _, o := range f.watch {
				if ec.val(o).IsMissing() {
					b.forced[f.idx] = true
				}
			}
		}
		ec.err = nil // a failing function is missing here, recorded in opErr
	}
	b.bools = make([]bool, len(c.reqNodes))
	for _, n := range c.reqNodes {
		b.bools[n.slot] = ec.node(n)
		if ec.err != nil {
			if b.nodeErr == nil {
				b.nodeErr = make([]error, len(c.reqNodes))
			}
			b.nodeErr[n.slot] = ec.err
			ec.err = nil
		}
	}
}

// Evaluate decides whether the caller may perform d.Action on d.Document
// in caller.Namespace. It binds the caller and evaluates the document; use
// Bind to decide many documents of one request. A non-nil error comes with
// a denying Decision whose Reason is ReasonError.
func (p *Program) Evaluate(ctx context.Context, caller Caller, d Doc, opts ...EvalOption) (Decision, error) {
	b, err := p.Bind(ctx, caller)
	if err != nil {
		return Decision{Action: d.Action, Reason: ReasonError}, err
	}
	return b.Evaluate(ctx, d, opts...)
}

func docValue(b bson.Raw) value.Value {
	if b == nil {
		return value.Value{}
	}
	return value.FromDocument(b)
}

// Evaluate decides one document for the bound request.
func (b *Bound) Evaluate(ctx context.Context, d Doc, opts ...EvalOption) (Decision, error) {
	cfg := evalOptions(opts)
	if d.Update != nil && d.PrevDocument != nil && (d.Query != nil || d.ArrayFilters != nil) {
		resolved, err := mql.ResolveUpdate(d.PrevDocument, d.Update, mql.ApplyOptions{Query: d.Query, ArrayFilters: d.ArrayFilters})
		if err != nil {
			return Decision{Action: d.Action, Reason: ReasonError}, err
		}
		d.Update = resolved
	}
	dec, err := b.evaluate(ctx, d, cfg)
	if err != nil || !dec.Allowed || !cfg.leavingScope || d.Action != ActionWrite {
		return dec, err
	}
	return b.scopeKept(ctx, d, dec, cfg)
}

// scopeKept decides the leaving-scope check of an allowed write (dec):
// the document after the write, as a stored document that nothing
// changes (%%root and %%prevRoot both the document after it, no update),
// must be one the role rules let the caller write. The schema is not
// checked again: it judged the write itself.
func (b *Bound) scopeKept(ctx context.Context, d Doc, dec Decision, cfg evalConfig) (Decision, error) {
	post := d.Document
	if post == nil {
		stored := d.PrevDocument
		if stored == nil || d.Update == nil {
			// Nothing says what the document is after the write: the
			// check cannot hold (fail closed).
			dec.Allowed, dec.Reason, dec.Fields = false, ReasonLeavingScope, Fields{}
			return dec, nil
		}
		var err error
		if post, err = mql.ApplyUpdate(stored, d.Update); err != nil {
			return Decision{Action: d.Action, Role: dec.Role, Reason: ReasonError, Notes: dec.Notes}, err
		}
	}
	if cfg.trace != nil {
		cfg.trace.Steps = append(cfg.trace.Steps, Step{What: "leaving-scope", Detail: "the document after the write, as stored: may the caller still write it?", Result: true})
	}
	cfg.fields, cfg.noSchema = false, true
	after, err := b.evaluate(ctx, Doc{Action: ActionWrite, Document: post, PrevDocument: post}, cfg)
	if err != nil {
		return Decision{Action: d.Action, Role: dec.Role, Reason: ReasonError, Notes: dec.Notes}, err
	}
	if !after.Allowed {
		dec.Allowed, dec.Reason, dec.Fields = false, ReasonLeavingScope, Fields{}
		if cfg.trace != nil {
			cfg.trace.Steps = append(cfg.trace.Steps, Step{What: "decision", Detail: string(ReasonLeavingScope), Result: false})
		}
	}
	return dec, nil
}

// evaluate is Evaluate without the leaving-scope check.
func (b *Bound) evaluate(ctx context.Context, d Doc, cfg evalConfig) (Decision, error) {
	dec := Decision{Action: d.Action, Notes: b.notes}
	c := b.c
	if c == nil {
		dec.Reason = ReasonNoRules
		if cfg.trace != nil {
			cfg.trace.Steps = append(cfg.trace.Steps, Step{What: "rules", Detail: "no rules for " + b.ns + " and no default rule", Result: false})
		}
		return dec, nil
	}
	ec := evalCtx{ctx: ctx, b: b, trace: cfg.trace, file: c.file}
	// The stored document: the one a query would match.
	stored := d.Document
	switch d.Action {
	case ActionRead, ActionSearch, ActionDelete:
		ec.root, ec.prev = docValue(d.Document), docValue(d.Document)
	case ActionInsert:
		ec.root = docValue(d.Document)
	case ActionWrite:
		if d.PrevDocument != nil {
			stored = d.PrevDocument
		}
		ec.root, ec.prev = docValue(stored), docValue(stored)
		ec.indexPaths = d.Update != nil && stored != nil && hasIndexComponent(d.Update)
	default:
		dec.Reason = ReasonError
		return dec, fmt.Errorf("evaluator: unknown action %q", d.Action)
	}
	// Filters first (source/rules/roles.txt, "Without Device Sync": "your
	// App evaluates and applies filters and then runs the query").
	if c.projMixed && d.Action != ActionInsert {
		saved := ec.trace
		ec.trace = nil
		var on []*cfilter
		for _, f := range c.filters {
			if ec.filterOn(f) {
				on = append(on, f)
			}
		}
		ec.trace = saved
		if err := projectionConflict(c, on); err != nil {
			ec.fail(err)
			dec.Reason = ReasonError
			err := ec.finish(&dec)
			return dec, err
		}
	}
	var applied []*cfilter
	for _, f := range c.filters {
		on := ec.filterOn(f)
		if ec.trace != nil {
			detail := f.name
			if forcedOn(ec.b, f) {
				// Show apply_when's own steps, then why the filter applies.
				ec.node(f.applyWhen)
				detail += " (apply_when compares a missing value: applied, fail closed)"
			}
			ec.step(f.at, "filter", detail, on)
		}
		if !on {
			continue
		}
		if cfg.fields || (d.Action == ActionWrite || d.Action == ActionDelete || b.sch != nil) && len(f.projection) > 0 {
			applied = append(applied, f)
		}
		if d.Action != ActionInsert && f.query != nil && !ec.node(f.query) {
			if ec.trace != nil {
				ec.step(f.query.at, "filter.query", f.name, false)
			}
			dec.Reason = ReasonFilter
			err := ec.finish(&dec)
			return dec, err
		}
	}
	ec.applied = applied
	// Roles in order: the first whose apply_when holds decides
	// (source/rules/roles.txt, "Role Order").
	var role *crole
	for _, r := range c.roles {
		ok := ec.node(r.applyWhen)
		if ec.trace != nil {
			ec.step(r.at, "role", r.name, ok)
		}
		if ok {
			role = r
			break
		}
		if ec.err != nil {
			break
		}
	}
	if role == nil {
		dec.Reason = ReasonNoRole
		err := ec.finish(&dec)
		return dec, err
	}
	dec.Role = role.name
	if d.Action == ActionWrite && d.Update != nil && len(applied) > 0 {
		// An update that touches a path an applied filter's projection
		// withholds would tell the hidden value ($rename shows it under
		// its target; ModifiedCount, an error applying the update or the
		// returned document depend on it); a replacement removes every
		// such path. Decided before the update is applied to the stored
		// document (an error applying it would tell the hidden type)
		// and without its values.
		repl, hidden, err := updateWithholds(stored, d.Update, applied)
		reason := ReasonAllowed
		switch {
		case err != nil:
			ec.fail(err)
			reason = ReasonError
		case repl:
			if ec.trace != nil {
				ec.step(role.at, "filter.projection", "a replacement removes the fields the applied filters' projections withhold", false)
			}
			reason = ReasonFieldNotWritable
		case hidden != "":
			if ec.trace != nil {
				ec.step(role.at, "filter.projection", "the update touches a field the applied filters' projections withhold", false)
			}
			reason, ec.field = ReasonFieldNotReadable, hidden
		}
		if reason != ReasonAllowed {
			dec.Reason, dec.Field = reason, ec.fieldOf(reason)
			if cfg.fields {
				dec.Fields = ec.fields(role, applied)
			}
			err := ec.finish(&dec)
			return dec, err
		}
	}
	if d.Action == ActionWrite {
		// Write permissions see the document after the write as %%root
		// and the stored one as %%prevRoot. Without Document, it is
		// computed from the stored document and the update.
		switch {
		case d.Document != nil:
			ec.root = docValue(d.Document)
		case d.Update != nil && stored != nil:
			after, err := mql.ApplyUpdate(stored, d.Update)
			if err != nil {
				// The error names the stored value's type: it is
				// returned only when the caller may write every path
				// the update touches (decided on the stored document);
				// otherwise the denial is.
				saved := ec.trace
				ec.trace = nil
				r := ec.decide(role, d)
				ec.trace = saved
				if r != ReasonAllowed && ec.err == nil {
					dec.Reason, dec.Field = r, ec.fieldOf(r)
					err := ec.finish(&dec)
					return dec, err
				}
				ec.fail(err)
				err := ec.finish(&dec)
				return dec, err
			}
			ec.root = docValue(after)
		}
	}
	dec.Reason = ec.decide(role, d)
	dec.Field = ec.fieldOf(dec.Reason)
	if b.sch != nil && !cfg.noSchema && dec.Reason == ReasonAllowed && ec.err == nil && (d.Action == ActionInsert || d.Action == ActionWrite) {
		dec.Reason = ec.schema(b, role, applied)
	}
	dec.Allowed = dec.Reason == ReasonAllowed
	if cfg.fields {
		dec.Fields = ec.fields(role, applied)
	}
	err := ec.finish(&dec)
	return dec, err
}

// schema decides an insert or write that the rules allow against the
// namespace's schema (source/schemas/enforce-a-schema.txt): the document
// after the write (%%root) must match it, and each validate expression
// must hold, seeing %%prevRoot and %%prev before the write (Missing on
// inserts). A write whose document after it is not known is checked on
// the document as given (fail closed).
//
// The schema sees only what the caller can read: the document after the
// write keeps the fields role lets the caller read of it
// (Decision.Fields.Read), the stored one those and the fields the caller
// could read of it, so that no reason depends on a hidden value. A
// hidden required field is missing (the write is denied whatever it
// holds); a hidden field's own constraints are not checked (the caller
// cannot write it: it keeps its stored value).
func (ec *evalCtx) schema(b *Bound, role *crole, applied []*cfilter) Reason {
	cs := b.sch
	saved, after := ec.trace, ec.root
	ec.trace = nil
	var before []string
	if ec.prev.IsDocument() {
		// What the caller could read of the stored document, for the
		// fields the write removes (readable: the caller may write
		// them), which the document after the write does not list.
		ec.root = ec.prev
		before = ec.fields(role, applied).Read
		ec.root = after
	}
	read := ec.fields(role, applied).Read
	ec.trace = saved
	if ec.err != nil {
		return ReasonError
	}
	root, err := redacted(mql.NewPaths(read), ec.root)
	prev := ec.prev
	if err == nil {
		prev, err = redacted(mql.NewPaths(append(read, before...)), ec.prev)
	}
	if err != nil {
		ec.fail(err)
		return ReasonError
	}
	doc, _ := root.DocumentOK()
	if err := cs.s.Validate(doc); err != nil {
		var ve *schema.ValidationError
		if !errors.As(err, &ve) {
			ec.fail(err)
			return ReasonError
		}
		if ec.trace != nil {
			ec.trace.Steps = append(ec.trace.Steps, Step{File: ve.File, Ptr: ve.SchemaPtr, What: "schema", Detail: err.Error(), Result: false})
		}
		return ReasonSchema
	}
	if ec.trace != nil {
		ec.trace.Steps = append(ec.trace.Steps, Step{File: cs.s.File(), What: "schema", Detail: "the document matches the schema", Result: true})
	}
	vc := evalCtx{ctx: ec.ctx, b: b.schB, root: root, prev: prev, trace: ec.trace, file: cs.s.File()}
	for _, n := range cs.exprs {
		ok := vc.node(n)
		if vc.trace != nil {
			vc.step(n.at, "schema.validate", "", ok)
		}
		if vc.err != nil {
			ec.fail(vc.err)
			return ReasonError
		}
		if !ok {
			return ReasonSchema
		}
	}
	return ReasonAllowed
}

// redacted returns the document v with only the fields in readable; v
// unchanged when it is not a document (missing on inserts).
func redacted(readable *mql.Paths, v value.Value) (value.Value, error) {
	doc, ok := v.DocumentOK()
	if !ok {
		return v, nil
	}
	if err := doc.Validate(); err != nil {
		return v, fmt.Errorf("schema: malformed document: %w", err)
	}
	raw, err := bson.Marshal(readable.Redact(doc))
	if err != nil {
		return v, err
	}
	return value.FromDocument(raw), nil
}

// filterOn reports whether filter f applies to the request: its
// apply_when holds, or compares a missing request value (a missing claim
// never widens access, so the filter applies).
func (ec *evalCtx) filterOn(f *cfilter) bool {
	if forcedOn(ec.b, f) {
		return true
	}
	return ec.node(f.applyWhen)
}

// forcedOn reports whether filter f applies because its apply_when
// compares a missing request value.
func forcedOn(b *Bound, f *cfilter) bool {
	return f.always || b != nil && b.forced != nil && b.forced[f.idx]
}

// ErrNotProvided is the error (and ReasonError denial) of a decision that
// compares, on the left of a comparison, a value the app defines that the
// request does not carry: %%values.<name> of values/<name>.json (a secret,
// which an export does not hold, or a plain value when the inputs were not
// built with rules.App.Inputs, as gate.Gate.For's are not), or
// %%environment.values.<name> of environments/ without %%environment; or a
// %%request field when the request carries no %%request (App Services sets
// it on every request). Deciding it as a missing field would grant
// {"%%values.x": {"$ne": ...}} whatever the app sets x to.
var ErrNotProvided = errors.New("evaluator: value not provided")

// ErrProjectionConflict is the error (and ReasonError denial) of a request
// to which filters with an inclusive and an exclusive projection apply
// together: "If multiple filters apply to a query, they must all specify
// the same type of projection, or the query will fail"
// (source/mongodb/tables/query-filter-params.rst, "Projection Conflicts").
var ErrProjectionConflict = errors.New("evaluator: the applied filters mix inclusive and exclusive projections")

// projectionConflict returns an ErrProjectionConflict error when the
// applied filters mix projection types.
func projectionConflict(c *ccoll, applied []*cfilter) error {
	var first *cfilter
	for _, f := range applied {
		if f.projKind == projNone {
			continue
		}
		if first == nil {
			first = f
			continue
		}
		if f.projKind != first.projKind {
			return fmt.Errorf("%w: %s: filter %q (%s) and filter %q (%s) both apply; applied filters must all specify the same type of projection",
				ErrProjectionConflict, c.file, first.name, first.projKind, f.name, f.projKind)
		}
	}
	return nil
}

// finish records the decision in the trace and turns an evaluation error
// into a denying Decision (fail closed).
func (ec *evalCtx) finish(dec *Decision) error {
	if ec.err == nil && ec.trace == nil {
		return nil
	}
	if ec.err != nil {
		*dec = Decision{Action: dec.Action, Role: dec.Role, Reason: ReasonError, Notes: dec.Notes}
	}
	if ec.trace != nil {
		ec.trace.Steps = append(ec.trace.Steps, Step{File: ec.file, What: "decision", Detail: string(dec.Reason), Result: dec.Allowed})
	}
	return ec.err
}

// evalGates evaluates the role's document_filters once for the decision
// (source/mongodb/tables/role-configuration.rst: an undefined filter is
// true), in order and both, with their trace steps; the role-semantics
// nodes read the results (nGate).
func (ec *evalCtx) evalGates(r *crole) {
	if r.dfRead == nil && r.dfWrite == nil {
		return // the gates are the constant true: no nGate reads them
	}
	readOK, writeOK := true, true
	if r.dfRead != nil {
		readOK = ec.node(r.dfRead)
		if ec.trace != nil {
			ec.step(r.dfRead.at, "document_filters.read", r.name, readOK)
		}
	}
	if r.dfWrite != nil {
		writeOK = ec.node(r.dfWrite)
		if ec.trace != nil {
			ec.step(r.dfWrite.at, "document_filters.write", r.name, writeOK)
		}
	}
	ec.gateOf, ec.gate = r, [2]bool{readOK, writeOK}
}

// decide gives the reason of role r's decision on the document. The
// rules themselves are the role's role-semantics nodes (roles.go); decide
// only orders them into reasons.
func (ec *evalCtx) decide(r *crole, d Doc) Reason {
	ec.evalGates(r)
	switch d.Action {
	case ActionRead:
		if !ec.node(r.readGate) {
			return ReasonDocumentFilter
		}
		if ec.node(r.mayRead) {
			return ReasonAllowed
		}
		if r.hasFieldRules {
			return ReasonFieldNotReadable
		}
		return ReasonPermission
	case ActionSearch:
		if !ec.node(r.readGate) {
			return ReasonDocumentFilter
		}
		if !ec.node(r.searchL) {
			return ReasonPermission
		}
		return ReasonAllowed
	case ActionWrite:
		if !ec.node(r.gWrite) {
			return ReasonDocumentFilter
		}
		if mql.IsReplacement(d.Update) && !ec.untraced(r.readsAll) {
			// A replacement removes every field it does not give, those
			// the caller cannot read included: deciding it on the stored
			// document would tell whether they are present.
			if ec.trace != nil {
				ec.step(r.at, "field.write", "a replacement removes the fields the role does not let the caller read", false)
			}
			if r.write != nil && !ec.untraced(r.write) {
				return ReasonPermission
			}
			return ReasonFieldNotWritable
		}
		paths, err := touchedPaths(d)
		if err != nil {
			ec.fail(err)
			return ReasonError
		}
		if len(paths) == 0 {
			if ec.node(r.any[1]) {
				return ReasonAllowed
			}
			return ReasonPermission
		}
		for _, p := range paths {
			if !ec.writable(r, p) {
				ec.field = strings.Join(p, ".")
				return r.unwritable()
			}
		}
		return ReasonAllowed
	case ActionInsert, ActionDelete:
		// insert and delete are evaluated "only after determining that the
		// role has write permission for all fields" of the document
		// (source/mongodb/tables/role-configuration.rst).
		if !ec.node(r.gWrite) {
			return ReasonDocumentFilter
		}
		n := r.insertL
		if d.Action == ActionDelete {
			n = r.deleteL
		}
		if constFalse(n) {
			// The role may never insert (delete): that is the reason,
			// whatever its fields say, and it depends on no document.
			ec.node(n)
			return ReasonPermission
		}
		if d.Action == ActionDelete && (!ec.untraced(r.readsAll) || projects(ec.applied) && !ec.untraced(r.allWritable)) {
			// A delete removes every field, those the caller cannot
			// read included (the role's, never writable, or withheld by
			// an applied filter's projection, which may be unwritable):
			// deciding it on the stored document would tell whether
			// they are present. As for a replacement. The field named
			// is the first the caller reads and may not write, if any.
			if ec.trace != nil {
				ec.step(r.at, "field.write", "a delete removes the fields the role does not let the caller read", false)
			}
			if r.write != nil && !ec.untraced(r.write) {
				return ReasonPermission
			}
			eachLeaf(ec.root, nil, func(p []string) bool {
				if ec.untraced(r.readable(p)) && !projectionHides(strings.Join(p, "."), ec.applied) && !ec.untraced(r.permAt(p, true)) {
					ec.field = strings.Join(p, ".")
					return true
				}
				return false
			})
			return ReasonFieldNotWritable
		}
		bad := false
		eachLeaf(ec.root, nil, func(p []string) bool {
			if !ec.writable(r, p) {
				bad = true
				ec.field = strings.Join(p, ".")
			}
			return bad
		})
		if bad {
			return r.unwritable()
		}
		if !ec.node(n) {
			return ReasonPermission
		}
		return ReasonAllowed
	}
	return ReasonError
}

// fieldOf returns the field that decided a field-level denial r (the
// one decide or the projection check recorded), "" for other reasons.
//
// An update with a numeric path component ("tags.0") names no field: the
// stored document decides whether the component is an array index
// (dropped from the path) or a field name, and so which path is denied
// and how it is spelled, even where the caller cannot read that value
// (a hidden field's type would show through the denial).
func (ec *evalCtx) fieldOf(r Reason) string {
	if (r == ReasonFieldNotWritable || r == ReasonFieldNotReadable) && !ec.indexPaths {
		return ec.field
	}
	return ""
}

// hasIndexComponent reports whether a path of update has a numeric
// component after its first (value.ArrayIndex), read on the stored
// document by mql.UpdatePathsIn.
func hasIndexComponent(update bson.Raw) bool {
	info, err := mql.UpdatePaths(update)
	if err != nil || info.Replacement {
		return false
	}
	for _, p := range info.Paths {
		parts := strings.Split(p, ".")
		for _, c := range parts[1:] {
			if _, ok := value.ArrayIndex(c); ok {
				return true
			}
		}
	}
	return false
}

// unwritable is the reason a field the role cannot write denies a write:
// a document-level write, when set, is the permission of every field
// (it overrides field-level ones, role-configuration.rst), so its being
// false denies the role's permission; else a field rule withholds it.
func (r *crole) unwritable() Reason {
	if r.write != nil {
		return ReasonPermission
	}
	return ReasonFieldNotWritable
}

// untraced evaluates n without recording steps.
func (ec *evalCtx) untraced(n *node) bool {
	saved := ec.trace
	ec.trace = nil
	defer func() { ec.trace = saved }()
	return ec.node(n)
}

func permName(write bool) string {
	if write {
		return "write"
	}
	return "read"
}

func pick(read, write *node, w bool) *node {
	if w {
		return write
	}
	return read
}

func findField(fs []*cfield, name string) *cfield {
	for _, f := range fs {
		if f.name == name {
			return f
		}
	}
	return nil
}

// unnamedField is a field name no rule names (a BSON key holds no NUL):
// permAt of it is the role's permission on fields its rules do not name.
const unnamedField = "\x00unnamed"

// writable reports whether the role may write the field at path, with
// its trace step.
func (ec *evalCtx) writable(r *crole, path []string) bool {
	ok := ec.node(r.permAt(path, true))
	if ec.trace != nil {
		ec.step(r.at, "field.write", strings.Join(path, "."), ok)
	}
	return ok
}

// eachLeaf calls fn with the path of every field of d, descending into
// embedded documents (an empty embedded document is a leaf), until fn
// returns true.
func eachLeaf(d value.Value, prefix []string, fn func([]string) bool) bool {
	if !d.IsDocument() {
		return false
	}
	stop := false
	iterDoc(d, func(k string, v value.Value) bool {
		p := append(prefix[:len(prefix):len(prefix)], k)
		if v.IsDocument() && v.Len() > 0 {
			stop = eachLeaf(v, p, fn)
		} else {
			stop = fn(p)
		}
		return stop
	})
	return stop
}

// iterDoc calls fn for each field of a document value until it returns
// true.
func iterDoc(d value.Value, fn func(k string, v value.Value) bool) {
	raw, ok := d.DocumentOK()
	if !ok {
		return
	}
	// Validated whole first, as Elements does (a malformed document has
	// no fields), then read element by element without the slice
	// Elements would allocate.
	if bsoncore.Document(raw).Validate() != nil {
		return
	}
	for rest := []byte(raw[4 : len(raw)-1]); len(rest) > 0; {
		e, next, ok := bsoncore.ReadElement(rest)
		if !ok {
			return
		}
		if fn(e.Key(), value.FromRaw(bson.RawElement(e).Value())) {
			return
		}
		rest = next
	}
}

// touchedPaths returns the field paths a write changes: from the update
// when given (numeric components decided on PrevDocument, both readings
// without it: mql.UpdatePathsIn, mql.UpdatePaths), else the difference between
// the documents before and after, else every field of the document.
func touchedPaths(d Doc) ([][]string, error) {
	if d.Update != nil {
		var info mql.UpdateInfo
		var err error
		if d.PrevDocument != nil {
			info, err = mql.UpdatePathsIn(d.PrevDocument, d.Update)
		} else {
			info, err = mql.UpdatePaths(d.Update)
		}
		if err != nil {
			return nil, err
		}
		var list []string
		if info.Replacement {
			// A replacement rewrites every field it gives and removes
			// the fields it lacks.
			if list, err = mql.ReplacementPaths(d.PrevDocument, d.Update); err != nil {
				return nil, err
			}
		} else {
			list = info.Paths
		}
		out := make([][]string, len(list))
		for i, p := range list {
			out[i] = strings.Split(p, ".")
		}
		return out, nil
	}
	if d.PrevDocument != nil && d.Document != nil {
		return diffPaths(docValue(d.PrevDocument), docValue(d.Document), nil, nil), nil
	}
	var out [][]string
	eachLeaf(docValue(d.Document), nil, func(p []string) bool {
		out = append(out, p)
		return false
	})
	return out, nil
}

// diffPaths returns the paths where a and b differ (by type and bytes),
// descending into documents present on both sides.
func diffPaths(a, b value.Value, prefix []string, out [][]string) [][]string {
	seen := map[string]bool{}
	iterDoc(a, func(k string, va value.Value) bool {
		seen[k] = true
		p := append(prefix[:len(prefix):len(prefix)], k)
		vb := b.Field(k)
		switch {
		case va.IsDocument() && vb.IsDocument():
			out = diffPaths(va, vb, p, out)
		case va.Type != vb.Type || !bytes.Equal(va.Data, vb.Data):
			out = append(out, p)
		}
		return false
	})
	iterDoc(b, func(k string, vb value.Value) bool {
		if seen[k] {
			return false
		}
		p := append(prefix[:len(prefix):len(prefix)], k)
		if vb.IsDocument() && vb.Len() > 0 {
			eachLeaf(vb, p, func(q []string) bool {
				out = append(out, q)
				return false
			})
		} else {
			out = append(out, p)
		}
		return false
	})
	return out
}

// fields lists what the role may read and write of the document: top-level
// field names, and dotted paths below a field whose rule has no permission
// of its own but rules for its embedded fields. Filter projections remove
// fields from the read list.
func (ec *evalCtx) fields(r *crole, applied []*cfilter) Fields {
	ec.evalGates(r)
	saved := ec.trace
	ec.trace = nil
	defer func() { ec.trace = saved }()
	var out Fields
	// Room for the top-level fields of a small document: one allocation
	// each instead of a growing slice.
	out.Read = make([]string, 0, 8)
	out.Write = make([]string, 0, 8)
	eachField(ec.root, make([]string, 0, 4), r.fields, r.addl, r.read != nil || r.write != nil, func(p []string, named bool, f *cfield, addl *perms, leaf bool) int {
		var access [2]*node
		switch {
		case len(p) > 1:
			access = [2]*node{r.readable(p), sand(r.gWrite, r.permAt(p, true))}
		case named:
			access = f.top
		default:
			access = r.other
		}
		rd := ec.node(access[0])
		wr := ec.node(access[1])
		if rd || wr || leaf {
			s := strings.Join(p, ".")
			if rd {
				out.Read = append(out.Read, s)
			}
			if wr {
				out.Write = append(out.Write, s)
			}
			return 0
		}
		return 1 // descend
	})
	out.Read = project(out.Read, applied, ec.root)
	sort.Strings(out.Read)
	sort.Strings(out.Write)
	return out
}

// eachField walks the fields of d: fn is called for a field; when it
// returns 1 and the field has rules for its embedded fields and holds a
// document, the walk descends. The path p given to fn shares its array
// with the walk's other paths (prefix's, when it has room): fn must not
// keep it.
func eachField(d value.Value, prefix []string, fs []*cfield, addl *perms, docLevel bool, fn func(p []string, named bool, f *cfield, addl *perms, leaf bool) int) {
	iterDoc(d, func(k string, v value.Value) bool {
		p := append(prefix, k)
		f := findField(fs, k)
		leaf := docLevel || f == nil || f.read != nil || f.write != nil || !f.hasSub() || !v.IsDocument()
		if fn(p, f != nil, f, addl, leaf) == 1 && !leaf {
			eachField(v, p, f.fields, f.addl, false, fn)
		}
		return false
	})
}

// project applies the projections of the applied filters to a read list
// of doc (MongoDB projection semantics: an inclusion keeps _id unless it
// excludes it; an exclusion removes the fields and everything below them,
// in embedded documents and in the documents of arrays). An exclusion
// below a listed field ({"profile.ssn": 0} with "profile" readable)
// replaces that field by its readable embedded fields in doc
// ("profile.name", ...), so that the list never names a field whose
// embedded fields are partly hidden: a document that becomes empty, and
// the scalar elements of an array that has documents, are then left out
// (fail closed; MongoDB would keep {} and the scalars, but {} would read
// the same whether the hidden field is there or not). An array without
// document elements is listed whole. An inclusion below a
// listed field keeps the included path.
func project(list []string, applied []*cfilter, doc value.Value) []string {
	for _, f := range applied {
		if len(f.projection) == 0 {
			continue
		}
		include, idExcluded := f.projKind == projIncl, false
		for _, pr := range f.projection {
			if !pr.Include && pr.Field == "_id" {
				idExcluded = true
			}
		}
		out := []string{}
		for _, s := range list {
			if (s == "_id" || strings.HasPrefix(s, "_id.")) && (idExcluded || include) {
				if !idExcluded {
					out = append(out, s)
				}
				continue
			}
			if !include {
				keep := true
				var below [][]string // exclusions strictly below s, relative to it
				for _, pr := range f.projection {
					switch {
					case pr.Include:
					case within(s, pr.Field):
						keep = false
					case strings.HasPrefix(pr.Field, s+"."):
						below = append(below, strings.Split(pr.Field[len(s)+1:], "."))
					}
				}
				switch {
				case !keep:
				case below == nil:
					out = append(out, s)
				default:
					out = excludeBelow(out, s, atPath(doc, s), below)
				}
				continue
			}
			keep := false
			for _, pr := range f.projection {
				switch {
				case !pr.Include:
				case within(s, pr.Field):
					keep = true
				case strings.HasPrefix(pr.Field, s+"."):
					// The inclusion names a field embedded in a readable one.
					out = append(out, pr.Field)
				}
			}
			if keep {
				out = append(out, s)
			}
		}
		list = slices.Compact(sortStrings(out))
	}
	if list == nil {
		list = []string{}
	}
	return list
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}

// within reports whether the dotted path p is field f or below it.
func within(p, f string) bool { return p == f || strings.HasPrefix(p, f+".") }

// atPath returns the value at a dotted path of the read list (field names
// through embedded documents).
func atPath(doc value.Value, path string) value.Value {
	v := doc
	for _, c := range strings.Split(path, ".") {
		v = v.Field(c)
	}
	return v
}

// updateWithholds reports whether update is a replacement (repl) and,
// for an update with operators, whether a path it touches (mql.UpdatePathsIn
// on stored, or mql.UpdatePaths without it: every path an operator writes,
// reads or removes, both $rename's source and target) is withheld, wholly
// or in part, by the applied filters' projections (see projectionHides).
// The stored document only decides numeric components (array index or
// field name); the answer does not depend on its values.
func updateWithholds(stored, update bson.Raw, applied []*cfilter) (repl bool, hidden string, err error) {
	proj := false
	for _, f := range applied {
		proj = proj || len(f.projection) > 0
	}
	if !proj {
		return false, "", nil
	}
	var info mql.UpdateInfo
	if stored != nil {
		info, err = mql.UpdatePathsIn(stored, update)
	} else {
		info, err = mql.UpdatePaths(update)
	}
	if err != nil || info.Replacement {
		return info.Replacement, "", err
	}
	for _, p := range info.Paths {
		if projectionHides(p, applied) {
			return false, p, nil
		}
	}
	return false, "", nil
}

// projects reports whether an applied filter has a projection.
func projects(applied []*cfilter) bool {
	for _, f := range applied {
		if len(f.projection) > 0 {
			return true
		}
	}
	return false
}

// projectionHides reports whether the applied filters' projections
// withhold some of path: an exclusion of path, of a field holding it or
// of a field it holds; for an inclusion, path not within an included
// field (a field included below path leaves the rest of path hidden).
func projectionHides(path string, applied []*cfilter) bool {
	for _, f := range applied {
		kept := false
		for _, pr := range f.projection {
			switch {
			case !pr.Include && (within(path, pr.Field) || within(pr.Field, path)):
				return true
			case pr.Include && within(path, pr.Field):
				kept = true
			}
		}
		if f.projKind == projIncl && !kept && !within(path, "_id") {
			return true
		}
	}
	return false
}

// excludeBelow appends to out the paths of v (the value at prefix) that
// remain when the relative paths excl are excluded: v itself when the
// exclusions cannot apply (a scalar, an array without document elements;
// nothing when v is missing), else its
// embedded fields (of every document element, for an array) minus the
// excluded ones, descending where an exclusion goes deeper.
func excludeBelow(out []string, prefix string, v value.Value, excl [][]string) []string {
	switch {
	case v.IsDocument():
		iterDoc(v, func(k string, kv value.Value) bool {
			var deeper [][]string
			for _, e := range excl {
				if e[0] != k {
					continue
				}
				if len(e) == 1 {
					return false // excluded
				}
				deeper = append(deeper, e[1:])
			}
			if deeper == nil {
				out = append(out, prefix+"."+k)
			} else {
				out = excludeBelow(out, prefix+"."+k, kv, deeper)
			}
			return false
		})
	case v.IsArray():
		docs := false
		v.Each(func(_ int, e value.Value) bool {
			if e.IsDocument() || e.IsArray() {
				docs = true
				out = excludeBelow(out, prefix, e, excl)
			}
			return false
		})
		if !docs {
			// No element the exclusion can reach ([] or scalars): the
			// array is shown as it is stored.
			out = append(out, prefix)
		}
	case !v.IsMissing():
		out = append(out, prefix)
	}
	return out
}

// evalOptions applies opts. Without options it does not allocate (the
// config escapes through the option functions only when there are some).
func evalOptions(opts []EvalOption) evalConfig {
	if len(opts) == 0 {
		return evalConfig{}
	}
	c := new(evalConfig)
	for _, o := range opts {
		o(c)
	}
	return *c
}

// NamedPaths returns every field path, at any depth, that the rules of the
// Bound's collection name: the fields of every role (fields, and fields
// of embedded fields) and the fields of every filter's projection; sorted,
// each once. A caller that must check a document as it would be with
// every field the rules decide on present (the gate's Aggregate check)
// uses them as probes: a role that reads every field but a named one
// cannot be told from one that reads all by a document lacking that field.
func (b *Bound) NamedPaths() []string {
	if b.c == nil {
		return nil
	}
	return slices.Clone(b.c.namedPaths)
}

// namedPaths computes NamedPaths of a compiled collection.
func namedPaths(c *ccoll) []string {
	seen := map[string]bool{}
	var walk func(fs []*cfield)
	walk = func(fs []*cfield) {
		for _, f := range fs {
			seen[strings.Join(f.path, ".")] = true
			walk(f.fields)
		}
	}
	for _, r := range c.roles {
		walk(r.fields)
	}
	for _, f := range c.filters {
		for _, p := range f.projection {
			seen[p.Field] = true
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		if p != "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
