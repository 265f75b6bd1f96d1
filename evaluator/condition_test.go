package evaluator_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

func condExpr(t *testing.T, js string) rules.Expr {
	t.Helper()
	e, err := rules.ParseExpr(source.NewFile("functions/config.json", []byte(js)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestCondition: a standalone expression sees the request-phase
// expansions and functions, fails closed on what the request does not
// carry, and a nil expression holds.
func TestCondition(t *testing.T) {
	app := &rules.App{Values: []*rules.Value{{Name: "limit", JSON: []byte(`3`)}}}
	admin, _ := expansion.NewUserObject([]byte(`{"id": "a", "custom_data": {"admin": true}}`))
	member, _ := expansion.NewUserObject([]byte(`{"id": "m"}`))
	boom := errors.New("boom")
	fn := evaluator.WithFunction("isA", func(_ context.Context, args []value.Value, _ evaluator.FuncEnv) (value.Value, error) {
		s, _ := args[0].StringOK()
		if s == "x" {
			return value.Value{}, boom
		}
		return value.Bool(s == "a"), nil
	})
	cases := []struct {
		name string
		expr string
		in   expansion.Inputs
		want bool
		err  error
	}{
		{"user holds", `{"%%user.custom_data.admin": true}`, expansion.Inputs{User: admin}, true, nil},
		{"user fails", `{"%%user.custom_data.admin": true}`, expansion.Inputs{User: member}, false, nil},
		{"request", `{"%%request.remoteIPAddress": {"$nin": ["6.6.6.6"]}}`, expansion.Inputs{Request: []byte(`{"remoteIPAddress": "6.6.6.6"}`)}, false, nil},
		{"no request", `{"%%request.remoteIPAddress": {"$nin": ["6.6.6.6"]}}`, expansion.Inputs{}, false, evaluator.ErrNotProvided},
		{"values", `{"%%values.limit": {"$gt": 2}}`, expansion.Inputs{Values: []byte(`{"limit": 3}`)}, true, nil},
		{"function", `{"%%true": {"%function": {"name": "isA", "arguments": ["%%user.id"]}}}`, expansion.Inputs{User: admin}, true, nil},
		{"function fails", `{"%%true": {"%function": {"name": "isA", "arguments": ["x"]}}}`, expansion.Inputs{}, false, boom},
		{"or", `{"$or": [{"%%user.id": "m"}, {"%%user.id": "a"}]}`, expansion.Inputs{User: member}, true, nil},
	}
	for _, c := range cases {
		cond, err := evaluator.CompileCondition(app, condExpr(t, c.expr), fn)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got, err := cond.Eval(context.Background(), &c.in)
		if got != c.want || c.err == nil && err != nil || c.err != nil && !errors.Is(err, c.err) {
			t.Errorf("%s: got %v, %v; want %v, %v", c.name, got, err, c.want, c.err)
		}
	}
	cond, err := evaluator.CompileCondition(app, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := cond.Eval(context.Background(), nil); !ok || err != nil {
		t.Errorf("nil expression: %v, %v", ok, err)
	}
	_, err = evaluator.CompileCondition(app, condExpr(t, `{"%%true": {"%function": {"name": "nope"}}}`))
	if want := `functions/config.json:1:13: /%%true/%function: unknown function "nope" (rules/unknown-function)`; fmt.Sprint(err) != want {
		t.Errorf("unknown function: %v, want %s", err, want)
	}
}
