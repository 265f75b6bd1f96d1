package gate_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestAggregateExpressionMemory: an expression that builds a huge value
// for one document ($reduce doubling a string or an array, $map of
// $range) fails within WithPipelineMemoryLimit, as a blocking stage
// does, instead of taking the gate's memory; the result it feeds is
// small, so only the expressions' own accounting can catch it.
func TestAggregateExpressionMemory(t *testing.T) {
	e := newAggEnv(t, gate.WithPipelineMemoryLimit(1<<20))
	for _, tc := range []struct{ name, pipeline string }{
		{"$reduce doubling a string",
			`[{"$limit": 1}, {"$project": {"n": {"$strLenBytes": {"$reduce": {"input": {"$range": [0, 24]}, "initialValue": "ab", "in": {"$concat": ["$$value", "$$value"]}}}}}}]`},
		{"$reduce doubling an array",
			`[{"$limit": 1}, {"$project": {"n": {"$size": {"$reduce": {"input": {"$range": [0, 22]}, "initialValue": [1], "in": {"$concatArrays": ["$$value", "$$value"]}}}}}}]`},
		{"$reduce nesting arrays",
			`[{"$limit": 1}, {"$project": {"n": {"$size": {"$reduce": {"input": {"$range": [0, 24]}, "initialValue": [1], "in": ["$$value", "$$value"]}}}}}]`},
		{"$map of $range",
			`[{"$limit": 1}, {"$project": {"n": {"$size": {"$map": {"input": {"$range": [0, 2000]}, "in": {"$range": [0, 2000]}}}}}}]`},
		{"in $group's _id",
			`[{"$group": {"_id": {"$strLenBytes": {"$reduce": {"input": {"$range": [0, 24]}, "initialValue": "ab", "in": {"$concat": ["$$value", "$$value"]}}}}}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := aggJSON(t, e.alice, tc.pipeline)
			var r *gate.RefusedError
			if !errors.As(err, &r) || r.Code != gate.CodePipelineFailed {
				t.Fatalf("got %s, err = %v; want %s", out, err, gate.CodePipelineFailed)
			}
		})
	}
}

// TestAggregateForeignReadsOnce: a $lookup whose foreignField the caller
// does not read in every document of the other collection, or a
// $unionWith in a $lookup's sub-pipeline, reads the other collection
// once per Aggregate, not once per document of the pipeline (each read a
// scan of the whole collection, every document decided and redacted).
func TestAggregateForeignReadsOnce(t *testing.T) {
	e := newAggEnv(t)
	var mu sync.Mutex
	finds := 0
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if ev.CommandName == "find" && ev.Command.Lookup("find").StringValue() == "teams" {
			mu.Lock()
			finds++
			mu.Unlock()
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(t)).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	fsys := fstest.MapFS{
		"data_sources/mongodb-atlas/config.json":          {Data: []byte(`{"name": "mongodb-atlas", "type": "mongodb-atlas", "config": {"clusterName": "Cluster0"}}`)},
		"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(aggNotesRules)},
		"data_sources/mongodb-atlas/app/teams/rules.json": {Data: []byte(aggTeamsRules)},
	}
	g := newGate(t, client, fsys, gate.WithDatabaseMapping(map[string]string{"app": e.notes.Database().Name()}))
	alice := g.For(user(t, `{"id": "alice", "type": "normal", "custom_data": {"teamIds": ["t1"]}}`)).Database("app").Collection("notes")
	for _, tc := range []struct{ name, pipeline, want string }{
		{"$lookup matched on what the caller sees",
			`[{"$lookup": {"from": "teams", "localField": "n", "foreignField": "budget", "as": "t"}}, {"$unwind": "$t"}, {"$count": "n"}]`, ``},
		{"$unionWith in a $lookup's sub-pipeline",
			`[{"$lookup": {"from": "teams", "pipeline": [{"$unionWith": "teams"}], "as": "t"}}, {"$project": {"k": {"$size": "$t"}}}, {"$group": {"_id": "$k", "n": {"$sum": 1}}}]`,
			`{"_id": {"$numberInt":"2"},"n": {"$numberInt":"4"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			finds = 0
			mu.Unlock()
			got, err := aggJSON(t, alice, tc.pipeline)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			mu.Lock()
			defer mu.Unlock()
			if finds != 1 {
				t.Errorf("%d finds on teams, want 1", finds)
			}
		})
	}
}

// TestAggregateWholeReaderFieldPaths: a caller reading every document
// whole gets the same answer as one whose pipeline the gate runs: the
// embedded server (FerretDB) evaluates a field path in $project,
// $addFields and $set as a literal string, without NotImplemented, so
// the gate does not run pipelines on it.
func TestAggregateWholeReaderFieldPaths(t *testing.T) {
	e := newAggEnv(t)
	for _, tc := range []struct{ pipeline, want string }{
		{`[{"$match": {"_id": 4}}, {"$project": {"x": "$n"}}]`, `{"_id": {"$numberInt":"4"},"x": {"$numberInt":"8"}}`},
		{`[{"$match": {"_id": 4}}, {"$project": {"_id": 0, "x": ["$n", {"a": "$title"}]}}]`, `{"x": [{"$numberInt":"8"},{"a": "b4"}]}`},
		{`[{"$match": {"_id": 4}}, {"$set": {"x": "$n"}}, {"$project": {"x": 1}}]`, `{"_id": {"$numberInt":"4"},"x": {"$numberInt":"8"}}`},
	} {
		got, err := aggJSON(t, e.root, tc.pipeline)
		if err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.pipeline, got, tc.want)
		}
	}
}

