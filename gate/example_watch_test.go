package gate_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"testing/fstest"
	"time"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A realtime list of a team's notes: each event is decided for the
// teammate who watches, as Find decides a document, and the teammate
// never sees the owner's secret, nor an update of it. Stages other than
// $match are refused: they would see the events before redaction. The
// embedded server has no change streams, so the stream itself runs only
// with MONGODB_URI set to a replica set (there the example fails if an
// event is wrong); the output is the same either way.
func ExampleCollection_Watch() {
	uri, stop, err := rulegatetest.Start() // MONGODB_URI, else the embedded server
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Fatal(err)
	}
	defer client.Disconnect(ctx)
	defer client.Database("app_watch_example").Drop(ctx)

	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(`{
		"database": "app", "collection": "notes",
		"roles": [
			{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true},
			{"name": "teammate", "apply_when": {"team": "%%user.custom_data.team"},
			 "fields": {"_id": {"read": true}, "team": {"read": true}, "title": {"read": true}},
			 "additional_fields": {"read": false}}]}`)}})
	if err != nil {
		log.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		log.Fatal(err)
	}
	g, err := gate.New(client, prog, gate.WithDatabaseMapping(map[string]string{"app": "app_watch_example"}))
	if err != nil {
		log.Fatal(err)
	}
	bob, err := expansion.NewUserObject([]byte(`{"id": "b1", "custom_data": {"team": "red"}}`))
	if err != nil {
		log.Fatal(err)
	}
	notes := g.For(bob).Database("app").Collection("notes")

	_, err = notes.Watch(ctx, mongo.Pipeline{{{Key: "$project", Value: bson.D{{Key: "fullDocument.secret", Value: 1}}}}})
	var re *gate.RefusedError
	if errors.As(err, &re) {
		fmt.Println(re.Code, re.Ptr)
	}

	cs, err := notes.Watch(ctx, mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "operationType", Value: "update"}}}}})
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		return // the embedded server: no change streams
	}
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close(ctx)
	raw := g.System().Database("app").Collection("notes")
	if _, err := raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "plan"}, {Key: "secret", Value: "s"}}); err != nil {
		log.Fatal(err)
	}
	for _, set := range []bson.D{{{Key: "secret", Value: "t"}}, {{Key: "title", Value: "plan B"}}} {
		if _, err := raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: set}}); err != nil {
			log.Fatal(err)
		}
	}
	// The insert is not an update, the secret's update is bob's to know
	// nothing of: the first event bob gets is the title's.
	var ev struct {
		FullDocument      bson.M `bson:"fullDocument"`
		UpdateDescription struct {
			UpdatedFields bson.M `bson:"updatedFields"`
		} `bson:"updateDescription"`
	}
	if !cs.Next(ctx) {
		log.Fatal(cs.Err())
	}
	if err := cs.Decode(&ev); err != nil {
		log.Fatal(err)
	}
	if ev.UpdateDescription.UpdatedFields["title"] != "plan B" || len(ev.UpdateDescription.UpdatedFields) != 1 || ev.FullDocument["secret"] != nil {
		log.Fatalf("bob got %v", ev)
	}
	// Output:
	// gate/unsupported /0/$project
}
