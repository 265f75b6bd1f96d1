package jsfunc_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// exampleApp is an export with one function.
func exampleApp(name, src string) *rules.App {
	return &rules.App{
		DataSources: []*rules.DataSource{{Name: "mongodb-atlas"}},
		JSFunctions: []*rules.JSFunction{{Name: name, File: "functions/" + name + ".js", Source: src, SourceFile: "functions/" + name + ".js"}},
	}
}

// Load compiles the functions of an export; a syntax error is positioned
// in its file.
func ExampleLoad() {
	_, err := jsfunc.Load(exampleApp("sum", "exports = function(a, b) {\n  return a +\n}"))
	fmt.Println(err)
	// Output:
	// functions/sum.js:3:1: Unexpected token } (jsfunc/syntax)
}

// Run makes a direct call; a client may not call a private function.
func ExampleFunctions_Run() {
	app := exampleApp("greet", "exports = function(name) { return `Hello, ${name ?? \"stranger\"}!` }")
	fs, err := jsfunc.Load(app)
	if err != nil {
		fmt.Println(err)
		return
	}
	v, err := fs.Run(context.Background(), jsfunc.Call{Name: "greet", Args: []value.Value{value.String("Ada")}})
	fmt.Println(v, err)
	app.JSFunctions[0].Private = true
	fs, _ = jsfunc.Load(app)
	_, err = fs.Run(context.Background(), jsfunc.Call{Name: "greet", FromClient: true})
	fmt.Println(err)
	// Output:
	// "Hello, Ada!" <nil>
	// jsfunc: function is private: "greet" cannot be called by a client
}

// oneDoc is a Data whose every collection holds one document, and
// oneColl such a collection (only FindOne: the other methods are nil).
type (
	oneDoc  struct{}
	oneColl struct{ jsfunc.Collection }
)

func (oneDoc) Collection(context.Context, jsfunc.As, string, string, string) (jsfunc.Collection, error) {
	return oneColl{}, nil
}

func (oneColl) FindOne(context.Context, bson.Raw, jsfunc.FindOptions) (bson.Raw, error) {
	v, _ := value.FromExtJSON([]byte(`{"email": "ada@example.com", "global": {"admin": true}}`))
	return v.Data, nil
}

// Bind gives the functions their collections, once.
func ExampleFunctions_Bind() {
	fs, err := jsfunc.Load(exampleApp("isGlobalAdmin", `exports = function(email) {
		return context.services.get("mongodb-atlas").db("wildaid").collection("User").findOne({email}).then(u => !!(u && u.global && u.global.admin)) }`))
	if err != nil {
		fmt.Println(err)
		return
	}
	call := jsfunc.Call{Name: "isGlobalAdmin", Args: []value.Value{value.String("ada@example.com")}}
	_, err = fs.Run(context.Background(), call)
	fmt.Println(err)
	fmt.Println(fs.Bind(oneDoc{}))
	fmt.Println(fs.Run(context.Background(), call))
	fmt.Println(fs.Bind(oneDoc{}))
	// Output:
	// "isGlobalAdmin": context.services.get("mongodb-atlas"): jsfunc: no Data bound (Functions.Bind)
	// <nil>
	// true <nil>
	// jsfunc: Data already bound
}

// Call runs a function for a %function of a rule: the Functions are the
// evaluator's FunctionSet.
func ExampleFunctions_Call() {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/notes/rules.json": {Data: []byte(`{"roles": [{"name": "owner", "read": true,
			"apply_when": {"%%true": {"%function": {"name": "isOwner", "arguments": ["%%user.id"]}}}}]}`)},
		"functions/isOwner.js": {Data: []byte(`exports = function(id) { if (id === "") throw new Error("no user"); return id === "u1" }`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	app.JSFunctions[0].Source, app.JSFunctions[0].SourceFile = `exports = function(id) { if (id === "") throw new Error("no user"); return id === "u1" }`, "functions/isOwner.js"
	fs, err := jsfunc.Load(app)
	if err != nil {
		fmt.Println(err)
		return
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fs))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, id := range []string{"u1", "u2", ""} {
		u, _ := expansion.NewUserObject([]byte(`{"id": "` + id + `"}`))
		d, err := prog.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.notes", Inputs: expansion.Inputs{User: u}},
			evaluator.Doc{Action: evaluator.ActionRead, Document: []byte{5, 0, 0, 0, 0}})
		fmt.Println(d.Allowed, d.Reason, err)
	}
	// A function that throws makes the expression that calls it false
	// (source/functions.txt): no role applies, without an error; a trace
	// (evaluator.WithTrace) says why.
	// Output:
	// true allowed <nil>
	// false no-role <nil>
	// false no-role <nil>
}

// Config tells a server how a function is configured.
func ExampleFunctions_Config() {
	app := exampleApp("audit", `exports = function() {}`)
	app.JSFunctions[0].RunAsSystem = true
	fs, _ := jsfunc.Load(app)
	cfg, ok := fs.Config("audit")
	fmt.Println(ok, cfg.RunAsSystem, cfg.Private, fs.Names())
	// Output:
	// true true false [audit]
}
