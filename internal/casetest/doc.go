// Package casetest runs the txtar case corpora of rulegate's tests; only
// tests import it. It owns the two flags every corpus shares, registered
// once per test binary:
//
//	go test ./evaluator/ -run Conformance -update   rewrite the goldens
//	go test ./internal/doccases/ -divergences       run known divergences strictly
//
// Run iterates a corpus directory, one subtest per case; it fails a case
// whose comment does not start with a "#" line saying what it proves. The
// corpus' function runs the case and hands what it produced to Check,
// which compares it with the case's golden file or, under -update, stores
// it there; the archive is written back when a golden changed. Report
// holds the known-divergence handling of the documentation and hostile
// corpora.
//
// # Vocabulary
//
//	| term             | meaning                                                                |
//	|------------------|------------------------------------------------------------------------|
//	| case             | one txtar archive (internal/txtar): a "#" comment, then files          |
//	| golden           | a file of the case holding the expected output (want.json, stdout, ...) |
//	| -update          | Check stores what a case produced instead of comparing it              |
//	| known-divergence | a file saying why rulegate's outcome differs from the expected one;    |
//	|                  | Report skips such a case, or fails it under -divergences               |
//
// The format is that of golang.org/x/tools/txtar
// (https://pkg.go.dev/golang.org/x/tools/txtar); the habit of golden files
// rewritten by -update is the Go standard library's (for example
// go/format's and cmd/gofmt's tests).
package casetest
