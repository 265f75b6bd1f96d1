package evaluator_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// exampleFunctionApp is an app whose role calls functions/isEven.expr.
func exampleFunctionApp() *rules.App {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(`{"database": "db", "collection": "c", "roles": [
			{"name": "even", "apply_when": {"%%true": {"%function": {"name": "isEven", "arguments": ["%%root.n"]}}}, "read": true}]}`)},
		"functions/isEven.expr": {Data: []byte(`arguments[0] % 2 == 0`)},
	})
	if err != nil {
		panic(err)
	}
	return app
}

func ExampleWithFunctions() {
	app := exampleFunctionApp()
	fns, err := exprfunc.Load(app, exprfunc.Limits{})
	if err != nil {
		panic(err)
	}
	p, err := evaluator.Compile(app, evaluator.WithFunctions(fns))
	if err != nil {
		panic(err)
	}
	for _, doc := range []string{`{"n": 42}`, `{"n": 7}`} {
		dec, err := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.c"}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(doc)})
		fmt.Println(dec.Allowed, err)
	}

	// Without the set, the evaluator cannot run the file.
	_, err = evaluator.Compile(app)
	fmt.Println(err)
	// Output:
	// true <nil>
	// false <nil>
	// data_sources/mongodb-atlas/db/c/rules.json:2:47: /roles/0/apply_when/%%true/%function: unknown function "isEven": functions/isEven.expr is not loaded (install the app's functions with WithFunctions) (rules/unknown-function)
}

func ExampleProgram_ShadowedFunctions() {
	app := exampleFunctionApp()
	fns, _ := exprfunc.Load(app, exprfunc.Limits{})
	always := func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Bool(true), nil
	}
	p, _ := evaluator.Compile(app, evaluator.WithFunctions(fns), evaluator.WithFunction("isEven", always))
	fmt.Println(p.ShadowedFunctions())
	dec, _ := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.c"}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"n": 7}`)})
	fmt.Println(dec.Allowed)
	// Output:
	// [isEven]
	// true
}
