package evaluator_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// TestNotProvided: a value the app defines (values/<name>.json, or
// environments/<tag>.json) on the left of a comparison, when the request
// does not provide it (a caller that passes only the user, as gate.For
// does), fails the decision with ErrNotProvided: deciding it as a missing
// field would grant {"%%values.maintenance": {"$ne": true}} although the
// app sets maintenance to true. With App.Inputs it decides.
func TestNotProvided(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"database": "db", "collection": "coll", "roles": [
  {"name": "open", "apply_when": {"%%values.maintenance": {"$ne": true}, "%%environment.values.locked": {"$ne": true}}, "read": true}]}`)},
		"values/maintenance.json":       {Data: []byte(`{"name": "maintenance", "value": false}`)},
		"environments/production.json":  {Data: []byte(`{"values": {"locked": true}}`)},
		"environments/development.json": {Data: []byte(`{"values": {}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	user, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1}`)}
	eval := func(in expansion.Inputs) (evaluator.Decision, error) {
		return p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.coll", Inputs: in}, doc)
	}
	d, err := eval(expansion.Inputs{User: user})
	if d.Allowed || !errors.Is(err, evaluator.ErrNotProvided) {
		t.Errorf("without the app's values: %v %s %v, want a denial with ErrNotProvided", d.Allowed, d.Reason, err)
	}
	in, err := app.Inputs(expansion.Inputs{User: user}, "production")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := eval(in); d.Allowed || err != nil || d.Reason != evaluator.ReasonNoRole {
		t.Errorf("in production: %v %s %v, want no-role (locked)", d.Allowed, d.Reason, err)
	}
	in, err = app.Inputs(expansion.Inputs{User: user}, "development")
	if err != nil {
		t.Fatal(err)
	}
	if d, err := eval(in); !d.Allowed || err != nil {
		t.Errorf("in development: %v %s %v, want allowed (locked is missing there)", d.Allowed, d.Reason, err)
	}
}
