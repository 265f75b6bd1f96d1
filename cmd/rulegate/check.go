package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/source"
)

var checkCmd = &command{
	name:    "check",
	summary: "parse and validate every rule file of an app",
	usage:   "check [--allow-warnings] [--color=auto|always|never] [--app] APP",
	help: `
Check parses every rule file of the app directory APP (data_sources/**/rules.json,
default_rule.json, schema.json, auth/custom_user_data.json, functions/*.expr),
the functions' configuration and sources (functions/config.json, functions/**/*.js)
and the triggers (triggers/*.json), and validates the rules, schemas, functions
and triggers: a %function no function answers, a JavaScript syntax error, a
function without its source, a private function nothing calls, a trigger
rulegate does not run. An app
exported in the realm-cli v1 / Stitch layout
(services/<service>/rules/<db>.<coll>.json, functions/<name>/config.json and
source.js, config.json or stitch.json) is read too. APP may also be given as --app APP. Each problem is
printed as

  file:line:col: pointer: message (code)

followed by the offending line and a caret. Warnings (a shadowed role, an
custom-data collection clients can write, a docs spelling read as the reference
one, a schema keyword rulegate does not enforce, ...) are problems too: they
fail the check unless --allow-warnings is given. (--strict, the former opt-in,
is still accepted and changes nothing.)

Exit status: 0 clean, 1 problems found (errors, or warnings without
--allow-warnings), 2 APP is not an app directory.

Examples:
  rulegate check examples/teams
  rulegate check --allow-warnings ./my-exported-app
  rulegate check --app ./my-repo/backend
`,
}

func init() { checkCmd.run = (*cli).check }

func (c *cli) check(args []string) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	allowWarnings := fs.Bool("allow-warnings", false, "exit 0 when there are warnings but no errors")
	_ = fs.Bool("strict", true, "fail on warnings too (the default; kept for compatibility)")
	color := colorFlag("auto")
	fs.Var(&color, "color", "colour the output: auto (on a terminal), always or never")
	appFlag := fs.String("app", "", "the app directory (or give it as the argument)")
	pos, code, ok := c.parseFlags(checkCmd, fs, args)
	if !ok {
		return code
	}
	if *appFlag != "" {
		pos = append([]string{*appFlag}, pos...)
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
		errs = append(errs, schema.Check(app)...)
		errs = append(errs, syntaxErrors(app)...)
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
	if nErr > 0 || (!*allowWarnings && nWarn > 0) {
		return exitProblems
	}
	return exitOK
}

// syntaxErrors parses the functions' JavaScript sources (jsfunc.Load)
// and returns their syntax errors (jsfunc/syntax). Load's other findings
// (a can_evaluate that does not compile) are rules.Validate's, reported
// already.
func syntaxErrors(app *rules.App) source.ErrorList {
	var out, list source.ErrorList
	if _, err := jsfunc.Load(app); errors.As(err, &list) {
		for _, e := range list {
			if e.Code == jsfunc.CodeSyntax {
				out = append(out, e)
			}
		}
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
