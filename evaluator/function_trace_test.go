package evaluator_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// TestFunctionErrorInTrace: the trace of a decision denied by a failing
// %function says why, whether the call is per request or per document.
func TestFunctionErrorInTrace(t *testing.T) {
	for _, arg := range []string{"%%user.id", "%%root.n"} {
		app, err := rules.LoadApp(fstest.MapFS{
			"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"roles": [{"name": "r", "read": true,
				"apply_when": {"%%true": {"%function": {"name": "f", "arguments": ["` + arg + `"]}}}}]}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		f := func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
			return value.Value{}, errors.New("no such agency")
		}
		prog, err := evaluator.Compile(app, evaluator.WithFunction("f", f))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
		var tr evaluator.Trace
		d, err := prog.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u}},
			evaluator.Doc{Action: evaluator.ActionRead, Document: []byte{5, 0, 0, 0, 0}}, evaluator.WithTrace(&tr))
		if d.Allowed || !errors.Is(err, evaluator.ErrFunctionCall) {
			t.Errorf("%s: %+v, %v; want denied", arg, d, err)
		}
		want := "%function f(" + arg + ") = error: evaluator: function call failed: f: no such agency"
		if !strings.Contains(tr.String(), want) {
			t.Errorf("%s: trace\n%s\nwant it to hold %s", arg, tr.String(), want)
		}
	}
}
