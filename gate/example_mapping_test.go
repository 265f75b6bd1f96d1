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

// The rules name database "app"; a test runs them against a database of
// its own. Callers keep the rules' names; a collection without rules (a
// typo) is denied, not empty.
func ExampleWithDatabaseMapping() {
	uri, stop, err := rulegatetest.Start() // MONGODB_URI, else the embedded server
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	ctx := context.Background()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	defer client.Database("app_example_test").Drop(ctx)

	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(`{
		"database": "app", "collection": "notes",
		"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"},
			"document_filters": {"read": {"owner": "%%user.id"}, "write": {"owner": "%%user.id"}},
			"read": true, "write": true, "insert": true, "delete": true}]}`)}})
	if err != nil {
		log.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		log.Fatal(err)
	}
	g, err := gate.New(client, prog, gate.WithDatabaseMapping(map[string]string{"app": "app_example_test"}))
	if err != nil {
		log.Fatal(err)
	}
	u, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		log.Fatal(err)
	}
	db := g.For(u).Database("app")
	if _, err := db.Collection("notes").InsertOne(ctx, bson.D{{Key: "owner", Value: "u1"}, {Key: "title", Value: "mine"}}); err != nil {
		log.Fatal(err)
	}
	n, _ := client.Database("app_example_test").Collection("notes").CountDocuments(ctx, bson.D{})
	fmt.Println("stored in app_example_test.notes:", n)

	_, err = db.Collection("notez").Find(ctx, bson.D{})
	var de *gate.DeniedError
	if errors.As(err, &de) {
		fmt.Println(de.Namespace, de.Reason)
	}
	// Output:
	// stored in app_example_test.notes: 1
	// app.notez no-rules
}
