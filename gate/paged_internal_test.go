package gate

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestPagedLeftOutFails: should the gate leave out a document of a Find
// the server pages (find never lets the server page then: see
// TestReadsPathsAgreesWithDecisions), the Find fails with an internal
// error naming no document, instead of returning a page the server's
// skip and limit shifted. The spec is forced here: a filter on a field
// the teammate cannot read, sent to the server as the rule filter alone,
// so that the server returns the note the gate leaves out.
func TestPagedLeftOutFails(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	if _, err := db.Collection("notes").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "team", Value: "t0"}, {Key: "private", Value: "p"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "team", Value: "t0"}, {Key: "private", Value: "q"}},
	}); err != nil {
		t.Fatal(err)
	}
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/" + db.Name() + "/notes/rules.json": {Data: []byte(`{"database": "` + db.Name() + `", "collection": "notes", "roles": [
		{"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "fields": {"private": {"read": false}}, "additional_fields": {"read": true}}]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(db.Client(), prog)
	if err != nil {
		t.Fatal(err)
	}
	u, err := expansion.NewUserObject([]byte(`{"id": "a1", "type": "normal", "custom_data": {"teamIds": ["t0"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	c := g.For(u).Database(db.Name()).Collection("notes")
	b, err := c.bindRead(ctx, "Find")
	if err != nil {
		t.Fatal(err)
	}
	fo, err := listFind([]options.Lister[options.FindOptions]{options.Find().SetSkip(1).SetLimit(1)})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := c.find(ctx, b, "Find", bson.D{{Key: "private", Value: "q"}}, fo)
	if err != nil {
		t.Fatal(err)
	}
	if spec.serverPages {
		t.Fatal("the server pages a filter on a field the caller cannot read")
	}
	spec.serverPages = true
	spec.filter = bson.D{}
	cu := &Cursor{c: c, b: b, spec: spec}
	if err := cu.open(ctx); err != nil {
		t.Fatal(err)
	}
	if cu.Next(ctx) {
		t.Fatalf("a document returned: %v", cu.Current)
	}
	if err := cu.Err(); !errors.Is(err, errPagedLeftOut) {
		t.Fatalf("Err() = %v, want the internal error", err)
	}
	if cu.Next(ctx) {
		t.Fatal("Next after the error")
	}
}

// TestKeepTop: keepTop gives the bytes of mql.Paths.Redact marshalled,
// for read lists of top-level fields, and declines dotted ones.
func TestKeepTop(t *testing.T) {
	doc := mustRaw(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.D{{Key: "x", Value: 1}}}, {Key: "b", Value: bson.A{1, "y"}}, {Key: "c", Value: nil}, {Key: "b", Value: "again"}})
	for _, read := range [][]string{{}, {"_id"}, {"_id", "a", "b", "c"}, {"a", "c"}, {"b"}, {"c", "z"}} {
		got, ok := keepTop(doc, read)
		if !ok {
			t.Fatalf("keepTop(%v) declined", read)
		}
		want := mustRaw(t, mql.NewPaths(read).Redact(doc))
		if !bytes.Equal(got, want) {
			t.Fatalf("keepTop(%v) = %v, want %v", read, got, want)
		}
	}
	if _, ok := keepTop(doc, []string{"a.x"}); ok {
		t.Fatal("keepTop took a dotted path")
	}
}
