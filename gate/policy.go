package gate

// The calls into the evaluator, in one place.

import (
	"context"
	"errors"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// bind resolves the caller's per-request values once for an operation. A
// namespace with no rules and no default rule (or reserved, under a
// default rule: rules.Reserved), and a mapped deployment
// database asked for by its own name (WithDatabaseMapping), fail with
// errNoRules before the server is asked: no role allows anything there, as
// App Services denies every request, so that a mistyped collection name is
// an error and not an empty collection, for reads and writes alike.
func (c *Collection) bind(ctx context.Context) (*evaluator.Bound, error) {
	if c.blocked || c.s.g.noRules(c.ns) {
		return nil, errNoRules
	}
	return c.s.g.prog.Bind(ctx, evaluator.Caller{Namespace: c.ns, Inputs: c.s.in})
}

// errNoRules is bind's error for a namespace no rule governs; evalErr makes
// it a *DeniedError with ReasonNoRules.
var errNoRules = errors.New("no rules for the namespace")

// bindRead is bind for the reads.
func (c *Collection) bindRead(ctx context.Context, op string) (*evaluator.Bound, error) {
	b, err := c.bind(ctx)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	return b, nil
}

// decide evaluates one document for the caller, with the fields the decided
// role may read and write.
//
// A stored document whose read rules cannot be evaluated (a %function
// that fails on it, a stored value the evaluator refuses as an operand)
// is one the caller cannot read: the decision denies with ReasonError and
// no error is returned, so the document is left out like any other the
// caller may not see. Reporting the error to the caller would tell it
// something about a document it may not read, and would let whoever
// stores such a value break every other caller's queries. The error goes
// to the Gate's WithDocumentErrors function, for the operator.
func (c *Collection) decide(ctx context.Context, b *evaluator.Bound, a evaluator.Action, doc, prev, update bson.Raw, opts ...evaluator.EvalOption) (evaluator.Decision, error) {
	return c.decideAs(ctx, b, a, doc, prev, update, true, opts...)
}

// decideAs is decide, with Decision.Fields only when fields is set.
func (c *Collection) decideAs(ctx context.Context, b *evaluator.Bound, a evaluator.Action, doc, prev, update bson.Raw, fields bool, opts ...evaluator.EvalOption) (evaluator.Decision, error) {
	if fields {
		opts = append(opts[:len(opts):len(opts)], evaluator.WithFields())
	}
	d, err := b.Evaluate(ctx, evaluator.Doc{Action: a, Document: doc, PrevDocument: prev, Update: update}, opts...)
	if err == nil || a == evaluator.ActionInsert || ctx.Err() != nil ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return d, err
	}
	if a != evaluator.ActionRead {
		// A write or delete decision that fails on a stored document is
		// reported only when the caller can read that document.
		stored := doc
		if prev != nil {
			stored = prev
		}
		if rd, rerr := c.decide(ctx, b, evaluator.ActionRead, stored, nil, nil); rerr != nil || rd.Allowed {
			return d, err
		}
	}
	if f := c.s.g.docErrors; f != nil {
		f(ctx, c.ns, err)
	}
	d.Allowed, d.Reason, d.Fields = false, evaluator.ReasonError, evaluator.Fields{}
	return d, nil
}

// readScope returns the rule filter and projection of reads. exact is
// false when the rules cannot be written as a query
// (evaluator.ErrNotExpressible): filter is then empty and every document
// must be decided with Evaluate.
func readScope(ctx context.Context, b *evaluator.Bound) (filter, proj bson.D, exact bool, err error) {
	filter, proj, err = b.ReadFilter(ctx)
	if errors.Is(err, evaluator.ErrNotExpressible) {
		return bson.D{}, nil, false, nil
	}
	if filter == nil {
		filter = bson.D{}
	}
	return filter, proj, err == nil, err
}

// writeScope returns the filter of the stored documents the caller may
// update with update (a = ActionWrite) or delete (a = ActionDelete). exact
// is false as for readScope.
func writeScope(ctx context.Context, b *evaluator.Bound, a evaluator.Action, update bson.Raw) (filter bson.D, exact bool, err error) {
	filter, err = b.WriteFilter(ctx, a, update)
	if errors.Is(err, evaluator.ErrNotExpressible) {
		return bson.D{}, false, nil
	}
	if filter == nil {
		filter = bson.D{}
	}
	return filter, err == nil, err
}

// combine ANDs a validated client query with a rule filter, never merging
// them key by key.
func combine(client bson.Raw, rule bson.D) bson.D {
	var d bson.D
	if len(client) > 5 {
		// client was validated: it decodes.
		_ = bson.Unmarshal(client, &d)
	}
	return mql.And(d, rule)
}
