package gate_test

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// findLog records the find and getMore commands a client sends.
type findLog struct {
	mu   sync.Mutex
	cmds []bson.Raw
}

func (l *findLog) take() []bson.Raw {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cmds
	l.cmds = nil
	return out
}

// monitored connects a client to the test server that records in log the
// find and getMore commands sent to database db.
func monitored(t *testing.T, db string) (*mongo.Client, *findLog) {
	t.Helper()
	log := &findLog{}
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if ev.DatabaseName == db && (ev.CommandName == "find" || ev.CommandName == "getMore") {
			log.mu.Lock()
			log.cmds = append(log.cmds, append(bson.Raw(nil), ev.Command...))
			log.mu.Unlock()
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(t)).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client, log
}

// TestFindPagesOnServer: when no document the server returns can be left
// out (the rule filter exact, and every role the caller may get reading
// whole documents while the client filter and sort read only _id, or
// reading every path they read), the server takes skip and limit: one
// find command carrying them, and the page the raw driver returns.
// Otherwise the gate counts readable documents over one cursor, and
// answers the same page.
func TestFindPagesOnServer(t *testing.T) {
	t.Parallel()
	plain := rulegatetest.Database(t)
	client, log := monitored(t, plain.Name())
	ctx := context.Background()
	var docs []any
	for i := range 60 {
		owner, team := "u", []string{"t0", "t1"}[i%2]
		if i%3 == 0 {
			owner = "a1"
		}
		docs = append(docs, bson.D{{Key: "_id", Value: 59 - i}, {Key: "owner_id", Value: owner}, {Key: "team", Value: team}, {Key: "title", Value: fmt.Sprintf("n%02d", i)},
			{Key: "meta", Value: bson.D{{Key: "tags", Value: bson.A{"x", bson.D{{Key: "k", Value: i}}}}}}})
	}
	if _, err := plain.Collection("whole").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Collection("partial").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	fsys := rulesFS(plain.Name(), pageRules, "whole")
	for k, v := range rulesFS(plain.Name(), `"roles": [
		{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true},
		{"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "fields": {"_id": {"read": true}, "title": {"read": true}}}]`, "partial") {
		fsys[k] = v
	}
	g := newGate(t, client, fsys)
	u := user(t, `{"id": "a1", "type": "normal", "custom_data": {"teamIds": ["t0"]}}`)
	// The caller reads a1's notes and team t0's: 40 of the 60, _id
	// descending in insertion order.
	var want []int32
	for i := range 60 {
		if i%3 == 0 || i%2 == 0 {
			want = append(want, int32(59-i))
		}
	}
	sortedWant := append([]int32(nil), want...)
	for i := range sortedWant {
		sortedWant[i] = want[len(want)-1-i]
	}
	for _, tc := range []struct {
		coll, name  string
		filter      bson.D
		sort        bson.D
		skip, limit int64
		// pushed: 1 the server must take skip, -1 it must not, 0 either
		// (the answer is the same).
		pushed int
		want   []int32
	}{
		{"whole", "sort by _id", bson.D{}, bson.D{{Key: "_id", Value: 1}}, 30, 5, 1, sortedWant[30:35]},
		{"whole", "filter on _id", bson.D{{Key: "_id", Value: bson.D{{Key: "$gte", Value: 10}}}}, bson.D{{Key: "_id", Value: -1}}, 3, 2, 1, []int32{want[3], want[4]}},
		{"whole", "sort by another field", bson.D{}, bson.D{{Key: "title", Value: 1}}, 30, 5, 0, want[30:35]},
		// The teammate reads _id and title only: sorted by _id, which
		// both roles read in every note, the server pages
		// (TestFindPagesOnServerForFields); filtered on meta, which the
		// teammate cannot read, the teammate's notes are left out, and
		// the gate counts the owner's.
		{"partial", "a role reads some fields", bson.D{}, bson.D{{Key: "_id", Value: 1}}, 30, 5, 1, sortedWant[30:35]},
		{"partial", "a filter on a field a role cannot read", bson.D{{Key: "meta", Value: bson.D{{Key: "$exists", Value: true}}}}, bson.D{{Key: "_id", Value: 1}}, 3, 5, -1, []int32{11, 14, 17, 20, 23}},
	} {
		t.Run(tc.coll+"/"+tc.name, func(t *testing.T) {
			coll := g.For(u).Database(plain.Name()).Collection(tc.coll)
			log.take()
			cur, err := coll.Find(ctx, tc.filter, options.Find().SetSort(tc.sort).SetSkip(tc.skip).SetLimit(tc.limit))
			if err != nil {
				t.Fatal(err)
			}
			var got []struct {
				ID int32 `bson:"_id"`
			}
			if err := cur.All(ctx, &got); err != nil {
				t.Fatal(err)
			}
			ids := make([]int32, len(got))
			for i, d := range got {
				ids[i] = d.ID
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Fatalf("got %v, want %v", ids, tc.want)
			}
			cmds := log.take()
			if tc.coll == "whole" {
				// Read whole: the very documents the raw driver returns
				// for the rule filter AND the client filter.
				rf, _, err := g.Program().ReadFilter(ctx, evaluator.Caller{Namespace: plain.Name() + ".whole", Inputs: expansion.Inputs{User: u}})
				if err != nil {
					t.Fatal(err)
				}
				rawCur, err := plain.Collection("whole").Find(ctx, mql.And(tc.filter, rf), options.Find().SetSort(tc.sort).SetSkip(tc.skip).SetLimit(tc.limit))
				if err != nil {
					t.Fatal(err)
				}
				var rawDocs, gateDocs []bson.Raw
				if err := rawCur.All(ctx, &rawDocs); err != nil {
					t.Fatal(err)
				}
				cur, err := coll.Find(ctx, tc.filter, options.Find().SetSort(tc.sort).SetSkip(tc.skip).SetLimit(tc.limit))
				if err != nil {
					t.Fatal(err)
				}
				if err := cur.All(ctx, &gateDocs); err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(gateDocs) != fmt.Sprint(rawDocs) {
					t.Fatalf("gate %v\nraw  %v", gateDocs, rawDocs)
				}
			}
			skip, hasSkip := cmds[0].Lookup("skip").AsInt64OK()
			switch {
			case tc.pushed > 0 && (len(cmds) != 1 || !hasSkip || skip != tc.skip):
				t.Fatalf("want one find with skip %d, got %v", tc.skip, cmds)
			case tc.pushed < 0 && hasSkip:
				t.Fatalf("the server was given skip %d: it cannot know which documents the gate leaves out", skip)
			}
		})
	}
}

