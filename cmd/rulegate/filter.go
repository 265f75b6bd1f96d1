package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/source"
)

var filterCmd = &command{
	name:    "filter",
	summary: "print the MongoDB filter and projection the rules add to a query",
	usage:   "filter --app APP [--environment TAG] [--secret SECRET] < query.json",
	help: `
Filter reads a query as JSON on standard input and prints, as MongoDB
extended JSON, the filter and projection to run instead: the client's query
combined with the rules' read (or write) filter, so that the database returns
exactly the documents the caller may read (or modify).

  {"user": <user object>, "namespace": "db.coll",
   "action": "read" | "write", "query": {...}}

As for eval, "token" (with --secret) may replace "user", "values" and
"environment" add to the app's values and environment values (--environment
TAG selects the environment). The client's query is
data, never expanded: a "%%user.id" in it is a plain string, and only the
query operators App Services offers clients are accepted ($eq, $ne, $gt,
$gte, $lt, $lte, $in, $nin, $and, $or, $nor, $not, $all, $elemMatch, $size,
$exists, $type, $mod); $where, $expr, $regex and the like are refused (exit 2).
The output:

  {"filter": {"$and": [<query>, <rules' filter>]}, "projection": {...} or null}

A filter that matches nothing is {"_id": {"$in": []}}. When a rule compares two
fields of the document it cannot be written as a query; filter then fails
(exit 2) and each document must be decided with eval.

Exit status: 0 printed, 2 bad request or app.

Examples:
  echo '{"user": {"id": "u1", "custom_data": {"teamIds": ["red", "blue"]}},
         "namespace": "teams.projects", "action": "read",
         "query": {"status": "active"}}' | rulegate filter --app examples/teams
`,
}

func init() { filterCmd.run = (*cli).filter }

func (c *cli) filter(args []string) int {
	fs := flag.NewFlagSet("filter", flag.ContinueOnError)
	appDir := fs.String("app", "", "the app directory (required)")
	secret := fs.String("secret", "", `the HS256 secret that verifies a request's "token"`)
	env := addEnvironmentFlag(fs)
	pos, code, ok := c.parseFlags(filterCmd, fs, args)
	if !ok {
		return code
	}
	if *appDir == "" {
		return c.usageErr(filterCmd, "--app APP is required")
	}
	if len(pos) > 0 {
		return c.usageErr(filterCmd, "unexpected argument %q: the query is read from standard input", pos[0])
	}
	app, prog, ok := c.loadProgram(filterCmd, *appDir)
	if !ok {
		return exitUsage
	}
	req, err := readRequest(c.stdin, *secret, []string{"query"}, []evaluator.Action{evaluator.ActionRead, evaluator.ActionWrite})
	if err != nil {
		c.requestErr(filterCmd, err)
		return exitUsage
	}
	if !c.withAppValues(filterCmd, app, env, req) {
		return exitUsage
	}
	var client bson.D
	if req.Query != nil {
		if err := mql.ValidateQuery(req.Query); err != nil {
			var e *source.Error
			if errors.As(err, &e) {
				fmt.Fprintf(c.stderr, "rulegate filter: %s: /query%s: %s (%s)\n", stdinName, e.Ptr, e.Msg, e.Code)
			} else {
				fmt.Fprintf(c.stderr, "rulegate filter: query: %v\n", err)
			}
			return exitUsage
		}
		if err := bson.Unmarshal(req.Query, &client); err != nil {
			fmt.Fprintf(c.stderr, "rulegate filter: query: %v\n", err)
			return exitUsage
		}
	}
	ctx := context.Background()
	var rule, projection bson.D
	if req.Doc.Action == evaluator.ActionRead {
		rule, projection, err = prog.ReadFilter(ctx, req.Caller)
	} else {
		rule, err = prog.WriteFilter(ctx, req.Caller, req.Doc.Action, req.Doc.Update)
	}
	if err != nil {
		if errors.Is(err, evaluator.ErrNotExpressible) {
			fmt.Fprintf(c.stderr, "rulegate filter: %v; decide each document with \"rulegate eval\" instead\n", err)
		} else {
			fmt.Fprintf(c.stderr, "rulegate filter: %v\n", err)
		}
		return exitUsage
	}
	c.noRulesNote(filterCmd, prog, req.Caller.Namespace)
	out := bson.D{{Key: "filter", Value: mql.And(client, rule)}, {Key: "projection", Value: nil}}
	if projection != nil {
		out[1].Value = projection
	}
	b, err := bson.MarshalExtJSONIndent(out, false, false, "", "  ")
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate filter: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(c.stdout, "%s\n", b)
	return exitOK
}
