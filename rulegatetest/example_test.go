package rulegatetest_test

import (
	"context"
	"fmt"
	"log"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rulegatetest"
)

// A program (not a test) starts a server of its own: MONGODB_URI when set,
// else the embedded one, stopped by stop.
func ExampleStart() {
	uri, stop, err := rulegatetest.Start()
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

	coll := client.Database("example_start").Collection("notes")
	defer coll.Database().Drop(ctx)
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "title", Value: "hello"}}); err != nil {
		log.Fatal(err)
	}
	var note struct{ Title string }
	if err := coll.FindOne(ctx, bson.D{}).Decode(&note); err != nil {
		log.Fatal(err)
	}
	fmt.Println(note.Title)
	// Output: hello
}
