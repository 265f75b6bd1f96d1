// Package source is the leaf of rulegate: files and positions, RFC 6901
// JSON pointers, a JSON parser that keeps the place of every value, and
// diagnostics that say where, what and why.
//
// Every diagnostic rulegate reports is an *Error rendered as
//
//	rules.json:12:15: /roles/1/document_filters/read: $in expects an array (rules/type)
//
// file, line and column (1-based, columns in bytes), the JSON pointer of the
// value at fault, a message, and a stable code in parentheses. Codes are the
// contract: messages may be reworded, codes are not.
//
// # Vocabulary
//
//	| term       | meaning                                                                   |
//	|------------|---------------------------------------------------------------------------|
//	| File       | a name (slash-separated, relative to the app) and bytes; lazy line table  |
//	| Pos        | 1-based line and byte column; the zero Pos is "unknown"                   |
//	| Pointer    | an RFC 6901 JSON pointer, "/roles/0/fields/a~1b" ("~0" is ~, "~1" is /)   |
//	| Node       | one parsed JSON value with its offsets, pointer and ordered members       |
//	| Span       | a node's offsets and start position, by pointer (Index)                   |
//	| Error      | a diagnostic: File, Line, Col, Ptr, Code, Msg (and Severity)              |
//	| ErrorList  | diagnostics, sorted and de-duplicated by Sort; Err() is nil when empty    |
//
// # Codes
//
//	| code               | meaning                                           |
//	|--------------------|---------------------------------------------------|
//	| json/syntax        | the bytes are not JSON                            |
//	| json/duplicate-key | an object names the same key twice                |
//	| json/too-deep      | nesting deeper than MaxDepth                      |
package source
