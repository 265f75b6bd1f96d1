package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/fixtures"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/internal/mongotest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestFlow runs the example's flow on the test server and checks each
// step: the same code as `go run ./examples/customdata`.
func TestFlow(t *testing.T) {
	db := mongotest.Database(t)
	var buf bytes.Buffer
	out, err := run(context.Background(), &buf, db.Client(), db.Name())
	t.Log("\n" + buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if out.ColorAtLogin != "blue" {
		t.Errorf("custom data at login: favoriteColor %q, want blue", out.ColorAtLogin)
	}
	if out.Update.MatchedCount != 1 || out.Update.ModifiedCount != 1 {
		t.Errorf("update: %+v, want {MatchedCount: 1, ModifiedCount: 1}", out.Update)
	}
	if out.ColorAfter != "pink" {
		t.Errorf("custom data after refresh: favoriteColor %q, want pink", out.ColorAfter)
	}
	var de *gate.DeniedError
	if !errors.As(out.DeniedUpdate, &de) || de.Action != evaluator.ActionWrite || de.Op != "UpdateOne" ||
		!strings.HasSuffix(de.Namespace, ".custom-user-data") {
		t.Errorf("update of bob's document: %v, want a write denial on custom-user-data", out.DeniedUpdate)
	}
	if out.BobColorAfter != "green" {
		t.Errorf("bob's favoriteColor = %q, want green (unchanged)", out.BobColorAfter)
	}
	if out.AliceSeesBob {
		t.Error("alice can read bob's custom data")
	}
	if out.AliceDocuments != 1 {
		t.Errorf("alice counts %d custom data documents, want 1 (her own)", out.AliceDocuments)
	}
	for _, step := range []string{"1. ", "2. ", "3. ", "4. ", "5. ", "6. "} {
		if !strings.Contains(buf.String(), step) {
			t.Errorf("step %q not printed", step)
		}
	}
}

// TestFixturesThroughGate replays the app's rule tests (tests/*.json, run
// without a database by `rulegate test examples/customdata`) through the
// gate on the test server: the fixture document is stored, and the fixture
// user reads it (FindOne), writes it (an update from the previous version
// to the document), inserts it and deletes it through the gated collection.
// Each outcome must be the one the test expects. Search is not offered by
// the gate and is skipped.
func TestFixturesThroughGate(t *testing.T) {
	ctx := context.Background()
	suite, err := fixtures.Load(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	app, err := rules.LoadApp(appFiles)
	if err != nil {
		t.Fatal(err)
	}
	db := mongotest.Database(t)
	for _, ds := range app.DataSources {
		for _, c := range ds.Collections {
			c.Database = db.Name()
		}
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(db.Client(), prog)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, tc := range suite.Tests {
		u, ok := suite.User(tc.User)
		if !ok {
			t.Fatalf("%s: no user %q", tc.Name, tc.User)
		}
		doc, ok := suite.Document(tc.Namespace, tc.Document)
		if !ok {
			t.Fatalf("%s: no document %q", tc.Name, tc.Document)
		}
		prev := doc
		if tc.PrevDocument != "" {
			if prev, ok = suite.Document(tc.Namespace, tc.PrevDocument); !ok {
				t.Fatalf("%s: no document %q", tc.Name, tc.PrevDocument)
			}
		}
		_, coll, _ := strings.Cut(tc.Namespace, ".")
		raw := db.Collection(coll)
		gated := g.For(u.User).Database(db.Name()).Collection(coll)
		id := bson.D{{Key: "_id", Value: doc.Doc.Lookup("_id")}}
		reset := func(with bson.Raw) {
			t.Helper()
			if _, err := raw.DeleteMany(ctx, bson.D{}); err != nil {
				t.Fatal(err)
			}
			if with != nil {
				if _, err := raw.InsertOne(ctx, with); err != nil {
					t.Fatal(err)
				}
			}
		}
		for _, ex := range tc.Expect {
			var got bool
			switch ex.Action {
			case evaluator.ActionRead:
				reset(doc.Doc)
				err := gated.FindOne(ctx, id).Err()
				if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
					t.Fatalf("%s: read: %v", tc.Name, err)
				}
				got = err == nil
			case evaluator.ActionWrite:
				reset(prev.Doc)
				res, err := gated.UpdateOne(ctx, id, diffUpdate(t, prev.Doc, doc.Doc))
				if err != nil && !errors.Is(err, gate.ErrDenied) {
					t.Fatalf("%s: write: %v", tc.Name, err)
				}
				got = err == nil && res.MatchedCount == 1
			case evaluator.ActionInsert:
				reset(nil)
				_, err := gated.InsertOne(ctx, doc.Doc)
				if err != nil && !errors.Is(err, gate.ErrDenied) {
					t.Fatalf("%s: insert: %v", tc.Name, err)
				}
				got = err == nil
			case evaluator.ActionDelete:
				reset(doc.Doc)
				res, err := gated.DeleteOne(ctx, id)
				if err != nil && !errors.Is(err, gate.ErrDenied) {
					t.Fatalf("%s: delete: %v", tc.Name, err)
				}
				got = err == nil && res.DeletedCount == 1
			default:
				continue
			}
			checked++
			if got != ex.Allowed {
				t.Errorf("%s (%s): %s through the gate: allowed = %v, the test expects %v", tc.Name, tc.Loc, ex.Action, got, ex.Allowed)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no expectation checked")
	}
	t.Logf("%d expectations of %d tests agree with the gate", checked, len(suite.Tests))
}

// diffUpdate returns the update that turns prev into doc: $set of the
// top-level fields that differ or are new, $unset of those doc lacks. With
// no difference it sets every field to its own value, so that the write
// still happens.
func diffUpdate(t *testing.T, prev, doc bson.Raw) bson.D {
	t.Helper()
	set, unset := bson.D{}, bson.D{}
	elems, _ := doc.Elements()
	for _, e := range elems {
		if e.Key() == "_id" {
			continue
		}
		if pv, err := prev.LookupErr(e.Key()); err != nil || !pv.Equal(e.Value()) {
			set = append(set, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	pelems, _ := prev.Elements()
	for _, e := range pelems {
		if _, err := doc.LookupErr(e.Key()); err != nil {
			unset = append(unset, bson.E{Key: e.Key(), Value: ""})
		}
	}
	if len(set) == 0 && len(unset) == 0 {
		for _, e := range elems {
			if e.Key() != "_id" {
				set = append(set, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
	}
	u := bson.D{}
	if len(set) > 0 {
		u = append(u, bson.E{Key: "$set", Value: set})
	}
	if len(unset) > 0 {
		u = append(u, bson.E{Key: "$unset", Value: unset})
	}
	return u
}
