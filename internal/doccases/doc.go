// Package doccases checks rulegate against the App Services documentation,
// example by example. It holds tests only: every case under testdata/ is a
// txtar archive that encodes one behaviour or example of the documentation
// source (repository mongodb/docs-app-services), cited on its first "#"
// line, with the decision the documentation implies.
//
// The cases are written from the documentation, never from rulegate's
// output: where rulegate disagrees, the case keeps the documentation's
// answer and carries a "known-divergence" file that explains the
// difference; the runner (internal/casetest) then skips it (go test -run
// TestDocCases -divergences runs those cases strictly and shows the
// failures).
//
// # Vocabulary
//
//	| term               | meaning                                                                        |
//	|--------------------|--------------------------------------------------------------------------------|
//	| case               | testdata/<name>.txtar: one documented behaviour                                |
//	| rules.json         | a collection's rules; placed at data_sources/mongodb-atlas/<db>/<coll>/        |
//	|                    | from its "database"/"collection" keys (default db/coll)                        |
//	| default_rule.json  | data_sources/mongodb-atlas/default_rule.json                                   |
//	| app files          | files named data_sources/..., auth/..., functions/... are used as they are     |
//	| request.json       | the CLI's eval request: user, namespace, action, document, prev_document,      |
//	|                    | update, request, values, environment                                           |
//	| want.json          | {"allowed", "role" (null: none), "reason"?, "fields"?: {"read"?, "write"?}}   |
//	|                    | only the keys given are compared                                               |
//	| want-error.txt     | the codes (one a line) that rules.Validate must report; no evaluation then     |
//	| known-divergence   | why rulegate disagrees with the documentation; the case is skipped             |
//	| agreement          | on reads (ReadFilter) and deletes (WriteFilter) the filter must match the      |
//	|                    | document exactly when Evaluate allows it                                       |
//
// Documentation pages relied on (mongodb/docs-app-services):
// source/rules/expressions.txt, source/rules/roles.txt,
// source/rules/filters.txt, source/rules/examples.txt,
// source/mongodb/tables/role-configuration.rst,
// source/mongodb/tables/query-filter-params.rst,
// source/users/custom-metadata.txt.
package doccases
