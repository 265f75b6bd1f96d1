package gate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// aggNotesRules: owners read their notes whole, teammates (the note's team
// in %%user.custom_data.teamIds) read them without "private", admins read
// everything. Teams: a member reads a team's name, not its budget; others
// nothing.
const aggNotesRules = `{"database": "app", "collection": "notes", "roles": [
  {"name": "admin", "apply_when": {"%%user.custom_data.admin": true}, "read": true, "write": true},
  {"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true},
  {"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}},
   "fields": {"_id": {"read": true}, "title": {"read": true}, "status": {"read": true}, "team": {"read": true}, "owner": {"read": true}, "n": {"read": true}}}
]}`

const aggTeamsRules = `{"database": "app", "collection": "teams", "roles": [
  {"name": "member", "apply_when": {"_id": {"$in": "%%user.custom_data.teamIds"}}, "fields": {"_id": {"read": true}, "name": {"read": true}}}
]}`

type aggEnv struct {
	g           *gate.Gate
	notes       *mongo.Collection
	alice, root *gate.Collection
	teamsAlice  *gate.Collection
}

func newAggEnv(t *testing.T, opts ...gate.Option) *aggEnv {
	t.Helper()
	db := rulegatetest.Database(t)
	fsys := fstest.MapFS{
		"data_sources/mongodb-atlas/config.json":          {Data: []byte(`{"name": "mongodb-atlas", "type": "mongodb-atlas", "config": {"clusterName": "Cluster0"}}`)},
		"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(aggNotesRules)},
		"data_sources/mongodb-atlas/app/teams/rules.json": {Data: []byte(aggTeamsRules)},
	}
	g := newGate(t, db.Client(), fsys, append([]gate.Option{gate.WithDatabaseMapping(map[string]string{"app": db.Name()})}, opts...)...)
	notes := db.Collection("notes")
	for _, d := range []string{
		`{"_id": 1, "owner": "alice", "team": "t1", "title": "a1", "status": "open", "private": "alice-1", "n": 1, "b": 100}`,
		`{"_id": 2, "owner": "alice", "title": "a2", "status": "done", "private": "alice-2", "n": 2}`,
		`{"_id": 3, "owner": "bob", "team": "t1", "title": "b3", "status": "open", "private": "bob-3", "n": 4}`,
		`{"_id": 4, "owner": "bob", "team": "t2", "title": "b4", "status": "open", "private": "bob-4", "n": 8}`,
		`{"_id": 5, "owner": "carol", "team": "t1", "title": "c5", "status": "done", "n": 16}`,
	} {
		insertExt(t, notes, d)
	}
	teams := db.Collection("teams")
	insertExt(t, teams, `{"_id": "t1", "name": "Team one", "budget": 100}`)
	insertExt(t, teams, `{"_id": "t2", "name": "Team two", "budget": 200}`)
	alice := g.For(user(t, `{"id": "alice", "type": "normal", "custom_data": {"teamIds": ["t1"]}}`)).Database("app")
	root := g.For(user(t, `{"id": "root", "type": "normal", "custom_data": {"admin": true}}`)).Database("app")
	return &aggEnv{g: g, notes: notes, alice: alice.Collection("notes"), root: root.Collection("notes"), teamsAlice: alice.Collection("teams")}
}

func insertExt(t *testing.T, c *mongo.Collection, ext string) {
	t.Helper()
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(ext), false, &doc); err != nil {
		t.Fatal(err)
	}
	if _, err := c.InsertOne(context.Background(), doc); err != nil {
		t.Fatal(err)
	}
}

// aggJSON runs p and renders the documents as relaxed extended JSON, one
// per line.
func aggJSON(t *testing.T, c *gate.Collection, p string) (string, error) {
	t.Helper()
	var pipe bson.A
	if err := bson.UnmarshalExtJSON([]byte(p), false, &pipe); err != nil {
		t.Fatalf("pipeline %s: %v", p, err)
	}
	ctx := context.Background()
	cur, err := c.Aggregate(ctx, pipe)
	if err != nil {
		return "", err
	}
	var lines []string
	for cur.Next(ctx) {
		lines = append(lines, cur.Current.String())
	}
	if err := cur.Err(); err != nil {
		return "", err
	}
	return strings.Join(lines, "\n"), nil
}

