package evaluator_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// TestFunctionErrorIsLazy: a failing %function denies (ReasonError) the
// decisions that need it, and only those: an earlier role that applies
// decides without calling it, as App Services evaluates roles in order.
func TestFunctionErrorIsLazy(t *testing.T) {
	boom := errors.New("boom")
	fail := func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Value{}, boom
	}
	c, err := rules.ParseRules(source.NewFile("rules.json", []byte(`{"database": "db", "collection": "c", "roles": [
		{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true},
		{"name": "checked", "apply_when": {"%%true": {"%function": {"name": "check", "arguments": ["%%user.id"]}}}, "read": true}]}`)))
	if err != nil {
		t.Fatal(err)
	}
	p, err := evaluator.CompileCollection(c, evaluator.WithFunction("check", fail))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	ctx := context.Background()
	caller := evaluator.Caller{Namespace: "db.c", Inputs: expansion.Inputs{User: u}}

	dec, err := p.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1, "owner_id": "u1"}`)})
	if err != nil || !dec.Allowed || dec.Role != "owner" {
		t.Errorf("owner document: %+v, %v; want allowed by owner", dec, err)
	}
	dec, err = p.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 2, "owner_id": "u2"}`)})
	if !errors.Is(err, boom) || !errors.Is(err, evaluator.ErrFunctionCall) || dec.Allowed || dec.Reason != evaluator.ReasonError {
		t.Errorf("other document: %+v, %v; want denied with the function's error", dec, err)
	}
	if _, _, err := p.ReadFilter(ctx, caller); !errors.Is(err, boom) {
		t.Errorf("ReadFilter: %v, want the function's error", err)
	}
}
