package evaluator

// This file fixes the public surface of the evaluator that the gate,
// fixtures and cmd packages program against.

import (
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
)

// Action is what a request does to a document.
type Action string

// The actions of App Services rules.
const (
	ActionRead   Action = "read"
	ActionWrite  Action = "write" // an update or replacement of an existing document
	ActionInsert Action = "insert"
	ActionDelete Action = "delete"
	ActionSearch Action = "search"
)

// Caller is what is known once per request: who asks (Inputs.User and the
// other request-phase inputs) and where (Namespace). Bind resolves it once
// for many documents.
type Caller struct {
	// Namespace is "db.coll" of the request.
	Namespace string
	// Inputs carry %%user, %%request, %%values, %%environment, ... .
	Inputs expansion.Inputs
}

// Reason is the stable code of a decision.
type Reason string

// The decision reasons. They are a contract: tests, the CLI and callers
// match on them.
const (
	ReasonAllowed          Reason = "allowed"
	ReasonNoRules          Reason = "no-rules"           // the namespace has no rules and no default rule
	ReasonNoRole           Reason = "no-role"            // no role's apply_when held for the document
	ReasonDocumentFilter   Reason = "document-filter"    // the role's document_filters rejected the document
	ReasonPermission       Reason = "permission-denied"  // the role's permission for the action is false
	ReasonFieldNotWritable Reason = "field-not-writable" // the write touches a field the role cannot write
	ReasonFieldNotReadable Reason = "field-not-readable" // nothing of the document is readable; or an update touches a withheld field
	ReasonError            Reason = "error"              // evaluation failed; access denied (fail closed)
	ReasonFilter           Reason = "filter"             // an applied filter's query excludes the document
	ReasonSchema           Reason = "schema"             // the rules allow the insert or write, but the document after it breaks the collection's schema
	ReasonLeavingScope     Reason = "leaving-scope"      // the rules allow the write, but the caller could not write the document after it (WithLeavingScopeDenied)
)

// Reasons returns every decision reason, allowed first: the one list
// tools show (rulegate eval --help) and check against.
func Reasons() []Reason {
	return []Reason{ReasonAllowed, ReasonNoRules, ReasonFilter, ReasonNoRole, ReasonDocumentFilter,
		ReasonPermission, ReasonFieldNotWritable, ReasonFieldNotReadable, ReasonSchema, ReasonLeavingScope, ReasonError}
}

// Fields are the fields of the document that the decided role may read and
// write: top-level names, or dotted paths for embedded fields with rules of
// their own; sorted.
type Fields struct {
	Read  []string `json:"read"`
	Write []string `json:"write"`
}

// Decision is the outcome of Evaluate.
type Decision struct {
	Allowed bool
	Action  Action
	// Role is the name of the role that decided, "" when none applied.
	Role   string
	Reason Reason
	// Field is the field that decided a field-level denial, as a dotted
	// path: with ReasonFieldNotWritable, the first field the insert,
	// write or delete touches that the role may not write; with
	// ReasonFieldNotReadable, the first path an update touches that an
	// applied filter's projection withholds. It is "" for every other
	// reason, for a replacement or delete denied as a whole, and for an
	// update with a numeric path component ("tags.0"), which the stored
	// document reads as an array index or a field name (naming the path
	// would tell the type of a value the caller may not read).
	Field string
	// Fields is filled when the WithFields option is given.
	Fields Fields
	// Notes are remarks on the request's values under the namespace's
	// rules that do not change the decision: a claim of the wrong type
	// where an array is expected (CodeTypeDrift). Every decision of a
	// Bound carries the Bound's notes (Bound.Notes); nil when none.
	// Callers must not modify them.
	Notes []Note
}

// CodeTypeDrift is the code of a Note on a request value (a claim, a
// %%request or %%values field, a function's result) that is the operand
// of $in, $nin or $all but not an array, of $size but not a whole number
// from 0 to 2^31-1, of $type but not a type alias or number, or of $mod
// but not [divisor, remainder]: the server refuses such a query, and the
// comparison decides as with a missing operand (false; true under $nor;
// unknown in a filter's apply_when). Typically a custom data field that
// was written with another type than the rules expect
// ({"team": {"$in": "%%user.custom_data.teamIds"}} with teamIds "t1").
const CodeTypeDrift = "evaluator/type-drift"

// Note is a remark on a decision's inputs that does not change it: where
// in the rules (File and Ptr, the operator's pointer), a stable Code and
// a message naming the operator, the type expected and the type found,
// and the expansion it came from; never the value.
type Note struct {
	File string         `json:"file,omitempty"`
	Ptr  source.Pointer `json:"ptr"`
	Code string         `json:"code"`
	Msg  string         `json:"msg"`
}

// String renders a note: `file#ptr: msg (code)`.
func (n Note) String() string {
	return n.File + "#" + string(n.Ptr) + ": " + n.Msg + " (" + n.Code + ")"
}

// Step is one event of a Trace: the rule node at Ptr (in File) was
// evaluated, with the concrete values compared, and gave Result.
type Step struct {
	File   string         `json:"file,omitempty"`
	Ptr    source.Pointer `json:"ptr"`
	What   string         `json:"what"`             // "filter", "role", "apply_when", "document_filters.read", "read", "field", ...
	Detail string         `json:"detail,omitempty"` // `%%user.custom_data.team = "red" vs %%root.team = "blue"`
	Result bool           `json:"result"`
}

// Trace collects the steps of evaluations when passed with WithTrace.
type Trace struct {
	Steps []Step
}
