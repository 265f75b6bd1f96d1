package mongotest_test

import (
	"context"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/internal/mongotest"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	db := mongotest.Database(t)
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
	a, b := mongotest.Database(t), mongotest.Database(t)
	if a.Name() == b.Name() {
		t.Fatalf("two databases share the name %q", a.Name())
	}
	if len(a.Name()) > 63 {
		t.Fatalf("database name %q longer than 63 bytes", a.Name())
	}
}
