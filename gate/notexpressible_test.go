package gate_test

import (
	"context"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestNotExpressible uses rules that compare two fields of the document
// (editor_id = %%root.owner_id), which no MongoDB filter can express
// (evaluator.ErrNotExpressible): every method still applies them, deciding
// document by document; Aggregate runs in the gate over what Find returns.
func TestNotExpressible(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	raw := e.db.Collection("pairs")
	if _, err := raw.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}, {Key: "editor_id", Value: "a1"}, {Key: "n", Value: 0}},
		bson.D{{Key: "_id", Value: 2}, {Key: "owner_id", Value: "a1"}, {Key: "editor_id", Value: "b1"}, {Key: "n", Value: 0}},
		bson.D{{Key: "_id", Value: 3}, {Key: "owner_id", Value: "b1"}, {Key: "editor_id", Value: "b1"}, {Key: "n", Value: 0}},
	}); err != nil {
		t.Fatal(err)
	}
	alice := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("pairs")
	if n, err := alice.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("count: %d, %v; want 1", n, err)
	}
	var got []bson.M
	cur, err := alice.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &got); err != nil || len(got) != 1 || got[0]["_id"] != int32(1) {
		t.Errorf("find: %v, %v", got, err)
	}
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
	res, err := alice.UpdateMany(ctx, bson.D{{Key: "owner_id", Value: "a1"}}, inc)
	if err != nil || res.MatchedCount != 1 {
		t.Errorf("UpdateMany: %+v, %v; want 1 match (document 2 is invisible)", res, err)
	}
	// Document 3 is invisible to alice: a zero result (decided document by
	// document, the same as with a filter).
	if res, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 3}}, inc); err != nil || res.MatchedCount != 0 {
		t.Errorf("UpdateOne of an invisible document: %+v, %v; want a zero result", res, err)
	}
	// Handing the editor role to bob moves the document out of scope.
	_, err = alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "editor_id", Value: "b1"}}}})
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	agg, err := alice.Aggregate(ctx, mongo.Pipeline{{{Key: "$count", Value: "n"}}})
	if err != nil {
		t.Fatalf("Aggregate: %v", err)
	}
	var counted []bson.M
	if err := agg.All(ctx, &counted); err != nil || len(counted) != 1 || counted[0]["n"] != int32(1) {
		t.Errorf("Aggregate $count: %v, %v; want n: 1 (what Find returns)", counted, err)
	}
	if del, err := alice.DeleteOne(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil || del.DeletedCount != 0 {
		t.Errorf("DeleteOne of an invisible document: %+v, %v; want a zero result", del, err)
	}
	del, err := alice.DeleteMany(ctx, bson.D{})
	if err != nil || del.DeletedCount != 1 {
		t.Errorf("DeleteMany: %+v, %v; want 1", del, err)
	}
	for id, want := range map[int]bool{1: false, 2: true, 3: true} {
		var m bson.M
		err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&m)
		if (err == nil) != want {
			t.Errorf("document %d present = %v, want %v", id, err == nil, want)
		}
	}
}
