package evaluator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
)

// driftProgram compiles one collection, db.c, with the given roles and
// filters (JSON arrays).
func driftProgram(tb testing.TB, roles, filters string) *evaluator.Program {
	tb.Helper()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(
		`{"database": "db", "collection": "c", "roles": ` + roles + `, "filters": ` + filters + `}`)}})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func driftBound(tb testing.TB, p *evaluator.Program, customData string) *evaluator.Bound {
	tb.Helper()
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": ` + customData + `}`))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := p.Bind(context.Background(), evaluator.Caller{Namespace: "db.c", Inputs: expansion.Inputs{User: u}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func noteMsgs(ns []evaluator.Note) string {
	var s []string
	for _, n := range ns {
		s = append(s, string(n.Ptr)+": "+n.Msg+" ("+n.Code+")")
	}
	return strings.Join(s, "\n")
}

// TestNotesTypeDrift: a request value of the wrong shape for its operator
// is noted, once per condition, in the order of the rules; a value of the
// right shape, a missing or a null one is not.
func TestNotesTypeDrift(t *testing.T) {
	p := driftProgram(t, `[
		{"name": "in", "apply_when": {"team": {"$in": "%%user.custom_data.a"}}, "read": true},
		{"name": "nin", "apply_when": {"$nor": [{"team": {"$nin": "%%user.custom_data.b"}}]}, "read": true},
		{"name": "all", "apply_when": {"tags": {"$all": "%%user.custom_data.c"}}, "read": true},
		{"name": "size", "apply_when": {"tags": {"$size": "%%user.custom_data.d"}}, "read": true},
		{"name": "type", "apply_when": {"tags": {"$type": "%%user.custom_data.e"}}, "read": true},
		{"name": "mod", "apply_when": {"n": {"$mod": "%%user.custom_data.f"}}, "read": true},
		{"name": "eq", "apply_when": {"team": "%%user.custom_data.a"}, "read": true}
	]`, `[{"name": "f", "apply_when": {"%%user.custom_data.g": {"$in": "%%user.custom_data.a"}}, "query": {"x": 1}}]`)
	tests := []struct{ data, want string }{
		{`{"a": "t1", "b": 5, "c": {"k": 1}, "d": "2", "e": true, "f": [0, 1]}`, `/filters/0/apply_when/%%user.custom_data.g/$in: $in expects an array, got string from %%user.custom_data.a (evaluator/type-drift)
/roles/0/apply_when/team/$in: $in expects an array, got string from %%user.custom_data.a (evaluator/type-drift)
/roles/1/apply_when/$nor/0/team/$nin: $nin expects an array, got int from %%user.custom_data.b (evaluator/type-drift)
/roles/2/apply_when/tags/$all: $all expects an array, got object from %%user.custom_data.c (evaluator/type-drift)
/roles/3/apply_when/tags/$size: $size expects a whole number from 0 to 2^31-1, got string from %%user.custom_data.d (evaluator/type-drift)
/roles/4/apply_when/tags/$type: $type expects a type alias or number, got bool from %%user.custom_data.e (evaluator/type-drift)
/roles/5/apply_when/n/$mod: $mod expects [divisor, remainder] with a divisor other than 0, got array from %%user.custom_data.f (evaluator/type-drift)`},
		{`{"a": ["t1"], "b": [5], "c": ["x", null], "d": 2, "e": "string", "f": [2, 1]}`, ``},
		{`{}`, ``},
		{`{"a": null, "b": null, "c": null, "d": null, "e": null, "f": null}`, ``},
	}
	ctx := context.Background()
	for _, tc := range tests {
		b := driftBound(t, p, tc.data)
		if got := noteMsgs(b.Notes()); got != tc.want {
			t.Errorf("custom data %s: notes\n%s\nwant\n%s", tc.data, got, tc.want)
		}
		dec, _ := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1, "team": "t1", "x": 1}`)})
		if got := noteMsgs(dec.Notes); got != tc.want {
			t.Errorf("custom data %s: Decision.Notes\n%s\nwant\n%s", tc.data, got, tc.want)
		}
	}
	for _, n := range driftBound(t, p, tests[0].data).Notes() {
		if n.File != "data_sources/mongodb-atlas/db/c/rules.json" {
			t.Errorf("note %v: file %q", n, n.File)
		}
	}
}

// TestNotesDoNotChangeDecisions: with or without a note, the decision and
// the filter are those of a missing operand; an error keeps the notes.
func TestNotesDoNotChangeDecisions(t *testing.T) {
	p := driftProgram(t, `[
		{"name": "team", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "read": true},
		{"name": "boom", "apply_when": {"%%user.custom_data.x": {"$exists": true}}, "read": {"%%user.custom_data.re": "a"}}
	]`, `[]`)
	ctx := context.Background()
	doc := exampleDoc(`{"_id": 1, "team": "t1"}`)
	drift := driftBound(t, p, `{"teamIds": "t1"}`)
	missing := driftBound(t, p, `{}`)
	for _, b := range []*evaluator.Bound{drift, missing} {
		dec, err := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
		if err != nil || dec.Allowed || dec.Reason != evaluator.ReasonNoRole {
			t.Errorf("Evaluate = %+v, %v; want no-role", dec, err)
		}
		f, _, err := b.ReadFilter(ctx)
		if err != nil || fmt.Sprint(f) != fmt.Sprint(mql.NeverMatch()) {
			t.Errorf("ReadFilter = %v, %v", f, err)
		}
	}
	if len(missing.Notes()) != 0 || len(drift.Notes()) != 1 {
		t.Errorf("notes: missing %v, drift %v", missing.Notes(), drift.Notes())
	}
	// An evaluation error (a regex claim: ErrRegex) keeps the notes.
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": {"teamIds": "t1", "x": 1, "re": {"$regularExpression": {"pattern": "a", "options": ""}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	dec, err := p.Evaluate(ctx, evaluator.Caller{Namespace: "db.c", Inputs: expansion.Inputs{User: u}}, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
	if err == nil || dec.Reason != evaluator.ReasonError || len(dec.Notes) != 1 {
		t.Errorf("Evaluate = %+v, %v; want an error with the note", dec, err)
	}
}

// TestEvaluateZeroAllocsWithNotes: the notes are made at Bind; deciding
// a document of a request that has some allocates nothing either.
func TestEvaluateZeroAllocsWithNotes(t *testing.T) {
	p := driftProgram(t, `[{"name": "team", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "read": true},
		{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true}]`, `[]`)
	b := driftBound(t, p, `{"teamIds": "t1"}`)
	ctx := context.Background()
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1, "team": "t1", "owner": "u1"}`)}
	if a := testing.AllocsPerRun(200, func() {
		if dec, _ := b.Evaluate(ctx, doc); !dec.Allowed || len(dec.Notes) != 1 {
			t.Fatal(dec)
		}
	}); a != 0 {
		t.Errorf("%v allocations per document, want 0", a)
	}
}

// A custom data field written as a string where the rules expect an array
// of team ids: the teammate role cannot apply (the server refuses the
// query), and the decision says why.
func ExampleBound_Notes() {
	app, _ := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(`{
	  "database": "app", "collection": "notes",
	  "roles": [{"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "read": true}]
	}`)}})
	p, _ := evaluator.Compile(app)
	u, _ := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": {"teamIds": "t1"}}`))
	ctx := context.Background()
	b, _ := p.Bind(ctx, evaluator.Caller{Namespace: "app.notes", Inputs: expansion.Inputs{User: u}})
	dec, _ := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: exampleDoc(`{"_id": 1, "team": "t1"}`)})
	fmt.Println(dec.Allowed, dec.Reason)
	for _, n := range b.Notes() {
		fmt.Println(n)
	}
	// Output:
	// false no-role
	// data_sources/mongodb-atlas/app/notes/rules.json#/roles/0/apply_when/team/$in: $in expects an array, got string from %%user.custom_data.teamIds (evaluator/type-drift)
}
