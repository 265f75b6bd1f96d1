package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/fixtures"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

var testCmd = &command{
	name:    "test",
	summary: "run the app's rule tests (tests/*.json) against its fixtures",
	usage:   "test [--json] [--junit FILE] [--coverage] [--environment TAG] [--leaving-scope-allowed] [-v] [--color=auto|always|never] APP",
	help: `
Test runs every test under APP/tests/ (JSON or YAML) against the fixture users
(APP/fixtures/users.json) and documents (APP/fixtures/documents.json), with no
database. A test names a user, a namespace, a document and the decisions it
expects:

  {"tests": [{"name": "members read their team's projects",
              "user": "mia", "namespace": "teams.projects", "document": "red-roadmap",
              "expect": {"read": true, "write": false, "delete": false},
              "expect_fields": {"read": ["_id", "name"], "write": ["name"]}}]}

A test passes when every expectation holds; each failure is printed with the
trace of the failing decision. Test also checks, for every fixture user and
namespace, that the read filter (the MongoDB query rulegate adds to reads)
and the per-document read decisions agree on the fixture documents; each
disagreement counts as a failure. The last line is "N passed, N failed"
(N counts tests, not actions).

A write is decided as the gate decides it: a write the rules allow whose
result the user could no longer write (a changed owner, a submitted draft) is
denied with the reason leaving-scope. --leaving-scope-allowed decides writes
as App Services does, for a gate made with gate.WithLeavingScopeAllowed.

--coverage lists the roles, filters and field rules no test exercised.
--json prints the report as JSON instead of text; --junit FILE also writes a
JUnit XML report for CI.

A test file may set "environment" (--environment TAG sets it for the others;
default realm_config.json's), "values" (over the app's values/, e.g. a secret)
and "functions": {"<name>": <result>}, the result of each %function call; a
test may set its own "functions". A %function no stub answers runs: a
JavaScript function of the export with its source (functions/<name>.js or
functions/<name>/source.js) runs as its configuration says (run_as_system or
as the test's user) over the documents of "collections": {"<db>.<coll>":
[<document>, ...]} (the test file's, a test's own by namespace over them), in
memory, each test with its own copy; one without source fails and denies.

Exit status: 0 every test passed, 1 some test failed or there is no test, 2
unusable input (rule errors, malformed fixtures or tests).

Examples:
  rulegate test examples/teams
  rulegate test --coverage examples/teams
  rulegate test --junit report.xml ./my-app
  rulegate init-tests ./my-app && rulegate test ./my-app
`,
}

func init() { testCmd.run = (*cli).test }

func (c *cli) test(args []string) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	junit := fs.String("junit", "", "also write a JUnit XML report to `FILE`")
	coverage := fs.Bool("coverage", false, "list roles, filters and field rules no test exercised")
	env := addEnvironmentFlag(fs)
	verbose := fs.Bool("v", false, "list passing tests and checks too")
	leaveScope := fs.Bool("leaving-scope-allowed", false, "allow writes whose result the user could no longer write, as App Services does")
	color := colorFlag("auto")
	fs.Var(&color, "color", "colour the output: auto (on a terminal), always or never")
	pos, code, ok := c.parseFlags(testCmd, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.usageErr(testCmd, "want one app directory, got %d arguments", len(pos))
	}
	dir := pos[0]
	// The tests first: the functions they stub are the program's.
	suite, err := fixtures.Load(os.DirFS(dir))
	app, prog, ok := c.loadSuiteProgram(testCmd, dir, suite, nil)
	if !ok {
		return exitUsage
	}
	if err != nil {
		c.fixtureErr(testCmd, err, suite)
		return exitUsage
	}
	if len(suite.Tests) == 0 {
		fmt.Fprintf(c.stderr, "rulegate test: no tests in %s/tests/; write some, or run \"rulegate init-tests %s\" to start from the current decisions\n", dir, dir)
	}
	opts := []fixtures.RunOption{fixtures.WithApp(app)}
	if env.set {
		if _, err := app.Inputs(expansion.Inputs{}, env.tag); err != nil {
			return c.usageErr(testCmd, "--environment: %v", err)
		}
		opts = append(opts, fixtures.WithEnvironment(env.tag))
	}
	if *coverage {
		opts = append(opts, fixtures.WithCoverage(app))
	}
	if *leaveScope {
		opts = append(opts, fixtures.WithLeavingScopeAllowed())
	}
	rep := fixtures.Run(context.Background(), suite, prog, opts...)
	if *junit != "" {
		f, err := os.Create(*junit)
		if err != nil {
			fmt.Fprintf(c.stderr, "rulegate test: %v\n", err)
			return exitUsage
		}
		err = rep.WriteJUnit(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "rulegate test: writing %s: %v\n", *junit, err)
			return exitUsage
		}
	}
	if *asJSON {
		err = rep.WriteJSON(c.stdout)
	} else {
		err = rep.WriteText(c.stdout, fixtures.WithColor(c.useColor(color, c.stdout)), fixtures.WithVerbose(*verbose))
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate test: %v\n", err)
		return exitUsage
	}
	if !rep.OK() || len(suite.Tests) == 0 {
		return exitProblems
	}
	return exitOK
}

// loadSuiteProgram is loadProgramWith for running suite: the stubs of
// its tests, and the export's JavaScript functions (jsfunc), bound to the
// suite's collections (fixtures.Suite.Functions and Suite.Data); extra
// are more Go functions (init-tests' derived stubs).
func (c *cli) loadSuiteProgram(cmd *command, dir string, suite *fixtures.Suite, extra map[string]evaluator.Func) (*rules.App, *evaluator.Program, bool) {
	var js *jsfunc.Functions
	jsApp, err := rules.LoadApp(os.DirFS(dir))
	var loadErrs source.ErrorList
	if jsApp != nil && (err == nil || errors.As(err, &loadErrs) && len(loadErrs.Errors()) == 0) {
		// (An app that does not load, or has rule errors, is reported
		// by loadProgramWith; warnings are not in the way.)
		if js, err = jsfunc.Load(jsApp); err != nil {
			var errs source.ErrorList
			if errors.As(err, &errs) {
				c.printDiags(c.stderr, errs, jsApp.Files, false)
				fmt.Fprintf(c.stderr, "rulegate %s: %s has JavaScript errors; fix them first (rulegate check %s lists them)\n", cmd.name, dir, dir)
			} else {
				fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
			}
			return nil, nil, false
		}
	}
	funcs := suite.Functions(jsApp, js)
	for name, f := range extra {
		funcs[name] = f
	}
	app, prog, ok := c.loadProgramWith(cmd, dir, funcs)
	if !ok {
		return nil, nil, false
	}
	if js != nil {
		if err := js.Bind(suite.Data(app, prog)); err != nil {
			fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
			return nil, nil, false
		}
	}
	return app, prog, true
}

// fixtureErr prints the diagnostics of fixtures.Load.
func (c *cli) fixtureErr(cmd *command, err error, s *fixtures.Suite) {
	var l source.ErrorList
	if !errors.As(err, &l) {
		fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
		return
	}
	var files map[string]*source.File
	if s != nil {
		files = s.Files
	}
	c.printDiags(c.stderr, l, files, false)
	fmt.Fprintf(c.stderr, "rulegate %s: the fixtures or tests have %s; fix them and run again\n", cmd.name, plural(len(l), "problem"))
}
