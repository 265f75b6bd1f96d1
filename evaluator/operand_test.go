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
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// operandProg compiles one collection whose only role has applyWhen and
// reads everything; filters, when not empty, is the rules.json "filters"
// array.
func operandProg(t *testing.T, applyWhen, filters string, opts ...evaluator.Option) *evaluator.Program {
	t.Helper()
	rj := `{"database": "db", "collection": "coll", "roles": [{"name": "r", "apply_when": ` + applyWhen + `, "read": true, "write": true}]`
	if filters != "" {
		rj += `, "filters": ` + filters
	}
	rj += `}`
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rj)}})
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func operandReq(t *testing.T, action evaluator.Action, userJSON, docJSON string) (evaluator.Caller, evaluator.Doc) {
	t.Helper()
	u, err := expansion.NewUserObject([]byte(userJSON))
	if err != nil {
		t.Fatal(err)
	}
	return evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u, Values: []byte(`{"known": "t1"}`), Request: []byte(`{"httpMethod": "GET"}`)}},
		evaluator.Doc{Action: action, Document: bsonDoc(t, docJSON)}
}

// TestMissingInsideOperandFailsClosed: an array or document operand
// written in a rule with a missing request value inside (a missing claim,
// %%values or %%request field, a function returning undefined, a failed
// conversion) is itself missing: every comparison with it is false
// ($ne and $nin too), and ReadFilter's clause for it matches nothing. It
// used to be the operand without the element ({"$nin": []} held for every
// document, {"owner": {"org": missing}} was {"owner": {}}).
func TestMissingInsideOperandFailsClosed(t *testing.T) {
	undef := evaluator.WithFunction("undef", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Missing(), nil
	})
	const user = `{"id": "u1", "custom_data": {"orgId": null, "hex": "not-hex"}}`
	for _, tc := range []struct{ name, applyWhen, doc string }{
		{"claim in $nin", `{"team": {"$nin": ["%%user.custom_data.banned"]}}`, `{"_id": 1, "team": "t1"}`},
		{"claim in $nin with others", `{"team": {"$nin": ["x", "%%user.custom_data.banned"]}}`, `{"_id": 1, "team": "t1"}`},
		{"claim in $in with others", `{"team": {"$in": ["%%user.custom_data.banned", "t1"]}}`, `{"_id": 1, "team": "t1"}`},
		{"claim in document", `{"owner": {"org": "%%user.custom_data.orgId2"}}`, `{"_id": 1, "owner": {}}`},
		{"claim in array", `{"owner": ["%%user.custom_data.orgId2"]}`, `{"_id": 1, "owner": []}`},
		{"claim in nested array", `{"owner": {"$ne": [["%%user.custom_data.orgId2"]]}}`, `{"_id": 1, "owner": [[]]}`},
		{"claim in array in document", `{"owner": {"$nin": [{"org": ["%%user.custom_data.orgId2"]}]}}`, `{"_id": 1, "owner": {"org": []}}`},
		{"null claim in $nin", `{"team": {"$nin": ["%%user.custom_data.orgId"]}}`, `{"_id": 1, "team": "t1"}`},
		{"values in $nin", `{"team": {"$nin": ["%%values.unknown"]}}`, `{"_id": 1, "team": "t1"}`},
		{"request in $ne document", `{"meta": {"$ne": {"ip": "%%request.remoteIPAddress"}}}`, `{"_id": 1, "meta": {"ip": "1.2.3.4"}}`},
		{"function undefined in $nin", `{"team": {"$nin": [{"%function": {"name": "undef", "arguments": []}}]}}`, `{"_id": 1, "team": "t1"}`},
		{"conversion in $nin", `{"_id": {"$nin": [{"%stringToOid": "%%user.custom_data.hex"}]}}`, `{"_id": 1}`},
		{"swapped $nin", `{"%%user.id": {"$nin": ["%%user.custom_data.banned"]}}`, `{"_id": 1}`},
		{"swapped document $ne", `{"%%user.custom_data": {"$ne": {"org": "%%user.custom_data.orgId2"}}}`, `{"_id": 1}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := operandProg(t, tc.applyWhen, "", undef)
			ctx := context.Background()
			for _, action := range []evaluator.Action{evaluator.ActionRead, evaluator.ActionInsert} {
				caller, d := operandReq(t, action, user, tc.doc)
				dec, err := prog.Evaluate(ctx, caller, d)
				if dec.Allowed || err != nil {
					t.Errorf("%s: allowed %v (%s), error %v; want no-role", action, dec.Allowed, dec.Reason, err)
				}
			}
			caller, _ := operandReq(t, evaluator.ActionRead, user, tc.doc)
			f, _, err := prog.ReadFilter(ctx, caller)
			if err != nil {
				t.Fatalf("ReadFilter: %v", err)
			}
			if fj, nj := extj(t, f), extj(t, mql.NeverMatch()); fj != nj {
				t.Errorf("ReadFilter %s; want %s", fj, nj)
			}
			wf, err := prog.WriteFilter(ctx, caller, evaluator.ActionWrite, nil)
			if err != nil {
				t.Fatalf("WriteFilter: %v", err)
			}
			if fj, nj := extj(t, wf), extj(t, mql.NeverMatch()); fj != nj {
				t.Errorf("WriteFilter %s; want %s", fj, nj)
			}
		})
	}
	// With every value present, the same operands compare as written.
	for _, tc := range []struct{ applyWhen, doc string }{
		{`{"team": {"$nin": ["%%user.custom_data.banned"]}}`, `{"_id": 1, "team": "t1"}`},
		{`{"owner": {"org": "%%user.custom_data.orgId"}}`, `{"_id": 1, "owner": {"org": "o1"}}`},
		{`{"team": {"$nin": ["%%values.known"]}}`, `{"_id": 1, "team": "t2"}`},
	} {
		prog := operandProg(t, tc.applyWhen, "", undef)
		caller, d := operandReq(t, evaluator.ActionRead, `{"id": "u1", "custom_data": {"banned": "t0", "orgId": "o1"}}`, tc.doc)
		if dec, err := prog.Evaluate(context.Background(), caller, d); !dec.Allowed || err != nil {
			t.Errorf("%s on %s with the values: %s, %v; want allowed", tc.applyWhen, tc.doc, dec.Reason, err)
		}
	}
}

// TestMissingInsideOperandAppliesFilter: in a filter's apply_when, a
// comparison with an operand holding a missing request value is unknown
// (three-valued, as a missing claim alone), so the filter applies; it
// used to compare with the operand without it ({"$in": []} was false and
// the filter did not apply, showing more).
func TestMissingInsideOperandAppliesFilter(t *testing.T) {
	filters := `[{"name": "f", "apply_when": {"%%user.id": {"$in": ["%%user.custom_data.exempt"]}}, "query": {"public": true}}]`
	prog := operandProg(t, `{}`, filters)
	ctx := context.Background()
	caller, d := operandReq(t, evaluator.ActionRead, `{"id": "u1", "custom_data": {}}`, `{"_id": 1, "public": false}`)
	if dec, err := prog.Evaluate(ctx, caller, d); dec.Allowed || dec.Reason != evaluator.ReasonFilter {
		t.Errorf("Evaluate: allowed %v (%s), %v; want the filter to apply", dec.Allowed, dec.Reason, err)
	}
	f, _, err := prog.ReadFilter(ctx, caller)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := extj(t, f), `{"public":{"$eq":true}}`; got != want {
		t.Errorf("ReadFilter %s; want %s", got, want)
	}
	// With the claim, the filter is decided by it.
	caller, d = operandReq(t, evaluator.ActionRead, `{"id": "u1", "custom_data": {"exempt": "u2"}}`, `{"_id": 1, "public": false}`)
	if dec, _ := prog.Evaluate(ctx, caller, d); !dec.Allowed {
		t.Errorf("with a claim that does not match, the filter does not apply: %s", dec.Reason)
	}
}

func extj(t *testing.T, d bson.D) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestOperatorAndUndefinedOperandsFailClosed: a request value, function
// result or stored operand that the server would read as operators (a
// document whose first field starts with "$", not a DBRef: the legacy
// {"$regex": ..., "$options": ...} form a claim holds, refused in $in and
// $nin with "cannot nest $ under $in") or refuse (undefined: "cannot
// compare to undefined"), as the operand or an element of an array
// operand, denies with ReasonError (ErrOperator, ErrUndefined), on insert
// too, where Evaluate alone decides; ReadFilter and WriteFilter return the
// error instead of sending it. Evaluate used to compare them as values and
// allow.
func TestOperatorAndUndefinedOperandsFailClosed(t *testing.T) {
	const user = `{"id": "u1", "custom_data": {
	  "legs": [{"$regex": "o", "$options": ""}], "leg": {"$regex": "o", "$options": ""},
	  "ops": ["t1", {"$gt": 1}], "u": {"$undefined": true}, "us": ["t1", {"$undefined": true}],
	  "deep": {"a": [{"$undefined": true}]}, "plain": "t1"}}`
	fns := []evaluator.Option{
		evaluator.WithFunction("op", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
			return value.FromExtJSON([]byte(`{"$in": ["x"]}`))
		}),
		evaluator.WithFunction("undef", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
			return value.Value{Type: bson.TypeUndefined, Data: []byte{}}, nil
		}),
	}
	for _, tc := range []struct {
		name, applyWhen, doc string
		want                 error
		notExpressible       bool // ReadFilter: ErrNotExpressible (a document value), else want
	}{
		{"claim array $nin", `{"foo": {"$nin": "%%user.custom_data.legs"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrOperator, false},
		{"claim array $in", `{"foo": {"$in": "%%user.custom_data.ops"}}`, `{"_id": 1, "foo": "t1"}`, evaluator.ErrOperator, false},
		{"claim array $ne (membership)", `{"foo": {"$ne": "%%user.custom_data.legs"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrOperator, false},
		{"claim array membership", `{"foo": "%%user.custom_data.ops"}`, `{"_id": 1, "foo": "t1"}`, evaluator.ErrOperator, false},
		{"claim in literal $nin", `{"foo": {"$nin": ["%%user.custom_data.leg"]}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrOperator, false},
		{"claim equality", `{"foo": {"$ne": "%%user.custom_data.leg"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrOperator, false},
		{"claim swapped", `{"%%user.custom_data.leg": {"$nin": "%%root.members"}}`, `{"_id": 1, "members": ["foo"]}`, evaluator.ErrOperator, false},
		{"function $nin", `{"foo": {"$nin": [{"%function": {"name": "op", "arguments": []}}]}}`, `{"_id": 1, "foo": "x"}`, evaluator.ErrOperator, false},
		{"function of the document", `{"foo": {"$nin": [{"%function": {"name": "op", "arguments": ["%%root.foo"]}}]}}`, `{"_id": 1, "foo": "x"}`, evaluator.ErrOperator, true},
		{"stored $nin", `{"foo": {"$nin": ["%%root.pattern"]}}`, `{"_id": 1, "foo": "foo", "pattern": {"$gt": ""}}`, evaluator.ErrOperator, true},
		{"undefined claim $ne", `{"foo": {"$ne": "%%user.custom_data.u"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrUndefined, false},
		{"undefined claim $gt", `{"foo": {"$gt": "%%user.custom_data.u"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrUndefined, false},
		{"undefined in claim array $nin", `{"foo": {"$nin": "%%user.custom_data.us"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrUndefined, false},
		{"undefined deep in claim", `{"foo": {"$ne": "%%user.custom_data.deep"}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrUndefined, false},
		{"undefined in literal array", `{"foo": {"$nin": ["%%user.custom_data.u"]}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrUndefined, false},
		{"undefined function", `{"foo": {"$ne": {"%function": {"name": "undef", "arguments": []}}}}`, `{"_id": 1, "foo": "foo"}`, evaluator.ErrUndefined, false},
		{"undefined stored", `{"foo": {"$ne": "%%root.u"}}`, `{"_id": 1, "foo": "foo", "u": {"$undefined": true}}`, evaluator.ErrUndefined, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := operandProg(t, tc.applyWhen, "", fns...)
			ctx := context.Background()
			for _, action := range []evaluator.Action{evaluator.ActionRead, evaluator.ActionInsert} {
				caller, d := operandReq(t, action, user, tc.doc)
				dec, err := prog.Evaluate(ctx, caller, d)
				if dec.Allowed || dec.Reason != evaluator.ReasonError || !errors.Is(err, tc.want) {
					t.Errorf("%s: allowed %v, reason %s, error %v; want a denial with %v", action, dec.Allowed, dec.Reason, err, tc.want)
				}
			}
			caller, _ := operandReq(t, evaluator.ActionRead, user, tc.doc)
			want := tc.want
			if tc.notExpressible {
				want = evaluator.ErrNotExpressible
			}
			if f, _, err := prog.ReadFilter(ctx, caller); !errors.Is(err, want) {
				t.Errorf("ReadFilter: %s, error %v; want %v", extj(t, f), err, want)
			}
			if f, err := prog.WriteFilter(ctx, caller, evaluator.ActionWrite, nil); !errors.Is(err, want) {
				t.Errorf("WriteFilter: %s, error %v; want %v", extj(t, f), err, want)
			}
		})
	}
	// %%values and %%request are request values too.
	for _, tc := range []struct {
		applyWhen string
		want      error
	}{
		{`{"foo": {"$nin": ["%%values.op"]}}`, evaluator.ErrOperator},
		{`{"foo": {"$ne": "%%request.remoteIPAddress"}}`, evaluator.ErrUndefined},
	} {
		prog := operandProg(t, tc.applyWhen, "")
		caller, d := operandReq(t, evaluator.ActionInsert, `{"id": "u1"}`, `{"_id": 1, "foo": "x"}`)
		caller.Inputs.Values = []byte(`{"op": {"$gt": ""}}`)
		caller.Inputs.Request = []byte(`{"remoteIPAddress": {"$undefined": true}}`)
		if dec, err := prog.Evaluate(context.Background(), caller, d); dec.Allowed || !errors.Is(err, tc.want) {
			t.Errorf("%s: allowed %v, %v; want a denial with %v", tc.applyWhen, dec.Allowed, err, tc.want)
		}
		if _, _, err := prog.ReadFilter(context.Background(), caller); !errors.Is(err, tc.want) {
			t.Errorf("%s: ReadFilter error %v; want %v", tc.applyWhen, err, tc.want)
		}
	}
	// A DBRef is a value for the server ($in accepts it), and so is an
	// operator document deeper inside an operand; a claim that the rule
	// does not reach does not deny.
	for _, tc := range []struct{ applyWhen, doc string }{
		{`{"foo": {"$in": "%%user.custom_data.refs"}}`, `{"_id": 1, "foo": {"$ref": "c", "$id": 1}}`},
		{`{"foo": {"$in": "%%user.custom_data.nested"}}`, `{"_id": 1, "foo": {"a": {"$gt": 1}}}`},
		{`{"foo": "%%user.custom_data.plain"}`, `{"_id": 1, "foo": "t1"}`},
	} {
		prog := operandProg(t, tc.applyWhen, "", fns...)
		caller, d := operandReq(t, evaluator.ActionRead, `{"id": "u1", "custom_data": {"refs": [{"$ref": "c", "$id": 1}], "nested": [{"a": {"$gt": 1}}], "plain": "t1", "u": {"$undefined": true}}}`, tc.doc)
		if dec, err := prog.Evaluate(context.Background(), caller, d); !dec.Allowed || err != nil {
			t.Errorf("%s on %s: %s, %v; want allowed", tc.applyWhen, tc.doc, dec.Reason, err)
		}
		if _, _, err := prog.ReadFilter(context.Background(), caller); err != nil {
			t.Errorf("%s: ReadFilter: %v", tc.applyWhen, err)
		}
	}
}

// TestNullInExpansionArrayNegatedFailsClosed: a null element of an array
// that comes from an expansion is dropped where the array means
// membership (a null claim never matches documents that lack the field),
// but dropping it from a negation ($ne with membership, and $ne/$nin of a
// null-holding request value read from the document's side) widens it.
// Such a negation is false, as with a missing claim, and in a filter's
// apply_when unknown (the filter applies). ($nin of a claim array keeps
// its nulls: operand.dropsNulls.)
func TestNullInExpansionArrayNegatedFailsClosed(t *testing.T) {
	const user = `{"id": "u1", "custom_data": {"banned": [null, "t1"], "ok": ["t1"], "none": null}}`
	for _, tc := range []struct{ name, applyWhen, doc string }{
		{"$ne membership", `{"team": {"$ne": "%%user.custom_data.banned"}}`, `{"_id": 1}`},
		{"swapped $nin", `{"%%user.custom_data.banned": {"$nin": "%%root.teams"}}`, `{"_id": 1, "teams": ["t2"]}`},
		{"swapped $ne", `{"%%user.custom_data.banned": {"$ne": "%%root.team"}}`, `{"_id": 1, "team": "t2"}`},
		{"swapped $ne null claim", `{"%%user.custom_data.none": {"$ne": "%%root.team"}}`, `{"_id": 1, "team": "t2"}`},
		{"swapped $nin null claim", `{"%%user.custom_data.none": {"$nin": "%%root.teams"}}`, `{"_id": 1, "teams": ["t2"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := operandProg(t, tc.applyWhen, "")
			ctx := context.Background()
			caller, d := operandReq(t, evaluator.ActionRead, user, tc.doc)
			if dec, err := prog.Evaluate(ctx, caller, d); dec.Allowed || err != nil {
				t.Errorf("Evaluate: allowed %v (%s), %v; want no-role", dec.Allowed, dec.Reason, err)
			}
			f, _, err := prog.ReadFilter(ctx, caller)
			if err != nil {
				t.Fatal(err)
			}
			if fj, nj := extj(t, f), extj(t, mql.NeverMatch()); fj != nj {
				t.Errorf("ReadFilter %s; want %s", fj, nj)
			}
		})
	}
	// Positive matches still drop the null; without a null the negation
	// holds as written.
	for _, tc := range []struct{ applyWhen, doc string }{
		{`{"team": {"$in": "%%user.custom_data.banned"}}`, `{"_id": 1, "team": "t1"}`},
		{`{"team": "%%user.custom_data.banned"}`, `{"_id": 1, "team": "t1"}`},
		{`{"team": {"$nin": "%%user.custom_data.ok"}}`, `{"_id": 1}`},
		{`{"team": {"$ne": "%%user.custom_data.ok"}}`, `{"_id": 1, "team": "t2"}`},
	} {
		prog := operandProg(t, tc.applyWhen, "")
		caller, d := operandReq(t, evaluator.ActionRead, user, tc.doc)
		if dec, err := prog.Evaluate(context.Background(), caller, d); !dec.Allowed || err != nil {
			t.Errorf("%s on %s: %s, %v; want allowed", tc.applyWhen, tc.doc, dec.Reason, err)
		}
	}
	filters := `[{"name": "f", "apply_when": {"%%user.id": {"$ne": "%%user.custom_data.banned"}}, "query": {"public": true}}]`
	prog := operandProg(t, `{}`, filters)
	caller, d := operandReq(t, evaluator.ActionRead, `{"id": "u1", "custom_data": {"banned": [null, "u1"]}}`, `{"_id": 1, "public": false}`)
	if dec, _ := prog.Evaluate(context.Background(), caller, d); dec.Allowed {
		t.Errorf("a filter whose apply_when negates an array holding a null applies (unknown); allowed")
	}
}

// TestOperandSemanticsOnServer shows the server semantics the refusals
// follow: {"team": {"$nin": [null, "t1"]}} excludes the documents without
// team (null matches a missing field), so the same $nin without its null
// ({"$nin": ["t1"]}) selects more; and the server refuses a document
// starting with a $ field in $nin, the legacy regex form a claim holds
// ("cannot nest $ under $in"; the embedded FerretDB agrees with MongoDB).
// (Undefined is not sent: the embedded server drops the connection.)
func TestOperandSemanticsOnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	ctx := context.Background()
	coll := rulegatetest.Database(t).Collection("ninnull")
	if _, err := coll.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}},
		bson.D{{Key: "_id", Value: 2}, {Key: "team", Value: "t1"}},
		bson.D{{Key: "_id", Value: 3}, {Key: "team", Value: "t2"}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		filter bson.D
		want   string
	}{
		{bson.D{{Key: "team", Value: bson.D{{Key: "$nin", Value: bson.A{nil, "t1"}}}}}, "3"},
		{bson.D{{Key: "team", Value: bson.D{{Key: "$nin", Value: bson.A{"t1"}}}}}, "1,3"},
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
			t.Errorf("%s: the server returns %s, want %s", extj(t, tc.filter), g, tc.want)
		}
	}
	legacy := bson.D{{Key: "$regex", Value: "o"}, {Key: "$options", Value: ""}}
	if _, err := coll.Find(ctx, bson.D{{Key: "team", Value: bson.D{{Key: "$nin", Value: bson.A{legacy}}}}}); err == nil || !strings.Contains(err.Error(), "cannot nest $ under $in") {
		t.Errorf("the server accepts a $-document in $nin (error %v): revisit ErrOperator", err)
	}
}
