package gate_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/xoptions"
)

// notOffered are the methods of *mongo.Collection that a gated
// Collection does not have (the package documentation's driver-surface
// table says why); every other method of the driver's Collection it has,
// with the same parameters.
var notOffered = map[string]bool{
	"Clone": true, "Database": true, "Drop": true, "Indexes": true, "SearchIndexes": true,
}

// TestDriverSurfaceMethods: every method of the driver's *mongo.Collection
// is either offered by *gate.Collection with the same parameters or
// listed in notOffered, so that a driver upgrade that adds a method
// fails here until the table in doc.go says what the gate does with it.
func TestDriverSurfaceMethods(t *testing.T) {
	t.Parallel()
	driver := reflect.TypeOf(&mongo.Collection{})
	gated := reflect.TypeOf(&gate.Collection{})
	for i := range driver.NumMethod() {
		dm := driver.Method(i)
		gm, ok := gated.MethodByName(dm.Name)
		if notOffered[dm.Name] {
			if ok {
				t.Errorf("%s is offered: take it out of notOffered and put it in the table of doc.go", dm.Name)
			}
			continue
		}
		if !ok {
			t.Errorf("*mongo.Collection.%s is neither offered nor listed as not offered", dm.Name)
			continue
		}
		if dm.Type.NumIn() != gm.Type.NumIn() || dm.Type.IsVariadic() != gm.Type.IsVariadic() {
			t.Errorf("%s: parameters %v, the driver's %v", dm.Name, gm.Type, dm.Type)
			continue
		}
		for j := 1; j < dm.Type.NumIn(); j++ {
			if dm.Type.In(j) != gm.Type.In(j) {
				t.Errorf("%s: parameter %d is %v, the driver's %v", dm.Name, j, gm.Type.In(j), dm.Type.In(j))
			}
		}
	}
}

// internal sets the driver's internal rawData option on an options
// builder.
func internal[B any](t *testing.T, b B, set func(B, string, any) error) B {
	t.Helper()
	if err := set(b, "rawData", true); err != nil {
		t.Fatal(err)
	}
	return b
}

// closed closes a gated cursor that opened.
func closed(ctx context.Context, cur *gate.Cursor, err error) error {
	if err != nil {
		return err
	}
	return cur.Close(ctx)
}

// noDocs is err, nil for mongo.ErrNoDocuments.
func noDocs(err error) error {
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil
	}
	return err
}

