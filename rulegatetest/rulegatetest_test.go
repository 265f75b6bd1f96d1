package rulegatetest_test

import (
	"context"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rulegatetest"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	coll := db.Collection("things")
	ctx := context.Background()

	id := bson.NewObjectID()
	if _, err := coll.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "name", Value: "widget"}, {Key: "n", Value: int32(3)}}); err != nil {
		t.Fatalf("InsertOne: %v", err)
	}
	var got struct {
		ID   bson.ObjectID `bson:"_id"`
		Name string        `bson:"name"`
		N    int32         `bson:"n"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "name", Value: "widget"}}).Decode(&got); err != nil {
		t.Fatalf("FindOne: %v", err)
	}
	if got.ID != id || got.Name != "widget" || got.N != 3 {
		t.Fatalf("FindOne = %+v, want {%v widget 3}", got, id)
	}
}

func TestDatabasesAreDistinct(t *testing.T) {
	t.Parallel()
	a, b := rulegatetest.Database(t), rulegatetest.Database(t)
	if a.Name() == b.Name() {
		t.Fatalf("two databases share the name %q", a.Name())
	}
	if len(a.Name()) > 63 {
		t.Fatalf("database name %q longer than 63 bytes", a.Name())
	}
}

func TestSharedServer(t *testing.T) {
	t.Parallel()
	if a, b := rulegatetest.URI(t), rulegatetest.URI(t); a != b {
		t.Fatalf("URI = %q, then %q: one server per test binary", a, b)
	}
}

// TestDatabaseDropped: the database a test got is gone once it ended.
func TestDatabaseDropped(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		db := rulegatetest.Database(t)
		name = db.Name()
		if _, err := db.Collection("c").InsertOne(context.Background(), bson.D{{Key: "x", Value: 1}}); err != nil {
			t.Fatal(err)
		}
	})
	names, err := rulegatetest.Client(t).ListDatabaseNames(context.Background(), bson.D{{Key: "name", Value: name}})
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 0 {
		t.Fatalf("database %s still exists after its test ended", name)
	}
}

// TestStart: a program's server of its own answers, and stops with stop.
func TestStart(t *testing.T) {
	if os.Getenv(rulegatetest.EnvURI) != "" {
		t.Skip("MONGODB_URI is set: Start returns it and starts nothing")
	}
	t.Parallel()
	uri, stop, err := rulegatetest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if uri == rulegatetest.URI(t) {
		t.Fatalf("Start returned the tests' shared server %s", uri)
	}
	ctx := context.Background()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(2 * time.Second).SetTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	if err := c.Ping(ctx, nil); err != nil {
		t.Fatalf("ping %s: %v", uri, err)
	}
	stop()
	stop() // a second call does nothing
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(ctx, nil) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("%s still answers after stop", uri)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestStartUsesMONGODB_URI(t *testing.T) {
	t.Setenv(rulegatetest.EnvURI, "mongodb://192.0.2.1:1/")
	uri, stop, err := rulegatetest.Start()
	if err != nil || uri != "mongodb://192.0.2.1:1/" {
		t.Fatalf("Start = %q, %v; want MONGODB_URI", uri, err)
	}
	stop()
}
