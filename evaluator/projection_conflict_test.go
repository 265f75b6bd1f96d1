package evaluator_test

import (
	"context"
	"errors"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// TestProjectionConflictFilters checks that ReadFilter and WriteFilter
// fail with ErrProjectionConflict when filters with inclusive and
// exclusive projections may apply together (source/mongodb/tables/
// query-filter-params.rst, "Projection Conflicts"), and do not when one of
// them cannot apply.
func TestProjectionConflictFilters(t *testing.T) {
	const rulesJSON = `{"database": "db", "collection": "coll",
	  "roles": [{"name": "all", "apply_when": {}, "read": true, "write": true}],
	  "filters": [
	    {"name": "incl", "apply_when": {}, "projection": {"name": 1}},
	    {"name": "excl", "apply_when": {"%%user.custom_data.admin": true}, "projection": {"secret": 0}}]}`
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rulesJSON)}})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		user     string
		conflict bool
	}{
		{`{"id": "u1", "custom_data": {"admin": true}}`, true},
		{`{"id": "u1", "custom_data": {"admin": false}}`, false},
	} {
		user, err := expansion.NewUserObject([]byte(tc.user))
		if err != nil {
			t.Fatal(err)
		}
		caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}
		_, _, rerr := prog.ReadFilter(ctx, caller)
		_, werr := prog.WriteFilter(ctx, caller, evaluator.ActionDelete, nil)
		for name, err := range map[string]error{"ReadFilter": rerr, "WriteFilter": werr} {
			if got := errors.Is(err, evaluator.ErrProjectionConflict); got != tc.conflict {
				t.Errorf("%s %s: error %v, want a projection conflict: %v", tc.user, name, err, tc.conflict)
			}
		}
	}
}
