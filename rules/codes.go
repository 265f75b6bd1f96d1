package rules

// Stable diagnostic codes of the rules package. Codes are the contract:
// messages may be reworded, codes are not. The JSON parser adds json/syntax,
// json/duplicate-key and json/too-deep; expansion.Parse adds
// expansion/syntax, expansion/unknown and expansion/unknown-field.
const (
	// CodeUnknownKey: a configuration object has a key the documentation
	// does not define (a misspelling is an error, never ignored).
	CodeUnknownKey = "rules/unknown-key"
	// CodeSchema: a configuration value has the wrong JSON type ("roles"
	// not an array, "name" not a string, ...).
	CodeSchema = "rules/schema"
	// CodeRequired: a required key is missing (a role's or a filter's
	// "name", %function's "name").
	CodeRequired = "rules/required"
	// CodeUnknownOperator: an operator ($... or %...) that the rule
	// expression language does not define, or one used where it has no
	// meaning.
	CodeUnknownOperator = "rules/unknown-operator"
	// CodeType: an expression or operand of the wrong type ($in with a
	// string, an expression that is a number, %stringToOid with an inner
	// operator, malformed extended JSON, ...).
	CodeType = "rules/type"
	// CodeField: a malformed field name ("", "a..b").
	CodeField = "rules/field"
	// CodePhase: a per-document expansion (%%root, %%prevRoot, %%this,
	// %%prev) where only per-request ones are allowed.
	CodePhase = "rules/phase"
	// CodeShadowedRole: a role can never apply because an earlier role
	// always applies (warning).
	CodeShadowedRole = "rules/shadowed-role"
	// CodeSubsumedRole: a role can never apply because, whenever its
	// apply_when holds, an earlier role's does too (the same expression,
	// or the earlier one's conditions a part of its own; warning).
	CodeSubsumedRole = "rules/subsumed-role"
	// CodeIDUnreadable: a role lets a caller read fields of documents but
	// never their _id, or a filter's projection withholds _id (warning:
	// the gate and clients address documents by _id).
	CodeIDUnreadable = "rules/id-unreadable"
	// CodeDuplicateRole: two roles of a collection share a name.
	CodeDuplicateRole = "rules/duplicate-role"
	// CodeDuplicateFilter: two filters of a collection share a name.
	CodeDuplicateFilter = "rules/duplicate-filter"
	// CodeDuplicateCollection: two rules.json files of one data source
	// name the same namespace.
	CodeDuplicateCollection = "rules/duplicate-collection"
	// CodeUnknownFunction: %function names a function that is neither in
	// functions/ nor provided by Go (ValidateOptions.Functions).
	CodeUnknownFunction = "rules/unknown-function"
	// CodeCustomDataUnprotected: clients can write the custom user data
	// collection: any user any user's document, or users fields of their
	// own document that rules read back as %%user.custom_data (warning).
	CodeCustomDataUnprotected = "rules/custom-data-unprotected"
	// CodeCustomData: auth/custom_user_data.json is enabled but incomplete,
	// or names a data source the app does not have.
	CodeCustomData = "rules/custom-data"
	// CodeNamespace: rules.json's "database"/"collection" keys disagree
	// with its folder (warning; the keys win, as in App Services).
	CodeNamespace = "rules/namespace"
	// CodeProjection: a filter projection mixes inclusion and exclusion, or
	// the filters of a collection do (warning: App Services fails such
	// queries).
	CodeProjection = "rules/projection"
	// CodeSpelling: a spelling the documentation's own examples use but
	// its reference does not ("project" for "projection", "%%user.id%%"
	// for "%%user.id"); read as the reference spelling (warning).
	CodeSpelling = "rules/spelling"
	// CodeRegex: a regular expression literal in a rule. MongoDB reads
	// a regex operand of an equality, $in or $nin as a PCRE pattern,
	// which rulegate does not implement; it refuses the rule rather than
	// compare the regex as a value (fail closed).
	CodeRegex = "rules/regex"
	// CodeRegexUnsupported: a $regex pattern or $options outside the
	// subset whose meaning PCRE (the server) and Go's RE2 share
	// (value.CompileRegex); refused rather than matched differently (fail
	// closed).
	CodeRegexUnsupported = "rules/regex-unsupported"
	// CodeOperand: a literal MongoDB does not compare as a value (other
	// than a regex, CodeRegex): undefined anywhere in it (the server
	// refuses comparisons to undefined), or a document whose first field
	// starts with "$" and that is not a DBRef, alone or in an array
	// operand (the server reads it as operators; only a hand-built App
	// can hold one, the parser refuses operators in values). See
	// value.CheckOperand.
	CodeOperand = "rules/operand"
	// CodeJSFunction: %function names a function the export implements
	// in JavaScript (App.JSFunctions) without its source, and no Go
	// function provides it (warning: its calls fail, denying).
	CodeJSFunction = "rules/js-function"
	// CodeFunctionConfig: a function's configuration App Services does
	// not accept (two entries for one name, run_as_user_id with
	// run_as_user_id_script_source; errors), or one rulegate reads in a
	// way that fails closed (warnings: a config.json that is not JSON, a
	// source without a config entry, read as private and run as the
	// calling user; a function that runs as a chosen user, which
	// rulegate does not do; a user creation or authentication trigger
	// function that is not private, which any client can call with a
	// user object or event of its choosing).
	CodeFunctionConfig = "rules/function-config"
	// CodeFunctionSource: a function the configuration names has no
	// source (functions/<name>.js, or source.js of its folder): its calls
	// fail and deny until a Go function or a test's stub provides it
	// (warning).
	CodeFunctionSource = "rules/function-source"
	// CodeUnusedFunction: a private function that nothing calls: no
	// rule's %function, no can_evaluate, no trigger, no custom user data
	// or authentication provider setting, no other function's source
	// (warning; a function clients may call is never unused).
	CodeUnusedFunction = "rules/unused-function"
	// CodeTrigger: a trigger configuration App Services does not define
	// (its type, operation type, name, event processor), or two triggers
	// of one name.
	CodeTrigger = "rules/trigger"
	// CodeTriggerNotRun: a database or scheduled trigger, which rulegate
	// does not run (warning; only authentication triggers run).
	CodeTriggerNotRun = "rules/trigger-not-run"
	// CodeDuplicateValue: two files of values/ define the same value
	// name.
	CodeDuplicateValue = "rules/duplicate-value"
	// CodeProvider: an authentication provider whose configuration
	// cannot authenticate anyone (an enabled custom-token provider
	// without keys, a confirmation or reset function that is run but not
	// named, an unsupported signing algorithm), or whose name is given
	// twice or disagrees with its place.
	CodeProvider = "rules/provider"
	// CodeDataAPI: a Data API configuration value App Services does not
	// define (a version, return type or validation method), options that
	// exclude each other, or the configuration given twice.
	CodeDataAPI = "rules/data-api"
	// CodeFile: a file of the app could not be read.
	CodeFile = "rules/file"
)
