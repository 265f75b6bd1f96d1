package gate_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// counted is a gate whose client counts the find and getMore commands it
// sends to one database.
type counted struct {
	db       *mongo.Database // through the counting client
	g        *gate.Gate
	commands atomic.Int64
}

func newCounted(tb testing.TB) *counted {
	tb.Helper()
	plain := rulegatetest.Database(tb)
	c := &counted{}
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if ev.DatabaseName == plain.Name() && (ev.CommandName == "find" || ev.CommandName == "getMore") {
			c.commands.Add(1)
		}
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(tb)).SetMonitor(mon))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	c.db = client.Database(plain.Name())
	if c.g, err = gate.New(client, loadProgram(tb, plain.Name())); err != nil {
		tb.Fatal(err)
	}
	return c
}

// seedHidden stores n notes of bob's (team red) whose secret alice cannot
// read, then readable ones: every other note from _id n on is alice's own
// (readable secret) when mixed, none otherwise.
func seedHidden(tb testing.TB, db *mongo.Database, hidden, readable int) {
	tb.Helper()
	docs := make([]any, 0, hidden+readable)
	for i := 0; i < hidden; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: i}, {Key: "owner_id", Value: "b1"}, {Key: "team", Value: "red"}, {Key: "title", Value: fmt.Sprintf("b%05d", i)}, {Key: "secret", Value: fmt.Sprintf("s%05d", i)}})
	}
	for i := 0; i < readable; i++ {
		docs = append(docs, bson.D{{Key: "_id", Value: hidden + i}, {Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: fmt.Sprintf("a%05d", i)}, {Key: "secret", Value: fmt.Sprintf("t%05d", i)}})
	}
	if len(docs) == 0 {
		return
	}
	if _, err := db.Collection("notes").InsertMany(context.Background(), docs); err != nil {
		tb.Fatal(err)
	}
}

// TestCursorStreams: a Find that must leave documents out reads one
// server cursor, batch after batch, instead of re-opening it with a
// growing skip for each document left out; it stops at the limit.
func TestCursorStreams(t *testing.T) {
	t.Parallel()
	c := newCounted(t)
	ctx := context.Background()
	const hidden = 1500
	seedHidden(t, c.db, hidden, 3)
	alice := c.g.For(user(t, `{"id": "a1", "type": "normal", "custom_data": {"team": "red"}}`)).Database(c.db.Name()).Collection("notes")
	bySecret := bson.D{{Key: "secret", Value: 1}}

	c.commands.Store(0)
	var m bson.M
	if err := alice.FindOne(ctx, bson.D{}, options.FindOne().SetSort(bySecret)).Decode(&m); err != nil || m["_id"] != int32(hidden) {
		t.Fatalf("FindOne sorted by secret: %v, %v; want alice's first note", m, err)
	}
	if n := c.commands.Load(); n > 20 {
		t.Errorf("FindOne sorted by a hidden field over %d hidden notes sent %d find/getMore commands, want a handful", hidden, n)
	}
	t.Logf("FindOne past %d hidden notes: %d commands", hidden, c.commands.Load())

	// Skip and limit count readable documents only.
	c.commands.Store(0)
	cur, err := alice.Find(ctx, bson.D{}, options.Find().SetSort(bySecret).SetSkip(1).SetLimit(1))
	if err != nil {
		t.Fatal(err)
	}
	var got []bson.M
	if err := cur.All(ctx, &got); err != nil || len(got) != 1 || got[0]["_id"] != int32(hidden+1) {
		t.Fatalf("skip 1 limit 1: %v, %v; want alice's second note", got, err)
	}
	if n := c.commands.Load(); n > 20 {
		t.Errorf("Find skip 1 limit 1 sent %d commands", n)
	}
	// Nothing readable: the whole collection is read once.
	c.commands.Store(0)
	err = alice.FindOne(ctx, bson.D{{Key: "owner_id", Value: "b1"}}, options.FindOne().SetSort(bySecret)).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("FindOne of bob's notes by secret: %v", err)
	}
	if n := c.commands.Load(); n > 20 {
		t.Errorf("FindOne matching nothing readable sent %d commands", n)
	}
	// A limit the readable documents reach: the cursor stops there.
	cur, err = alice.Find(ctx, bson.D{}, options.Find().SetSort(bySecret).SetLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := cur.All(ctx, &got); err != nil || len(got) != 2 || got[0]["_id"] != int32(hidden) || got[1]["_id"] != int32(hidden+1) {
		t.Fatalf("limit 2: %v, %v", got, err)
	}
	// No limit, a batch size: every readable document, once.
	cur, err = alice.Find(ctx, bson.D{}, options.Find().SetSort(bySecret).SetBatchSize(7))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := cur.All(ctx, &got); err != nil || len(got) != 3 {
		t.Fatalf("no limit: %d documents, %v", len(got), err)
	}
	// The fast path: nothing can be left out (no client filter or sort
	// reading a field, exact rules), so the server takes skip and limit.
	c.commands.Store(0)
	cur, err = alice.Find(ctx, bson.D{}, options.Find().SetSkip(hidden).SetLimit(2))
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	if err := cur.All(ctx, &got); err != nil || len(got) != 2 {
		t.Fatalf("skip %d limit 2: %v, %v", hidden, got, err)
	}
	if n := c.commands.Load(); n != 1 {
		t.Errorf("a Find the server can skip and limit sent %d commands, want 1", n)
	}
}
