// Package schema compiles and enforces the BSON schema of a collection:
// data_sources/<service>/<db>/<coll>/schema.json in the current export
// layout (rules.DataSource.Schemas), or the inline "schema" of an old
// services/<service>/rules/<db>.<coll>.json file. Compile turns the parsed
// JSON into a Schema once, with positioned diagnostics and stable codes;
// Schema.Validate checks a document (the document an insert writes, or the
// document after an update or replacement) and names the first offending
// value by JSON pointer; the "validate" expressions of a schema
// (Schema.Expressions) are rule expressions, decided by the evaluator,
// which denies a rules-allowed write that breaks the schema with the
// reason "schema". Check compiles every schema of an app for rulegate
// check.
//
// The semantics follow mongodb/docs-app-services:
//
//   - source/schemas/enforce-a-schema.txt: one schema per collection,
//     whose root is an object schema; "validate" expressions over %%prev,
//     %%prevRoot (the value before the write), %%this and %%root (after);
//     null is a type of its own ("Validate Null Types");
//   - source/schemas/types.txt: the keywords of every type (bsonType, type,
//     enum, title, description; items, additionalItems, minItems,
//     maxItems, uniqueItems; required, properties, additionalProperties,
//     minProperties, maxProperties; minLength, maxLength; minimum,
//     maximum, exclusiveMinimum, exclusiveMaximum) and the BSON type names;
//
// and, for what those pages leave to MongoDB, the $jsonSchema reference
// (manual: reference/operator/query/jsonSchema, reference/bson-types):
// "number" is int, long, double or decimal; a keyword about one type
// (properties, items, minLength, minimum) lets values of other types pass,
// bsonType restricts the type; enum compares by BSON equality (package
// value: 1 equals 1.0); required fails on a missing field, not on null.
//
// # Vocabulary
//
//	| term            | meaning                                                                  |
//	|-----------------|--------------------------------------------------------------------------|
//	| Schema          | a compiled schema; immutable, safe for concurrent use                    |
//	| schema document | a JSON object of keywords describing one value (the root: the document)  |
//	| bsonType        | a BSON type name or a list of them: double string object array binData   |
//	|                 | undefined objectId bool date null regex dbPointer javascript symbol      |
//	|                 | javascriptWithScope int timestamp long decimal minKey maxKey, and number |
//	|                 | (any numeric type), uuid (binData subtype 4), mixed (any value)          |
//	| type            | a JSON type name or list: object array number boolean string null        |
//	| Expression      | a "validate" expression and the field path its %%this and %%prev name    |
//	| ValidationError | where a document breaks the schema: document pointer, keyword, reason   |
//
// # Codes
//
//	| code                | severity | when                                                          |
//	|---------------------|----------|---------------------------------------------------------------|
//	| schema/type         | error    | a keyword's value has the wrong JSON type, an unknown type    |
//	|                     |          | name ("integer"), bsonType together with type                 |
//	| schema/root         | error    | the root schema's type excludes object                        |
//	| schema/unsupported  | warning  | a keyword rulegate does not enforce (below)                   |
//	| schema/unknown-key  | warning  | a key that is no keyword: it constrains nothing               |
//	| schema/spelling     | warning  | bsonType "boolean", read as "bool"                            |
//
// A "validate" expression is parsed by package rules and reports its
// codes (rules/...).
//
// # Choices where the pages are silent
//
// Not enforced, reported as schema/unsupported so that check says so:
// pattern (MongoDB matches PCRE, which rulegate does not implement; see
// rules/regex), patternProperties, dependencies, multipleOf, allOf, anyOf,
// oneOf and not. A schema holding one refuses every write to its
// collection (fail closed): left unchecked, {"not": {"enum": ["admin"]}}
// would let a user write "admin". No real export in the corpus uses them.
//
// A "validate" expression under items or additionalProperties has no
// fixed field for %%this and %%prev: it is reported as schema/unsupported
// and Validate refuses every document of the collection (fail closed),
// because such expressions guard who may change a value.
//
// bsonType "boolean" is not a BSON type name, but real exports write it
// and App Services deployed them; it is read as "bool" with a
// schema/spelling warning.
//
// Null: App Services rejects null in a field whose schema does not list
// the null type unless the app enables "Null Type Schema Validation"
// (enforce-a-schema.txt). rulegate implements the default: null is only
// a "null" (or "mixed") value.
//
// Hidden fields: App Services validates the whole document a write
// produces. rulegate's evaluator does not let the outcome depend on a
// value the caller cannot read (a validate expression comparing with a
// hidden field would let a caller binary-search it): it hands Validate
// and the validate expressions the documents redacted to the fields the
// caller can read (evaluator/doc.go, Schemas). A required field the caller
// cannot read then always fails; a hidden field's own constraints are not
// checked (the caller cannot change it). This package validates the
// document it is given.
package schema
