package evaluator_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const exampleRules = `{
  "database": "shop",
  "collection": "orders",
  "roles": [
    {"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true},
    {"name": "team", "apply_when": {"team": {"$in": "%%user.custom_data.teams"}},
     "fields": {"status": {"read": true}, "total": {"read": true}}}
  ]
}`

func exampleProgram() *evaluator.Program {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/shop/orders/rules.json": {Data: []byte(exampleRules)},
	})
	if err != nil {
		panic(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		panic(err)
	}
	return p
}

func exampleUser() expansion.User {
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "type": "normal", "custom_data": {"teams": ["red", "blue"]}}`))
	if err != nil {
		panic(err)
	}
	return u
}

func exampleDoc(ext string) bson.Raw {
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(ext), false, &d); err != nil {
		panic(err)
	}
	return d
}

func ExampleCompile() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/shop/orders/rules.json": {Data: []byte(exampleRules)},
	})
	p, err := evaluator.Compile(app)
	fmt.Println(p.Namespaces(), err)
	// Output: [shop.orders] <nil>
}

func ExampleCompileCollection() {
	c, err := rules.ParseRules(source.NewFile("rules.json", []byte(exampleRules)))
	if err != nil {
		panic(err)
	}
	p, err := evaluator.CompileCollection(c, evaluator.WithMaxNodes(1000))
	fmt.Println(p.Namespaces(), err)
	// Output: [shop.orders] <nil>
}

func ExampleProgram_Evaluate() {
	p := exampleProgram()
	for _, doc := range []string{
		`{"_id": 1, "owner_id": "u1", "team": "green", "total": 10}`,
		`{"_id": 2, "owner_id": "u2", "team": "red", "total": 20}`,
		`{"_id": 3, "owner_id": "u2", "team": "green", "total": 30}`,
	} {
		dec, err := p.Evaluate(context.Background(),
			evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}},
			evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(doc)})
		fmt.Println(dec.Allowed, dec.Role, dec.Reason, err)
	}
	// Output:
	// true owner allowed <nil>
	// true team allowed <nil>
	// false  no-role <nil>
}

func ExampleWithFields() {
	p := exampleProgram()
	dec, _ := p.Evaluate(context.Background(),
		evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}},
		evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 2, "owner_id": "u2", "team": "red", "status": "paid", "total": 20}`)},
		evaluator.WithFields())
	fmt.Println(dec.Role, dec.Fields.Read, dec.Fields.Write)
	// Output: team [status total] []
}

