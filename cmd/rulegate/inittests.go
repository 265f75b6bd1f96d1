package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/fixtures"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

var initTestsCmd = &command{
	name:    "init-tests",
	summary: "write a starter test suite from the fixtures and today's decisions",
	usage:   "init-tests [--out FILE] [--force] APP",
	help: `
Init-tests writes a starter test suite for the app directory APP: one test per
fixture user (APP/fixtures/users.json) and fixture document
(APP/fixtures/documents.json), expecting the decisions the rules make now for
read, write, insert, delete and search, and the fields the user may read and
write. It is the migration path from App Services: freeze today's behaviour,
review every expectation (each one the rules get wrong is a bug to fix, or an
expectation to correct), then change rules under test.

An app with neither fixture file (a bare export) gets them first: users
"member" (whose %%user claims are the values the rules compare them to),
"outsider" and, when the rules read custom data, "no-custom-data"; and for
each namespace with rules or a schema, a document per user whose fields
follow schema.json and the fields the rules compare to claims and constants.
A JavaScript %function the rules call is stubbed with the result true: the
suite records it in its "functions" and holds only for that result.

The suite is written to APP/tests/generated.json unless --out says otherwise
(a path relative to APP). An existing file is kept unless --force is given.

Exit status: 0 written, 2 unusable input or the file exists.

Examples:
  rulegate init-tests ./my-app
  rulegate init-tests --out tests/baseline.json --force ./my-app
  rulegate test ./my-app
`,
}

func init() { initTestsCmd.run = (*cli).initTests }

func (c *cli) initTests(args []string) int {
	fset := flag.NewFlagSet("init-tests", flag.ContinueOnError)
	out := fset.String("out", "tests/generated.json", "the `FILE` to write, relative to APP")
	force := fset.Bool("force", false, "overwrite FILE if it exists")
	pos, code, ok := c.parseFlags(initTestsCmd, fset, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.usageErr(initTestsCmd, "want one app directory, got %d arguments", len(pos))
	}
	dir := pos[0]
	rel := filepath.ToSlash(filepath.Clean(*out))
	if filepath.IsAbs(*out) || rel == ".." || strings.HasPrefix(rel, "../") {
		return c.usageErr(initTestsCmd, "--out %s: give a path inside the app directory, such as tests/generated.json", *out)
	}
	if !strings.HasSuffix(rel, ".json") {
		return c.usageErr(initTestsCmd, "--out %s: the file must end in .json", *out)
	}
	app, prog, ok := c.loadProgram(initTestsCmd, dir)
	if !ok {
		return exitUsage
	}
	suite, err := fixtures.Load(os.DirFS(dir))
	if err != nil {
		c.fixtureErr(initTestsCmd, err, suite)
		return exitUsage
	}
	target := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(target); err == nil && !*force {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %s exists; pass --force to overwrite it or --out to write another file\n", target)
		return exitUsage
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
		return exitUsage
	}
	var stubs map[string]json.RawMessage
	js := jsWithSource(app)
	derived := !exists(dir, fixtures.UsersFile) && !exists(dir, fixtures.DocumentsFile)
	if derived {
		// A bare export: fixtures from its schemas and rules first.
		if suite, prog, stubs, js, ok = c.deriveFixtures(dir, app); !ok {
			return exitUsage
		}
	} else if len(js) > 0 {
		// The JavaScript functions run over the file's (empty)
		// "collections".
		if _, prog, ok = c.loadSuiteProgram(initTestsCmd, dir, suite, nil); !ok {
			return exitUsage
		}
	}
	if len(suite.Users) == 0 || len(suite.Namespaces) == 0 {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %s needs fixture users (%s) and documents (%s) to generate tests from\n", dir, fixtures.UsersFile, fixtures.DocumentsFile)
		return exitUsage
	}
	gopts := []fixtures.GenerateOption{fixtures.WithFunctions(stubs)}
	if len(js) > 0 {
		gopts = append(gopts, fixtures.WithCollections())
	}
	data, n, err := fixtures.Generate(context.Background(), suite, prog, gopts...)
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
		return exitUsage
	}
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
		return exitUsage
	}
	if err := os.WriteFile(target, data, 0o644); err != nil {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
		return exitUsage
	}
	if derived {
		fmt.Fprintf(c.stdout, "wrote %s and %s: derived from the schemas and the fields and claims the rules name\n",
			filepath.Join(dir, fixtures.UsersFile), filepath.Join(dir, fixtures.DocumentsFile))
	}
	for _, name := range sortedNames(stubs) {
		fmt.Fprintf(c.stdout, "stubbed %%function %s with the result %s (\"functions\" in %s): the expectations hold only for that result\n", name, stubs[name], rel)
	}
	for _, f := range js {
		fmt.Fprintf(c.stdout, "%%function %s runs its JavaScript (%s) over the documents of \"collections\" in %s, none yet: add the documents it reads, then review the expectations\n", f.Name, f.SourceFile, rel)
	}
	fmt.Fprintf(c.stdout, "wrote %s: %s from %s and %s\nReview every expectation, then run: rulegate test %s\n",
		target, plural(n, "test"), plural(len(suite.Users), "user"), plural(countDocs(suite), "document"), dir)
	return exitOK
}

