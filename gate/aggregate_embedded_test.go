package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestAggregateRefusalIgnoresHiddenChildren: whether Aggregate runs must not
// depend on whether a document holds an embedded field hidden from the
// caller (a.x, when the role reads only a.b): the answer would tell that
// a.x exists. Found by TestNonInterference (aggregate-presence, seed 2).
func TestAggregateRefusalIgnoresHiddenChildren(t *testing.T) {
	ctx := context.Background()
	for _, rulesJSON := range []string{
		`{"database": "db", "collection": "c", "roles": [{"name": "r", "apply_when": {},
			"fields": {"_id": {"read": true}, "n": {"read": true}, "a": {"fields": {"b": {"read": true}}}}}]}`,
		`{"database": "db", "collection": "c", "roles": [{"name": "r", "apply_when": {}, "read": true}],
			"filters": [{"name": "nox", "apply_when": {}, "query": {}, "projection": {"a.x": 0}}]}`,
	} {
		var got []string
		for _, doc := range []string{`{"_id": 1, "n": 1}`, `{"_id": 1, "n": 1, "a": {"b": 2}}`, `{"_id": 1, "n": 1, "a": {"b": 2, "x": 5}}`, `{"_id": 1, "n": 1, "a": {"x": 5}}`} {
			c, _ := inlineColl(t, rulesJSON, doc)
			cur, err := c.Aggregate(ctx, bson.A{bson.D{{Key: "$count", Value: "c"}}})
			var out []bson.M
			if err == nil {
				err = cur.All(ctx, &out)
			}
			if err != nil {
				// The namespace differs per database; the rest must not.
				err = errors.New(strings.ReplaceAll(err.Error(), c.Namespace(), "<ns>"))
			}
			got = append(got, fmt.Sprint(out, err))
		}
		if got[0] != got[2] || got[0] != got[3] || got[1] != got[2] {
			t.Errorf("rules %s: outcome depends on the hidden a.x:\n  no a:    %s\n  a.b:     %s\n  a.b a.x: %s\n  a.x:     %s", rulesJSON, got[0], got[1], got[2], got[3])
		}
	}
}
