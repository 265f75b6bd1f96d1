package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

var checkCmd = &command{
	name:    "check",
	summary: "parse and validate every rule file of an app",
	usage:   "check [--strict] [--color=auto|always|never] APP",
	help: `
Check parses every rule file of the app directory APP (data_sources/**/rules.json,
default_rule.json, auth/custom_user_data.json, functions/*.expr) and validates
the rules. Each problem is printed as

  file:line:col: pointer: message (code)

followed by the offending line and a caret. Warnings (a shadowed role, an
unprotected custom-data collection, ...) are printed too but do not fail the
check unless --strict is given.

Exit status: 0 no errors, 1 errors found (or warnings with --strict),
2 APP is not an app directory.

Examples:
  rulegate check examples/teams
  rulegate check --strict ./my-exported-app
`,
}

func init() { checkCmd.run = (*cli).check }

func (c *cli) check(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	strict := fs.Bool("strict", false, "fail on warnings too")
	color := colorFlag("auto")
	fs.Var(&color, "color", "colour the output: auto (on a terminal), always or never")
	pos, code, ok := c.parseFlags(checkCmd, fs, args)
	if !ok {
		return code
	}
	if len(pos) != 1 {
		return c.usageErr(checkCmd, "want one app directory, got %d arguments", len(pos))
	}
	dir := pos[0]
	fsys, ok := c.appDir(checkCmd, dir)
	if !ok {
		return exitUsage
	}
	app, err := rules.LoadApp(fsys)
	var errs source.ErrorList
	if err != nil && !errors.As(err, &errs) {
		fmt.Fprintf(c.stderr, "rulegate check: %v\n", err)
		return exitUsage
	}
	if app != nil {
		errs = append(errs, rules.Validate(app, rules.ValidateOptions{})...)
	}
	errs.Sort()
	files := map[string]*source.File{}
	if app != nil {
		files = app.Files
	}
	nErr, nWarn := c.printDiags(c.stdout, errs, files, c.useColor(color, c.stdout))
	nFiles := len(files)
	switch {
	case nErr == 0 && nWarn == 0:
		fmt.Fprintf(c.stdout, "%s: %s checked, no problems\n", dir, plural(nFiles, "file"))
	default:
		fmt.Fprintf(c.stdout, "%s: %s checked, %s, %s\n", dir, plural(nFiles, "file"), plural(nErr, "error"), plural(nWarn, "warning"))
	}
	if nErr > 0 || (*strict && nWarn > 0) {
		return exitProblems
	}
	return exitOK
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
