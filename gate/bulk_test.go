package gate_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/xoptions"
)

// bulkResult is a BulkWriteResult as text, new ObjectIDs as "new".
func bulkResult(r *mongo.BulkWriteResult) string {
	if r == nil {
		return "<nil>"
	}
	ids := make([]string, 0, len(r.UpsertedIDs))
	for i, id := range r.UpsertedIDs {
		if _, ok := id.(bson.ObjectID); ok {
			id = "new"
		}
		ids = append(ids, fmt.Sprintf("%d:%v", i, id))
	}
	slices.Sort(ids)
	return fmt.Sprintf("inserted %d matched %d modified %d deleted %d upserted %d %v", r.InsertedCount, r.MatchedCount, r.ModifiedCount, r.DeletedCount, r.UpsertedCount, ids)
}

// bulkErrors returns the failed models of a *gate.BulkWriteException as
// "index: error code", and fails t for any other error.
func bulkErrors(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var be *gate.BulkWriteException
	if !errors.As(err, &be) {
		t.Fatalf("err = %T %v, want *gate.BulkWriteException", err, err)
	}
	var out []string
	for _, we := range be.WriteErrors {
		code := niErrCode(we.Err)
		if mongo.IsDuplicateKeyError(we.Err) {
			code = "duplicate key"
		}
		out = append(out, fmt.Sprintf("%d: %s", we.Index, code))
	}
	return out
}

// bulkModels: an insert, an update, a denied update (a teammate may not
// write bob's title), a duplicate key, a replacement, an UpdateMany and
// a delete of the inserted note.
func bulkModels() []mongo.WriteModel {
	return []mongo.WriteModel{
		mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 4}, {Key: "owner_id", Value: "a1"}, {Key: "title", Value: "four"}}),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(set("title", "renamed")),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 2}}).SetUpdate(set("title", "mine")),
		mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}}),
		mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: 4}}).SetReplacement(bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "replaced"}}),
		mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "team", Value: "red"}}).SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}}),
		mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "title", Value: "replaced"}}),
		mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: bson.A{4, 5}}}}}),
	}
}

// TestBulkWriteOrdered: each model is checked and run as its own gated
// method; an ordered BulkWrite stops at the first model that fails, with
// the result of the models before it and the failed model's index.
func TestBulkWriteOrdered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.as("alice").BulkWrite(ctx, bulkModels())
	if got, want := bulkResult(res), "inserted 1 matched 1 modified 1 deleted 0 upserted 0 []"; got != want {
		t.Errorf("result %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(bulkErrors(t, err)), "[2: denied write field-not-writable]"; got != want {
		t.Errorf("errors %s, want %s", got, want)
	}
	// The denial is a *DeniedError of UpdateOne, errors.Is and As work
	// through the exception.
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonFieldNotWritable)
	if d := e.doc(4); d == nil || d["title"] != "four" {
		t.Errorf("note 4: %v, want inserted and nothing after the denial run", d)
	}
	if d := e.doc(2); d["title"] != "bob's plan" || d["count"] != int32(0) {
		t.Errorf("bob's note changed: %v", d)
	}
	// The text: the model's index, then its method's error.
	var be *gate.BulkWriteException
	errors.As(err, &be)
	if got, want := err.Error(), "gate: "+e.db.Name()+".notes: BulkWrite: model 2: "+be.WriteErrors[0].Err.Error(); got != want {
		t.Errorf("error text\n%s\nwant\n%s", got, want)
	}
}

