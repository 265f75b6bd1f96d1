package gate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestReviewExactRuleFilterOnServer: a server-paged Find relies on an
// exact rule filter (readScope) selecting, on the server, exactly the
// documents the decision allows; a document the server counts but the
// gate drops would shift skip and shorten the page. On the generated
// rules and documents of TestReadsPathsAgreesWithDecisions (absent
// fields, null, arrays, embedded documents), the embedded server's
// answer to the rule filter is the decisions' (1500 seeds held once).
func TestReviewExactRuleFilterOnServer(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := rulegatetest.Database(t)
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "type": "normal", "custom_data": {"teams": ["red", "blue"], "admin": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 15))
		js := rpRules(r)
		app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/notes/rules.json": {Data: []byte(js)}})
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
		b, err := g.For(u).Database("db").Collection("notes").bind(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rf, _, exact, err := readScope(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if !exact {
			continue
		}
		checked++
		var docs []any
		allowed := map[int32]bool{}
		for i := range 40 {
			d := rpDoc(t, r, i)
			docs = append(docs, d)
			dec, err := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: d})
			if err != nil {
				t.Fatal(err)
			}
			allowed[int32(i)] = dec.Allowed
		}
		coll := db.Collection(fmt.Sprintf("s%d", seed))
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			t.Fatal(err)
		}
		cur, err := coll.Find(ctx, rf)
		if err != nil {
			t.Fatalf("seed %d: %v: %v", seed, rf, err)
		}
		got := map[int32]bool{}
		for cur.Next(ctx) {
			got[cur.Current.Lookup("_id").Int32()] = true
		}
		if err := cur.Err(); err != nil {
			t.Fatal(err)
		}
		for i := range int32(40) {
			if got[i] != allowed[i] {
				raw, _ := bson.MarshalExtJSON(docs[i], false, false)
				t.Fatalf("seed %d: the server's answer to rule filter %v has document %d: %v, the decision allows it: %v\nrules: %s\ndocument: %s", seed, rf, i, got[i], allowed[i], js, raw)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no exact rule filter generated")
	}
}
