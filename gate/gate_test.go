package gate_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// env is one test's database, gate and callers. The rules are
// testdata/app: in "notes", the owner (owner_id = %%user.id) may do
// everything; a teammate (team = %%user.custom_data.team) may read title,
// team and count and write count only, and may neither insert nor delete.
type env struct {
	t     *testing.T
	db    *mongo.Database
	g     *gate.Gate
	raw   *mongo.Collection
	users map[string]expansion.User
}

// seed documents: n1 is alice's, n2 bob's (both team red), n3 carol's
// (team blue).
var seed = []any{
	bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "alice's plan"}, {Key: "secret", Value: "a-secret"}, {Key: "count", Value: 0}},
	bson.D{{Key: "_id", Value: 2}, {Key: "owner_id", Value: "b1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "bob's plan"}, {Key: "secret", Value: "b-secret"}, {Key: "count", Value: 0}},
	bson.D{{Key: "_id", Value: 3}, {Key: "owner_id", Value: "c1"}, {Key: "team", Value: "blue"}, {Key: "title", Value: "carol's plan"}, {Key: "secret", Value: "c-secret"}, {Key: "count", Value: 0}},
}

// loadProgram compiles testdata/app with its namespaces moved into database
// db (each test has a database of its own).
func loadProgram(tb testing.TB, db string) *evaluator.Program {
	tb.Helper()
	app, err := rules.LoadApp(os.DirFS("testdata/app"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, ds := range app.DataSources {
		for _, c := range ds.Collections {
			c.Database = db
		}
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	return prog
}

func user(tb testing.TB, js string) expansion.User {
	tb.Helper()
	u, err := expansion.NewUserObject([]byte(js))
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := rulegatetest.Database(t)
	g, err := gate.New(db.Client(), loadProgram(t, db.Name()))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, g: g, raw: db.Collection("notes"), users: map[string]expansion.User{
		"alice": user(t, `{"id": "a1", "type": "normal", "custom_data": {"team": "red"}}`),
		"bob":   user(t, `{"id": "b1", "type": "normal", "custom_data": {"team": "red"}}`),
		"carol": user(t, `{"id": "c1", "type": "normal", "custom_data": {"team": "blue"}}`),
		"dave":  user(t, `{"id": "d1", "type": "normal"}`),
	}}
	if _, err := e.raw.InsertMany(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	return e
}

// as returns the gated notes collection for a named user.
func (e *env) as(name string) *gate.Collection {
	u, ok := e.users[name]
	if !ok {
		e.t.Fatalf("no user %q", name)
	}
	return e.g.For(u).Database(e.db.Name()).Collection("notes")
}

// doc returns the stored document _id = id, bypassing the rules.
func (e *env) doc(id int) bson.M {
	e.t.Helper()
	var m bson.M
	if err := e.raw.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&m); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return nil
		}
		e.t.Fatal(err)
	}
	return m
}

// wantDenied asserts err is a *gate.DeniedError with the given op, action
// and reason.
func wantDenied(t *testing.T, err error, op string, a evaluator.Action, reason evaluator.Reason) {
	t.Helper()
	if !errors.Is(err, gate.ErrDenied) {
		t.Fatalf("err = %v, want a denial", err)
	}
	var de *gate.DeniedError
	if !errors.As(err, &de) {
		t.Fatalf("err = %T %v, want *gate.DeniedError", err, err)
	}
	if de.Op != op || de.Action != a || (reason != "" && de.Reason != reason) {
		t.Fatalf("denial = %+v, want op %s action %s reason %s", de, op, a, reason)
	}
	if de.Namespace == "" {
		t.Fatalf("denial without namespace: %+v", de)
	}
}

func wantRefused(t *testing.T, err error, code string) *gate.RefusedError {
	t.Helper()
	var re *gate.RefusedError
	if !errors.As(err, &re) || !errors.Is(err, gate.ErrRefused) {
		t.Fatalf("err = %v, want *gate.RefusedError", err)
	}
	if re.Code != code {
		t.Fatalf("code = %s (%v), want %s", re.Code, re, code)
	}
	return re
}

func keys(m bson.M) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func findAll(t *testing.T, c *gate.Collection, filter any, opts ...options.Lister[options.FindOptions]) []bson.M {
	t.Helper()
	cur, err := c.Find(context.Background(), filter, opts...)
	if err != nil {
		t.Fatal(err)
	}
	var out []bson.M
	if err := cur.All(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFind(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()

	got := findAll(t, e.as("alice"), bson.D{}, options.Find().SetSort(bson.D{{Key: "title", Value: 1}}))
	if len(got) != 2 {
		t.Fatalf("alice sees %d documents, want 2: %v", len(got), got)
	}
	if got[0]["secret"] != "a-secret" || got[0]["owner_id"] != "a1" {
		t.Errorf("alice's own document lost fields: %v", got[0])
	}
	if _, ok := got[1]["secret"]; ok {
		t.Errorf("alice sees bob's secret: %v", got[1])
	}
	if _, ok := got[1]["owner_id"]; ok {
		t.Errorf("alice sees bob's owner_id: %v", got[1])
	}
	if got[1]["title"] != "bob's plan" {
		t.Errorf("alice does not see bob's title: %v", got[1])
	}

	if got := findAll(t, e.as("dave"), bson.D{}); len(got) != 0 {
		t.Errorf("dave, in no team and owner of nothing, sees %v", got)
	}
	if got := findAll(t, e.as("carol"), bson.D{}); len(got) != 1 || got[0]["title"] != "carol's plan" {
		t.Errorf("carol sees %v, want her document only", got)
	}

	// Filtering on a field hidden from the caller reveals nothing: the
	// right and a wrong guess of bob's secret give the same answer.
	right := findAll(t, e.as("alice"), bson.D{{Key: "secret", Value: "b-secret"}})
	wrong := findAll(t, e.as("alice"), bson.D{{Key: "secret", Value: "guess"}})
	if len(right) != 0 || len(wrong) != 0 {
		t.Errorf("filtering on a hidden field: right guess %v, wrong guess %v; want nothing for both", right, wrong)
	}
	// Whether a document has a field hidden from the caller is hidden too:
	// a filter on it does not match that document.
	if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}, {Key: "owner_id", Value: "b1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "no secret"}}); err != nil {
		t.Fatal(err)
	}
	if got := findAll(t, e.as("alice"), bson.D{{Key: "secret", Value: bson.D{{Key: "$exists", Value: false}}}}); len(got) != 0 {
		t.Errorf("alice learns which notes lack a secret: %v", got)
	}
	if got := findAll(t, e.as("alice"), bson.D{{Key: "title", Value: "no secret"}}); len(got) != 1 {
		t.Errorf("alice's find by a readable field: %v", got)
	}
	if _, err := e.raw.DeleteOne(ctx, bson.D{{Key: "_id", Value: 4}}); err != nil {
		t.Fatal(err)
	}
	// Sorting on a hidden field leaves out the documents hiding it.
	if got := findAll(t, e.as("alice"), bson.D{}, options.Find().SetSort(bson.D{{Key: "secret", Value: 1}})); len(got) != 1 || got[0]["_id"] != int32(1) {
		t.Errorf("sort on a hidden field: %v, want alice's document only", got)
	}

	// Skip, limit and a client projection apply to what the caller may read.
	got = findAll(t, e.as("alice"), bson.D{}, options.Find().SetSort(bson.D{{Key: "title", Value: 1}}).SetSkip(1).SetLimit(1).SetProjection(bson.D{{Key: "title", Value: 1}}))
	if len(got) != 1 || got[0]["title"] != "bob's plan" {
		t.Errorf("skip 1 limit 1: %v", got)
	}
	if k := keys(got[0]); !reflect.DeepEqual(k, []string{"_id", "title"}) && !reflect.DeepEqual(k, []string{"title"}) {
		t.Errorf("projection {title: 1} kept %v", k)
	}

	// With a limit, documents left out by the per-document check are
	// replaced by the next ones: bob's note comes first in this order but
	// hides its secret from alice.
	got = findAll(t, e.as("alice"), bson.D{{Key: "secret", Value: bson.D{{Key: "$exists", Value: true}}}}, options.Find().SetSort(bson.D{{Key: "title", Value: -1}}).SetLimit(1))
	if len(got) != 1 || got[0]["_id"] != int32(1) {
		t.Errorf("limit 1 after a hidden document: %v, want alice's note", got)
	}

	// Refused options and operators.
	_, err := e.as("alice").Find(ctx, bson.D{{Key: "$where", Value: "true"}})
	wantRefused(t, err, gate.CodeUnsupported)
	_, err = e.as("alice").Find(ctx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "tags", Value: bson.D{{Key: "$slice", Value: 1}}}}))
	wantRefused(t, err, gate.CodeUnsupported)
	_, err = e.as("alice").Find(ctx, bson.D{}, options.Find().SetMin(bson.D{{Key: "_id", Value: 1}}))
	wantRefused(t, err, gate.CodeUnsupported)
}

func TestFindOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var m bson.M
	if err := e.as("alice").FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m["secret"] != "a-secret" {
		t.Errorf("alice's own document: %v", m)
	}
	m = nil
	if err := e.as("alice").FindOne(ctx, bson.D{{Key: "_id", Value: 2}}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if _, ok := m["secret"]; ok || m["title"] != "bob's plan" {
		t.Errorf("bob's document as alice sees it: %v", m)
	}
	for _, who := range []string{"carol", "dave"} {
		err := e.as(who).FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Err()
		if !errors.Is(err, mongo.ErrNoDocuments) {
			t.Errorf("%s reads alice's document: err = %v, want mongo.ErrNoDocuments", who, err)
		}
	}
	err := e.as("alice").FindOne(ctx, bson.D{{Key: "$expr", Value: bson.D{{Key: "$function", Value: bson.D{}}}}}).Err()
	wantRefused(t, err, gate.CodeUnsupported)
}

func TestCountDocuments(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		who    string
		filter bson.D
		want   int64
	}{
		{"alice", bson.D{}, 2},
		{"bob", bson.D{}, 2},
		{"carol", bson.D{}, 1},
		{"dave", bson.D{}, 0},
		// Other users' documents are not counted.
		{"carol", bson.D{{Key: "team", Value: "red"}}, 0},
		{"dave", bson.D{{Key: "owner_id", Value: "a1"}}, 0},
		// Counting by a field the caller cannot read in a document leaves
		// that document out: bob's secret stays secret.
		{"alice", bson.D{{Key: "secret", Value: "b-secret"}}, 0},
		{"alice", bson.D{{Key: "secret", Value: bson.D{{Key: "$exists", Value: true}}}}, 1},
		{"bob", bson.D{{Key: "owner_id", Value: "a1"}}, 0},
		{"alice", bson.D{{Key: "count", Value: 0}}, 2},
	} {
		n, err := e.as(tc.who).CountDocuments(ctx, tc.filter)
		if err != nil {
			t.Fatalf("%s %v: %v", tc.who, tc.filter, err)
		}
		if n != tc.want {
			t.Errorf("%s CountDocuments(%v) = %d, want %d", tc.who, tc.filter, n, tc.want)
		}
	}
	n, err := e.as("alice").CountDocuments(ctx, bson.D{}, options.Count().SetLimit(1))
	if err != nil || n != 1 {
		t.Errorf("limit 1: %d, %v", n, err)
	}
}

