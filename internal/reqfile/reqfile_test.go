package reqfile_test

import (
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/internal/reqfile"
	"github.com/rulegate/rulegate/source"
)

var all = []evaluator.Action{evaluator.ActionRead, evaluator.ActionWrite, evaluator.ActionInsert, evaluator.ActionDelete, evaluator.ActionSearch}

func ExampleParse() {
	req, err := reqfile.Parse("request.json", []byte(`{
	  "user": {"id": "u1", "custom_data": {"team": "a"}},
	  "action": "read",
	  "document": {"_id": {"$oid": "65a000000000000000000001"}, "team": "a"}
	}`), reqfile.Options{Keys: []string{"document"}, Actions: all, Namespace: "db.coll"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(req.Caller.Namespace, req.Doc.Action, req.Doc.Document)
	_, err = reqfile.Parse("request.json", []byte(`{"user": {"id": "u1"}, "action": "read", "partition": "p"}`),
		reqfile.Options{Actions: all})
	fmt.Println(err)
	// Output:
	// db.coll read {"_id": {"$oid":"65a000000000000000000001"},"team": "a"}
	// request.json:1:1: the request needs "namespace": "<database>.<collection>" (request/namespace)
	// request.json:1:55: /partition: unknown key "partition"; the request keys are user, namespace, action, request, values, environment (request/unknown-key)
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		opts       reqfile.Options
		want       string // the diagnostics; "" for an extended JSON error
	}{
		{"token without a verifier is an unknown key", `{"user": {"id": "u1"}, "token": "x", "namespace": "a.b", "action": "read"}`,
			reqfile.Options{Actions: all},
			`f:1:33: /token: unknown key "token"; the request keys are user, namespace, action, request, values, environment (request/unknown-key)`},
		{"no user", `{"namespace": "a.b", "action": "read"}`, reqfile.Options{Actions: all},
			`f:1:1: the request needs "user" (a user object) (request/user)`},
		{"an action not accepted", `{"user": {}, "namespace": "a.b", "action": "insert"}`,
			reqfile.Options{Actions: []evaluator.Action{evaluator.ActionRead}},
			`f:1:44: /action: "action" must be one of read (request/action)`},
		{"args must be an object", `{"user": {}, "namespace": "a.b", "action": "read", "args": 1}`,
			reqfile.Options{Keys: []string{"args"}, Actions: all},
			`f:1:60: /args: "args" must be a JSON object, got number (request/type)`},
		{"a document must be extended JSON", `{"user": {}, "namespace": "a.b", "action": "read", "document": {"n": {"$numberInt": "x"}}}`,
			reqfile.Options{Keys: []string{"document"}, Actions: all},
			""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := reqfile.Parse("f", []byte(tc.data), tc.opts)
			if err == nil {
				t.Fatalf("no error, want %s", tc.want)
			}
			if tc.want == "" {
				// The driver words the reason; the code is the contract.
				if codes := source.Codes(err); len(codes) != 1 || codes[0] != "request/extended-json" {
					t.Errorf("codes %v, want [request/extended-json]", codes)
				}
			} else if got := err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
