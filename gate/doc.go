// Package gate puts App Services rules in front of a MongoDB collection for
// a Go backend: a gated Collection has the driver's method names and result
// types, and checks every operation against a compiled rules Program
// (package evaluator) for the signed-in caller.
//
//	g, _ := gate.New(client, prog)
//	notes := g.For(claims.User()).Database("app").Collection("notes")
//	res, err := notes.UpdateOne(ctx, bson.D{{"_id", id}}, bson.D{{"$set", bson.D{{"title", "x"}}}})
//	if errors.Is(err, gate.ErrDenied) { ... }
//
// g.System() is the rules-bypassing handle, the counterpart of App Services
// system functions: it hands out the driver's own *mongo.Database, so code
// that bypasses the rules says so in its types.
//
// Semantics follow the App Services documentation (mongodb/docs-app-services:
// source/rules/roles.txt for per-document role assignment, "App Services only
// commits operations that a user is authorized to do ... omits the document
// or fields from the results"; source/mongodb/crud-and-aggregation-apis.txt
// for what application users may run). Where the documentation is silent,
// the gate fails closed and says so below.
//
// # Vocabulary
//
//	| term              | meaning                                                                     |
//	|-------------------|-----------------------------------------------------------------------------|
//	| Gate              | a client and a Program; immutable, one per process                           |
//	| Session           | a caller's view (Gate.For / ForInputs): %%user and the other request inputs  |
//	| Collection        | a gated collection handle: driver methods, rules checked                     |
//	| SystemSession     | the bypass (Gate.System): the driver's *mongo.Database, no rules             |
//	| no-rules          | a namespace with no rules and no default rule (or reserved): all denied      |
//	| database mapping  | rules database name -> deployment database name (WithDatabaseMapping)        |
//	| rule filter       | evaluator ReadFilter / WriteFilter: exactly the documents the caller may     |
//	|                   | read, update (for the paths an update touches) or delete                     |
//	| client filter     | the caller's query, validated (mql.ValidateQuery), never expanded            |
//	| combined filter   | {$and: [client filter, rule filter]} (mql.And)                               |
//	| redaction         | keeping only Decision.Fields.Read of a document, decided per document       |
//	| gate pipeline     | an Aggregate the gate runs itself over redacted documents (mql pipelines;    |
//	|                   | WithPipelineMemoryLimit; CodePipelineFailed when it fails on the documents)  |
//	| invisible         | a document no role lets the caller read: left out, never counted or reported |
//	| post-image        | the document after an update, mql.ApplyUpdate(prev, update)                  |
//	| pin               | the filter of a document exactly as read: its _id and every top-level value  |
//	| optimistic write  | a write filtered by rule filter AND pin: it lands only if nothing changed    |
//	|                   | since the gate checked the post-image; otherwise the gate checks again      |
//	| upsert document   | what an upsert that matches nothing inserts: the client filter's equality    |
//	|                   | fields with the update applied ($setOnInsert too), or the replacement        |
//	| DeniedError       | the rules refused: namespace, method, action, evaluator Reason, the role     |
//	|                   | that decided and the Field of a field-level denial (ErrDenied)               |
//	| leaving-scope     | the Reason of a write the rules allow whose post-image the caller could no   |
//	|                   | longer write (evaluator.WithLeavingScopeDenied; WithLeavingScopeAllowed off) |
//	| DecisionEvent     | one decision as the decision hook (WithDecisionHook) receives it: namespace, |
//	|                   | method, action, allowed, role, reason, field, _id; never document contents  |
//	| RefusedError      | the gate cannot check the operation, or it is malformed (ErrRefused); Ptr    |
//	|                   | is an RFC 6901 pointer into the client input, Code a stable code            |
//	| BulkWriteException| the models of a BulkWrite that failed, each with its index and its method's |
//	|                   | error (DeniedError, RefusedError, driver error), seen by errors.Is and As    |
//	| caller's session  | the mongo.Session a ctx carries (mongo.NewSessionContext): every command the |
//	|                   | gate sends for that call runs in it                                          |
//	| ChangeStream      | a gated change stream (Collection.Watch): the server's events, each decided  |
//	|                   | for the caller in Go, redacted or dropped                                    |
//	| change event      | one document of a change stream (the MongoDB manual, Change Events): _id    |
//	|                   | (the resume token), operationType, ns, documentKey, fullDocument, ...        |
//	| pre-image         | fullDocumentBeforeChange: the document before an update, replace or delete, |
//	|                   | when the collection records pre-images (changeStreamPreAndPostImages)       |
//	| dropped event     | an event the caller may not see: skipped inside Next and TryNext            |
//
// # Methods
//
//	| method             | how the rules apply                                                                 |
//	|--------------------|-------------------------------------------------------------------------------------|
//	| Find, FindOne      | combined filter on the server; each document's role decided with Evaluate; fields   |
//	|                    | redacted; documents hiding a field the client filter or sort reads are left out;    |
//	|                    | skip and limit count readable documents over one streamed server cursor; the server |
//	|                    | takes them itself when the rule filter is exact and the client filter and sort read |
//	|                    | nothing, or only paths every role the caller may get reads in every document        |
//	|                    | (Bound.ReadsWhole, Bound.ReadsPaths: see Pagination)                                |
//	| CountDocuments     | counts what Find returns: the server counts the rule filter for an empty client     |
//	|                    | filter, the gate counts document by document otherwise                             |
//	| EstimatedDocument- | the server's estimate when the caller reads every document (rule filter {} and      |
//	| Count              | exact); otherwise CountDocuments of {}                                              |
//	| Distinct           | the values of the documents Find returns, as Find returns them: hidden values are   |
//	|                    | left out, never reported by an error or by their absence                            |
//	| Aggregate          | whitelisted client stages over what Find returns: on the server after {$match: rule |
//	|                    | filter} when every role reads whole documents, else in the gate (mql pipelines)     |
//	|                    | over the gated Find's redacted documents; $lookup/$unionWith read the other         |
//	|                    | collection through its own rules                                                    |
//	| InsertOne/Many     | Evaluate(insert) on each document (an _id is added first); one denial, no insert   |
//	| UpdateOne,         | rule write filter for the touched paths AND client filter selects the document;    |
//	| ReplaceOne,        | its post-image is evaluated (%%root after, %%prevRoot before) and must stay in the  |
//	| FindOneAndUpdate,  | caller's write scope; an optimistic write with rule filter AND pin; retried on a    |
//	| FindOneAndReplace, | concurrent change (WithRetries). FindOneAnd* return the document (ReturnDocument)  |
//	| UpdateByID         | redacted, then with the projection option applied as Find applies it              |
//	| UpdateMany         | every readable matching document checked first (one denial, nothing written), then |
//	|                    | each written like UpdateOne                                                        |
//	| upsert: true       | a match is the update above; no match inserts the document MongoDB would create,  |
//	| (updates above)    | decided with Evaluate(insert) and written with InsertOne (see Upserts)             |
//	| DeleteOne/Many,    | rule delete filter (AND client filter) in one server operation; with a client      |
//	| FindOneAndDelete   | filter, each candidate checked, then deleted with delete filter AND pin; DeleteMany |
//	|                    | denies first when a readable matching document may not be deleted;                |
//	|                    | FindOneAndDelete returns the document redacted, then projected                     |
//	| BulkWrite          | each model run as its own method above (InsertOne, UpdateOne, UpdateMany,          |
//	|                    | ReplaceOne, DeleteOne, DeleteMany), in order; ordered stops at the first failed    |
//	|                    | model, unordered runs them all; failures in a BulkWriteException with the result   |
//	|                    | of the models that ran; nothing is atomic beyond each model                        |
//	| Watch              | each event decided in Go on its document as Find decides it (fullDocument, a       |
//	|                    | delete's pre-image), redacted or dropped; client $match applied after redaction    |
//	|                    | (see Change streams)                                                               |
//
// A client filter or sort that reads a field hidden from the caller in a
// document does not match that document, for reads and writes alike, so
// that no result, count or write reveals a hidden value. That includes a
// field holding a hidden one ({"profile": {...}}, $exists, $type or
// $elemMatch on it, when a filter projection withholds profile.ssn or a
// field rule hides it): Decision.Fields.Read then lists profile's readable
// embedded fields, not profile.
//
// A single-document write (UpdateOne, UpdateByID, ReplaceOne,
// FindOneAndUpdate, FindOneAndReplace, FindOneAndDelete) with a sort
// picks the first document in that order among the documents whose
// filtered and sorted fields the caller may read; the server never picks
// by a sort alone. Sorts take 1 and -1 only ({$meta: ...} is refused).
//
// A write that finds no document in the caller's scope although the client
// filter alone matches one the caller can read returns a *DeniedError (its
// Reason from evaluating that document), never a silent zero: the write
// itself never touched that document. A document the caller cannot read at
// all is left out, as App Services omits it (source/rules/roles.txt): a
// write whose filter matches only such documents gives the driver's zero
// result, exactly as a filter that matches nothing, so that a right and a
// wrong guess of another user's values answer alike.
// WithInvisibleMatchesRevealed turns the denial on for such documents too;
// it reveals that a document matching the filter exists, and is for
// deployments where that is not secret.
//
// # Pagination
//
// skip and limit count the documents the caller may read. The server
// takes them itself (one find, the driver's own paging) exactly when its
// n-th document is the caller's n-th readable one:
//
//   - the rule filter is exact (evaluator ReadFilter; rules that are not
//     expressible as a query are decided document by document), so the
//     server returns only documents some role lets the caller read; and
//   - no returned document can be left out for its fields: the paths
//     the client filter and sort read (mql.QueryPaths) are (a) none
//     (redaction alone never drops a document, so the server pages even
//     when roles read different fields); or (b) _id and paths inside it
//     alone, while every role the caller may get reads whole documents
//     and no filter projection may apply (evaluator Bound.ReadsWhole); or
//     (c) paths that every role the caller may get reads in every
//     document, whatever the document holds and whether it holds them
//     or not (evaluator Bound.ReadsPaths). For (c), each such role reads
//     nothing or reads the paths' top-level fields (a document-level
//     read or write, the field's rule, or additional_fields) under
//     document_filters that hold for the request; no filter projection
//     that may apply withholds them; and no rule expression (apply_when,
//     document_filters, a permission, a filter's query) reads a path
//     equal to, inside or above one of them, so that a document lacking
//     a path, which the gate decides again with the path set, is decided
//     alike. {status: "open"} sorted by title, for an owner who reads
//     everything and a teammate who cannot read private, is paged by the
//     server; sorted by private, or filtered on it, or on owner_id
//     (which chooses the owner role), it is not.
//
// Otherwise the gate streams one server cursor and counts skip and limit
// over the readable documents (see Cursor). A paged document is still
// decided and redacted as any other; should the gate leave one out all
// the same (a bug: the conditions above rule it out, and
// TestReadsPathsAgreesWithDecisions checks them against the per-document
// decisions on generated rules and documents), the Find fails with an
// internal error rather than return a page the server's skip shifted.
// When every document is read whole the gate also decides each one
// without computing its fields and returns it as the server sent it.
// BenchmarkFindPage measures the app CPU of list, page and deep-skip
// queries against a handwritten raw-driver handler (cpu-ns/op): sorted by
// _id with every role reading whole notes, and {status: "open"} sorted by
// title with a teammate who cannot read private.
//
// # Namespaces without rules, and database names
//
// A namespace with no rules of its own and no default rule has no role
// that allows anything, and App Services "uses a strict rules system that
// prevents all operations unless they are specifically allowed"
// (source/mongodb/define-roles-and-permissions.txt). The gate denies every
// operation there, before the server is asked, with a *DeniedError whose
// Reason is evaluator.ReasonNoRules: reads (Find, FindOne, CountDocuments,
// Distinct, Aggregate) and writes (updates, replacements, deletes and
// upserts too, not only inserts), so that a mistyped collection name is an
// error, never an empty collection or a write that matched nothing. So
// are MongoDB's own namespaces under a default rule (rules.Reserved: the
// admin, local and config databases in any case, system. collections),
// which no default rule governs; a rules.json naming one opens it. A
// rules database asked for in another case ("APP" for the rules' "app")
// is denied with ReasonNoRules too: to the rules it is another namespace,
// which a default rule would govern, while MongoDB keeps database names
// unique without case (fail closed).
//
// WithDatabaseMapping maps the rules' database names to the deployment's
// ({"app": "app_test"} in a test, instead of editing the loaded app):
// callers keep the rules' names (Session.Database("app")), the rules of
// app.<collection> decide, and the server sees app_test.<collection>.
// Database.Name, Collection.Namespace and the Namespace of DeniedError and
// RefusedError are the rules' names; an error of the driver or the server
// names the deployment's. A deployment database asked for by its own name
// while another name maps to it is denied with ReasonNoRules for every
// operation, default rule or not (fail closed: the documentation knows no
// such mapping, and the mapped data must be reached through its own rules).
//
// # Denials and the decision hook
//
// A *DeniedError says what to fix: Reason is the evaluator's
// (permission-denied for a false document-level permission,
// field-not-writable and field-not-readable for a field, with Field
// naming it, document-filter, no-role, schema, error), Role the role that
// decided, and leaving-scope a write whose post-image the caller could
// no longer write (Role is then the role that allowed the write itself).
// Field comes from what the caller sent (the update's paths, the inserted
// document's fields); a delete denied for a field of the stored document
// names the first field the caller reads and may not write, never one it
// cannot read (nor does a hidden field stored before it change which
// field is named), and an update with
// a numeric path component ("tags.0") names none, since the stored
// document decides whether it is an array index (fail closed: the
// documentation says nothing of naming fields in errors).
//
// WithDecisionHook receives every decision the gate makes for a caller,
// for audit logs (LogDecisions writes them with log/slog): each document a
// read decides (returned, or left out with its reason; a Watch's events
// decided on a document too), each document
// written, inserted or deleted, one event without an _id for a delete the
// server runs with the rule filter, and each denial a method returns.
// What the server decides with the rule filter alone is not reported
// document by document: documents the rule filter leaves out, a count the
// server makes, Aggregate's documents (filtered and projected on the
// server; Aggregate reports its denials). An insert is reported when the
// rules allow it, before the server writes it; an update or delete once
// it is written. An event carries the document's _id, never its
// contents: also the _id of a document left out that the caller may not
// read, since the hook is the operator's audit trail; nothing of an event
// reaches the caller. Without a hook the gate does a nil check per decision and
// nothing else (BenchmarkFindOne and BenchmarkFindOneRules: the same
// allocations with and without the hook's code).
//
// # Upserts
//
// The App Services pages say nothing of how rules apply to an upsert;
// they assign a role to each document that matches the query
// (source/rules/roles.txt, "Without Device Sync") and give a role an
// insert permission for new documents (source/rules/roles.txt,
// "Document-Level Permissions"), and they let user functions use
// $setOnInsert (source/mongodb/crud-and-aggregation-apis.txt, "Field
// Update Operator Availability"). The gate decides an upsert as the
// write it turns out to be, and never sends an upsert to the server: a
// server-side upsert matches the stored documents itself, hidden ones
// included.
//
//   - The document is picked as without upsert (rule write filter AND
//     client filter, documents hiding a field the filter or sort reads
//     left out). If one is found, the upsert is that update or
//     replacement, decided and written as without upsert.
//   - If none is found and the client filter matches a document the
//     caller can read (its filtered fields readable) but may not write,
//     the upsert is denied, as the update is: MongoDB would update that
//     document.
//   - Otherwise it inserts, as if no document the caller cannot see
//     existed: the gate computes the document MongoDB would insert (the
//     MongoDB manual, db.collection.updateOne, "Upsert with Operator
//     Expressions" and "Upsert with Replacement Document"): for an update,
//     the equality fields of the client filter (plain values and $eq, at
//     the top or in $and; comparisons, $in, $or, regular expressions add
//     nothing; two of them on one path, or on a path and a path inside it,
//     are refused with CodeInvalid) with the update applied and
//     $setOnInsert applied too; for a replacement, the replacement, with
//     the filter's _id when it has none. Without an _id from either, a
//     new ObjectID. It decides that document with Evaluate(insert)
//     (apply_when, document_filters, insert, field-level write
//     permissions, schema: a *DeniedError as InsertOne's) and inserts it
//     with InsertOne, which cannot touch a stored document. $currentDate
//     takes the gate's clock.
//   - Results: UpdateResult with UpsertedCount 1 and UpsertedID the _id
//     inserted (MatchedCount 0); UpdateMany inserts one document when no
//     document matched; FindOneAndUpdate and FindOneAndReplace return the
//     inserted document, redacted (and projected), when ReturnDocument is
//     After, and mongo.ErrNoDocuments when it is Before, as the driver
//     does.
//
// What a caller learns from an upsert that inserts is what it learns from
// InsertOne of the computed document, which it could send itself: the
// document is made from its own filter and update, never from a stored
// document; the denial is decided on that document alone. The one answer
// that depends on documents the caller cannot read is a duplicate-key
// error: the _id taken from the filter, or a value under a unique index,
// is taken by some document, visible or not, and whether or not that
// document matches the rest of the filter. InsertOne tells the same (the
// duplicate-key choice below), and the error is the same whichever
// document holds the key, its key withheld. In particular an upsert on {_id: X, hidden: v}
// answers alike for every v, and an upsert whose filter matches only
// documents the caller cannot read inserts a new document beside them (so
// does one whose filter reads a field hidden in the matching document),
// where MongoDB would update the hidden document: the gate fails closed
// on the hidden document's side. With WithInvisibleMatchesRevealed, such
// an upsert is denied when the caller may not write the invisible
// document, as every write is.
//
// The check and the insert are two operations: a matching document that
// a concurrent writer inserts between them is not seen, and the upsert
// inserts a second one (or fails with a duplicate key under a unique
// index; the gate does not retry it as an update, as MongoDB's server
// does for such an upsert). That cannot widen anyone's access: the
// inserted document was decided as an insert of exactly what is stored,
// and no stored document is changed by it. Operator-less update
// documents are refused as without upsert (CodeInvalid); UpdateOne takes
// update operators only, as the driver.
//
// # Sessions and transactions
//
// App Services functions give each method a session, "the transaction
// context in which the operation occurs" (source/functions/mongodb/api.txt,
// options.session; source/functions/mongodb/api/snippets/transactions.js
// runs two updates and an insert in session.withTransaction). The Go
// driver carries the session in the ctx (mongo.NewSessionContext, or the
// ctx mongo.Session.WithTransaction gives its callback), and every command
// a gated method sends runs in the session of the ctx it is given: the
// reads that pick and check documents, the scans of UpdateMany,
// DeleteMany, CountDocuments, Distinct and Aggregate, the checks that
// explain a write that found nothing, the pinned writes and their retries,
// an upsert's insert, each model of a BulkWrite. A Cursor runs in the
// session of Find's ctx whatever ctx Next is given, as a driver cursor's
// getMore does, the second server cursor it may open past left-out
// documents included; the rules' %function calls get that ctx. So does a
// ChangeStream: the driver runs its aggregate and getMores in Watch's
// session, and the gate decides its events in it. The gate
// makes no ctx of its own.
//
// In a transaction the gate's reads see the transaction's snapshot and
// its own writes, so a gated write in a transaction is decided on the
// documents as the transaction sees them; a conflict with another
// transaction is the server's error, its TransientTransactionError label
// kept (through a BulkWriteException too), which WithTransaction retries.
// A denial returned from the callback aborts the transaction and undoes
// the gated writes before it: that is how several methods, a BulkWrite or
// an UpdateMany stopped midway become all or nothing, since no gated
// method is atomic across documents by itself. The embedded test server
// (FerretDB) has no transactions: TestSessionUsed checks on it that every
// command of every method carries the caller's session id (lsid), and
// TestTransaction (commit, abort on a denial, isolation) runs only with
// MONGODB_URI set to a replica set.
//
// # Positional updates
//
// App Services lets users run the positional $, $[] and $[<identifier>]
// with arrayFilters (source/mongodb/crud-and-aggregation-apis.txt, "Array
// Update Operator Availability"). The paths such an update touches are
// decided on the stored document, for every update method and BulkWrite
// model:
//
//   - Field-level rules are keyed by field name: items.$.qty,
//     items.$[].qty and items.$[e].qty are checked as items.qty, as
//     items.1.qty is when items is an array (mql.UpdatePathsIn).
//   - The post-image is mql.ApplyUpdateWith with the client filter (the
//     element $ stands for: the first element its one condition on an
//     array matched, as MongoDB records it) and the arrayFilters; an
//     element the query leaves undefined (two conditions on arrays, $ne,
//     $size, ...) refuses the update with CodeUnsupported, an update the
//     server rejects (no array filter for an identifier, an unused one,
//     $ with nothing matched, an upsert inserting with $) with
//     CodeInvalid, after the permission check as for other such updates.
//   - The server is sent the update with array indexes only
//     (mql.ResolveUpdate on the document read), never arrayFilters, with
//     the rule filter AND pin: the rule filter reads arrays too
//     ({"members": "%%user.id"}) and would change the element of $ on the
//     server, and the pin makes the indexes those of the document checked.
//     The embedded server runs none of the positional forms itself.
//   - An array filter is a query like the client filter (validated with
//     mql.ValidateQuery) and reads the array's element fields
//     ({"e.sku": "x"} of items.$[e] reads items.sku): a document in which
//     one of them is hidden from the caller does not match the write, as
//     for a client filter; otherwise which elements changed, and the
//     ModifiedCount, would tell the hidden value (TestArrayFiltersHidden).
//
// # Collation
//
// The collation option is refused (CodeUnsupported) on every method, as
// App Services refuses it to users (source/mongodb/crud-and-aggregation-
// apis.txt, "Query Option Availability": Collation, User Context No). A
// collation cannot be made to change only what the caller asked for: the
// server applies one collation to the whole query, the rule filter AND-ed
// in and the pin included. Under {locale: "en", strength: 2} the rule
// filter {owner: "alice"} matches a document of "ALICE", the count the
// server makes of it counts that document, and a delete or update with it
// writes there; the pin ({owner: {$eq: "alice"}}) matches a document whose
// owner changed to "Alice" since the gate checked it; and with
// numericOrdering a rule's {level: {$lt: "10"}} drops documents the rules
// allow. A subset would be safe only where no gate-built filter compares
// a string (no string operand in the rule filter of any action, the pin
// sent without it), with the collation on the selection queries alone;
// the gate does not offer it: App Services does not, it would make a
// caller's options depend on which strings the rules compare, and the
// embedded test server (FerretDB 1.24) refuses collation (NotImplemented),
// so no test here could back it. A BulkWrite model's collation is
// refused by its method (TestDriverSurface/BulkWrite/collation).
//
// # Driver surface
//
// Every method of *mongo.Collection (driver v2.10) and every option of its
// options struct, as a gated Collection takes them. An accepted option is
// honoured (the gate copies it into its own server call, or applies it
// itself as described above); a refused one gives a *RefusedError with
// CodeUnsupported before anything is sent; a method not offered does not
// exist on Collection (trusted code uses Gate.System). "internal" is the
// driver's xoptions (rawData, addCommandFields). TestDriverSurfaceMethods
// checks that every driver method is in the table and that the offered
// ones take the driver's parameters; TestDriverSurface/<method>/<option>
// backs each option; the last column names the tests of the behaviour.
//
//	| method             | options accepted                | options refused (gate/unsupported) | behaviour tests                   |
//	|--------------------|---------------------------------|------------------------------------|-----------------------------------|
//	| Aggregate          | batchSize, maxAwaitTime,        | allowDiskUse, bypassDocument-      | TestAggregate, TestCheckPipeline, |
//	|                    | comment (batchSize and          | Validation, collation, custom,     | TestAggregateRefusalIgnores*,     |
//	|                    | maxAwaitTime: on the server     | hint, let, internal                | TestAggregateVaryingRoles,        |
//	|                    | path)                           |                                    | TestAggregateMatchesFind,         |
//	|                    |                                 |                                    | TestAggregateInGateErrors,        |
//	|                    |                                 |                                    | ExampleCollection_Aggregate       |
//	| BulkWrite          | ordered, comment; each model's  | bypassDocumentValidation, let,     | TestBulkWrite* (Ordered,          |
//	|                    | fields as its method takes them | internal; a model's collation and  | Unordered, Hidden, Upsert,        |
//	|                    | (upsert, sort, arrayFilters...) | hint; no or a nil model:           | Refused, Canceled),               |
//	|                    |                                 | gate/invalid                       | TestPositionalUpdates             |
//	| Clone              | not offered: read and write concern, read preference and registry are the                                |
//	|                    | client's (App Services: Query Option Availability lets users set none of them)                           |
//	| CountDocuments     | skip, limit, comment            | collation, hint, internal          | TestCountDocuments                |
//	| Database           | not offered: it would hand out the driver's *mongo.Database; Session.Database                            |
//	|                    | gives the gated one                                                                                      |
//	| DeleteOne,         | comment                         | collation, hint, let, internal     | TestDelete                        |
//	| DeleteMany         |                                 |                                    |                                   |
//	| Distinct           | comment                         | collation, hint, internal          | TestDistinct, TestDistinctPresence|
//	| Drop, Indexes,     | not offered: database commands App Services does not give users (Database                                |
//	| SearchIndexes      | Commands); Gate.System                                                                                   |
//	| EstimatedDocument- | comment                         | internal                           | TestEstimatedDocumentCount        |
//	| Count              |                                 |                                    |                                   |
//	| Find               | sort, skip, limit, projection   | allowPartialResults, collation,    | TestFind, TestCursorStreams,      |
//	|                    | (inclusion or exclusion),       | cursorType Tailable and            | TestErrorsGolden (projection and  |
//	|                    | batchSize, comment,             | TailableAwait, hint, let, max,     | sort refusals)                    |
//	|                    | allowDiskUse, maxAwaitTime,     | min, noCursorTimeout, oplogReplay, |                                   |
//	|                    | cursorType NonTailable          | returnKey, showRecordId, internal  |                                   |
//	| FindOne            | sort, skip, projection, comment | allowPartialResults, collation,    | TestFindOne                       |
//	|                    |                                 | hint, max, min, oplogReplay,       |                                   |
//	|                    |                                 | returnKey, showRecordId, internal  |                                   |
//	| FindOneAndDelete   | sort, projection, comment       | collation, hint, let, internal     | TestFindOneAndDelete              |
//	| FindOneAndReplace  | returnDocument, sort, upsert,   | bypassDocumentValidation,          | TestFindOneAndReplace,            |
//	|                    | projection, comment             | collation, hint, let, internal     | TestFindOneAndModifyProjection    |
//	| FindOneAndUpdate   | returnDocument, sort, upsert,   | bypassDocumentValidation,          | TestFindOneAndUpdate,             |
//	|                    | projection, comment;            | collation, hint, let, internal     | TestFindOneAndUpdateUpsert,       |
//	|                    | arrayFilters                    |                                    | TestPositionalUpdates             |
//	| InsertOne          | comment                         | bypassDocumentValidation, internal | TestInsert, TestDuplicateKey-     |
//	|                    |                                 |                                    | Withheld                          |
//	| InsertMany         | ordered, comment                | bypassDocumentValidation, internal | TestInsert                        |
//	| Name               | (no options)                    |                                    | TestDriverSurfaceMethods          |
//	| ReplaceOne         | upsert, sort, comment           | bypassDocumentValidation,          | TestReplaceOne,                   |
//	|                    |                                 | collation, hint, let, internal     | TestUpsertReplaceAndMany          |
//	| UpdateOne,         | upsert, sort, comment;          | bypassDocumentValidation,          | TestUpdateOne,                    |
//	| UpdateByID         | arrayFilters                    | collation, hint, let, internal     | TestUpsertUpdateOne,              |
//	|                    |                                 |                                    | TestPositionalUpdates,            |
//	|                    |                                 |                                    | TestArrayFiltersHidden            |
//	| UpdateMany         | upsert, comment;                | bypassDocumentValidation,          | TestUpdateMany,                   |
//	|                    | arrayFilters                    | collation, hint, let, internal     | TestUpsertReplaceAndMany,         |
//	|                    |                                 |                                    | TestPositionalUpdates             |
//	| Watch              | batchSize, maxAwaitTime,        | collation, showExpandedEvents,     | TestWatchEvents, TestChangeStream,|
//	|                    | comment, resumeAfter,           | fullDocument default and off,      | TestWatch (MONGODB_URI),          |
//	|                    | startAfter, startAtOperation-   | fullDocumentBeforeChange default   | TestWatchEmbedded,                |
//	|                    | Time; fullDocument updateLookup,| and off, custom, customPipeline;   | TestWatchRefused,                 |
//	|                    | whenAvailable, required;        | a client stage other than $match   | TestWatchDecisionHook,            |
//	|                    | fullDocumentBeforeChange        |                                    | ExampleCollection_Watch           |
//	|                    | whenAvailable, required;        |                                    |                                   |
//	|                    | client $match stages            |                                    |                                   |
//	| Database.Watch,    | not offered: a gated Database has no Watch, and the gate hands out no client; a                          |
//	| Client.Watch       | stream over several collections would need each one's rules (Gate.System)                                |
//
// arrayFilters is applied by the gate, never sent (see Positional
// updates); collation is refused everywhere (see Collation). Options
// that change what the server answers, reads or writes
// from outside the rules' view are refused; those that only shape how the
// answer travels (batchSize, maxAwaitTime, comment) are accepted. Gated
// collections add Namespace, which the driver has not.
//
// # Change streams
//
// App Services lets client applications watch a collection: it "uses
// MongoDB change streams on watched collections to listen for changes and
// broadcast them" (the Realm SDKs' Watch for Document Changes; realm-web's
// watch({ids, filter}) calls the watch function of the client API), with
// the caller's rules applied; its pages do not say how. The gate decides
// each change event in Go, for the caller who opened the stream, with the
// read decision Find makes on a document (the evaluator's Evaluate, the
// deciding role's Decision.Fields, the decision hook), following the
// event shapes of the MongoDB manual (reference/change-events: insert,
// update, replace, delete, drop, rename, dropDatabase, invalidate, and
// Change Streams with Document Pre- and Post-Images; App Services
// records pre-images per collection, source/mongodb/preimages.txt):
//
//   - The gate sends {fullDocument: "updateLookup"} (an update is decided
//     on the document as it is when the server reads the event) and
//     {fullDocumentBeforeChange: "whenAvailable"}, so it needs MongoDB 6.0
//     or later; fullDocument whenAvailable or required (post-images:
//     the document right after the change) may be asked for instead, and
//     fullDocumentBeforeChange required. The client pipeline is never sent.
//     With updateLookup, an update event is decided by the caller's access
//     now, while its updateDescription holds the values of the change: a
//     caller who may read a field now sees the value an earlier update
//     set where it is still the document's value (an updatedFields entry
//     whose value the document no longer holds there is left out: the
//     caller may never have been allowed to read it, and the later
//     update's event carries what replaced it; one for a path the
//     document lacks now is decided as below), and one who no longer may
//     sees nothing of that update. Ask for
//     post-images (fullDocument required, with changeStreamPreAndPostImages
//     on the collection) to decide each update on the document right
//     after it.
//   - insert, replace, update: decided on fullDocument. An event whose
//     document the caller may not read is dropped, as is an update whose
//     document is gone (updateLookup found none) or has no post-image:
//     nothing is left to decide on (fail closed). Otherwise fullDocument
//     is redacted by the deciding role's fields, and the pre-image, when
//     present, is decided and redacted the same way, or removed.
//   - update's updateDescription keeps an updatedFields entry, a
//     removedFields path and a truncatedArrays entry only where the caller
//     may read that path in the document (a path it lacks, such as a
//     removed field, decided as the refs of a filter are: probed); a
//     dotted path under a hidden field is hidden, a document or array set
//     whole keeps its readable fields, a truncated array is kept only
//     when readable whole (its length would tell about hidden elements).
//     Array indexes are read from disambiguatedPaths when the server
//     sends it, else from the document's shape; a numeric component the
//     document does not resolve is a field name, which no rule grants by
//     accident. A path disambiguatedPaths does not resolve that could
//     name a field whose name holds a dot ("meta.tag" in {"meta.tag": 1},
//     which MongoDB 5.0 and later store) in the document or its pre-image
//     is left out (fail closed): the path does not tell it from meta's
//     field tag, and the server sends disambiguatedPaths only with
//     showExpandedEvents, which the gate does not ask for. A removed
//     dotted path is in neither image, so without a pre-image it is kept
//     only for a caller who would also read a top-level field the rules
//     do not name (one named "meta.tag" could have been removed).
//     disambiguatedPaths keeps the entries of the paths kept.
//     An update that leaves nothing in updatedFields, removedFields and
//     truncatedArrays is dropped: passing it would tell that a hidden
//     field changed. A replace has no description: its event tells that
//     the document was replaced, whatever fields differ.
//   - delete: decided on its pre-image when the server sends one. Without
//     it, the event is passed only to a caller who reads every document
//     whole (rule filter {} and exact, Bound.ReadsWhole) and dropped for
//     anyone else: documentKey holds the _id (and shard key) alone, which
//     says nothing of whether the caller could read that document, and a
//     stream of the _ids of deleted documents the caller never saw would
//     tell who deletes what. Enable changeStreamPreAndPostImages on the
//     collection for callers whose rules filter documents.
//   - Every document event needs its documentKey readable whole (every
//     field readable by the deciding role), else it is dropped: the
//     event's _id, its resume token, encodes the document key.
//   - drop, rename, dropDatabase and invalidate concern the collection,
//     not a document: they are passed to every caller (the collection is
//     gone for all; invalidate ends the stream). rename's to is removed:
//     the new namespace has rules of its own.
//   - Other operation types (the expanded events of showExpandedEvents,
//     which is refused, and any later server's) are dropped.
//   - Every passed event keeps _id, operationType, clusterTime, wallTime,
//     ns (with the rules' database name, as Collection.Namespace) and
//     collectionUUID, and the fields decided above; lsid and txnNumber
//     (they name another user's session and transaction) and any other
//     field are removed.
//   - Client stages: $match only, validated as a client filter and
//     applied with mql.Match to the event after redaction; any other
//     stage is refused with CodeUnsupported naming it. Applied on the
//     server, a $match would select events by values the caller cannot
//     read (a $match on fullDocument.secret); after redaction it sees
//     only what the caller sees, so a hidden field reads as absent and a
//     match on its value matches nothing.
//   - ResumeToken is the driver's, except where that would be the _id of
//     a dropped event: then the _id of the last event returned (resuming
//     from it decides the dropped events again).
//
// Events decided without a document (a delete without its pre-image, the
// collection events) are not reported to the decision hook. The server
// sends the gate every event of the collection: dropped events cost the
// gate their decision and the server its updateLookup. The embedded test
// server (FerretDB 1.24) has no change streams and refuses Watch with its
// own error (TestWatchEmbedded); TestWatchEvents decides constructed
// events of every type for owner, teammate and outsider callers,
// TestChangeStream iterates constructed events (dropped ones skipped, the
// resume token, errors), and TestWatch and ExampleCollection_Watch run
// the streams under MONGODB_URI.
//
// # Choices where the documentation is silent or the gate cannot check
//
//   - An update or replacement whose result would be outside the caller's
//     write scope (the document, as stored after the write, one the caller
//     may not write: a changed owner, a submitted draft) is denied. App
//     Services decides the role of a write from the stored document, and
//     rule authors stop such moves with write rules on %%root; the gate
//     denies them regardless (Reason leaving-scope) unless the Gate has
//     WithLeavingScopeAllowed. fixtures decides writes with the same check
//     (evaluator.WithLeavingScopeDenied), so that rulegate test and the
//     gate agree on every write.
//   - An update that touches a field an applied filter's projection
//     withholds from the caller ($set, $unset, $inc, $push, $rename... of
//     the field, of a field holding it or of one it holds) is denied
//     (field-not-readable), although the role may write it: its
//     ModifiedCount, its error or the document FindOneAndUpdate returns
//     would tell the hidden value. A replacement removes the fields the
//     caller cannot read, so it is denied (field-not-writable) wherever
//     some field may be unreadable (an applied filter's projection, a
//     role that does not read every field), whether or not the document
//     holds one (evaluator package, fail-closed choices).
//   - _id is a field like any other: a role whose field rules do not let
//     the caller read it cannot filter or sort by it either.
//   - Upserts insert with InsertOne, never a server-side upsert (see
//     Upserts).
//   - BulkWrite is never the server's bulk write: that would apply each
//     model's filter to every stored document, hidden ones included. Each
//     model is its own gated method (source/functions/mongodb/api.txt,
//     collection.bulkWrite(), lists the six operations and ordered), so a
//     BulkWrite answers exactly as its models' methods would, one by one,
//     and is atomic only inside a transaction. The page lists
//     bypassDocumentValidation among bulkWrite's options; Database Command
//     Availability refuses it on insert and update, and the gate refuses
//     it on BulkWrite as on every write.
//   - EstimatedDocumentCount is not in the App Services API (count() is):
//     an estimate counts every stored document, so the gate gives it only
//     to a caller who may read every document and counts the readable
//     ones for anyone else.
//   - The values an update writes ($set, $setOnInsert, $min, $max, $push
//     and $addToSet, $each lists included) and replacement documents are
//     checked like inserted documents (mql.ValidateUpdate): a
//     "$"-prefixed or dotted field name at any depth is refused
//     (CodeInvalid, with the document/* code and a pointer into the
//     update). MongoDB stores some of them, but they read back as
//     operators or typed values ({"$maxKey": 1} in relaxed extended JSON).
//   - $lookup and $unionWith read a collection of the same database
//     through its own gated Collection, as App Services applies the other
//     collection's rules inside them; a {db, coll} from is refused.
//     Stages and operators App Services denies to
//     application users ($facet, $out, $merge, $graphLookup, $geoNear,
//     $collStats, $currentOp, $indexStats, $function) are refused, as are
//     $accumulator and $where, and the collation option.
//   - Options App Services does not let application users set
//     (source/mongodb/crud-and-aggregation-apis.txt, "Database Command
//     Availability") are refused on every method that takes them, with
//     CodeUnsupported: hint (with a sparse or partial index it makes the
//     answer depend on hidden fields), bypassDocumentValidation,
//     noCursorTimeout, allowPartialResults, oplogReplay, allowDiskUse on
//     Aggregate; so are let, the driver's internal options (xoptions:
//     addCommandFields adds any field to the command) and {$meta:
//     "indexKey"} and {$meta: "recordId"} in pipelines (they read the stored
//     document's index entry or location). comment and batchSize are
//     honoured: they change nothing the caller gets back. The gate never
//     passes a caller's option builders to the driver: it copies the
//     options it honours.
//   - An update whose post-image mql.ApplyUpdate cannot compute
//     (mql.ErrUnsupportedUpdate: $push with $sort, a positional $ whose
//     element the query does not define, ...) is refused: its effect on
//     the rules cannot be checked.
//   - A stored document whose read rules cannot be evaluated (a %function
//     failing on it, a stored regular expression used as an operand) is
//     left out as one the caller cannot read; a write or delete decision
//     that fails is reported only on a document the caller can read. The
//     error goes to WithDocumentErrors, never to a caller who cannot see
//     the document: it would tell about that document, and whoever stores
//     such a value could break every other caller's queries.
//   - The role named by a DeniedError, and which fields a returned
//     document keeps, follow from the role App Services assigns to the
//     whole stored document: a role whose apply_when reads a field the
//     caller cannot read shows through them. That is App Services'
//     semantics (roles.txt: the first role whose apply_when holds), not a
//     gate choice; rule authors who need it hidden write apply_when on
//     fields the caller may read.
//   - Duplicate-key errors keep their code (mongo.IsDuplicateKeyError
//     works) but not their message, details or raw reply: MongoDB names
//     the written document's index key there, and a unique index may
//     cover fields the caller cannot read. That such an error happens at
//     all is inherent, as in App Services: an insert whose _id (or a
//     unique index over a hidden field) collides with a document the
//     caller cannot read fails, telling the caller that the value is
//     taken. Put unique indexes only on values every writer may know.
//   - Rules that cannot be written as a query (evaluator.ErrNotExpressible)
//     are decided document by document: reads and writes still work,
//     deletes go one document at a time, Aggregate runs in the gate.
//   - A pipeline the gate runs itself (Aggregate for a caller whose roles
//     read different fields in different documents) costs what a Find of
//     the readable documents costs, plus the stages in memory: a leading
//     $match, $sort, $skip and $limit on fields every role reads go to
//     the server, the rest is streamed to the gate. Blocking stages and
//     the result are held in memory, each within WithPipelineMemoryLimit
//     (100 MiB by default, MongoDB's limit without allowDiskUse), and so
//     are the values the expressions build for one document; the
//     engine (mql.CompilePipeline) refuses the operators it does not
//     compute exactly, naming them. A $match on a field a document hides
//     sees it missing there (the pipeline sees the document as the caller
//     does), where Find leaves such a document out. A collection a
//     $lookup or $unionWith reads whole is read once per Aggregate (kept
//     within the same limit); a $lookup on a foreignField every role
//     there reads asks the server once per document. Nothing but the
//     context bounds the time of nested sub-pipelines: give Aggregate a
//     deadline. On FerretDB (the embedded test server), which reads a
//     field path in $project as a literal string, every pipeline runs in
//     the gate, whole readers' too.
//   - The pin covers the fields a document had when read; a field added by
//     a concurrent writer between the gate's read and its write is not
//     pinned (that writer's own write was checked by the rules).
//   - Atomicity relies on the server applying a filtered single-document
//     update atomically, as MongoDB does. The embedded test server
//     (FerretDB 1.24, SQLite) does not: concurrent updates of one document
//     can be lost there with or without the gate.
package gate
