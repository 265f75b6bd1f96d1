package gate_test

import (
	"context"
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

// FindOneAndReplace replaces the caller's document and returns it with
// the fields the caller may read, projected; with upsert, a filter that
// matches nothing inserts the replacement, decided as an insert. Here
// each user may read and write their own profile, and read but not write
// its "flags", which a system function sets. (Starts the embedded server.)
func ExampleCollection_FindOneAndReplace() {
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
	db := client.Database("example_findoneandreplace")
	if err := db.Drop(ctx); err != nil {
		log.Fatal(err)
	}
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/example_findoneandreplace/profiles/rules.json": {Data: []byte(`{
		"database": "example_findoneandreplace", "collection": "profiles",
		"roles": [{"name": "self", "apply_when": {"userId": "%%user.id"},
			"fields": {"flags": {"read": true, "write": false}},
			"additional_fields": {"read": true, "write": true}, "insert": true}]}`)}})
	if err != nil {
		log.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		log.Fatal(err)
	}
	g, err := gate.New(client, prog)
	if err != nil {
		log.Fatal(err)
	}
	u1, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		log.Fatal(err)
	}
	profiles := g.For(u1).Database(db.Name()).Collection("profiles")

	// No profile yet: the upsert inserts {_id: 1, userId: "u1", color: "red"}.
	var after bson.D
	err = profiles.FindOneAndReplace(ctx,
		bson.D{{Key: "_id", Value: 1}, {Key: "userId", Value: "u1"}},
		bson.D{{Key: "userId", Value: "u1"}, {Key: "color", Value: "red"}},
		options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.After).
			SetProjection(bson.D{{Key: "color", Value: 1}})).Decode(&after)
	fmt.Println(after, err)

	// A replacement may not set a field the caller cannot write.
	err = profiles.FindOneAndReplace(ctx, bson.D{{Key: "userId", Value: "u1"}},
		bson.D{{Key: "userId", Value: "u1"}, {Key: "flags", Value: "admin"}}).Err()
	fmt.Println(err)

	// The pre-image of a second replacement.
	var before bson.M
	err = profiles.FindOneAndReplace(ctx, bson.D{{Key: "userId", Value: "u1"}},
		bson.D{{Key: "userId", Value: "u1"}, {Key: "color", Value: "blue"}}).Decode(&before)
	fmt.Println(before["color"], err)
	// Output:
	// {"_id":{"$numberInt":"1"},"color":"red"} <nil>
	// gate: example_findoneandreplace.profiles: FindOneAndReplace: write denied: field-not-writable (field "flags") (role "self") (gate/denied)
	// red <nil>
}
