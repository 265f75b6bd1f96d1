package rules_test

import (
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

func exampleApp() fstest.MapFS {
	return fstest.MapFS{
		"data_sources/mongodb-atlas/app/items/rules.json": {Data: []byte(`{
  "database": "app",
  "collection": "items",
  "roles": [
    {"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true},
    {"name": "reader", "apply_when": {}, "read": true, "insert": false}
  ]
}`)},
		"data_sources/mongodb-atlas/default_rule.json": {Data: []byte(`{"roles": [{"name": "none", "apply_when": {}, "read": false}]}`)},
		"auth/custom_user_data.json": {Data: []byte(`{"enabled": true, "mongo_service_name": "mongodb-atlas",
  "database_name": "app", "collection_name": "users", "user_id_field": "user_id"}`)},
	}
}

func ExampleLoadApp() {
	app, err := rules.LoadApp(exampleApp())
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ds := range app.DataSources {
		for _, c := range ds.Collections {
			fmt.Println(ds.Name, c.Namespace(), len(c.Roles), "roles")
		}
	}
	fmt.Println("custom user data in", app.CustomUserData.Namespace())
	// Output:
	// mongodb-atlas app.items 2 roles
	// custom user data in app.users
}

// An app exported in the realm-cli v1 / Stitch layout is read as well:
// services/<service>/rules/<db>.<coll>.json, with its inline schema kept.
func ExampleLoadApp_legacy() {
	app, err := rules.LoadApp(fstest.MapFS{
		"stitch.json":                        {Data: []byte(`{"config_version": 20180301}`)},
		"services/mongodb-atlas/config.json": {Data: []byte(`{"name": "mongodb-atlas", "type": "mongodb-atlas"}`)},
		"services/mongodb-atlas/rules/todo.items.json": {Data: []byte(`{"id": "5b183ad4b8b99857310a34b9",
  "roles": [{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true}],
  "schema": {"properties": {"owner_id": {"bsonType": "string"}}}}`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	c, ds := app.Collection("todo.items")
	fmt.Println(ds.Name, c.FileName(), c.Roles[0].Name, "schema at", c.InlineSchema.Ptr)
	// Output:
	// mongodb-atlas services/mongodb-atlas/rules/todo.items.json owner schema at /schema
}

func ExampleIsApp() {
	fmt.Println(rules.IsApp(exampleApp()))
	fmt.Println(rules.IsApp(fstest.MapFS{"backend/data_sources/mongodb-atlas/config.json": {Data: []byte(`{}`)}}))
	// Output:
	// true
	// false
}

func ExampleLoadApp_errors() {
	fsys := fstest.MapFS{
		"data_sources/mongodb-atlas/app/a/rules.json": {Data: []byte(`{"roles": [{"name": "r", "raed": true}]}`)},
		"data_sources/mongodb-atlas/app/b/rules.json": {Data: []byte(`{"roles": [{"name": "r", "read": {"n": {"$in": 5}}}]}`)},
	}
	_, err := rules.LoadApp(fsys)
	fmt.Println(err)
	// Output:
	// data_sources/mongodb-atlas/app/a/rules.json:1:26: /roles/0/raed: unknown key "raed" (did you mean "read"?) (rules/unknown-key)
	// data_sources/mongodb-atlas/app/b/rules.json:1:48: /roles/0/read/n/$in: $in expects an array, got 5 (rules/type)
}

func ExampleApp_Collection() {
	app, _ := rules.LoadApp(exampleApp())
	c, ds := app.Collection("app.items")
	fmt.Println(c.Namespace(), "in", ds.Name, "first role:", c.Roles[0].Name)
	c, _ = app.Collection("app.other")
	fmt.Println(c == nil)
	// Output:
	// app.items in mongodb-atlas first role: owner
	// true
}

func ExampleApp_DefaultRuleFor() {
	app, _ := rules.LoadApp(exampleApp())
	d := app.DefaultRuleFor("app.other")
	fmt.Println(d.Roles[0].Name)
	// Output: none
}

func ExampleParseRules() {
	f := source.NewFile("rules.json", []byte(`{
  "database": "app",
  "collection": "items",
  "roles": [{
    "name": "teammate",
    "apply_when": {"team": "%%user.custom_data.team"},
    "document_filters": {"read": {"%%user.custom_data.teamIds": {"%in": ["red", "blue"]}}},
    "read": true
  }]
}`))
	c, err := rules.ParseRules(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rules.Summary(c))
	// Output:
	// collection app.items
	// role "teammate"
	//   apply_when: team[%%root.team] == %%user.custom_data.team
	//   document_filters
	//   document_filters.read: %%user.custom_data.teamIds {$in(%in) [string:"red", string:"blue"]}
	//   read: true
}

func ExampleParseDefaultRule() {
	f := source.NewFile("default_rule.json", []byte(`{"roles": [{"name": "readAll", "apply_when": {}, "read": true}], "filters": []}`))
	d, err := rules.ParseDefaultRule(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(rules.Summary(d))
	// Output:
	// default_rule
	// role "readAll"
	//   apply_when: and()
	//   read: true
}

func ExampleParseCustomUserData() {
	f := source.NewFile("auth/custom_user_data.json", []byte(`{
  "enabled": true,
  "mongo_service_name": "mongodb-atlas",
  "database_name": "app",
  "collection_name": "users",
  "user_id_field": "user_id"
}`))
	c, err := rules.ParseCustomUserData(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Enabled, c.Namespace(), c.UserIDField)
	// Output: true app.users user_id
}

func ExampleParseExpr() {
	e, err := rules.ParseExpr(source.NewFile("expr.json", []byte(`{"%or": [{"%%user.custom_data.admin": true}, {"owner_id": "%%user.id"}]}`)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rules.Summary(e))
	// Output: %or(%%user.custom_data.admin == bool:true, owner_id[%%root.owner_id] == %%user.id)
}

func ExampleValidate() {
	fsys := fstest.MapFS{
		"data_sources/mongodb-atlas/app/items/rules.json": {Data: []byte(`{
  "roles": [
    {"name": "all", "apply_when": {}, "read": true},
    {"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "write": true}
  ],
  "filters": [
    {"name": "mine", "apply_when": {"owner_id": "%%user.id"}, "query": {}}
  ]
}`)},
	}
	app, err := rules.LoadApp(fsys)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
		fmt.Println(e)
	}
	// Output:
	// data_sources/mongodb-atlas/app/items/rules.json:4:5: /roles/1: warning: role "owner" never applies: the earlier role "all" always applies (rules/shadowed-role)
	// data_sources/mongodb-atlas/app/items/rules.json:7:37: /filters/0/apply_when/owner_id: a filter's apply_when is evaluated before any document is read: it cannot use the field "owner_id" (%%root.owner_id) (rules/phase)
}

func ExampleFormat() {
	c, err := rules.ParseRules(source.NewFile("rules.json", []byte(
		`{"database":"app","collection":"items","roles":[{"name":"owner","apply_when":{"owner_id":"%%user.id"},"read":true}]}`)))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(rules.Format(c)))
	// Output:
	// {
	//   "database": "app",
	//   "collection": "items",
	//   "roles": [
	//     {
	//       "name": "owner",
	//       "apply_when": {
	//         "owner_id": "%%user.id"
	//       },
	//       "read": true
	//     }
	//   ],
	//   "filters": []
	// }
}

func ExampleWalk() {
	c, _ := rules.ParseRules(source.NewFile("rules.json", []byte(
		`{"roles":[{"name":"r","apply_when":{"a":"%%user.id","b":{"$in":"%%values.ids"}}}]}`)))
	rules.Walk(c, func(n rules.Node) bool {
		if x, ok := n.(*rules.ExpansionRef); ok {
			fmt.Println(x.Ptr, x.Ref)
		}
		return true
	})
	// Output:
	// /roles/0/apply_when/a %%user.id
	// /roles/0/apply_when/b/$in %%values.ids
}

func ExampleSummary() {
	e, _ := rules.ParseExpr(source.NewFile("expr.json", []byte(`{"_id": {"%stringToOid": "%%user.id"}, "n": {"$numberLong": "5"}}`)))
	fmt.Println(rules.Summary(e))
	// Output: and(_id[%%root._id] == %stringToOid(%%user.id), n[%%root.n] == long:5)
}

func ExampleApp_Schema() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/shop/orders/schema.json": {Data: []byte(`{"bsonType": "object", "required": ["total"]}`)},
	})
	s := app.Schema("shop.orders")
	fmt.Println(s.Namespace(), s.Dir, s.Node.Get("required").Elems[0].Str)
	fmt.Println(app.Schema("shop.users") == nil)
	// Output:
	// shop.orders data_sources/mongodb-atlas/shop/orders total
	// true
}

func ExampleParseExprNode() {
	f := source.NewFile("schema.json", []byte(`{"properties": {"owner_id": {"validate": {"%%prev": "%%this"}}}}`))
	n, _ := source.ParseJSON(f)
	e, err := rules.ParseExprNode(n.Get("properties").Get("owner_id").Get("validate"))
	fmt.Println(e.Loc().Ptr, err)
	// Output: /properties/owner_id/validate/%%prev <nil>
}

func ExampleApp_Inputs() {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"roles": [
			{"name": "admin", "apply_when": {"%%user.id": {"$in": "%%values.admins"}}, "read": true}]}`)},
		"values/admins.json":           {Data: []byte(`{"name": "admins", "value": ["u1"], "from_secret": false}`)},
		"values/apiKey.json":           {Data: []byte(`{"name": "apiKey", "value": "stripeKey", "from_secret": true}`)},
		"environments/production.json": {Data: []byte(`{"values": {"baseUrl": "https://example.com"}}`)},
		"realm_config.json":            {Data: []byte(`{"environment": "production"}`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The export holds no secret: the caller provides it.
	in, err := app.Inputs(expansion.Inputs{Values: []byte(`{"apiKey": "sk_test"}`)}, app.Environment)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(in.Values))
	fmt.Println(string(in.Environment))
	// Output:
	// {"admins":["u1"],"apiKey":"sk_test"}
	// {"tag":"production","values":{"baseUrl":"https://example.com"}}
}

// Besides its rules, an export says which app it is, how users log in and
// how the Data API runs: App.ID, App.Providers (App.Provider finds one by
// name) and App.DataAPI.
func ExampleApp_Provider() {
	app, err := rules.LoadApp(fstest.MapFS{
		"realm_config.json": {Data: []byte(`{"app_id": "todo-abcde", "name": "todo"}`)},
		"auth/providers.json": {Data: []byte(`{
  "local-userpass": {"name": "local-userpass", "type": "local-userpass", "config": {"autoConfirm": true}, "disabled": false},
  "custom-token": {"name": "custom-token", "type": "custom-token", "disabled": false,
    "config": {"audience": ["todo"], "signingAlgorithm": "HS256", "useJWKURI": false},
    "secret_config": {"signingKeys": ["jwtSecret"]},
    "metadata_fields": [{"required": true, "name": "user.email", "field_name": "email"}]}}`)},
		"https_endpoints/data_api_config.json": {Data: []byte(`{"disabled": false, "versions": ["v1"], "return_type": "EJSON"}`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("app", app.ID)
	fmt.Println("auto-confirm:", app.Provider("local-userpass").UserPass.AutoConfirm)
	jwt := app.Provider("custom-token")
	fmt.Println(jwt.CustomToken.SigningAlgorithm, jwt.CustomToken.SigningKeys, jwt.MetadataFields[0].Path, "->", jwt.MetadataFields[0].FieldName)
	fmt.Println("data api", app.DataAPI.Versions, app.DataAPI.ReturnType)
	// Output:
	// app todo-abcde
	// auto-confirm: true
	// HS256 [jwtSecret] [user email] -> email
	// data api [v1] EJSON
}

// The export's JavaScript functions are their configuration
// (functions/config.json) and their source (functions/<name>.js); its
// authentication triggers are triggers/<name>.json. Validate warns of a
// private function nothing calls.
func ExampleLoadApp_functions() {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/app/items/rules.json": {Data: []byte(`{"roles": [{"name": "admin", "read": true,
  "apply_when": {"%%true": {"%function": {"name": "isGlobalAdmin", "arguments": ["%%user.data.email"]}}}}]}`)},
		"functions/config.json": {Data: []byte(`[
  {"name": "isGlobalAdmin", "private": true, "run_as_system": true},
  {"name": "setLastLogin", "private": true},
  {"name": "unused", "private": true}
]`)},
		"functions/isGlobalAdmin.js": {Data: []byte(`exports = function(email) {
  return context.services.get("mongodb-atlas").db("app").collection("User").findOne({email}).then(u => !!(u && u.global && u.global.admin));
};`)},
		"functions/setLastLogin.js": {Data: []byte(`exports = async function(authEvent) { return authEvent.user.id; };`)},
		"functions/unused.js":       {Data: []byte(`exports = function() { return 0; };`)},
		"triggers/onLogin.json": {Data: []byte(`{"name": "onLogin", "type": "AUTHENTICATION", "function_name": "setLastLogin",
  "config": {"operation_type": "LOGIN", "providers": ["local-userpass"]}, "disabled": false}`)},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range app.JSFunctions {
		fmt.Println(f.Name, f.SourceFile, "private:", f.Private, "system:", f.RunAsSystem)
	}
	for _, t := range app.Triggers {
		fmt.Println("trigger", t.Name, t.Operation, t.Providers, "->", t.FunctionName)
	}
	for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
		fmt.Println(e.Code, e.Ptr)
	}
	// Output:
	// isGlobalAdmin functions/isGlobalAdmin.js private: true system: true
	// setLastLogin functions/setLastLogin.js private: true system: false
	// unused functions/unused.js private: true system: false
	// trigger onLogin LOGIN [local-userpass] -> setLastLogin
	// rules/unused-function /2
}
