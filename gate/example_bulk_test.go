package gate_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// exampleTasks starts the embedded server (or uses MONGODB_URI) and
// returns a Gate over a database "name" whose tasks collection each user
// reads and writes where "owner" is their id, and whose "board"
// collection every user reads whole; stop ends it all.
func exampleTasks(ctx context.Context, name string) (g *gate.Gate, db *mongo.Database, stop func()) {
	uri, stopServer, err := rulegatetest.Start()
	if err != nil {
		log.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	db = client.Database(name)
	if err := db.Drop(ctx); err != nil {
		log.Fatal(err)
	}
	rule := func(coll, body string) *fstest.MapFile {
		return &fstest.MapFile{Data: []byte(fmt.Sprintf(`{"database": %q, "collection": %q, %s}`, name, coll, body))}
	}
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/" + name + "/tasks/rules.json": rule("tasks", `"roles": [{"name": "owner",
			"apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true}]`),
		"data_sources/mongodb-atlas/" + name + "/board/rules.json": rule("board", `"roles": [{"name": "reader",
			"apply_when": {}, "read": true}]`),
	})
	if err != nil {
		log.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		log.Fatal(err)
	}
	if g, err = gate.New(client, prog); err != nil {
		log.Fatal(err)
	}
	return g, db, func() {
		_ = db.Drop(ctx)
		_ = client.Disconnect(ctx)
		stopServer()
	}
}

// BulkWrite runs each model as its own gated method. Unordered, every
// model runs and each failure is reported with its index; here the
// second model would hand the task to another user. (Starts the
// embedded server.)
func ExampleCollection_BulkWrite() {
	ctx := context.Background()
	g, db, stop := exampleTasks(ctx, "example_bulkwrite")
	defer stop()
	u1, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		log.Fatal(err)
	}
	tasks := g.For(u1).Database(db.Name()).Collection("tasks")

	res, err := tasks.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewInsertOneModel().SetDocument(bson.D{{Key: "_id", Value: 1}, {Key: "owner", Value: "u1"}, {Key: "done", Value: false}}),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 1}}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "u2"}}}}),
		mongo.NewUpdateOneModel().SetFilter(bson.D{{Key: "_id", Value: 2}, {Key: "owner", Value: "u1"}}).
			SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "done", Value: true}}}}).SetUpsert(true),
	}, options.BulkWrite().SetOrdered(false))
	fmt.Println(res.InsertedCount, res.UpsertedIDs)
	var be *gate.BulkWriteException
	if errors.As(err, &be) {
		for _, we := range be.WriteErrors {
			fmt.Println(we.Index, errors.Is(we.Err, gate.ErrDenied))
		}
	}
	// Output:
	// 1 map[2:2]
	// 1 true
}

// EstimatedDocumentCount is the server's estimate for a caller who reads
// every document of the collection, and CountDocuments of {} (the
// documents the caller may read) for anyone else. (Starts the embedded
// server.)
func ExampleCollection_EstimatedDocumentCount() {
	ctx := context.Background()
	g, db, stop := exampleTasks(ctx, "example_estimated")
	defer stop()
	docs := []any{
		bson.D{{Key: "owner", Value: "u1"}}, bson.D{{Key: "owner", Value: "u2"}}, bson.D{{Key: "owner", Value: "u2"}},
	}
	for _, coll := range []string{"tasks", "board"} {
		if _, err := db.Collection(coll).InsertMany(ctx, docs); err != nil {
			log.Fatal(err)
		}
	}
	u1, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		log.Fatal(err)
	}
	for _, coll := range []string{"tasks", "board"} {
		n, err := g.For(u1).Database(db.Name()).Collection(coll).EstimatedDocumentCount(ctx)
		fmt.Println(coll, n, err)
	}
	// Output:
	// tasks 1 <nil>
	// board 3 <nil>
}
