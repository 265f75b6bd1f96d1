package customdata_test

import (
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// orgRules lets a caller read app.items documents of their organisation,
// named by %%user.custom_data.orgId, and lets admins read everything.
const orgRules = `{"database": "app", "collection": "items", "roles": [
  {"name": "admin", "apply_when": {"%%user.custom_data.admin": true}, "read": true},
  {"name": "org", "apply_when": {"orgId": "%%user.custom_data.orgId"}, "read": true}
]}`

// TestRulesFailClosedWithoutCustomData goes from the database to a decision:
// a user whose custom data document exists gets a token whose claims let the
// org role apply; a user with no document gets a token without custom data,
// and the same rules deny them every document, including ones that lack
// orgId or hold null there (a missing claim never matches a missing field).
func TestRulesFailClosedWithoutCustomData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	e.insert(t, bson.D{{Key: "userId", Value: "with-doc"}, {Key: "orgId", Value: "acme"}})

	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/items/rules.json": {Data: []byte(orgRules)}})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	user := func(id string) expansion.User {
		tok, err := e.auth.Login(ctx, id, customdata.LoginInfo{})
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.verifier.Verify(tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		return c.User()
	}
	docs := map[string]bson.D{
		"acme":     {{Key: "_id", Value: 1}, {Key: "orgId", Value: "acme"}},
		"other":    {{Key: "_id", Value: 2}, {Key: "orgId", Value: "other"}},
		"no-org":   {{Key: "_id", Value: 3}},
		"null-org": {{Key: "_id", Value: 4}, {Key: "orgId", Value: nil}},
	}
	for _, tc := range []struct {
		user, doc string
		want      bool
	}{
		{"with-doc", "acme", true},
		{"with-doc", "other", false},
		{"with-doc", "no-org", false},
		{"without-doc", "acme", false},
		{"without-doc", "no-org", false},
		{"without-doc", "null-org", false},
	} {
		raw, _ := bson.Marshal(docs[tc.doc])
		d, err := prog.Evaluate(ctx, evaluator.Caller{Namespace: "app.items", Inputs: expansion.Inputs{User: user(tc.user)}}, evaluator.Doc{Action: evaluator.ActionRead, Document: raw})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != tc.want {
			t.Errorf("%s reading %s: allowed %v (%s), want %v", tc.user, tc.doc, d.Allowed, d.Reason, tc.want)
		}
	}
	// The read filter of the user without custom data selects nothing.
	filter, _, err := prog.ReadFilter(ctx, evaluator.Caller{Namespace: "app.items", Inputs: expansion.Inputs{User: user("without-doc")}})
	if err != nil {
		t.Fatal(err)
	}
	items := e.db.Collection("items")
	for _, d := range docs {
		if _, err := items.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	n, err := items.CountDocuments(ctx, filter)
	if err != nil {
		t.Fatalf("count with %v: %v", filter, err)
	}
	if n != 0 {
		t.Errorf("read filter %v of a user without custom data selects %d documents on the server", filter, n)
	}
}
