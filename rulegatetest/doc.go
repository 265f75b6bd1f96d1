// Package rulegatetest gives tests and programs a MongoDB database to talk
// to: a real server named by MONGODB_URI, else an embedded MongoDB-compatible
// server (FerretDB v1.24.0 with its SQLite backend) that it builds and
// starts itself. rulegate's own integration tests run on it, and so can a
// user's:
//
//	func TestNotes(t *testing.T) {
//		db := rulegatetest.Database(t) // a fresh database, dropped at the end
//		g, err := gate.New(db.Client(), prog)
//		...
//	}
//
// # Where the server comes from
//
// When MONGODB_URI is set, nothing is built or started: URI, Client,
// Database and Start use that server (a local mongod, a replica set,
// Atlas).
//
// Otherwise the package carries the embedded server's source (a small
// main package, its go.mod and go.sum: copies of <repo>/testserver, kept
// equal by a test) and builds it with `go build` in a directory of its own
// under os.UserCacheDir()/rulegate/testserver-<hash>/ (os.TempDir() when
// there is no user cache directory), reusing the executable while the
// source and platform are unchanged. This works the same inside this
// repository and in a user's module, which has rulegate in its read-only
// module cache: the go command leaves a nested module (a directory with its
// own go.mod, such as testserver/) out of the parent module's zip, so the
// package never looks for testserver/ on disk. The first build downloads
// FerretDB's modules through the user's GOPROXY and takes about a minute;
// later starts take a fraction of a second. An executable left by an
// older source stays in the cache until removed; removing
// <cache>/rulegate is always safe.
//
// Limits, said plainly:
//   - The first start needs the `go` command on PATH and the module proxy
//     (or a module cache already holding FerretDB v1.24.0 and its
//     dependencies); where neither is available, set MONGODB_URI.
//   - The build ignores the caller's go.work and GOFLAGS (it is a module of
//     its own, built with -mod=readonly against its own go.sum); GOPROXY,
//     GONOSUMDB, GOTOOLCHAIN and the like apply as usual.
//   - FerretDB is not MongoDB: it has no transactions, no change streams, and
//     loses some concurrent $inc updates; tests of those need MONGODB_URI.
//   - `go install github.com/rulegate/rulegate/testserver@version` (or go
//     run) is not refused: the testserver module has no replace directives.
//     But a version of a nested module is its own tag, testserver/vX.Y.Z
//     (go.dev/ref/mod, "Mapping versions to commits"), or a commit, so it
//     works only where that tag was pushed; the package does not depend on
//     it.
//
// # Lifetime
//
// URI, Client and Database start one server per test binary, shared by
// every test in it (a process-wide sync.Once: acceptable in a test helper,
// never in the library packages). Its stdin is a pipe held by the test
// binary, so the server exits when the test binary exits, however it
// exits. Each Database is uniquely named, so tests may run in parallel.
// Start is for programs that are not tests: each call starts a server of
// its own, stopped by the function it returns or when the program exits.
//
// If the embedded server cannot be built or started, URI, Client and
// Database fail the test with the go command's or the server's output; a
// test is never skipped silently.
//
// Vocabulary:
//
//	| term            | meaning                                                                    |
//	|-----------------|----------------------------------------------------------------------------|
//	| MONGODB_URI     | environment variable (EnvURI) naming a real server; skips the embedded one |
//	| embedded server | FerretDB v1.24.0, SQLite backend, in a temporary data directory           |
//	| ready line      | "ready mongodb://127.0.0.1:PORT/", printed once the port accepts           |
//	| URI             | the connection string (MONGODB_URI or the ready line's)                    |
//	| Client          | a driver v2 client for URI, disconnected at test cleanup                   |
//	| Database        | a fresh database "rg_<test>_<pid>_<n>", dropped at test cleanup           |
//	| Start           | a server of its own for a program, with the function that stops it        |
package rulegatetest