func TestDistinct(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var titles []string
	if err := e.as("alice").Distinct(ctx, "title", bson.D{}).Decode(&titles); err != nil {
		t.Fatal(err)
	}
	sort.Strings(titles)
	if !reflect.DeepEqual(titles, []string{"alice's plan", "bob's plan"}) {
		t.Errorf("alice's distinct titles = %v", titles)
	}
	// Another user's hidden field is left out, as Find leaves it out
	// (a denial would say that some document has the field).
	var own []string
	if err := e.as("alice").Distinct(ctx, "secret", bson.D{}).Decode(&own); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(own, []string{"a-secret"}) {
		t.Errorf("alice's distinct secrets = %v, want only her own", own)
	}
	var owners []string
	if err := e.as("bob").Distinct(ctx, "owner_id", bson.D{{Key: "_id", Value: 1}}).Decode(&owners); err != nil {
		t.Fatal(err)
	}
	if len(owners) != 0 {
		t.Errorf("bob's distinct owners of alice's note = %v, want none", owners)
	}
	// Documents the caller cannot read at all do not contribute.
	var secrets []string
	if err := e.as("carol").Distinct(ctx, "secret", bson.D{}).Decode(&secrets); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(secrets, []string{"c-secret"}) {
		t.Errorf("carol's distinct secrets = %v, want only her own", secrets)
	}
	secrets = nil
	if err := e.as("dave").Distinct(ctx, "secret", bson.D{}).Decode(&secrets); err != nil {
		t.Fatal(err)
	}
	if len(secrets) != 0 {
		t.Errorf("dave's distinct secrets = %v", secrets)
	}
	secrets = nil
	if err := e.as("alice").Distinct(ctx, "secret", bson.D{{Key: "owner_id", Value: "a1"}}).Decode(&secrets); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(secrets, []string{"a-secret"}) {
		t.Errorf("alice's own secret = %v", secrets)
	}
}

