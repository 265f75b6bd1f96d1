package gate_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/fixtures"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestExampleAppsThroughGate replays the rule tests of the example apps
// (examples/*/tests, which `rulegate test` checks without a database)
// through the gate on the test server. For each expectation the fixture
// document is stored and the fixture user reads it (FindOne; the fields
// returned must be the expected readable fields), writes it (an update
// from the previous version to the document), inserts it or deletes it
// through a gated collection. Search is not offered by the gate.
func TestExampleAppsThroughGate(t *testing.T) {
	for _, dir := range []string{"../examples/teams", "../examples/customdata"} {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			replayFixtures(t, os.DirFS(dir), true)
		})
	}
}

// TestLeavingScopeFixturesAgree replays fixtures/testdata/leaving-scope
// (writes that move a draft out of its author's write scope) through the
// gate: the gate and `rulegate test` decide each write alike, with the
// same reason, although one test of the case expects App Services'
// decision and fails in both.
func TestLeavingScopeFixturesAgree(t *testing.T) {
	t.Parallel()
	a, err := txtar.ParseFile("../fixtures/testdata/leaving-scope.txtar")
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{}
	for _, f := range a.Files {
		fsys[f.Name] = &fstest.MapFile{Data: f.Data}
	}
	replayFixtures(t, fsys, false)
}

// replayFixtures replays the suite of the app in fsys through the gate:
// each expectation's decision through the gate must be the one
// fixtures.Run makes (for a denied insert, write or delete, with the same
// reason), and, when expect is set, the one the test expects.
func replayFixtures(t *testing.T, fsys fs.FS, expect bool) {
	ctx := context.Background()
	suite, err := fixtures.Load(fsys)
	if err != nil {
		t.Fatal(err)
	}
	app, err := rules.LoadApp(fsys)
	if err != nil {
		t.Fatal(err)
	}
	// What rulegate test decides, on the app as exported.
	fprog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	decided := map[*fixtures.Test][]*fixtures.Check{}
	for _, r := range fixtures.Run(ctx, suite, fprog, fixtures.WithApp(app), fixtures.WithoutFilterCheck()).Results {
		decided[r.Test] = r.Checks
	}
	db := rulegatetest.Database(t)
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
		where := tc.Name + " (" + tc.Loc.String() + ")"
		for i, ex := range tc.Expect {
			var got bool
			var denial *gate.DeniedError
			switch ex.Action {
			case evaluator.ActionRead:
				reset(doc.Doc)
				var m bson.Raw
				err := gated.FindOne(ctx, id).Decode(&m)
				if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
					t.Fatalf("%s: read: %v", where, err)
				}
				got = err == nil
				if got && tc.ExpectFields != nil && tc.ExpectFields.Read != nil {
					var keys []string
					elems, _ := m.Elements()
					for _, e := range elems {
						keys = append(keys, e.Key())
					}
					sort.Strings(keys)
					want := append([]string(nil), tc.ExpectFields.Read...)
					sort.Strings(want)
					if !reflect.DeepEqual(keys, want) {
						t.Errorf("%s: the gate returned fields %v, the test expects %v", where, keys, want)
					}
				}
			case evaluator.ActionWrite:
				reset(prev.Doc)
				res, err := gated.UpdateOne(ctx, id, diffUpdate(prev.Doc, doc.Doc))
				if err != nil && !errors.As(err, &denial) {
					t.Fatalf("%s: write: %v", where, err)
				}
				got = err == nil && res.MatchedCount == 1
			case evaluator.ActionInsert:
				reset(nil)
				_, err := gated.InsertOne(ctx, doc.Doc)
				if err != nil && !errors.As(err, &denial) {
					t.Fatalf("%s: insert: %v", where, err)
				}
				got = err == nil
			case evaluator.ActionDelete:
				reset(doc.Doc)
				res, err := gated.DeleteOne(ctx, id)
				if err != nil && !errors.As(err, &denial) {
					t.Fatalf("%s: delete: %v", where, err)
				}
				got = err == nil && res.DeletedCount == 1
			default:
				continue
			}
			checked++
			fd := decided[tc][i].Decision
			if got != fd.Allowed {
				t.Errorf("%s: %s: the gate allows it: %v, rulegate test: %v (%s)", where, ex.Action, got, fd.Allowed, fd.Reason)
			} else if denial != nil && denial.Reason != fd.Reason {
				t.Errorf("%s: %s: the gate denies it with %s, rulegate test with %s", where, ex.Action, denial.Reason, fd.Reason)
			}
			if expect && got != ex.Allowed {
				t.Errorf("%s: %s through the gate: allowed = %v, the test expects %v", where, ex.Action, got, ex.Allowed)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no expectation checked")
	}
	t.Logf("%d expectations of %d tests agree with the gate", checked, len(suite.Tests))
}

// diffUpdate returns the update that turns prev into doc: $set of the
// top-level fields that differ or are new, $unset of those doc lacks; an
// empty $set (touching nothing) when they are equal.
func diffUpdate(prev, doc bson.Raw) bson.D {
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
	u := bson.D{{Key: "$set", Value: set}}
	if len(unset) > 0 {
		u = append(u, bson.E{Key: "$unset", Value: unset})
	}
	return u
}
