package gate

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Stable codes of the errors the gate returns. Codes are the contract;
// messages may be reworded.
const (
	// CodeDenied: the rules do not allow the operation (a DeniedError).
	CodeDenied = "gate/denied"
	// CodeUnsupported: the operation uses a stage, operator or option the
	// gate cannot check against the rules, so it is refused (fail closed).
	CodeUnsupported = "gate/unsupported"
	// CodeInvalid: client input is malformed (a filter that is not a
	// document, a pipeline stage with two keys, ...).
	CodeInvalid = "gate/invalid"
	// CodeConflict: an update that must re-check the document after the
	// write kept losing the race with concurrent writers.
	CodeConflict = "gate/conflict"
	// CodePipelineFailed: a pipeline the gate runs itself (see
	// Collection.Aggregate) failed on the documents, as the server fails
	// an aggregation: an expression's error ($divide by zero, $toInt of a
	// string that is not a number), a blocking stage or the result over
	// the memory limit (WithPipelineMemoryLimit).
	CodePipelineFailed = "gate/pipeline-failed"
)

// Sentinel errors for errors.Is.
var (
	// ErrDenied matches every *DeniedError.
	ErrDenied = errors.New("gate: denied by rules")
	// ErrRefused matches every *RefusedError.
	ErrRefused = errors.New("gate: operation refused")
	// ErrConflict is returned (wrapped in a *RefusedError with
	// CodeConflict) when an optimistic write lost every retry.
	ErrConflict = errors.New("gate: concurrent modification")
)

// DeniedError says that the rules refused an operation: which collection,
// which method, which rule action and why (the evaluator's stable Reason).
// A denied write has changed nothing.
type DeniedError struct {
	// Namespace is "<database>.<collection>".
	Namespace string
	// Op is the method called: "UpdateOne", "Distinct", ...
	Op string
	// Action is the rule action that was denied.
	Action evaluator.Action
	// Reason is the evaluator's reason code: permission-denied for a
	// false permission, field-not-writable or field-not-readable for a
	// field, leaving-scope for a write whose result the caller could no
	// longer write, ...
	Reason evaluator.Reason
	// Role is the role that decided, "" when none applied (for
	// leaving-scope, the role that allowed the write itself).
	Role string
	// Field is the field of a field-level denial (evaluator
	// Decision.Field), a dotted path; "" when the denial concerns no one
	// field, or for a delete when the caller may not read that field.
	Field string
}

// Error renders "gate: <ns>: <Op>: <action> denied: <reason> (gate/denied)",
// naming the role and field when known.
func (e *DeniedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gate: %s: %s: %s denied: %s", e.Namespace, e.Op, e.Action, e.Reason)
	if e.Field != "" {
		fmt.Fprintf(&b, " (field %q)", e.Field)
	}
	if e.Role != "" {
		fmt.Fprintf(&b, " (role %q)", e.Role)
	}
	b.WriteString(" (" + CodeDenied + ")")
	return b.String()
}

// Is reports whether target is ErrDenied.
func (e *DeniedError) Is(target error) bool { return target == ErrDenied }

// RefusedError says that the gate refused an operation it cannot check
// against the rules (an aggregation stage reaching another collection, an
// unknown query operator, ...) or that is malformed. Ptr locates the
// offending part of the client input (the pipeline, the filter, the update
// document) as an RFC 6901 pointer.
type RefusedError struct {
	Namespace string
	Op        string
	Ptr       source.Pointer
	Code      string
	Msg       string
	// Err is the underlying error, if any (an evaluator validation error,
	// ErrConflict).
	Err error
}

// Error renders "gate: <ns>: <Op>: <ptr>: <msg> (<code>)".
func (e *RefusedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gate: %s: %s: ", e.Namespace, e.Op)
	if e.Ptr != "" {
		b.WriteString(string(e.Ptr) + ": ")
	}
	b.WriteString(e.Msg)
	b.WriteString(" (" + e.Code + ")")
	return b.String()
}

// Is reports whether target is ErrRefused.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// Unwrap returns the underlying error.
func (e *RefusedError) Unwrap() error { return e.Err }

// refusedFrom turns an evaluator validation error into a *RefusedError:
// the *source.Error it wraps gives the pointer (appended to base) and the
// message with its own code.
func (c *Collection) refusedFrom(op, code string, base source.Pointer, err error) *RefusedError {
	r := &RefusedError{Namespace: c.ns, Op: op, Ptr: base, Code: code, Msg: err.Error(), Err: err}
	var se *source.Error
	if errors.As(err, &se) {
		r.Ptr = base + se.Ptr
		r.Msg = se.Msg
		if se.Code != "" {
			r.Msg += " (" + se.Code + ")"
		}
	}
	return r
}

// withheldKeyMsg replaces the message of a duplicate-key error from the
// server.
const withheldKeyMsg = "E11000 duplicate key error (the gate withholds the key: it may hold values the caller cannot read)"

// isDupCode reports the codes mongo.IsDuplicateKeyError tests.
func isDupCode(code int) bool { return code == 11000 || code == 11001 || code == 12582 }

// withholdKey removes the key from one duplicate-key write error and
// reports whether e was one.
func withholdKey(e *mongo.WriteError) bool {
	if !isDupCode(e.Code) {
		return false
	}
	e.Message, e.Details, e.Raw = withheldKeyMsg, nil, nil
	return true
}

// withholdKeys returns err with the index key of duplicate-key errors
// removed from their message, details and raw server documents, keeping
// the code (mongo.IsDuplicateKeyError still reports them). MongoDB names
// the written document's key values there ("dup key: {...}", keyValue),
// and a unique index may cover fields the caller cannot read. Other
// errors are returned as they are.
func withholdKeys(err error) error {
	if err == nil {
		return nil
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		changed := false
		wes := slices.Clone(we.WriteErrors)
		for i := range wes {
			changed = withholdKey(&wes[i]) || changed
		}
		if changed {
			return mongo.WriteException{WriteConcernError: we.WriteConcernError, WriteErrors: wes, Labels: we.Labels}
		}
		return err
	}
	var be mongo.BulkWriteException
	if errors.As(err, &be) {
		changed := false
		bes := slices.Clone(be.WriteErrors)
		for i := range bes {
			changed = withholdKey(&bes[i].WriteError) || changed
		}
		if changed {
			return mongo.BulkWriteException{WriteConcernError: be.WriteConcernError, WriteErrors: bes, Labels: be.Labels}
		}
		return err
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) && isDupCode(int(ce.Code)) {
		return mongo.CommandError{Code: ce.Code, Message: withheldKeyMsg, Labels: ce.Labels, Name: ce.Name}
	}
	return err
}
