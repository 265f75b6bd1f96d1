package rules_test

import (
	"os"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/rules"
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
