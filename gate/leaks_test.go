package gate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
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

// TestInvisibleMatchesRevealed: under WithInvisibleMatchesRevealed, a
// write whose filter matches only invisible documents is denied (the old
// default), which tells the caller that such a document exists.
func TestInvisibleMatchesRevealed(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	g, err := gate.New(e.db.Client(), loadProgram(t, e.db.Name()), gate.WithInvisibleMatchesRevealed())
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

// ledger returns the gated ledger collection for a named user, with two
// entries every user may update (n) and delete, and whose secret no user
// may read: the secret of 1 sorts after that of 2, the titles the other
// way round.
func (e *env) ledger(who string) (*gate.Collection, *mongo.Collection) {
	e.t.Helper()
	raw := e.db.Collection("ledger")
	if _, err := raw.DeleteMany(context.Background(), bson.D{}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := raw.InsertMany(context.Background(), []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "title", Value: "a"}, {Key: "n", Value: 0}, {Key: "secret", Value: "y"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "title", Value: "b"}, {Key: "n", Value: 0}, {Key: "secret", Value: "x"}},
	}); err != nil {
		e.t.Fatal(err)
	}
	return e.g.For(e.users[who]).Database(e.db.Name()).Collection("ledger"), raw
}

// ns returns the n of every ledger entry by _id, bypassing the rules.
func ns(t *testing.T, raw *mongo.Collection) map[int32]int32 {
	t.Helper()
	cur, err := raw.Find(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		ID int32 `bson:"_id"`
		N  int32 `bson:"n"`
	}
	if err := cur.All(context.Background(), &docs); err != nil {
		t.Fatal(err)
	}
	out := map[int32]int32{}
	for _, d := range docs {
		out[d.ID] = d.N
	}
	return out
}

