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
)

// TestInsertBreakingSchemaRefused: the gate decides writes with Evaluate on
// the document after the write, so a collection's schema.json is enforced
// (source/schemas/enforce-a-schema.txt): an insert the rules allow but the
// schema refuses is denied with the reason schema and nothing is written;
// updates (UpdateOne, UpdateMany) whose result breaks the schema and
// InsertMany are refused the same way.
func TestInsertBreakingSchemaRefused(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	fsys := rulesFS(db.Name(), `"roles": [{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true}]`, "items")
	fsys["data_sources/mongodb-atlas/"+db.Name()+"/items/schema.json"] = &fstest.MapFile{Data: []byte(`{
  "bsonType": "object",
  "required": ["owner_id", "title"],
  "properties": {"owner_id": {"bsonType": "string"}, "title": {"bsonType": "string"}}
}`)}
	g := newGate(t, db.Client(), fsys)
	items := g.For(user(t, `{"id": "a1", "type": "normal"}`)).Database(db.Name()).Collection("items")
	ctx := context.Background()

	if _, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}, {Key: "title", Value: "ok"}}); err != nil {
		t.Fatalf("an insert matching the schema: %v", err)
	}
	_, err := items.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "owner_id", Value: "a1"}, {Key: "title", Value: 42}})
	var de *gate.DeniedError
	if !errors.As(err, &de) || de.Reason != evaluator.ReasonSchema {
		t.Fatalf("an insert breaking the schema: want a denial with reason schema, got %v", err)
	}
	if n, err := db.Collection("items").CountDocuments(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil || n != 0 {
		t.Fatalf("the refused document was written (count %d, %v)", n, err)
	}
	_, err = items.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "title", Value: ""}}}})
	if !errors.As(err, &de) || de.Reason != evaluator.ReasonSchema {
		t.Fatalf("an update dropping a required field: want a denial with reason schema, got %v", err)
	}
	_, err = items.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: 1}}}})
	if !errors.As(err, &de) || de.Reason != evaluator.ReasonSchema {
		t.Fatalf("an UpdateMany setting a field to the wrong type: want a denial with reason schema, got %v", err)
	}
	_, err = items.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 3}, {Key: "owner_id", Value: "a1"}}})
	if !errors.As(err, &de) || de.Reason != evaluator.ReasonSchema {
		t.Fatalf("an InsertMany missing a required field: want a denial with reason schema, got %v", err)
	}
	var stored bson.M
	if err := db.Collection("items").FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&stored); err != nil || stored["title"] != "ok" {
		t.Fatalf("the refused update was written: %v %v", stored, err)
	}
}

// TestSchemaSeesOnlyReadableFields: a write's outcome does not depend on a
// value the caller cannot read. A bidder who writes bid but cannot read
// reserve, under {"%%this": {"$gte": "%%root.reserve"}}, gets the same
// answer whether reserve is below or above the bid (the schema sees the
// redacted document: reserve is missing), so the bid cannot binary-search
// it; nothing is written.
func TestSchemaSeesOnlyReadableFields(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	fsys := rulesFS(db.Name(), `"roles": [{"name": "bidder", "apply_when": {}, "fields": {"bid": {"write": true}}}]`, "lots")
	fsys["data_sources/mongodb-atlas/"+db.Name()+"/lots/schema.json"] = &fstest.MapFile{Data: []byte(`{
  "properties": {"bid": {"validate": {"%%this": {"$gte": "%%root.reserve"}}}}
}`)}
	ctx := context.Background()
	if _, err := db.Collection("lots").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "bid", Value: 5}, {Key: "reserve", Value: 10}},
		bson.D{{Key: "_id", Value: 2}, {Key: "bid", Value: 6}, {Key: "reserve", Value: 30}},
	}); err != nil {
		t.Fatal(err)
	}
	g := newGate(t, db.Client(), fsys)
	lots := g.For(user(t, `{"id": "b1", "type": "normal"}`)).Database(db.Name()).Collection("lots")
	var msgs []string
	for _, bid := range []int{5, 6} {
		_, err := lots.UpdateOne(ctx, bson.D{{Key: "bid", Value: bid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "bid", Value: 20}}}})
		var de *gate.DeniedError
		if !errors.As(err, &de) || de.Reason != evaluator.ReasonSchema {
			t.Fatalf("a bid of 20 on the lot with bid %d: want a denial with reason schema, got %v", bid, err)
		}
		msgs = append(msgs, err.Error())
	}
	if msgs[0] != msgs[1] {
		t.Errorf("the denials differ with the hidden reserve:\n%s\n%s", msgs[0], msgs[1])
	}
	if n, err := db.Collection("lots").CountDocuments(ctx, bson.D{{Key: "bid", Value: 20}}); err != nil || n != 0 {
		t.Fatalf("a refused bid was written (count %d, %v)", n, err)
	}
}
