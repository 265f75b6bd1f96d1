package evaluator_test

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// A value that exposes a secret is not in the export: compared on the
// left, it denies with ErrNotProvided until the request provides it (as
// does any app value the inputs lack).
func ExampleErrNotProvided() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"database": "db", "collection": "coll", "roles": [
  {"name": "notService", "apply_when": {"%%values.serviceUser": {"$ne": "%%user.id"}}, "read": true}]}`)},
		"values/serviceUser.json": {Data: []byte(`{"name": "serviceUser", "value": "serviceUserSecret", "from_secret": true}`)},
	})
	p, err := evaluator.Compile(app)
	if err != nil {
		panic(err)
	}
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1}`)}
	for _, values := range []string{"", `{"serviceUser": "svc"}`} {
		in, _ := app.Inputs(expansion.Inputs{User: exampleUser()}, app.Environment)
		if values != "" {
			in.Values = []byte(values)
		}
		dec, err := p.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.coll", Inputs: in}, doc)
		fmt.Println(dec.Allowed, dec.Reason, errors.Is(err, evaluator.ErrNotProvided))
	}
	// Output:
	// false error true
	// true allowed false
}