func ExampleWithTrace() {
	p := exampleProgram()
	var tr evaluator.Trace
	dec, _ := p.Evaluate(context.Background(),
		evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}},
		evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 2, "owner_id": "u2", "team": "red"}`)},
		evaluator.WithTrace(&tr))
	fmt.Println(dec.Allowed)
	fmt.Print(tr.String())
	// Output:
	// true
	// data_sources/mongodb-atlas/shop/orders/rules.json#/roles/0/apply_when/owner_id match: %%root.owner_id = "u2" vs %%user.id = "u1" -> false
	// data_sources/mongodb-atlas/shop/orders/rules.json#/roles/0 role: owner -> false
	// data_sources/mongodb-atlas/shop/orders/rules.json#/roles/1/apply_when/team match: %%root.team = "red" $in %%user.custom_data.teams = ["red","blue"] -> true
	// data_sources/mongodb-atlas/shop/orders/rules.json#/roles/1 role: team -> true
	// data_sources/mongodb-atlas/shop/orders/rules.json#/roles/1/fields/status/read fields.status.read -> true
	// data_sources/mongodb-atlas/shop/orders/rules.json# decision: allowed -> true
}

func ExampleProgram_Bind() {
	p := exampleProgram()
	ctx := context.Background()
	b, err := p.Bind(ctx, evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}})
	if err != nil {
		panic(err)
	}
	for _, doc := range []string{`{"_id": 1, "team": "blue"}`, `{"_id": 2, "team": "green"}`} {
		dec, _ := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(doc)})
		fmt.Println(dec.Allowed, dec.Role)
	}
	// Output:
	// true team
	// false
}

func ExampleProgram_ReadFilter() {
	p := exampleProgram()
	filter, projection, err := p.ReadFilter(context.Background(), evaluator.Caller{
		Namespace: "shop.orders",
		Inputs:    expansion.Inputs{User: exampleUser()},
	})
	if err != nil {
		panic(err)
	}
	f, _ := bson.MarshalExtJSON(filter, false, false)
	fmt.Println(string(f))
	// The owner role reads every field: no projection can apply to all
	// documents, so Decision.Fields redacts team documents one by one.
	fmt.Println("projection:", projection == nil)
	// Output:
	// {"$or":[{"owner_id":{"$eq":"u1"}},{"$and":[{"team":{"$in":["red","blue"]}},{"$nor":[{"owner_id":{"$eq":"u1"}}]}]}]}
	// projection: true
}

func ExampleProgram_WriteFilter() {
	p := exampleProgram()
	filter, err := p.WriteFilter(context.Background(),
		evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}},
		evaluator.ActionWrite, exampleDoc(`{"$set": {"status": "shipped"}}`))
	if err != nil {
		panic(err)
	}
	f, _ := bson.MarshalExtJSON(filter, false, false)
	fmt.Println(string(f))
	// Output: {"owner_id":{"$eq":"u1"}}
}

func ExampleWithFunction() {
	isEven := func(_ context.Context, args []value.Value, _ evaluator.FuncEnv) (value.Value, error) {
		n, ok := args[0].IntOK()
		return value.Bool(ok && n%2 == 0), nil
	}
	c, err := rules.ParseRules(source.NewFile("rules.json", []byte(`{"database": "db", "collection": "c", "roles": [
		{"name": "even", "apply_when": {"%%true": {"%function": {"name": "isEven", "arguments": ["%%root.n"]}}}, "read": true}]}`)))
	if err != nil {
		panic(err)
	}
	p, err := evaluator.CompileCollection(c, evaluator.WithFunction("isEven", isEven))
	if err != nil {
		panic(err)
	}
	for _, doc := range []string{`{"n": 42}`, `{"n": 7}`} {
		dec, err := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.c"}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(doc)})
		fmt.Println(dec.Allowed, err)
	}
	// Output:
	// true <nil>
	// false <nil>
}

func ExampleBound_ReadFilter() {
	p := exampleProgram()
	ctx := context.Background()
	b, _ := p.Bind(ctx, evaluator.Caller{Namespace: "shop.orders"})
	// No user: every clause needs a claim, so nothing can be read.
	filter, _, err := b.ReadFilter(ctx)
	f, _ := bson.MarshalExtJSON(filter, false, false)
	fmt.Println(string(f), err)
	// Output: {"_id":{"$in":[]}} <nil>
}

func ExampleBound_WriteFilter() {
	p := exampleProgram()
	ctx := context.Background()
	b, _ := p.Bind(ctx, evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}})
	filter, err := b.WriteFilter(ctx, evaluator.ActionDelete, nil)
	f, _ := bson.MarshalExtJSON(filter, false, false)
	fmt.Println(string(f), err)
	// Output: {"owner_id":{"$eq":"u1"}} <nil>
}

func ExampleWithDataSource() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/atlas-a/db/c/rules.json": {Data: []byte(`{"database": "db", "collection": "c", "roles": [{"name": "a", "read": true}]}`)},
		"data_sources/atlas-b/db/c/rules.json": {Data: []byte(`{"database": "db", "collection": "c", "roles": [{"name": "b", "read": true}]}`)},
	})
	p, _ := evaluator.Compile(app, evaluator.WithDataSource("atlas-b"))
	dec, _ := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.c"}, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1}`)})
	fmt.Println(dec.Role, p.HasDefaultRule())
	// Output: b false
}

func ExampleWithMaxNodes() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/shop/orders/rules.json": {Data: []byte(exampleRules)},
	})
	_, err := evaluator.Compile(app, evaluator.WithMaxNodes(5))
	fmt.Println(err)
	// Output: data_sources/mongodb-atlas/shop/orders/rules.json:1:1: the rules have 15 nodes, more than the limit of 5 (WithMaxNodes) (evaluator/too-large)
}

func ExampleStep_String() {
	s := evaluator.Step{File: "rules.json", Ptr: "/roles/0", What: "role", Detail: "owner", Result: true}
	fmt.Println(s)
	// Output: rules.json#/roles/0 role: owner -> true
}

func ExampleReasons() {
	for _, r := range evaluator.Reasons() {
		fmt.Println(r)
	}
	// Output:
	// allowed
	// no-rules
	// filter
	// no-role
	// document-filter
	// permission-denied
	// field-not-writable
	// field-not-readable
	// schema
	// leaving-scope
	// error
}

// The owner may write her order, but handing it to another user moves it
// out of her write scope: allowed by the rules (App Services decides the
// role on the stored order), denied with leaving-scope when asked, as
// package gate decides it.
func ExampleWithLeavingScopeDenied() {
	p := exampleProgram()
	caller := evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}}
	d := evaluator.Doc{Action: evaluator.ActionWrite,
		PrevDocument: exampleDoc(`{"_id": 1, "owner_id": "u1", "total": 10}`),
		Update:       exampleDoc(`{"$set": {"owner_id": "u9"}}`)}
	plain, _ := p.Evaluate(context.Background(), caller, d)
	checked, _ := p.Evaluate(context.Background(), caller, d, evaluator.WithLeavingScopeDenied())
	fmt.Println(plain.Role, plain.Reason)
	fmt.Println(checked.Role, checked.Reason)
	// Output:
	// owner allowed
	// owner leaving-scope
}

// A field-level denial names the field that decided it.
func ExampleDecision_field() {
	p := exampleProgram()
	dec, _ := p.Evaluate(context.Background(),
		evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}},
		evaluator.Doc{Action: evaluator.ActionWrite,
			PrevDocument: exampleDoc(`{"_id": 2, "owner_id": "u2", "team": "red", "status": "paid"}`),
			Update:       exampleDoc(`{"$set": {"status": "refunded"}}`)})
	fmt.Println(dec.Role, dec.Reason, dec.Field)
	// Output: team field-not-writable status
}
