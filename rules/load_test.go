package rules_test

import (
	"io/fs"
	"os"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

func TestLoadApp(t *testing.T) {
	app, err := rules.LoadApp(os.DirFS("testdata/app"))
	if err != nil {
		t.Fatal(err)
	}
	if len(app.DataSources) != 1 || app.DataSources[0].Name != "mongodb-atlas" {
		t.Fatalf("data sources: %+v", app.DataSources)
	}
	ds := app.DataSources[0]
	if ds.DefaultRule == nil || len(ds.DefaultRule.Roles) != 1 {
		t.Fatalf("default rule: %+v", ds.DefaultRule)
	}
	var names []string
	for _, c := range ds.Collections {
		names = append(names, c.Namespace())
	}
	if got := strings.Join(names, " "); got != "app.items app.users" {
		t.Fatalf("collections = %q", got)
	}
	c, cds := app.Collection("app.items")
	if c == nil || cds != ds || len(c.Roles) != 3 || len(c.Filters) != 1 {
		t.Fatalf("Collection(app.items) = %v, %v", c, cds)
	}
	if c.Dir != "data_sources/mongodb-atlas/app/items" || c.File.Name != "data_sources/mongodb-atlas/app/items/rules.json" {
		t.Errorf("Dir = %q, File = %q", c.Dir, c.File.Name)
	}
	if c, _ := app.Collection("app.nothing"); c != nil {
		t.Errorf("Collection(app.nothing) = %v", c)
	}
	if app.DefaultRuleFor("app.nothing") != ds.DefaultRule || app.DefaultRuleFor("app.items") != ds.DefaultRule {
		t.Errorf("DefaultRuleFor")
	}
	cud := app.CustomUserData
	if cud == nil || !cud.Enabled || cud.Namespace() != "app.users" || cud.UserIDField != "user_id" || cud.MongoServiceName != "mongodb-atlas" || cud.OnUserCreationFunctionName != "onCreate" {
		t.Fatalf("custom user data: %+v", cud)
	}
	if len(app.Functions) != 1 || app.Functions[0].Name != "isEven" || !strings.Contains(app.Functions[0].Source, "args[0]") {
		t.Fatalf("functions: %+v", app.Functions)
	}
	if _, ok := app.Files["data_sources/mongodb-atlas/default_rule.json"]; !ok {
		t.Errorf("Files lacks default_rule.json: %v", app.Files)
	}
}

// errFS fails to open one file.
type errFS struct {
	fstest.MapFS
	bad string
}

func (e errFS) Open(name string) (fs.File, error) {
	if name == e.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return e.MapFS.Open(name)
}

func (e errFS) ReadFile(name string) ([]byte, error) {
	if name == e.bad {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return e.MapFS.ReadFile(name)
}

func TestLoadAppUnreadable(t *testing.T) {
	fsys := errFS{MapFS: fstest.MapFS{
		"data_sources/s/db/a/rules.json": {Data: []byte(`{"roles": []}`)},
		"data_sources/s/db/b/rules.json": {Data: []byte(`{"roles": []}`)},
	}, bad: "data_sources/s/db/b/rules.json"}
	app, err := rules.LoadApp(fsys)
	if got := source.Codes(err); len(got) != 1 || got[0] != rules.CodeFile {
		t.Fatalf("LoadApp = %v, want one rules/file", err)
	}
	if !strings.HasPrefix(err.Error(), "data_sources/s/db/b/rules.json: cannot read: ") {
		t.Errorf("error text: %s", err)
	}
	// What could be read is still returned, for tools.
	if app == nil || len(app.DataSources) != 1 || len(app.DataSources[0].Collections) != 1 {
		t.Fatalf("partial app: %+v", app)
	}
	// Validate reports the load problems too.
	if got := source.Codes(rules.Validate(app, rules.ValidateOptions{}).Err()); len(got) != 1 || got[0] != rules.CodeFile {
		t.Errorf("Validate(partial app) codes = %v, want [rules/file]", got)
	}
}

func TestLoadAppEmpty(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{})
	if err != nil || len(app.DataSources) != 0 || app.CustomUserData != nil || len(app.Functions) != 0 {
		t.Fatalf("empty app: %+v, %v", app, err)
	}
	if c, ds := app.Collection("a.b"); c != nil || ds != nil || app.DefaultRuleFor("a.b") != nil {
		t.Error("an empty app has no rules")
	}
	if errs := rules.Validate(app, rules.ValidateOptions{}); len(errs) != 0 {
		t.Errorf("Validate(empty) = %v", errs)
	}
}

// TestLoadAppLegacy reads the realm-cli v1 / Stitch layout: data sources
// from services/<svc>/config.json of a data source type only, rule files
// by namespace, the inline schema kept, custom user data from config.json.
func TestLoadAppLegacy(t *testing.T) {
	fsys := fstest.MapFS{
		"config.json":                         {Data: []byte(`{"config_version": 20200603, "custom_user_data_config": {"enabled": true, "mongo_service_id": "abc", "database_name": "app", "collection_name": "users", "user_id_field": "uid"}}`)},
		"services/atlas/config.json":          {Data: []byte(`{"id": "abc", "name": "atlas", "type": "mongodb-atlas", "config": {}}`)},
		"services/atlas/rules/app.users.json": {Data: []byte(`{"id": "1", "roles": [{"name": "r", "read": true}], "schema": {"properties": {"uid": {"bsonType": "string"}}}}`)},
		"services/atlas/rules/app.items.json": {Data: []byte(`{"database": "app", "collection": "items", "roles": []}`)},
		"services/http/config.json":           {Data: []byte(`{"name": "http", "type": "http"}`)},
		"services/http/rules/get.json":        {Data: []byte(`{"name": "get", "actions": ["get"], "when": {}}`)},
		"functions/isAdmin/config.json":       {Data: []byte(`{"name": "isAdmin", "private": false,}`)},
		"functions/isEven.expr":               {Data: []byte(`args[0] % 2 == 0`)},
	}
	if !rules.IsApp(fsys) {
		t.Fatal("IsApp = false for the old layout")
	}
	app, err := rules.LoadApp(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(app.DataSources) != 1 || app.DataSources[0].Name != "atlas" {
		t.Fatalf("data sources: %+v", app.DataSources)
	}
	c, _ := app.Collection("app.users")
	if c == nil || c.Dir != "" || c.File.Name != "services/atlas/rules/app.users.json" || len(c.Roles) != 1 {
		t.Fatalf("Collection(app.users) = %+v", c)
	}
	if c.InlineSchema == nil || c.InlineSchema.Ptr != "/schema" || c.InlineSchema.Get("properties") == nil {
		t.Errorf("InlineSchema = %+v", c.InlineSchema)
	}
	if c, _ := app.Collection("app.items"); c == nil || c.InlineSchema != nil {
		t.Errorf("Collection(app.items) = %+v", c)
	}
	if cud := app.CustomUserData; cud == nil || cud.MongoServiceName != "atlas" || cud.File != "config.json" || cud.UserIDField != "uid" {
		t.Errorf("custom user data: %+v", app.CustomUserData)
	}
	if len(app.Functions) != 1 || app.Functions[0].Name != "isEven" {
		t.Errorf("functions: %+v", app.Functions)
	}
	if _, ok := app.Files["services/http/rules/get.json"]; ok {
		t.Errorf("services/http/rules/get.json was read")
	}
	// The function's config.json is read; not JSON (a trailing comma,
	// which App Services' tools refuse), it is a warning, and the
	// function is read as private (fail closed).
	if _, ok := app.Files["functions/isAdmin/config.json"]; !ok {
		t.Errorf("functions/isAdmin/config.json was not read")
	}
	if len(app.JSFunctions) != 1 || app.JSFunctions[0].Name != "isAdmin" || !app.JSFunctions[0].Private {
		t.Errorf("JavaScript functions: %+v", app.JSFunctions)
	}
	var codes []string
	for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
		if e.File == "functions/isAdmin/config.json" && e.IsWarning() {
			codes = append(codes, e.Code)
		}
	}
	if want := []string{rules.CodeFunctionSource, rules.CodeUnusedFunction, rules.CodeFunctionConfig}; strings.Join(codes, " ") != strings.Join(want, " ") {
		t.Errorf("warnings of functions/isAdmin/config.json: %v, want %v", codes, want)
	}
	for _, notApp := range []fstest.MapFS{
		{"README.md": {Data: []byte("x")}},
		{"services/billing/main.go": {Data: []byte("package main")}},
	} {
		if rules.IsApp(notApp) {
			t.Errorf("IsApp(%v) = true", notApp)
		}
	}
	// A current-layout app with third-party services and no data source
	// is read as the current layout: its custom user data is read.
	cur, err := rules.LoadApp(fstest.MapFS{
		"realm_config.json":          {Data: []byte(`{"config_version": 20210101}`)},
		"services/http/config.json":  {Data: []byte(`{"name": "http", "type": "http"}`)},
		"auth/custom_user_data.json": {Data: []byte(`{"enabled": false}`)},
	})
	if err != nil || cur.CustomUserData == nil {
		t.Errorf("current layout with services/: %v, %+v", err, cur.CustomUserData)
	}
}

// TestLoadAppSchemas: schema.json files are kept by data source, sorted by
// namespace, under the namespace of the rules.json of their folder (its
// keys win over the folder names), else the folder names; App.Schema picks
// the data source as App.Collection does.
func TestLoadAppSchemas(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/a/db/renamed/rules.json":  {Data: []byte(`{"database": "db", "collection": "real", "roles": []}`)},
		"data_sources/a/db/renamed/schema.json": {Data: []byte(`{"title": "a-real"}`)},
		"data_sources/a/db/b/schema.json":       {Data: []byte(`{"title": "a-b"}`)},
		"data_sources/z/db/b/schema.json":       {Data: []byte(`{"title": "z-b"}`)},
		"auth/custom_user_data.json":            {Data: []byte(`{"enabled": false, "mongo_service_name": "z"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ds := range app.DataSources {
		for _, s := range ds.Schemas {
			got = append(got, ds.Name+":"+s.Namespace()+":"+s.Node.Get("title").Str)
		}
	}
	if want := "a:db.b:a-b a:db.real:a-real z:db.b:z-b"; strings.Join(got, " ") != want {
		t.Errorf("schemas: got %q, want %q", strings.Join(got, " "), want)
	}
	if s := app.Schema("db.b"); s == nil || s.Node.Get("title").Str != "z-b" {
		t.Errorf("App.Schema(db.b) should be mongo_service_name's, got %+v", s)
	}
	if s := app.Schema("db.renamed"); s != nil {
		t.Errorf("App.Schema(db.renamed) = %+v, want nil: the folder's rules.json names db.real", s)
	}
}
