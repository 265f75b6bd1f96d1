package gate_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestOperandsFailClosed: through the gate, on the server, a missing
// claim inside an array operand ({"$nin": [missing]}) shows and counts
// nothing and denies inserts (it used to be {"$nin": []}: every document);
// a claim holding a document the server reads as operators (the legacy
// {"$regex", "$options"} form) or undefined refuses reads with the
// evaluator's error instead of sending the filter, and denies inserts,
// which Evaluate alone decides (they used to be written).
func TestOperandsFailClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := rulegatetest.Database(t)
	rj := `{"database": "` + db.Name() + `", "collection": "ops", "roles": [
	  {"name": "not-banned", "apply_when": {"team": {"$nin": ["%%user.custom_data.banned"]}, "foo": {"$nin": "%%user.custom_data.legs"}, "bar": {"$ne": "%%user.custom_data.u"}},
	   "read": true, "write": true, "insert": true}]}`
	g := newGate(t, db.Client(), fstest.MapFS{"data_sources/mongodb-atlas/" + db.Name() + "/ops/rules.json": {Data: []byte(rj)}})
	raw := db.Collection("ops")
	if _, err := raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "team", Value: "t1"}, {Key: "foo", Value: "foo"}, {Key: "bar", Value: "bar"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, user string
		readErr    error // nil: reads see nothing
	}{
		{"missing claim", `{"id": "u1", "custom_data": {"legs": ["x"], "u": "y"}}`, nil},
		{"operator document claim", `{"id": "u1", "custom_data": {"banned": "t0", "legs": [{"$regex": "o", "$options": ""}], "u": "y"}}`, evaluator.ErrOperator},
		{"undefined claim", `{"id": "u1", "custom_data": {"banned": "t0", "legs": ["x"], "u": {"$undefined": true}}}`, evaluator.ErrUndefined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := g.For(user(t, tc.user)).Database(db.Name()).Collection("ops")
			n, err := c.CountDocuments(ctx, bson.D{})
			switch {
			case tc.readErr == nil && (err != nil || n != 0):
				t.Errorf("CountDocuments: %d, %v; want 0", n, err)
			case tc.readErr != nil && !errors.Is(err, tc.readErr):
				t.Errorf("CountDocuments: %d, %v; want %v", n, err, tc.readErr)
			}
			_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: 2}, {Key: "team", Value: "t1"}, {Key: "foo", Value: "foo"}, {Key: "bar", Value: "bar"}})
			if !errors.Is(err, gate.ErrDenied) {
				t.Errorf("InsertOne: %v; want a denial", err)
			}
			if n, err := raw.CountDocuments(ctx, bson.D{{Key: "_id", Value: 2}}); err != nil || n != 0 {
				t.Errorf("the denied insert was written (%d, %v)", n, err)
			}
		})
	}
	// With the claims, the same rules allow.
	c := g.For(user(t, `{"id": "u1", "custom_data": {"banned": "t0", "legs": ["x"], "u": "y"}}`)).Database(db.Name()).Collection("ops")
	if n, err := c.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("CountDocuments with the claims: %d, %v; want 1", n, err)
	}
}