func TestAggregate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	scores := e.db.Collection("scores")
	if _, err := scores.InsertMany(ctx, []any{
		bson.D{{Key: "player", Value: "alice"}, {Key: "team", Value: "red"}, {Key: "score", Value: 10}, {Key: "note", Value: "a-note"}},
		bson.D{{Key: "player", Value: "bob"}, {Key: "team", Value: "red"}, {Key: "score", Value: 20}, {Key: "note", Value: "b-note"}},
		bson.D{{Key: "player", Value: "carol"}, {Key: "team", Value: "blue"}, {Key: "score", Value: 5}, {Key: "note", Value: "c-note"}},
	}); err != nil {
		t.Fatal(err)
	}
	agg := func(who, coll string, p mongo.Pipeline) ([]bson.M, error) {
		c := e.g.For(e.users[who]).Database(e.db.Name()).Collection(coll)
		cur, err := c.Aggregate(ctx, p)
		if err != nil {
			return nil, err
		}
		var out []bson.M
		err = cur.All(ctx, &out)
		return out, err
	}
	group := mongo.Pipeline{{{Key: "$group", Value: bson.D{
		{Key: "_id", Value: "$team"},
		{Key: "total", Value: bson.D{{Key: "$sum", Value: "$score"}}},
	}}}}
	// ($push is not in the embedded server; the hidden notes are looked
	// for with $project below.)
	// Only the caller's team's scores, and never the hidden notes.
	for who, want := range map[string]struct {
		team  string
		total int32
	}{"alice": {"red", 30}, "carol": {"blue", 5}} {
		out, err := agg(who, "scores", group)
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if len(out) != 1 || out[0]["_id"] != want.team || out[0]["total"] != want.total {
			t.Errorf("%s's totals: %v, want %s %d", who, out, want.team, want.total)
		}
		// Grouping by the hidden note: every document falls in the null
		// group, as if it had no note.
		docs, err := agg(who, "scores", mongo.Pipeline{{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$note"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}})
		if err != nil {
			t.Fatal(err)
		}
		if want := int32(map[string]int{"alice": 2, "carol": 1}[who]); len(docs) != 1 || docs[0]["_id"] != nil || docs[0]["n"] != want {
			t.Errorf("%s's pipeline grouped by the hidden note: %v, want one null group of %d", who, docs, want)
		}
	}
	// Other users' documents and hidden fields cannot be matched.
	for _, m := range []bson.D{
		{{Key: "team", Value: "blue"}},
		{{Key: "note", Value: "c-note"}},
		{{Key: "note", Value: "b-note"}},
	} {
		out, err := agg("alice", "scores", mongo.Pipeline{{{Key: "$match", Value: m}}})
		if err != nil || len(out) != 0 {
			t.Errorf("alice's $match %v: %v, %v; want nothing", m, out, err)
		}
	}
	out, err := agg("dave", "scores", mongo.Pipeline{{{Key: "$count", Value: "n"}}})
	if err != nil || len(out) != 0 {
		t.Errorf("dave's $count: %v, %v", out, err)
	}
	out, err = agg("carol", "notes", mongo.Pipeline{{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$secret"}}}}})
	if err != nil || len(out) != 1 || out[0]["_id"] != "c-secret" {
		t.Errorf("carol's secrets: %v, %v; want only her own", out, err)
	}
	// In notes, alice is the owner of one document and a teammate on
	// another, whose roles read different fields: the gate runs the
	// pipeline itself over the notes as she reads them, so bob's secret
	// groups as missing.
	out, err = agg("alice", "notes", mongo.Pipeline{{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$secret"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}, {{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}}})
	if err != nil || len(out) != 2 || out[0]["_id"] != nil || out[0]["n"] != int32(1) || out[1]["_id"] != "a-secret" || out[1]["n"] != int32(1) {
		t.Errorf("alice's secrets: %v, %v; want her own and one null group (bob's hidden secret)", out, err)
	}

	for _, tc := range []struct {
		stage bson.D
		code  string
		ptr   string
	}{
		{bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: bson.D{{Key: "db", Value: "admin"}, {Key: "coll", Value: "x"}}}, {Key: "as", Value: "x"}, {Key: "pipeline", Value: bson.A{}}}}}, gate.CodeUnsupported, "/1/$lookup/from"},
		{bson.D{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: 1}}}}, gate.CodeUnsupported, "/1/$unionWith/coll"},
		{bson.D{{Key: "$graphLookup", Value: bson.D{}}}, gate.CodeUnsupported, "/1/$graphLookup"},
		{bson.D{{Key: "$out", Value: "copy"}}, gate.CodeUnsupported, "/1/$out"},
		{bson.D{{Key: "$merge", Value: bson.D{{Key: "into", Value: "copy"}}}}, gate.CodeUnsupported, "/1/$merge"},
		{bson.D{{Key: "$collStats", Value: bson.D{}}}, gate.CodeUnsupported, "/1/$collStats"},
		{bson.D{{Key: "$addFields", Value: bson.D{{Key: "x", Value: bson.D{{Key: "$function", Value: bson.D{}}}}}}}, gate.CodeUnsupported, "/1/$addFields/x/$function"},
		{bson.D{{Key: "$facet", Value: bson.D{{Key: "a", Value: bson.A{bson.D{{Key: "$limit", Value: 1}}}}}}}, gate.CodeUnsupported, "/1/$facet"},
		{bson.D{{Key: "$geoNear", Value: bson.D{}}}, gate.CodeUnsupported, "/1/$geoNear"},
		{bson.D{{Key: "$match", Value: bson.D{{Key: "$where", Value: "1"}}}}, gate.CodeUnsupported, "/1/$match"},
		{bson.D{{Key: "$limit", Value: 1}, {Key: "$skip", Value: 1}}, gate.CodeInvalid, "/1"},
	} {
		_, err := agg("carol", "scores", mongo.Pipeline{{{Key: "$limit", Value: 10}}, tc.stage})
		re := wantRefused(t, err, tc.code)
		if string(re.Ptr) != tc.ptr && !strings.HasPrefix(string(re.Ptr), tc.ptr+"/") {
			t.Errorf("%v: ptr = %q, want %q", tc.stage, re.Ptr, tc.ptr)
		}
	}
	// $lookup and $unionWith read notes through its own rules: carol, who
	// owns one note and is on no one's team, gets only hers.
	out, err = agg("carol", "scores", mongo.Pipeline{{{Key: "$limit", Value: 1}}, {{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}, {Key: "team", Value: 1}}}},
		{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: "notes"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: 0}, {Key: "secret", Value: 1}}}}}}}}}})
	if err != nil || len(out) != 2 || out[0]["team"] != "blue" || out[1]["secret"] != "c-secret" {
		t.Errorf("carol's $unionWith notes: %v, %v; want her score's team and her own secret", out, err)
	}
	out, err = agg("carol", "scores", mongo.Pipeline{{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "notes"}, {Key: "as", Value: "x"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$project", Value: bson.D{{Key: "secret", Value: 1}}}}}}}}}})
	if x, _ := out0(out)["x"].(bson.A); err != nil || len(out) != 1 || len(x) != 1 || !reflect.DeepEqual(x[0], bson.D{{Key: "_id", Value: int32(3)}, {Key: "secret", Value: "c-secret"}}) {
		t.Errorf("carol's $lookup of notes: %v, %v; want her own note only", out, err)
	}
	if n, _ := e.db.Collection("copy").CountDocuments(ctx, bson.D{}); n != 0 {
		t.Errorf("a refused $out wrote %d documents", n)
	}
}

// out0 returns the first document of out, nil when there is none.
func out0(out []bson.M) bson.M {
	if len(out) == 0 {
		return nil
	}
	return out[0]
}

func TestInsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	res, err := e.as("alice").InsertOne(ctx, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "new"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.InsertedID == nil {
		t.Error("no InsertedID")
	}
	// A teammate may not insert a document owned by someone else.
	_, err = e.as("alice").InsertOne(ctx, bson.D{{Key: "_id", Value: 10}, {Key: "owner_id", Value: "b1"}, {Key: "team", Value: "red"}})
	wantDenied(t, err, "InsertOne", evaluator.ActionInsert, "")
	if e.doc(10) != nil {
		t.Error("denied insert was written")
	}
	// No role at all.
	_, err = e.as("dave").InsertOne(ctx, bson.D{{Key: "_id", Value: 11}, {Key: "owner_id", Value: "a1"}})
	wantDenied(t, err, "InsertOne", evaluator.ActionInsert, evaluator.ReasonNoRole)

	// One denied document denies the whole InsertMany.
	_, err = e.as("alice").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 20}, {Key: "owner_id", Value: "a1"}},
		bson.D{{Key: "_id", Value: 21}, {Key: "owner_id", Value: "c1"}},
	})
	wantDenied(t, err, "InsertMany", evaluator.ActionInsert, "")
	if e.doc(20) != nil || e.doc(21) != nil {
		t.Error("a denied InsertMany inserted documents")
	}
	many, err := e.as("dave").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 30}, {Key: "owner_id", Value: "d1"}},
		bson.D{{Key: "_id", Value: 31}, {Key: "owner_id", Value: "d1"}},
	})
	if err != nil || len(many.InsertedIDs) != 2 {
		t.Fatalf("dave's InsertMany: %v, %v", many, err)
	}
}

func TestUpdateOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	set := func(k string, v any) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: k, Value: v}}}} }
	id := func(i int) bson.D { return bson.D{{Key: "_id", Value: i}} }

	res, err := e.as("alice").UpdateOne(ctx, id(1), set("title", "renamed"))
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("alice updates her title: %+v, %v", res, err)
	}
	res, err = e.as("alice").UpdateOne(ctx, id(2), bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("alice increments bob's count as a teammate: %+v, %v", res, err)
	}
	if e.doc(2)["count"] != int32(1) {
		t.Errorf("count = %v", e.doc(2)["count"])
	}
	// Field-level: a teammate may not write the title.
	_, err = e.as("alice").UpdateOne(ctx, id(2), set("title", "mine now"))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	// Moving her own document out of her scope is denied.
	_, err = e.as("alice").UpdateOne(ctx, id(1), set("owner_id", "b1"))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	_, err = e.as("alice").UpdateOne(ctx, id(1), set("team", "blue"))
	if err != nil {
		// The owner role still applies after the change: allowed.
		t.Fatalf("alice moves her note to team blue: %v", err)
	}
	// Another user's document the caller cannot read: a zero result, as
	// for a filter that matches nothing (WithInvisibleMatchesRevealed denies).
	res, err = e.as("carol").UpdateOne(ctx, id(2), set("count", 99))
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("carol updates bob's invisible note: %+v, %v; want a zero result", res, err)
	}
	res, err = e.as("dave").UpdateOne(ctx, id(1), set("title", "x"))
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("dave updates alice's invisible note: %+v, %v; want a zero result", res, err)
	}
	if d := e.doc(2); d["title"] != "bob's plan" || d["count"] != int32(1) || d["owner_id"] != "b1" {
		t.Errorf("denied updates changed bob's note: %v", d)
	}
	if d := e.doc(1); d["owner_id"] != "a1" || d["title"] != "renamed" && d["title"] != "by id" {
		t.Errorf("alice's note: %v", d)
	}
	// A filter on a field hidden from alice matches nothing: the right
	// and a wrong guess of bob's secret give the same zero result.
	for _, guess := range []string{"b-secret", "wrong"} {
		res, err = e.as("alice").UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "secret", Value: guess}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}})
		if err != nil || res.MatchedCount != 0 {
			t.Errorf("update filtered on bob's secret (guess %q): %+v, %v; want a zero result", guess, res, err)
		}
	}
	if e.doc(2)["count"] != int32(1) {
		t.Errorf("a filter on a hidden field wrote: %v", e.doc(2))
	}
	// Nothing matches at all: a zero result, no error.
	res, err = e.as("alice").UpdateOne(ctx, id(99), set("title", "x"))
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("no match: %+v, %v", res, err)
	}
	// The optimistic write pins every field as read, nested documents and
	// arrays included.
	if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 5}, {Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"},
		{Key: "tags", Value: bson.A{"x", 2, bson.D{{Key: "k", Value: 1}}}}, {Key: "meta", Value: bson.D{{Key: "a", Value: 1}, {Key: "b", Value: bson.A{1.5, nil}}}}, {Key: "none", Value: nil}}); err != nil {
		t.Fatal(err)
	}
	res, err = e.as("alice").UpdateOne(ctx, id(5), bson.D{{Key: "$set", Value: bson.D{{Key: "meta.c", Value: "new"}}}, {Key: "$push", Value: bson.D{{Key: "tags", Value: "z"}}}})
	if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Fatalf("update of a document with nested values: %+v, %v", res, err)
	}
	var five bson.Raw
	if err := e.raw.FindOne(ctx, id(5)).Decode(&five); err != nil {
		t.Fatal(err)
	}
	if c, _ := five.Lookup("meta", "c").StringValueOK(); c != "new" || five.Lookup("tags", "3").StringValue() != "z" {
		t.Errorf("document 5: %v", five)
	}
	res, err = e.as("alice").UpdateByID(ctx, 1, set("title", "by id"))
	if err != nil || res.ModifiedCount != 1 {
		t.Errorf("UpdateByID: %+v, %v", res, err)
	}
	// alice moved her note to team blue: carol reads it as a teammate, and
	// may not write its title.
	_, err = e.as("carol").UpdateByID(ctx, 1, set("title", "x"))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	// An upsert that matches is the update (upsert_test.go has the rest).
	res, err = e.as("alice").UpdateOne(ctx, id(1), set("title", "x"), options.UpdateOne().SetUpsert(true))
	if err != nil || res.MatchedCount != 1 || res.UpsertedCount != 0 {
		t.Errorf("upsert of alice's note: %+v, %v", res, err)
	}
	// Refused: pipelines, unsupported operators.
	_, err = e.as("alice").UpdateOne(ctx, id(1), mongo.Pipeline{{{Key: "$set", Value: bson.D{{Key: "title", Value: "$secret"}}}}})
	wantRefused(t, err, gate.CodeUnsupported)
	_, err = e.as("alice").UpdateOne(ctx, id(1), bson.D{{Key: "title", Value: "replacement"}})
	wantRefused(t, err, gate.CodeInvalid)
}

