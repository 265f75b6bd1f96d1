package exprfunc_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// exampleApp returns an app with the functions/<name>.expr files given.
func exampleApp(files ...string) *rules.App {
	app := &rules.App{}
	for i := 0; i+1 < len(files); i += 2 {
		name, src := files[i], files[i+1]
		f := source.NewFile("functions/"+name+".expr", []byte(src))
		app.Functions = append(app.Functions, &rules.Function{At: rules.At{File: f}, Name: name, Source: src})
	}
	return app
}

// An app's functions/<name>.expr files run when the rules call them, once
// Load has compiled them and evaluator.WithFunctions installs them.
func Example() {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(`{"database": "db", "collection": "c", "roles": [
			{"name": "even", "apply_when": {"%%true": {"%function": {"name": "isEven", "arguments": ["%%root.n"]}}}, "read": true}]}`)},
		"functions/isEven.expr": {Data: []byte(`arguments[0] % 2 == 0`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fns, err := exprfunc.Load(app, exprfunc.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	p, err := evaluator.Compile(app, evaluator.WithFunctions(fns))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range []int32{42, 7} {
		doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: n}})
		dec, err := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.c"}, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
		fmt.Println(n, dec.Allowed, err)
	}
	// Output:
	// 42 true <nil>
	// 7 false <nil>
}

func ExampleLoad() {
	// functions/isEven.expr, called by {"%function": {"name": "isEven", "arguments": [42]}}
	fs, err := exprfunc.Load(exampleApp("isEven", `arguments[0] % 2 == 0`), exprfunc.Limits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := fs.Call(context.Background(), "isEven", []value.Value{value.Int32(42)}, evaluator.FuncEnv{})
	fmt.Println(v, err)

	_, err = exprfunc.Load(exampleApp("broken", "let x = 1;\nx + ", "owner", `root.owner`), exprfunc.Limits{})
	fmt.Println(err)
	// Output:
	// true <nil>
	// functions/broken.expr:2:4: function broken does not compile: unexpected token EOF (function/compile)
	// functions/owner.expr:1:1: function owner does not compile: unknown name root (function/compile)
}

func ExampleFunctions_Call() {
	fs, _ := exprfunc.Load(exampleApp(
		"onTeam", `arguments[0] in user.custom_data.teamIds`,
		"summary", `{"id": user.id, "teams": len(user.custom_data.teamIds), "limit": values.limit}`,
	), exprfunc.Limits{})
	user, _ := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": {"teamIds": ["red", "blue"]}}`))
	env := evaluator.FuncEnv{Namespace: "app.tasks", Inputs: &expansion.Inputs{User: user, Values: []byte(`{"limit": 5}`)}}

	v, _ := fs.Call(context.Background(), "onTeam", []value.Value{value.String("blue")}, env)
	fmt.Println(v)
	v, _ = fs.Call(context.Background(), "summary", nil, env)
	fmt.Println(v)
	_, err := fs.Call(context.Background(), "isAdmin", nil, env)
	fmt.Println(err)
	// Output:
	// true
	// {"id":"u1","limit":5,"teams":2}
	// unknown function "isAdmin" (function/unknown)
}

func ExampleFunctions_Names() {
	fs, _ := exprfunc.Load(exampleApp("half", `arguments[0] / 2`, "double", `arguments[0] * 2`), exprfunc.Limits{})
	fmt.Println(fs.Names())
	// Output: [double half]
}
