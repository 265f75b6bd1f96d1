// Package evaluator decides App Services rules: Compile turns the rules of
// an app (rules.App) into an immutable Program; Evaluate decides whether a
// Caller may perform an action on one document (Doc); Bind resolves the
// per-request part, the Caller, once for many documents; ReadFilter and WriteFilter turn the same rules into the
// MongoDB filter that selects exactly the documents a caller may read or
// modify. The MongoDB query and update language itself (client queries,
// the paths an update touches, the document after it, $and, in-memory
// matching) is package mql; MongoDB value semantics are package value.
//
// The semantics are App Services' as documented in the repository
// mongodb/docs-app-services, cited below by file:
//
//   - source/rules/roles.txt — roles, role order, per-document role
//     assignment, document_filters;
//   - source/rules/filters.txt — filters (apply_when, query, projection);
//   - source/rules/expressions.txt — expansions and operators;
//   - source/rules/examples.txt — permission templates, embedded documents,
//     insert-only roles;
//   - source/mongodb/tables/role-configuration.rst — every role field, its
//     default and priority (the rules.json role configuration reference).
//
// # Vocabulary
//
//	| term             | meaning                                                                                   |
//	|------------------|-------------------------------------------------------------------------------------------|
//	| Program          | compiled rules of an app; immutable, safe for concurrent use                              |
//	| Caller           | what is known once per request: who (Inputs) and where (Namespace)                        |
//	| Bound            | a Program bound to one Caller: %%user, %%request, ... resolved once                       |
//	| Doc              | the document side of a decision: what (Action) and which document                         |
//	| Decision         | Allowed, the deciding Role, a stable Reason, the Field of a field-level denial, and       |
//	|                  | Fields when asked                                                                         |
//	| Action           | read, write (update or replace), insert, delete, search                                   |
//	| FunctionSet      | the functions %function calls besides Go Funcs; exprfunc compiles functions/<name>.expr,  |
//	|                  | jsfunc an export's JavaScript functions                                                   |
//	| Condition        | one expression compiled alone (CompileCondition): a function's or the Data API's          |
//	|                  | can_evaluate, over the request phase only (%%root is missing)                             |
//	| role             | named permissions; the first whose apply_when holds decides for a document                |
//	| apply_when       | expression selecting a role; may use %%root (without Device Sync)                         |
//	| document_filters | read/write expressions gating whether a role's read/write permissions are evaluated       |
//	| filter           | apply_when + query + projection applied before roles (restricts what queries see)         |
//	| field rule       | fields.<name>.read/write, nested fields, additional_fields                                |
//	| request phase    | expansions known once per request: %%user, %%request, %%values, %%environment, ...        |
//	| document phase   | expansions that change per document: %%root, %%prevRoot, %%this, %%prev                   |
//	| Trace            | steps keyed by file and RFC 6901 pointer with the concrete values compared                |
//	| Note             | a remark on the request's values that does not change a decision (Decision.Notes)         |
//	| type drift       | a claim of another type than its operator needs ($in of a string): CodeTypeDrift          |
//	| ReadFilter       | MongoDB filter + projection of readable documents, to AND with a client query             |
//	| schema           | a collection's schema.json (package schema), checked on the inserts and writes allowed    |
//	| WriteFilter      | MongoDB filter of modifiable documents (with an update: of documents it may write)        |
//	| ReadsWhole       | every document the caller may read is read whole: each role it may get reads every field, |
//	|                  | no filter projection may apply (Bound.ReadsWhole; the gate then pages on the server)      |
//	| ReadsPaths       | given paths are readable in every document the caller may read, present or not, and no    |
//	|                  | rule reads them (Bound.ReadsPaths; the gate then pages a filter or sort on them)          |
//
// # Reasons
//
//	| Reason             | when                                                                          |
//	|--------------------|-------------------------------------------------------------------------------|
//	| allowed            | the action is permitted                                                       |
//	| no-rules           | the namespace has no rules.json and the data source no default rule           |
//	| filter             | an applied filter's query excludes the document                               |
//	| no-role            | no role's apply_when holds for the document                                   |
//	| document-filter    | the role's document_filters deny the action on the document                   |
//	| permission-denied  | the role's permission is false (read, insert, delete, search); or its         |
//	|                    | document-level write is false (write, insert, delete: it is the write         |
//	|                    | permission of every field, whatever the field rules say)                      |
//	| field-not-writable | a write (update, insert, delete) touches a field the role cannot write and    |
//	|                    | the role has no document-level write; a replacement, where some field may be  |
//	|                    | unreadable (by the role or a projection)                                      |
//	| field-not-readable | the role has field rules but none grants reading anything; or an update       |
//	|                    | touches a field an applied filter's projection withholds                      |
//	| schema             | the rules allow the insert or write, but the document after it breaks the     |
//	|                    | collection's schema (bsonType, required, ...) or a validate expression fails  |
//	| leaving-scope      | with WithLeavingScopeDenied: the rules allow the write, but the document      |
//	|                    | after it, as stored, is one no role lets the caller write (a changed owner)   |
//	| error              | evaluation failed (a function error, a malformed update, a projection         |
//	|                    | conflict between applied filters, an operand the server does not compare as   |
//	|                    | a value: ErrRegex, ErrOperator, ErrUndefined; an app value the request does   |
//	|                    | not carry: ErrNotProvided); access denied                                     |
//
// # Notes
//
// A request value (a claim, most often a custom data field; a %%request
// or %%values field; a function's result) that is the operand of $in,
// $nin or $all but not an array, of $size but not a whole number from 0
// to 2^31-1, of $type but not a type alias or number, or of $mod but not
// [divisor, remainder], is type drift: {"team": {"$in":
// "%%user.custom_data.teamIds"}} with teamIds written as "t1" instead of
// ["t1"]. The server refuses such a query ("$in needs an array"); the
// comparison decides as with a missing operand (below: false, true under
// $nor, unknown in a filter's apply_when, a clause of ReadFilter that
// matches nothing), so a teammate silently loses access. Bind notes it:
// a Note with CodeTypeDrift, the operator's file and pointer and a
// message naming the operator, the shape expected, the type found and
// the expansion (`$in expects an array, got string from
// %%user.custom_data.teamIds`), never the value. Bound.Notes lists the
// notes of the whole namespace's rules for the request, whatever the
// document and whether or not a decision reaches the comparison; every
// Decision of the Bound carries them (Decision.Notes, the same slice: no
// allocation per document); the trace's match step ends with "; note:
// <message> (evaluator/type-drift)". A missing or null value is not
// drift (it is a missing operand), nor is an $all array holding a null.
// Notes change no decision.
//
// Decision.Field names the field that decided a field-not-writable or
// field-not-readable denial of an insert, write or delete: the first one
// the request touches, in the order of the update's paths or the
// document's fields, as a dotted path. It comes from the request (the
// update, the inserted document) or, for a delete, from the stored
// document: a caller that shows it must check that the caller may read
// it (package gate does). A replacement denied because it would remove
// fields the caller cannot read names none.
//
// # Semantics
//
// Filters (filters.txt). Every filter whose apply_when holds applies to the
// request; its query restricts the documents queries see, so a read,
// update, delete or search of a document that does not match it is denied
// with ReasonFilter; its projection removes fields from Decision.Fields.Read
// and from ReadFilter's projection. Inserts are not queries: filter queries
// do not apply to them. Filters that apply together must all specify the
// same type of projection, inclusive or exclusive (_id: 0 alongside
// inclusions is allowed, as in MongoDB), "or the query will fail"
// (source/mongodb/tables/query-filter-params.rst, "Projection
// Conflicts"): Evaluate then denies with ReasonError and an
// ErrProjectionConflict error, and ReadFilter and WriteFilter return that
// error when such filters may apply together.
//
// Roles (roles.txt, "How App Services Assigns Roles", "Role Order").
// Without Device Sync, roles are assigned per document: they are tried in
// order and the first whose apply_when holds is the document's only role;
// an absent apply_when holds. No role means no access (ReasonNoRole).
// A collection without rules.json uses its data source's default_rule.json
// (as rules.App.Collection and DefaultRuleFor choose them), except MongoDB's
// own namespaces (rules.Reserved: the admin, local and config databases and
// system collections), which only a rules.json of their own opens; with
// neither, access is denied (ReasonNoRules). So does a rules.json without
// collection-level roles ("roles": [] or no roles key, as the scaffold
// `echo '{}' > rules.json` of filters.txt): "If there are no
// collection-level roles, the request falls back to the data source's
// default roles" (roles.txt, "How App Services Assigns Roles"). Its
// filters and the default rule's filters both apply. Without a default
// rule it has no role (ReasonNoRole).
//
// Permissions (role-configuration.rst):
//
//   - document_filters.read and .write default to true when undefined. Read
//     access is denied when read is false "and document_filters.write is
//     undefined or false"; write access is denied when write is false.
//   - read and write default to false; insert, delete and search default to
//     true; fields.<name>.read/write and additional_fields.read/write
//     default to false.
//   - A document-level read or write, when set, takes priority over every
//     field-level permission of the same kind (true or false).
//   - Write implies read at every scope ("Implicit Read Permission").
//   - A permission set on a field holding an embedded document applies to
//     all its embedded fields, whatever their own rules
//     (examples.txt, "Field-level Permissions for Embedded Documents");
//     a field with no permission of its own defers to its fields and its
//     additional_fields.
//   - insert is evaluated "only after determining that the role has write
//     permission for all fields in the new document"; delete likewise for
//     "all fields in the document to be deleted". Fields are the leaves of
//     the document: embedded documents are descended into, arrays are
//     leaves, _id included.
//   - An update needs write permission on every path it touches
//     (mql.UpdatePathsIn on PrevDocument, else mql.UpdatePaths; a
//     replacement: mql.ReplacementPaths), else the paths that differ
//     between PrevDocument and Document, else every field. $rename needs
//     it on its source (write implies read) and its target. A replacement
//     also needs the role to let the caller read every field a document
//     may hold (see the fail-closed choices).
//   - read allows a document when something of it is readable: the
//     document-level read or write, or a field rule or additional_fields
//     granting read or write. Decision.Fields says which fields.
//
// Documents seen by expressions (expressions.txt, "MongoDB Document
// Expansions"): on read, search and delete, %%root and %%prevRoot are the
// stored document (it exists before and after the request; this is what
// makes the insert-only template's {"%%prevRoot": {"%exists": false}}
// false on reads, examples.txt). On insert, %%root is the new document and
// %%prevRoot is missing. On write (update), the role and the filters are
// decided on the stored document (PrevDocument): the document a query
// matches (roles.txt, "for each document returned by the query"); the
// permissions (document_filters.write, write, field writes) then see
// %%root as the document after the write (Document, or, when it is nil,
// mql.ApplyUpdate of the stored document and Update) and %%prevRoot as the
// stored one. %%this and %%prev, in a field rule, are that field's value in
// %%root and %%prevRoot; elsewhere they are missing.
//
// Schemas (mongodb/docs-app-services source/schemas/enforce-a-schema.txt,
// source/schemas/types.txt; package schema). An insert or write that the
// rules allow is then checked against the namespace's schema (schema.json,
// rules.App.Schema): the document after the write (%%root as above; an
// insert's document) must match it, and each validate expression must
// hold, with %%this and %%prev the value of its field after and before the
// write, %%root and %%prevRoot the documents, and the request expansions
// (%%user, ...); on inserts %%prev and %%prevRoot are missing. A failure
// denies with ReasonSchema; a write the rules deny keeps the rules' reason.
// The schema sees only what the caller can read: App Services validates the
// whole document, but rulegate does not let a reason depend on a hidden
// value (a validate expression {"%%this": {"$gte": "%%root.reserve"}} would
// let a bidder who cannot read reserve binary-search it). %%root (and
// %%this in it) is the document after the write with only the decided
// role's readable fields of it (Decision.Fields.Read; write implies read,
// so the fields the caller writes are there), redacted as mql.Paths.Redact
// does; %%prevRoot (and %%prev) is the stored document with those fields
// and the ones the role lets the caller read of it (a field the write
// removes keeps its %%prev); the document matched against the schema is the
// redacted %%root. A required field the caller cannot read is then missing
// and the write denied whatever it holds (fail closed); a hidden field's
// own constraints are not checked (the caller cannot write it: it keeps its
// stored value).
// A schema error (schema/type, schema/root) is a Compile error; keywords
// rulegate does not enforce are rulegate check's warnings
// (schema/unsupported), not errors. Filters and ReadFilter/WriteFilter do
// not see the schema: it concerns the document a write produces.
//
// Expressions (expressions.txt). Several fields are an AND; {} holds; a
// plain field name means %%root.<field>; %and/%or and $and/$or/$nor combine
// expressions, and %and/%or/$nor may combine conditions on one field. A
// document field is matched with MongoDB query semantics (value package):
// an array field matches when one element does, {f: null} matches a
// missing f, comparisons are type-bracketed, numbers compare across
// int32/int64/double/decimal128, an ObjectId never equals its hex string
// (use %stringToOid). An array-valued expansion compared for equality with
// a field is membership ({"email": "%%user.custom_data.manages"}, the
// Manager role of roles.txt); a per-request value on the left tested
// against a document path on the right is read from the document's side
// ({"%%user.id": {"$in": "%%root.members"}} is {"members": "%%user.id"}).
// Filter queries (filters.txt) are MongoDB queries: no membership rule.
// $all, $size, $type, $mod, $regex and $elemMatch (below) and $not, MongoDB query
// operators outside expressions.txt, have their MongoDB meaning
// (value.MatchAll, MatchSize,
// MatchType, MatchMod, which truncates numbers toward zero as the server
// does since 5.1, and ReadFilter sends the truncated [divisor, remainder]; {"f": {"$not": {...}}} is {"$nor": [{"f": {...}}]}, so it
// matches a document without f): {"collaborators":
// {"$all": ["%%user.id"]}} holds when the array holds the user id, an
// empty $all matches nothing, $size counts the array at the path, not the
// arrays in it. An operand the server refuses (from a claim: $in and $nin
// of a non-array, $all of a non-array, $size of anything but a whole
// number from 0 to 2^31-1, $type of anything but type aliases and
// numbers, $mod of anything but two numbers with a divisor other than 0)
// and an $all array from an expansion that holds a null decide as a
// missing operand (a null claim never matches documents that lack the
// field): false, true under $nor, unknown in a filter's apply_when (which
// then applies the filter). A per-request
// value on the left with a document path on the right is not read from
// the document's side for $all, $size, $type and $mod: {"%%user.custom_data.roles": {"$all":
// "%%root.required"}} compares the stored value as the operand, and the
// filters cannot express it (ErrNotExpressible).
// %stringToOid accepts 24 hex digits or 12 bytes; %oidToString an
// ObjectId; %stringToUuid a UUID string in the hyphenated 8-4-4-4-12 form
// (either case) and %uuidToString a UUID (binary subtype 4), which it
// writes in lowercase (value.StringToUUID, value.UUIDToString); anything
// else yields a missing value. A UUID never equals its string. %function calls a Go
// function (WithFunction) or one of a FunctionSet (WithFunctions: package
// exprfunc runs an app's functions/<name>.expr files); its errors deny
// with ReasonError, but for an error that wraps ErrFunctionThrew (the
// function ran and threw, as jsfunc's do): then, as source/functions.txt
// says ("If the function throws an error, the expression evaluates to
// false"), its value is missing, which no comparison matches (so a role
// whose apply_when calls it does not apply and the next role decides) and
// which makes a filter's apply_when unknown, so the filter applies (fail
// closed: a failure never lifts a filter); the trace shows the error. A function the export implements in JavaScript
// (rules.App.JSFunctions) that neither provides compiles, and each call
// fails with ErrJSFunction (denied): package jsfunc's FunctionSet runs
// the functions that have their source; one configured without a source
// runs only as a Go function. Likewise a value the app defines that the request does not
// carry (expansion.Inputs built without rules.App.Inputs, as gate.Gate.For
// builds them; a secret, rules.Value.Secret, which an export does not hold
// and the caller must give): %%values.<name> of values/, or
// %%environment.values.<name> of environments/ without %%environment. On
// the left of a comparison it fails with ErrNotProvided (denied), where
// the subject rule below would decide it as a missing field and
// {"%%values.x": {"$ne": ...}} would hold whatever the app sets x to; as
// the value compared against, it is a missing value (it matches nothing).
// So is a %%request field when the request carries no %%request at all
// (expansion.Inputs.Request nil, as gate.Gate.For leaves it): App Services
// sets %%request on every request, so its fields are not known to be
// missing, and {"%%request.remoteIPAddress": {"$nin": [...]}} would hold
// for everyone.
//
// # Fail-closed choices
//
// Where the documentation is silent, rulegate never widens access:
//
//   - A missing claim never widens access. The subject rule: an expansion on
//     the left of a comparison (the subject: {"%%user.custom_data.x": ...},
//     %%root or %%prevRoot as a whole) is matched as a document field is in
//     MongoDB, a missing one as a missing field: {"$eq": null}, {"$in": [null,
//     ...]}, {"$gte": null}, {"$lte": null} and {"$exists": false} hold,
//     {"$ne": null}, {"$nin": [null, ...]} and {"$exists": true} do not, and
//     {"$ne": 5}, {"$nin": [5]} hold, as they do for a document without the
//     field (the MongoDB manual, "Query for Null or Missing Fields", $ne,
//     $nin). So a deny-first role {"%%user.custom_data.masterId": null}
//     applies to a user without masterId (Sistemium/vfs-masters-realm), where
//     it was skipped and a broader role granted access. This cannot widen
//     access beyond what the rule's author wrote: a missing subject decides
//     every comparison but $exists and $type as a null one does (it has no
//     type, as a missing field: {"$type": "null"} does not match it), and the
//     author decided what a null claim gets; negation keeps this, {"$nor":
//     [{"%%user.x": null}]} is false for a missing x as for a null one. Where
//     a missing document field and a null differ (the MinKey and MaxKey
//     bounds, which a missing field does not match), the subject follows null,
//     since under $nor the missing field's reading would grant more. A
//     filter's apply_when is the exception (see below): a filter only
//     restricts, so there a missing subject stays unknown and applies the
//     filter.
//   - A missing value compared against (a missing claim, %%request field,
//     value on the right of a comparison) matches nothing, including with $ne,
//     $nin, $gt...: only {"$exists": false} of a missing subject holds. A
//     request value on the left tested against a document path ({"%%user.id":
//     "%%root.owner"}, read as {"owner": "%%user.id"}) is such a value
//     compared against: missing or null, it matches no document, not even one
//     whose owner is null or missing. Under an odd number of $nor (expression
//     or condition level) such a comparison is true instead, so that the $nor
//     is false: {"$nor": [{"team": "%%user.custom_data.team"}]} without team
//     denies, as {"team": {"$ne": ...}} does. This is Kleene logic (the
//     comparison is unknown) with an unknown result not applying, decided per
//     comparison at Compile by its polarity; the read and write filters agree.
//     {"owner_id": "%%user.custom_data.orgId"} without an orgId claim matches
//     no document, not even one without owner_id. A filter's apply_when is
//     evaluated in three-valued (Kleene) logic instead: a comparison (any
//     operator except $exists) of a missing value, the subject or the value
//     compared against, is unknown; false and unknown is false, true or
//     unknown is true, nor of unknown is unknown; and an unknown apply_when
//     applies the filter. So {"%%user.custom_data.guest": true} and
//     {"%%user.type": {"$ne": "%%user.custom_data.exemptType"}} as a filter's
//     apply_when apply the filter to a user without guest or exemptType (a
//     false apply_when would show that user more), while {"%and": [that,
//     {"%%user.custom_data.beta": true}]} with beta: false does not apply it
//     (false whatever the missing value is). This is decided once per request,
//     at Bind. (An apply_when that reads the document, which filters.txt
//     forbids, applies whenever one of its values, subject or compared
//     against, is missing.)
//   - A null that comes from an expansion on the right of a comparison is
//     treated as missing: a null claim never matches documents that lack
//     the field. Nulls inside an expansion array compared for equality
//     (membership) are dropped, as {f: [null]} in MongoDB matches neither
//     a null nor a missing f. Nulls inside an expansion array used with
//     $in or $nin are kept, in memory and in ReadFilter/WriteFilter, with
//     their MongoDB meaning: {"team": {"$nin": "%%user.custom_data.banned"}}
//     with banned: [null] excludes documents whose team is null or missing
//     (dropping the null would admit them, and would widen $in under
//     $nor). Literal nulls keep their MongoDB meaning. Where a dropped null
//     would widen a negation, the negation is false instead (true under
//     $nor, like a missing value), and its filter clause matches nothing:
//     $ne of an expansion array holding a null (membership), and $ne or
//     $nin of a null (or null-holding) request value tested against a
//     document path ({"%%user.custom_data.org": {"$ne": "%%root.org"}}
//     with a null org); in a filter's apply_when they are unknown.
//   - $in and $nin whose operand is not an array are false.
//   - A document whose role has field rules but grants nothing readable is
//     denied; Fields lists only fields present in the document.
//   - A write without PrevDocument uses Document as %%prevRoot (the
//     document existed), so insert-only roles cannot update.
//   - An unknown Action, a malformed update or a function error (other
//     than a throw, ErrFunctionThrew) denies with ReasonError and a
//     non-nil error. A function whose arguments are
//     per-request values is called once, at Bind; its error denies only
//     the decisions that reach it (an earlier role that applies still
//     decides, as roles are evaluated in order).
//   - A rules.json without roles falls back to the default roles (see
//     Roles above); its own filters still apply, together with the default
//     rule's: the docs are silent, and more filters only restrict.
//   - Expansion paths into the caller's data (%%user.custom_data.x.y) do
//     not traverse arrays; a numeric component indexes one
//     (%%user.identities.0.provider_type). A path through an array without
//     an index is missing.
//   - Regular expressions (the docs are silent on them in rules): MongoDB
//     reads a regex operand of an equality, $in or $nin as a PCRE pattern
//     (the MongoDB manual, $in: "Use the $in Operator with a Regular
//     Expression"), which rulegate does not implement and will not
//     compare as a value. A regex literal in rules.json is refused at load
//     (rules/regex); a regex operand from a claim, a request value, a
//     function or a stored document (%%root.x on the right), alone or as
//     an element of an array, denies the decisions that reach it with
//     ReasonError and ErrRegex, and ReadFilter and WriteFilter return
//     ErrRegex instead of sending it. A stored regex read by a field path
//     is a candidate, not an operand, and a regex inside an embedded
//     document operand is compared whole: both compare as values, as on
//     the server (value.HasRegex).
//   - $regex (with $options) is the explicit pattern operator (the MongoDB
//     manual, $regex): its pattern and options are literal strings written
//     in the rules, and only the syntax whose meaning is the same in the
//     server's PCRE and Go's RE2 is accepted (value.CompileRegex: literals
//     (ASCII under i), escaped punctuation, \d \w \s \b and their negations,
//     ".", classes of literals and ASCII ranges, ^ $, * + ? {m,n} lazy or
//     not, ( ) (?: ) and |; options i, m, s, x); anything else
//     (backreferences, lookaround, possessive and atomic groups, POSIX and
//     Unicode classes, inline options, a $ before more pattern, ^ under m
//     before what may consume nothing) is refused at load as
//     rules/regex-unsupported, never matched differently (fail closed). A
//     pattern from an expansion is rules/type. It matches a string (or
//     symbol) candidate, an array when a string element does, a stored
//     regex with the same pattern and options, and nothing else; without
//     m, $ also matches before a final line break, as in PCRE. ReadFilter
//     sends {"$regex": pattern, "$options": options} as written.
//   - $elemMatch (the MongoDB manual, $elemMatch) holds when one element
//     of an array at the field's path (value.EachWhole: arrays on the way
//     are traversed, the last one is not expanded) satisfies all of it:
//     the operator form ({"$gte": 1, "$lt": 5}) tests the element as the
//     value, the query form ({"owner": "%%user.id", "qty": {"$gt": 0}})
//     reads the fields of a document element, dotted paths included; a
//     field that is not an array never matches, nor does an element that
//     is itself an array (the server tests it whole, or as a document of
//     its indexes: not implemented; such documents are rare) or, in the
//     query form, an element that is not a document. Its operands are
//     request values (rules/phase otherwise), compiled as any other; a
//     missing one matches no element. ReadFilter sends {"$elemMatch":
//     ...} with the request values in place; the operator form only when
//     each test of the element is one set of operators (an $eq with
//     membership, {"$or"} of an expansion array outside filter queries,
//     is ErrNotExpressible).
//   - Operator documents and undefined (the docs are silent): the same
//     operands (claims, request values, function results, stored values
//     on the right), alone or as an element of an array, that are a
//     document whose first field name starts with "$" and that is not a
//     DBRef ($ref and $id) deny with ReasonError and ErrOperator, and
//     ReadFilter and WriteFilter return ErrOperator: MongoDB refuses them
//     in $in and $nin ("cannot nest $ under $in", mongodb/mongo
//     src/mongo/db/matcher/expression_parser.cpp, parseInExpression) and
//     reads {"f": {"$regex": "o"}} as operators, while Evaluate, which
//     alone decides inserts, would compare them as values. A claim
//     written in the legacy extended JSON {"$regex": "o", "$options": ""}
//     is such a document (the v2 driver does not read it as a regex).
//     Deeper inside an operand they are values, as on the server. An
//     operand holding undefined, at any depth, denies with ErrUndefined
//     (the server refuses comparisons to undefined: "cannot compare to
//     undefined", expression_leaf.cpp); an undefined literal is refused
//     at load (rules/operand). These decisions use
//     value.CheckOperand, the one predicate for regexes too; as for
//     regexes, an operand on the left is checked as well ({"%%user.x":
//     {"$exists": true}} with an undefined x denies).
//   - An element of an array or document operand that fails (a function
//     error, a regex) fails the whole operand: {"$nin": [<failing call>]}
//     denies, it never becomes {"$nin": []}. An element that is missing
//     (a missing claim, %%values or %%request field, a null expansion, a
//     function returning undefined, a failed %stringToOid), at any depth
//     of an array or document written in the rule, makes the whole
//     operand missing: {"team": {"$nin": ["%%user.custom_data.banned"]}}
//     without banned is false and its filter clause matches nothing (it
//     is not {"$nin": []}, which holds for every document), {"owner":
//     {"org": missing}} is not {"owner": {}}, and {"$in": [missing,
//     "t1"]} is false too; in a filter's apply_when such a comparison is
//     unknown, like a missing claim alone, so the filter applies.
//   - A numeric component of an update path ("a.2024.b") is read as
//     mql.UpdatePathsIn reads it on the stored document (an array index
//     only where the stored document holds an array at that point, a
//     field name elsewhere; see the mql package) and checked against
//     that field's rules (an index names the array field, whose rules
//     are its elements'). Where the stored document is unknown (Evaluate
//     without PrevDocument) both readings must be writable
//     (mql.UpdatePaths); WriteFilter, built before any document is read,
//     applies the index reading where {path: {$type: "array"}} and the
//     field-name reading elsewhere for one such component, and requires
//     both for several (mql.WritePaths).
//   - Nothing a write's decision says may depend on a value the caller
//     cannot read (the docs are silent; roles.txt, "Field-Level
//     Permissions", and filters.txt only say what is read and written).
//     An update whose touched paths (mql.UpdatePathsIn: every path an
//     operator writes, reads or removes, $rename's source and target)
//     meet a path an applied filter's projection withholds, wholly or in
//     part (an excluded field, a field holding or held by one, a field
//     outside an inclusion), is denied with ReasonFieldNotReadable,
//     although write implies read for the role: $rename would show the
//     hidden value under its target, and $set, $unset, $inc, $min, $max,
//     $push, $addToSet, $pull... would tell it through ModifiedCount,
//     through an error applying the update or through the document a
//     FindOneAndUpdate returns. This is decided before the update is
//     applied to the stored document, and from the paths only (the
//     stored document decides only whether a numeric component is an
//     array index). A field-level rule cannot make a field writable but
//     unreadable (write implies read at every scope), so projections are
//     the only source of such paths for updates.
//   - An update that mql.ApplyUpdate cannot apply to the stored document
//     ($push to a number, $inc of a string: the server rejects it, and
//     the error names the stored value's type) is denied by the
//     permissions first: the error (ReasonError) is returned only when
//     the role may write every path the update touches, otherwise the
//     denial (ReasonFieldNotWritable, ReasonDocumentFilter) without it.
//   - A replacement removes every field it does not give, those the
//     caller cannot read included, so its decision would tell whether
//     they are present. It is denied with ReasonFieldNotWritable
//     (ReasonPermission when the role's document-level write is false),
//     whatever the stored document holds, when an applied filter has a
//     projection, or when the role does not let the caller read every
//     field a document may hold (document-level read or write, or every
//     named field and additional_fields readable; this covers a document
//     whose document_filters.read fails while document_filters.write is
//     undefined: writable, not readable). Otherwise every field is
//     readable and the decision on the stored document
//     (mql.ReplacementPaths writable) depends only on what the caller
//     sees; WriteFilter then selects the same documents (a named
//     unwritable field the replacement lacks must be absent), except that
//     where additional_fields is not writable it requires it (fail
//     closed).
//   - A delete removes every field too, and App Services allows it only
//     when the role may write every field of the document: decided on the
//     stored document, that would tell whether a field the caller cannot
//     read (never writable) is present. A delete is denied with
//     ReasonFieldNotWritable (ReasonPermission when the role's
//     document-level write is false), whatever the stored document holds,
//     when the role does not let the caller read every field a document
//     may hold (as for a replacement), or when an applied filter has a
//     projection and the role may not write every field (a withheld field
//     may be one it cannot write), and Decision.Field names the first
//     field of the document the caller reads and may not write, never one
//     it cannot read; WriteFilter of a delete requires the same.
//   - An update is checked on the stored document's role: a user cannot
//     take over another user's document by writing the field its owner
//     role tests (the role is chosen before the write).
//
// # Fields
//
// Under WithFields, Decision.Fields lists, sorted, the fields of the
// document (Document, the document after a write) that the decided role
// may read and write: a top-level field name when the permission applies
// to the whole field, or "<field>.<sub>" (recursively) for the embedded
// fields of a field that has no permission of its own but rules for its
// embedded fields. Filter projections are applied to Read with MongoDB's
// projection semantics on dotted paths (filters.txt: a filter's
// projection follows MongoDB projection syntax and the excluded fields
// are omitted): an inclusion of an embedded path ({"profile.name": 1})
// lists that path; an exclusion below a listed field ({"profile.ssn": 0}
// with profile readable) replaces the field by its remaining embedded
// fields in the document ("profile.name", ...; through arrays, the
// fields of their document elements), so Read never names a field whose
// embedded fields are partly hidden, and a caller that filters, sorts or
// compares on the whole field reads a hidden value (the gate then does
// not match the document). Fail closed: a document left without any
// readable embedded field, and the scalar elements of an array of
// documents, are not listed (MongoDB would show {} and the scalars; {}
// would compare the same with and without the hidden field); an array
// without document elements is listed whole. Both lists are
// empty (not nil) when a role decided and nothing is granted; they are nil
// when no role decided.
//
// # Role semantics, once
//
// The rules of a role — the document_filters gates, write implies read,
// a document-level permission over field-level ones, field rules and
// additional_fields, a permission on an embedded document applying to its
// fields — are built once per role, at Compile, as expression nodes over
// the role's compiled permissions (roles.go). Every question asks those
// nodes: Evaluate decides them for one document (two-valued, with the
// trace), ReadFilter and WriteFilter translate them into MongoDB queries
// on the stored document, the read projection classifies them as true,
// false or "depends on the document", and a filter's apply_when is read
// in three-valued logic at Bind. So a rule has one definition, whatever
// is asked of it; Evaluate only orders the answers into Reasons.
//
// # Filters
//
// ReadFilter and WriteFilter substitute request values as literals and
// turn %%root/%%prevRoot paths into field paths of the stored document
// (for WriteFilter too: the document after a write is not known before
// it, so writes are also checked one by one with Evaluate); first-match
// role order is
// encoded as {"$and": [apply_when_i, {"$nor": [apply_when_0..i-1]}]}. The
// filter is simplified as it is built: constants fold, duplicate clauses
// of an $and, $or or $nor (equal BSON bytes) are written once, a single
// clause is not wrapped, and an $or that repeats a clause of its $and is
// dropped (A ∧ (A ∨ B) = A; dually A ∨ (A ∧ B) = A). A
// missing request value yields a clause that matches nothing, and when
// nothing can match the filter is mql.NeverMatch(). Combine the result
// with a client query as {"$and": [client, rule]} (mql.And), never key by
// key. Rules that
// compare two document values, or compute values from the document with
// %function or a conversion, cannot be written as a query:
// ErrNotExpressible (the caller then evaluates documents one by one).
// The tests check on generated rules and documents that the filter matches
// exactly the documents Evaluate allows, in memory
// (TestReadFilterAgreesWithEvaluate, seeds 1..400) and on a server
// (TestReadFilterOnServer, seeds 1..120). The flags -seeds N (how many)
// and -seed S (the first; alone, it replays one) run other seeds; a
// failure message starts with the command that replays it:
//
//	go test ./evaluator -run '^TestReadFilterAgreesWithEvaluate$' -seeds 100000
//	go test ./evaluator -run '^TestReadFilterAgreesWithEvaluate$' -seed 4242
//
// # Performance
//
// Compile binds every expansion to a precomputed slot, folds constants,
// and marks nodes constant, per-request or per-document; Bind resolves the
// per-request values once (claim arrays used with $in become value.Sets)
// and decides every per-request sub-expression; Bound.Evaluate then reads
// only the document, without allocating when no trace or fields are
// asked. Tracing costs nothing when off. WithMaxNodes bounds the program.
package evaluator
