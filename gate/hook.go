package gate

import (
	"bytes"
	"context"
	"log/slog"

	"github.com/rulegate/rulegate/evaluator"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// DecisionEvent is one decision of the gate, as WithDecisionHook receives
// it: who decided what on which document, never the document's contents.
type DecisionEvent struct {
	// Namespace is "<database>.<collection>".
	Namespace string
	// Op is the method called: "Find", "UpdateOne", ...
	Op string
	// Action is the rule action decided.
	Action evaluator.Action
	// Allowed is the decision: for a read, the document is returned;
	// for a write or delete, it was written or deleted; for an insert
	// (and the insert of an upsert), the rules allow it (the event comes
	// before the server inserts, which may still fail: a duplicate key,
	// or a later document of InsertMany denied); false for a denial.
	Allowed bool
	// Role is the role that decided, "" when none applied.
	Role string
	// Reason is the evaluator's reason code (ReasonAllowed when allowed).
	Reason evaluator.Reason
	// Field is the field of a field-level denial, when known.
	Field string
	// ID is the _id of the document decided; the zero RawValue (Type 0)
	// when the decision concerns no single document (a delete the server
	// ran with the rule filter, a denial before any document was read).
	// It is the hook's own copy.
	ID bson.RawValue
	// Notes are the request's type-drift notes (evaluator.Decision.Notes):
	// a claim of the wrong shape where the rules expect an array, say, so
	// that the decision failed closed; shared, not to be modified.
	Notes []evaluator.Note
}

// WithDecisionHook sets a function that receives every decision the gate
// makes for a caller, for audit logs: each document a read decides
// (returned or left out), each document written, inserted or deleted, a
// delete the server runs with the rule filter (one event, no ID), and
// every denial (*DeniedError) a method returns. f is called from the
// caller's goroutine, before the method returns, and must be safe for
// concurrent use; it must not keep ctx. Without it the gate does no work
// for events.
func WithDecisionHook(f func(ctx context.Context, e DecisionEvent)) Option {
	return func(g *Gate) { g.hook = f }
}

// LogDecisions returns a decision hook that writes each event to l:
// denials at slog.LevelInfo ("gate: denied"), allowed decisions at
// slog.LevelDebug ("gate: allowed"), with the event's fields as
// attributes (ns, op, action, role, reason, field, _id as extended JSON).
func LogDecisions(l *slog.Logger) func(ctx context.Context, e DecisionEvent) {
	return func(ctx context.Context, e DecisionEvent) {
		lvl, msg := slog.LevelInfo, "gate: denied"
		if e.Allowed {
			lvl, msg = slog.LevelDebug, "gate: allowed"
		}
		if !l.Enabled(ctx, lvl) {
			return
		}
		attrs := []slog.Attr{slog.String("ns", e.Namespace), slog.String("op", e.Op),
			slog.String("action", string(e.Action)), slog.String("role", e.Role), slog.String("reason", string(e.Reason))}
		if e.Field != "" {
			attrs = append(attrs, slog.String("field", e.Field))
		}
		if e.ID.Type != 0 {
			attrs = append(attrs, slog.String("_id", e.ID.String()))
		}
		l.LogAttrs(ctx, lvl, msg, attrs...)
		for _, n := range e.Notes {
			l.LogAttrs(ctx, slog.LevelWarn, "gate: type drift", slog.String("ns", e.Namespace), slog.String("note", n.String()))
		}
	}
}

// event reports d on doc (nil: no single document) to the decision hook;
// small enough to be inlined, so that it costs a nil check without one.
func (c *Collection) event(ctx context.Context, op string, d evaluator.Decision, doc bson.Raw) {
	if h := c.s.g.hook; h != nil {
		c.emit(ctx, h, op, d, doc)
	}
}

func (c *Collection) emit(ctx context.Context, h func(context.Context, DecisionEvent), op string, d evaluator.Decision, doc bson.Raw) {
	e := DecisionEvent{Namespace: c.ns, Op: op, Action: d.Action, Allowed: d.Allowed, Role: d.Role, Reason: d.Reason, Field: d.Field, Notes: d.Notes}
	if doc != nil {
		if v, err := doc.LookupErr("_id"); err == nil {
			e.ID = bson.RawValue{Type: v.Type, Value: bytes.Clone(v.Value)}
		}
	}
	h(ctx, e)
}

// deniedEvent reports a denial to the decision hook, with the notes of
// the decision it came from (none when it came from no decision).
func (c *Collection) deniedEvent(ctx context.Context, de *DeniedError, doc bson.Raw, notes ...evaluator.Note) {
	if c.s.g.hook == nil {
		return
	}
	c.event(ctx, de.Op, evaluator.Decision{Action: de.Action, Role: de.Role, Reason: de.Reason, Field: de.Field, Notes: notes}, doc)
}

// filterEvent reports a write the server ran with the rule filter, n
// documents written: one event with no ID, when n > 0.
func (c *Collection) filterEvent(ctx context.Context, op string, a evaluator.Action, n int64) {
	if c.s.g.hook == nil || n == 0 {
		return
	}
	c.event(ctx, op, evaluator.Decision{Action: a, Allowed: true, Reason: evaluator.ReasonAllowed}, nil)
}

// deletedEvent reports doc, deleted by a server operation with the rule
// delete filter, with the role the rules give its delete (decided here,
// only when the hook is set).
func (c *Collection) deletedEvent(ctx context.Context, b *evaluator.Bound, op string, doc bson.Raw) {
	if c.s.g.hook == nil {
		return
	}
	d, err := c.decide(ctx, b, evaluator.ActionDelete, doc, nil, nil)
	if err != nil {
		d = evaluator.Decision{Action: evaluator.ActionDelete, Reason: evaluator.ReasonError}
	}
	// The server deleted it: the rule filter allowed it.
	d.Allowed, d.Reason, d.Field = true, evaluator.ReasonAllowed, ""
	c.event(ctx, op, d, doc)
}
