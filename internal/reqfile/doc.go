// Package reqfile reads a request file: the JSON object that `rulegate
// eval` and `rulegate filter` read from standard input, and that the
// conformance, documentation and hostile corpora hold as request.json. It
// is the one parser of that format; each user says which keys and actions
// it accepts (Options), and gets positioned diagnostics with stable codes.
//
// # Vocabulary
//
//	| key           | meaning                                                          | code on a bad value |
//	|---------------|------------------------------------------------------------------|---------------------|
//	| user          | a user object {"id", "custom_data", ...} (expansion.NewUserObject) | request/user, request/type |
//	| token         | an access token, verified by Options.Token (only when it is set) | request/token, request/type |
//	| namespace     | "<database>.<collection>"; Options.Namespace when absent          | request/namespace   |
//	| action        | one of Options.Actions                                           | request/action      |
//	| request       | %%request, a JSON object                                         | request/type        |
//	| values        | %%values, a JSON object                                          | request/type        |
//	| environment   | %%environment, a JSON object                                     | request/type        |
//	| document      | %%root, extended JSON (Options.Keys)                             | request/type, request/extended-json |
//	| prev_document | %%prevRoot, extended JSON (Options.Keys)                         | request/type, request/extended-json |
//	| update        | the update of a write, extended JSON (Options.Keys)              | request/type, request/extended-json |
//	| query         | the client's query of `rulegate filter`; of a write in `rulegate | request/type, request/extended-json |
//	|               | eval`, the filter that selected prev_document (Doc.Query: the    |                     |
//	|               | positional $ of the update) (Options.Keys)                       |                     |
//	| array_filters | a write's arrayFilters, an array of documents (Doc.ArrayFilters: | request/type, request/extended-json |
//	|               | $[<identifier>]) (Options.Keys)                                  |                     |
//	| partition     | %%partition, any JSON value (Options.Keys)                       |                     |
//	| args          | %%args, a JSON object (Options.Keys)                             | request/type        |
//
// Any other key is request/unknown-key. The user is given as "user" or
// "token", never both (request/user). The expansions are those of the App
// Services rule expressions page
// (https://www.mongodb.com/docs/atlas/app-services/rules/expressions/);
// extended JSON is MongoDB's canonical or relaxed form
// (https://www.mongodb.com/docs/manual/reference/mongodb-extended-json/).
package reqfile