// TestBulkWriteUnordered: an unordered BulkWrite runs every model and
// reports each one that failed, by index; the duplicate key keeps its
// code (the key withheld, as InsertOne's).
func TestBulkWriteUnordered(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.as("alice").BulkWrite(ctx, bulkModels(), options.BulkWrite().SetOrdered(false))
	if got, want := bulkResult(res), "inserted 1 matched 4 modified 4 deleted 1 upserted 0 []"; got != want {
		t.Errorf("result %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(bulkErrors(t, err)), "[2: denied write field-not-writable 3: duplicate key]"; got != want {
		t.Errorf("errors %s, want %s", got, want)
	}
	if !errors.Is(err, gate.ErrDenied) || !mongo.IsDuplicateKeyError(err) {
		t.Errorf("errors.Is(ErrDenied) %v, IsDuplicateKeyError %v: want both", errors.Is(err, gate.ErrDenied), mongo.IsDuplicateKeyError(err))
	}
	var be *gate.BulkWriteException
	if errors.As(err, &be) {
		if _, ok := be.WriteErrors[1].Model.(*mongo.InsertOneModel); !ok {
			t.Errorf("the failed model is not given back: %#v", be.WriteErrors[1].Model)
		}
	}
	if e.doc(4) != nil {
		t.Errorf("note 4 not deleted: %v", e.doc(4))
	}
	if d := e.doc(1); d["title"] != "renamed" || d["count"] != int32(1) {
		t.Errorf("alice's note: %v", d)
	}
	if d := e.doc(2); d["title"] != "bob's plan" || d["count"] != int32(1) {
		t.Errorf("bob's note: %v, want only count incremented (the teammate's UpdateMany)", d)
	}
}

// TestBulkWriteHidden: a model whose filter matches only documents the
// caller cannot read, or reads a field hidden in the document it
// matches, gives the zero counts its single method gives, and touches
// nothing.
func TestBulkWriteHidden(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	carol := bson.D{{Key: "_id", Value: 3}}
	bobSecret := bson.D{{Key: "secret", Value: "b-secret"}}
	models := []mongo.WriteModel{
		mongo.NewUpdateOneModel().SetFilter(carol).SetUpdate(set("count", 9)),
		mongo.NewUpdateOneModel().SetFilter(bobSecret).SetUpdate(set("count", 9)),
		mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "team", Value: "blue"}}).SetUpdate(set("count", 9)),
		mongo.NewReplaceOneModel().SetFilter(carol).SetReplacement(bson.D{{Key: "owner_id", Value: "a1"}}),
		mongo.NewDeleteOneModel().SetFilter(carol),
		mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "owner_id", Value: "c1"}}),
	}
	res, err := e.as("alice").BulkWrite(ctx, models)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := bulkResult(res), "inserted 0 matched 0 modified 0 deleted 0 upserted 0 []"; got != want {
		t.Errorf("result %s, want %s", got, want)
	}
	// As the single methods.
	alice := e.as("alice")
	if r, err := alice.UpdateOne(ctx, carol, set("count", 9)); err != nil || r.MatchedCount != 0 {
		t.Errorf("UpdateOne: %+v %v", r, err)
	}
	if r, err := alice.UpdateOne(ctx, bobSecret, set("count", 9)); err != nil || r.MatchedCount != 0 {
		t.Errorf("UpdateOne on a hidden field: %+v %v", r, err)
	}
	if r, err := alice.DeleteMany(ctx, bson.D{{Key: "owner_id", Value: "c1"}}); err != nil || r.DeletedCount != 0 {
		t.Errorf("DeleteMany: %+v %v", r, err)
	}
	if d := e.doc(3); d["count"] != int32(0) || d["owner_id"] != "c1" {
		t.Errorf("carol's note changed: %v", d)
	}
	if d := e.doc(2); d["count"] != int32(0) {
		t.Errorf("bob's note changed: %v", d)
	}
}