// TestCursorAllAsDriver: Cursor.All fills results as *mongo.Cursor.All
// does: into a slice of documents or structs, over the elements a
// pre-filled slice already holds, through a pointer to an interface
// holding a slice, and with the driver's error for anything else.
func TestCursorAllAsDriver(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	docs := []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "title", Value: "one"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 7}},
	}
	if _, err := db.Collection("c").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	g := newGate(t, db.Client(), rulesFS(db.Name(), `"roles": [{"name": "all", "apply_when": {}, "read": true}]`, "c"))
	gated := g.For(user(t, `{"id": "a1", "type": "normal"}`)).Database(db.Name()).Collection("c")
	type note struct {
		ID    int    `bson:"_id"`
		Title string `bson:"title"`
		N     int    `bson:"n"`
	}
	type outcome struct {
		err     string
		results any
	}
	all := func(find func() (interface {
		All(context.Context, any) error
	}, error), results any) outcome {
		cur, err := find()
		if err != nil {
			t.Fatal(err)
		}
		err = cur.All(ctx, results)
		if v := reflect.ValueOf(results); v.Kind() == reflect.Pointer {
			results = v.Elem().Interface()
		}
		return outcome{fmt.Sprint(err), results}
	}
	sorted := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}})
	raw := func() (interface {
		All(context.Context, any) error
	}, error) {
		return db.Collection("c").Find(ctx, bson.D{}, sorted)
	}
	viaGate := func() (interface {
		All(context.Context, any) error
	}, error) {
		return gated.Find(ctx, bson.D{}, sorted)
	}
	for _, tc := range []struct {
		name  string
		fresh func() any
	}{
		{"documents", func() any { return &[]bson.M{} }},
		{"raw documents", func() any { return &[]bson.Raw{} }},
		{"structs", func() any { return &[]note{} }},
		{"a pre-filled slice", func() any { return &[]note{{ID: 9, Title: "old", N: 3}, {ID: 8}, {ID: 7}} }},
		{"an interface holding a slice", func() any { var x any = []bson.M{}; return &x }},
		{"not a pointer", func() any { return []bson.M{} }},
		{"a pointer to a map", func() any { return &bson.M{} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, got := all(raw, tc.fresh()), all(viaGate, tc.fresh())
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("gate:   %+v\ndriver: %+v", got, want)
			}
		})
	}
}

// teammateRules: the notes API's owner reads whole notes, a teammate every
// field but private.
const teammateRules = `"roles": [
	{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true},
	{"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "fields": {"private": {"read": false}}, "additional_fields": {"read": true}}
]`

