package gate_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// lsidRecorder records the lsid of every command a client sends to one
// database.
type lsidRecorder struct {
	db   string
	mu   sync.Mutex
	cmds []sentCommand
}

type sentCommand struct {
	name string
	lsid bson.Raw // nil when the command carries none
}

func (r *lsidRecorder) started(_ context.Context, e *event.CommandStartedEvent) {
	if e.DatabaseName != r.db {
		return
	}
	var lsid bson.Raw
	if v, err := e.Command.LookupErr("lsid"); err == nil {
		lsid, _ = v.DocumentOK()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, sentCommand{name: e.CommandName, lsid: bytes.Clone(lsid)})
}

// take returns the commands recorded since the last take.
func (r *lsidRecorder) take() []sentCommand {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.cmds
	r.cmds = nil
	return out
}

// monitoredEnv is newEnv with a gate over a second client whose commands
// to the test's database are recorded.
func monitoredEnv(t *testing.T) (*env, *lsidRecorder) {
	t.Helper()
	e := newEnv(t)
	rec := &lsidRecorder{db: e.db.Name()}
	client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(t)).SetTimeout(30 * time.Second).
		SetMonitor(&event.CommandMonitor{Started: rec.started}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	g, err := gate.New(client, loadProgram(t, e.db.Name()))
	if err != nil {
		t.Fatal(err)
	}
	e.g = g
	return e, rec
}

// TestSessionUsed: every command the gate sends for a call whose ctx
// carries a session (mongo.NewSessionContext) carries that session's
// lsid: the gate's own reads (the document picked, the denial's check,
// the scans of UpdateMany, DeleteMany, CountDocuments, Distinct and
// Aggregate), its pinned writes, the insert of an upsert, and the second
// server cursor a Find opens when documents were left out, even when
// Next is given a ctx without the session, and a Watch's aggregate.
func TestSessionUsed(t *testing.T) {
	e, rec := monitoredEnv(t)
	ctx := context.Background()
	client := e.g.System().Client()
	sess, err := client.StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	sctx := mongo.NewSessionContext(ctx, sess)
	want := sess.ID()
	alice := e.as("alice")

	calls := []struct {
		name string
		call func(context.Context) error
	}{
		{"UpdateOne", func(ctx context.Context) error {
			_, err := alice.UpdateOne(ctx, bson.D{{Key: "title", Value: "alice's plan"}}, set("count", 1))
			return err
		}},
		{"UpdateOne denied", func(ctx context.Context) error {
			_, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, set("title", "mine"))
			if errors.Is(err, gate.ErrDenied) {
				return nil
			}
			return err
		}},
		{"UpdateOne upsert", func(ctx context.Context) error {
			_, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 10}, {Key: "owner_id", Value: "a1"}}, set("title", "new"), options.UpdateOne().SetUpsert(true))
			return err
		}},
		{"UpdateMany", func(ctx context.Context) error {
			_, err := alice.UpdateMany(ctx, bson.D{{Key: "team", Value: "red"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}})
			return err
		}},
		{"FindOneAndUpdate", func(ctx context.Context) error {
			return alice.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, set("count", 5)).Err()
		}},
		{"CountDocuments", func(ctx context.Context) error {
			_, err := alice.CountDocuments(ctx, bson.D{{Key: "count", Value: bson.D{{Key: "$gt", Value: 0}}}})
			return err
		}},
		{"EstimatedDocumentCount", func(ctx context.Context) error {
			_, err := alice.EstimatedDocumentCount(ctx)
			return err
		}},
		{"Distinct", func(ctx context.Context) error {
			return alice.Distinct(ctx, "title", bson.D{}).Err()
		}},
		{"Aggregate", func(ctx context.Context) error {
			cur, err := e.as("carol").Aggregate(ctx, bson.A{bson.D{{Key: "$match", Value: bson.D{}}}})
			if err != nil {
				return err
			}
			return cur.All(ctx, &[]bson.M{})
		}},
		{"Find, Next without the session", func(ctx context.Context) error {
			// Bob's note 2 hides its secret from alice: left out, so the
			// first server cursor (limit 1) is not enough and the gate
			// opens a second one.
			cur, err := alice.Find(ctx, bson.D{{Key: "secret", Value: bson.D{{Key: "$exists", Value: true}}}},
				options.Find().SetSort(bson.D{{Key: "_id", Value: -1}}).SetLimit(1))
			if err != nil {
				return err
			}
			var got []bson.M
			if err := cur.All(context.Background(), &got); err != nil {
				return err
			}
			if len(got) != 1 || got[0]["_id"] != int32(1) {
				t.Errorf("Find: %v, want alice's note 1", got)
			}
			return nil
		}},
		{"Watch", func(ctx context.Context) error {
			// The embedded server refuses the change stream's aggregate,
			// which is sent all the same.
			return watched(alice.Watch(ctx, nil))
		}},
		{"BulkWrite", func(ctx context.Context) error {
			_, err := alice.BulkWrite(ctx, []mongo.WriteModel{
				mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 11}, {Key: "owner_id", Value: "a1"}}),
				mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 11}}).SetUpdate(set("title", "eleven")),
				mongo.NewDeleteManyModel().SetFilter(bson.D{{Key: "title", Value: "eleven"}}),
			})
			return err
		}},
		{"InsertOne", func(ctx context.Context) error {
			_, err := alice.InsertOne(ctx, bson.D{{Key: "_id", Value: 12}, {Key: "owner_id", Value: "a1"}})
			return err
		}},
		{"InsertMany", func(ctx context.Context) error {
			_, err := alice.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: 13}, {Key: "owner_id", Value: "a1"}}, bson.D{{Key: "_id", Value: 14}, {Key: "owner_id", Value: "a1"}}})
			return err
		}},
		{"FindOne", func(ctx context.Context) error {
			return alice.FindOne(ctx, bson.D{{Key: "_id", Value: 12}}).Err()
		}},
		{"UpdateByID", func(ctx context.Context) error {
			_, err := alice.UpdateByID(ctx, 12, set("title", "twelve"))
			return err
		}},
		{"FindOneAndReplace", func(ctx context.Context) error {
			return alice.FindOneAndReplace(ctx, bson.D{{Key: "_id", Value: 12}}, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "new"}}).Err()
		}},
		{"FindOneAndDelete", func(ctx context.Context) error {
			return alice.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 13}}).Err()
		}},
		{"DeleteOne", func(ctx context.Context) error {
			_, err := alice.DeleteOne(ctx, bson.D{{Key: "title", Value: "new"}})
			return err
		}},
		{"DeleteMany", func(ctx context.Context) error {
			_, err := alice.DeleteMany(ctx, bson.D{{Key: "owner_id", Value: "a1"}})
			return err
		}},
	}
	rec.take()
	for _, c := range calls {
		if err := c.call(sctx); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cmds := rec.take()
		if len(cmds) == 0 {
			t.Errorf("%s: no command recorded", c.name)
		}
		for _, cmd := range cmds {
			if !bytes.Equal(cmd.lsid, want) {
				t.Errorf("%s: %s sent with lsid %v, want the caller's session %v", c.name, cmd.name, cmd.lsid, want)
			}
		}
	}
	// The recorder sees the lsid at all: without the session, the
	// driver's implicit sessions carry other ids.
	if _, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 3}}, set("count", 1)); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range rec.take() {
		if bytes.Equal(cmd.lsid, want) {
			t.Errorf("without the session, %s sent with the session's lsid", cmd.name)
		}
	}
}

