// Package expansion is the %% vocabulary of App Services rule expressions
// (mongodb/docs-app-services source/rules/expressions.txt, "Expansions"):
// parsing an expansion such as "%%user.custom_data.teamIds" into a Ref,
// saying when its value becomes known (its Phase), and resolving the
// constant and per-request ones against the caller and the request
// (Inputs.Resolve). Per-document expansions (%%root, %%prevRoot, %%this,
// %%prev) are resolved by the evaluator against each document.
//
// Expansions are expanded only where they appear in rules, never in
// client-supplied queries or documents. A missing value is Missing, never
// null, so a claim the caller lacks cannot match a document that lacks the
// field: rules fail closed.
//
// # Vocabulary
//
// Generated from Vocabulary() by TestDocVocabulary (go test -update).
//
//	| expansion      | phase    | path below it                                                 |
//	|----------------|----------|---------------------------------------------------------------|
//	| %%user         | request  | a documented field, then any path                             |
//	| %%root         | document | any path                                                      |
//	| %%prevRoot     | document | any path                                                      |
//	| %%this         | document | any path                                                      |
//	| %%prev         | document | any path                                                      |
//	| %%request      | request  | a documented field, then any path                             |
//	| %%values       | request  | any path                                                      |
//	| %%environment  | request  | a documented field, then any path                             |
//	| %%partition    | request  | none                                                          |
//	| %%args         | request  | any path                                                      |
//	| %%true         | constant | none                                                          |
//	| %%false        | constant | none                                                          |
//
// %%user (request phase): the user that made the request: id (string), type
// ("normal" or "server"), data (metadata from the identity providers),
// custom_data (the user's custom data document), identities (linked
// identities). Fields: id, type, data, custom_data, identities. Missing:
// Missing (the zero value.Value, never null) when the input or the path is
// absent; a Missing value equals nothing, so a claim the caller lacks cannot
// match a document that lacks the field. Source: mongodb/docs-app-services
// source/rules/expressions.txt (User Expansions);
// source/authentication/user-objects.txt.
//
// %%root (document phase): the document being read, or the document as it
// would be after a write. Missing: a missing field follows MongoDB query
// semantics: {f: null} and {f: {$exists: false}} match it. Source:
// mongodb/docs-app-services source/rules/expressions.txt (MongoDB Document
// Expansions).
//
// %%prevRoot (document phase): the document before a write; missing on reads
// and inserts. Missing: as %%root; the whole %%prevRoot is Missing on inserts
// and reads. Source: mongodb/docs-app-services source/rules/expressions.txt
// (MongoDB Document Expansions).
//
// %%this (document phase): the value of the field that a field-level rule is
// evaluated on, after the write. Missing: Missing when the field is absent.
// Source: mongodb/docs-app-services source/rules/expressions.txt (MongoDB
// Document Expansions).
//
// %%prev (document phase): the value of the field that a field-level rule is
// evaluated on, before the write (MongoDB rules only). Missing: Missing when
// the field was absent, and on inserts. Source: mongodb/docs-app-services
// source/rules/expressions.txt (MongoDB Document Expansions).
//
// %%request (request phase): the incoming request: HTTP method, referrer,
// user agent, raw query string, remote IP, headers, and the service and
// action being called. Fields: httpMethod, httpReferrer, httpUserAgent,
// rawQueryString, remoteIPAddress, requestHeaders, service, action,
// webhookUrl. Missing: Missing (the zero value.Value, never null) when the
// input or the path is absent; a Missing value equals nothing, so a claim the
// caller lacks cannot match a document that lacks the field. Source:
// mongodb/docs-app-services source/rules/expressions.txt (Request
// Expansions).
//
// %%values (request phase): the app's static values, by name:
// %%values.<name>. Missing: Missing (the zero value.Value, never null) when
// the input or the path is absent; a Missing value equals nothing, so a claim
// the caller lacks cannot match a document that lacks the field. Source:
// mongodb/docs-app-services source/rules/expressions.txt (Value Expansions).
//
// %%environment (request phase): the app's environment: tag (its name) and
// values (environment values). Fields: tag, values. Missing: Missing (the
// zero value.Value, never null) when the input or the path is absent; a
// Missing value equals nothing, so a claim the caller lacks cannot match a
// document that lacks the field. Source: mongodb/docs-app-services
// source/rules/expressions.txt (Environment Expansions).
//
// %%partition (request phase): the partition key value of the Device Sync
// (partition-based) request. Missing: Missing outside partition-based sync
// (Inputs.Partition nil). Source: mongodb/docs-app-services
// source/rules/expressions.txt (Service Expansions: Partition-Based Sync
// only).
//
// %%args (request phase): the arguments of a service action, by name (service
// rules). Missing: Missing (the zero value.Value, never null) when the input
// or the path is absent; a Missing value equals nothing, so a claim the
// caller lacks cannot match a document that lacks the field. Source:
// mongodb/docs-app-services source/rules/expressions.txt (Service Expansions:
// third-party service rules).
//
// %%true (constant phase): the boolean true. Missing: never missing. Source:
// mongodb/docs-app-services source/rules/expressions.txt (Logical
// Expansions).
//
// %%false (constant phase): the boolean false. Missing: never missing.
// Source: mongodb/docs-app-services source/rules/expressions.txt (Logical
// Expansions).
//
// # Resolving
//
// Inputs carries the per-request values; every field is optional. The user
// is a User built from an App Services user object (NewUserObject, with the
// keys id, type, data, custom_data, identities) or from the claims of a
// rulegate access token (NewUserClaims, with sub, user_type, user_metadata,
// user_data, user_identities; see the Claim constants).
//
// One resolver serves every caller: Compile turns a Ref into an Accessor
// once (the evaluator does so at Compile time and holds it), and
// Accessor.Resolve reads the value per request straight from the raw JSON;
// Inputs.Resolve and User.Lookup compile one on the fly. Lookups are lazy
// and take every path segment literally: dots split segments in the
// expansion, and no other character is special, so a claim key holding
// * ? | # @ ! = < > % " { } [ ] , : or \ names that key, never a wildcard,
// query, modifier or multipath, and a key holding a dot is reached by no
// path. A path resolves as value.Resolve does in the BSON value of its
// input: a canonical array index ("0", "12") indexes an array, any other
// segment ("01", "-1", "x") finds nothing in one; an object's key "0" or
// "01" is found by that segment; there is no traversal of arrays of
// documents (unlike %%root paths); and a value read as extended JSON
// ({"$maxKey": 1}) has no fields, so %%user.custom_data.limit.$maxKey is
// missing. FuzzAccessor checks the Accessor against value.Resolve over
// the driver's reading of the same JSON.
//
//	| expansion              | resolves to                                                   |
//	|------------------------|---------------------------------------------------------------|
//	| %%true, %%false        | the booleans                                                  |
//	| %%user                 | the whole user object (id, type, data, custom_data, identities)|
//	| %%user.<f>.<path>      | the user's field; Missing when the user or the path is absent |
//	| %%request.<path>       | Inputs.Request at path                                        |
//	| %%values.<path>        | Inputs.Values at path                                         |
//	| %%environment.<path>   | Inputs.Environment at path ({"tag": ..., "values": {...}})    |
//	| %%partition            | Inputs.Partition                                              |
//	| %%args.<path>          | Inputs.Args at path                                           |
//	| %%root, %%prevRoot,    | ErrDocumentPhase: the evaluator resolves them per document    |
//	| %%this, %%prev         |                                                               |
//
// JSON values become value.Values: integers that fit are int32, then
// int64; other numbers are doubles; objects and arrays are read as relaxed
// extended JSON (canonical extended JSON reads the same), so
// {"$oid": "..."} is an ObjectId and {"$maxKey": 1} a MaxKey. An input must
// therefore never hold an object key that a client chose and that starts
// with "$": it would become a typed value. Package customdata refuses such
// custom data documents (customdata.TokenJSON); whoever builds
// Inputs.Request from HTTP headers must do the same for header names.
//
// # Codes
//
//	| code                     | meaning                                                        |
//	|--------------------------|----------------------------------------------------------------|
//	| expansion/syntax         | not "%%...", an empty path segment, a path on a leaf expansion |
//	| expansion/unknown        | a root the documentation does not define ("%%usr")             |
//	| expansion/unknown-field  | a first segment %%user, %%request or %%environment lacks       |
package expansion
