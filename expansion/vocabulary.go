package expansion

const (
	srcExpressions = "mongodb/docs-app-services source/rules/expressions.txt"
	srcRoles       = "mongodb/docs-app-services source/rules/roles.txt"
)

// missingRequest is what a request-phase expansion yields when its input or
// path is absent.
const missingRequest = "Missing (the zero value.Value, never null) when the input or the path is absent; a Missing value equals nothing, so a claim the caller lacks cannot match a document that lacks the field"

// Vocabulary returns the documented expansion roots, in the order of the
// expression reference. The slice is new on every call.
func Vocabulary() []Info {
	return []Info{
		{Root: RootUser, Name: "%%user", Phase: PhaseRequest,
			Fields:  []string{"id", "type", "data", "custom_data", "identities"},
			Meaning: "the user that made the request: id (string), type (\"normal\" or \"server\"), data (metadata from the identity providers), custom_data (the user's custom data document), identities (linked identities)",
			Missing: missingRequest,
			Source:  srcExpressions + " (User Expansions); source/authentication/user-objects.txt"},
		{Root: RootRoot, Name: "%%root", Phase: PhaseDocument,
			Meaning: "the document being read, or the document as it would be after a write",
			Missing: "a missing field follows MongoDB query semantics: {f: null} and {f: {$exists: false}} match it",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootPrevRoot, Name: "%%prevRoot", Phase: PhaseDocument,
			Meaning: "the document before a write; missing on reads and inserts",
			Missing: "as %%root; the whole %%prevRoot is Missing on inserts and reads",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootThis, Name: "%%this", Phase: PhaseDocument,
			Meaning: "the value of the field that a field-level rule is evaluated on, after the write",
			Missing: "Missing when the field is absent",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootPrev, Name: "%%prev", Phase: PhaseDocument,
			Meaning: "the value of the field that a field-level rule is evaluated on, before the write (MongoDB rules only)",
			Missing: "Missing when the field was absent, and on inserts",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootRequest, Name: "%%request", Phase: PhaseRequest,
			Fields:  []string{"httpMethod", "httpReferrer", "httpUserAgent", "rawQueryString", "remoteIPAddress", "requestHeaders", "service", "action", "webhookUrl"},
			Meaning: "the incoming request: HTTP method, referrer, user agent, raw query string, remote IP, headers, and the service and action being called",
			Missing: missingRequest,
			Source:  srcExpressions + " (Request Expansions)"},
		{Root: RootValues, Name: "%%values", Phase: PhaseRequest,
			Meaning: "the app's static values, by name: %%values.<name>",
			Missing: missingRequest,
			Source:  srcExpressions + " (Value Expansions)"},
		{Root: RootEnvironment, Name: "%%environment", Phase: PhaseRequest,
			Fields:  []string{"tag", "values"},
			Meaning: "the app's environment: tag (its name) and values (environment values)",
			Missing: missingRequest,
			Source:  srcExpressions + " (Environment Expansions)"},
		{Root: RootPartition, Name: "%%partition", Phase: PhaseRequest, Leaf: true,
			Meaning: "the partition key value of the Device Sync (partition-based) request",
			Missing: "Missing outside partition-based sync (Inputs.Partition nil)",
			Source:  srcExpressions + " (Service Expansions: Partition-Based Sync only)"},
		{Root: RootArgs, Name: "%%args", Phase: PhaseRequest,
			Meaning: "the arguments of a service action, by name (service rules)",
			Missing: missingRequest,
			Source:  srcExpressions + " (Service Expansions: third-party service rules)"},
		{Root: RootTrue, Name: "%%true", Phase: PhaseConstant, Leaf: true,
			Meaning: "the boolean true",
			Missing: "never missing",
			Source:  srcExpressions + " (Logical Expansions)"},
		{Root: RootFalse, Name: "%%false", Phase: PhaseConstant, Leaf: true,
			Meaning: "the boolean false",
			Missing: "never missing",
			Source:  srcExpressions + " (Logical Expansions)"},
	}
}