// TestSortOnHiddenFieldWrites: a single-document write picks its document
// as if the documents hiding a sorted field did not exist, so which
// document is changed, deleted or returned never depends on the order of
// hidden values (with insert rights, bisection would give the values).
func TestSortOnHiddenFieldWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}
	bySecret := bson.D{{Key: "secret", Value: 1}}
	byTitle := bson.D{{Key: "title", Value: -1}}

	c, raw := e.ledger("dave")
	res, err := c.UpdateOne(ctx, bson.D{}, inc, options.UpdateOne().SetSort(bySecret))
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("UpdateOne sorted by the hidden secret: %+v, %v; want a zero result", res, err)
	}
	if got := ns(t, raw); got[1] != 0 || got[2] != 0 {
		t.Errorf("UpdateOne sorted by the hidden secret wrote: %v", got)
	}
	res, err = c.UpdateOne(ctx, bson.D{}, inc, options.UpdateOne().SetSort(byTitle))
	if got := ns(t, raw); err != nil || res.MatchedCount != 1 || got[2] != 1 || got[1] != 0 {
		t.Errorf("UpdateOne sorted by the readable title: %+v, %v, %v; want entry 2 updated", res, err, got)
	}
	res, err = c.ReplaceOne(ctx, bson.D{}, bson.D{{Key: "n", Value: 5}}, options.Replace().SetSort(bySecret))
	if err != nil && !errors.Is(err, gate.ErrDenied) || err == nil && res.MatchedCount != 0 {
		t.Errorf("ReplaceOne sorted by the hidden secret: %+v, %v", res, err)
	}
	for _, rd := range []options.ReturnDocument{options.Before, options.After} {
		err := c.FindOneAndUpdate(ctx, bson.D{}, inc, options.FindOneAndUpdate().SetSort(bySecret).SetReturnDocument(rd)).Err()
		if !errors.Is(err, mongo.ErrNoDocuments) {
			t.Errorf("FindOneAndUpdate (return %v) sorted by the hidden secret: %v; want mongo.ErrNoDocuments", rd, err)
		}
		var m bson.M
		if err := c.FindOneAndUpdate(ctx, bson.D{}, inc, options.FindOneAndUpdate().SetSort(byTitle).SetReturnDocument(rd)).Decode(&m); err != nil || m["_id"] != int32(2) {
			t.Errorf("FindOneAndUpdate (return %v) sorted by the title: %v, %v; want entry 2", rd, m, err)
		}
		if _, ok := m["secret"]; ok {
			t.Errorf("FindOneAndUpdate returned the secret: %v", m)
		}
	}
	if got := ns(t, raw); got[1] != 0 || got[2] != 3 {
		t.Errorf("after the FindOneAndUpdates: %v, want entry 2 at 3 and entry 1 untouched", got)
	}
	// FindOneAndDelete: the server's fast path (exact delete rules, no
	// client filter) used to take the sort as it was. Deleting needs every
	// field writable, hence readable, so here no entry may be deleted: the
	// answer must not depend on the order of the secrets either.
	var outcomes []string
	for _, swap := range []bool{false, true} {
		if swap {
			for id, sec := range map[int]string{1: "x", 2: "y"} {
				if _, err := raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "secret", Value: sec}}}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		err := c.FindOneAndDelete(ctx, bson.D{}, options.FindOneAndDelete().SetSort(bySecret)).Err()
		outcomes = append(outcomes, fmt.Sprint(err))
		if got := ns(t, raw); len(got) != 2 {
			t.Errorf("FindOneAndDelete sorted by the hidden secret deleted: %v", got)
		}
	}
	if outcomes[0] != outcomes[1] {
		t.Errorf("FindOneAndDelete sorted by the hidden secret answers by its order: %q, then %q", outcomes[0], outcomes[1])
	}
	var m bson.M
	// FindOne: the same rule as Find.
	if err := c.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bySecret)).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("FindOne sorted by the hidden secret: %v; want mongo.ErrNoDocuments", err)
	}
	// A {$meta: ...} sort is refused on writes as on reads.
	meta := bson.D{{Key: "k", Value: bson.D{{Key: "$meta", Value: "indexKey"}}}}
	_, err = c.UpdateOne(ctx, bson.D{}, inc, options.UpdateOne().SetSort(meta))
	wantRefused(t, err, gate.CodeUnsupported)
	err = c.FindOneAndDelete(ctx, bson.D{}, options.FindOneAndDelete().SetSort(meta)).Err()
	wantRefused(t, err, gate.CodeUnsupported)
	err = c.FindOneAndUpdate(ctx, bson.D{}, inc, options.FindOneAndUpdate().SetSort(meta)).Err()
	wantRefused(t, err, gate.CodeUnsupported)

	// Mixed: alice reads her own secret, not bob's, which sorts first.
	// The pick is her note, whatever bob's secret is.
	if _, err := e.raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "secret", Value: "0"}}}}); err != nil {
		t.Fatal(err)
	}
	alice := e.as("alice")
	countInc := bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}}
	res, err = alice.UpdateOne(ctx, bson.D{{Key: "team", Value: "red"}}, countInc, options.UpdateOne().SetSort(bySecret))
	if err != nil || res.MatchedCount != 1 || e.doc(1)["count"] != int32(1) || e.doc(2)["count"] != int32(0) {
		t.Errorf("alice's UpdateOne sorted by secret: %+v, %v; alice's count %v, bob's %v; want her own note", res, err, e.doc(1)["count"], e.doc(2)["count"])
	}
	if err := alice.FindOneAndUpdate(ctx, bson.D{{Key: "team", Value: "red"}}, countInc, options.FindOneAndUpdate().SetSort(bySecret)).Decode(&m); err != nil || m["_id"] != int32(1) {
		t.Errorf("alice's FindOneAndUpdate sorted by secret: %v, %v; want her own note", m, err)
	}
}

