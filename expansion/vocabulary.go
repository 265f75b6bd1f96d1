package expansion

const (
	srcExpressions = "mongodb/docs-app-services source/rules/expressions.txt"
	srcRoles       = "mongodb/docs-app-services source/rules/roles.txt"
)

// Vocabulary returns the documented expansion roots, in the order of the
// expression reference. The slice is new on every call.
func Vocabulary() []Info {
	return []Info{
		{Root: RootUser, Name: "%%user", Phase: PhaseRequest,
			Fields:  []string{"id", "type", "data", "custom_data", "identities"},
			Meaning: "the user that made the request: id (string), type (\"normal\" or \"server\"), data (metadata from the identity providers), custom_data (the user's custom data document), identities (linked identities)",
			Missing: "missing: every comparison with it is false, except {$exists: false}",
			Source:  srcExpressions + " (Users); source/users/user-objects"},
		{Root: RootRoot, Name: "%%root", Phase: PhaseDocument,
			Meaning: "the document being read, or the document as it would be after a write",
			Missing: "missing field: MongoDB semantics ({f: null} and $exists: false match it)",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootPrevRoot, Name: "%%prevRoot", Phase: PhaseDocument,
			Meaning: "the document before a write; missing on reads and inserts",
			Missing: "missing: as %%root; the whole %%prevRoot is missing on inserts",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootThis, Name: "%%this", Phase: PhaseDocument,
			Meaning: "the value of the field that a field-level rule is evaluated on, after the write",
			Missing: "missing when the field is absent",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootPrev, Name: "%%prev", Phase: PhaseDocument,
			Meaning: "the value of the field that a field-level rule is evaluated on, before the write (MongoDB rules only)",
			Missing: "missing when the field was absent or on inserts",
			Source:  srcExpressions + " (MongoDB Document Expansions)"},
		{Root: RootRequest, Name: "%%request", Phase: PhaseRequest,
			Fields:  []string{"httpMethod", "httpReferrer", "httpUserAgent", "rawQueryString", "remoteIPAddress", "requestHeaders", "service", "action", "webhookUrl"},
			Meaning: "the incoming request: HTTP method, referrer, user agent, raw query string, remote IP, headers, and the service and action being called",
			Missing: "missing: every comparison with it is false, except {$exists: false}",
			Source:  srcExpressions + " (Request)"},
		{Root: RootValues, Name: "%%values", Phase: PhaseRequest,
			Meaning: "the app's static values, by name: %%values.<name>",
			Missing: "missing: every comparison with it is false, except {$exists: false}",
			Source:  srcExpressions + " (Values and Environment)"},
		{Root: RootEnvironment, Name: "%%environment", Phase: PhaseRequest,
			Fields:  []string{"tag", "values"},
			Meaning: "the app's environment: tag (its name) and values (environment values)",
			Missing: "missing: every comparison with it is false, except {$exists: false}",
			Source:  srcExpressions + " (Values and Environment)"},
		{Root: RootPartition, Name: "%%partition", Phase: PhaseRequest, Leaf: true,
			Meaning: "the partition key value of the Device Sync (partition-based) request",
			Missing: "missing outside partition-based sync",
			Source:  srcExpressions + " (Device Sync)"},
		{Root: RootArgs, Name: "%%args", Phase: PhaseRequest,
			Meaning: "the arguments of a service action, by name (service rules)",
			Missing: "missing: every comparison with it is false, except {$exists: false}",
			Source:  srcExpressions + " (Service Rules)"},
		{Root: RootTrue, Name: "%%true", Phase: PhaseConstant, Leaf: true,
			Meaning: "the boolean true",
			Source:  srcExpressions + " (Logical Expansions)"},
		{Root: RootFalse, Name: "%%false", Phase: PhaseConstant, Leaf: true,
			Meaning: "the boolean false",
			Source:  srcExpressions + " (Logical Expansions)"},
	}
}
