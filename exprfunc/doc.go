// Package exprfunc runs the functions an app's rules call with %function,
// written as functions/<name>.expr files in the expr language
// (github.com/expr-lang/expr). Load compiles them once into a Functions,
// the evaluator.FunctionSet that evaluator.WithFunctions installs:
//
//	fns, err := exprfunc.Load(app, exprfunc.Limits{})
//	...
//	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fns))
//
// The package is apart from the evaluator so that programs that do not run
// function files do not link the expr VM.
//
// It follows these pages:
//
//   - mongodb/docs-app-services source/rules/expressions.txt, "Call a
//     Function": %function calls a named function with evaluated arguments
//     and compares its result. App Services functions are JavaScript;
//     rulegate runs expr instead: no I/O, no globals, a node limit at
//     compile time, a memory and a step budget at run time.
//   - expr-lang/expr docs/language-definition.md: the language a function
//     is written in, its operators, predicates and builtins;
//     docs/environment.md: a struct as the declared environment (the
//     variables below); docs/patch.md: the patch that counts loop steps.
//
// # Vocabulary
//
//	| term          | meaning                                                                   |
//	|---------------|---------------------------------------------------------------------------|
//	| function file | functions/<name>.expr of an exported app (rules.App.Functions)            |
//	| Functions     | the compiled function files of an app; immutable, safe for concurrent use |
//	| Limits        | MaxNodes (syntax tree), MemoryBudget and MaxSteps (one call)              |
//	| arguments     | the evaluated %function arguments, as Go values                           |
//	| step          | one evaluation of a closure body (a predicate of all, map, filter, ...)   |
//
// # Variables
//
// A function sees these variables, and nothing else:
//
//	| name        | type             | value                                                        |
//	|-------------|------------------|--------------------------------------------------------------|
//	| arguments   | []any            | the evaluated %function arguments                            |
//	| user        | map[string]any   | the caller: id, type, data, custom_data, identities (%%user) |
//	| values      | map[string]any   | the app's values (%%values)                                  |
//	| request     | map[string]any   | the request fields (%%request)                               |
//	| environment | map[string]any   | tag and values (%%environment)                               |
//	| namespace   | string           | "db.coll" of the request                                     |
//
// A missing input leaves its map nil (absent keys read as nil; use ?. to
// follow paths that may be missing). An input reads as the %% expansion
// of the same path does (a repeated JSON key: the first). Functions do not
// see %%root or %%prevRoot: pass them as arguments ({"%function": {"name":
// "f", "arguments": ["%%root.owner"]}}).
//
// BSON values become Go values as follows: documents map[string]any,
// arrays []any, int32 and int64 int, doubles float64, strings string,
// booleans bool, null and Missing nil, dates time.Time (UTC), ObjectIds
// bson.ObjectID (compare with ==, or call .Hex()), decimals bson.Decimal128
// and any other type the driver's Go type. Results go back through
// value.FromGo, maps with their keys sorted so results are deterministic;
// a result that has no BSON form is an error (function/result).
//
// Every expr builtin is available (none does I/O; now() reads the clock).
// A call is bounded by Limits: MemoryBudget bounds what it builds, and
// MaxSteps bounds its loops (every closure body is counted, and the
// context is checked every 1024 steps). Without loops, a call's work is
// bounded by the size of its syntax tree (MaxNodes) and of its inputs.
//
// # Codes
//
//	| code              | when                                                                 |
//	|-------------------|----------------------------------------------------------------------|
//	| function/compile  | a function file does not compile (Load), at its file:line:col        |
//	| function/unknown  | Call names no function of the set                                    |
//	| function/runtime  | a function failed while running, at the failing node's file:line:col |
//	| function/budget   | a call exceeded its memory budget or its steps                       |
//	| function/argument | an argument or input cannot be given to a function                   |
//	| function/result   | a result has no BSON form                                            |
//	| function/canceled | the context was done before or during the call                       |
//
// Call's errors wrap evaluator.ErrFunctionCall and carry the
// *source.Error with the code; the evaluator denies with ReasonError on
// any of them.
package exprfunc