// TestDistinctPresence: Distinct decides like Find: a hidden value is left
// out, and neither an error nor an empty result tells whether some
// document has the hidden field.
func TestDistinctPresence(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	distinct := func(who, field string, filter bson.D) string {
		t.Helper()
		var vals []any
		if err := e.as(who).Distinct(ctx, field, filter).Decode(&vals); err != nil {
			return "error: " + err.Error()
		}
		return fmt.Sprint(vals)
	}
	// alice cannot read bob's secret: bob's note with a secret and one
	// without answer alike.
	with := distinct("alice", "secret", bson.D{{Key: "_id", Value: 2}})
	if _, err := e.raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "secret", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	without := distinct("alice", "secret", bson.D{{Key: "_id", Value: 2}})
	if with != without || with != "[]" {
		t.Errorf("Distinct of bob's hidden secret: %s with it, %s without; want [] for both", with, without)
	}
	if got := distinct("alice", "secret", bson.D{}); got != "[a-secret]" {
		t.Errorf("alice's distinct secrets: %s, want [a-secret]", got)
	}
	// A filter on the hidden field: the same as Find, nothing.
	if got := distinct("alice", "title", bson.D{{Key: "secret", Value: bson.D{{Key: "$exists", Value: false}}}}); got != "[]" {
		t.Errorf("distinct titles of notes without a secret: %s, want []", got)
	}
}

// TestAggregateRefusalIgnoresHiddenFields: Aggregate's answer must not say
// whether a document holds a field hidden from the caller: alice sees
// bob's note as a teammate, with or without its secret. (The gate once
// refused this pipeline, and the refusal had to be as blind; it now runs
// it over the redacted notes and counts what Find counts.)
func TestAggregateRefusalIgnoresHiddenFields(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	count := mongo.Pipeline{{{Key: "$count", Value: "n"}}}
	answer := func() string {
		t.Helper()
		cur, err := e.as("alice").Aggregate(ctx, count)
		if err != nil {
			var re *gate.RefusedError
			if errors.As(err, &re) {
				return "refused " + re.Code
			}
			return "error " + err.Error()
		}
		var out []bson.M
		if err := cur.All(ctx, &out); err != nil {
			return "error " + err.Error()
		}
		return fmt.Sprint(out)
	}
	with := answer()
	if _, err := e.raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "secret", Value: ""}, {Key: "owner_id", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	without := answer()
	if with != without {
		t.Errorf("alice's Aggregate: %s while bob's note holds fields hidden from her, %s once it does not", with, without)
	}
	n, err := e.as("alice").CountDocuments(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprint([]bson.M{{"n": int32(n)}}); with != want || n < 2 {
		t.Errorf("alice's Aggregate over an owner's and a teammate's note: %s, want %s (CountDocuments)", with, want)
	}
}

// TestUpdateErrorIgnoresHiddenValues: an update the gate cannot apply to
// a document ($inc of a string) is refused only when the caller may write
// what it touches; otherwise the answer is the denial, whatever type the
// hidden value has.
func TestUpdateErrorIgnoresHiddenValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	incSecret := bson.D{{Key: "$inc", Value: bson.D{{Key: "secret", Value: 1}}}}
	answers := func() []string {
		t.Helper()
		var out []string
		_, err := e.as("alice").UpdateMany(ctx, bson.D{{Key: "_id", Value: 2}}, incSecret)
		out = append(out, fmt.Sprint(err))
		_, err = e.as("alice").UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, incSecret)
		out = append(out, fmt.Sprint(err))
		return out
	}
	str := answers()
	if _, err := e.raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "secret", Value: 41}}}}); err != nil {
		t.Fatal(err)
	}
	num := answers()
	for i := range str {
		if str[i] != num[i] {
			t.Errorf("answer %d depends on the type of bob's hidden secret: %s (a string), %s (a number)", i, str[i], num[i])
		}
	}
	if e.doc(2)["secret"] != int32(41) {
		t.Errorf("bob's secret was written: %v", e.doc(2))
	}
}