// TestTransaction: gated writes inside a transaction commit or abort
// with it, and a denial inside the callback aborts it. FerretDB, the
// embedded server, has no transactions: this test runs only under
// MONGODB_URI (a replica set or a sharded cluster).
func TestTransaction(t *testing.T) {
	if os.Getenv(rulegatetest.EnvURI) == "" {
		t.Skip("the embedded server (FerretDB) has no transactions: run this test with MONGODB_URI set to a replica set")
	}
	e := newEnv(t)
	ctx := context.Background()
	sess, err := e.g.System().Client().StartSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.EndSession(ctx)
	alice := e.as("alice")

	// Committed: both writes land.
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		if _, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("title", "in a transaction")); err != nil {
			return nil, err
		}
		// Read your own write inside the transaction.
		var got bson.M
		if err := alice.FindOne(ctx, bson.D{{Key: "title", Value: "in a transaction"}}).Decode(&got); err != nil {
			return nil, err
		}
		_, err := alice.InsertOne(ctx, bson.D{{Key: "_id", Value: 20}, {Key: "owner_id", Value: "a1"}})
		return nil, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := e.doc(1); d["title"] != "in a transaction" || e.doc(20) == nil {
		t.Errorf("after commit: %v, %v", d, e.doc(20))
	}

	// A denial inside the callback aborts the earlier write.
	_, err = sess.WithTransaction(ctx, func(ctx context.Context) (any, error) {
		if _, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("title", "aborted")); err != nil {
			return nil, err
		}
		_, err := alice.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, set("title", "not hers"))
		return nil, err
	})
	if !errors.Is(err, gate.ErrDenied) {
		t.Fatalf("transaction with a denied write: %v, want the denial", err)
	}
	if d := e.doc(1); d["title"] != "in a transaction" {
		t.Errorf("after abort: %v, want the committed title", d)
	}
	// Not visible outside before commit.
	if err := sess.StartTransaction(); err != nil {
		t.Fatal(err)
	}
	sctx := mongo.NewSessionContext(ctx, sess)
	if _, err := alice.UpdateOne(sctx, bson.D{{Key: "_id", Value: 1}}, set("title", "pending")); err != nil {
		t.Fatal(err)
	}
	if d := e.doc(1); d["title"] != "in a transaction" {
		t.Errorf("outside the open transaction: %v", d)
	}
	if err := sess.AbortTransaction(ctx); err != nil {
		t.Fatal(err)
	}
	if d := e.doc(1); d["title"] != "in a transaction" {
		t.Errorf("after AbortTransaction: %v", d)
	}
}
