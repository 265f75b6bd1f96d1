package evaluator

import (
	"context"
	"slices"
	"strings"
)

// ReadsWhole reports whether the bound caller reads every document it
// may read whole, whatever the document holds: each role that can decide
// a document for this request (its apply_when not false for the request,
// no earlier role taking every document) either reads nothing or reads
// every field, by a document-level read or write permission that holds
// for the request or by field rules and additional_fields that do,
// with no embedded field rules; and no filter with a projection can
// apply. Then the fields of a document's Decision are every field it
// holds, and redaction never removes anything. A namespace without
// rules, and a request whose values cannot be evaluated, give false
// (fail closed).
func (b *Bound) ReadsWhole(ctx context.Context) bool {
	c := b.c
	if c == nil || len(c.roles) == 0 {
		return false
	}
	f := &fb{ec: evalCtx{ctx: ctx, b: b}, kindOnly: true}
	for _, fl := range c.filters {
		if len(fl.projection) > 0 && f.filterOn(fl).k != fFalse {
			return false
		}
	}
	whole := true
	f.governed(c, func(r *crole, _ flt) flt {
		if f.node(r.mayRead).k == fFalse {
			return tFalse
		}
		if f.node(r.readsAll).k != fTrue {
			whole = false
		}
		if r.read == nil && r.write == nil {
			for _, fd := range r.fields {
				if fd.hasSub() {
					whole = false
				}
			}
		}
		return tTrue
	})
	if f.err != nil || f.ec.err != nil {
		return false
	}
	return whole
}

// ReadsPaths reports whether the bound caller can read each of paths
// (dotted field paths, as a client query or sort names them) in every
// document it may read, whatever the document holds, and whether the
// document holds the path or not: a document that lacks one is decided
// as it would be with the path present. It holds when:
//   - each role that can decide a document for this request (as for
//     ReadsWhole) either reads nothing, or reads the top-level field of
//     each path whatever the document holds (a document-level read or
//     write permission, the field's own rule, or additional_fields for a
//     field no rule names, under document_filters that hold for the
//     request; a field whose rule sets no permission but has rules for
//     its embedded fields only when every embedded field is readable, so
//     that it is never listed field by field);
//   - no filter whose projection can apply withholds the field, or a
//     field embedded in it, and every inclusive one keeps it; and
//   - no expression the decision evaluates (the roles' apply_when,
//     document_filters and permissions, the filters' apply_when and
//     query) reads a path equal to, inside or above one of paths, nor the
//     whole document: a document holding a path or not is then given the
//     same role, filters and permissions.
//
// "*" (mql.AllFields), an empty path or a component starting with "$",
// a namespace without rules, and a request whose values cannot be
// evaluated give false (fail closed).
func (b *Bound) ReadsPaths(ctx context.Context, paths []string) bool {
	c := b.c
	if c == nil || len(c.roles) == 0 || c.projMixed {
		return false
	}
	ps := make([][]string, len(paths))
	for i, p := range paths {
		ps[i] = strings.Split(p, ".")
		for _, s := range ps[i] {
			if s == "" || s == "*" || strings.HasPrefix(s, "$") {
				return false
			}
		}
	}
	f := &fb{ec: evalCtx{ctx: ctx, b: b}, kindOnly: true}
	for _, fl := range c.filters {
		if f.filterOn(fl).k == fFalse {
			continue
		}
		if readsNear(fl.applyWhen, ps) || readsNear(fl.query, ps) || withholdsTop(fl, ps) {
			return false
		}
	}
	ok := true
	f.governed(c, func(r *crole, _ flt) flt {
		if !ok {
			return tFalse
		}
		if roleReadsNear(r, ps) {
			ok = false
			return tFalse
		}
		if f.node(r.mayRead).k == fFalse {
			return tFalse
		}
		for _, p := range ps {
			// Decision.Fields then lists the field whole wherever the
			// document holds it, embedded field rules or not.
			if f.node(r.readable(p[:1])).k != fTrue {
				ok = false
				return tFalse
			}
		}
		return tTrue
	})
	if f.err != nil || f.ec.err != nil {
		return false
	}
	return ok
}

// withholdsTop reports whether filter fl's projection may keep less than
// the top-level field of one of ps whole (see project): an exclusion of
// that field or of a field inside it, an inclusion of a field inside it,
// or an inclusive projection that does not name it (_id aside, which an
// inclusion keeps unless it excludes it).
func withholdsTop(fl *cfilter, ps [][]string) bool {
	if len(fl.projection) == 0 {
		return false
	}
	include := fl.projKind == projIncl
	for _, p := range ps {
		top, kept := p[0], false
		for _, pr := range fl.projection {
			switch {
			case !pr.Include && within(pr.Field, top):
				return true
			case pr.Include && pr.Field == top:
				kept = true
			case pr.Include && within(pr.Field, top):
				// Only the included embedded field is kept.
				return true
			}
		}
		if include && !kept && top != "_id" {
			return true
		}
	}
	return false
}

// roleReadsNear reports whether an expression of role r that a read
// decision evaluates reads a path near one of ps (readsNear).
func roleReadsNear(r *crole, ps [][]string) bool {
	for _, n := range []*node{r.applyWhen, r.dfRead, r.dfWrite, r.read, r.write} {
		if readsNear(n, ps) {
			return true
		}
	}
	if r.addl != nil && (readsNear(r.addl.read, ps) || readsNear(r.addl.write, ps)) {
		return true
	}
	return fieldsReadNear(r.fields, ps)
}

func fieldsReadNear(fs []*cfield, ps [][]string) bool {
	for _, fd := range fs {
		if readsNear(fd.read, ps) || readsNear(fd.write, ps) || fd.addl != nil && (readsNear(fd.addl.read, ps) || readsNear(fd.addl.write, ps)) || fieldsReadNear(fd.fields, ps) {
			return true
		}
	}
	return false
}

// readsNear reports whether expression n reads, in the document, the
// whole document or a path equal to, inside or above one of ps. Paths
// inside $elemMatch are read as written (relative to the element): they
// may only add false answers.
func readsNear(n *node, ps [][]string) bool {
	if n == nil {
		return false
	}
	if operandNear(n.left, ps) || condNear(n.cond, ps) {
		return true
	}
	for _, k := range n.kids {
		if readsNear(k, ps) {
			return true
		}
	}
	return false
}

func condNear(c *cnode, ps [][]string) bool {
	if c == nil {
		return false
	}
	if operandNear(c.arg, ps) || readsNear(c.q, ps) {
		return true
	}
	for _, k := range c.kids {
		if condNear(k, ps) {
			return true
		}
	}
	return false
}

func operandNear(o *operand, ps [][]string) bool {
	if o == nil {
		return false
	}
	switch o.kind {
	case oDocPath:
		if len(o.path) == 0 {
			return true
		}
		for _, p := range ps {
			n := min(len(p), len(o.path))
			if slices.Equal(p[:n], []string(o.path[:n])) {
				return true
			}
		}
	case oDocBuild:
		if o.build == nil {
			return true
		}
		for _, e := range o.build.elems {
			if operandNear(e, ps) {
				return true
			}
		}
	}
	return false
}
