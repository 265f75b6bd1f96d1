package jsfunc_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
)

// TestMemoryRefuses: what the in-memory collections cannot do exactly is
// refused with ErrMemoryUnsupported and a message naming it.
func TestMemoryRefuses(t *testing.T) {
	ctx := context.Background()
	app, prog := notesApp(t)
	mem := jsfunc.MemoryData(app, prog, map[string][]bson.Raw{"app.notes": seedNotes(t)})
	for _, tc := range []struct {
		name, as, want string
		call           func(c jsfunc.Collection) error
	}{
		{"stage", "system", `stage "$facet" is not supported in memory`, func(c jsfunc.Collection) error {
			_, err := c.Aggregate(ctx, []bson.Raw{raw(t, `{"$match": {}}`), raw(t, `{"$facet": {"a": []}}`)})
			return err
		}},
		{"operator", "bob", `expression operator "$dateTrunc" is not supported in memory`, func(c jsfunc.Collection) error {
			_, err := c.Aggregate(ctx, []bson.Raw{raw(t, `{"$project": {"d": {"$dateTrunc": {"date": "$$NOW", "unit": "day"}}}}`)})
			return err
		}},
		{"upsert", "alice", "UpdateOne with upsert", func(c jsfunc.Collection) error {
			_, err := c.UpdateOne(ctx, raw(t, `{"_id": 7}`), raw(t, `{"$set": {"owner": "a1"}}`), jsfunc.UpdateOptions{Upsert: true})
			return err
		}},
		{"sort/array", "system", `sort by "tags", an array`, func(c jsfunc.Collection) error {
			if _, err := c.InsertOne(ctx, raw(t, `{"_id": 8, "tags": [2, 1]}`)); err != nil {
				return err
			}
			_, err := c.Find(ctx, nil, jsfunc.FindOptions{Sort: raw(t, `{"tags": 1}`)})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := mem.Collection(ctx, asOf(t, tc.as), "mongodb-atlas", "app", "notes")
			if err != nil {
				t.Fatal(err)
			}
			err = tc.call(c)
			if !errors.Is(err, jsfunc.ErrMemoryUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrMemoryUnsupported saying %q", err, tc.want)
			}
		})
	}
}

// TestMemoryIsolated: a MemoryData's writes change its own copy only,
// never the documents it was given or another MemoryData made from them.
func TestMemoryIsolated(t *testing.T) {
	ctx := context.Background()
	app, prog := notesApp(t)
	docs := map[string][]bson.Raw{"app.notes": seedNotes(t)}
	a := jsfunc.MemoryData(app, prog, docs)
	b := jsfunc.MemoryData(app, prog, docs)
	ca, _ := a.Collection(ctx, jsfunc.As{System: true}, "mongodb-atlas", "app", "notes")
	if _, err := ca.DeleteMany(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ca.InsertOne(ctx, raw(t, `{"_id": 1, "owner": "z"}`)); err != nil {
		t.Fatal(err)
	}
	if got := state(ctx, t, a); got != `[{"_id":1,"owner":"z"}]` {
		t.Errorf("a: %s", got)
	}
	want := `[{"_id":1,"owner":"a1","title":"alpha","n":3,"secret":"s1"},{"_id":2,"owner":"b1","title":"beta","n":1,"secret":"s2"},{"_id":3,"owner":"a1","title":"gamma","n":2,"secret":"s3"}]`
	if got := state(ctx, t, b); got != want {
		t.Errorf("b: %s", got)
	}
	if len(docs["app.notes"]) != 3 {
		t.Errorf("the given documents changed: %d", len(docs["app.notes"]))
	}
}

// TestMemoryDuplicateKey: an insert whose _id is taken fails and inserts
// nothing.
func TestMemoryDuplicateKey(t *testing.T) {
	ctx := context.Background()
	app, prog := notesApp(t)
	mem := jsfunc.MemoryData(app, prog, map[string][]bson.Raw{"app.notes": seedNotes(t)})
	c, _ := mem.Collection(ctx, jsfunc.As{System: true}, "mongodb-atlas", "app", "notes")
	if _, err := c.InsertMany(ctx, []bson.Raw{raw(t, `{"_id": 4}`), raw(t, `{"_id": 1}`)}); err == nil || !strings.Contains(err.Error(), "duplicate key") {
		t.Fatalf("got %v", err)
	}
	if n, _ := c.Count(ctx, nil, jsfunc.CountOptions{}); n != 3 {
		t.Errorf("count %d after a failed insert", n)
	}
}

// TestMemoryDefaultRule: a namespace governed by the data source's
// default rule is not no-rules.
func TestMemoryDefaultRule(t *testing.T) {
	ctx := context.Background()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/default_rule.json": {Data: []byte(`{"roles": [{"name": "all", "apply_when": {}, "read": true}]}`)}})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	mem := jsfunc.MemoryData(app, prog, map[string][]bson.Raw{"app.any": {raw(t, `{"_id": 1}`)}})
	c, _ := mem.Collection(ctx, asOf(t, "alice"), "mongodb-atlas", "app", "any")
	if n, err := c.Count(ctx, nil, jsfunc.CountOptions{}); n != 1 || err != nil {
		t.Errorf("count %d, %v", n, err)
	}
}

// TestMemoryAbsentRefFailsClosed pins where MemoryData and the gate
// differ: a filter on a field a document lacks leaves the document out
// in memory, even for an owner who reads every field, where the gate
// probes the field, finds it readable and matches ({secret: {$exists:
// false}} returns the document). Fail closed: never more than the gate.
func TestMemoryAbsentRefFailsClosed(t *testing.T) {
	ctx := context.Background()
	app, prog := notesApp(t)
	mem := jsfunc.MemoryData(app, prog, map[string][]bson.Raw{"app.notes": {raw(t, `{"_id": 5, "owner": "a1", "title": "no secret"}`)}})
	c, _ := mem.Collection(ctx, asOf(t, "alice"), "mongodb-atlas", "app", "notes")
	docs, err := c.Find(ctx, raw(t, `{"secret": {"$exists": false}}`), jsfunc.FindOptions{})
	if err != nil || len(docs) != 0 {
		t.Errorf("got %v, %v; want none (the gate returns the document)", docs, err)
	}
	if n, _ := c.Count(ctx, nil, jsfunc.CountOptions{}); n != 1 {
		t.Errorf("count %d without the filter", n)
	}
}
