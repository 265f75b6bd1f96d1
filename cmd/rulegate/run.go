package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

// Exit codes.
const (
	exitOK       = 0 // success
	exitProblems = 1 // problems found: failing tests, rule errors
	exitUsage    = 2 // unusable input: missing app, malformed files, bad flags
)

// command is one subcommand.
type command struct {
	name    string
	summary string
	usage   string // the synopsis line after "rulegate "
	help    string // description and examples
	run     func(c *cli, args []string) int
}

var commands []*command

func init() {
	commands = []*command{checkCmd, testCmd, evalCmd, filterCmd, initTestsCmd, serveCmd}
}

// cli is one run of the program: its arguments and streams. Everything the
// commands print goes through it, so tests run the CLI in-process.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	// env looks up environment variables (NO_COLOR).
	env func(string) string
}

const mainHelp = `rulegate tests the rules of an exported MongoDB Atlas App Services app
without a database, and serves the app to App Services clients with its
rules enforced.

Usage:
  rulegate COMMAND [arguments]

Commands:
%s
An app directory is an App Services export:
  APP/data_sources/<service>/<db>/<coll>/rules.json
  APP/data_sources/<service>/default_rule.json   (optional)
  APP/auth/custom_user_data.json                 (optional)
  APP/fixtures/users.json, APP/fixtures/documents.json, APP/tests/*.json

Examples:
  rulegate check examples/teams
  rulegate test examples/teams
  rulegate serve --app examples/customdata
  echo '{"user": {"id": "u1"}, "namespace": "teams.projects", "action": "read",
         "document": {"team_id": "red"}}' | rulegate eval --app examples/teams

Run "rulegate help COMMAND" for more about a command.
Exit status: 0 success, 1 problems found (failing tests, rule errors),
2 unusable input (missing app, malformed files or requests, bad flags).
`

func usageText() string {
	var b strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	return fmt.Sprintf(mainHelp, b.String())
}

// run runs the command line args and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, env: os.Getenv}
	return c.main(args)
}

func (c *cli) main(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText())
		return exitUsage
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help":
		fmt.Fprint(c.stdout, usageText())
		return exitOK
	case "help":
		if len(args) == 1 {
			fmt.Fprint(c.stdout, usageText())
			return exitOK
		}
		if cmd := lookup(args[1]); cmd != nil {
			fmt.Fprint(c.stdout, cmd.helpText(nil))
			return exitOK
		}
		fmt.Fprintf(c.stderr, "rulegate: unknown command %q; the commands are %s\n", args[1], commandNames())
		return exitUsage
	}
	cmd := lookup(name)
	if cmd == nil {
		fmt.Fprintf(c.stderr, "rulegate: unknown command %q; the commands are %s (see rulegate --help)\n", name, commandNames())
		return exitUsage
	}
	return cmd.run(c, args[1:])
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() string {
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// helpText renders a command's help, with its flags when fs is given.
func (cmd *command) helpText(fs *flag.FlagSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: rulegate %s\n\n%s\n", cmd.usage, strings.TrimSpace(cmd.help))
	if fs != nil {
		var flags strings.Builder
		fs.SetOutput(&flags)
		fs.PrintDefaults()
		if flags.Len() > 0 {
			fmt.Fprintf(&b, "\nFlags:\n%s", flags.String())
		}
	}
	return b.String()
}

// parseFlags parses args with fs, allowing flags after positional
// arguments ("rulegate test APP --json"). It returns the positional
// arguments, or an exit code when parsing ended the run (help or error).
func (c *cli) parseFlags(cmd *command, fs *flag.FlagSet, args []string) ([]string, int, bool) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, cmd.helpText(fs))
			return nil, exitOK, false
		}
		if err != nil {
			fmt.Fprintf(c.stderr, "rulegate %s: %v\n\n%s", cmd.name, err, cmd.helpText(fs))
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, 0, true
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// usageErr reports a usage mistake and returns exitUsage.
func (c *cli) usageErr(cmd *command, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "rulegate %s: %s\nRun \"rulegate %s --help\" for usage and examples.\n", cmd.name, fmt.Sprintf(format, args...), cmd.name)
	return exitUsage
}

