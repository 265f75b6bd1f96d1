package gate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestEvaluationErrorOfInvisibleDocument: a document whose rules cannot be
// evaluated (here a stored regular expression used as an operand, which
// the evaluator refuses) is left out like a document the caller cannot
// read. Reporting the error would tell the caller something about a
// document it may not see (and would let any writer of such a value break
// every reader's query).
func TestEvaluationErrorOfInvisibleDocument(t *testing.T) {
	ctx := context.Background()
	const rulesJSON = `{"database": "db", "collection": "c",
		"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "delete": true},
		          {"name": "same", "apply_when": {"x": "%%root.y"}, "read": true}]}`
	mine := `{"_id": 1, "owner": "u1", "x": "a", "y": "b"}`
	var got []string
	var reported []error
	opts := []gate.Option{gate.WithDocumentErrors(func(_ context.Context, ns string, err error) { reported = append(reported, err) })}
	for _, other := range []string{
		`{"_id": 2, "owner": "u2", "x": "a", "y": "b"}`,
		`{"_id": 2, "owner": "u2", "x": "a", "y": {"$regularExpression": {"pattern": "a", "options": ""}}}`,
	} {
		c, _ := inlineCollWith(t, opts, rulesJSON, mine, other)
		var out []string
		var docs []bson.M
		cur, err := c.Find(ctx, bson.D{})
		if err == nil {
			err = cur.All(ctx, &docs)
		}
		out = append(out, fmt.Sprintf("find %d %v", len(docs), err))
		n, err := c.CountDocuments(ctx, bson.D{{Key: "x", Value: "a"}})
		out = append(out, fmt.Sprintf("count %d %v", n, err))
		var one bson.M
		err = c.FindOne(ctx, bson.D{{Key: "x", Value: "a"}}).Decode(&one)
		out = append(out, fmt.Sprintf("findOne %v %v", one["_id"], err))
		res, err := c.UpdateMany(ctx, bson.D{{Key: "x", Value: "a"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "z", Value: 1}}}})
		if res != nil {
			out = append(out, fmt.Sprintf("updateMany %d %v", res.MatchedCount, err))
		} else {
			out = append(out, fmt.Sprintf("updateMany %v", err))
		}
		dres, err := c.DeleteMany(ctx, bson.D{{Key: "x", Value: "a"}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: 1}}}})
		if dres != nil {
			out = append(out, fmt.Sprintf("deleteMany %d %v", dres.DeletedCount, err))
		} else {
			out = append(out, fmt.Sprintf("deleteMany %v", err))
		}
		got = append(got, fmt.Sprint(out))
	}
	if len(reported) == 0 || !errors.Is(reported[0], evaluator.ErrRegex) {
		t.Errorf("WithDocumentErrors got %v, want the evaluator.ErrRegex of document 2", reported)
	}
	if got[0] != got[1] {
		t.Errorf("outcome depends on a document the caller cannot read:\n  plain: %s\n  regex: %s", got[0], got[1])
	}
}
