// Command rulegate checks and tests the rules of an exported MongoDB Atlas
// App Services app without a database.
//
// Usage:
//
//	rulegate check APP                    parse and validate every rule file
//	rulegate test APP [--json] [--junit FILE] [--coverage]
//	                                      run the app's rule tests (tests/*.json)
//	rulegate eval --app APP [--trace]     decide one request read from stdin
//	rulegate filter --app APP             print the MongoDB filter of a query read from stdin
//	rulegate init-tests APP               write a starter test suite from the fixtures
//
// Exit status: 0 success (for test: every test passed; for check: no
// errors), 1 problems found (failing tests, rule errors), 2 unusable input
// (no such app, malformed files or requests, bad flags).
//
// Run "rulegate help COMMAND" or "rulegate COMMAND --help" for the flags
// and examples of each command.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
