// Package jsfunc runs the JavaScript functions of an App Services export
// (functions/<name>.js, or functions/<name>/source.js in the older
// layout) as App Services ran them: compiled once with
// github.com/dop251/goja (pure Go, no cgo), each call in a fresh runtime
// that sees the App Services globals, reading its collections through a
// Data the caller binds.
//
//	fs, err := jsfunc.Load(app)                              // compile; syntax errors at file:line:col
//	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fs)) // %function runs them
//	g, err := gate.New(client, prog)                         // the gate needs the program ...
//	err = fs.Bind(data)                                      // ... and the functions need the gate
//	v, err := fs.Run(ctx, jsfunc.Call{Name: "sum", Args: args, FromClient: true})
//
// # Vocabulary
//
//	| term              | meaning                                                                                          |
//	|-------------------|--------------------------------------------------------------------------------------------------|
//	| Functions         | the export's functions, compiled; immutable but for one Bind; safe for concurrent use            |
//	| call              | one run of one function: a fresh goja runtime, its globals, a deadline, a watchdog               |
//	| direct call       | Run: a client's call, the user-creation function, a trigger, Go code                             |
//	| rule call         | Call: a %function of a rule expression (evaluator.FunctionSet)                                   |
//	| Data / Collection | what context.services.get(s).db(d).collection(c) reads and writes (data.go)                      |
//	| MongoData         | the Data over a gate (as a user) and its driver (as system) (mongo.go)                           |
//	| MemoryData        | the Data over fixture documents in memory, for tests without a database (memory.go)              |
//	| As                | whom a call runs as: the application user (rules apply) or the system user (run_as_system)       |
//	| depth             | how deeply calls nest: execute, or a rule of a collection a function reads calling a function    |
//	| box               | the JavaScript object of a BSON value JavaScript has no type for (BSON.ObjectId, BSON.Long, ...) |
//	| bridge            | the conversion between BSON (value.Value) and JavaScript values, both directions                 |
//	| watchdog          | the goroutine of a call that interrupts it at its deadline or past its memory limit              |
//
// # The pages it follows
//
// mongodb/docs-app-services:
//   - source/functions.txt: exports, user and system functions
//     ("References to context.user always resolve to the authenticated
//     user that called a function ... even if the function runs as a
//     system function"), the configuration (private, run_as_system,
//     can_evaluate over %%request and %%user, disable_arg_logs), calling
//     from functions, rules ("If the function throws an error, the
//     expression evaluates to false") and clients, and the Constraints:
//     300 seconds of runtime per request, 350MB of memory, 1000 async
//     operations.
//   - source/functions/context.txt: context.app, context.environment
//     (tag, values), context.functions.execute, context.http,
//     context.request, context.services.get, context.user,
//     context.runningAsSystem(), context.values.get.
//   - source/functions/globals.txt: utils.jwt, utils.crypto, JSON, EJSON
//     (parse, stringify), BSON (ObjectId, BSONRegExp, Binary with fromHex,
//     toHex, fromBase64, toBase64, text; MaxKey, MinKey, Int32, Long,
//     Double, Decimal128).
//   - source/functions/mongodb/api.txt: db, collection, find (a cursor:
//     next, toArray, skip, limit, sort), findOne, findOneAndUpdate,
//     findOneAndReplace, findOneAndDelete, insertOne ({insertedId}),
//     insertMany ({insertedIds}), updateOne and updateMany
//     ({matchedCount, modifiedCount, upsertedId}), deleteOne and
//     deleteMany ({deletedCount}), aggregate (a cursor), count, distinct,
//     bulkWrite; "You cannot return a cursor from a function".
//   - source/functions/dependencies.txt and javascript-support.txt:
//     external dependencies (node_modules) and Node.js built-in modules.
//   - snooty.toml: request-timeout-time = "300 seconds".
//
// # Calls
//
// Every call gets a fresh runtime: nothing a call does (a global it sets,
// a builtin it replaces, a prototype it changes) is seen by another call,
// whatever runs at once (TestNoLeakBetweenCalls, also under -race). A
// pool of reused runtimes would need every builtin restored between
// callers, which goja cannot do soundly; a fresh one costs a goja.New and
// the globals the function reads (built on first read). Measured on the
// shared 2-core machine of the project (go test -bench . -benchmem,
// load average under 1; numbers vary with its load): a bare goja.New is
// about 1 µs; an empty call (exports = function(x) { return x }) about
// 200 µs and 100 kB; a warm call doing one findOne on an in-memory Data
// about 370 µs and 145 kB; a cold call (Load, Bind, one call) about
// 420 µs; a %function rule decision calling that function about 360 µs,
// the warm call and the evaluator's few µs (the evaluator's path of a
// decision without functions is unchanged; only its trace says more). Most of a call's fixed cost is the bounded builtins
// (below), which materialize goja's lazily built String, Array and typed
// array builtins (removing the typed arrays alone is about 90 µs).
//
// A direct call (Run) runs as its function's configuration says: the
// system user with run_as_system, else Call.User. A call without a user
// is not made system by the runtime (As.System stays false): whether it
// may bypass the rules, as a trigger's may ("If a function executes
// without being called by an authenticated user, such as in a trigger or
// webhook, then dynamic references resolve to the system user"), is the
// Data's to decide, and a caller without claims stays under them (fail
// closed). A client's call (Call.FromClient) is refused for a private
// function (ErrPrivate). A function configured to run as a chosen user
// (run_as_user_id, run_as_user_id_script_source) without run_as_system is
// not run at all (ErrUnavailable): rulegate cannot become that user, and
// as the caller, or as system for a trigger, it would get access its
// configuration withholds.
// can_evaluate is decided first for every call, client's or not
// ("App Services evaluates the expression whenever the function is
// called"), with evaluator.CompileCondition over the call's inputs
// (%%user, %%request, %%values, %%environment): false is
// ErrCannotEvaluate, and so is an error (a %%request field a call without
// request does not carry is evaluator.ErrNotProvided: fail closed).
//
// A rule call (Call, the evaluator.FunctionSet) runs as the function's
// configuration says, with the request's user and inputs
// (evaluator.FuncEnv.Inputs); every error wraps evaluator.ErrFunctionCall.
// The failure of a function that ran (it threw, its promise was rejected
// or never settled, it timed out, it crossed a limit, its result has no
// BSON form) also wraps evaluator.ErrFunctionThrew: the expression that
// calls it evaluates to false, as source/functions.txt says, and the
// evaluator's trace shows the error (a thrown Error's message and
// position). A function that could not run at all (not found, not bound,
// a chosen user) denies the decision with its error (fail closed).
//
// context.functions.execute(name, ...args) runs the function name with
// its own configuration, as the caller's user; a private function may be
// called (private only refuses clients). "If the function was called
// from another function then it inherits the execution user from that
// function": a function called from a system function runs as system. It
// returns the function's value, or a promise of it when the function
// returned a promise. It runs in a runtime of its own (its arguments and
// result cross as BSON): two functions' top-level declarations never
// clash.
//
// # Globals
//
//   - exports = function(...), exports = async function(...), or
//     module.exports = ...: the function called. Its value may be a
//     promise: the runtime's job queue runs when the function returns, so a
//     promise still pending after it has nothing left to wait on
//     (ErrNeverSettled). Database calls are made synchronously and their
//     promises are settled before the method returns.
//   - context.user: the user object (id, type, data, custom_data,
//     identities) of Call.User. Without one, the system user, which "has
//     no id or other associated data": {type: "system"} when the call runs
//     as system, else {} (a function's own test of type === "system"
//     grants nothing the call does not have).
//   - context.values.get(name): the app's value (rules.App.Inputs gives
//     a call without inputs the export's values), undefined for no such
//     value. A value that exposes a secret, which an export does not hold,
//     is ErrUnavailable unless the call's inputs carry it (fail closed, as
//     %%values in rules).
//   - context.environment: {tag, values} of the app's environment
//     (rules.App.Environment), or of the call's inputs.
//   - context.request: the call's %%request (expansion.Inputs.Request);
//     undefined when the call carries none.
//   - context.app: id, clientAppId (the export's app_id) and name.
//   - context.services.get(name): a MongoDB data source of the export
//     (data_sources/ or services/); anything else (HTTP, AWS, Twilio,
//     third-party services) is ErrUnavailable: rulegate runs no
//     third-party service (the page says undefined for a name that is no
//     service; an error names what is missing). Collections come from Data.Collection with the
//     call's As. Before Bind, ErrNotBound.
//   - utils.crypto.hash (sha1, sha256, md5; a BSON.Binary) and
//     utils.crypto.hmac (sha1, sha256, sha512; hex or base64), as
//     globals.txt documents them (its examples are tests).
//   - context.http, utils.jwt, utils.crypto.encrypt, decrypt, sign and
//     verify, require(x): ErrUnavailable. A function has no file system,
//     no network, no module: an export's external dependencies
//     (node_modules) and Node.js built-in modules are not supported.
//     collection.watch (change streams) is ErrUnavailable too.
//   - collection.bulkWrite runs its operations (insertOne, updateOne,
//     updateMany, deleteOne, deleteMany, replaceOne) one after the other
//     through the Collection, stopping at the first error unless
//     {ordered: false}, and resolves to null; like MongoDB's, it is not
//     atomic.
//   - BSON and EJSON as globals.txt lists them, console.log, info, debug,
//     warn and error (to WithLogger's *slog.Logger, with the function's
//     name); JSON and the ECMAScript builtins goja provides, but for
//     ArrayBuffer, SharedArrayBuffer, DataView and the typed arrays
//     (removed: each allocates its whole length at once).
//
// Each call is logged at Debug level with its arguments (as Extended
// JSON) and its error, as App Services logs each execution; with
// disable_arg_logs the arguments are never logged.
//
// # Values
//
// BSON to JavaScript (arguments, documents read, context.user): double,
// int32 and int64 within ±2^53 are numbers; an int64 beyond is a
// BSON.Long (a number would lose it); string, boolean, null, document
// (an object; "__proto__" is an own field), array; datetime a Date (a
// datetime a Date cannot hold, beyond ±8.64e15 ms, stays a BSON value);
// ObjectId, Decimal128, Binary, Timestamp, regular expression
// (BSON.BSONRegExp, so that options a JavaScript RegExp lacks are kept),
// MinKey and MaxKey are boxes, instances of the BSON classes; BSON
// undefined is undefined; the deprecated JavaScript code, symbol and DB
// pointer types are boxes that come back unchanged.
//
// JavaScript to BSON (results, arguments of execute, documents written,
// EJSON.stringify): an integral number within ±2^53 is an int64, any
// other number (fractions, -0, NaN, ±Infinity, beyond 2^53) a double, as
// the EJSON.stringify example of globals.txt shows ({answer: 42} is
// {"answer": {"$numberLong": "42"}}); so an int32 or an integral double
// read and written back is an int64, which MongoDB compares as the same
// number. A box is its BSON value; a Date a datetime; a RegExp a regular
// expression (flags i, m, s; g and y have no BSON meaning); new Number,
// new String and new Boolean their primitive; an array an array; any
// other object a document of its own enumerable keys in their order (a
// Map, a Set, a Promise are ErrResult, not an empty document).
// JavaScript orders an object's integer-like keys ("1", "2") first,
// whatever order the document had: key order is kept for every other
// key. undefined is the missing value as a whole result (a function that
// returns nothing) and an error anywhere inside one; a function, a
// Symbol, a BigInt (use BSON.Long), a cycle and a key with a NUL are
// ErrResult, with the JSON pointer of the value. A cursor cannot be
// returned (ErrResult).
//
// # Bounds
//
// What is bounded, and how (the hostile corpus, TestHostile, has one case
// for each):
//   - time: the call's context, with WithTimeout (DefaultTimeout, the
//     documented 300 seconds) for direct calls and WithRuleTimeout
//     (DefaultRuleTimeout, 3 seconds: every request's decision waits on
//     it) for rule calls. The watchdog interrupts the runtime at the
//     deadline (goja.Runtime.Interrupt): ErrTimeout, which no try/catch
//     can catch. A native builtin (a backtracking regular expression, say)
//     sees the interrupt only when it returns: the caller gets ErrTimeout
//     at most 100 ms after the deadline anyway, and the builtin ends in
//     the background.
//   - memory: goja has no allocator limit. The watchdog samples the heap
//     (runtime/metrics, every millisecond) and interrupts a call that grew
//     it past WithMemoryLimit (DefaultMemoryLimit, the documented 350MB)
//     and is still past it right after a garbage collection (garbage does
//     not count; at most one collection every 50 ms per call): ErrLimit.
//     The heap is the process's, so concurrent calls are charged each
//     other's live growth (fail closed). Between two samples a call may allocate more:
//     measured with a 64 MiB limit (runs vary), a loop pushing arrays
//     stopped at 70 to 80 MiB of growth, pushing objects at 72 MiB,
//     pushing 1 MiB strings at 64 to 67 MiB, doubling a string (s += s,
//     each step a copy) at 224 to 448 MiB; a loop making 3 million
//     short-lived objects ran to its end with 5 MiB of growth. The builtins that allocate (or loop over) a
//     size they are given in one native step are checked before they run:
//     String.prototype.repeat, padStart and padEnd and
//     Array.prototype.join (limit/2 characters); Array(n) and new
//     Array(n), also reached as [].constructor or as the species of map
//     and filter, Array.from, Array.prototype.concat, fill, slice, splice,
//     sort, reverse, flat, flatMap and copyWithin, an array's iterator
//     (spread, [...a] and f(...a), and for-of), Function.prototype.apply,
//     Reflect.apply, Reflect.construct and JSON.stringify of an array
//     (limit/16 elements); the typed arrays are removed. Not bounded: a
//     native builtin looping over an array-like object
//     (Array.prototype.map.call({length: 2**28}, f)) or over a huge
//     sparse array with a method not listed (indexOf, say: time, not
//     memory); such a call gets ErrTimeout at its deadline, and the loop
//     runs on in the background until it returns. A backtracking regular
//     expression (one goja runs with regexp2: lookarounds,
//     backreferences) gives up after 500 ms per match (regexp.go; set
//     for the process, as regexp2 takes it only package-wide), so it does
//     not run on after its call; goja then reports no match, and a
//     function whose pattern takes that long goes on as if it had not
//     matched.
//   - results: WithMaxResultBytes (DefaultMaxResultBytes, 16 MiB, the BSON
//     document limit) bounds every value the bridge builds: results,
//     arguments of execute, documents and filters passed to the database;
//     nesting is bounded at 100 levels both ways.
//   - stack: 1000 JavaScript frames (goja.Runtime.SetMaxCallStackSize):
//     ErrLimit.
//   - operations: 1000 database operations per call (the documented async
//     operation limit): ErrLimit.
//   - depth: WithMaxDepth (DefaultMaxDepth, 8) nested calls, counted in the
//     context: execute, and a rule of a collection a function reads that
//     calls a function again. ErrLimit, which no try/catch can catch, so a
//     rule that recurses into itself denies.
//   - panics: a panic of a Go callback (or of goja) ends its call with an
//     error; the process goes on.
//
// Where the documentation is silent the package fails closed: a secret
// value not provided, a service that is not a data source, an update
// pipeline (an array as update), an unknown bulkWrite operation, a
// thrown value without BSON form (rendered as its string) all end in an
// error rather than a guess.
package jsfunc
