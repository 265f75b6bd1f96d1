package evaluator_test

import (
	"context"
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

var errBoom, errBoom2 = errors.New("boom"), errors.New("boom2")

// TestFilterErrorsOfRoleSemantics pins which function failure a filter
// surfaces when the role's permissions fail, as before role semantics were
// built as nodes (roles.go): the filter translates both document_filters
// first, as Evaluate evaluates them for every decision, and every
// permission the rule names, whatever a constant beside it decides.
func TestFilterErrorsOfRoleSemantics(t *testing.T) {
	const boom = `{"%%true": {"%function": {"name": "boom"}}}`
	const boom2 = `{"%%true": {"%function": {"name": "boom2"}}}`
	cases := []struct {
		name   string
		role   string
		action evaluator.Action
		update string // extended JSON; "" for none
		want   error
	}{
		// Evaluate fails every write on the read gate (both gates are
		// evaluated for every decision): so does the filter.
		{"write, failing read gate", `"document_filters": {"read": ` + boom + `, "write": {"owner": "%%user.id"}}, "write": true`,
			evaluator.ActionWrite, `{"$set": {"a": 1}}`, errBoom},
		{"delete, failing read gate", `"document_filters": {"read": ` + boom + `, "write": {"owner": "%%user.id"}}, "write": true, "delete": true`,
			evaluator.ActionDelete, "", errBoom},
		// The gates come before the permissions.
		{"read, failing write gate first", `"document_filters": {"write": ` + boom2 + `}, "fields": {"a": {"read": ` + boom + `}}`,
			evaluator.ActionRead, "", errBoom2},
		// An unwritable field does not hide the failure of another.
		{"delete, every field writable", `"fields": {"a": {"read": true}, "b": {"write": ` + boom + `}}, "delete": true`,
			evaluator.ActionDelete, "", errBoom},
		{"delete, every embedded field writable", `"fields": {"a": {"fields": {"x": {"write": false}, "y": {"write": ` + boom + `}}}}, "delete": true`,
			evaluator.ActionDelete, "", errBoom},
		// Nor does a field nothing reads hide the failure of another's read.
		{"replacement, every field readable", `"fields": {"a": {"read": ` + boom + `}, "b": {"write": true}}`,
			evaluator.ActionWrite, `{"b": 1}`, errBoom},
	}
	fail := func(err error) evaluator.Func {
		return func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
			return value.Value{}, err
		}
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := rules.ParseRules(source.NewFile("rules.json", []byte(`{"database": "db", "collection": "c", "roles": [
				{"name": "r", "apply_when": {}, `+tc.role+`}]}`)))
			if err != nil {
				t.Fatal(err)
			}
			p, err := evaluator.CompileCollection(c, evaluator.WithFunction("boom", fail(errBoom)), evaluator.WithFunction("boom2", fail(errBoom2)))
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			caller := evaluator.Caller{Namespace: "db.c"}
			if tc.action == evaluator.ActionRead {
				_, _, err = p.ReadFilter(ctx, caller)
			} else {
				var upd bson.Raw
				if tc.update != "" {
					upd = exampleDoc(tc.update)
				}
				_, err = p.WriteFilter(ctx, caller, tc.action, upd)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("filter error %v, want %v", err, tc.want)
			}
		})
	}
}
