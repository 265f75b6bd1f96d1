package gate

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/xoptions"
)

// TestErrorsGolden renders the errors of operations the gate refuses before
// reaching the server, and compares them with testdata/errors.golden (-update
// rewrites it). The texts are the contract callers and logs see.
func TestErrorsGolden(t *testing.T) {
	app, err := rules.LoadApp(os.DirFS("testdata/app"))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := expansion.NewUserObject([]byte(`{"id": "a1"}`))
	// No server: every case below is refused before the gate talks to one.
	g := &Gate{prog: prog, retries: DefaultRetries}
	s := g.For(u)
	c := &Collection{s: s, ns: "app.notes"}
	tu, _ := expansion.NewUserObject([]byte(`{"id": "t1", "custom_data": {"team": "red"}}`))
	teammate := &Collection{s: g.For(tu), ns: "app.notes"}
	ctx := context.Background()
	id := bson.D{{Key: "_id", Value: 1}}
	var b strings.Builder
	for _, tc := range []struct {
		name string
		run  func() error
	}{
		{"find $where", func() error {
			_, err := c.Find(ctx, bson.D{{Key: "$where", Value: "1"}})
			return err
		}},
		{"find $regex", func() error {
			_, err := c.Find(ctx, bson.D{{Key: "a", Value: bson.D{{Key: "$regex", Value: "x"}}}})
			return err
		}},
		{"find unknown operator", func() error {
			_, err := c.Find(ctx, bson.D{{Key: "a", Value: bson.D{{Key: "$frob", Value: 1}}}})
			return err
		}},
		{"find projection operator", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: 1}}}}))
			return err
		}},
		{"find collation", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetCollation(&options.Collation{Locale: "fr"}))
			return err
		}},
		{"find filter not a document", func() error {
			_, err := c.Find(ctx, 42)
			return err
		}},
		{"update pipeline", func() error {
			_, err := c.UpdateOne(ctx, id, mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "a", Value: "$b"}}}}})
			return err
		}},
		{"update unknown operator", func() error {
			_, err := c.UpdateOne(ctx, id, bson.D{{Key: "$frob", Value: bson.D{{Key: "a", Value: 1}}}})
			return err
		}},
		{"update as replacement", func() error {
			_, err := c.UpdateOne(ctx, id, bson.D{{Key: "a", Value: 1}})
			return err
		}},
		{"replace with operators", func() error {
			_, err := c.ReplaceOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}})
			return err
		}},
		{"replace with a $ field", func() error {
			_, err := c.ReplaceOne(ctx, id, bson.D{{Key: "a", Value: bson.D{{Key: "$b", Value: 1}}}})
			return err
		}},
		{"aggregate $lookup", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$match", Value: bson.D{}}}, {{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}}}}})
			return err
		}},
		{"aggregate $lookup another database", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$lookup", Value: bson.D{{Key: "from", Value: bson.D{{Key: "db", Value: "admin"}, {Key: "coll", Value: "system.users"}}}, {Key: "as", Value: "x"}, {Key: "pipeline", Value: bson.A{}}}}}})
			return err
		}},
		{"aggregate unknown operator", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$project", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$frob", Value: 1}}}}}}})
			return err
		}},
		{"aggregate $out", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$out", Value: "x"}}})
			return err
		}},
		{"aggregate $function", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$function", Value: bson.D{}}}}}}}})
			return err
		}},
		{"aggregate $match $expr", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "$expr", Value: true}}}}})
			return err
		}},
		{"aggregate bson.D", func() error {
			_, err := c.Aggregate(ctx, bson.D{{Key: "$match", Value: bson.D{}}})
			return err
		}},
		{"insert $ field", func() error {
			_, err := c.InsertOne(ctx, bson.D{{Key: "$set", Value: 1}})
			return err
		}},
		{"insert dotted field", func() error {
			_, err := c.InsertMany(ctx, []any{bson.D{{Key: "owner_id", Value: "a1"}}, bson.D{{Key: "a.b", Value: 1}}})
			return err
		}},
		{"distinct $ field", func() error { return c.Distinct(ctx, "$a", bson.D{}).Err() }},
		{"delete collation", func() error {
			_, err := c.DeleteMany(ctx, bson.D{}, options.DeleteMany().SetCollation(&options.Collation{Locale: "fr"}))
			return err
		}},
		{"find hint", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetHint("secret_1"))
			return err
		}},
		{"find noCursorTimeout", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetNoCursorTimeout(true))
			return err
		}},
		{"find allowPartialResults", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetAllowPartialResults(true))
			return err
		}},
		{"find oplogReplay", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetOplogReplay(true))
			return err
		}},
		{"find sort $meta", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "k", Value: bson.D{{Key: "$meta", Value: "indexKey"}}}}))
			return err
		}},
		{"find sort duplicate key", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "k", Value: 1}, {Key: "k", Value: -1}}))
			return err
		}},
		{"find sort direction", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "k", Value: "asc"}}))
			return err
		}},
		{"find sort zero", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "k", Value: 0}}))
			return err
		}},
		{"find sort empty key", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "", Value: 1}}))
			return err
		}},
		{"find sort operator key", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "$natural", Value: 1}}))
			return err
		}},
		{"update sort duplicate key", func() error {
			_, err := c.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "x", Value: 1}}}}, options.UpdateOne().SetSort(bson.D{{Key: "k", Value: 1}, {Key: "k", Value: 1}}))
			return err
		}},
		{"find projection $meta", func() error {
			_, err := c.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "k", Value: bson.D{{Key: "$meta", Value: "indexKey"}}}}))
			return err
		}},
		{"findOne hint", func() error {
			return c.FindOne(ctx, bson.D{}, options.FindOne().SetHint(bson.D{{Key: "secret", Value: 1}})).Err()
		}},
		{"findOne allowPartialResults", func() error {
			return c.FindOne(ctx, bson.D{}, options.FindOne().SetAllowPartialResults(true)).Err()
		}},
		{"count hint", func() error {
			_, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetHint("secret_1"))
			return err
		}},
		{"distinct hint", func() error {
			return c.Distinct(ctx, "title", bson.D{}, options.Distinct().SetHint("secret_1")).Err()
		}},
		{"aggregate hint", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetHint("secret_1"))
			return err
		}},
		{"aggregate allowDiskUse", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetAllowDiskUse(true))
			return err
		}},
		{"aggregate bypassDocumentValidation", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetBypassDocumentValidation(true))
			return err
		}},
		{"aggregate $meta indexKey", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$project", Value: bson.D{{Key: "k", Value: bson.D{{Key: "$meta", Value: "indexKey"}}}}}}})
			return err
		}},
		{"aggregate $meta recordId", func() error {
			_, err := c.Aggregate(ctx, mongo.Pipeline{{{Key: "$addFields", Value: bson.D{{Key: "r", Value: bson.D{{Key: "$meta", Value: "recordId"}}}}}}})
			return err
		}},
		{"insertOne bypassDocumentValidation", func() error {
			_, err := c.InsertOne(ctx, bson.D{{Key: "owner_id", Value: "a1"}}, options.InsertOne().SetBypassDocumentValidation(true))
			return err
		}},
		{"insertOne addCommandFields", func() error {
			o := options.InsertOne()
			if err := xoptions.SetInternalInsertOneOptions(o, "addCommandFields", bson.D{{Key: "bypassDocumentValidation", Value: true}}); err != nil {
				return err
			}
			_, err := c.InsertOne(ctx, bson.D{{Key: "owner_id", Value: "a1"}}, o)
			return err
		}},
		{"insertMany bypassDocumentValidation", func() error {
			_, err := c.InsertMany(ctx, []any{bson.D{{Key: "owner_id", Value: "a1"}}}, options.InsertMany().SetBypassDocumentValidation(false))
			return err
		}},
		{"updateOne hint", func() error {
			_, err := c.UpdateOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.UpdateOne().SetHint("secret_1"))
			return err
		}},
		{"updateOne bypassDocumentValidation", func() error {
			_, err := c.UpdateOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.UpdateOne().SetBypassDocumentValidation(true))
			return err
		}},
		{"updateOne let", func() error {
			_, err := c.UpdateOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.UpdateOne().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"updateOne sort $meta", func() error {
			_, err := c.UpdateOne(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.UpdateOne().SetSort(bson.D{{Key: "k", Value: bson.D{{Key: "$meta", Value: "indexKey"}}}}))
			return err
		}},
		{"updateMany hint", func() error {
			_, err := c.UpdateMany(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.UpdateMany().SetHint("secret_1"))
			return err
		}},
		{"replaceOne bypassDocumentValidation", func() error {
			_, err := c.ReplaceOne(ctx, id, bson.D{{Key: "a", Value: 1}}, options.Replace().SetBypassDocumentValidation(true))
			return err
		}},
		{"replaceOne hint", func() error {
			_, err := c.ReplaceOne(ctx, id, bson.D{{Key: "a", Value: 1}}, options.Replace().SetHint("secret_1"))
			return err
		}},
		{"deleteOne hint", func() error {
			_, err := c.DeleteOne(ctx, id, options.DeleteOne().SetHint("secret_1"))
			return err
		}},
		{"deleteMany hint", func() error {
			_, err := c.DeleteMany(ctx, bson.D{}, options.DeleteMany().SetHint("secret_1"))
			return err
		}},
		{"findOneAndDelete hint", func() error {
			return c.FindOneAndDelete(ctx, id, options.FindOneAndDelete().SetHint("secret_1")).Err()
		}},
		{"findOneAndUpdate bypassDocumentValidation", func() error {
			return c.FindOneAndUpdate(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.FindOneAndUpdate().SetBypassDocumentValidation(true)).Err()
		}},
		{"findOneAndUpdate hint", func() error {
			return c.FindOneAndUpdate(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.FindOneAndUpdate().SetHint("secret_1")).Err()
		}},
		{"findOneAndUpdate projection", func() error {
			return c.FindOneAndUpdate(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, options.FindOneAndUpdate().SetProjection(bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: 1}}}})).Err()
		}},
		// Denials decided before the server is reached: inserts.
		{"insert no role", func() error {
			_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "b1"}})
			return err
		}},
		{"insert by a role that may not insert", func() error {
			_, err := teammate.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "team", Value: "red"}, {Key: "count", Value: 1}})
			return err
		}},
		{"insertMany by a role that may not insert", func() error {
			_, err := teammate.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 1}, {Key: "team", Value: "red"}, {Key: "count", Value: 1}}})
			return err
		}},
	} {
		err := tc.run()
		if err == nil {
			t.Errorf("%s: no error", tc.name)
			continue
		}
		b.WriteString(tc.name + ": " + err.Error() + "\n")
	}
	got := b.String()
	const golden = "testdata/errors.golden"
	if casetest.Updating() {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("errors differ from %s (run with -update to rewrite):\n--- got\n%s--- want\n%s", golden, got, want)
	}
}
