package gate_test

import (
	"context"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestDuplicateKeyWithheld: a write that collides with a unique index
// through the gate is still a duplicate-key error for the driver's
// helpers, but its message carries no key values (see withholdKeys).
func TestDuplicateKeyWithheld(t *testing.T) {
	ctx := context.Background()
	c, _ := inlineColl(t, `{"database": "db", "collection": "c",
		"roles": [{"name": "owner", "apply_when": {}, "insert": true, "read": true, "write": true}]}`,
		`{"_id": "k-1234", "owner": "u1"}`)
	_, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: "k-1234"}, {Key: "owner", Value: "u1"}})
	if !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("InsertOne: %v, want a duplicate key error", err)
	}
	if strings.Contains(err.Error(), "k-1234") || !strings.Contains(err.Error(), "withholds the key") {
		t.Errorf("InsertOne: %v", err)
	}
	_, err = c.InsertMany(ctx, []any{bson.D{{Key: "_id", Value: "k-1234"}, {Key: "owner", Value: "u1"}}})
	if !mongo.IsDuplicateKeyError(err) || strings.Contains(err.Error(), "k-1234") {
		t.Errorf("InsertMany: %v", err)
	}
}