// TestFindPagesOnServerForFields: a filter and sort on fields every role
// the caller may get reads (evaluator Bound.ReadsPaths), with a teammate
// who cannot read private, are paged by the server: one find carrying
// skip and limit, and the page a handwritten raw-driver handler returns
// (its filter written out, private removed from the teammate's notes),
// byte for byte. Sorted by private, or filtered on it, the query streams
// and answers as before: the owner's notes only, since the teammate's
// hide private.
func TestFindPagesOnServerForFields(t *testing.T) {
	t.Parallel()
	plain := rulegatetest.Database(t)
	client, log := monitored(t, plain.Name())
	ctx := context.Background()
	var docs []any
	for i := range 60 {
		d := bson.D{{Key: "_id", Value: i}, {Key: "owner_id", Value: "u"}, {Key: "team", Value: []string{"t0", "t1"}[i%2]},
			{Key: "title", Value: fmt.Sprintf("n%02d", (i*7)%60)}, {Key: "status", Value: []string{"open", "open", "done", "done"}[i%4]}}
		if i%3 == 0 {
			d[1].Value = "a1"
		}
		switch i % 10 {
		case 0: // no private field
		case 5:
			d = append(d, bson.E{Key: "private", Value: nil})
		default:
			d = append(d, bson.E{Key: "private", Value: fmt.Sprintf("p%02d", (i*11)%60)})
		}
		d = append(d, bson.E{Key: "meta", Value: bson.D{{Key: "tags", Value: bson.A{"x", bson.D{{Key: "k", Value: i}}}}}})
		docs = append(docs, d)
	}
	if _, err := plain.Collection("notes").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	g := newGate(t, client, rulesFS(plain.Name(), teammateRules, "notes"))
	coll := g.For(user(t, `{"id": "a1", "type": "normal", "custom_data": {"teamIds": ["t0"]}}`)).Database(plain.Name()).Collection("notes")
	// The handwritten handler: a1's notes and team t0's; the teammate's
	// without private.
	mine := bson.D{{Key: "owner_id", Value: "a1"}}
	readable := bson.D{{Key: "$or", Value: bson.A{mine, bson.D{{Key: "team", Value: bson.D{{Key: "$in", Value: bson.A{"t0"}}}}}}}}
	open := bson.D{{Key: "status", Value: "open"}}
	for _, tc := range []struct {
		name         string
		filter, sort bson.D
		skip, limit  int64
		// pushed: the server takes skip and limit; otherwise the raw
		// handler reads only the owner's notes (scope).
		pushed bool
		scope  bson.D
		n      int
	}{
		{"list", open, bson.D{{Key: "title", Value: 1}}, 0, 7, true, readable, 7},
		{"page", open, bson.D{{Key: "title", Value: 1}}, 5, 7, true, readable, 7},
		{"last page", open, bson.D{{Key: "title", Value: -1}}, 15, 7, true, readable, 5},
		{"a readable embedded field", bson.D{{Key: "meta.tags.k", Value: bson.D{{Key: "$gte", Value: 10}}}}, bson.D{{Key: "status", Value: 1}, {Key: "title", Value: 1}}, 3, 9, true, readable, 9},
		{"sorted by the hidden field", open, bson.D{{Key: "private", Value: 1}, {Key: "_id", Value: 1}}, 2, 5, false, mine, 5},
		{"filtered on the hidden field", bson.D{{Key: "private", Value: bson.D{{Key: "$gte", Value: "p"}}}}, bson.D{{Key: "title", Value: 1}}, 2, 5, false, mine, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := options.Find().SetSort(tc.sort).SetSkip(tc.skip).SetLimit(tc.limit)
			log.take()
			cur, err := coll.Find(ctx, tc.filter, o)
			if err != nil {
				t.Fatal(err)
			}
			var got []bson.Raw
			if err := cur.All(ctx, &got); err != nil {
				t.Fatal(err)
			}
			cmds := log.take()
			rawCur, err := plain.Collection("notes").Find(ctx, bson.D{{Key: "$and", Value: bson.A{tc.filter, tc.scope}}}, o)
			if err != nil {
				t.Fatal(err)
			}
			var want []bson.Raw
			if err := rawCur.All(ctx, &want); err != nil {
				t.Fatal(err)
			}
			for i, d := range want {
				if d.Lookup("owner_id").StringValue() != "a1" {
					want[i] = without(t, d, "private")
				}
			}
			if len(want) != tc.n {
				t.Fatalf("the raw handler returns %d notes, want %d", len(want), tc.n)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("gate %v\nraw  %v", got, want)
			}
			for i := range got {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("note %d: gate %x\nraw %x", i, got[i], want[i])
				}
			}
			skip, hasSkip := cmds[0].Lookup("skip").AsInt64OK()
			limit, hasLimit := cmds[0].Lookup("limit").AsInt64OK()
			switch {
			case tc.pushed && (len(cmds) != 1 || hasSkip != (tc.skip > 0) || skip != tc.skip || !hasLimit || limit != tc.limit):
				t.Fatalf("want one find with skip %d and limit %d, got %v", tc.skip, tc.limit, cmds)
			case !tc.pushed && hasSkip:
				t.Fatalf("the server was given skip %d: it cannot know which notes the gate leaves out", skip)
			}
		})
	}
}

// without returns doc without its field key.
func without(t testing.TB, doc bson.Raw, key string) bson.Raw {
	t.Helper()
	elems, err := doc.Elements()
	if err != nil {
		t.Fatal(err)
	}
	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if e.Key() != key {
			v := e.Value()
			out = bsoncore.AppendValueElement(out, e.Key(), bsoncore.Value{Type: bsoncore.Type(v.Type), Data: v.Value})
		}
	}
	out, err = bsoncore.AppendDocumentEnd(out, idx)
	if err != nil {
		t.Fatal(err)
	}
	return bson.Raw(out)
}
