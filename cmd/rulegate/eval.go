package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/source"
)

var evalCmd = &command{
	name:    "eval",
	summary: "decide one request read from stdin",
	usage:   "eval --app APP [--environment TAG] [--trace] [--secret SECRET] < request.json",
	help: `
Eval reads one request as JSON on standard input and prints the decision the
app's rules make for it:

  {"user": <user object>, "namespace": "db.coll",
   "action": "read" | "write" | "insert" | "delete" | "search",
   "document": {...}, "prev_document": {...}}

"document" is %%root (for a write, the document after the write) and
"prev_document" %%prevRoot (the document before a write), both in MongoDB
extended JSON ({"$oid": ...}, {"$date": ...}). Instead of "user", a request may
carry "token": an access token, verified with the HS256 secret given by
--secret. Optional keys: "update" (the update document of a write),
"query" and "array_filters" (the filter that selected "prev_document" and
the update's arrayFilters, which an update with $, $[] or $[<id>] needs),
"request", "values", "environment" (the %%request, %%values and
%%environment expansions).

%%values holds the app's values/*.json and %%environment the tag and values
of environments/<tag>.json, for the environment realm_config.json names or
--environment TAG ("no-environment" for none); a secret value is unset. The
request's "values" and "environment": {"tag": ..., "values": {...}} add to
them and replace them by name (give a secret's value so).

The output, with keys in this order:

  {"allowed": true, "role": "member", "reason": "allowed",
   "fields": {"read": ["_id", "name"], "write": ["name"]}}

"role" is null when no role applied; "reason" is a stable code, one of:
{{reasons}}
("schema": the rules allow the insert or write, but the document after it
breaks the collection's schema.)

--trace adds "trace": every rule evaluated, with its file, JSON pointer, the
values compared and the result.

Exit status: 0 whatever the decision, 2 on a bad request or app.

Examples:
  echo '{"user": {"id": "u1", "custom_data": {"teamIds": ["red"]}},
         "namespace": "teams.projects", "action": "read",
         "document": {"team_id": "red", "name": "Roadmap"}}' |
    rulegate eval --app examples/teams --trace
  rulegate eval --app examples/customdata --secret "$SECRET" < request.json
`,
}

func init() {
	evalCmd.run = (*cli).eval
	evalCmd.help = strings.Replace(evalCmd.help, "{{reasons}}", reasonList(), 1)
}

// reasonList is evaluator.Reasons as indented lines of at most 78
// characters.
func reasonList() string {
	var b strings.Builder
	line := " "
	for i, r := range evaluator.Reasons() {
		word := " " + string(r)
		if i < len(evaluator.Reasons())-1 {
			word += ","
		}
		if len(line)+len(word) > 78 {
			b.WriteString(line + "\n")
			line = " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}

// evalOutput is eval's output; the field order is the contract.
type evalOutput struct {
	Allowed bool             `json:"allowed"`
	Role    *string          `json:"role"`
	Reason  evaluator.Reason `json:"reason"`
	Fields  evaluator.Fields `json:"fields"`
	Trace   []evaluator.Step `json:"trace,omitempty"`
}

func (c *cli) eval(args []string) int {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	appDir := fs.String("app", "", "the app directory (required)")
	trace := fs.Bool("trace", false, "print the trace of the decision")
	secret := fs.String("secret", "", `the HS256 secret that verifies a request's "token"`)
	env := addEnvironmentFlag(fs)
	pos, code, ok := c.parseFlags(evalCmd, fs, args)
	if !ok {
		return code
	}
	if *appDir == "" {
		return c.usageErr(evalCmd, "--app APP is required")
	}
	if len(pos) > 0 {
		return c.usageErr(evalCmd, "unexpected argument %q: the request is read from standard input", pos[0])
	}
	app, prog, ok := c.loadProgram(evalCmd, *appDir)
	if !ok {
		return exitUsage
	}
	req, err := readRequest(c.stdin, *secret, []string{"document", "prev_document", "update", "query", "array_filters"}, []evaluator.Action{
		evaluator.ActionRead, evaluator.ActionWrite, evaluator.ActionInsert, evaluator.ActionDelete, evaluator.ActionSearch})
	if err != nil {
		c.requestErr(evalCmd, err)
		return exitUsage
	}
	if !c.withAppValues(evalCmd, app, env, req) {
		return exitUsage
	}
	var tr evaluator.Trace
	opts := []evaluator.EvalOption{evaluator.WithFields()}
	if *trace {
		opts = append(opts, evaluator.WithTrace(&tr))
	}
	d, err := prog.Evaluate(context.Background(), req.Caller, req.Doc, opts...)
	if err != nil && d.Reason == "" {
		fmt.Fprintf(c.stderr, "rulegate eval: %v\n", err)
		return exitUsage
	}
	out := evalOutput{Allowed: d.Allowed, Reason: d.Reason, Fields: d.Fields}
	if d.Role != "" {
		out.Role = &d.Role
	}
	if out.Fields.Read == nil {
		out.Fields.Read = []string{}
	}
	if out.Fields.Write == nil {
		out.Fields.Write = []string{}
	}
	if *trace {
		out.Trace = tr.Steps
		if out.Trace == nil {
			out.Trace = []evaluator.Step{}
		}
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate eval: evaluation failed, access denied: %v\n", err)
	}
	c.noRulesNote(evalCmd, prog, req.Caller.Namespace)
	return c.printJSON(out)
}

func (c *cli) printJSON(v any) int {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(c.stderr, "rulegate: %v\n", err)
		return exitUsage
	}
	return exitOK
}

// requestErr prints a request error with a snippet of the request.
func (c *cli) requestErr(cmd *command, err error) {
	var l source.ErrorList
	var e *source.Error
	switch {
	case errors.As(err, &l):
	case errors.As(err, &e):
		l = source.ErrorList{e}
	default:
		fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
		return
	}
	for _, e := range l {
		fmt.Fprintf(c.stderr, "rulegate %s: %s\n", cmd.name, e)
	}
}

// noRulesNote tells on stderr when a namespace has no rules and the app no
// default rule (every request is denied), naming the namespaces that have
// rules: the usual cause is a typo.
func (c *cli) noRulesNote(cmd *command, prog *evaluator.Program, ns string) {
	if prog.HasDefaultRule() {
		return
	}
	names := prog.Namespaces()
	for _, n := range names {
		if n == ns {
			return
		}
	}
	have := "none"
	if len(names) > 0 {
		have = strings.Join(names, ", ")
	}
	fmt.Fprintf(c.stderr, "rulegate %s: note: %s has no rules and the app no default rule, so everything is denied (namespaces with rules: %s)\n", cmd.name, ns, have)
}
