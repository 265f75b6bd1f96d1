// Package mql is the MongoDB query and update language as rulegate needs
// it: it validates the queries, documents and updates clients send,
// combines filters, matches a filter against a document in memory, tells
// the field paths an update or a replacement touches, computes the
// document after an update, and runs aggregation pipelines in memory over
// the documents a caller may read. Errors carry stable codes and RFC 6901
// pointers into the query or update (*source.Error), and wrap a sentinel
// for errors.Is. Values compare with the value package's MongoDB
// semantics; rules, roles and expansions are the evaluator's business:
// nothing here expands "%%user.id" or any other string.
//
// It follows
//
//   - App Services, mongodb/docs-app-services
//     source/mongodb/crud-and-aggregation-apis.txt: the query operators
//     ("Query Operators") and update operators ("Field Update Operator
//     Availability", "Array Update Operator Availability", "Bitwise Update
//     Operator Availability") application users may run, the others being
//     for system functions only;
//   - the MongoDB manual: query and projection operators
//     (https://www.mongodb.com/docs/manual/reference/operator/query/, $type
//     aliases at .../query/type/), update operators
//     (https://www.mongodb.com/docs/manual/reference/operator/update/;
//     positional paths at .../update/positional/, .../positional-all/ and
//     .../positional-filtered/),
//     dot notation for embedded fields and array indexes
//     (https://www.mongodb.com/docs/manual/core/document/#dot-notation);
//   - the MongoDB manual's aggregation reference for the in-memory
//     pipelines (CompilePipeline): the stages
//     (https://www.mongodb.com/docs/manual/reference/operator/aggregation-pipeline/
//     and each stage's page under .../reference/operator/aggregation/:
//     $match, $project, $addFields, $set, $unset, $replaceRoot,
//     $replaceWith, $sort with its "ascending/descending sort of arrays",
//     $skip, $limit, $count, $sortByCount, $sample, $unwind, $group,
//     $bucket, $bucketAuto, $lookup, $unionWith), App Services' stage
//     availability (source/mongodb/crud-and-aggregation-apis.txt,
//     "Aggregation Pipeline Stage Availability"), and the server's
//     pipeline/ sources where the manual is silent:
//     document_source_bucket_auto.cpp (how buckets are filled),
//     document_source_lookup.cpp (makeMatchStageFromInput: the equality
//     of localField and foreignField), document_source_unwind.cpp, the
//     projection executors (inclusion, exclusion and computed fields
//     through arrays), the sort key of an empty array (undefined);
//   - the server where the manual is silent (mongodb/mongo, src/mongo/db):
//     matcher/expression_parser.cpp (operator documents, $exists' operand),
//     matcher/expression_tree.cpp (which conditions record the element
//     the positional $ stands for),
//     update/ (the order fields are updated in,
//     pathsupport::cmpPathsAndArrayIndexes; conflicting paths; _id is
//     immutable), and BSON nesting (100 levels).
//
// # Vocabulary
//
//	| identifier           | meaning                                                                        |
//	|----------------------|--------------------------------------------------------------------------------|
//	| ValidateQuery        | check a client query filter: allowed operators, operand shapes, no $ literals  |
//	| ValidateDocument     | check a client document to insert or a replacement: no $ or dotted names, _id  |
//	| ValidateUpdate       | check the values an update writes as ValidateDocument checks a document        |
//	| MaxDepth             | the nesting bound of client queries and documents (100, the server's)          |
//	| And                  | {"$and": [f1, f2, ...]} without the empty filters; never merged key by key     |
//	| NeverMatch           | {"_id": {"$in": []}}: the filter that matches nothing                          |
//	| Match                | does a document match a filter, in memory, as the server says (or an error)    |
//	| UpdateInfo           | the paths, operators and positional use of an update (TopLevel: first fields)  |
//	| UpdatePaths          | UpdateInfo of an update, numeric components read both ways                     |
//	| UpdatePathsIn        | UpdateInfo of an update of a stored document, numeric components decided on it |
//	| WritePaths           | the paths an update writes, for a filter built before any document is read     |
//	| WritePath            | one of them: readings, ArrayAt for one index-or-field component, Replacement   |
//	| ReplacementPaths     | the top-level fields a replacement writes or removes                           |
//	| IsReplacement        | whether an update is a replacement document (no top-level $ key)               |
//	| MarshalUpdate        | an update given as a Go value (bson.D, bson.M, struct...) as BSON; no pipeline |
//	| ApplyUpdate          | the document after an update (or replacement): %%root of a write               |
//	| ApplyUpdateWith      | ApplyUpdate with ApplyOptions: upsert insert ($setOnInsert), the clock, the    |
//	|                      | query ($) and arrayFilters ($[<identifier>]) of positional paths               |
//	| ResolveUpdate        | the update with its positional paths as the array indexes they stand for in    |
//	|                      | the stored document: what a server is sent, whatever query it runs             |
//	| Paths                | a set of dotted field paths (NewPaths): a projection, or the readable fields   |
//	| Paths.Keep/Drop      | a document with only / without the set's fields (inclusion / exclusion)        |
//	| Paths.Redact         | Keep that leaves out an embedded document or array it keeps nothing of         |
//	| Paths.Covers, Top    | is a whole path in the set; the top-level fields the set holds, in order       |
//	| Projection           | a find projection of field paths (ParseProjection): Apply keeps or removes     |
//	|                      | them, _id kept unless excluded; operators and mixed forms refused              |
//	| QueryPaths, ExprPaths| the field paths a query (or an aggregation expression) reads; AllFields for    |
//	|                      | what cannot be seen through ($where, $text, $$ROOT)                            |
//	| ErrProjection        | wrapped by ParseProjection's errors                                            |
//	| ErrInvalidQuery      | wrapped by ValidateQuery's errors (and Match's for a malformed filter)         |
//	| ErrInvalidDocument   | wrapped by ValidateDocument's and ValidateUpdate's errors                      |
//	| ErrInvalidUpdate     | wrapped by errors for updates the server rejects too, or rulegate refuses      |
//	| ErrUnsupportedUpdate | a valid update whose result ApplyUpdate cannot compute exactly                 |
//	| ErrUnsupportedFilter | a filter Match cannot decide exactly                                           |
//	| CodeQuery*           | query/malformed, forbidden-operator, unknown-operator, operand, dollar-field,  |
//	|                      | depth                                                                          |
//	| CodeDocument*        | document/malformed, dollar-field, dotted-field, depth, id                      |
//	| CodeUpdate*          | update/malformed, pipeline, mixed, unknown-operator, operand, path, conflict,  |
//	|                      | immutable-field, not-viable, type, overflow, unsupported, array-filter         |
//	| CompilePipeline      | compile an aggregation pipeline to run in memory: $match, $project,            |
//	|                      | $addFields/$set, $unset, $replaceRoot, $replaceWith, $sort, $skip, $limit,     |
//	|                      | $count, $sortByCount, $sample, $unwind, $group, $bucket, $bucketAuto,          |
//	|                      | $lookup, $unionWith; any other stage refused                                   |
//	| Pipeline, Run        | the compiled pipeline (immutable, concurrent Runs); Run streams its output     |
//	| PipelineOptions      | Foreign (the other collections), MemoryLimit (per blocking stage, and per      |
//	|                      | document for the values the expressions build), Now                            |
//	| Foreign              | reads another collection of the database as the caller may, for $lookup and    |
//	|                      | $unionWith                                                                     |
//	| Docs, DocsOf,        | a stream of documents (Next, io.EOF at its end), a slice as one, read to its   |
//	| ReadAllDocs          | end                                                                            |
//	| DefaultMemoryLimit   | 100 MiB, the server's per-stage limit without allowDiskUse                     |
//	| ErrInvalidPipeline   | wrapped by CompilePipeline's errors for pipelines the server rejects too       |
//	| ErrUnsupported-      | ErrUnsupportedPipeline: wrapped by CompilePipeline's errors for a valid        |
//	| Pipeline             | pipeline (a stage, an operator, a foreign collection) the engine does not run  |
//	| ErrPipelineFailed    | wrapped by Run's errors: an expression failed, a stage held too much           |
//	| CodePipeline*        | pipeline/malformed, unknown-stage, unknown-operator, operand, variable,        |
//	|                      | foreign, memory, eval, depth                                                   |
//
// The codes are a contract: golden files and callers depend on them.
//
// # Aggregation expressions
//
// The in-memory pipelines evaluate the manual's aggregation expressions
// (https://www.mongodb.com/docs/manual/reference/operator/aggregation/,
// each operator's page) and $group's accumulators (.../aggregation/group/):
// field paths through arrays as the server's ExpressionFieldPath (a
// component is always a field name; "$items.price" over an array of
// documents is the array of the prices found), $$ROOT, $$CURRENT,
// $$REMOVE, $$NOW, user variables ($let, $filter, $map, $reduce, a
// $lookup's let), expression objects, and the boolean, comparison (the
// BSON order, no coercion), conditional, arithmetic, string, array, set,
// type, date and accumulator operators. An operand that is an array is
// the argument list, anything else the one argument (the server's
// ExpressionNary). What they cannot compute exactly is refused with
// pipeline/unknown-operator wrapping ErrUnsupportedPipeline, at compile
// time where the pipeline says so, else when a document needs it:
//
//   - operators not implemented ($sortArray by fields, $dateAdd, $dateDiff,
//     $dateTrunc, trigonometry, $bit*, ...; the message says
//     "not supported in memory"), and $function, $accumulator, $where
//     (JavaScript); $$CLUSTER_TIME (a timestamp the engine does not have);
//   - a timezone other than UTC, $dateFromString with a format (only
//     ISO-8601 strings are read);
//   - decimal128 arithmetic and conversion (no exact decimal arithmetic);
//     $round and $trunc of a double at a non-zero place (the server rounds
//     through a decimal conversion); the text of a double or a timestamp
//     ($toString, $convert to string, and the coercion to a string of $toLower,
//     $substr, $strcasecmp), whose formatting the server does not document.
//
// The values the expressions build for one document at one stage count
// against PipelineOptions.MemoryLimit, with a byte for each element a
// $map, $filter or $reduce visits; over it the stage fails with
// pipeline/memory (ErrPipelineFailed). The manual is silent on such a
// bound (the server limits $range and its documents); without one, a
// $reduce doubling a string would take the memory a blocking stage is
// denied, so the engine fails closed.
//
// Where the manual leaves an order unspecified the result is
// deterministic: $setUnion, $setIntersection and $setDifference return
// their elements in the BSON order, $addToSet in first-seen order. $sum
// and $avg sum doubles with compensation (the server uses a double-double
// sum), integers exactly until they leave the int64 range. $toLower,
// $toUpper and $strcasecmp are ASCII only, as the server's.
//
// # Fail-closed choices
//
// Where the documentation is silent, or the server's behaviour cannot be
// reproduced exactly, the package refuses rather than guesses:
//
//   - Client queries are data, never rules: they are not expanded, only
//     the operators App Services offers application users are accepted
//     ($expr, $where, $regex and regular expression values, $text,
//     geospatial and bitwise operators are query/forbidden-operator), and
//     a "$"-prefixed key inside a literal document is query/dollar-field,
//     so that nothing that looks like an operator reaches the server.
//     They are combined with rule filters by And only, so a client key can
//     never replace or weaken a rule key.
//   - Field names that start with "$" or hold a "." are refused in client
//     documents and in the values updates write, at any depth: MongoDB 5.0
//     stores them, but rules and queries name fields by dotted paths and
//     read such documents as operators ({"$maxKey": 1} read back as
//     relaxed extended JSON is a MaxKey).
//   - Update pipelines are refused (update/pipeline): a pipeline can
//     compute any field from any other, so field-level rules cannot be
//     checked.
//   - A numeric component of an update path ("a.2024.b", value.ArrayIndex:
//     canonical decimals only, "01" and "-1" are field names) is an array
//     index only where the stored document holds an array at that point
//     (UpdatePathsIn); elsewhere it is a field name. Without the stored
//     document (UpdatePaths) both readings are listed, so that a
//     permission check needs both; WritePaths tells a filter which reading
//     applies where for one such component. More than 16 readings of one
//     path refuse the update (update/unsupported). The first component is
//     always a field name.
//   - $setOnInsert's fields are listed among the paths an update touches
//     although they are written only when an upsert inserts: a permission
//     check on them is never weaker than needed. $rename touches its
//     source and its target.
//   - ApplyUpdate refuses (ErrUnsupportedUpdate) what it cannot compute
//     exactly: positional paths $ and $[<id>] without the query and
//     arrayFilters (ApplyUpdateWith takes them), $push with $sort, $pull
//     with a condition or a regular expression or from an array holding
//     arrays, decimal128 arithmetic, $currentDate as a timestamp.
//   - Positional paths are decided on the stored document (ResolveUpdate,
//     following the manual's pages on $, $[] and $[<identifier>] and the
//     server's matcher, matcher/expression_tree.cpp: $and records the
//     element an array condition matched, $or and $nor do not). The
//     element of $ is defined only for a query with one condition that
//     traverses an array of the document, of a kind that matches through
//     one element (a literal, $eq, $gt, $gte, $lt, $lte, $in, $exists:
//     true, $elemMatch); several such conditions (the manual: "ambiguous")
//     or any other kind refuse the update (update/unsupported), as do an
//     array holding arrays there and an array filter Match cannot decide.
//     The embedded test server (FerretDB 1.24) runs none of the three
//     positional forms and no arrayFilters: the tests compare the update
//     ResolveUpdate gives on it, and the update as written only under
//     MONGODB_URI.
//   - Aggregation pipelines run in memory (CompilePipeline) over the
//     documents they are given, with the manual's semantics; a stage or
//     option the engine cannot compute exactly is refused at compile
//     time (ErrUnsupportedPipeline): every stage but those listed above
//     ($facet, $graphLookup, $out, $merge, $geoNear, $redact,
//     $setWindowFields, $densify, $fill, $documents, ...; those App
//     Services keeps to system functions said so), $sort by {$meta},
//     $bucketAuto's granularity, a $lookup or $unionWith of another
//     database ({db, coll}) or without PipelineOptions.Foreign, $count
//     into _id, and in $match whatever Match refuses and $expr anywhere
//     but at its top level or in its top-level $and. Where the manual
//     leaves an order unspecified the engine is deterministic: $group
//     and $sortByCount's equal counts keep the first-seen group order,
//     $sort is stable. A $lookup localField value its filter would not
//     compare as a value (value.CheckOperand: a regular expression,
//     undefined) fails the aggregation. Each blocking stage ($group,
//     $sort, $bucket, $bucketAuto, $sample, $sortByCount, a $lookup's
//     joined array and a pipeline $lookup's copy of its collection)
//     counts the bytes it holds against PipelineOptions.MemoryLimit; a
//     $sort followed by $limit holds only the top k.
//   - Match implements the operators rulegate's filters are made of and
//     refuses everything else, as well as the operands value.CheckOperand
//     refuses (regular expressions, which the server reads as patterns;
//     operator documents; undefined). It checks the whole filter, so its
//     answer or error does not depend on which clause decides first.
package mql
