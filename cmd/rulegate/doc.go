// Command rulegate checks and tests the rules of an exported MongoDB Atlas
// App Services app without a database, the way Cerbos policy tests or the
// Firebase rules emulator let rule authors test theirs.
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
// Run "rulegate help COMMAND" or "rulegate COMMAND --help" for the flags
// and examples of each command. Flags may come before or after APP.
//
// # Vocabulary
//
//	| term        | meaning                                                                      |
//	|-------------|------------------------------------------------------------------------------|
//	| APP         | an exported app directory: data_sources/, auth/, functions/, fixtures/, tests/ |
//	| diagnostic  | file:line:col: pointer: message (code), then the line and a caret            |
//	| request     | eval/filter input on stdin (internal/reqfile): user or token, namespace,    |
//	|             | action, documents                                                            |
//	| decision    | eval output: {"allowed", "role", "reason", "fields"} (+ "trace")            |
//	| filter      | filter output: {"filter", "projection"} in relaxed extended JSON            |
//	| test report | failures with traces, then "N passed, N failed" (tests, not actions)        |
//
// # Exit status
//
//	| code | meaning                                                                  |
//	|------|--------------------------------------------------------------------------|
//	| 0    | success: check found no errors, every test passed, eval/filter printed   |
//	| 1    | problems found: rule errors (check), failing tests or disagreements (test) |
//	| 2    | unusable input: no such app, malformed files or requests, bad flags      |
//
// eval exits 0 whatever the decision. Output is coloured only on a terminal
// (and never when NO_COLOR is set); --color=always|never overrides.
//
// The commands are thin: check is rules.LoadApp and rules.Validate; eval is
// evaluator.Program.Evaluate; filter is ReadFilter or WriteFilter with
// mql.And; test and init-tests are fixtures.Load, fixtures.Run and
// fixtures.Generate (after fixtures.Derive on an export with no fixtures). The CLI itself is run(args, stdin, stdout, stderr),
// tested in-process with the golden cases of testdata/*.txtar.
package main