// deriveFixtures writes the fixtures fixtures.Derive makes of app, loads
// them, and compiles the program again with the function stubs they need.
func (c *cli) deriveFixtures(dir string, app *rules.App) (*fixtures.Suite, *evaluator.Program, map[string]json.RawMessage, []*rules.JSFunction, bool) {
	d, err := fixtures.Derive(app)
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
		return nil, nil, nil, nil, false
	}
	var js []*rules.JSFunction
	for _, f := range jsWithSource(app) {
		if slices.Contains(d.JavaScript, f.Name) {
			js = append(js, f)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(fixtures.UsersFile)), 0o755); err != nil {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
		return nil, nil, nil, nil, false
	}
	for name, data := range map[string][]byte{fixtures.UsersFile: d.Users, fixtures.DocumentsFile: d.Documents} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), data, 0o644); err != nil {
			fmt.Fprintf(c.stderr, "rulegate init-tests: %v\n", err)
			return nil, nil, nil, nil, false
		}
	}
	suite, err := fixtures.Load(os.DirFS(dir))
	if err != nil {
		c.fixtureErr(initTestsCmd, err, suite)
		return nil, nil, nil, nil, false
	}
	funcs := map[string]evaluator.Func{}
	for name, raw := range d.Functions {
		v, err := expansion.JSONValue(raw)
		if err != nil {
			fmt.Fprintf(c.stderr, "rulegate init-tests: the stub of %s: %v\n", name, err)
			return nil, nil, nil, nil, false
		}
		funcs[name] = func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) { return v, nil }
	}
	_, prog, ok := c.loadSuiteProgram(initTestsCmd, dir, suite, funcs)
	return suite, prog, d.Functions, js, ok
}

// jsWithSource returns the JavaScript functions of app that have their
// source: they run, over a test file's "collections".
func jsWithSource(app *rules.App) []*rules.JSFunction {
	var out []*rules.JSFunction
	for _, f := range app.JSFunctions {
		if f.SourceFile != "" {
			out = append(out, f)
		}
	}
	return out
}

// exists tells whether the fixture file name (or its YAML form) is in dir.
func exists(dir, name string) bool {
	base := strings.TrimSuffix(name, ".json")
	for _, ext := range []string{".json", ".yaml", ".yml"} {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(base+ext))); err == nil {
			return true
		}
	}
	return false
}

func sortedNames(m map[string]json.RawMessage) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

func countDocs(s *fixtures.Suite) int {
	n := 0
	for _, ns := range s.Namespaces {
		n += len(ns.Documents)
	}
	return n
}
