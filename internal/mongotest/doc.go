// Package mongotest gives tests a MongoDB database to talk to.
//
// When the environment variable MONGODB_URI is set, tests use that server
// (a local mongod, a replica set or Atlas). Otherwise the first call in a
// test binary builds the embedded FerretDB server in <repo>/testserver (a
// separate Go module, so FerretDB never enters the root module) with
// `go build -C <repo>/testserver`, starts it, and waits for its
// "ready mongodb://…" line. The first build takes about a minute; later
// builds are cached by the go command.
//
// The server is started once per test binary and shared by every test in it
// (a process-wide sync.Once; acceptable in a test-only helper). Its stdin is
// a pipe held by the test binary, so the server exits when the test binary
// exits, however it exits. Each call to Database returns a fresh, uniquely
// named database that is dropped when the test ends, so tests may run in
// parallel.
//
// Vocabulary:
//
//	| term           | meaning                                                              |
//	|----------------|----------------------------------------------------------------------|
//	| MONGODB_URI    | environment variable naming a real server; skips the embedded one    |
//	| embedded server| FerretDB v1.24.0 with its SQLite backend, built from <repo>/testserver |
//	| ready line     | "ready mongodb://127.0.0.1:PORT/", printed once the port accepts     |
//	| URI            | the connection string tests use (MONGODB_URI or the ready line's)    |
//	| Client         | a driver v2 client for URI, disconnected at test cleanup             |
//	| Database       | a fresh database "rg_<test>_<n>", dropped at test cleanup            |
//
// If the embedded server cannot be built or started, the test fails with
// the build or server output; it is never skipped silently.
package mongotest
