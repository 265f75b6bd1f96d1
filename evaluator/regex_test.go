package evaluator_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestRegexOperandsFailClosed checks that a regular expression reaching a
// comparison as its operand, from a claim, a function or a stored
// document, denies with ReasonError and ErrRegex, and that ReadFilter
// refuses to send it to the server: MongoDB reads a regex inside $in,
// $nin or an equality as a pattern ({"foo": {"$nin": [/o/]}} excludes
// {foo: "foo"}), which Evaluate would compare as a value.
func TestRegexOperandsFailClosed(t *testing.T) {
	const userWithRegex = `{"id": "u1", "custom_data": {"team": {"$regularExpression": {"pattern": "o", "options": ""}},
	  "teams": ["t1", {"$regularExpression": {"pattern": "^t", "options": "i"}}], "plain": "t1"}}`
	fns := evaluator.WithFunction("re", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Regex("o", ""), nil
	})
	for _, tc := range []struct {
		name, applyWhen string
		doc             string
		filterErr       bool // ReadFilter fails (a request value); else not expressible
	}{
		{"claim $nin", `{"foo": {"$nin": ["%%user.custom_data.team"]}}`, `{"_id": 1, "foo": "foo"}`, true},
		{"claim $in", `{"foo": {"$in": ["%%user.custom_data.team"]}}`, `{"_id": 1, "foo": "foo"}`, true},
		{"claim equality", `{"foo": "%%user.custom_data.team"}`, `{"_id": 1, "foo": "foo"}`, true},
		{"claim $ne", `{"foo": {"$ne": "%%user.custom_data.team"}}`, `{"_id": 1, "foo": "foo"}`, true},
		{"claim array $nin", `{"foo": {"$nin": "%%user.custom_data.teams"}}`, `{"_id": 1, "foo": "team"}`, true},
		{"claim array membership", `{"foo": "%%user.custom_data.teams"}`, `{"_id": 1, "foo": "T2"}`, true},
		{"claim swapped", `{"%%user.custom_data.team": {"$nin": "%%root.members"}}`, `{"_id": 1, "members": ["foo"]}`, true},
		{"claim left", `{"%%user.custom_data.team": {"$nin": ["x"]}}`, `{"_id": 1}`, true},
		{"function $nin", `{"foo": {"$nin": [{"%function": {"name": "re", "arguments": []}}]}}`, `{"_id": 1, "foo": "foo"}`, true},
		{"function of the document", `{"foo": {"$nin": [{"%function": {"name": "re", "arguments": ["%%root.foo"]}}]}}`, `{"_id": 1, "foo": "foo"}`, false},
		{"stored $nin", `{"foo": {"$nin": ["%%root.pattern"]}}`, `{"_id": 1, "foo": "foo", "pattern": {"$regularExpression": {"pattern": "o", "options": ""}}}`, false},
		{"stored equality", `{"foo": {"$ne": "%%root.pattern"}}`, `{"_id": 1, "foo": "foo", "pattern": {"$regularExpression": {"pattern": "o", "options": ""}}}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rulesJSON := `{"database": "db", "collection": "coll", "roles": [{"name": "r", "apply_when": ` + tc.applyWhen + `, "read": true}]}`
			app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rulesJSON)}})
			if err != nil {
				t.Fatal(err)
			}
			prog, err := evaluator.Compile(app, fns)
			if err != nil {
				t.Fatal(err)
			}
			user, err := expansion.NewUserObject([]byte(userWithRegex))
			if err != nil {
				t.Fatal(err)
			}
			var doc bson.Raw
			if err := bson.UnmarshalExtJSON([]byte(tc.doc), false, &doc); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}
			dec, err := prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
			if dec.Allowed || dec.Reason != evaluator.ReasonError || !errors.Is(err, evaluator.ErrRegex) {
				t.Errorf("Evaluate: allowed %v, reason %s, error %v; want a denial with ErrRegex", dec.Allowed, dec.Reason, err)
			}
			f, _, err := prog.ReadFilter(ctx, caller)
			switch {
			case tc.filterErr && !errors.Is(err, evaluator.ErrRegex):
				fj, _ := bson.MarshalExtJSON(f, false, false)
				t.Errorf("ReadFilter: %s, error %v; want ErrRegex", fj, err)
			case !tc.filterErr && !errors.Is(err, evaluator.ErrNotExpressible):
				t.Errorf("ReadFilter: error %v; want ErrNotExpressible", err)
			}
		})
	}
}

// TestFunctionErrorInArrayOperand checks that a failing %function inside
// an array operand denies the decision (ReasonError) instead of being
// dropped from the array: {"$nin": [<failing call>]} must not become
// {"$nin": []}, which holds for every document.
func TestFunctionErrorInArrayOperand(t *testing.T) {
	rulesJSON := `{"database": "db", "collection": "coll", "roles": [{"name": "r",
	  "apply_when": {"foo": {"$nin": [{"%function": {"name": "fails", "arguments": []}}]}}, "read": true}]}`
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rulesJSON)}})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunction("fails", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Value{}, errors.New("boom")
	}))
	if err != nil {
		t.Fatal(err)
	}
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"_id": 1, "foo": "x"}`), false, &doc); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	caller := evaluator.Caller{Namespace: "db.coll"}
	if dec, err := prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: doc}); dec.Allowed || dec.Reason != evaluator.ReasonError || err == nil {
		t.Errorf("Evaluate: allowed %v, reason %s, error %v; want a denial with the function's error", dec.Allowed, dec.Reason, err)
	}
	if f, _, err := prog.ReadFilter(ctx, caller); err == nil {
		fj, _ := bson.MarshalExtJSON(f, false, false)
		t.Errorf("ReadFilter: %s, no error; want the function's error", fj)
	}
}

