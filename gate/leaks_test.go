package gate_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestInvisibleMatchesHidden: by default a write whose filter matches only
// documents the caller cannot read at all gives the driver's zero result,
// exactly as a filter that matches nothing (roles.txt: App Services omits
// the documents a caller cannot read). A right and a wrong guess of a
// hidden value give the same answer on every write method.
func TestInvisibleMatchesHidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: 7}}}}
	for _, who := range []string{"carol", "dave"} {
		c := e.as(who)
		// alice's note (1) is invisible to carol (team blue) and dave (no
		// role); the right guess of its owner and a wrong one.
		for _, f := range []bson.D{
			{{Key: "_id", Value: 1}},
			{{Key: "owner_id", Value: "a1"}},
			{{Key: "owner_id", Value: "wrong"}},
			{{Key: "_id", Value: 99}},
		} {
			res, err := c.UpdateOne(ctx, f, set)
			if err != nil || res.MatchedCount != 0 {
				t.Errorf("%s UpdateOne(%v): %+v, %v; want a zero result", who, f, res, err)
			}
			res, err = c.UpdateMany(ctx, f, set)
			if err != nil || res.MatchedCount != 0 {
				t.Errorf("%s UpdateMany(%v): %+v, %v; want a zero result", who, f, res, err)
			}
			res, err = c.ReplaceOne(ctx, f, bson.D{{Key: "owner_id", Value: "a1"}})
			if err != nil || res.MatchedCount != 0 {
				t.Errorf("%s ReplaceOne(%v): %+v, %v; want a zero result", who, f, res, err)
			}
			del, err := c.DeleteOne(ctx, f)
			if err != nil || del.DeletedCount != 0 {
				t.Errorf("%s DeleteOne(%v): %+v, %v; want a zero result", who, f, del, err)
			}
			if err := c.FindOneAndUpdate(ctx, f, set).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
				t.Errorf("%s FindOneAndUpdate(%v): %v; want mongo.ErrNoDocuments", who, f, err)
			}
			if err := c.FindOneAndDelete(ctx, f).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
				t.Errorf("%s FindOneAndDelete(%v): %v; want mongo.ErrNoDocuments", who, f, err)
			}
		}
	}
	del, err := e.as("dave").DeleteMany(ctx, bson.D{})
	if err != nil || del.DeletedCount != 0 {
		t.Errorf("dave DeleteMany({}): %+v, %v; want a zero result", del, err)
	}
	if d := e.doc(1); d["count"] != int32(0) || d["title"] != "alice's plan" {
		t.Errorf("alice's note changed: %v", d)
	}
	// Rules no filter expresses (pairs): bob's document 3 is invisible to
	// alice; decided document by document, the answer is still a zero.
	raw := e.db.Collection("pairs")
	if _, err := raw.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}, {Key: "editor_id", Value: "a1"}, {Key: "n", Value: 0}},
		bson.D{{Key: "_id", Value: 3}, {Key: "owner_id", Value: "b1"}, {Key: "editor_id", Value: "b1"}, {Key: "n", Value: 0}},
	}); err != nil {
		t.Fatal(err)
	}
	pairs := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("pairs")
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
	for _, f := range []bson.D{{{Key: "_id", Value: 3}}, {{Key: "owner_id", Value: "b1"}}} {
		res, err := pairs.UpdateOne(ctx, f, inc)
		if err != nil || res.MatchedCount != 0 {
			t.Errorf("pairs UpdateOne(%v): %+v, %v; want a zero result", f, res, err)
		}
		if err := pairs.FindOneAndUpdate(ctx, f, inc).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
			t.Errorf("pairs FindOneAndUpdate(%v): %v; want mongo.ErrNoDocuments", f, err)
		}
		del, err := pairs.DeleteOne(ctx, f)
		if err != nil || del.DeletedCount != 0 {
			t.Errorf("pairs DeleteOne(%v): %+v, %v; want a zero result", f, del, err)
		}
	}
}

// TestRevealInvisibleMatches: with RevealInvisibleMatches, a write whose
// filter matches only invisible documents is denied (the old default),
// which tells the caller that such a document exists.
func TestRevealInvisibleMatches(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	g, err := gate.New(e.db.Client(), loadProgram(t, e.db.Name()), gate.RevealInvisibleMatches())
	if err != nil {
		t.Fatal(err)
	}
	carol := g.For(e.users["carol"]).Database(e.db.Name()).Collection("notes")
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}}
	_, err = carol.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set)
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	_, err = carol.UpdateMany(ctx, bson.D{{Key: "team", Value: "red"}}, set)
	wantDenied(t, err, "UpdateMany", evaluator.ActionWrite, "")
	_, err = carol.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	wantDenied(t, err, "DeleteOne", evaluator.ActionDelete, "")
	err = carol.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 1}}).Err()
	wantDenied(t, err, "FindOneAndDelete", evaluator.ActionDelete, "")
	dave := g.For(e.users["dave"]).Database(e.db.Name()).Collection("notes")
	_, err = dave.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set)
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonNoRole)
	// A filter matching nothing is a zero result with the option too.
	res, err := carol.UpdateOne(ctx, bson.D{{Key: "_id", Value: 99}}, set)
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("no match: %+v, %v", res, err)
	}
	if d := e.doc(1); d["title"] != "alice's plan" {
		t.Errorf("alice's note: %v", d)
	}
}