// TestAggregateVaryingRoles: alice owns notes 1 and 2 and reads 3 and 5
// as a teammate (without "private"); 4 is another team's. Her pipelines
// run over exactly what Find shows her.
func TestAggregateVaryingRoles(t *testing.T) {
	e := newAggEnv(t)
	for _, tc := range []struct{ name, pipeline, want string }{
		{"group count by status",
			`[{"$group": {"_id": "$status", "count": {"$sum": 1}, "total": {"$sum": "$n"}}}, {"$sort": {"_id": 1}}]`,
			`{"_id": "done","count": {"$numberInt":"2"},"total": {"$numberInt":"18"}}` + "\n" +
				`{"_id": "open","count": {"$numberInt":"2"},"total": {"$numberInt":"5"}}`},
		{"count",
			`[{"$count": "n"}]`,
			`{"n": {"$numberInt":"4"}}`},
		{"group by a hidden field sees it missing",
			`[{"$group": {"_id": "$private", "ids": {"$push": "$_id"}}}, {"$sort": {"_id": 1}}]`,
			`{"_id": null,"ids": [{"$numberInt":"3"},{"$numberInt":"5"}]}` + "\n" +
				`{"_id": "alice-1","ids": [{"$numberInt":"1"}]}` + "\n" +
				`{"_id": "alice-2","ids": [{"$numberInt":"2"}]}`},
		{"match on a hidden value finds nothing",
			`[{"$match": {"private": "bob-3"}}, {"$count": "n"}]`,
			``},
		{"match on a readable field, sort, skip, limit",
			`[{"$match": {"status": "open"}}, {"$sort": {"title": -1}}, {"$skip": 0}, {"$limit": 1}, {"$project": {"title": 1, "private": 1}}]`,
			`{"_id": {"$numberInt":"3"},"title": "b3"}`},
		{"sort on a hidden field orders it as missing",
			`[{"$sort": {"private": 1, "_id": 1}}, {"$project": {"_id": 1}}]`,
			`{"_id": {"$numberInt":"3"}}` + "\n" + `{"_id": {"$numberInt":"5"}}` + "\n" +
				`{"_id": {"$numberInt":"1"}}` + "\n" + `{"_id": {"$numberInt":"2"}}`},
		{"cond over a hidden field",
			`[{"$project": {"has": {"$cond": [{"$ifNull": ["$private", false]}, "yes", "no"]}}}, {"$sort": {"_id": 1}}]`,
			`{"_id": {"$numberInt":"1"},"has": "yes"}` + "\n" + `{"_id": {"$numberInt":"2"},"has": "yes"}` + "\n" +
				`{"_id": {"$numberInt":"3"},"has": "no"}` + "\n" + `{"_id": {"$numberInt":"5"},"has": "no"}`},
		{"lookup applies the other collection's rules",
			`[{"$match": {"team": {"$exists": true}}}, {"$lookup": {"from": "teams", "localField": "team", "foreignField": "_id", "as": "t"}}, {"$project": {"t": 1}}, {"$sort": {"_id": 1}}]`,
			`{"_id": {"$numberInt":"1"},"t": [{"_id": "t1","name": "Team one"}]}` + "\n" +
				`{"_id": {"$numberInt":"3"},"t": [{"_id": "t1","name": "Team one"}]}` + "\n" +
				`{"_id": {"$numberInt":"5"},"t": [{"_id": "t1","name": "Team one"}]}`},
		{"lookup matches what the caller sees of the other collection",
			`[{"$match": {"_id": 1}}, {"$lookup": {"from": "teams", "localField": "b", "foreignField": "budget", "as": "t"}}, {"$project": {"t": 1}}]`,
			`{"_id": {"$numberInt":"1"},"t": []}`},
		{"unionWith applies the other collection's rules",
			`[{"$match": {"_id": 1}}, {"$project": {"title": 1}}, {"$unionWith": {"coll": "teams", "pipeline": [{"$project": {"name": 1, "budget": 1}}]}}]`,
			`{"_id": {"$numberInt":"1"},"title": "a1"}` + "\n" + `{"_id": "t1","name": "Team one"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := aggJSON(t, e.alice, tc.pipeline)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestAggregateMatchesFind: a pipeline of $match, $sort, $skip and $limit
// returns, byte for byte, what Find returns with the same filter and
// options, for a caller whose roles vary by document.
func TestAggregateMatchesFind(t *testing.T) {
	e := newAggEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		filter string
		sort   string
	}{
		{`{}`, `{"_id": 1}`},
		{`{"status": "open"}`, `{"title": 1}`},
		{`{"team": "t1"}`, `{"n": -1}`},
	} {
		var filter, sort bson.D
		if err := bson.UnmarshalExtJSON([]byte(tc.filter), false, &filter); err != nil {
			t.Fatal(err)
		}
		if err := bson.UnmarshalExtJSON([]byte(tc.sort), false, &sort); err != nil {
			t.Fatal(err)
		}
		cur, err := e.alice.Find(ctx, filter, options.Find().SetSort(sort))
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for cur.Next(ctx) {
			want = append(want, cur.Current.String())
		}
		got, err := aggJSON(t, e.alice, `[{"$match": `+tc.filter+`}, {"$sort": `+tc.sort+`}]`)
		if err != nil {
			t.Fatal(err)
		}
		if got != strings.Join(want, "\n") {
			t.Errorf("filter %s sort %s: Aggregate\n%s\nFind\n%s", tc.filter, tc.sort, got, strings.Join(want, "\n"))
		}
	}
}

// TestAggregateWholeReader: an admin reads every document whole; the
// pipeline runs on the server (under MONGODB_URI) or in the gate (on the
// embedded server, see Gate.serverAggregates), with the same answer.
func TestAggregateWholeReader(t *testing.T) {
	e := newAggEnv(t)
	got, err := aggJSON(t, e.root, `[{"$group": {"_id": null, "n": {"$sum": "$n"}}}]`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"_id": null,"n": {"$numberInt":"31"}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	got, err = aggJSON(t, e.root, `[{"$match": {"_id": 4}}, {"$project": {"p": {"$cond": [{"$eq": ["$private", "bob-4"]}, 1, 0]}}}]`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"_id": {"$numberInt":"4"},"p": {"$numberInt":"1"}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestAggregateInGateErrors: refusals name the stage; failures on the
// documents are CodePipelineFailed; a $lookup into a collection without
// rules is denied as its own read would be.
func TestAggregateInGateErrors(t *testing.T) {
	e := newAggEnv(t)
	for _, tc := range []struct{ name, pipeline, code, ptr string }{
		{"unknown operator", `[{"$project": {"x": {"$noSuchOperator": 1}}}]`, gate.CodeUnsupported, "/0/$project/x/$noSuchOperator"},
		{"divide by zero", `[{"$project": {"x": {"$divide": ["$n", 0]}}}]`, gate.CodePipelineFailed, "/0/$project/x/$divide"},
		{"divide by zero after a pushed-down match", `[{"$match": {"status": "open"}}, {"$project": {"x": {"$divide": ["$n", 0]}}}]`, gate.CodePipelineFailed, "/1/$project/x/$divide"},
		{"other database", `[{"$lookup": {"from": {"db": "admin", "coll": "system.users"}, "localField": "a", "foreignField": "b", "as": "x"}}]`, gate.CodeUnsupported, "/0/$lookup/from"},
		{"graphLookup", `[{"$graphLookup": {"from": "teams", "startWith": "$team", "connectFromField": "_id", "connectToField": "_id", "as": "x"}}]`, gate.CodeUnsupported, "/0/$graphLookup"},
		{"expr in a sub-pipeline", `[{"$lookup": {"from": "teams", "as": "x", "pipeline": [{"$match": {"$expr": true}}]}}]`, gate.CodeUnsupported, "/0/$lookup/pipeline/0/$match/$expr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := aggJSON(t, e.alice, tc.pipeline)
			var r *gate.RefusedError
			if !errors.As(err, &r) {
				t.Fatalf("err = %v, want a RefusedError", err)
			}
			if r.Code != tc.code || string(r.Ptr) != tc.ptr {
				t.Errorf("err = %v (code %s, ptr %s), want code %s at %s", err, r.Code, r.Ptr, tc.code, tc.ptr)
			}
		})
	}
	t.Run("lookup into a collection without rules", func(t *testing.T) {
		_, err := aggJSON(t, e.alice, `[{"$lookup": {"from": "nope", "localField": "team", "foreignField": "_id", "as": "x"}}]`)
		var de *gate.DeniedError
		if !errors.As(err, &de) || de.Reason != evaluator.ReasonNoRules || de.Namespace != "app.nope" {
			t.Fatalf("err = %v, want a no-rules denial of app.nope", err)
		}
	})
}

// TestAggregateMemoryLimit: a blocking stage over the limit fails, as the
// server's does without allowDiskUse.
func TestAggregateMemoryLimit(t *testing.T) {
	e := newAggEnv(t, gate.WithPipelineMemoryLimit(200))
	_, err := aggJSON(t, e.alice, `[{"$sort": {"n": 1}}]`)
	var r *gate.RefusedError
	if !errors.As(err, &r) || r.Code != gate.CodePipelineFailed {
		t.Fatalf("err = %v, want %s", err, gate.CodePipelineFailed)
	}
	if _, err := aggJSON(t, e.alice, `[{"$match": {"_id": 1}}, {"$project": {"_id": 1}}]`); err != nil {
		t.Errorf("a small result: %v", err)
	}
}