// TestDriverSurface backs each option row of the driver-surface table in
// doc.go: every option of every offered method is either accepted (the
// call succeeds) or refused with its code before anything is sent. What
// an accepted option does is tested with the method (TestFind,
// TestUpsertUpdateOne, ...).
func TestDriverSurface(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c := e.as("alice")
	carol := e.as("carol") // one role over all her documents: Aggregate runs
	col := &options.Collation{Locale: "en", Strength: 2}
	none := bson.D{{Key: "_id", Value: 99}}
	mineF := func() bson.D { return bson.D{{Key: "owner_id", Value: "a1"}} }
	mine := func() bson.D { return bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "surface"}} }
	// filtered runs call with an update of alice's documents through a
	// filtered positional path and its arrayFilters, the array made first.
	filtered := func(call func(upd bson.D, af []any) error) error {
		if _, err := c.UpdateMany(ctx, mineF(), set("marks", bson.A{1, 2})); err != nil {
			return err
		}
		return call(set("marks.$[m]", 0), []any{bson.D{{Key: "m", Value: 2}}})
	}
	for _, tc := range []struct {
		method, option string
		want           string // "" accepted, else the refusal's code
		call           func() error
	}{
		{"Find", "sort", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
			return closed(ctx, cur, err)
		}},
		{"Find", "skip", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetSkip(1))
			return closed(ctx, cur, err)
		}},
		{"Find", "limit", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetLimit(1))
			return closed(ctx, cur, err)
		}},
		{"Find", "projection", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "title", Value: 1}}))
			return closed(ctx, cur, err)
		}},
		{"Find", "batchSize", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetBatchSize(1))
			return closed(ctx, cur, err)
		}},
		{"Find", "comment", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetComment("c"))
			return closed(ctx, cur, err)
		}},
		{"Find", "allowDiskUse", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetAllowDiskUse(true))
			return closed(ctx, cur, err)
		}},
		{"Find", "maxAwaitTime", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetMaxAwaitTime(time.Second))
			return closed(ctx, cur, err)
		}},
		{"Find", "cursorType NonTailable", "", func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetCursorType(options.NonTailable))
			return closed(ctx, cur, err)
		}},
		{"Find", "allowPartialResults", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetAllowPartialResults(true))
			return closed(ctx, cur, err)
		}},
		{"Find", "collation", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetCollation(col))
			return closed(ctx, cur, err)
		}},
		{"Find", "cursorType Tailable", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetCursorType(options.Tailable))
			return closed(ctx, cur, err)
		}},
		{"Find", "hint", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetHint("secret_1"))
			return closed(ctx, cur, err)
		}},
		{"Find", "let", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetLet(bson.D{{Key: "x", Value: 1}}))
			return closed(ctx, cur, err)
		}},
		{"Find", "max", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetMax(bson.D{{Key: "_id", Value: 9}}))
			return closed(ctx, cur, err)
		}},
		{"Find", "min", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetMin(bson.D{{Key: "_id", Value: 0}}))
			return closed(ctx, cur, err)
		}},
		{"Find", "noCursorTimeout", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetNoCursorTimeout(true))
			return closed(ctx, cur, err)
		}},
		{"Find", "oplogReplay", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetOplogReplay(true))
			return closed(ctx, cur, err)
		}},
		{"Find", "returnKey", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetReturnKey(true))
			return closed(ctx, cur, err)
		}},
		{"Find", "showRecordId", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, options.Find().SetShowRecordID(true))
			return closed(ctx, cur, err)
		}},
		{"Find", "internal", gate.CodeUnsupported, func() error {
			cur, err := c.Find(ctx, bson.D{}, internal(t, options.Find(), xoptions.SetInternalFindOptions))
			return closed(ctx, cur, err)
		}},
		{"FindOne", "sort", "", func() error {
			return c.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}})).Err()
		}},
		{"FindOne", "skip", "", func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetSkip(1)).Err() }},
		{"FindOne", "projection", "", func() error {
			return c.FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "title", Value: 1}})).Err()
		}},
		{"FindOne", "comment", "", func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetComment("c")).Err() }},
		{"FindOne", "allowPartialResults", gate.CodeUnsupported, func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetAllowPartialResults(true)).Err() }},
		{"FindOne", "collation", gate.CodeUnsupported, func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetCollation(col)).Err() }},
		{"FindOne", "hint", gate.CodeUnsupported, func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetHint("secret_1")).Err() }},
		{"FindOne", "max", gate.CodeUnsupported, func() error {
			return c.FindOne(ctx, bson.D{}, options.FindOne().SetMax(bson.D{{Key: "_id", Value: 9}})).Err()
		}},
		{"FindOne", "min", gate.CodeUnsupported, func() error {
			return c.FindOne(ctx, bson.D{}, options.FindOne().SetMin(bson.D{{Key: "_id", Value: 0}})).Err()
		}},
		{"FindOne", "oplogReplay", gate.CodeUnsupported, func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetOplogReplay(true)).Err() }},
		{"FindOne", "returnKey", gate.CodeUnsupported, func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetReturnKey(true)).Err() }},
		{"FindOne", "showRecordId", gate.CodeUnsupported, func() error { return c.FindOne(ctx, bson.D{}, options.FindOne().SetShowRecordID(true)).Err() }},
		{"FindOne", "internal", gate.CodeUnsupported, func() error {
			return c.FindOne(ctx, bson.D{}, internal(t, options.FindOne(), xoptions.SetInternalFindOneOptions)).Err()
		}},
		{"CountDocuments", "skip", "", func() error { _, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetSkip(1)); return err }},
		{"CountDocuments", "limit", "", func() error { _, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1)); return err }},
		{"CountDocuments", "comment", "", func() error { _, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetComment("c")); return err }},
		{"CountDocuments", "collation", gate.CodeUnsupported, func() error { _, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetCollation(col)); return err }},
		{"CountDocuments", "hint", gate.CodeUnsupported, func() error {
			_, err := c.CountDocuments(ctx, bson.D{}, options.Count().SetHint("secret_1"))
			return err
		}},
		{"CountDocuments", "internal", gate.CodeUnsupported, func() error {
			_, err := c.CountDocuments(ctx, bson.D{}, internal(t, options.Count(), xoptions.SetInternalCountOptions))
			return err
		}},
		{"EstimatedDocumentCount", "comment", "", func() error {
			_, err := c.EstimatedDocumentCount(ctx, options.EstimatedDocumentCount().SetComment("c"))
			return err
		}},
		{"EstimatedDocumentCount", "internal", gate.CodeUnsupported, func() error {
			_, err := c.EstimatedDocumentCount(ctx, internal(t, options.EstimatedDocumentCount(), xoptions.SetInternalEstimatedDocumentCountOptions))
			return err
		}},
		{"Distinct", "comment", "", func() error { return c.Distinct(ctx, "title", bson.D{}, options.Distinct().SetComment("c")).Err() }},
		{"Distinct", "collation", gate.CodeUnsupported, func() error { return c.Distinct(ctx, "title", bson.D{}, options.Distinct().SetCollation(col)).Err() }},
		{"Distinct", "hint", gate.CodeUnsupported, func() error { return c.Distinct(ctx, "title", bson.D{}, options.Distinct().SetHint("secret_1")).Err() }},
		{"Distinct", "internal", gate.CodeUnsupported, func() error {
			return c.Distinct(ctx, "title", bson.D{}, internal(t, options.Distinct(), xoptions.SetInternalDistinctOptions)).Err()
		}},
		{"Aggregate", "batchSize", "", func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetBatchSize(1))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "maxAwaitTime", "", func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetMaxAwaitTime(time.Second))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "comment", "", func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetComment("c"))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "allowDiskUse", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetAllowDiskUse(true))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetBypassDocumentValidation(true))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "collation", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetCollation(col))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "custom", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetCustom(bson.M{"explain": true}))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "hint", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetHint("secret_1"))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "let", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, options.Aggregate().SetLet(bson.D{{Key: "x", Value: 1}}))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"Aggregate", "internal", gate.CodeUnsupported, func() error {
			cur, err := carol.Aggregate(ctx, mongo.Pipeline{}, internal(t, options.Aggregate(), xoptions.SetInternalAggregateOptions))
			if err == nil {
				err = cur.Close(ctx)
			}
			return err
		}},
		{"InsertOne", "comment", "", func() error { _, err := c.InsertOne(ctx, mine(), options.InsertOne().SetComment("c")); return err }},
		{"InsertOne", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.InsertOne(ctx, mine(), options.InsertOne().SetBypassDocumentValidation(false))
			return err
		}},
		{"InsertOne", "internal", gate.CodeUnsupported, func() error {
			_, err := c.InsertOne(ctx, mine(), internal(t, options.InsertOne(), xoptions.SetInternalInsertOneOptions))
			return err
		}},
		{"InsertMany", "comment", "", func() error {
			_, err := c.InsertMany(ctx, []any{mine()}, options.InsertMany().SetComment("c"))
			return err
		}},
		{"InsertMany", "ordered", "", func() error {
			_, err := c.InsertMany(ctx, []any{mine()}, options.InsertMany().SetOrdered(false))
			return err
		}},
		{"InsertMany", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.InsertMany(ctx, []any{mine()}, options.InsertMany().SetBypassDocumentValidation(false))
			return err
		}},
		{"InsertMany", "internal", gate.CodeUnsupported, func() error {
			_, err := c.InsertMany(ctx, []any{mine()}, internal(t, options.InsertMany(), xoptions.SetInternalInsertManyOptions))
			return err
		}},
		{"UpdateOne", "upsert", "", func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetUpsert(true))
			return err
		}},
		{"UpdateOne", "sort", "", func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetSort(bson.D{{Key: "_id", Value: 1}}))
			return err
		}},
		{"UpdateOne", "comment", "", func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetComment("c"))
			return err
		}},
		{"UpdateOne", "arrayFilters", "", func() error {
			return filtered(func(upd bson.D, af []any) error {
				_, err := c.UpdateOne(ctx, mineF(), upd, options.UpdateOne().SetArrayFilters(af))
				return err
			})
		}},
		{"UpdateOne", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetBypassDocumentValidation(false))
			return err
		}},
		{"UpdateOne", "collation", gate.CodeUnsupported, func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetCollation(col))
			return err
		}},
		{"UpdateOne", "hint", gate.CodeUnsupported, func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetHint("secret_1"))
			return err
		}},
		{"UpdateOne", "let", gate.CodeUnsupported, func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), options.UpdateOne().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"UpdateOne", "internal", gate.CodeUnsupported, func() error {
			_, err := c.UpdateOne(ctx, mineF(), set("count", 1), internal(t, options.UpdateOne(), xoptions.SetInternalUpdateOneOptions))
			return err
		}},
		{"UpdateByID", "upsert", "", func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetUpsert(true))
			return err
		}},
		{"UpdateByID", "sort", "", func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetSort(bson.D{{Key: "_id", Value: 1}}))
			return err
		}},
		{"UpdateByID", "comment", "", func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetComment("c"))
			return err
		}},
		{"UpdateByID", "arrayFilters", "", func() error {
			return filtered(func(upd bson.D, af []any) error {
				_, err := c.UpdateByID(ctx, 1, upd, options.UpdateOne().SetArrayFilters(af))
				return err
			})
		}},
		{"UpdateByID", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetBypassDocumentValidation(false))
			return err
		}},
		{"UpdateByID", "collation", gate.CodeUnsupported, func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetCollation(col))
			return err
		}},
		{"UpdateByID", "hint", gate.CodeUnsupported, func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetHint("secret_1"))
			return err
		}},
		{"UpdateByID", "let", gate.CodeUnsupported, func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), options.UpdateOne().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"UpdateByID", "internal", gate.CodeUnsupported, func() error {
			_, err := c.UpdateByID(ctx, 1, set("count", 1), internal(t, options.UpdateOne(), xoptions.SetInternalUpdateOneOptions))
			return err
		}},
		{"UpdateMany", "upsert", "", func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), options.UpdateMany().SetUpsert(true))
			return err
		}},
		{"UpdateMany", "comment", "", func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), options.UpdateMany().SetComment("c"))
			return err
		}},
		{"UpdateMany", "arrayFilters", "", func() error {
			return filtered(func(upd bson.D, af []any) error {
				_, err := c.UpdateMany(ctx, mineF(), upd, options.UpdateMany().SetArrayFilters(af))
				return err
			})
		}},
		{"UpdateMany", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), options.UpdateMany().SetBypassDocumentValidation(false))
			return err
		}},
		{"UpdateMany", "collation", gate.CodeUnsupported, func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), options.UpdateMany().SetCollation(col))
			return err
		}},
		{"UpdateMany", "hint", gate.CodeUnsupported, func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), options.UpdateMany().SetHint("secret_1"))
			return err
		}},
		{"UpdateMany", "let", gate.CodeUnsupported, func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), options.UpdateMany().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"UpdateMany", "internal", gate.CodeUnsupported, func() error {
			_, err := c.UpdateMany(ctx, mineF(), set("count", 1), internal(t, options.UpdateMany(), xoptions.SetInternalUpdateManyOptions))
			return err
		}},
		{"ReplaceOne", "upsert", "", func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetUpsert(true))
			return err
		}},
		{"ReplaceOne", "sort", "", func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetSort(bson.D{{Key: "_id", Value: 1}}))
			return err
		}},
		{"ReplaceOne", "comment", "", func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetComment("c"))
			return err
		}},
		{"ReplaceOne", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetBypassDocumentValidation(false))
			return err
		}},
		{"ReplaceOne", "collation", gate.CodeUnsupported, func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetCollation(col))
			return err
		}},
		{"ReplaceOne", "hint", gate.CodeUnsupported, func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetHint("secret_1"))
			return err
		}},
		{"ReplaceOne", "let", gate.CodeUnsupported, func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), options.Replace().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"ReplaceOne", "internal", gate.CodeUnsupported, func() error {
			_, err := c.ReplaceOne(ctx, mineF(), mine(), internal(t, options.Replace(), xoptions.SetInternalReplaceOptions))
			return err
		}},
		{"FindOneAndUpdate", "upsert", "", func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetUpsert(true)).Err())
		}},
		{"FindOneAndUpdate", "sort", "", func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetSort(bson.D{{Key: "_id", Value: 1}})).Err())
		}},
		{"FindOneAndUpdate", "comment", "", func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetComment("c")).Err())
		}},
		{"FindOneAndUpdate", "arrayFilters", "", func() error {
			return filtered(func(upd bson.D, af []any) error {
				return c.FindOneAndUpdate(ctx, mineF(), upd, options.FindOneAndUpdate().SetArrayFilters(af)).Err()
			})
		}},
		{"FindOneAndUpdate", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetBypassDocumentValidation(false)).Err())
		}},
		{"FindOneAndUpdate", "collation", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetCollation(col)).Err())
		}},
		{"FindOneAndUpdate", "hint", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetHint("secret_1")).Err())
		}},
		{"FindOneAndUpdate", "let", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetLet(bson.D{{Key: "x", Value: 1}})).Err())
		}},
		{"FindOneAndUpdate", "internal", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), internal(t, options.FindOneAndUpdate(), xoptions.SetInternalFindOneAndUpdateOptions)).Err())
		}},
		{"FindOneAndReplace", "upsert", "", func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetUpsert(true)).Err())
		}},
		{"FindOneAndReplace", "sort", "", func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetSort(bson.D{{Key: "_id", Value: 1}})).Err())
		}},
		{"FindOneAndReplace", "comment", "", func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetComment("c")).Err())
		}},
		{"FindOneAndReplace", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetBypassDocumentValidation(false)).Err())
		}},
		{"FindOneAndReplace", "collation", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetCollation(col)).Err())
		}},
		{"FindOneAndReplace", "hint", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetHint("secret_1")).Err())
		}},
		{"FindOneAndReplace", "let", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetLet(bson.D{{Key: "x", Value: 1}})).Err())
		}},
		{"FindOneAndReplace", "internal", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), internal(t, options.FindOneAndReplace(), xoptions.SetInternalFindOneAndReplaceOptions)).Err())
		}},
		{"FindOneAndUpdate", "returnDocument", "", func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetReturnDocument(options.After)).Err())
		}},
		{"FindOneAndUpdate", "projection", "", func() error {
			return noDocs(c.FindOneAndUpdate(ctx, mineF(), set("count", 1), options.FindOneAndUpdate().SetProjection(bson.D{{Key: "title", Value: 1}})).Err())
		}},
		{"FindOneAndReplace", "returnDocument", "", func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetReturnDocument(options.After)).Err())
		}},
		{"FindOneAndReplace", "projection", "", func() error {
			return noDocs(c.FindOneAndReplace(ctx, mineF(), mine(), options.FindOneAndReplace().SetProjection(bson.D{{Key: "title", Value: 1}})).Err())
		}},
		{"DeleteOne", "comment", "", func() error { _, err := c.DeleteOne(ctx, none, options.DeleteOne().SetComment("c")); return err }},
		{"DeleteOne", "collation", gate.CodeUnsupported, func() error { _, err := c.DeleteOne(ctx, none, options.DeleteOne().SetCollation(col)); return err }},
		{"DeleteOne", "hint", gate.CodeUnsupported, func() error { _, err := c.DeleteOne(ctx, none, options.DeleteOne().SetHint("secret_1")); return err }},
		{"DeleteOne", "let", gate.CodeUnsupported, func() error {
			_, err := c.DeleteOne(ctx, none, options.DeleteOne().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"DeleteOne", "internal", gate.CodeUnsupported, func() error {
			_, err := c.DeleteOne(ctx, none, internal(t, options.DeleteOne(), xoptions.SetInternalDeleteOneOptions))
			return err
		}},
		{"DeleteMany", "comment", "", func() error { _, err := c.DeleteMany(ctx, none, options.DeleteMany().SetComment("c")); return err }},
		{"DeleteMany", "collation", gate.CodeUnsupported, func() error { _, err := c.DeleteMany(ctx, none, options.DeleteMany().SetCollation(col)); return err }},
		{"DeleteMany", "hint", gate.CodeUnsupported, func() error { _, err := c.DeleteMany(ctx, none, options.DeleteMany().SetHint("secret_1")); return err }},
		{"DeleteMany", "let", gate.CodeUnsupported, func() error {
			_, err := c.DeleteMany(ctx, none, options.DeleteMany().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"DeleteMany", "internal", gate.CodeUnsupported, func() error {
			_, err := c.DeleteMany(ctx, none, internal(t, options.DeleteMany(), xoptions.SetInternalDeleteManyOptions))
			return err
		}},
		{"FindOneAndDelete", "comment", "", func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, options.FindOneAndDelete().SetComment("c")).Err())
		}},
		{"FindOneAndDelete", "sort", "", func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, options.FindOneAndDelete().SetSort(bson.D{{Key: "_id", Value: 1}})).Err())
		}},
		{"FindOneAndDelete", "projection", "", func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, options.FindOneAndDelete().SetProjection(bson.D{{Key: "title", Value: 1}})).Err())
		}},
		{"FindOneAndDelete", "collation", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, options.FindOneAndDelete().SetCollation(col)).Err())
		}},
		{"FindOneAndDelete", "hint", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, options.FindOneAndDelete().SetHint("secret_1")).Err())
		}},
		{"FindOneAndDelete", "let", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, options.FindOneAndDelete().SetLet(bson.D{{Key: "x", Value: 1}})).Err())
		}},
		{"FindOneAndDelete", "internal", gate.CodeUnsupported, func() error {
			return noDocs(c.FindOneAndDelete(ctx, none, internal(t, options.FindOneAndDelete(), xoptions.SetInternalFindOneAndDeleteOptions)).Err())
		}},
		{"BulkWrite", "ordered", "", func() error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(mine())}, options.BulkWrite().SetOrdered(false))
			return err
		}},
		{"BulkWrite", "comment", "", func() error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(mine())}, options.BulkWrite().SetComment("c"))
			return err
		}},
		{"BulkWrite", "arrayFilters", "", func() error {
			return filtered(func(upd bson.D, af []any) error {
				_, err := c.BulkWrite(ctx, []mongo.WriteModel{
					mongo.NewUpdateOneModel().SetFilter(mineF()).SetUpdate(upd).SetArrayFilters(af),
					mongo.NewUpdateManyModel().SetFilter(mineF()).SetUpdate(upd).SetArrayFilters(af),
				})
				return err
			})
		}},
		{"BulkWrite", "collation", gate.CodeUnsupported, func() error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewUpdateOneModel().SetFilter(mineF()).SetUpdate(set("count", 1)).SetCollation(col)})
			return err
		}},
		{"BulkWrite", "bypassDocumentValidation", gate.CodeUnsupported, func() error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(mine())}, options.BulkWrite().SetBypassDocumentValidation(false))
			return err
		}},
		{"BulkWrite", "let", gate.CodeUnsupported, func() error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(mine())}, options.BulkWrite().SetLet(bson.D{{Key: "x", Value: 1}}))
			return err
		}},
		{"BulkWrite", "internal", gate.CodeUnsupported, func() error {
			_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewInsertOneModel().SetDocument(mine())}, internal(t, options.BulkWrite(), xoptions.SetInternalBulkWriteOptions))
			return err
		}},
		{"Watch", "batchSize", "", func() error { return watched(c.Watch(ctx, nil, options.ChangeStream().SetBatchSize(1))) }},
		{"Watch", "maxAwaitTime", "", func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetMaxAwaitTime(time.Second)))
		}},
		{"Watch", "comment", "", func() error { return watched(c.Watch(ctx, nil, options.ChangeStream().SetComment("c"))) }},
		{"Watch", "resumeAfter", "", func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetResumeAfter(resumeToken(t, c))))
		}},
		{"Watch", "startAfter", "", func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetStartAfter(resumeToken(t, c))))
		}},
		{"Watch", "startAtOperationTime", "", func() error {
			now := &bson.Timestamp{T: uint32(time.Now().Unix())}
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetStartAtOperationTime(now)))
		}},
		{"Watch", "fullDocument updateLookup", "", func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetFullDocument(options.UpdateLookup)))
		}},
		{"Watch", "fullDocument whenAvailable", "", func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetFullDocument(options.WhenAvailable)))
		}},
		{"Watch", "fullDocumentBeforeChange whenAvailable", "", func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetFullDocumentBeforeChange(options.WhenAvailable)))
		}},
		{"Watch", "$match", "", func() error {
			return watched(c.Watch(ctx, mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "insert"}}}}}))
		}},
		{"Watch", "fullDocument default", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetFullDocument(options.Default)))
		}},
		{"Watch", "fullDocument off", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetFullDocument(options.Off)))
		}},
		{"Watch", "fullDocumentBeforeChange off", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetFullDocumentBeforeChange(options.Off)))
		}},
		{"Watch", "collation", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetCollation(*col)))
		}},
		{"Watch", "showExpandedEvents", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetShowExpandedEvents(true)))
		}},
		{"Watch", "custom", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetCustom(bson.M{"explain": true})))
		}},
		{"Watch", "customPipeline", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, nil, options.ChangeStream().SetCustomPipeline(bson.M{"allChangesForCluster": true})))
		}},
		{"Watch", "$project", gate.CodeUnsupported, func() error {
			return watched(c.Watch(ctx, mongo.Pipeline{{{Key: "$project", Value: bson.D{{Key: "fullDocument", Value: 1}}}}}))
		}},
	} {
		t.Run(tc.method+"/"+tc.option, func(t *testing.T) {
			err := tc.call()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("not accepted: %v", err)
				}
				return
			}
			wantRefused(t, err, tc.want)
		})
	}
}
