package gate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// positionalRules: a member (the caller's id in members, an array the
// rule filter reads) reads and writes everything but items' price.
const positionalRules = `"roles": [{"name": "member", "apply_when": {"members": "%%user.id"},
	"fields": {"items": {"fields": {"price": {"read": true, "write": false}}, "additional_fields": {"read": true, "write": true}}},
	"additional_fields": {"read": true, "write": true}}]`

func positionalDocs() []any {
	return []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "members", Value: bson.A{"u2", "u1"}}, {Key: "items", Value: bson.A{
			bson.D{{Key: "sku", Value: "a"}, {Key: "qty", Value: 1}},
			bson.D{{Key: "sku", Value: "x"}, {Key: "qty", Value: 2}},
			bson.D{{Key: "sku", Value: "x"}, {Key: "qty", Value: 3}},
		}}},
		bson.D{{Key: "_id", Value: 2}, {Key: "members", Value: bson.A{"u1"}}, {Key: "items", Value: bson.A{
			bson.D{{Key: "sku", Value: "x"}, {Key: "qty", Value: 5}},
		}}},
	}
}

// TestPositionalUpdates runs $, $[] and $[<identifier>] updates through
// every update method and BulkWrite, on the embedded server (which runs
// none of them itself: the gate sends the update with the array indexes
// decided on the stored document, mql.ResolveUpdate). The element $
// stands for is decided by the client filter alone, never by the rule
// filter the server is sent too ({"members": "u1"} reads an array).
func TestPositionalUpdates(t *testing.T) {
	ctx := context.Background()
	db := rulegatetest.Database(t)
	g := newGate(t, db.Client(), rulesFS(db.Name(), positionalRules, "c"))
	c := g.For(user(t, `{"id": "u1"}`)).Database(db.Name()).Collection("c")
	raw := db.Collection("c")
	reset := func(t *testing.T) {
		t.Helper()
		if _, err := raw.DeleteMany(ctx, bson.D{}); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.InsertMany(ctx, positionalDocs()); err != nil {
			t.Fatal(err)
		}
	}
	items := func(t *testing.T, id int) string {
		t.Helper()
		var d struct {
			Items []struct {
				Sku string `bson:"sku"`
				Qty int    `bson:"qty"`
			} `bson:"items"`
		}
		if err := raw.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(d.Items)
	}
	set := func(path string, v any) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: path, Value: v}}}} }
	filters := func(fs ...bson.D) []any {
		out := make([]any, len(fs))
		for i, f := range fs {
			out[i] = f
		}
		return out
	}
	skuX := bson.D{{Key: "e.sku", Value: "x"}}

	t.Run("UpdateOne $", func(t *testing.T) {
		reset(t)
		res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "items.sku", Value: "x"}}, set("items.$.qty", 9))
		if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
			t.Fatalf("UpdateOne: %+v, %v", res, err)
		}
		if got, want := items(t, 1), "[{a 1} {x 9} {x 3}]"; got != want {
			t.Errorf("items %s, want %s", got, want)
		}
	})
	t.Run("UpdateByID $[]", func(t *testing.T) {
		reset(t)
		if _, err := c.UpdateByID(ctx, 1, bson.D{{Key: "$inc", Value: bson.D{{Key: "items.$[].qty", Value: 10}}}}); err != nil {
			t.Fatal(err)
		}
		if got, want := items(t, 1), "[{a 11} {x 12} {x 13}]"; got != want {
			t.Errorf("items %s, want %s", got, want)
		}
	})
	t.Run("UpdateMany $[<id>]", func(t *testing.T) {
		reset(t)
		res, err := c.UpdateMany(ctx, bson.D{}, set("items.$[e].qty", 0), options.UpdateMany().SetArrayFilters(filters(skuX)))
		if err != nil || res.MatchedCount != 2 || res.ModifiedCount != 2 {
			t.Fatalf("UpdateMany: %+v, %v", res, err)
		}
		if got, want := items(t, 1)+items(t, 2), "[{a 1} {x 0} {x 0}][{x 0}]"; got != want {
			t.Errorf("items %s, want %s", got, want)
		}
	})
	t.Run("FindOneAndUpdate $[<id>]", func(t *testing.T) {
		reset(t)
		var got struct {
			Items []struct {
				Sku string `bson:"sku"`
				Qty int    `bson:"qty"`
			} `bson:"items"`
		}
		err := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, set("items.$[e].sku", "y"),
			options.FindOneAndUpdate().SetArrayFilters(filters(bson.D{{Key: "e.qty", Value: bson.D{{Key: "$gte", Value: 2}}}})).
				SetReturnDocument(options.After)).Decode(&got)
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(got.Items); s != "[{a 1} {y 2} {y 3}]" {
			t.Errorf("returned items %s", s)
		}
	})
	t.Run("BulkWrite models", func(t *testing.T) {
		reset(t)
		_, err := c.BulkWrite(ctx, []mongo.WriteModel{
			mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(set("items.$[e].qty", 7)).SetArrayFilters(filters(skuX)),
			mongo.NewUpdateManyModel().SetFilter(bson.D{{Key: "items.sku", Value: "a"}}).SetUpdate(set("items.$.qty", 8)),
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := items(t, 1)+items(t, 2), "[{a 8} {x 7} {x 7}][{x 5}]"; got != want {
			t.Errorf("items %s, want %s", got, want)
		}
	})
	t.Run("field rules by field name", func(t *testing.T) {
		reset(t)
		_, err := c.UpdateOne(ctx, bson.D{{Key: "items.sku", Value: "x"}}, set("items.$.price", 1))
		var de *gate.DeniedError
		if !errors.As(err, &de) || de.Reason != evaluator.ReasonFieldNotWritable || de.Field != "items.price" {
			t.Fatalf("a positional write of items.price: %v, want field-not-writable items.price", err)
		}
		_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, set("items.$[e].price", 1), options.UpdateOne().SetArrayFilters(filters(skuX)))
		if !errors.As(err, &de) || de.Reason != evaluator.ReasonFieldNotWritable {
			t.Fatalf("a filtered positional write of items.price: %v, want field-not-writable", err)
		}
	})
	t.Run("post-image: leaving scope through $", func(t *testing.T) {
		reset(t)
		_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "members", Value: "u1"}}, set("members.$", "u9"))
		var de *gate.DeniedError
		if !errors.As(err, &de) || de.Reason != evaluator.ReasonLeavingScope {
			t.Fatalf("moving the document out of the caller's scope with members.$: %v, want leaving-scope", err)
		}
	})
	t.Run("refused", func(t *testing.T) {
		reset(t)
		for _, tc := range []struct {
			name, code string
			call       func() error
		}{
			{"ambiguous $", gate.CodeUnsupported, func() error {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "items.sku", Value: "x"}, {Key: "items.qty", Value: 3}}, set("items.$.qty", 0))
				return err
			}},
			{"no array filter", gate.CodeInvalid, func() error {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("items.$[e].qty", 0))
				return err
			}},
			{"unused array filter", gate.CodeInvalid, func() error {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("items.0.qty", 0), options.UpdateOne().SetArrayFilters(filters(skuX)))
				return err
			}},
			{"array filter with $where", gate.CodeInvalid, func() error {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("items.$[e].qty", 0),
					options.UpdateOne().SetArrayFilters(filters(bson.D{{Key: "$where", Value: "true"}})))
				return err
			}},
			{"upsert inserting with $", gate.CodeInvalid, func() error {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 3}, {Key: "members", Value: "u1"}}, set("items.$.qty", 0), options.UpdateOne().SetUpsert(true))
				return err
			}},
		} {
			var re *gate.RefusedError
			if err := tc.call(); !errors.As(err, &re) || re.Code != tc.code {
				t.Errorf("%s: %v, want refused %s", tc.name, err, tc.code)
			}
		}
		if got, want := items(t, 1), "[{a 1} {x 2} {x 3}]"; got != want {
			t.Errorf("a refused update wrote: items %s, want %s", got, want)
		}
	})
}

