// Package rules is the typed AST of an exported App Services app's rules:
// rules.json, default_rule.json, filters and auth/custom_user_data.json, and
// their older realm-cli v1 / Stitch forms; and of what a server of the app
// needs besides them: its id, its authentication providers and its Data API
// configuration.
// It parses them (every node knows its file, byte offset and RFC 6901 JSON
// pointer), validates them, and formats them back to canonical JSON.
//
//	LoadApp(fsys)            an app directory, either layout -> *App (every file's problems, sorted)
//	App.Provider(name)       an authentication provider (App.Providers), with typed local-userpass / custom-token configuration
//	IsApp(fsys)              whether a directory holds an app (data_sources/, or services/ and stitch.json or config.json)
//	ParseRules(f)            rules.json -> *Collection
//	ParseDefaultRule(f)      default_rule.json -> *DefaultRule
//	ParseCustomUserData(f)   auth/custom_user_data.json -> *CustomUserData
//	ParseExpr(f)             one rule expression -> Expr
//	Validate(app, opts)      findings the parser cannot see (phase, types, shadowed roles, ...)
//	Format(c)                *Collection -> canonical rules.json; ParseRules(Format(c)) round-trips
//	Summary(node)            what the parser understood, as text (goldens, tools)
//	Walk(node, fn)           every node below node, in file order
//
// The semantics are App Services' as documented in mongodb/docs-app-services;
// the pages are cited below by path. Where the documentation is silent,
// rulegate fails closed and says so here.
//
// # Files
//
//	| path (relative to the app)                        | AST            | source page                                          |
//	|---------------------------------------------------|----------------|------------------------------------------------------|
//	| data_sources/<service>/<db>/<coll>/rules.json     | *Collection    | source/reference/config/data_sources.txt (Collection Rules) |
//	| data_sources/<service>/default_rule.json          | *DefaultRule   | source/reference/config/data_sources.txt (Default Rules)    |
//	| data_sources/<service>/config.json                | (ignored)      | source/reference/config/data_sources.txt             |
//	| auth/custom_user_data.json                        | *CustomUserData| source/reference/config/auth.txt (Custom User Data)  |
//	| functions/<name>.expr                             | *Function      | rulegate: %function bodies in expr-lang              |
//	| functions/config.json, functions/**/*.js          | *JSFunction    | source/reference/config/functions.txt (Function      |
//	|                                                   |                | Manifest, Function Source Code)                      |
//	| functions/<name>/config.json, source.js (old)     | *JSFunction    | source/includes/appschema-functions.rst              |
//	| triggers/<name>.json                              | *Trigger (authentication ones) | source/reference/config/triggers.txt; |
//	|                                                   |                | source/includes/appschema-triggers.rst (old);        |
//	|                                                   |                | source/triggers/authentication-triggers.txt          |
//	| values/<name>.json                                | *Value         | source/reference/config/values.txt                   |
//	| environments/<tag>.json                           | *Environment   | source/reference/config/environments.txt             |
//	| realm_config.json, else root_config.json          | App.Environment| source/values-and-secrets/define-environment-values.txt, |
//	| ("environment")                                   |                | source/reference/config/app.txt                         |
//	| realm_config.json, else root_config.json          | App.ID, App.Name | source/reference/config/app.txt ("app_id" is realm-cli's) |
//	|   ("app_id", "name")                              |                |                                                      |
//	| auth/providers.json                               | []*Provider    | source/reference/config/auth.txt (Authentication     |
//	|                                                   |                | Providers); source/authentication/email-password.txt, |
//	|                                                   |                | custom-jwt.txt                                       |
//	| https_endpoints/data_api_config.json (or          | *DataAPIConfig | source/reference/config/https_endpoints.txt (Data API |
//	|   http_endpoints/, realm-cli v2)                  |                | Configuration); source/data-api/generated-endpoints.txt |
//
// # Values and environments
//
// A value file is {"id", "name", "from_secret", "value"}
// (source/reference/config/values.txt); Stitch exports also write
// "private" (undocumented; seen in the real exports), accepted and without
// effect on rules. %%values is an object
// of every value by name (source/rules/expressions.txt, Value Expansions).
// A value with "from_secret": true names a secret, and an export holds no
// secret (source/values-and-secrets.txt): rulegate leaves it unset, so
// %%values.<name> is missing and rules that need it fail closed, unless
// the caller provides it (App.Inputs). An environment file is
// {"values": {...}}; the environments App Services supports are No
// Environment (no-environment.json, tag "") and development, testing, qa,
// production (source/manage-apps/configure/environments.txt). The app
// runs in the environment realm_config.json (else root_config.json) names
// (source/values-and-secrets/define-environment-values.txt,
// source/reference/config/app.txt), "" when it
// names none; %%environment is {"tag": <tag>, "values": <that file's
// values>} (Environment Expansions). The documentation does not say what
// tag No Environment has; rulegate uses "" (what an export's
// realm_config.json writes for it). App.Inputs builds both inputs for a
// tag, with the caller's values over the export's by name; a tag that is
// neither supported nor the name of a file is ErrEnvironment.
//
// The realm-cli v1 / Stitch layout (source/reference/config/legacy.txt and
// the pages it includes, source/includes/appschema-mongodb.rst and
// appschema-configuration.rst) is read when the app has nothing of the
// current layout (data_sources/, auth/, realm_config.json, root_config.json)
// but a services/ folder, a stitch.json or a config.json:
//
//	| path (relative to the app)                        | AST            | source page                                          |
//	|---------------------------------------------------|----------------|------------------------------------------------------|
//	| services/<service>/config.json                    | a DataSource when "type" is mongodb-atlas or mongodb-datalake | appschema-mongodb.rst |
//	| services/<service>/rules/<db>.<coll>.json         | *Collection (+ InlineSchema) | appschema-mongodb.rst (MongoDB Collection Rules) |
//	| config.json / stitch.json custom_user_data_config | *CustomUserData| appschema-configuration.rst                          |
//	| config.json / stitch.json "app_id", "name"        | App.ID, App.Name | appschema-configuration.rst                        |
//	| auth_providers/<name>.json                        | *Provider      | legacy.txt (one provider a file, same keys)          |
//	| functions/<name>.expr                             | *Function      | as above                                             |
//	| functions/<name>/config.json, source.js           | *JSFunction    | appschema-functions.rst                              |
//	| triggers/<name>.json                              | *Trigger       | appschema-triggers.rst                               |
//
// An old rule file has the current rules.json keys plus the exporter's "id"
// and an inline "schema" (a document schema), which LoadApp keeps as
// Collection.InlineSchema without interpreting it. Its roles and filters are
// the same tables as the current layout's (the legacy page includes
// role-configuration.rst and query-filter-params.rst), so the same AST
// means the same thing: "insert": {} is the empty And (holds), "fields":
// {"f": {}} a field rule with read and write false, %or and %exists the
// operators above. Choices where the pages are silent, failing closed:
//
//   - The rules of a service whose config.json "type" is not a data source
//     (http, aws, twilio, ...: "when" and "actions") are service rules and
//     are not read; rule files of a service without a config.json are a
//     rules/file error, since only the type tells them apart.
//   - A file without "database" and "collection" takes its namespace from
//     its name, split at the first dot (database names hold none); a name
//     without a dot is a rules/required error. Keys that disagree with the
//     name are a rules/namespace warning (the keys win).
//   - custom_user_data_config names its data source by mongo_service_name
//     or mongo_service_id (the "id" of a service's config.json); when it
//     names neither (WildAid's export does), the only data source that has
//     rules for the collection is used, else the only data source, else
//     none (rules/custom-data). Given in both config.json and stitch.json it
//     is a rules/custom-data error.
//   - config.sync (partition-based Sync permissions) is not read:
//     rulegate decides the data access rules of non-sync requests.
//
// # Functions and triggers
//
// A JavaScript function (App.JSFunctions) is its configuration and its
// source, in either layout whatever the app's. The current one
// (source/reference/config/functions.txt) has the manifest
// functions/config.json, an array of {"name", "private", "can_evaluate",
// "disable_arg_logs", "run_as_system", "run_as_user_id",
// "run_as_user_id_script_source"}, and a source functions/<name>.js per
// function; "The name must match the file name of a source code file",
// so a name with folders ("utils/helper", as real exports write) is
// functions/utils/helper.js. The old one
// (source/includes/appschema-functions.rst) has a folder
// functions/<name>/ per function, holding config.json (the same keys and
// the exporter's "id") and source.js; a folder directly under
// functions/ that holds either file is such a folder, and its config's
// "name" (else the folder's name) names the function. Choices where the
// pages are silent, failing closed:
//
//   - Another key is rules/unknown-key, a value of the wrong type
//     rules/schema, an entry without "name" rules/required, as in every
//     other configuration file: a misspelt "private" would open the
//     function to clients. Two entries of one name, and run_as_user_id
//     with run_as_user_id_script_source ("Cannot be used with"), are
//     rules/function-config errors.
//   - The user creation function and an enabled authentication trigger's
//     function receive a user object or an authentication event; one that
//     is not private is callable by any client with one of its choosing
//     (a run_as_system one then writes it as system): a
//     rules/function-config warning (four real exports have such a user
//     creation function).
//   - can_evaluate is a rule expression "App Services evaluates ... for
//     every incoming request", so it is validated as the Data API's is:
//     per request, no expansion of a document (rules/phase).
//   - A configuration file that is not JSON (sixteen of the WildAid
//     export's have a trailing comma) is a warning, not an error: App
//     Services' command line tools parse it with encoding/json and refuse
//     the import, but the function is still known by its folder or source,
//     and rulegate reads it as private and run as the calling user
//     (rules/function-config).
//   - A source that no configuration names: App Services "automatically
//     adds functions to the manifest on import" with default settings the
//     page does not give; rulegate reads it as private (rules and other
//     functions may call it, clients may not) and run as the calling user,
//     and warns (rules/function-config).
//   - A function the configuration names without a source (an export
//     copied without its .js files) cannot run: rules/function-source,
//     and each %function call of it rules/js-function; its calls fail and
//     deny until a Go function (evaluator.WithFunction) or a test's stub
//     provides it.
//   - A function that runs as a user its configuration chooses
//     (run_as_user_id, run_as_user_id_script_source), unless run_as_system
//     "overrides" them: rulegate runs functions as the caller or as
//     system, so its calls fail (rules/function-config warning).
//   - A private function ("may only be called from other functions or in
//     %function rule expressions") that nothing calls is
//     rules/unused-function: no rule's %function, can_evaluate (of a
//     function or the Data API), trigger, custom user data
//     on_user_creation_function_name, local-userpass confirmation or reset
//     function, custom-function provider authFunctionName, and no
//     context.functions.execute("<name>" in another function's source
//     (source/functions/context.txt). The scan of sources is textual: a
//     name computed at run time is not seen, a call in a comment counts.
//     A function that is not private is callable by clients, never unused.
//
// A trigger is triggers/<name>.json in both layouts
// (source/reference/config/triggers.txt; the old layout's
// appschema-triggers.rst adds "id"): {"name", "type", "disabled",
// "config", "function_name", "event_processors"} and a database
// trigger's "error_handler". An AUTHENTICATION trigger
// (source/triggers/authentication-triggers.txt) is a *Trigger of
// App.Triggers: config.operation_type CREATE, LOGIN or DELETE, which the
// reference's table gives as a string and its example as an array (an
// array of one is read as its element; several are rules/trigger, fail
// closed), config.providers (provider types; none: every provider), and
// the function from function_name or
// event_processors.FUNCTION.config.function_name (both, disagreeing:
// rules/trigger). DATABASE and SCHEDULED triggers are not run by rulegate
// (rules/trigger-not-run warning) and are not in App.Triggers. Every
// trigger's function, and an error handler's, must be a JavaScript
// function of the export (rules/unknown-function). A name longer than 64
// characters or with other than ASCII letters, digits, underscores and
// hyphens, another type, another operation type, and two triggers of one
// name are rules/trigger; an unknown key is rules/unknown-key.
//
// # Providers, app id and Data API
//
// What serve reads besides the rules. App.ID is the "app_id" clients send
// (realm_config.json, else root_config.json; config.json or stitch.json
// in the old layout); many exports have none (the template apps: the id
// is given when App Services creates the app), and then it is "". Two
// files of the old layout giving two different ids is rules/schema: which
// app clients talk to is not guessed. The app configuration's other keys
// (location, deployment_model, ...) are not read.
//
// A provider is {"name", "type", "disabled", "config", "secret_config",
// "metadata_fields", "redirect_uris"} (auth.txt). Its name is its key in
// providers.json, or its file's name in auth_providers/; a "name" that
// says otherwise is rules/provider, so no two providers share a name.
// "type" is required (rules/required). Keys the page does not name are
// accepted: exports carry many (the exporter's "id", a config's
// "confirmEmailSubject", "domain_restrictions"). Of "config", rulegate
// types the keys of the two providers whose logins it verifies itself:
//
//	| type           | key (config., secret_config.)       | Go                               | absent    |
//	|----------------|-------------------------------------|----------------------------------|-----------|
//	| local-userpass | autoConfirm                         | UserPassConfig.AutoConfirm       | false     |
//	|                | runConfirmationFunction, confirmationFunctionName | RunConfirmationFunction, ConfirmationFunctionName | false, "" |
//	|                | emailConfirmationUrl                | EmailConfirmationURL             | ""        |
//	|                | runResetFunction, resetFunctionName | RunResetFunction, ResetFunctionName | false, "" |
//	|                | resetPasswordUrl                    | ResetPasswordURL                 | ""        |
//	| custom-token   | audience (a string or strings)      | CustomTokenConfig.Audience       | none: "aud" must hold the app id |
//	|                | requireAnyAudience                  | RequireAnyAudience               | false (all audiences) |
//	|                | signingAlgorithm (HS256, RS256, "") | SigningAlgorithm                 | ""        |
//	|                | useJWKURI, jwkURI                   | UseJWKURI, JWKURI                | false, "" |
//	|                | secret_config.signingKeys           | SigningKeys (secret names)       | none      |
//	| every type     | metadata_fields [{required, name, field_name}] | MetadataField (Path: name split at unescaped dots) | field_name: the path's last element |
//
// Other types (custom-function, oauth2-google, oauth2-facebook,
// oauth2-apple, ...) are loaded with their name, type and disabled flag,
// and no diagnostic; a server refuses their logins. Validate checks each
// enabled provider it types for what a login needs, failing closed
// (rules/provider): a custom-token provider needs a JWK URI when it uses
// one, else a signing algorithm and a signing key; a local-userpass one
// that runs a confirmation or reset function must name it. A signing
// algorithm other than HS256 and RS256 is rules/provider too. Secrets'
// values are not in an export (source/values-and-secrets.txt): the
// caller provides the signing keys.
//
// The Data API configuration (https_endpoints.txt) is disabled, versions
// (beta, v1), return_type (JSON, the default, or EJSON),
// create_user_on_auth, run_as_system, run_as_user_id,
// run_as_user_id_script_source, and, from generated-endpoints.txt,
// can_evaluate, validation_method (NO_VALIDATION, SECRET_AS_QUERY_PARAM,
// VERIFY_PAYLOAD) and secret_name. Another key is rules/unknown-key;
// "verification_method", which an example of generated-endpoints.txt
// writes, is read as validation_method with a rules/spelling warning. The
// reference says "If false, the Data API is not enabled" of "disabled";
// rulegate reads it as every other "disabled" key (true: no endpoint
// answers). can_evaluate is a rule expression decided per request: like a
// filter's apply_when it may not read a document (rules/phase). Values
// outside those lists, run_as_user_id with run_as_user_id_script_source,
// a secret validation method without secret_name, and the configuration
// in both https_endpoints/ and http_endpoints/ are rules/data-api. No
// export of the real-world corpus has a Data API configuration; the old
// layout has none.
//
// The refresh token lifetime (60 days unless configured, between 30
// minutes and 180 days) is set in the Admin UI or the Admin API
// (source/users/sessions.txt, "Configure Refresh Token Expiration":
// PUT .../security/refresh_token_expiration); no file of an export holds
// it, so App has no such field.
//
// # Keys
//
// Only the documented keys are accepted; any other key is rules/unknown-key
// (with a "did you mean" suggestion), never silently ignored. Roles and
// filters are source/mongodb/tables/role-configuration.rst and
// query-filter-params.rst.
//
//	| object             | key                | type        | default when absent                         |
//	|--------------------|--------------------|-------------|---------------------------------------------|
//	| rules.json         | id, _id            | string (_id also {"$oid"}) | written by the export; ignored |
//	|                    | database           | string      | the <db> folder name                        |
//	|                    | collection         | string      | the <coll> folder name                      |
//	|                    | roles              | Role[]      | [] (no role: no access)                     |
//	|                    | filters            | Filter[]    | []                                          |
//	| default_rule.json  | roles, filters     | as above    | []                                          |
//	|                    | id, _id            | as above    | written by the export; ignored              |
//	| old <db>.<coll>.json | id, database, collection, roles, filters | as rules.json | <db>, <coll> from the file name |
//	|                    | schema             | object      | nil (Collection.InlineSchema, not interpreted) |
//	| role               | name               | string      | required (rules/required); unique           |
//	|                    | apply_when         | Expression  | nil, treated as {} (always applies)         |
//	|                    | document_filters   | {read, write} of Expression | undefined: no document filter |
//	|                    | read               | Expression  | false                                       |
//	|                    | write              | Expression  | false (write implies read)                  |
//	|                    | insert             | Expression  | true                                        |
//	|                    | delete             | Expression  | true                                        |
//	|                    | search             | Expression  | true                                        |
//	|                    | fields             | {<name>: FieldRule} | {}                                  |
//	|                    | additional_fields  | {read, write} | {} (read and write false)                 |
//	| fields.<name>      | read, write        | Expression  | false                                       |
//	|                    | fields             | {<name>: FieldRule} | {} (embedded fields)                |
//	|                    | additional_fields  | {read, write} | {} (accepted at every level)              |
//	| filter             | name               | string      | required (rules/required); unique           |
//	|                    | apply_when         | Expression  | nil; per request only (no %%root)           |
//	|                    | query              | MongoDB query (Expr) | nil ({})                           |
//	|                    | projection         | {<field>: 1|0|true|false} | nil ({})                      |
//	| custom_user_data   | enabled            | boolean     | false                                       |
//	|                    | mongo_service_name, database_name, collection_name, user_id_field | string | required when enabled |
//	|                    | on_user_creation_function_name | string | "" (optional)                     |
//	| custom_user_data_config (old) | the keys above, and mongo_service_id | string | see the old layout above |
//
// Permissions that are absent stay absent in the AST (Perm.Set is false):
// the evaluator applies the defaults above. The docs' filter example that
// writes "project" instead of "projection" (source/rules/filters.txt) is
// read as "projection" with a rules/spelling warning (the reference table
// names "projection"; ignoring the key would leak what it hides), and so is
// the trailing-%% expansion "%%user.id%%" of the custom user data example
// (source/users/custom-metadata.txt). Role and filter names are limited to
// 100 characters, as the configuration tables say.
//
// # Expressions
//
// An expression is true, false, or an object (source/rules/expressions.txt,
// Expression Syntax). Several fields are an AND; {} is the empty And, which
// holds. An object with one field is that field's expression.
//
//	| written                                   | AST                                           | source                       |
//	|-------------------------------------------|-----------------------------------------------|------------------------------|
//	| true / false                              | *Bool                                         | expressions.txt              |
//	| {"a": 1, "b": 2}                          | *And{Op: ""} of two *Match                    | expressions.txt (Multi-Field)|
//	| {}                                        | *And{} (holds)                                | expressions.txt              |
//	| {"owner": "%%user.id"}                    | *Match, Left %%root.owner (Implicit)          | expressions.txt (Evaluation note) |
//	| {"%%root.email": ...}, {"%%user.x": ...}  | *Match, Left an expansion                     | expressions.txt, examples.txt|
//	| {"%and": [...]}, {"$and": [...]}          | *And{Op: "%and" / "$and"}                     | expressions.txt examples; real apps |
//	| {"%or": [...]}, {"$or": [...]}            | *Or{Op: "%or" / "$or"}                        | expressions.txt examples; real apps |
//	| {"$nor": [...]}                           | *Nor                                          | MongoDB query language       |
//	| {"f": <value>}                            | Cond *Equals                                  | expressions.txt              |
//	| {"f": {"$gt": 1, "$lt": 5}}               | Cond *Ops (every operator must hold)          | expressions.txt (Operators)  |
//	| {"f": {"%and": [{"$gt": 0}, {"$lte": 42}]}} | Cond *CondLogic                             | expressions.txt (Embedded Expressions) |
//	| {"f": {"$elemMatch": {"$gte": 1}}}        | Cond *ElemMatch{Cond} (the operator form)     | MongoDB manual $elemMatch    |
//	| {"f": {"$elemMatch": {"g": "%%user.id"}}} | Cond *ElemMatch{Query} (the query form)       | MongoDB manual $elemMatch    |
//
// Comparison operators (expressions.txt, Operators: "denoted by strings that
// begin with either a single percent sign (%) or a dollar sign ($)"). Both
// spellings are accepted for each; OpArg.Op is the canonical $ spelling and
// OpArg.Spelling the written one (the docs write "%exists", real apps "%in"):
//
//	| operator          | operand                                       | source              |
//	|-------------------|-----------------------------------------------|---------------------|
//	| $eq  / %eq        | any value                                     | expressions.txt     |
//	| $ne  / %ne        | any value                                     | expressions.txt     |
//	| $gt  / %gt        | any value (type bracketed)                    | expressions.txt     |
//	| $gte / %gte       | any value                                     | expressions.txt     |
//	| $lt  / %lt        | any value                                     | expressions.txt     |
//	| $lte / %lte       | any value                                     | expressions.txt     |
//	| $in  / %in        | an array, or an array-valued expansion        | expressions.txt     |
//	| $nin / %nin       | an array, or an array-valued expansion        | expressions.txt     |
//	| $exists / %exists | a boolean (or number)                         | expressions.txt     |
//	| $all              | an array, or an array-valued expansion        | MongoDB manual $all |
//	| $size             | a non-negative whole number, or an expansion  | MongoDB manual $size|
//	| $type             | a type alias or number, or an array of them   | MongoDB manual $type|
//	| $mod              | [divisor, remainder]: two numbers, divisor ≠ 0| MongoDB manual $mod |
//	| $regex, $options  | literal strings; PCRE ∩ RE2 syntax, options imsx | MongoDB manual $regex |
//	| $not              | an object of operators, the only key          | MongoDB manual $not |
//	| $elemMatch        | an object, the only key: operators or a query | MongoDB manual $elemMatch |
//
// $all, $size, $type, $mod, $regex, $elemMatch and $not are not in expressions.txt; they are MongoDB
// query operators that real rules use (the add-collaborators template
// app: {"collaborators": {"$all": ["%%user.id"]}}), accepted in their $
// spelling only. $not is read as a CondLogic "$not" of its one condition
// and must be the only key of its object (fail closed: {"$not": {...},
// "$gt": 1} is refused, not guessed). $elemMatch (an *ElemMatch) must be
// the only key of its object too; its first key chooses the form as the
// server does: an operator other than a logical one, the operator form
// (Cond, tested on each element); anything else, the query form (Query,
// over each document element). Fail closed where the docs are silent: its
// left side must be a document field (rules/type), the keys of the query
// form plain field names of the element (rules/type), and no operand
// inside may read a document (%%root, %%prevRoot, %%this, %%prev:
// rules/phase): the operands are request values.
//
// Value operators compute an operand (*Call):
//
//	| operator      | operand                                                     | source                          |
//	|---------------|-------------------------------------------------------------|---------------------------------|
//	| %stringToOid  | a string (24 hex digits or 12 bytes) or an expansion; no inner operators | expressions.txt (Convert EJSON Values) |
//	| %oidToString  | an ObjectId ({"$oid"}) or an expansion; no inner operators  | expressions.txt (Convert EJSON Values) |
//	| %stringToUuid | a UUID string (8-4-4-4-12 hex) or an expansion; no inner operators | expressions.txt (Convert EJSON Values) |
//	| %uuidToString | a UUID ({"$uuid"}, binary subtype 4) or an expansion; no inner operators | expressions.txt (Convert EJSON Values) |
//	| %function     | {"name": <string>, "arguments": [<operand>...]}             | expressions.txt (Call a Function) |
//
// Any other operator ($where, $text, %foo, ...) is
// rules/unknown-operator: unknown operators are rejected, never ignored.
// Values are JSON or MongoDB extended JSON ({"$oid": ...}, {"$date": ...},
// {"$numberLong": ...}); an object whose first key is an extended JSON key is
// a *Literal. The legacy {"$regex": ...} form is read as the $regex query
// operator. A regular expression literal ({"$regularExpression": {...}}),
// as an operand or an element of an array operand, is refused as
// rules/regex (inside an embedded document it compares as a value): the
// server would read it as a PCRE pattern in an equality, $in or $nin, and
// rulegate neither implements PCRE nor compares a pattern as a value
// (fail closed; see package value). An undefined literal, anywhere in an
// operand, is refused as rules/operand: the server refuses comparisons to
// undefined. Strings that start with
// "%%" are expansions (see package expansion); arrays and documents that hold
// an expansion or a call are *ArrayOperand and *DocOperand, built per
// request.
//
// # Where expansions may appear
//
// %%root, %%prevRoot, %%this and %%prev change with every document;
// %%user, %%request, %%values, %%environment, %%args and %%partition are
// known once per request; %%true and %%false are constants. A filter's
// apply_when runs before any document is read, so it may use only
// per-request expansions ("you cannot use expansions that refer to a
// document like %%root", source/rules/filters.txt); a plain field there
// means %%root and is refused too. A filter query names document fields as
// keys; its values are computed once per request.
//
// # Namespaces and default rules
//
// App.Collection finds a namespace's rules.json. App.DefaultRuleFor picks
// the default rule of the data source holding the namespace's rules; for a
// namespace no data source has rules for, the default rule of the only data
// source that has one, else that of custom_user_data.json's
// mongo_service_name, else nil (ambiguous: fail closed).
//
// # Codes
//
//	| code                          | severity | meaning                                                        |
//	|-------------------------------|----------|----------------------------------------------------------------|
//	| json/syntax                   | error    | not JSON (package source)                                      |
//	| json/duplicate-key            | error    | a key given twice                                              |
//	| json/too-deep                 | error    | nesting deeper than source.MaxDepth                            |
//	| rules/file                    | error    | a file of the app cannot be read; old layout: a service with   |
//	|                               |          | rule files but no config.json                                  |
//	| rules/unknown-key             | error    | a key the configuration reference does not define              |
//	| rules/schema                  | error    | a configuration value of the wrong JSON type                   |
//	| rules/required                | error    | a role, filter or %function without a name; an old rule file   |
//	|                               |          | naming no namespace; a service config.json without "type"      |
//	| rules/unknown-operator        | error    | an operator the expression language does not define, or one    |
//	|                               |          | used where it has no meaning                                   |
//	| rules/type                    | error    | an operand or expression of the wrong type ($in without an     |
//	|                               |          | array, an expression that is a number, bad extended JSON, ...) |
//	| rules/field                   | error    | a malformed field name ("", "a..b")                            |
//	| expansion/syntax              | error    | a malformed expansion ("%%user..id", "%%true.x")               |
//	| expansion/unknown             | error    | an unknown expansion root ("%%usr")                            |
//	| expansion/unknown-field       | error    | an undocumented field of %%user, %%request, %%environment      |
//	| rules/phase                   | error    | a per-document expansion where only per-request ones are       |
//	|                               |          | allowed (filters' apply_when, filter query values)             |
//	| rules/phase                   | warning  | %%this / %%prev outside field-level permissions                |
//	| rules/shadowed-role           | warning  | a role after an always-applying role never applies             |
//	| rules/subsumed-role           | warning  | a role never applies: whenever its apply_when holds, an        |
//	|                               |          | earlier role's does (see Roles that never apply below)         |
//	| rules/id-unreadable           | warning  | a role reads fields of documents but never _id, or a filter's  |
//	|                               |          | projection excludes _id (see Documents without _id below)      |
//	| rules/duplicate-role          | error    | two roles of a collection share a name                         |
//	| rules/duplicate-filter        | error    | two filters of a collection share a name                       |
//	| rules/duplicate-collection    | error    | two rules.json of a data source name the same namespace        |
//	| rules/unknown-function        | error    | %function, or a trigger, names no JavaScript function of the   |
//	|                               |          | export, no functions/<name>.expr and no Go function            |
//	| rules/js-function             | warning  | %function names a JavaScript function of the export that has   |
//	|                               |          | no source (a config.json names it): its calls fail (access     |
//	|                               |          | denied) until a Go function (evaluator.WithFunction) or a      |
//	|                               |          | test's stub ("functions" in package fixtures) provides it      |
//	| rules/function-config         | error    | two configurations of one function; run_as_user_id with        |
//	|                               |          | run_as_user_id_script_source                                   |
//	| rules/function-config         | warning  | a function config.json that is not JSON; a source without a    |
//	|                               |          | configuration; a function that runs as a chosen user (see      |
//	|                               |          | Functions and triggers above)                                  |
//	| rules/function-source         | warning  | a configured function without its source                       |
//	| rules/unused-function         | warning  | a private function nothing calls                               |
//	| rules/trigger                 | error    | a trigger type, operation type or name outside the reference,  |
//	|                               |          | two triggers of one name, processors that disagree             |
//	| rules/trigger-not-run         | warning  | a DATABASE or SCHEDULED trigger, which rulegate does not run   |
//	| rules/custom-data             | error    | custom user data enabled but incomplete or naming no data source |
//	|                               |          | (old layout: an unknown mongo_service_id; configured twice)    |
//	| rules/custom-data-unprotected | warning  | clients can write custom user data: anyone's document, or fields |
//	|                               |          | of their own that rules read as %%user.custom_data (see below) |
//	| rules/namespace               | warning  | rules.json's keys disagree with its folder (the keys win)      |
//	| rules/spelling                | warning  | "project" for "projection", "%%user.id%%" for "%%user.id"      |
//	| rules/projection              | error    | a projection mixes inclusion and exclusion                     |
//	| rules/regex                   | error    | a regular expression literal ({"$regularExpression": ...}) as  |
//	|                               |          | an operand or in an array operand: MongoDB matches it as a     |
//	|                               |          | PCRE pattern                                                   |
//	| rules/regex-unsupported       | error    | a $regex pattern or $options outside the syntax PCRE (the      |
//	|                               |          | server) and Go's RE2 read alike (value.CompileRegex)           |
//	| rules/operand                 | error    | an undefined literal ({"$undefined": true}) anywhere in an     |
//	|                               |          | operand (MongoDB refuses comparisons to undefined), or, in a   |
//	|                               |          | hand-built App, a document starting with a $ field (not a      |
//	|                               |          | DBRef) as an operand or in an array operand (value.CheckOperand) |
//	| rules/duplicate-value         | error    | two files of values/ define the same value name                |
//	| rules/provider                | error    | a provider named otherwise than its place; an unsupported      |
//	|                               |          | signing algorithm; an enabled provider that cannot log anyone  |
//	|                               |          | in (see Providers above)                                       |
//	| rules/data-api                | error    | a Data API version, return type or validation method outside   |
//	|                               |          | the reference; options that exclude each other; configured twice |
//
// # Roles that never apply
//
// Without Device Sync, App Services gives each document the first role
// whose apply_when holds (source/rules/roles.txt, "Role Order"). An
// earlier role whose apply_when holds on every document a later role's
// does (a superset) leaves the later role nothing: it never applies. This
// is undecidable in general; Validate reports only what follows from the
// structure of the two expressions, so that a finding is always true: an
// earlier role that always applies ({}, true, absent; rules/shadowed-role),
// or (rules/subsumed-role) an earlier apply_when that the later one implies
// because they are the same expression (as FormatExpr writes them: {"owner":
// "%%user.id"} twice), because the earlier one is an AND whose every
// condition the later one implies ({"owner": "%%user.id"} before {"owner":
// "%%user.id", "locked": false}), or an OR one of whose branches it
// implies ({"%or": [{"%%user.custom_data.admin": true}, ...]} before
// {"%%user.custom_data.admin": true}), or because the later one is an AND
// one of whose conditions implies the earlier one, or an OR each of whose
// branches does. A comparison is compared whole ({"owner": "%%user.id"}
// and {"%%root.owner": "%%user.id"} are different expressions; a $nor is
// not looked into), and apply_when expressions that call %function are
// not compared (a function may answer differently per call). A role that
// an earlier one shadows only in part (a teammate role after an owner
// role: the owner's documents in the team are the owner role's) is the
// ordinary use of role order and no finding.
//
// # Documents without _id
//
// The gate and App Services clients address documents by _id (an update
// or delete of a document read, realm-web's collection methods). Validate
// warns (rules/id-unreadable) of a role that lets a caller read fields of
// a document but never its _id: it has no document-level read or write
// (either, when set, decides every field, role-configuration.rst), some
// field rule or additional_fields may grant reading or writing a field
// (write implies read), and nothing may grant _id: no "_id" field rule
// whose read or write may hold and, unless that rule sets a permission of
// its own, no additional_fields whose read or write may hold (an "_id"
// rule with rules for embedded fields is not decided). It also warns of a
// filter whose projection excludes _id ({"_id": 0}): the documents the
// filter applies to reach the caller without it. An inclusion projection
// keeps _id, as in MongoDB.
//
// # Custom user data that clients can write
//
// Custom user data is read-only on the user object; it changes only when
// its document is written under the collection's rules, and every user's
// access token carries it as %%user.custom_data
// (source/users/custom-metadata.txt, "Secure Custom User Data", "Modify User
// Permissions in Custom User Data Documents"). A custom data collection no
// client can write (no rules, or roles without write) is the safest setup
// and no warning. Validate warns (rules/custom-data-unprotected) of a role
// of the collection (its rules.json, else its data source's default rule)
// that an ordinary user gets and that may write: when it applies to every
// document (apply_when and document_filters.write always hold, and no
// always-applying filter narrows the collection to {<user_id_field>:
// "%%user.id"}), anyone can write anyone's custom data; otherwise, when it
// may write a field that rules read back as %%user.custom_data.<field>, a
// user can grant themselves what those rules grant. A role whose apply_when
// calls %function, or requires (outside $nor, in every branch of an $or) a
// custom data claim that a user without it lacks ({"%%user.custom_data.admin":
// true}, not {"%%user.custom_data.banned": {"$ne": true}}, which a missing
// claim satisfies), a comparison with a custom data value, or %%user.id
// equal to a constant, is taken as a role for privileged users and
// trusted. Writes that an expression decides per document count as
// possible. When a rule file of the collection's data source failed to
// load, the lint says nothing: the load error is the finding, never "no
// rules".
//
// Parse errors (LoadApp, ParseRules, ...) stop an app from loading; LoadApp
// keeps them in App.LoadErrors and Validate reports them again with its own
// findings, which are errors or warnings (source.Error.Severity "warning").
package rules
