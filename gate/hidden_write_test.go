package gate_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestWriteIgnoresHiddenValues: the siblings of the modified-hidden and
// replace-hidden-presence classes of TestNonInterference. Every write
// method answers alike (result counts, errors, the returned document,
// the caller's view afterwards) on stored documents that differ only in
// what the caller cannot read.
func TestWriteIgnoresHiddenValues(t *testing.T) {
	ctx := context.Background()
	const (
		allRW    = `"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true}]`
		hideS    = allRW + `, "filters": [{"name": "f", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]`
		hideSSN  = allRW + `, "filters": [{"name": "f", "apply_when": {}, "query": {}, "projection": {"profile.ssn": 0}}]`
		fieldsS  = `"roles": [{"name": "r", "apply_when": {}, "fields": {"secret": {"read": false, "write": false}}, "additional_fields": {"read": true, "write": true}}]`
		readOnly = `"roles": [{"name": "r", "apply_when": {}, "fields": {"owner": {"read": true}}, "additional_fields": {"read": true, "write": true}}]`
	)
	id1 := bson.D{{Key: "_id", Value: 1}}
	d := func(kv ...any) bson.D {
		out := bson.D{{Key: "_id", Value: 1}, {Key: "t", Value: "x"}}
		for i := 0; i < len(kv); i += 2 {
			out = append(out, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return out
	}
	upd := func(op, k string, v any) bson.D { return bson.D{{Key: op, Value: bson.D{{Key: k, Value: v}}}} }
	updateOne := func(u bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			res, err := c.UpdateOne(ctx, id1, u)
			if err != nil {
				return niErrCode(err)
			}
			return fmt.Sprintf("matched %d modified %d", res.MatchedCount, res.ModifiedCount)
		}
	}
	updateMany := func(u bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			res, err := c.UpdateMany(ctx, bson.D{}, u)
			if err != nil {
				return niErrCode(err)
			}
			return fmt.Sprintf("matched %d modified %d", res.MatchedCount, res.ModifiedCount)
		}
	}
	findOneAndUpdate := func(u bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			var got bson.M
			if err := c.FindOneAndUpdate(ctx, id1, u).Decode(&got); err != nil {
				return niErrCode(err)
			}
			return fmt.Sprint(got)
		}
	}
	replaceOne := func(r bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			res, err := c.ReplaceOne(ctx, id1, r)
			if err != nil {
				return niErrCode(err)
			}
			return fmt.Sprintf("matched %d modified %d", res.MatchedCount, res.ModifiedCount)
		}
	}
	for _, tc := range []struct {
		name, rules string
		d, twin     []bson.D
		run         func(c *gate.Collection) string
		want        string
	}{
		{"set-projected-right-guess", hideS, []bson.D{d("secret", "guess")}, []bson.D{d("secret", "other")}, updateOne(upd("$set", "secret", "guess")), "denied write field-not-readable"},
		{"unset-projected-presence", hideS, []bson.D{d("secret", "s")}, []bson.D{d()}, updateOne(upd("$unset", "secret", "")), "denied write field-not-readable"},
		{"inc-projected-type", hideS, []bson.D{d("secret", 1)}, []bson.D{d("secret", "s")}, updateOne(upd("$inc", "secret", 1)), "denied write field-not-readable"},
		{"min-projected", hideS, []bson.D{d("secret", 0)}, []bson.D{d("secret", 5)}, updateOne(upd("$min", "secret", 1)), "denied write field-not-readable"},
		{"push-projected-type", hideS, []bson.D{d("secret", bson.A{1})}, []bson.D{d("secret", 1)}, updateOne(upd("$push", "secret", 2)), "denied write field-not-readable"},
		{"addtoset-projected", hideS, []bson.D{d("secret", bson.A{2})}, []bson.D{d("secret", bson.A{1})}, updateOne(upd("$addToSet", "secret", 2)), "denied write field-not-readable"},
		{"pull-projected", hideS, []bson.D{d("secret", bson.A{2})}, []bson.D{d("secret", bson.A{1})}, updateOne(upd("$pull", "secret", 2)), "denied write field-not-readable"},
		{"updatemany-projected", hideS, []bson.D{d("secret", "guess")}, []bson.D{d("secret", "other")}, updateMany(upd("$set", "secret", "guess")), "denied write field-not-readable"},
		{"findoneandupdate-projected", hideS, []bson.D{d("secret", "guess")}, []bson.D{d("secret", "other")}, findOneAndUpdate(upd("$set", "secret", "guess")), "denied write field-not-readable"},
		{"set-parent-of-projected", hideSSN, []bson.D{d("profile", bson.D{{Key: "name", Value: "a"}, {Key: "ssn", Value: "1"}})}, []bson.D{d("profile", bson.D{{Key: "name", Value: "a"}})},
			updateOne(upd("$set", "profile", bson.D{{Key: "name", Value: "a"}})), "denied write field-not-readable"},
		{"set-sibling-of-projected", hideSSN, []bson.D{d("profile", bson.D{{Key: "name", Value: "a"}, {Key: "ssn", Value: "1"}})}, []bson.D{d("profile", bson.D{{Key: "name", Value: "a"}})},
			updateOne(upd("$set", "profile.name", "b")), "matched 1 modified 1"},
		{"set-visible-projected", hideS, []bson.D{d("secret", "guess")}, []bson.D{d()}, updateOne(upd("$set", "t", "y")), "matched 1 modified 1"},
		{"push-unwritable-type", fieldsS, []bson.D{d("secret", bson.A{1})}, []bson.D{d("secret", 1)}, updateOne(upd("$push", "secret", 2)), "denied write field-not-writable"},
		{"replace-projected", hideS, []bson.D{d("secret", "s")}, []bson.D{d()}, replaceOne(bson.D{{Key: "t", Value: "y"}}), "denied write field-not-writable"},
		{"replace-unreadable-field", fieldsS, []bson.D{d("secret", "s")}, []bson.D{d()}, replaceOne(bson.D{{Key: "t", Value: "y"}}), "denied write field-not-writable"},
		// Every field readable: the replacement is decided on what the
		// caller sees, and the gate runs it where Evaluate allows it.
		{"replace-readable-unwritable-absent", readOnly, []bson.D{d()}, []bson.D{d()}, replaceOne(bson.D{{Key: "t", Value: "y"}}), "matched 1 modified 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var onD string
			runs := 0
			onTwins(t, tc.rules, tc.d, tc.twin, func(c *gate.Collection) string {
				out := tc.run(c)
				if runs++; runs == 1 { // D comes first
					onD = out
				}
				return out + " | after: " + viewOf(t, ctx, c)
			})
			if onD != tc.want {
				t.Errorf("on D: %s, want %s", onD, tc.want)
			}
		})
	}
}

// viewOf is what the caller reads of the collection.
func viewOf(t *testing.T, ctx context.Context, c *gate.Collection) string {
	t.Helper()
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		return niErrCode(err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil && err != mongo.ErrNoDocuments {
		t.Fatal(err)
	}
	return fmt.Sprint(docs)
}
