package gate_test

import (
	"context"
	"testing"

	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkFindOne compares a FindOne through the gate with the same
// FindOne on the raw collection, on the same server: the difference is the
// rules' cost per call (binding the caller, the rule filter, one Evaluate
// with fields, redaction).
func BenchmarkFindOne(b *testing.B) {
	db := mongotest.Database(b)
	ctx := context.Background()
	raw := db.Collection("notes")
	if _, err := raw.InsertMany(ctx, seed); err != nil {
		b.Fatal(err)
	}
	g, err := gate.New(db.Client(), loadProgram(b, db.Name()))
	if err != nil {
		b.Fatal(err)
	}
	alice := g.For(user(b, `{"id": "a1", "type": "normal", "custom_data": {"team": "red"}}`)).Database(db.Name()).Collection("notes")
	for _, bc := range []struct {
		name string
		id   int
	}{{"own", 1}, {"teammate", 2}} {
		filter := bson.D{{Key: "_id", Value: bc.id}}
		b.Run("raw/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m bson.Raw
				if err := raw.FindOne(ctx, filter).Decode(&m); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("gated/"+bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				var m bson.Raw
				if err := alice.FindOne(ctx, filter).Decode(&m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
