package gate_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestNoRulesReadsDenied: a read of a namespace with no rules and no
// default rule (here a typo of "notes", holding documents) is denied with
// no-rules, as writes are, and never looks like an empty collection.
func TestNoRulesReadsDenied(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.db.Collection("notez").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}}); err != nil {
		t.Fatal(err)
	}
	c := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("notez")

	_, err := c.Find(ctx, bson.D{})
	wantDenied(t, err, "Find", evaluator.ActionRead, evaluator.ReasonNoRules)
	err = c.FindOne(ctx, bson.D{}).Err()
	wantDenied(t, err, "FindOne", evaluator.ActionRead, evaluator.ReasonNoRules)
	_, err = c.CountDocuments(ctx, bson.D{})
	wantDenied(t, err, "CountDocuments", evaluator.ActionRead, evaluator.ReasonNoRules)
	// A filter that reads a field takes the counting path of Find.
	_, err = c.CountDocuments(ctx, bson.D{{Key: "owner_id", Value: "a1"}})
	wantDenied(t, err, "CountDocuments", evaluator.ActionRead, evaluator.ReasonNoRules)
	err = c.Distinct(ctx, "owner_id", bson.D{}).Err()
	wantDenied(t, err, "Distinct", evaluator.ActionRead, evaluator.ReasonNoRules)
	_, err = c.Aggregate(ctx, mongo.Pipeline{})
	wantDenied(t, err, "Aggregate", evaluator.ActionRead, evaluator.ReasonNoRules)

	// The namespace in the denial is the one asked for.
	var de *gate.DeniedError
	_, err = c.Find(ctx, bson.D{})
	if !errors.As(err, &de) || de.Namespace != e.db.Name()+".notez" {
		t.Errorf("denial %v, want namespace %s.notez", err, e.db.Name())
	}
	// The rules' own collection still reads.
	if n, err := e.as("alice").CountDocuments(ctx, bson.D{}); err != nil || n == 0 {
		t.Errorf("alice's notes: %d, %v", n, err)
	}
}

// TestNoRulesDefaultRuleReads: with a default rule, a collection without
// rules of its own is read under it, not denied.
func TestNoRulesDefaultRuleReads(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	g := newGate(t, db.Client(), fstest.MapFS{
		"data_sources/mongodb-atlas/default_rule.json": {Data: []byte(`{"roles": [{"name": "all", "apply_when": {}, "read": true}]}`)},
	})
	if _, err := db.Collection("anything").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	c := g.For(user(t, `{"id": "u1"}`)).Database(db.Name()).Collection("anything")
	if n, err := c.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("CountDocuments = %d, %v; want 1", n, err)
	}
	cur, err := c.Aggregate(ctx, mongo.Pipeline{})
	if err != nil {
		t.Fatal(err)
	}
	defer cur.Close(ctx)
	var docs []bson.M
	if err := cur.All(ctx, &docs); err != nil || len(docs) != 1 {
		t.Errorf("Aggregate = %v, %v; want one document", docs, err)
	}
	// An empty collection under the default rule is empty, not denied.
	empty := g.For(user(t, `{"id": "u1"}`)).Database(db.Name()).Collection("empty")
	if err := empty.FindOne(ctx, bson.D{}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("FindOne on an empty collection: %v, want mongo.ErrNoDocuments", err)
	}
}

// TestNoRulesWritesDenied: every write of a namespace with no rules and no
// default rule is denied with no-rules, not answered with a zero result
// (which would look like a collection holding no matching document), and
// the stored documents are untouched.
func TestNoRulesWritesDenied(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	stored := bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}}
	if _, err := e.db.Collection("notez").InsertOne(ctx, stored); err != nil {
		t.Fatal(err)
	}
	c := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("notez")
	set := bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}
	w, d := evaluator.ActionWrite, evaluator.ActionDelete

	_, err := c.InsertMany(ctx, []any{bson.D{{Key: "x", Value: 1}}})
	wantDenied(t, err, "InsertMany", evaluator.ActionInsert, evaluator.ReasonNoRules)
	_, err = c.UpdateOne(ctx, bson.D{}, set)
	wantDenied(t, err, "UpdateOne", w, evaluator.ReasonNoRules)
	_, err = c.UpdateByID(ctx, 1, set) // reported as the UpdateOne it is
	wantDenied(t, err, "UpdateOne", w, evaluator.ReasonNoRules)
	_, err = c.UpdateMany(ctx, bson.D{}, set)
	wantDenied(t, err, "UpdateMany", w, evaluator.ReasonNoRules)
	_, err = c.ReplaceOne(ctx, bson.D{}, bson.D{{Key: "y", Value: 1}})
	wantDenied(t, err, "ReplaceOne", w, evaluator.ReasonNoRules)
	_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, set, options.UpdateOne().SetUpsert(true))
	wantDenied(t, err, "UpdateOne", w, evaluator.ReasonNoRules)
	err = c.FindOneAndUpdate(ctx, bson.D{}, set).Err()
	wantDenied(t, err, "FindOneAndUpdate", w, evaluator.ReasonNoRules)
	err = c.FindOneAndReplace(ctx, bson.D{}, bson.D{{Key: "y", Value: 1}}).Err()
	wantDenied(t, err, "FindOneAndReplace", w, evaluator.ReasonNoRules)
	_, err = c.DeleteOne(ctx, bson.D{})
	wantDenied(t, err, "DeleteOne", d, evaluator.ReasonNoRules)
	_, err = c.DeleteMany(ctx, bson.D{})
	wantDenied(t, err, "DeleteMany", d, evaluator.ReasonNoRules)
	err = c.FindOneAndDelete(ctx, bson.D{}).Err()
	wantDenied(t, err, "FindOneAndDelete", d, evaluator.ReasonNoRules)

	var docs []bson.D
	cur, err := e.db.Collection("notez").Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &docs); err != nil || len(docs) != 1 || len(docs[0]) != 2 {
		t.Errorf("notez after the denied writes: %v, %v; want the one stored document untouched", docs, err)
	}
}