// TestBulkWriteUpsert: upsert models are the single methods' upserts:
// a match is an update, no match an insert decided as InsertOne decides
// it; UpsertedIDs is keyed by the model's index.
func TestBulkWriteUpsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	models := []mongo.WriteModel{
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 5}, {Key: "owner_id", Value: "a1"}}).SetUpdate(set("title", "five")).SetUpsert(true),
		mongo.NewReplaceOneModel().SetFilter(bson.D{{Key: "_id", Value: 6}}).SetReplacement(bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "six"}}).SetUpsert(true),
		mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "none yet"}}).SetUpdate(set("count", 1)).SetUpsert(true),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(set("title", "matched")).SetUpsert(true),
		// alice has no role for carol's owner_id: the insert is denied.
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 7}, {Key: "owner_id", Value: "c1"}}).SetUpdate(set("title", "x")).SetUpsert(true),
		// carol's note 3 is invisible to alice: the upsert inserts,
		// colliding on _id as InsertOne would.
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 3}}).SetUpdate(set("owner_id", "a1")).SetUpsert(true),
	}
	res, err := e.as("alice").BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false))
	if got, want := bulkResult(res), "inserted 0 matched 1 modified 1 deleted 0 upserted 3 [0:5 1:6 2:new]"; got != want {
		t.Errorf("result %s, want %s", got, want)
	}
	if got, want := fmt.Sprint(bulkErrors(t, err)), "[4: denied insert no-role 5: duplicate key]"; got != want {
		t.Errorf("errors %s, want %s", got, want)
	}
	if d := e.doc(6); d["title"] != "six" || d["owner_id"] != "a1" {
		t.Errorf("note 6: %v", d)
	}
	if e.doc(7) != nil || e.doc(3)["owner_id"] != "c1" {
		t.Errorf("denied upserts wrote: %v %v", e.doc(7), e.doc(3))
	}
}

// TestBulkWriteRefused: what the driver refuses before running any model
// (no models, a nil model) the gate refuses too, with CodeInvalid, and
// the options application users may not set with CodeUnsupported;
// nothing is written. A model's own refused option fails that model
// only, as its single method.
func TestBulkWriteRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	alice := e.as("alice")
	insert := mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 8}, {Key: "owner_id", Value: "a1"}})

	_, err := alice.BulkWrite(ctx, nil)
	if r := wantRefused(t, err, gate.CodeInvalid); !errors.Is(r, mongo.ErrEmptySlice) {
		t.Errorf("no models: %v, want mongo.ErrEmptySlice", err)
	}
	_, err = alice.BulkWrite(ctx, []mongo.WriteModel{insert, nil})
	if r := wantRefused(t, err, gate.CodeInvalid); !errors.Is(r, mongo.ErrNilDocument) || r.Ptr != "/1" {
		t.Errorf("nil model: %v (ptr %s), want mongo.ErrNilDocument at /1", err, r.Ptr)
	}
	_, err = alice.BulkWrite(ctx, []mongo.WriteModel{insert, (*mongo.UpdateOneModel)(nil)})
	if r := wantRefused(t, err, gate.CodeInvalid); r.Ptr != "/1" {
		t.Errorf("nil *UpdateOneModel: %v", err)
	}
	_, err = alice.BulkWrite(ctx, []mongo.WriteModel{insert, embeddingModel{insert}})
	if r := wantRefused(t, err, gate.CodeInvalid); r.Ptr != "/1" {
		t.Errorf("a type embedding a model: %v", err)
	}
	_, err = alice.BulkWrite(ctx, []mongo.WriteModel{insert}, options.BulkWrite().SetBypassDocumentValidation(true))
	wantRefused(t, err, gate.CodeUnsupported)
	_, err = alice.BulkWrite(ctx, []mongo.WriteModel{insert}, options.BulkWrite().SetLet(bson.D{{Key: "x", Value: 1}}))
	wantRefused(t, err, gate.CodeUnsupported)
	o := options.BulkWrite()
	if err := xoptions.SetInternalBulkWriteOptions(o, "addCommandFields", bson.D{{Key: "bypassDocumentValidation", Value: true}}); err != nil {
		t.Fatal(err)
	}
	_, err = alice.BulkWrite(ctx, []mongo.WriteModel{insert}, o)
	wantRefused(t, err, gate.CodeUnsupported)
	if e.doc(8) != nil {
		t.Fatalf("a refused BulkWrite inserted: %v", e.doc(8))
	}

	// A model's hint is refused as UpdateOne refuses it; the models
	// around it run.
	res, err := alice.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(set("count", 2)).SetHint("secret_1"),
		mongo.NewDeleteOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetHint("secret_1"),
		insert,
	}, options.BulkWrite().SetOrdered(false).SetComment("bulk"))
	if got, want := fmt.Sprint(bulkErrors(t, err)), "[0: refused gate/unsupported 1: refused gate/unsupported]"; got != want {
		t.Errorf("errors %s, want %s", got, want)
	}
	if got, want := bulkResult(res), "inserted 1 matched 0 modified 0 deleted 0 upserted 0 []"; got != want {
		t.Errorf("result %s, want %s", got, want)
	}
}

