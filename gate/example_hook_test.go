package gate_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The decision hook receives every decision for an audit log: here a
// read, an update and an update that would hand the note to another user,
// denied with leaving-scope. LogDecisions writes them with log/slog
// (denials at Info, allowed decisions at Debug). (Starts the embedded
// server.)
func ExampleWithDecisionHook() {
	ctx := context.Background()
	uri, stop, err := rulegatetest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	db := client.Database("example_hook")
	if err := db.Drop(ctx); err != nil {
		log.Fatal(err)
	}
	if _, err := db.Collection("notes").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner", Value: "u1"}}); err != nil {
		log.Fatal(err)
	}
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/example_hook/notes/rules.json": {Data: []byte(`{
		"database": "example_hook", "collection": "notes",
		"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true}]}`)}})
	if err != nil {
		log.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		log.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output
			}
			return a
		},
	}))
	g, err := gate.New(client, prog, gate.WithDecisionHook(gate.LogDecisions(logger)))
	if err != nil {
		log.Fatal(err)
	}
	u1, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		log.Fatal(err)
	}
	notes := g.For(u1).Database(db.Name()).Collection("notes")
	id := bson.D{{Key: "_id", Value: 1}}
	_ = notes.FindOne(ctx, id).Err()
	_, _ = notes.UpdateOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "x"}}}})
	_, err = notes.UpdateOne(ctx, id, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "u2"}}}})
	fmt.Println(err != nil)
	// Output:
	// level=DEBUG msg="gate: allowed" ns=example_hook.notes op=FindOne action=read role=owner reason=allowed _id="{\"$numberInt\":\"1\"}"
	// level=DEBUG msg="gate: allowed" ns=example_hook.notes op=UpdateOne action=write role=owner reason=allowed _id="{\"$numberInt\":\"1\"}"
	// level=INFO msg="gate: denied" ns=example_hook.notes op=UpdateOne action=write role=owner reason=leaving-scope _id="{\"$numberInt\":\"1\"}"
	// true
}

// LogDecisions writes decision events with log/slog; here a denial that
// names its field, at Info, and an allowed read, at Debug, which this
// logger leaves out.
func ExampleLogDecisions() {
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // stable output
			}
			return a
		},
	}))
	hook := gate.LogDecisions(logger)
	ctx := context.Background()
	id := bson.RawValue{Type: bson.TypeInt32, Value: bsoncore.AppendInt32(nil, 7)}
	hook(ctx, gate.DecisionEvent{Namespace: "app.notes", Op: "UpdateOne", Action: evaluator.ActionWrite,
		Role: "teammate", Reason: evaluator.ReasonFieldNotWritable, Field: "title", ID: id})
	hook(ctx, gate.DecisionEvent{Namespace: "app.notes", Op: "Find", Action: evaluator.ActionRead,
		Allowed: true, Role: "owner", Reason: evaluator.ReasonAllowed, ID: id})
	// Output:
	// level=INFO msg="gate: denied" ns=app.notes op=UpdateOne action=write role=teammate reason=field-not-writable field=title _id="{\"$numberInt\":\"7\"}"
}