func TestUpdateMany(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}}
	res, err := e.as("alice").UpdateMany(ctx, bson.D{{Key: "team", Value: "red"}}, inc)
	if err != nil || res.MatchedCount != 2 || res.ModifiedCount != 2 {
		t.Fatalf("alice increments red counts: %+v, %v", res, err)
	}
	// carol's note is invisible to alice: an empty filter updates what
	// alice may write and leaves carol's alone.
	res, err = e.as("alice").UpdateMany(ctx, bson.D{}, inc)
	if err != nil || res.MatchedCount != 2 {
		t.Fatalf("alice's UpdateMany({}): %+v, %v", res, err)
	}
	if e.doc(3)["count"] != int32(0) {
		t.Errorf("carol's count changed: %v", e.doc(3))
	}
	// bob's note is visible to alice but its title is not writable: the
	// whole call is denied and nothing is written.
	_, err = e.as("alice").UpdateMany(ctx, bson.D{{Key: "team", Value: "red"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "same"}}}})
	wantDenied(t, err, "UpdateMany", evaluator.ActionWrite, "")
	if e.doc(1)["title"] != "alice's plan" || e.doc(2)["title"] != "bob's plan" {
		t.Errorf("denied UpdateMany wrote: %v %v", e.doc(1), e.doc(2))
	}
	res, err = e.as("carol").UpdateMany(ctx, bson.D{{Key: "team", Value: "red"}}, inc)
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("carol's UpdateMany of invisible notes: %+v, %v; want a zero result", res, err)
	}
	if e.doc(1)["count"] != int32(2) {
		t.Errorf("alice's count = %v, want 2", e.doc(1)["count"])
	}
}

func TestReplaceOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := bson.D{{Key: "_id", Value: 1}}
	res, err := e.as("alice").ReplaceOne(ctx, id, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "replaced"}})
	if err != nil || res.MatchedCount != 1 {
		t.Fatalf("alice replaces her note: %+v, %v", res, err)
	}
	if d := e.doc(1); d["title"] != "replaced" || d["secret"] != nil {
		t.Errorf("replaced: %v", d)
	}
	// Handing the note over to carol moves it out of alice's scope.
	_, err = e.as("alice").ReplaceOne(ctx, id, bson.D{{Key: "owner_id", Value: "c1"}, {Key: "team", Value: "blue"}})
	wantDenied(t, err, "ReplaceOne", evaluator.ActionWrite, "")
	// A teammate may not replace (the replacement drops fields it cannot
	// write).
	_, err = e.as("bob").ReplaceOne(ctx, id, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "count", Value: 5}})
	wantDenied(t, err, "ReplaceOne", evaluator.ActionWrite, "")
	_, err = e.as("alice").ReplaceOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}})
	wantRefused(t, err, gate.CodeInvalid)
	if d := e.doc(1); d["owner_id"] != "a1" || d["title"] != "replaced" {
		t.Errorf("after denied replacements: %v", d)
	}
}

func TestDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// A teammate may not delete.
	_, err := e.as("alice").DeleteOne(ctx, bson.D{{Key: "_id", Value: 2}})
	wantDenied(t, err, "DeleteOne", evaluator.ActionDelete, "")
	del, err := e.as("carol").DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	if err != nil || del.DeletedCount != 0 {
		t.Errorf("carol deletes alice's invisible note: %+v, %v; want a zero result", del, err)
	}
	// bob's note is visible to alice and not deletable: DeleteMany is
	// denied as a whole.
	_, err = e.as("alice").DeleteMany(ctx, bson.D{{Key: "team", Value: "red"}})
	wantDenied(t, err, "DeleteMany", evaluator.ActionDelete, "")
	if e.doc(1) == nil || e.doc(2) == nil {
		t.Fatal("a denied delete deleted")
	}
	del, err = e.as("dave").DeleteMany(ctx, bson.D{})
	if err != nil || del.DeletedCount != 0 {
		t.Errorf("dave deletes invisible notes: %+v, %v; want a zero result", del, err)
	}
	res, err := e.as("alice").DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	if err != nil || res.DeletedCount != 1 {
		t.Fatalf("alice deletes her note: %+v, %v", res, err)
	}
	res, err = e.as("carol").DeleteMany(ctx, bson.D{})
	if err != nil || res.DeletedCount != 1 {
		t.Fatalf("carol deletes her notes: %+v, %v", res, err)
	}
	if e.doc(2) == nil {
		t.Error("bob's note was deleted")
	}
	// Deleting by a field hidden from the caller matches nothing.
	if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 9}, {Key: "owner_id", Value: "x9"}, {Key: "team", Value: "blue"}, {Key: "secret", Value: "s9"}}); err != nil {
		t.Fatal(err)
	}
	res, err = e.as("carol").DeleteMany(ctx, bson.D{{Key: "secret", Value: "s9"}})
	if err == nil && res.DeletedCount != 0 || e.doc(9) == nil {
		t.Errorf("carol deleted by a hidden field: %+v, %v", res, err)
	}
	res, err = e.as("alice").DeleteOne(ctx, bson.D{{Key: "_id", Value: 99}})
	if err != nil || res.DeletedCount != 0 {
		t.Errorf("no match: %+v, %v", res, err)
	}
}

func TestFindOneAndUpdate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var m bson.M
	err := e.as("alice").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 5}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&m)
	if err != nil {
		t.Fatal(err)
	}
	if m["count"] != int32(5) {
		t.Errorf("returned count = %v", m["count"])
	}
	if _, ok := m["secret"]; ok {
		t.Errorf("FindOneAndUpdate returned a hidden field: %v", m)
	}
	err = e.as("alice").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner_id", Value: "a1"}}}}).Err()
	wantDenied(t, err, "FindOneAndUpdate", evaluator.ActionWrite, "")
	err = e.as("carol").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("carol's FindOneAndUpdate of an invisible note: %v, want mongo.ErrNoDocuments", err)
	}
	err = e.as("alice").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 99}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("no match: %v", err)
	}
	if d := e.doc(2); d["owner_id"] != "b1" || d["count"] != int32(5) {
		t.Errorf("bob's note: %v", d)
	}
}

func TestFindOneAndDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	err := e.as("bob").FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 1}}).Err()
	wantDenied(t, err, "FindOneAndDelete", evaluator.ActionDelete, "")
	err = e.as("carol").FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 1}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("carol's FindOneAndDelete of an invisible note: %v, want mongo.ErrNoDocuments", err)
	}
	var m bson.M
	if err := e.as("alice").FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m["secret"] != "a-secret" {
		t.Errorf("deleted document: %v", m)
	}
	if e.doc(1) != nil {
		t.Error("not deleted")
	}
	err = e.as("alice").FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 1}}).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("second delete: %v", err)
	}
}

func TestSystem(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// The system handle is the driver's own database: no rules.
	var sys *mongo.Database = e.g.System().Database(e.db.Name())
	n, err := sys.Collection("notes").CountDocuments(ctx, bson.D{})
	if err != nil || n != 3 {
		t.Errorf("system count = %d, %v", n, err)
	}
}

func TestNoRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("unruled")
	if _, err := e.db.Collection("unruled").InsertOne(ctx, bson.D{{Key: "x", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.InsertOne(ctx, bson.D{{Key: "x", Value: 2}})
	wantDenied(t, err, "InsertOne", evaluator.ActionInsert, evaluator.ReasonNoRules)
	n, err := c.CountDocuments(ctx, bson.D{})
	if err != nil && !errors.Is(err, gate.ErrDenied) {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("a collection without rules: %d documents readable", n)
	}
}

// TestInvisibleHiddenVisibleReported: by default (what HideInvisibleMatches
// once turned on) a write on an invisible document is a zero result, and
// one on a visible document the caller may not write is still denied.
func TestInvisibleHiddenVisibleReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	g := e.g
	carol := g.For(e.users["carol"]).Database(e.db.Name()).Collection("notes")
	res, err := carol.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}})
	if err != nil || res.MatchedCount != 0 {
		t.Errorf("carol's update of an invisible note: %+v, %v; want a zero result", res, err)
	}
	del, err := carol.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
	if err != nil || del.DeletedCount != 0 {
		t.Errorf("carol's delete of an invisible note: %+v, %v; want a zero result", del, err)
	}
	// A visible document she may not write is still reported.
	bob := g.For(e.users["bob"]).Database(e.db.Name()).Collection("notes")
	_, err = bob.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}})
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	if d := e.doc(1); d["title"] != "alice's plan" {
		t.Errorf("alice's note: %v", d)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	if _, err := gate.New(nil, nil); err == nil {
		t.Error("New(nil, nil) did not fail")
	}
}