// TestAggregateClosesForeignCursors: a $unionWith the pipeline stops
// reading ($limit after it) has its cursor closed when Aggregate returns,
// not left open on the server until it times out.
func TestAggregateClosesForeignCursors(t *testing.T) {
	e := newAggEnv(t)
	for i := range 150 {
		insertExt(t, e.notes, `{"_id": `+strconv.Itoa(100+i)+`, "owner": "alice", "title": "x"}`)
	}
	var mu sync.Mutex
	kills := 0
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if ev.CommandName == "killCursors" {
			mu.Lock()
			kills++
			mu.Unlock()
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(t)).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	fsys := fstest.MapFS{
		"data_sources/mongodb-atlas/config.json":          {Data: []byte(`{"name": "mongodb-atlas", "type": "mongodb-atlas", "config": {"clusterName": "Cluster0"}}`)},
		"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(aggNotesRules)},
		"data_sources/mongodb-atlas/app/teams/rules.json": {Data: []byte(aggTeamsRules)},
	}
	g := newGate(t, client, fsys, gate.WithDatabaseMapping(map[string]string{"app": e.notes.Database().Name()}))
	alice := g.For(user(t, `{"id": "alice", "type": "normal", "custom_data": {"teamIds": ["t1"]}}`)).Database("app").Collection("notes")
	got, err := aggJSON(t, alice, `[{"$limit": 1}, {"$unionWith": "notes"}, {"$limit": 2}, {"$project": {"_id": 1}}]`)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"_id": {"$numberInt":"1"}}` + "\n" + `{"_id": {"$numberInt":"1"}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if kills != 1 {
		t.Errorf("%d killCursors, want 1 (the $unionWith's)", kills)
	}
}

// TestAggregateUserRolesRefused: $$USER_ROLES is the roles of the
// database user the gate connects as, not anything of the App Services
// user; the server would answer it for a whole reader, so the gate
// refuses it anywhere in a pipeline, whoever the caller.
func TestAggregateUserRolesRefused(t *testing.T) {
	e := newAggEnv(t)
	for _, tc := range []struct{ pipeline, ptr string }{
		{`[{"$project": {"r": "$$USER_ROLES"}}]`, "/0/$project/r"},
		{`[{"$set": {"r": {"$size": "$$USER_ROLES.role"}}}]`, "/0/$set/r/$size"},
		{`[{"$lookup": {"from": "teams", "let": {"r": "$$USER_ROLES"}, "pipeline": [], "as": "x"}}]`, "/0/$lookup/let/r"},
		{`[{"$unionWith": {"coll": "teams", "pipeline": [{"$project": {"r": ["$$USER_ROLES"]}}]}}]`, "/0/$unionWith/pipeline/0/$project/r/0"},
	} {
		for _, c := range []*gate.Collection{e.root, e.alice} {
			_, err := aggJSON(t, c, tc.pipeline)
			var r *gate.RefusedError
			if !errors.As(err, &r) || r.Code != gate.CodeUnsupported || string(r.Ptr) != tc.ptr {
				t.Errorf("%s: err = %v, want %s at %s", tc.pipeline, err, gate.CodeUnsupported, tc.ptr)
			}
		}
	}
}
