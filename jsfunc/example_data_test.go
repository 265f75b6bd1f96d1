package jsfunc_test

import (
	"context"
	"errors"
	"fmt"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
)

// exampleNotesApp: in app.notes each user reads and writes the notes it owns.
func exampleNotesApp() (*rules.App, *evaluator.Program) {
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(`{
		"database": "app", "collection": "notes",
		"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true}]}`)}})
	if err != nil {
		panic(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		panic(err)
	}
	return app, prog
}

// A function that runs as the user reads through the gate: bob's findOne
// of alice's note finds nothing, and his insert of a note for alice is
// denied; a system function reads it.
func ExampleMongoData() {
	app, prog := exampleNotesApp()
	db, stop := exampleDatabase()
	defer stop()
	ctx := context.Background()
	if _, err := db.Collection("notes").InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner", Value: "a1"}, {Key: "text", Value: "hi"}}); err != nil {
		panic(err)
	}
	g, err := gate.New(db.Client(), prog, gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if err != nil {
		panic(err)
	}
	data := jsfunc.MongoData(g, app)
	bob, _ := expansion.NewUserObject([]byte(`{"id": "b1"}`))

	notes, _ := data.Collection(ctx, jsfunc.As{User: bob}, "mongodb-atlas", "app", "notes")
	doc, err := notes.FindOne(ctx, nil, jsfunc.FindOptions{})
	fmt.Println("bob finds:", doc == nil, err)
	_, err = notes.InsertOne(ctx, mustRaw(`{"owner": "a1"}`))
	fmt.Println("bob inserts for alice:", errors.Is(err, gate.ErrDenied))

	system, _ := data.Collection(ctx, jsfunc.As{System: true}, "mongodb-atlas", "app", "notes")
	doc, _ = system.FindOne(ctx, nil, jsfunc.FindOptions{})
	fmt.Println("system finds:", doc)

	_, err = data.Collection(ctx, jsfunc.As{System: true}, "http", "app", "notes")
	fmt.Println(err)
	// Output:
	// bob finds: true <nil>
	// bob inserts for alice: true
	// system finds: {"_id": {"$numberInt":"1"},"owner": "a1","text": "hi"}
	// jsfunc: no MongoDB data source of that name: "http" (the app's are mongodb-atlas)
}

// MemoryData answers as MongoData does, over documents in memory; each
// MemoryData has its own copy of them.
func ExampleMemoryData() {
	app, prog := exampleNotesApp()
	ctx := context.Background()
	docs := map[string][]bson.Raw{"app.notes": {mustRaw(`{"_id": 1, "owner": "a1", "text": "hi"}`)}}
	data := jsfunc.MemoryData(app, prog, docs)
	alice, _ := expansion.NewUserObject([]byte(`{"id": "a1"}`))

	notes, _ := data.Collection(ctx, jsfunc.As{User: alice}, "mongodb-atlas", "app", "notes")
	res, _ := notes.UpdateOne(ctx, mustRaw(`{"_id": 1}`), mustRaw(`{"$set": {"text": "hello"}}`), jsfunc.UpdateOptions{})
	fmt.Println("modified:", res.ModifiedCount)
	_, err := notes.UpdateOne(ctx, mustRaw(`{"_id": 1}`), mustRaw(`{"$set": {"owner": "b1"}}`), jsfunc.UpdateOptions{})
	fmt.Println(err)
	doc, _ := notes.FindOne(ctx, nil, jsfunc.FindOptions{Projection: mustRaw(`{"text": 1}`)})
	fmt.Println(doc)
	counted, _ := notes.Aggregate(ctx, []bson.Raw{mustRaw(`{"$group": {"_id": "$owner", "n": {"$sum": 1}}}`)})
	fmt.Println(counted)
	_, err = notes.Aggregate(ctx, []bson.Raw{mustRaw(`{"$project": {"d": {"$dateTrunc": {"date": "$$NOW", "unit": "day"}}}}`)})
	fmt.Println(errors.Is(err, jsfunc.ErrMemoryUnsupported))
	// Output:
	// modified: 1
	// gate: app.notes: UpdateOne: write denied: leaving-scope (role "owner") (gate/denied)
	// {"_id": {"$numberInt":"1"},"text": "hello"}
	// [{"_id": "a1","n": {"$numberInt":"1"}}]
	// true
}

func mustRaw(ejson string) bson.Raw {
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(ejson), false, &r); err != nil {
		panic(err)
	}
	return r
}

// exampleDatabase starts a server of its own (the embedded test server,
// or MONGODB_URI's) and returns a database on it, dropped by stop.
func exampleDatabase() (*mongo.Database, func()) {
	uri, stopServer, err := rulegatetest.Start()
	if err != nil {
		panic(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		panic(err)
	}
	db := client.Database("jsfunc_example")
	return db, func() {
		_ = db.Drop(context.Background())
		_ = client.Disconnect(context.Background())
		stopServer()
	}
}
