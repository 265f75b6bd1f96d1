package evaluator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// TestFunctionThrewIsFalse: a function whose error wraps ErrFunctionThrew
// makes the expression that calls it false (source/functions.txt, "Call
// from Rule Expressions"), per request and per document: its role does
// not apply and the next one decides, without an error; under %nor it
// does not become true; and a filter whose apply_when calls it applies
// (a failure never lifts a filter).
func TestFunctionThrewIsFalse(t *testing.T) {
	threw := func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Value{}, fmt.Errorf("%w: no such agency", evaluator.ErrFunctionThrew)
	}
	for _, arg := range []string{"%%user.id", "%%root.n"} {
		app, err := rules.LoadApp(fstest.MapFS{
			"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{
				"roles": [
					{"name": "admin", "read": true, "write": true,
					 "apply_when": {"%%true": {"%function": {"name": "f", "arguments": ["` + arg + `"]}}}},
					{"name": "notBanned", "read": true,
					 "apply_when": {"$nor": [{"%%true": {"%function": {"name": "f", "arguments": ["` + arg + `"]}}}], "public": true}},
					{"name": "reader", "read": true, "apply_when": {"n": 1}}
				],
				"filters": [{"name": "hideDrafts", "query": {"draft": false},
					"apply_when": {"%%true": {"%function": {"name": "f", "arguments": ["%%user.id"]}}}}]}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		prog, err := evaluator.Compile(app, evaluator.WithFunction("f", threw))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
		caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u}}
		for _, tc := range []struct {
			doc  bson.D
			role string
		}{
			{bson.D{{Key: "n", Value: 1}, {Key: "draft", Value: false}}, "reader"},
			{bson.D{{Key: "n", Value: 2}, {Key: "draft", Value: false}, {Key: "public", Value: true}}, ""},
			{bson.D{{Key: "n", Value: 1}, {Key: "draft", Value: true}}, ""},
		} {
			raw, _ := bson.Marshal(tc.doc)
			d, err := prog.Evaluate(context.Background(), caller, evaluator.Doc{Action: evaluator.ActionRead, Document: raw})
			if err != nil || d.Allowed != (tc.role != "") || d.Role != tc.role {
				t.Errorf("%s: %v: %+v, %v; want role %q, no error", arg, tc.doc, d, err, tc.role)
			}
		}
		if arg != "%%user.id" {
			continue // (a per-document call has no read filter)
		}
		// The filter applies: the read filter keeps out drafts.
		b, err := prog.Bind(context.Background(), caller)
		if err != nil {
			t.Fatal(err)
		}
		rf, _, err := b.ReadFilter(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s := fmt.Sprint(rf); !strings.Contains(s, "draft") {
			t.Errorf("%s: read filter %s does not apply hideDrafts", arg, s)
		}
	}
}
