// Package value implements MongoDB value semantics for rule evaluation:
// the BSON comparison order, equality, canonical keys and sets, dotted
// paths with MongoDB's array traversal, and the query operators $eq, $ne,
// $in, $nin, $exists, $gt, $gte, $lt, $lte, $all, $size, $type (its
// alias table included), $mod and $regex (the syntax PCRE and RE2 read
// alike). It is the one home of these
// semantics and the evaluator's hot path: a document is a Value
// (FromDocument, no copy), and comparisons, field lookups and matches do
// not allocate.
//
// # Vocabulary
//
//	| term             | meaning                                                                 |
//	|------------------|-------------------------------------------------------------------------|
//	| Value            | one BSON value: a type byte and the element encoding of the value       |
//	| Missing          | the zero Value: no value at all (a field that is absent); not null      |
//	| null             | the BSON null value; {p: null} matches null and Missing                 |
//	| document Value   | an embedded-document Value over a bson.Raw (FromDocument); Field looks  |
//	|                  | up a top-level field in place, aliasing the bytes                       |
//	| comparison order | MinKey < Undefined < Null < Numbers < String/Symbol < Object < Array <  |
//	|                  | BinData < ObjectId < Boolean < Date < Timestamp < Regex < DBPointer <   |
//	|                  | JavaScript < JavaScript with scope < MaxKey (Compare)                   |
//	| type class       | one step of that order; all numbers are one class                       |
//	| Equal            | Compare == 0 for values that are not Missing; Missing equals nothing    |
//	| Key              | bytes that are equal exactly when the values are Equal                  |
//	| Set              | values by Key, for $in/$nin; Has does not allocate for short keys       |
//	| Path             | a dotted field path split in components: ParsePath("a.b.0.c")           |
//	| ArrayIndex       | the one parser of a component as an array index ("0", "12"; not "01")   |
//	| empty path       | the value itself: every path is taken from a value at the empty path, a |
//	|                  | document for {p: ...}, a plain value (an expansion) with the empty path |
//	| candidate        | a value the query engine considers for a path (Each)                    |
//	| whole candidate  | a candidate of the array operators: a leaf array is not expanded        |
//	|                  | (EachWhole)                                                             |
//	| Resolve          | the plain value at a path, no array traversal (traces, operands)        |
//	| DistinctValues   | the values the server's distinct takes at a path: arrays on the way     |
//	|                  | traversed, an array at the end gives its elements                       |
//	| MatchEq, MatchIn | {p: x} and {p: {$in: s}}; their negations are $ne and $nin              |
//	| MatchExists      | {p: {$exists: want}}                                                    |
//	| MatchCmp, CmpOp  | {p: {op: x}} for op $gt, $gte, $lt, $lte; Flip swaps the sides          |
//	| MatchAll         | {p: {$all: xs}}: each element of xs as {p: element}; [] matches none    |
//	| MatchSize        | {p: {$size: n}} over whole candidates                                   |
//	| SizeOK           | the operand of $size as the server reads it: a whole number, 0 to 2^31-1 |
//	| Types, TypesOK   | the BSON types a $type operand names (aliases, numbers, arrays of them) |
//	| TypeAlias        | the $type alias of a BSON type, the name messages give it               |
//	| MatchType        | {p: {$type: ts}}; a Missing candidate has no type                       |
//	| MatchMod, ModOK  | {p: {$mod: [d, r]}}: numbers truncated toward zero; ModOK reads [d, r]  |
//	| CompileRegex, Pattern | a $regex pattern and options, when PCRE and Go's RE2 read them alike |
//	| MatchRegex       | {p: {$regex: r}}: string candidates; a stored regex compares whole    |
//	| StringToUUID     | %stringToUuid: the 8-4-4-4-12 hex string to a UUID (binary subtype 4)   |
//	| UUIDToString     | %uuidToString: a UUID to its lowercase string                           |
//	| type bracketing  | $gt/$gte/$lt/$lte compare only candidates of the operand's type class   |
//	| CheckOperand     | why an operand is not compared as a value (Refusal): regex, operator,   |
//	|                  | undefined; HasRegex for regexes only                                    |
//
// # Semantics
//
// Numbers compare by value across int32, int64, double and decimal128:
// int64 against double is exact (2^63-1 is not equal to the double 2^63),
// a double against a decimal128 is compared after rounding the double to
// 34 significant digits (so the double 0.1 is not the decimal 0.1). NaN
// equals NaN and sorts below every other number; -0 equals 0. Strings
// compare by bytes, the simple binary collation; collations are not
// supported. An ObjectId never equals its hex string.
//
// Paths are taken from a value at the empty path, reached by a field
// name: a document, for {p: ...} over it, or a plain value, such as an
// expansion on the left of a rule, with the empty path, whose candidates
// are the value and, for an array, its elements. So
// MatchEq(FromDocument(doc), ParsePath("roles"), x) is {"roles": x} over
// doc, and MatchEq(roles, nil, x) is {"%%user.custom_data.roles": x}.
//
// Matching follows MongoDB 8.0: {p: null} matches null and Missing but not
// undefined. An array at the end of a path matches when the whole array or
// any element does; arrays inside a path are traversed one level, looking
// into their document elements. A numeric component "N" after an array
// means both the element N and the field "N" of each document element
// (Missing for one that lacks it); an element reached by its index is
// never expanded, so {"a.0": 5} does not match {a: [[5]]} and
// {"i.1": 5} does not match {i: [[6, 5], [6, 5]]}. These are the
// candidates of the server's path iterator (mongodb/mongo
// src/mongo/db/matcher/path.cpp, BSONElementIterator), checked against
// its tests (path_test.cpp, expression_leaf_test.cpp); see Each.
//
// Regular expressions are compared as values (pattern, then options), as
// the server compares them in an order or when they are stored in
// documents. But the server reads a regex operand of an equality, or a
// regex among the elements of $in or $nin, as a pattern: {"f": /o/}
// matches the string "foo" and {"f": {"$nin": [/o/]}} excludes it (deeper
// inside an operand, in an embedded document or a nested array, a regex
// is compared as a value by the server too). This
// package does not implement PCRE patterns (Go's regexp differs from PCRE
// in syntax, anchors such as $ before a final newline, \s, case folding
// and options), so it does not pretend to: HasRegex reports such operands
// and its callers refuse them, rules.LoadApp for literals (code
// rules/regex) and the evaluator for claims, functions and stored values
// (evaluator.ErrRegex, a denial). Refusing is the fail-closed choice: a
// rule with a regex operand cannot be decided the way the server would
// decide its filter.
//
// CheckOperand extends HasRegex to every operand the server does not
// compare as a value: a document whose first field name starts with "$"
// and that is not a DBRef ($ref and $id), as the operand or an element of
// an array operand (the server refuses it in $in and $nin, "cannot nest $
// under $in", and reads it as operators in place of a field's value), and
// undefined anywhere in the operand (the server refuses comparisons to
// undefined). Its callers refuse all three (evaluator.ErrRegex,
// ErrOperator, ErrUndefined).
//
// # References
//
// The MongoDB manual pages this package follows:
//
//   - Comparison/Sort Order: https://www.mongodb.com/docs/manual/reference/bson-type-comparison-order/
//   - Query on Embedded/Nested Documents and Query an Array:
//     https://www.mongodb.com/docs/manual/tutorial/query-arrays/
//   - Query for Null or Missing Fields: https://www.mongodb.com/docs/manual/tutorial/query-for-null-fields/
//   - Migrate Undefined Data and Queries (8.0 null/undefined change):
//     https://www.mongodb.com/docs/manual/reference/bson-types/migrate-undefined/
//   - $eq, $in, $exists, $gt and the other comparison operators:
//     https://www.mongodb.com/docs/manual/reference/operator/query-comparison/
//   - $all and $size: https://www.mongodb.com/docs/manual/reference/operator/query/all/,
//     .../query/size/; jstests/core/query/all*.js and size*.js (mongodb/mongo)
//   - Type bracketing: https://www.mongodb.com/docs/manual/reference/method/db.collection.find/#type-bracketing
//   - Dot notation: https://www.mongodb.com/docs/manual/core/document/#dot-notation
//   - The server's path iterator and its tests (repository mongodb/mongo):
//     src/mongo/db/matcher/path.cpp, path_test.cpp, expression_leaf_test.cpp
package value
