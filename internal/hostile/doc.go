// Package hostile holds no code: its tests run the hostile-input corpus under
// testdata/hostile/ (malformed and adversarial rules, requests, client
// queries and documents) and generated attacks (deep nesting, huge arrays,
// forged and oversized tokens) through every entry point that takes outside
// input, and check that each gets a clear error or a denial: never a panic,
// never access.
//
// # Corpus format
//
// Each testdata/hostile/*.txtar case starts with a "#" line saying what it
// proves and holds some of these files:
//
//	| file         | meaning                                                                  |
//	|--------------|--------------------------------------------------------------------------|
//	| rules.json   | data_sources/mongodb-atlas/app/items/rules.json of a one-collection app  |
//	| request.json | {"user", "namespace", "action", "document", "prev_document"}, as `rulegate eval` reads |
//	| query.json   | a client query (extended JSON)                                           |
//	| want         | "error <code>", "denied", or "literal <string>"                          |
//
// "error <code>": loading the rules, or validating the client query, fails
// with a diagnostic of that code. "denied": the rules load, and Evaluate and
// the read filter both deny the request's document. "literal <s>": the
// client query combined with the rule filter still holds s as a plain
// string (it was not expanded).
package hostile
