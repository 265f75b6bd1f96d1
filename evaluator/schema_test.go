package evaluator_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

func schemaApp(t *testing.T, files map[string]string) *rules.App {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	app, err := rules.LoadApp(fsys)
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// TestSchemaCompileError: a schema error is a Compile error with its place
// and code; a warning (an unenforced keyword) is not.
func TestSchemaCompileError(t *testing.T) {
	app := schemaApp(t, map[string]string{
		"data_sources/mongodb-atlas/db/coll/rules.json":  `{"roles": [{"name": "r", "read": true, "write": true}]}`,
		"data_sources/mongodb-atlas/db/coll/schema.json": `{"properties": {"a": {"bsonType": "integer", "pattern": "x"}}}`,
	})
	_, err := evaluator.Compile(app)
	if got := strings.Join(source.Codes(err), " "); got != "schema/type" {
		t.Fatalf("codes: got %q, want schema/type (the pattern warning is check's): %v", got, err)
	}
}

// TestSchemaDataSource: the schema of a namespace is the one of the data
// source WithDataSource names; without it, App.Schema's choice; a
// namespace without rules of its own (the default rule decides) still has
// its schema enforced.
func TestSchemaDataSource(t *testing.T) {
	app := schemaApp(t, map[string]string{
		"data_sources/a/default_rule.json":   `{"roles": [{"name": "all", "read": true, "write": true}]}`,
		"data_sources/a/db/coll/schema.json": `{"properties": {"n": {"bsonType": "string"}}}`,
		"data_sources/b/default_rule.json":   `{"roles": [{"name": "all", "read": true, "write": true}]}`,
		"data_sources/b/db/coll/schema.json": `{"properties": {"n": {"bsonType": "int"}}}`,
	})
	caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: exampleUser()}}
	doc := evaluator.Doc{Action: evaluator.ActionInsert, Document: exampleDoc(`{"n": 1}`)}
	for _, tc := range []struct {
		opts []evaluator.Option
		want evaluator.Reason
	}{
		{[]evaluator.Option{evaluator.WithDataSource("a")}, evaluator.ReasonSchema},
		{[]evaluator.Option{evaluator.WithDataSource("b")}, evaluator.ReasonAllowed},
	} {
		p, err := evaluator.Compile(app, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := p.Evaluate(context.Background(), caller, doc)
		if err != nil || dec.Reason != tc.want {
			t.Errorf("%d options: got %s %v, want %s", len(tc.opts), dec.Reason, err, tc.want)
		}
	}
}
