package evaluator_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// TestJSFunction: a call to a JavaScript function of the export fails
// with ErrJSFunction (denied) until a Go function of the same name
// provides it, which then decides.
func TestJSFunction(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"roles": [{"name": "member", "read": true,
			"apply_when": {"%%true": {"%function": {"name": "isMember", "arguments": ["%%user.id"]}}}}]}`)},
		"functions/isMember.js": {Data: []byte(`exports = function(id) { return id === "u1"; };`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u}}
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: []byte{5, 0, 0, 0, 0}}

	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	d, err := prog.Evaluate(context.Background(), caller, doc)
	if d.Allowed || d.Reason != evaluator.ReasonError || !errors.Is(err, evaluator.ErrJSFunction) || !errors.Is(err, evaluator.ErrFunctionCall) {
		t.Errorf("without a Go function: %+v, %v; want denied with ErrJSFunction", d, err)
	}

	isMember := func(_ context.Context, args []value.Value, _ evaluator.FuncEnv) (value.Value, error) {
		s, _ := args[0].StringOK()
		return value.Bool(s == "u1"), nil
	}
	prog, err = evaluator.Compile(app, evaluator.WithFunction("isMember", isMember))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	if d, err := prog.Evaluate(context.Background(), caller, doc); err != nil || !d.Allowed {
		t.Errorf("with a Go function: %+v, %v; want allowed", d, err)
	}
}

// TestJSFunctionMessages: the error of a call to a JavaScript function
// nothing provides says what to do: one with its source runs with
// package jsfunc's FunctionSet (WithFunctions); one the configuration
// names without a source needs a Go function.
func TestJSFunctionMessages(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"roles": [
			{"name": "a", "read": true, "apply_when": {"%%true": {"%function": {"name": "withSource", "arguments": []}}}},
			{"name": "b", "read": true, "apply_when": {"%%true": {"%function": {"name": "noSource", "arguments": []}}}}]}`)},
		"functions/config.json":   {Data: []byte(`[{"name": "withSource", "private": true}, {"name": "noSource", "private": true}]`)},
		"functions/withSource.js": {Data: []byte(`exports = function() { return false; };`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	u, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u}}
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: []byte{5, 0, 0, 0, 0}}
	_, err = prog.Evaluate(context.Background(), caller, doc)
	want := "evaluator: function call failed: withSource: evaluator: JavaScript function not provided: withSource is JavaScript (functions/withSource.js), which no FunctionSet of the program runs: run it with WithFunctions (package jsfunc) or provide it with WithFunction"
	if !errors.Is(err, evaluator.ErrJSFunction) || err.Error() != want {
		t.Errorf("with its source: %v\nwant %s", err, want)
	}
	prog, err = evaluator.Compile(app, evaluator.WithFunction("withSource", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Bool(false), nil
	}))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	_, err = prog.Evaluate(context.Background(), caller, doc)
	want = "evaluator: function call failed: noSource: evaluator: JavaScript function not provided: noSource is JavaScript (functions/config.json) and the export has no source for it: provide it with WithFunction"
	if !errors.Is(err, evaluator.ErrJSFunction) || err.Error() != want {
		t.Errorf("without a source: %v\nwant %s", err, want)
	}
}
