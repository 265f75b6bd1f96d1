package gate_test

import (
	"context"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestAbsentPathUnderPartlyHiddenField: whether a document matches a client
// filter on an absent embedded path (a.b) must not depend on whether the
// document holds a hidden sibling (a.x, withheld by a filter projection).
// Found by TestNonInterference (seed 1): the document with a hidden a.x was
// left out, the one without a matched, so the result told the caller that
// a.x exists.
func TestAbsentPathUnderPartlyHiddenField(t *testing.T) {
	ctx := context.Background()
	const rulesJSON = `{"database": "db", "collection": "c",
		"roles": [{"name": "r", "apply_when": {}, "read": true, "write": true}],
		"filters": [{"name": "nox", "apply_when": {}, "query": {}, "projection": {"a.x": 0}}]}`
	for _, filter := range []bson.D{
		{{Key: "a.b", Value: bson.D{{Key: "$exists", Value: false}}}},
		// a itself is only partly readable: a filter on it must not match
		// whether a is absent or present (seed 1267).
		{{Key: "a", Value: bson.D{{Key: "$exists", Value: false}}}},
		{{Key: "a", Value: nil}},
		{{Key: "a.b", Value: nil}},
		{{Key: "$or", Value: bson.A{bson.D{{Key: "n", Value: 1}}, bson.D{{Key: "a.b", Value: 2}}}}},
	} {
		var got []string
		for _, doc := range []string{`{"_id": 1, "n": 1}`, `{"_id": 1, "n": 1, "a": {"x": 5}}`, `{"_id": 1, "n": 1, "a": {"x": 5, "y": 6}}`} {
			c, _ := inlineColl(t, rulesJSON, doc)
			n, err := c.CountDocuments(ctx, filter)
			var ids []bson.M
			if cur, ferr := c.Find(ctx, filter); ferr == nil {
				ferr = cur.All(ctx, &ids)
				err = fmt.Errorf("%v %v", err, ferr)
			}
			got = append(got, fmt.Sprintf("count %d, find %d (%v)", n, len(ids), err))
		}
		if got[0] != got[1] || got[0] != got[2] {
			t.Errorf("filter %v: outcome depends on the hidden a.x:\n  without a: %s\n  a: {x}:    %s\n  a: {x, y}: %s", filter, got[0], got[1], got[2])
		}
	}
}