// embeddingModel is a WriteModel through the one it embeds, but none of
// the driver's models.
type embeddingModel struct{ *mongo.InsertOneModel }

// TestBulkWriteCanceled: a canceled ctx stops an unordered BulkWrite at
// the first model it fails, as it would every model after it.
func TestBulkWriteCanceled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := e.as("alice").BulkWrite(ctx, bulkModels(), options.BulkWrite().SetOrdered(false))
	var be *gate.BulkWriteException
	if !errors.As(err, &be) || len(be.WriteErrors) != 1 || be.WriteErrors[0].Index != 0 || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want model 0 failed with context.Canceled", err)
	}
	if got, want := bulkResult(res), "inserted 0 matched 0 modified 0 deleted 0 upserted 0 []"; got != want {
		t.Errorf("result %s, want %s", got, want)
	}
}

// TestEstimatedDocumentCount: a caller who reads every document gets the
// server's estimate (the count command, no filter); any other caller
// gets CountDocuments of {} (the documents it may read).
func TestEstimatedDocumentCount(t *testing.T) {
	t.Parallel()
	e, rec := monitoredEnv(t)
	ctx := context.Background()
	// A second collection every signed-in user reads whole, except one
	// field: field rules never hide a document.
	fsys := rulesFS(e.db.Name(), `"roles": [{"name": "reader", "apply_when": {},
		"fields": {"secret": {"read": false}}, "additional_fields": {"read": true}}]`, "public")
	for k, v := range rulesFS(e.db.Name(), `"roles": [{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true}]`, "notes") {
		fsys[k] = v
	}
	g := newGate(t, e.g.System().Client(), fsys)
	if _, err := e.db.Collection("public").InsertMany(ctx, seed); err != nil {
		t.Fatal(err)
	}
	alice := g.For(e.users["alice"]).Database(e.db.Name())

	rec.take()
	n, err := alice.Collection("public").EstimatedDocumentCount(ctx, options.EstimatedDocumentCount().SetComment("estimate"))
	if err != nil || n != 3 {
		t.Fatalf("public: %d %v, want 3", n, err)
	}
	if got := commandNames(rec.take()); got != "[count]" {
		t.Errorf("public: commands %s, want the count command", got)
	}

	n, err = alice.Collection("notes").EstimatedDocumentCount(ctx)
	if err != nil || n != 1 {
		t.Fatalf("notes: %d %v, want 1 (alice's own)", n, err)
	}
	if got := commandNames(rec.take()); got != "[aggregate]" {
		t.Errorf("notes: commands %s, want CountDocuments' aggregate", got)
	}
	want, err := alice.Collection("notes").CountDocuments(ctx, bson.D{})
	if err != nil || want != n {
		t.Errorf("CountDocuments: %d %v, want %d", want, err, n)
	}

	o := options.EstimatedDocumentCount()
	if err := xoptions.SetInternalEstimatedDocumentCountOptions(o, "rawData", true); err != nil {
		t.Fatal(err)
	}
	_, err = alice.Collection("public").EstimatedDocumentCount(ctx, o)
	wantRefused(t, err, gate.CodeUnsupported)
}

func commandNames(cmds []sentCommand) string {
	names := make([]string, len(cmds))
	for i, c := range cmds {
		names[i] = c.name
	}
	return fmt.Sprint(names)
}
