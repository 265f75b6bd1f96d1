package rules_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestSubsumedRoleSound: on generated role lists (apply_when built from a
// few comparisons under AND, OR and $nor), every rules/subsumed-role
// finding is true: on generated users and documents, whenever the
// subsumed role's apply_when holds (decided by the evaluator, each in a
// collection of its own) the earlier role's does too.
func TestSubsumedRoleSound(t *testing.T) {
	atoms := []string{`{"owner": "%%user.id"}`, `{"team": {"$in": "%%user.custom_data.teams"}}`, `{"locked": false}`,
		`{"%%user.custom_data.admin": true}`, `{"n": {"$gt": 1}}`, `{"team": "t1"}`}
	rng := rand.New(rand.NewPCG(1, 15))
	var gen func(depth int) string
	gen = func(depth int) string {
		if depth == 0 || rng.IntN(3) == 0 {
			return atoms[rng.IntN(len(atoms))]
		}
		n := 1 + rng.IntN(3)
		args := make([]string, n)
		for i := range args {
			args[i] = gen(depth - 1)
		}
		op := []string{"%and", "%or", "$nor"}[rng.IntN(3)]
		return `{"` + op + `": [` + strings.Join(args, ", ") + `]}`
	}
	var users []expansion.Inputs
	for _, cd := range []string{`{"teams": ["t1"], "admin": true}`, `{"teams": ["t2"]}`, `{}`, `{"teams": "t1", "admin": false}`} {
		for _, id := range []string{"u1", "u2"} {
			u, err := expansion.NewUserObject([]byte(`{"id": "` + id + `", "custom_data": ` + cd + `}`))
			if err != nil {
				t.Fatal(err)
			}
			users = append(users, expansion.Inputs{User: u})
		}
	}
	var docs []bson.Raw
	for _, owner := range []any{"u1", "u2", nil} {
		for _, team := range []any{"t1", "t2", nil} {
			for _, locked := range []any{false, true} {
				for _, n := range []any{0, 2} {
					d := bson.D{{Key: "_id", Value: len(docs)}}
					for _, kv := range []bson.E{{Key: "owner", Value: owner}, {Key: "team", Value: team}, {Key: "locked", Value: locked}, {Key: "n", Value: n}} {
						if kv.Value != nil {
							d = append(d, kv)
						}
					}
					b, _ := bson.Marshal(d)
					docs = append(docs, b)
				}
			}
		}
	}
	ctx := context.Background()
	holds := func(applyWhen string) func(expansion.Inputs, bson.Raw) bool {
		p := compileRoles(t, `{"name": "r", "apply_when": `+applyWhen+`, "read": true}`)
		return func(in expansion.Inputs, doc bson.Raw) bool {
			d, _ := p.Evaluate(ctx, evaluator.Caller{Namespace: "db.c", Inputs: in}, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
			return d.Allowed
		}
	}
	findings := 0
	for i := 0; i < 400; i++ {
		n := 2 + rng.IntN(3)
		roles := make([]string, n)
		conds := make([]string, n)
		for j := range roles {
			conds[j] = gen(2)
			if j > 0 && rng.IntN(3) == 0 {
				// An earlier condition with more: often subsumed.
				conds[j] = `{"%and": [` + conds[rng.IntN(j)] + `, ` + atoms[rng.IntN(len(atoms))] + `]}`
			}
			roles[j] = fmt.Sprintf(`{"name": "r%d", "apply_when": %s, "read": true}`, j, conds[j])
		}
		app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(
			`{"database": "db", "collection": "c", "roles": [` + strings.Join(roles, ", ") + `]}`)}})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
			if e.Code != rules.CodeSubsumedRole {
				continue
			}
			findings++
			var later, earlier int
			if _, err := fmt.Sscanf(string(e.Ptr), "/roles/%d", &later); err != nil {
				t.Fatal(err)
			}
			if _, err := fmt.Sscanf(e.Msg[strings.Index(e.Msg, `earlier role "r`)+len(`earlier role "r`):], "%d", &earlier); err != nil {
				t.Fatal(e.Msg, err)
			}
			l, er := holds(conds[later]), holds(conds[earlier])
			for _, in := range users {
				for _, doc := range docs {
					if l(in, doc) && !er(in, doc) {
						t.Fatalf("%v\nbut role %d (%s) holds where role %d (%s) does not: user %v, document %v", e, later, conds[later], earlier, conds[earlier], in.User, doc)
					}
				}
			}
		}
	}
	t.Logf("%d findings checked", findings)
	if findings < 20 {
		t.Fatalf("only %d findings: the generator no longer exercises the lint", findings)
	}
}

func compileRoles(tb testing.TB, roles string) *evaluator.Program {
	tb.Helper()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(
		`{"database": "db", "collection": "c", "roles": [` + roles + `]}`)}})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}
