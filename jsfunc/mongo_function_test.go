package jsfunc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// TestMongoDataFunctionRule: a %function rule whose JavaScript does a
// findOne, through the gate on the embedded server. teamOf finds a
// membership of the note's team, whoever's: as system (sysNotes) it sees
// ann's; as the user (userNotes) the rules of members (each user reads its
// own) hide it from bob.
func TestMongoDataFunctionRule(t *testing.T) {
	ctx := context.Background()
	role := func(fn string) string {
		return `{"name": "team", "apply_when": {"%%true": {"%function": {"name": "` + fn + `", "arguments": ["%%root.team"]}}}, "read": true}`
	}
	src := `exports = function(team) {
		return context.services.get("mongodb-atlas").db("app").collection("members").findOne({team: team}).then(m => m !== null);
	};`
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/app/sysNotes/rules.json":  {Data: []byte(`{"database": "app", "collection": "sysNotes", "roles": [` + role("hasMemberSys") + `]}`)},
		"data_sources/mongodb-atlas/app/userNotes/rules.json": {Data: []byte(`{"database": "app", "collection": "userNotes", "roles": [` + role("hasMember") + `]}`)},
		"data_sources/mongodb-atlas/app/members/rules.json":   {Data: []byte(`{"database": "app", "collection": "members", "roles": [{"name": "self", "apply_when": {"user": "%%user.id"}, "read": true}]}`)},
		"functions/config.json":                               {Data: []byte(`[{"name": "hasMemberSys", "private": true, "run_as_system": true}, {"name": "hasMember", "private": true}]`)},
		"functions/hasMemberSys.js":                           {Data: []byte(src)},
		"functions/hasMember.js":                              {Data: []byte(src)},
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := jsfunc.Load(app)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(js))
	if err != nil {
		t.Fatal(err)
	}
	db := rulegatetest.Database(t)
	g, err := gate.New(db.Client(), prog, gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if err != nil {
		t.Fatal(err)
	}
	if err := js.Bind(jsfunc.MongoData(g, app)); err != nil {
		t.Fatal(err)
	}
	for coll, doc := range map[string]bson.D{
		"members":   {{Key: "team", Value: "red"}, {Key: "user", Value: "a1"}},
		"sysNotes":  {{Key: "_id", Value: 1}, {Key: "team", Value: "red"}},
		"userNotes": {{Key: "_id", Value: 1}, {Key: "team", Value: "red"}},
	} {
		if _, err := db.Collection(coll).InsertOne(ctx, doc); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		who, coll string
		found     bool
	}{
		{"alice", "sysNotes", true},
		{"alice", "userNotes", true},
		{"bob", "sysNotes", true},
		{"bob", "userNotes", false},
	} {
		u := asOf(t, tc.who).User
		err := g.For(u).Database("app").Collection(tc.coll).FindOne(ctx, bson.D{}).Err()
		if found := err == nil; found != tc.found || (err != nil && !errors.Is(err, mongo.ErrNoDocuments)) {
			t.Errorf("%s on %s: found %t (%v), want %t", tc.who, tc.coll, found, err, tc.found)
		}
	}
}

// TestDenialCarriesNoCause: a function that meets the gate's denial of a
// rule that could not be evaluated (here a Go %function that could not
// run, whose error holds what it read) sees the denial's message only,
// caught or not: the cause stays the gate's Go error's
// (gate.TestEvalErrorIsADeniedError).
func TestDenialCarriesNoCause(t *testing.T) {
	ctx := context.Background()
	db := rulegatetest.Database(t)
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/" + db.Name() + "/guarded/rules.json": {Data: []byte(`{"roles": [{"name": "r", "read": true, "insert": true,
			"apply_when": {"%%true": {"%function": {"name": "check", "arguments": ["%%user.id"]}}}}]}`)},
		"functions/config.json": {Data: []byte(`[{"name": "catches"}, {"name": "throws"}]`)},
		"functions/catches.js": {Data: []byte(`exports = async function(db) {
			try { await context.services.get("mongodb-atlas").db(db).collection("guarded").insertOne({a: 1}); return "inserted" }
			catch (e) { return e.message } }`)},
		"functions/throws.js": {Data: []byte(`exports = function(db) { return context.services.get("mongodb-atlas").db(db).collection("guarded").insertOne({a: 1}) }`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	fs, err := jsfunc.Load(app)
	if err != nil {
		t.Fatal(err)
	}
	secret := errors.New("SECRET-READ-AS-SYSTEM")
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fs), evaluator.WithFunction("check", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Value{}, secret
	}))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(db.Client(), prog)
	if err != nil {
		t.Fatal(err)
	}
	if err := fs.Bind(jsfunc.MongoData(g, app)); err != nil {
		t.Fatal(err)
	}
	u := user(t, `{"id": "u1"}`)
	arg := []value.Value{value.String(db.Name())}
	v, err := fs.Run(ctx, jsfunc.Call{Name: "catches", User: u, Args: arg})
	if err != nil || strings.Contains(v.ExtJSON(), "SECRET") || !strings.Contains(v.ExtJSON(), "insert denied: error") {
		t.Errorf("catches: %s, %v; want the denial without its cause", v.ExtJSON(), err)
	}
	// Uncaught, the rejection is the call's error, with the same message.
	_, err = fs.Run(ctx, jsfunc.Call{Name: "throws", User: u, Args: arg})
	if !errors.Is(err, jsfunc.ErrThrown) || strings.Contains(err.Error(), "SECRET") || !strings.Contains(err.Error(), "insert denied: error") {
		t.Errorf("throws: %v; want the rejected denial without its cause", err)
	}
}
