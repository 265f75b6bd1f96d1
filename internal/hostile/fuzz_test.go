package hostile

import (
	"context"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// FuzzEvaluate feeds arbitrary rules, callers and documents to the whole
// pipeline (LoadApp, Validate, Compile, Evaluate for every action with and
// without trace and fields, ReadFilter, WriteFilter). Nothing may panic; a
// request that errors is never allowed; Allowed and the reason code agree;
// tracing never changes a decision. (Agreement of filters with decisions is
// the evaluator's generated agreement test, which has a matcher.)
func FuzzEvaluate(f *testing.F) {
	seeds := []struct{ rules, user, doc string }{
		{`{"database":"app","collection":"items","roles":[{"name":"owner","apply_when":{"owner_id":"%%user.id"},"read":true,"write":true}]}`,
			`{"id":"u1","custom_data":{"teamIds":["a","b"]}}`, `{"_id":1,"owner_id":"u1"}`},
		{`{"database":"app","collection":"items","roles":[{"name":"team","apply_when":{"team_id":{"$in":"%%user.custom_data.teamIds"}},"read":true,"fields":{"budget":{"read":false}},"additional_fields":{"read":true,"write":false}}],"filters":[{"name":"live","apply_when":{},"query":{"archived":{"$ne":true}},"projection":{"secret":0}}]}`,
			`{"id":"u1","custom_data":{"teamIds":"a"}}`, `{"_id":{"$oid":"65a000000000000000000001"},"team_id":["a","c"],"budget":5}`},
		{`{"database":"app","collection":"items","roles":[{"name":"a","apply_when":{"%or":[{"%%user.custom_data.admin":true},{"%%root.n":{"$gte":3}}]},"document_filters":{"read":{"n":{"$lt":10}},"write":{"n":{"$exists":false}}},"read":true,"write":{"%%prevRoot.n":{"$lte":5}},"insert":false}]}`,
			`{"id":"u1","custom_data":{"admin":null}}`, `{"n":{"$numberDecimal":"4.5"}}`},
		{`{"database":"app","collection":"items","roles":[{"name":"x","apply_when":{"_id":{"%stringToOid":"%%user.id"}},"read":true}]}`,
			`{"id":"65a000000000000000000001"}`, `{"_id":{"$oid":"65a000000000000000000001"}}`},
	}
	for _, s := range seeds {
		f.Add(s.rules, s.user, s.doc)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, rulesJSON, userJSON, docJSON string) {
		app, err := rules.LoadApp(fstest.MapFS{rulesPath: {Data: []byte(rulesJSON)}})
		if err != nil {
			return
		}
		if len(rules.Validate(app, rules.ValidateOptions{}).Errors()) > 0 {
			return
		}
		prog, err := evaluator.Compile(app)
		if err != nil {
			return
		}
		caller := evaluator.Caller{Namespace: "app.items"}
		if u, err := expansion.NewUserObject([]byte(userJSON)); err == nil {
			caller.Inputs.User = u
		}
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(docJSON), false, &doc); err != nil {
			doc = nil
		}
		for _, a := range []evaluator.Action{evaluator.ActionRead, evaluator.ActionWrite, evaluator.ActionInsert, evaluator.ActionDelete, evaluator.ActionSearch} {
			input := evaluator.Doc{Action: a, Document: doc}
			if a == evaluator.ActionWrite || a == evaluator.ActionDelete {
				input.PrevDocument = doc
			}
			var tr evaluator.Trace
			d, err := prog.Evaluate(ctx, caller, input, evaluator.WithTrace(&tr), evaluator.WithFields())
			if err != nil && d.Allowed {
				t.Fatalf("%s: error %v but allowed", a, err)
			}
			if d.Allowed != (d.Reason == evaluator.ReasonAllowed) {
				t.Fatalf("%s: allowed %v with reason %q", a, d.Allowed, d.Reason)
			}
			plain, err2 := prog.Evaluate(ctx, caller, input)
			if (err == nil) == (err2 == nil) && plain.Allowed != d.Allowed {
				t.Fatalf("%s: trace changes the decision: %v vs %v", a, d.Allowed, plain.Allowed)
			}
		}
		_, _, _ = prog.ReadFilter(ctx, caller)
		_, _ = prog.WriteFilter(ctx, caller, evaluator.ActionWrite, nil)
	})
}
