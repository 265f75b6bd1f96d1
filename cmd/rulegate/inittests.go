package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rulegate/rulegate/fixtures"
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
	_, prog, ok := c.loadProgram(initTestsCmd, dir)
	if !ok {
		return exitUsage
	}
	suite, err := fixtures.Load(os.DirFS(dir))
	if err != nil {
		c.fixtureErr(initTestsCmd, err, suite)
		return exitUsage
	}
	if len(suite.Users) == 0 || len(suite.Namespaces) == 0 {
		fmt.Fprintf(c.stderr, "rulegate init-tests: %s needs fixture users (%s) and documents (%s) to generate tests from\n", dir, fixtures.UsersFile, fixtures.DocumentsFile)
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
	data, n, err := fixtures.Generate(context.Background(), suite, prog)
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
	fmt.Fprintf(c.stdout, "wrote %s: %s from %s and %s\nReview every expectation, then run: rulegate test %s\n",
		target, plural(n, "test"), plural(len(suite.Users), "user"), plural(countDocs(suite), "document"), dir)
	return exitOK
}

func countDocs(s *fixtures.Suite) int {
	n := 0
	for _, ns := range s.Namespaces {
		n += len(ns.Documents)
	}
	return n
}