// appDir checks that dir is an app directory, in either export layout
// (rules.IsApp). When it is not but exactly one of its subfolders is (an
// app kept in backend/), it says where. It returns the fs.FS or prints
// why not.
func (c *cli) appDir(cmd *command, dir string) (fs.FS, bool) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			c.usageErr(cmd, "%s: no such directory; give the path of an exported App Services app (the folder holding data_sources/)", dir)
		} else {
			c.usageErr(cmd, "%v", err)
		}
		return nil, false
	}
	if !st.IsDir() {
		c.usageErr(cmd, "%s is a file; give the app directory (the folder holding data_sources/)", dir)
		return nil, false
	}
	fsys := os.DirFS(dir)
	if rules.IsApp(fsys) {
		return fsys, true
	}
	if sub := appBelow(fsys); sub != "" {
		arg := filepath.Join(dir, sub)
		if strings.Contains(cmd.usage, "--app") {
			arg = "--app " + arg
		}
		c.usageErr(cmd, "%s: no app here; an app is in %s/: run rulegate %s %s", dir, sub, cmd.name, arg)
		return nil, false
	}
	c.usageErr(cmd, "%s has no data_sources/ folder: is it an exported App Services app? (want %s/data_sources/<service>/<db>/<coll>/rules.json, or for the realm-cli v1 / Stitch layout %s/services/<service>/rules/<db>.<coll>.json beside stitch.json or config.json)", dir, dir, dir)
	return nil, false
}

// appBelow returns the one subfolder of fsys that holds an app, or "".
func appBelow(fsys fs.FS) string {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return ""
	}
	found := ""
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if sub, err := fs.Sub(fsys, e.Name()); err == nil && rules.IsApp(sub) {
			if found != "" {
				return ""
			}
			found = e.Name()
		}
	}
	return found
}

// printDiags prints diagnostics with a source snippet under each, and
// returns the number of errors and warnings.
func (c *cli) printDiags(w io.Writer, errs source.ErrorList, files map[string]*source.File, color bool) (nErr, nWarn int) {
	for _, e := range errs {
		if e.IsWarning() {
			nWarn++
		} else {
			nErr++
		}
		line := e.Error()
		if color {
			code := "\x1b[31m"
			if e.IsWarning() {
				code = "\x1b[33m"
			}
			line = code + line + "\x1b[0m"
		}
		fmt.Fprintln(w, line)
		if f := files[e.File]; f != nil && e.Line > 0 {
			if snip := f.Snippet(source.Pos{Line: e.Line, Col: e.Col}); snip != "" {
				for _, l := range strings.Split(snip, "\n") {
					fmt.Fprintf(w, "    %s\n", l)
				}
			}
		}
	}
	return nErr, nWarn
}

// loadProgram loads, validates and compiles the app at dir. On failure it
// prints the diagnostics to stderr and returns false.
func (c *cli) loadProgram(cmd *command, dir string) (*rules.App, *evaluator.Program, bool) {
	return c.loadProgramWith(cmd, dir, nil)
}

// loadProgramWith is loadProgram with Go functions besides the app's
// (fixtures' stubs), which take precedence over them.
func (c *cli) loadProgramWith(cmd *command, dir string, funcs map[string]evaluator.Func) (*rules.App, *evaluator.Program, bool) {
	fsys, ok := c.appDir(cmd, dir)
	if !ok {
		return nil, nil, false
	}
	app, err := rules.LoadApp(fsys)
	var errs source.ErrorList
	if err != nil {
		if !errors.As(err, &errs) {
			fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
			return nil, nil, false
		}
	}
	if app != nil {
		var names []string
		for name := range funcs {
			names = append(names, name)
		}
		errs = append(errs, rules.Validate(app, rules.ValidateOptions{Functions: names})...)
	}
	errs.Sort()
	if bad := errs.Errors(); len(bad) > 0 {
		var files map[string]*source.File
		if app != nil {
			files = app.Files
		}
		c.printDiags(c.stderr, bad, files, false)
		fmt.Fprintf(c.stderr, "rulegate %s: %s has rule errors; fix them first (rulegate check %s lists them)\n", cmd.name, dir, dir)
		return nil, nil, false
	}
	// The app's functions/*.expr, then the rules that call them.
	fns, err := exprfunc.Load(app, exprfunc.Limits{})
	var prog *evaluator.Program
	if err == nil {
		opts := []evaluator.Option{evaluator.WithFunctions(fns)}
		for name, f := range funcs {
			opts = append(opts, evaluator.WithFunction(name, f))
		}
		prog, err = evaluator.Compile(app, opts...)
	}
	if err != nil {
		if errors.As(err, &errs) {
			c.printDiags(c.stderr, errs, app.Files, false)
		} else {
			fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
		}
		return nil, nil, false
	}
	return app, prog, true
}

// colorFlag is --color=auto|always|never.
type colorFlag string

func (f *colorFlag) String() string { return string(*f) }
func (f *colorFlag) Set(s string) error {
	switch s {
	case "auto", "always", "never":
		*f = colorFlag(s)
		return nil
	}
	return fmt.Errorf("want auto, always or never")
}

// useColor decides whether w gets ANSI colours: "always", or "auto" when w
// is a terminal and NO_COLOR is unset.
func (c *cli) useColor(f colorFlag, w io.Writer) bool {
	switch f {
	case "always":
		return true
	case "never":
		return false
	}
	if c.env("NO_COLOR") != "" || c.env("TERM") == "dumb" {
		return false
	}
	file, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := file.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
