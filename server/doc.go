// Package server serves an exported App Services app over HTTP as App
// Services did, so that client code written for the App Services SDKs and
// for the Atlas Data API runs unchanged against it, with the app's rules
// enforced on every MongoDB call by package gate.
//
//	srv, err := server.New(ctx, app, client, keys)
//	mux.Handle("/", srv) // or http.ListenAndServe(addr, srv)
//
// It speaks the client protocol as realm-web 2.0.1 sends it (the wire is
// described, with captured requests, in appservices-protocol.md beside the
// repository, and in mongodb/docs-app-services source/users/sessions.txt,
// source/authentication/*.txt) and the Data API v1
// (source/data-api/generated-endpoints.txt, authenticate.txt,
// data-formats.txt, openapi-data-api-v1.yaml). Functions follow
// source/functions.txt (user and system functions, private, can_evaluate,
// the 300-second cap), source/users/custom-metadata.txt ("User Creation
// Function") and source/triggers/authentication-triggers.txt.
//
// # Vocabulary
//
//	| term            | meaning                                                                  |
//	|-----------------|--------------------------------------------------------------------------|
//	| app id          | the id clients put in their URLs: realm_config.json's app_id or WithAppID |
//	| client API      | /api/client/v2.0/app/<id>/... (location, auth providers, functions/call) |
//	|                 | and /api/client/v2.0/auth/... (profile, session, delete, api_keys)        |
//	| Data API        | /app/<id>/endpoint/data/<v1|beta>/action/<action>                        |
//	| access token    | a 30-minute JWT (package token) carrying %%user and the custom data as   |
//	|                 | canonical extended JSON in user_data; sent as Authorization: Bearer       |
//	| refresh token   | names a session in the accounts database; POST /auth/session mints a new |
//	|                 | access token from the current custom data document (the staleness model) |
//	| accounts db     | users, identities, password hashes, sessions, API keys, throttling       |
//	|                 | counters (package accounts; WithDatabase)                                 |
//	| service call    | functions/call with "service": a MongoDB method through the gate         |
//	| user function   | functions/call without "service": one of the app's JavaScript functions  |
//	|                 | (package jsfunc), run as the caller or as system, as its config says      |
//	| user creation   | custom_user_data.json's on_user_creation_function_name: runs at a new     |
//	| function        | user's first login, before its first access token                         |
//	| auth trigger    | triggers/<name>.json of type AUTHENTICATION: its function runs after a    |
//	|                 | CREATE, LOGIN or DELETE event, asynchronously, as system                  |
//	| canonical EJSON | request and response bodies: {"$numberInt": "1"}, {"$oid": ...}          |
//
// # Endpoints
//
//	| request                                                 | what it does                                  |
//	|---------------------------------------------------------|-----------------------------------------------|
//	| GET  .../app/<id>/location                              | hostname and ws_hostname of this server       |
//	| POST .../app/<id>/auth/providers/<name>/login            | local-userpass, anon-user, api-key,           |
//	|                                                         | custom-token: {access_token, refresh_token,   |
//	|                                                         | user_id, device_id}                           |
//	| POST .../local-userpass/register, confirm, confirm/send, | email/password accounts; answers never say    |
//	|      reset/send, reset                                  | whether an address is registered              |
//	| GET  /auth/profile                                      | user_id, identities, data, type               |
//	| POST /auth/session, DELETE /auth/session                 | refresh (new access token), log out           |
//	| DELETE /auth/delete                                     | delete the user, its keys and sessions        |
//	| /auth/api_keys[/<id>[/enable|/disable]]                  | user API keys (with the refresh token)        |
//	| POST .../app/<id>/functions/call                         | MongoDB service methods through the gate, and |
//	|                                                         | the app's JavaScript functions                |
//	| GET  .../app/<id>/functions/call?baas_request=<base64>   | watch: gate.Collection.Watch as server-sent   |
//	|      [&baas_at=<access token>]                          | events, each event decided and redacted       |
//	| POST /app/<id>/endpoint/data/v1/action/<action>          | Data API: findOne, find, insertOne,           |
//	|                                                         | insertMany, updateOne, updateMany, replaceOne,|
//	|                                                         | deleteOne, deleteMany, aggregate              |
//	| GET  /healthz                                           | 200 when MongoDB answers, 503 when draining   |
//
// Service calls take the field names realm-web sends: query and project for
// find, findOne, count, deleteOne/Many and updateOne/Many; filter and
// projection for findOneAndUpdate/Replace/Delete; the Data API takes
// filter, projection and replacement. Results have the types the SDKs read:
// matchedCount, modifiedCount and deletedCount as Int32, count as Int64,
// documents in canonical extended JSON, null for none; the Data API answers
// JSON (types lost as data-formats.txt lists) or canonical EJSON, by Accept
// or return_type.
//
// A watch answers text/event-stream: each change event the caller may see,
// redacted by its rules (gate.Collection.Watch: events of documents it
// cannot read never come, nor updates of only hidden fields), is one
// "data:" line of canonical extended JSON with "%", LF and CR
// percent-encoded; a failure after the stream began is an "event: error"
// line with {error, error_code}. watch({ids}) is a $match on
// documentKey._id, watch({filter}) a $match on the event, both applied
// after redaction. A stream ends when its access token expires
// (InvalidSession: the token's claims decided every event, and a user who
// logged out or was deleted must stop receiving documents) and when the
// server drains. MongoDB 6.0 or later on a replica set is needed; the
// embedded test server has no change streams and refuses every watch
// (400 MongoDBError).
//
// # Errors
//
// Every error is {"error", "error_code", "link"} with Content-Type exactly
// application/json (realm-core parses no other). A rules denial is 403
// (NoMatchingRuleFound when no role or no rules apply, SchemaValidationFailedWrite
// for a schema, PermissionDenied otherwise), never 401: realm-web answers a
// 401 InvalidSession by refreshing and retrying with no limit. 401
// InvalidSession means the access token is missing, expired, forged or a
// refresh token; a refresh token that names no session says "failed to
// find refresh token", which realm-web's logOut ignores. A refused query
// or pipeline is 400 ArgumentsNotAllowed; a pipeline the gate runs itself
// that fails on the documents (gate.CodePipelineFailed: $divide by zero,
// the memory limit) is 400 MongoDBError, as the database's own failure
// would be; malformed input 400
// InvalidParameter or MissingParameter. A custom data document too large
// to travel in an access token (which a user may write itself) makes its
// login and refresh 400 BadRequest, which no refresh can fix. Messages carry the rules'
// vocabulary (namespace, method, action, role, reason), never a document
// value. The link is "urn:rulegate:request:<id>", the request id of the
// log lines.
//
// # Choices where the sources are silent or unsafe
//
//   - realm-web 2.0.1 sends findOneAndDelete as findOneAndReplace without an
//     update (realm-js #6497). rulegate decides and runs it as the delete
//     the client asked for, under the delete rules; a findOneAndReplace with
//     an update is a replacement.
//   - An update without operators is a replacement for updateOne and
//     findOneAndUpdate, as realm-web's own tests expect; updateMany refuses
//     it, as MongoDB does.
//   - Refresh tokens are not rotated: realm-web ignores a new refresh token
//     in the POST /auth/session answer, so rotation would log every client
//     out on its second refresh (package customdata, WithRotation).
//   - Registering an address already registered answers as a new
//     registration does, after the same work; confirmation and reset tokens
//     are never sent to the client. rulegate sends no e-mail: the links go
//     to the operator's log at debug level. confirm/call and reset/call
//     (the email/password provider's confirmation and reset functions)
//     are refused, and so is identity linking (login?link=true).
//   - JavaScript functions (package jsfunc) run where App Services ran
//     them: %function in rules, client calls, the user creation function
//     and authentication triggers. New compiles them and fails on a syntax
//     error (positioned in its .js file), and when the user creation
//     function or an enabled trigger's function has no source in the
//     export: it could not run, and running without it would hand out
//     tokens without the custom data it writes.
//   - A client's call of a private function is answered exactly as a call
//     of a function that does not exist (404 FunctionNotFound, the answer
//     App Services gave for an unknown name), so that the answer does not
//     tell it exists; a can_evaluate that does not hold is 403
//     FunctionNotCallable; a thrown error, a rejected promise or a limit
//     is 400 FunctionExecutionError with the function's message (never a
//     Go stack), a time limit 400 ExecutionTimeLimitExceeded. Only
//     JavaScript functions are callable: an .expr function file is not.
//     context.request of a client call has no service or action.
//   - A user is created, for the user creation function and CREATE
//     triggers, at its first login (accounts.FirstLogin): an email/password
//     user registers, and its first login makes it an App Services user.
//     The user creation function receives the user object and runs as its
//     configuration says (run_as_system, or as the new user through the
//     rules; the docs do not say): if it throws, the login fails with 400
//     FunctionExecutionError and the user stays new, so its next login runs
//     the function again rather than letting it in without its document.
//     The logins of one user wait for each other (in one Server: servers
//     sharing the accounts database do not), so that a login during a
//     first login's function waits for its outcome rather than getting in
//     without it.
//   - Authentication triggers run after the login or the deletion has
//     succeeded, asynchronously (the custom user data pages: they "may
//     finish after the user's access token is created"), each with a 300 s
//     deadline (the runtime App Services caps functions at), as system.
//     A failure is logged and changes nothing of the request. A trigger's
//     providers are provider types; a DELETE event names every provider
//     the user had an identity with. At most twice GOMAXPROCS triggers run
//     at once (a burst of logins queues the others, each deadline starting
//     when it runs); Wait waits for the queued and running ones.
//   - The Data API runs only where the export enables it
//     (https_endpoints/data_api_config.json) and only as the authenticated
//     user: run_as_system, run_as_user_id_script_source and secret
//     validation methods refuse every request, saying why. Its
//     can_evaluate is decided for each request, after authentication and
//     before the action (it may call functions); false, or an error
//     deciding it, is 403 PermissionDenied. A custom JWT (jwtTokenString)
//     authenticates only a user that exists unless create_user_on_auth is
//     set. Its credential logins are not client logins: they run no user
//     creation function and fire no trigger.
//   - Access tokens are self-contained: deleting a user or logging out ends
//     its sessions at once, and its access tokens within their 30 minutes,
//     as with App Services' JWTs. A refresh token works only while its
//     session's user exists and is enabled: a session that outlived its
//     user (a login racing DeleteUser, an anonymous user past 90 days) is
//     ended when presented.
//   - The accounts database (WithDatabase), MongoDB's own databases
//     (admin, local, config) and system.* collections are never served to
//     a service call or the Data API, whatever the rules say (403
//     PermissionDenied): a default rule applies to every namespace of its
//     data source and would open password hashes, sessions, API keys and
//     the oplog (every write of every user) to the caller. Nor to a
//     function, as the user or as system, through the collection it names
//     or a stage of its pipeline that names another ($out, $merge,
//     $lookup, $graphLookup, $unionWith, in sub-pipelines too).
//   - A request body is one JSON object in UTF-8 (RFC 8259), nested at
//     most 100 levels, no object with more than 1,000 members (deciding a
//     filter or update costs more than linear time in one object's
//     fields), with no top-level key starting with "$"; anything
//     else is 400 InvalidParameter, never read as its valid prefix. A
//     custom JWT whose metadata holds a "$" key at any depth is refused
//     (%%user.data is read as extended JSON).
//   - Every answer carries Cache-Control: no-store: logins and refreshes
//     carry tokens (RFC 6749 §5.1), the others the user's data, and the
//     location answer echoes the Host header (set WithHostname behind a
//     proxy), which a shared cache must not serve to other clients.
//   - %%request.requestHeaders leaves out Authorization, Cookie and the
//     Data API credential headers, and any header named with a leading "$".
//   - Login throttling counts per identity and per peer address, as
//     package accounts groups addresses (an IPv6 peer per /64 prefix, which
//     one host may pick any address in; a mapped IPv4 address as IPv4);
//     the peer is the connection's (RemoteAddr): forwarded-for headers are
//     not trusted.
//
// A Server keeps nothing between requests: any number of them on one
// database serve one app behind any load balancer.
package server
