package gate

import (
	"context"
	"os"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSummaryReadable: the server runs a pipeline for a caller whose
// roles vary by document only when it summarizes the documents after
// reading fields every role reads whatever the document holds (title and
// count for an owner who is also a teammate; not secret, and not team,
// which the teammate's apply_when reads: a note without it is not a
// teammate's).
func TestSummaryReadable(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(`{"database": "app", "collection": "notes", "roles": [
			{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true},
			{"name": "teammate", "apply_when": {"team": "%%user.custom_data.team"},
			 "fields": {"_id": {"read": true}, "title": {"read": true}, "team": {"read": true}, "count": {"read": true}}}]}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := expansion.NewUserObject([]byte(`{"id": "a1", "custom_data": {"team": "red"}}`))
	g := &Gate{prog: prog, retries: DefaultRetries}
	c := &Collection{s: g.For(u), ns: "app.notes"}
	ctx := context.Background()
	b, err := c.bind(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b.ReadsWhole(ctx) {
		t.Fatal("the owner + teammate reads every note whole: the test needs roles that vary")
	}
	for _, tc := range []struct {
		pipeline string
		want     bool
	}{
		{`[{"$group": {"_id": "$title", "n": {"$sum": 1}}}]`, true},
		{`[{"$group": {"_id": "$team", "n": {"$sum": 1}}}]`, false},
		{`[{"$match": {"title": "red"}}, {"$sort": {"title": 1}}, {"$limit": 5}, {"$group": {"_id": null, "c": {"$sum": "$count"}}}, {"$project": {"x": "$c"}}]`, true},
		{`[{"$count": "n"}]`, true},
		{`[{"$sortByCount": "$title"}]`, true},
		{`[{"$bucket": {"groupBy": "$count", "boundaries": [0, 10], "default": "other"}}]`, true},
		{`[{"$group": {"_id": "$secret"}}]`, false},
		{`[{"$group": {"_id": null, "s": {"$push": "$secret"}}}]`, false},
		{`[{"$match": {"secret": "x"}}, {"$count": "n"}]`, false},
		{`[{"$sort": {"secret": 1}}, {"$limit": 1}, {"$group": {"_id": "$title"}}]`, false},
		{`[{"$group": {"_id": "$$ROOT"}}]`, false},
		{`[{"$group": {"_id": {"$getField": "secret"}}}]`, false},
		{`[{"$project": {"title": 1}}, {"$group": {"_id": "$title"}}]`, false},
		{`[{"$match": {"title": "x"}}]`, false},
		// $top's sortBy names fields by keys, which no "$" shows: the
		// server would order by the hidden secret.
		{`[{"$group": {"_id": null, "t": {"$top": {"sortBy": {"secret": 1}, "output": "$title"}}}}]`, false},
		{`[{"$group": {"_id": null, "t": {"$bottomN": {"n": 1, "sortBy": {"secret": -1}, "output": ["$title"]}}}}]`, false},
		{`[]`, false},
	} {
		var pipe bson.A
		if err := bson.UnmarshalExtJSON([]byte(tc.pipeline), false, &pipe); err != nil {
			t.Fatal(err)
		}
		stages, err := toDocs(pipe)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.summaryReadable(ctx, b, stages); got != tc.want {
			t.Errorf("summaryReadable(%s) = %v, want %v", tc.pipeline, got, tc.want)
		}
	}
}

// TestServerAggregates: the embedded server (FerretDB) is recognised, and
// the gate runs pipelines itself there; another deployment (MONGODB_URI)
// is trusted with them.
func TestServerAggregates(t *testing.T) {
	g := &Gate{client: rulegatetest.Client(t)}
	want := os.Getenv("MONGODB_URI") != ""
	if got := g.serverAggregates(context.Background()); got != want {
		t.Errorf("serverAggregates = %v, want %v (MONGODB_URI set: %v)", got, want, want)
	}
	if !g.server.known {
		t.Error("the answer was not remembered")
	}
}
