package evaluator_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// TestFunctionErrorIsLazy: a failing %function denies (ReasonError) the
// decisions that need it, and only those: an earlier role that applies
// decides without calling it, as App Services evaluates roles in order.
func TestFunctionErrorIsLazy(t *testing.T) {
	boom := errors.New("boom")
	fail := func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Value{}, boom
	}
	c, err := rules.ParseRules(source.NewFile("rules.json", []byte(`{"database": "db", "collection": "c", "roles": [
		{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true},
		{"name": "checked", "apply_when": {"%%true": {"%function": {"name": "check", "arguments": ["%%user.id"]}}}, "read": true}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := evaluator.CompileCollection(c, evaluator.WithFunction("check", fail))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	ctx := context.Background()
	caller := evaluator.Caller{Namespace: "db.c", Inputs: expansion.Inputs{User: u}}

	dec, err := p.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1, "owner_id": "u1"}`)})
	if err != nil || !dec.Allowed || dec.Role != "owner" {
		t.Errorf("owner document: %+v, %v; want allowed by owner", dec, err)
	}
	dec, err = p.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 2, "owner_id": "u2"}`)})
	if !errors.Is(err, boom) || !errors.Is(err, evaluator.ErrFunctionCall) || dec.Allowed || dec.Reason != evaluator.ReasonError {
		t.Errorf("other document: %+v, %v; want denied with the function's error", dec, err)
	}
	if _, _, err := p.ReadFilter(ctx, caller); !errors.Is(err, boom) {
		t.Errorf("ReadFilter: %v, want the function's error", err)
	}
}

// mapSet is a FunctionSet of Go functions, as a package such as exprfunc
// provides for an app's function files.
type mapSet map[string]evaluator.Func

func (s mapSet) Names() []string {
	var names []string
	for name := range s {
		names = append(names, name)
	}
	return names
}

func (s mapSet) Call(ctx context.Context, name string, args []value.Value, env evaluator.FuncEnv) (value.Value, error) {
	return s[name](ctx, args, env)
}

func constFunc(v value.Value, err error) evaluator.Func {
	return func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) { return v, err }
}

// funcApp is an app whose one role calls %function name with %%root.n,
// and whose functions/<file>.expr files exist (their sources are not
// read by the evaluator).
func funcApp(t *testing.T, name string, files ...string) *rules.App {
	t.Helper()
	c, err := rules.ParseRules(source.NewFile("data_sources/mongodb-atlas/db/c/rules.json", []byte(`{"database": "db", "collection": "c", "roles": [
		{"name": "called", "apply_when": {"%%true": {"%function": {"name": "`+name+`", "arguments": ["%%root.n"]}}}, "read": true}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	app := &rules.App{DataSources: []*rules.DataSource{{Name: "mongodb-atlas", Collections: []*rules.Collection{c}}}}
	for _, f := range files {
		src := source.NewFile("functions/"+f+".expr", []byte("true"))
		app.Functions = append(app.Functions, &rules.Function{At: rules.At{File: src}, Name: f, Source: "true"})
	}
	return app
}

func funcAllowed(t *testing.T, p *evaluator.Program) (bool, error) {
	t.Helper()
	dec, err := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.c"}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1, "n": 2}`)})
	return dec.Allowed, err
}

// TestWithFunctions: %function calls the installed FunctionSet; a
// WithFunction Go function of the same name wins and the set's function
// is reported as shadowed.
func TestWithFunctions(t *testing.T) {
	set := mapSet{"f": constFunc(value.Bool(true), nil), "g": constFunc(value.Bool(true), nil)}
	p, err := evaluator.Compile(funcApp(t, "f"), evaluator.WithFunctions(set))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := funcAllowed(t, p); !ok || err != nil {
		t.Errorf("set's f: allowed %v, %v; want allowed", ok, err)
	}
	if got := p.ShadowedFunctions(); got != nil {
		t.Errorf("ShadowedFunctions() = %v, want none", got)
	}
	p, err = evaluator.Compile(funcApp(t, "f"), evaluator.WithFunctions(set), evaluator.WithFunction("g", constFunc(value.Bool(false), nil)),
		evaluator.WithFunction("f", constFunc(value.Bool(false), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := funcAllowed(t, p); ok || err != nil {
		t.Errorf("Go f over the set's f: allowed %v, %v; want denied by the Go function", ok, err)
	}
	if got, want := p.ShadowedFunctions(), []string{"f", "g"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ShadowedFunctions() = %v, want %v", got, want)
	}
}

// TestFunctionSetErrors: a Go function's or a set's error denies and
// wraps ErrFunctionCall, whether or not the set wrapped it.
func TestFunctionSetErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, opt := range []evaluator.Option{
		evaluator.WithFunction("f", constFunc(value.Value{}, boom)),
		evaluator.WithFunctions(mapSet{"f": constFunc(value.Value{}, boom)}),
	} {
		p, err := evaluator.Compile(funcApp(t, "f"), opt)
		if err != nil {
			t.Fatal(err)
		}
		ok, err := funcAllowed(t, p)
		if ok || !errors.Is(err, boom) || !errors.Is(err, evaluator.ErrFunctionCall) || err.Error() != "evaluator: function call failed: f: boom" {
			t.Errorf("allowed %v, %v; want a denial wrapping boom and ErrFunctionCall", ok, err)
		}
	}
	wrapped := fmt.Errorf("%w: set", evaluator.ErrFunctionCall)
	p, err := evaluator.Compile(funcApp(t, "f"), evaluator.WithFunctions(mapSet{"f": constFunc(value.Value{}, wrapped)}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := funcAllowed(t, p); err == nil || err.Error() != wrapped.Error() {
		t.Errorf("error %v, want %v as the set returned it", err, wrapped)
	}
}

// TestFunctionFilesNeedASet: the evaluator does not run functions/*.expr
// itself; without a set holding the function, a call to it is an unknown
// function (rules.Validate accepts it: the file exists).
func TestFunctionFilesNeedASet(t *testing.T) {
	_, err := evaluator.Compile(funcApp(t, "isEven", "isEven"))
	want := `data_sources/mongodb-atlas/db/c/rules.json:2:48: /roles/0/apply_when/%%true/%function: unknown function "isEven": functions/isEven.expr is not loaded (install the app's functions with WithFunctions) (rules/unknown-function)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got  %v\n want %s", err, want)
	}
	_, err = evaluator.Compile(funcApp(t, "nope", "isEven"), evaluator.WithFunctions(mapSet{}))
	if !reflect.DeepEqual(source.Codes(err), []string{rules.CodeUnknownFunction}) {
		t.Errorf("unknown function: %v", err)
	}
}

// TestWithFunctionNeedsNameAndFunc: a Go function with an empty name or a
// nil Func is refused at Compile (function/name).
func TestWithFunctionNeedsNameAndFunc(t *testing.T) {
	_, err := evaluator.Compile(funcApp(t, "f"), evaluator.WithFunction("f", constFunc(value.Bool(true), nil)),
		evaluator.WithFunction("", constFunc(value.Bool(true), nil)), evaluator.WithFunction("nilFunc", nil))
	want := "Go function \"\": a function needs a name and a non-nil Func (function/name)\nGo function \"nilFunc\": a function needs a name and a non-nil Func (function/name)"
	if err == nil || err.Error() != want {
		t.Errorf("error\n got  %v\n want %s", err, want)
	}
}