// TestRegexOperandIsAPatternOnServer shows, on the test server, why a
// regex operand is refused rather than compared as a value: the server
// matches strings with it in $in, $nin and an implicit equality (the
// MongoDB manual, $in: "Use the $in Operator with a Regular Expression";
// $eq: "Regex Match Behaviour"), and compares it as a value under an
// explicit $eq and inside an embedded document (value.HasRegex). value.MatchIn and value.MatchEq compare by value, so they
// would disagree with the first three. (The embedded FerretDB agrees with
// MongoDB on these four queries.)
func TestRegexOperandIsAPatternOnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	ctx := context.Background()
	coll := rulegatetest.Database(t).Collection("regex")
	re := bson.Regex{Pattern: "o"}
	if _, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "foo", Value: "foo"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "foo", Value: "bar"}},
		bson.D{{Key: "_id", Value: 3}, {Key: "foo", Value: re}},
		bson.D{{Key: "_id", Value: 4}, {Key: "prefs", Value: bson.D{{Key: "m", Value: re}}}},
		bson.D{{Key: "_id", Value: 5}, {Key: "prefs", Value: bson.D{{Key: "m", Value: "foo"}}}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		filter bson.D
		want   string
	}{
		{"$in", bson.D{{Key: "foo", Value: bson.D{{Key: "$in", Value: bson.A{re}}}}}, "1,3"},
		{"$nin", bson.D{{Key: "foo", Value: bson.D{{Key: "$nin", Value: bson.A{re}}}}}, "2,4,5"},
		{"implicit equality", bson.D{{Key: "foo", Value: re}}, "1,3"},
		{"$eq", bson.D{{Key: "foo", Value: bson.D{{Key: "$eq", Value: re}}}}, "3"},
		// Inside an embedded document, a regex is compared as a value.
		{"embedded document", bson.D{{Key: "prefs", Value: bson.D{{Key: "m", Value: re}}}}, "4"},
		{"embedded document in $in", bson.D{{Key: "prefs", Value: bson.D{{Key: "$in", Value: bson.A{bson.D{{Key: "m", Value: re}}}}}}}, "4"},
	} {
		cur, err := coll.Find(ctx, tc.filter)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for cur.Next(ctx) {
			got = append(got, value.FromDocument(cur.Current).Field("_id").ExtJSON())
		}
		sort.Strings(got)
		if g := strings.Join(got, ","); g != tc.want {
			t.Errorf("%s: the server returns %s, want %s", tc.name, g, tc.want)
		}
	}
	// In memory, the same operand compares as a value: only the stored
	// regex (3) is in or equal to it.
	if value.MatchIn(value.FromDocument(bsonDoc(t, `{"foo": "foo"}`)), value.Path{"foo"}, value.NewSet(value.Regex("o", "")), false) {
		t.Errorf("value.MatchIn matched a string with a regex operand: revisit the refusal (ErrRegex)")
	}
}

func bsonDoc(t *testing.T, s string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatal(err)
	}
	return d
}