// TestEmbeddedFieldRules: in profiles, anyone reads name and address.city,
// not address.street. Distinct over the whole address gives the addresses
// without their streets, over the street nothing; Find redacts the street; a filter on the street matches
// nothing.
func TestEmbeddedFieldRules(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	raw := e.db.Collection("profiles")
	if _, err := raw.InsertMany(ctx, []any{
		bson.D{{Key: "name", Value: "ann"}, {Key: "address", Value: bson.D{{Key: "city", Value: "Oslo"}, {Key: "street", Value: "Hidden 1"}}}},
		bson.D{{Key: "name", Value: "ben"}, {Key: "address", Value: bson.D{{Key: "city", Value: "Rome"}, {Key: "street", Value: "Hidden 2"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	c := e.g.For(e.users["dave"]).Database(e.db.Name()).Collection("profiles")
	var cities []string
	if err := c.Distinct(ctx, "address.city", bson.D{}).Decode(&cities); err != nil {
		t.Fatal(err)
	}
	sort.Strings(cities)
	if !reflect.DeepEqual(cities, []string{"Oslo", "Rome"}) {
		t.Errorf("cities = %v", cities)
	}
	// The whole address: its values as Find returns them, the street
	// left out; the street alone: nothing.
	var addrs []bson.M
	if err := c.Distinct(ctx, "address", bson.D{}).Decode(&addrs); err != nil {
		t.Fatal(err)
	}
	if len(addrs) != 2 || len(addrs[0]) != 1 || len(addrs[1]) != 1 || addrs[0]["city"] == nil || addrs[1]["city"] == nil {
		t.Errorf("distinct addresses = %v, want the two cities without streets", addrs)
	}
	var streets []string
	if err := c.Distinct(ctx, "address.street", bson.D{}).Decode(&streets); err != nil || len(streets) != 0 {
		t.Errorf("distinct streets = %v, %v; want none", streets, err)
	}
	var docs []bson.Raw
	cur, err := c.Find(ctx, bson.D{{Key: "address.city", Value: "Oslo"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 {
		t.Fatalf("find by city: %v", docs)
	}
	if _, err := docs[0].LookupErr("address", "street"); err == nil {
		t.Errorf("the street was not redacted: %v", docs[0])
	}
	if city, _ := docs[0].Lookup("address", "city").StringValueOK(); city != "Oslo" {
		t.Errorf("city = %q", city)
	}
	if n, err := c.CountDocuments(ctx, bson.D{{Key: "address.street", Value: "Hidden 1"}}); err != nil || n != 0 {
		t.Errorf("count by the hidden street: %d, %v", n, err)
	}
}

// TestLeavingScope: in drafts, the author may write a draft; the rules
// have no write rule on %%root, so App Services (role from the stored
// document) lets the author submit the draft or hand it to someone else.
// The gate denies both by default, since the document would leave the
// author's write scope, and allows them with WithLeavingScopeAllowed.
func TestLeavingScope(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	raw := e.db.Collection("drafts")
	if _, err := raw.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "author", Value: "a1"}, {Key: "status", Value: "draft"}, {Key: "text", Value: "v1"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "author", Value: "a1"}, {Key: "status", Value: "draft"}, {Key: "text", Value: "v1"}},
	}); err != nil {
		t.Fatal(err)
	}
	id := func(i int) bson.D { return bson.D{{Key: "_id", Value: i}} }
	set := func(k, v string) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: k, Value: v}}}} }
	strict := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("drafts")
	if res, err := strict.UpdateOne(ctx, id(1), set("text", "v2")); err != nil || res.ModifiedCount != 1 {
		t.Fatalf("editing a draft: %+v, %v", res, err)
	}
	_, err := strict.UpdateOne(ctx, id(1), set("status", "submitted"))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonLeavingScope)
	_, err = strict.UpdateOne(ctx, id(1), set("author", "b1"))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonLeavingScope)
	_, err = strict.ReplaceOne(ctx, id(1), bson.D{{Key: "author", Value: "a1"}, {Key: "status", Value: "final"}})
	wantDenied(t, err, "ReplaceOne", evaluator.ActionWrite, evaluator.ReasonLeavingScope)

	g, err := gate.New(e.db.Client(), loadProgram(t, e.db.Name()), gate.WithLeavingScopeAllowed())
	if err != nil {
		t.Fatal(err)
	}
	loose := g.For(e.users["alice"]).Database(e.db.Name()).Collection("drafts")
	if res, err := loose.UpdateOne(ctx, id(2), set("status", "submitted")); err != nil || res.ModifiedCount != 1 {
		t.Fatalf("submitting under WithLeavingScopeAllowed: %+v, %v", res, err)
	}
	// Now a reader's document: no more writes.
	_, err = loose.UpdateOne(ctx, id(2), set("text", "v3"))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonFieldNotWritable)
	var one, two bson.M
	_ = raw.FindOne(ctx, id(1)).Decode(&one)
	_ = raw.FindOne(ctx, id(2)).Decode(&two)
	if one["status"] != "draft" || one["author"] != "a1" || one["text"] != "v2" || two["status"] != "submitted" || two["text"] != "v1" {
		t.Errorf("drafts: %v %v", one, two)
	}
}
