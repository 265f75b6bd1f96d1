package evaluator_test

import (
	"context"
	"fmt"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// TestReadsWhole: true only when every role that can decide a document
// for the caller reads every field of it whatever it holds, and no
// filter with a projection can apply.
func TestReadsWhole(t *testing.T) {
	const owner = `{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true}`
	for _, tc := range []struct {
		name, body string
		want       bool
	}{
		{"owner and teammate read all", `"roles": [` + owner + `, {"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teams"}}, "read": true}]`, true},
		{"write implies read", `"roles": [{"name": "w", "apply_when": {}, "write": true}]`, true},
		{"teammate reads some fields", `"roles": [` + owner + `, {"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teams"}}, "fields": {"title": {"read": true}}}]`, false},
		{"additional_fields read", `"roles": [{"name": "r", "apply_when": {}, "additional_fields": {"read": true}}]`, true},
		{"named fields and additional_fields read", `"roles": [{"name": "r", "apply_when": {}, "fields": {"title": {"read": true}}, "additional_fields": {"read": true}}]`, true},
		{"an embedded field hidden", `"roles": [{"name": "r", "apply_when": {}, "fields": {"profile": {"read": true, "fields": {"ssn": {"read": false}}}}, "additional_fields": {"read": true}}]`, false},
		{"read decided by the document", `"roles": [{"name": "r", "apply_when": {}, "read": {"public": true}}]`, false},
		{"a role the caller never gets", `"roles": [{"name": "admin", "apply_when": {"%%user.custom_data.admin": true}, "fields": {"title": {"read": true}}}, ` + owner + `]`, true},
		{"a role the caller gets by claim", `"roles": [{"name": "admin", "apply_when": {"%%user.custom_data.teams": "red"}, "fields": {"title": {"read": true}}}, ` + owner + `]`, false},
		{"an earlier role for every document", `"roles": [{"name": "all", "apply_when": {}, "read": true}, {"name": "some", "apply_when": {}, "fields": {"title": {"read": true}}}]`, true},
		{"a filter projection that applies", `"roles": [` + owner + `], "filters": [{"name": "f", "apply_when": {}, "projection": {"secret": 0}}]`, false},
		{"a filter projection that cannot apply", `"roles": [` + owner + `], "filters": [{"name": "f", "apply_when": {"%%user.custom_data.admin": true}, "projection": {"secret": 0}}]`, true},
		{"a filter projection whose claim is missing", `"roles": [` + owner + `], "filters": [{"name": "f", "apply_when": {"%%user.custom_data.staff": true}, "projection": {"secret": 0}}]`, false},
		{"a filter query only", `"roles": [` + owner + `], "filters": [{"name": "f", "apply_when": {}, "query": {"deleted": false}}]`, true},
		{"no role", `"roles": []`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := rules.LoadApp(fstest.MapFS{
				"data_sources/mongodb-atlas/shop/notes/rules.json": {Data: []byte(fmt.Sprintf(`{"database": "shop", "collection": "notes", %s}`, tc.body))},
			})
			if err != nil {
				t.Fatal(err)
			}
			p, err := evaluator.Compile(app)
			if err != nil {
				t.Fatal(err)
			}
			u, err := expansion.NewUserObject([]byte(`{"id": "u1", "type": "normal", "custom_data": {"teams": ["red", "blue"], "admin": false}}`))
			if err != nil {
				t.Fatal(err)
			}
			b, err := p.Bind(context.Background(), evaluator.Caller{Namespace: "shop.notes", Inputs: expansion.Inputs{User: u}})
			if err != nil {
				t.Fatal(err)
			}
			if got := b.ReadsWhole(context.Background()); got != tc.want {
				t.Fatalf("ReadsWhole = %v, want %v", got, tc.want)
			}
		})
	}
	// A namespace without rules reads nothing.
	p, err := evaluator.Compile(&rules.App{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Bind(context.Background(), evaluator.Caller{Namespace: "shop.none"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ReadsWhole(context.Background()) {
		t.Fatal("ReadsWhole without rules = true")
	}
}

// ReadsWhole says whether the documents a caller reads need redacting at
// all: with exampleRules a team member's orders are (the team role reads
// only status and total); when the team role reads everything too, no
// document ever is.
func ExampleBound_ReadsWhole() {
	ctx := context.Background()
	caller := evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}}
	whole, _ := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/shop/orders/rules.json": {Data: []byte(`{
		"database": "shop", "collection": "orders",
		"roles": [
			{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true},
			{"name": "team", "apply_when": {"team": {"$in": "%%user.custom_data.teams"}}, "read": true}
		]}`)}})
	wholeProgram, err := evaluator.Compile(whole)
	if err != nil {
		panic(err)
	}
	for _, p := range []*evaluator.Program{exampleProgram(), wholeProgram} {
		b, err := p.Bind(ctx, caller)
		if err != nil {
			panic(err)
		}
		fmt.Println(b.ReadsWhole(ctx))
	}
	// Output:
	// false
	// true
}