// TestArrayFiltersHidden: an array filter that reads a field hidden from
// the caller does not match the document, as a client filter on a hidden
// field does not: which elements the update changes (and ModifiedCount,
// and the document FindOneAndUpdate returns) would tell the hidden
// value. The documents D and D' differ only in items' hidden code.
func TestArrayFiltersHidden(t *testing.T) {
	ctx := context.Background()
	rules := `"roles": [{"name": "r", "apply_when": {},
		"fields": {"items": {"fields": {"code": {"read": false, "write": false}}, "additional_fields": {"read": true, "write": true}}},
		"additional_fields": {"read": true, "write": true}}]`
	doc := func(code string) []bson.D {
		return []bson.D{{{Key: "_id", Value: 1}, {Key: "items", Value: bson.A{bson.D{{Key: "code", Value: code}, {Key: "qty", Value: 1}}}}}}
	}
	for _, tc := range []struct {
		name, want string
		run        func(c *gate.Collection) string
	}{
		{"UpdateOne", "matched 0 modified 0", func(c *gate.Collection) string {
			res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "items.$[e].qty", Value: 5}}}},
				options.UpdateOne().SetArrayFilters([]any{bson.D{{Key: "e.code", Value: "guess"}}}))
			if err != nil {
				return niErrCode(err)
			}
			return fmt.Sprintf("matched %d modified %d", res.MatchedCount, res.ModifiedCount)
		}},
		{"UpdateMany", "matched 0 modified 0", func(c *gate.Collection) string {
			res, err := c.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "items.$[e].qty", Value: 5}}}},
				options.UpdateMany().SetArrayFilters([]any{bson.D{{Key: "e.code", Value: "guess"}}}))
			if err != nil {
				return niErrCode(err)
			}
			return fmt.Sprintf("matched %d modified %d", res.MatchedCount, res.ModifiedCount)
		}},
		{"FindOneAndUpdate", "no documents", func(c *gate.Collection) string {
			var got bson.M
			err := c.FindOneAndUpdate(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "items.$[e].qty", Value: 5}}}},
				options.FindOneAndUpdate().SetArrayFilters([]any{bson.D{{Key: "e", Value: bson.D{{Key: "code", Value: "guess"}, {Key: "qty", Value: 1}}}}}).
					SetReturnDocument(options.After)).Decode(&got)
			if err != nil {
				return niErrCode(err)
			}
			return fmt.Sprint(got)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := onTwins(t, rules, doc("guess"), doc("other"), tc.run); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
