package evaluator_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rulegatetest"
)

// TestClaimArraysOnServer: a claim array used with $in or $nin means what
// the same array written in a MongoDB query means, null elements included
// ({"team": {"$nin": [null]}} excludes documents whose team is null or
// missing; issue 11, hole 7). For each rule and claim, the documents the
// server returns for the query with the claim substituted by hand are the
// ones Evaluate allows, and the ones the server returns for ReadFilter.
func TestClaimArraysOnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	ctx := context.Background()
	coll := rulegatetest.Database(t).Collection("coll")
	docs := []string{`{"_id": 1}`, `{"_id": 2, "team": null}`, `{"_id": 3, "team": "x"}`, `{"_id": 4, "team": "y"}`,
		`{"_id": 5, "team": ["x", "z"]}`, `{"_id": 6, "team": [null]}`, `{"_id": 7, "team": []}`, `{"_id": 8, "team": 1}`,
		`{"_id": 9, "team": {"a": null}}`, `{"_id": 10, "sub": {"team": null}}`}
	var ins []any
	byID := map[string]bson.Raw{}
	for _, s := range docs {
		d := genDoc(t, s)
		ins = append(ins, d)
		byID[idKey(d)] = d
	}
	if _, err := coll.InsertMany(ctx, ins); err != nil {
		t.Fatal(err)
	}
	find := func(filter any) []string {
		t.Helper()
		cur, err := coll.Find(ctx, filter, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			t.Fatalf("find %v: %v", filter, err)
		}
		var ids []string
		for cur.Next(ctx) {
			ids = append(ids, idKey(cur.Current))
		}
		sort.Strings(ids)
		return ids
	}
	claims := []string{`[null]`, `[null, "x"]`, `["x", null, 1]`, `[]`, `["y"]`, `[1, "x"]`}
	for _, op := range []string{"$in", "$nin"} {
		for _, field := range []string{"team", "sub.team"} {
			for _, claim := range claims {
				for _, neg := range []bool{false, true} {
					cond := fmt.Sprintf(`{%q: {%q: "%%%%user.custom_data.list"}}`, field, op)
					query := fmt.Sprintf(`{%q: {%q: %s}}`, field, op, claim)
					if neg {
						// Under $nor the polarity flips: dropping an element
						// there would widen access the other way.
						cond = `{"$nor": [` + cond + `]}`
						query = `{"$nor": [` + query + `]}`
					}
					rulesJSON := `{"database": "db", "collection": "coll", "roles": [{"name": "r", "apply_when": ` + cond + `, "read": true}]}`
					prog := genApp(t, rulesJSON)
					if prog == nil {
						t.Fatalf("rules do not compile: %s", rulesJSON)
					}
					user, err := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": {"list": ` + claim + `}}`))
					if err != nil {
						t.Fatal(err)
					}
					want := find(genDoc(t, query))
					caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}
					var allowed []string
					for id, d := range byID {
						if dec, err := prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: d}); err != nil {
							t.Fatal(err)
						} else if dec.Allowed {
							allowed = append(allowed, id)
						}
					}
					sort.Strings(allowed)
					filter, _, err := prog.ReadFilter(ctx, caller)
					if err != nil {
						t.Fatalf("%s: ReadFilter: %v", cond, err)
					}
					got := find(filter)
					fj, _ := bson.MarshalExtJSON(filter, false, false)
					if strings.Join(allowed, ",") != strings.Join(want, ",") {
						t.Errorf("%s with list %s: Evaluate allows %v, MongoDB's %s matches %v", cond, claim, allowed, query, want)
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("%s with list %s: ReadFilter %s finds %v, MongoDB's %s matches %v", cond, claim, fj, got, query, want)
					}
				}
			}
		}
	}
}
