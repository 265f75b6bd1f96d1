package evaluator_test

import (
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

func loadRules(t *testing.T, rulesJSON string) *rules.App {
	t.Helper()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rulesJSON)}})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return app
}

// TestCompileErrors golden-tests the text of compile errors: each carries
// file:line:col, a JSON pointer where one applies, and a stable code.
func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		name, rules string
		opts        []evaluator.Option
		want        string
		code        string
	}{
		{
			name:  "node limit",
			rules: `{"database": "db", "collection": "coll", "roles": [{"name": "r", "apply_when": {"a": 1, "b": 2, "c": {"$in": [1, 2]}}, "read": true}]}`,
			opts:  []evaluator.Option{evaluator.WithMaxNodes(3)},
			want:  "data_sources/mongodb-atlas/db/coll/rules.json:1:1: the rules have 15 nodes, more than the limit of 3 (WithMaxNodes) (evaluator/too-large)",
			code:  evaluator.CodeTooLarge,
		},
		{
			name:  "unknown function",
			rules: `{"database": "db", "collection": "coll", "roles": [{"name": "r", "apply_when": {"%%true": {"%function": {"name": "nope", "arguments": []}}}, "read": true}]}`,
			want:  `data_sources/mongodb-atlas/db/coll/rules.json:1:92: /roles/0/apply_when/%%true/%function: %function "nope" is not defined (no JavaScript function of that name in functions/, no functions/nope.expr, and no function provided by the program) (rules/unknown-function)`,
			code:  "rules/unknown-function",
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := evaluator.Compile(loadRules(t, c.rules), c.opts...)
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != c.want {
				t.Errorf("error:\n got %s\nwant %s", err, c.want)
			}
			var list source.ErrorList
			if !errors.As(err, &list) || len(list) == 0 || list[0].Code != c.code {
				t.Errorf("error is not a source.ErrorList with code %s: %#v", c.code, err)
			}
		})
	}
	if _, err := evaluator.Compile(nil); err == nil {
		t.Error("Compile(nil): no error")
	}
	if _, err := evaluator.Compile(loadRules(t, `{"database": "db", "collection": "coll", "roles": []}`), evaluator.WithDataSource("other")); err == nil {
		t.Error("WithDataSource of an unknown data source: no error")
	}
}

// TestWithDataSource: the rules of the named data source are enforced.
func TestWithDataSource(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/a/db/coll/rules.json": {Data: []byte(`{"database": "db", "collection": "coll", "roles": [{"name": "a", "read": true}]}`)},
		"data_sources/b/db/coll/rules.json": {Data: []byte(`{"database": "db", "collection": "coll", "roles": [{"name": "b", "read": true}]}`)},
		"data_sources/b/default_rule.json":  {Data: []byte(`{"roles": [{"name": "dflt", "read": true}]}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	for ds, want := range map[string]string{"a": "a", "b": "b"} {
		p, err := evaluator.Compile(app, evaluator.WithDataSource(ds))
		if err != nil {
			t.Fatal(err)
		}
		dec, _ := p.Evaluate(t.Context(), evaluator.Caller{Namespace: "db.coll"}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1}`)})
		if dec.Role != want {
			t.Errorf("data source %s: role %q, want %q", ds, dec.Role, want)
		}
		if got := p.HasDefaultRule(); got != (ds == "b") {
			t.Errorf("data source %s: HasDefaultRule %v", ds, got)
		}
	}
}

// TestDefaultRuleSkipsReservedNamespaces: a default rule governs the
// collections of its data source that have no rules, but never MongoDB's
// own databases (admin, local with the oplog of every write, config) or
// system collections (the MongoDB manual, "Reserved Database Names"): App
// Services never served those to users, and a rule written for the app's
// data must not open them. A rules.json naming one still applies.
func TestDefaultRuleSkipsReservedNamespaces(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/a/default_rule.json":      {Data: []byte(`{"roles": [{"name": "dflt", "read": true, "write": true}]}`)},
		"data_sources/a/local/ruled/rules.json": {Data: []byte(`{"database": "local", "collection": "ruled", "roles": [{"name": "own", "read": true}]}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	for ns, want := range map[string]evaluator.Reason{
		"app.notes":        evaluator.ReasonAllowed,
		"local.oplog.rs":   evaluator.ReasonNoRules,
		"admin.users":      evaluator.ReasonNoRules,
		"config.chunks":    evaluator.ReasonNoRules,
		"Admin.x":          evaluator.ReasonNoRules,
		"app.system.users": evaluator.ReasonNoRules,
		"app.system.views": evaluator.ReasonNoRules,
		"local.ruled":      evaluator.ReasonAllowed,
		"app.systems":      evaluator.ReasonAllowed,
	} {
		dec, err := p.Evaluate(t.Context(), evaluator.Caller{Namespace: ns}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1}`)})
		if err != nil {
			t.Fatal(err)
		}
		if dec.Reason != want {
			t.Errorf("%s: reason %q, want %q", ns, dec.Reason, want)
		}
	}
}
