package evaluator

import "context"

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
