package evaluator_test

import (
	"context"
	"fmt"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
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

func ExampleNewFunctions() {
	// functions/isEven.expr, called by {"%function": {"name": "isEven", "arguments": [42]}}
	fs, err := evaluator.NewFunctions(exampleApp("isEven", `arguments[0] % 2 == 0`), nil, evaluator.FuncLimits{})
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := fs.Call(context.Background(), "isEven", []value.Value{value.Int32(42)}, evaluator.FuncEnv{})
	fmt.Println(v, err)

	_, err = evaluator.NewFunctions(exampleApp("broken", "let x = 1;\nx + ", "owner", `root.owner`), nil, evaluator.FuncLimits{})
	fmt.Println(err)
	// Output:
	// true <nil>
	// functions/broken.expr:2:4: function broken does not compile: unexpected token EOF (function/compile)
	// functions/owner.expr:1:1: function owner does not compile: unknown name root (function/compile)
}

func ExampleFunctions_Call() {
	fs, _ := evaluator.NewFunctions(exampleApp(
		"onTeam", `arguments[0] in user.custom_data.teamIds`,
		"summary", `{"id": user.id, "teams": len(user.custom_data.teamIds), "limit": values.limit}`,
	), nil, evaluator.FuncLimits{})
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
	double := func(_ context.Context, args []value.Value, _ evaluator.FuncEnv) (value.Value, error) {
		n, _ := args[0].IntOK()
		return value.Int64(2 * n), nil
	}
	fs, _ := evaluator.NewFunctions(exampleApp("double", `arguments[0] * 2`, "half", `arguments[0] / 2`),
		map[string]evaluator.Func{"double": double}, evaluator.FuncLimits{})
	fmt.Println(fs.Names(), fs.Shadowed(), fs.Has("half"), fs.Has("triple"))
	// Output: [double half] [double] true false
}

func ExampleFunctions_Has() {
	fs, _ := evaluator.NewFunctions(exampleApp("isEven", `arguments[0] % 2 == 0`), nil, evaluator.FuncLimits{})
	fmt.Println(fs.Has("isEven"), fs.Has("isOdd"))
	// Output: true false
}

func ExampleFunctions_Shadowed() {
	goIsEven := func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Bool(true), nil
	}
	fs, _ := evaluator.NewFunctions(exampleApp("isEven", `arguments[0] % 2 == 0`),
		map[string]evaluator.Func{"isEven": goIsEven}, evaluator.FuncLimits{})
	fmt.Println(fs.Shadowed())
	// Output: [isEven]
}
