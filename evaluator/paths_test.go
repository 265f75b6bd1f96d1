package evaluator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// readsPathsBound binds user u1 (teams red and blue, admin false) on
// shop.notes under the rules body.
func readsPathsBound(t *testing.T, body string) *evaluator.Bound {
	t.Helper()
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/shop/notes/rules.json": {Data: []byte(fmt.Sprintf(`{"database": "shop", "collection": "notes", %s}`, body))},
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
	return b
}

// readsPathsCases: rule bodies, paths, and whether every document the
// caller may read shows each path (TestReadsPaths; the gate's
// TestReadsPathsAgreesWithDecisions decides generated documents under the
// same cases).
var readsPathsCases = []struct {
	name, body, paths string
	want              bool
}{
	{"owner and teammate, teammate hides private", teammateHides, "status title", true},
	{"sorted by the hidden field", teammateHides, "status private", false},
	{"a path inside a readable field", teammateHides, "meta.tags", true},
	{"inside the hidden field", teammateHides, "private.x", false},
	{"the owner's apply_when field", teammateHides, "owner_id", false},
	{"inside the teammate's apply_when field", teammateHides, "team.name", false},
	{"every field", teammateHides, "*", false},
	{"no path", teammateHides, "", true},
	{"a role that reads nothing", `"roles": [{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true}, {"name": "none", "apply_when": {}, "read": false}]`, "status", true},
	{"a role the caller never gets", `"roles": [{"name": "admin", "apply_when": {"%%user.custom_data.admin": true}, "fields": {"title": {"read": true}}}, {"name": "all", "apply_when": {}, "read": true}]`, "status", true},
	{"additional_fields read", `"roles": [{"name": "r", "apply_when": {}, "fields": {"private": {"read": false}}, "additional_fields": {"read": true}}]`, "status", true},
	{"an unnamed field without additional_fields", `"roles": [{"name": "r", "apply_when": {}, "fields": {"title": {"read": true}}}]`, "status", false},
	{"a field read by the document", `"roles": [{"name": "r", "apply_when": {}, "fields": {"status": {"read": {"public": true}}}, "additional_fields": {"read": true}}]`, "status", false},
	{"read decided by the document", `"roles": [{"name": "r", "apply_when": {}, "read": {"public": true}}]`, "status", false},
	{"write implies read", `"roles": [{"name": "r", "apply_when": {}, "fields": {"status": {"write": true}}}]`, "status", true},
	{"document_filters on the document", `"roles": [{"name": "r", "apply_when": {}, "document_filters": {"read": {"archived": false}}, "read": true}]`, "status", false},
	{"document_filters read by the path", `"roles": [{"name": "r", "apply_when": {}, "document_filters": {"read": {"status": "open"}}, "read": true}]`, "title", false},
	{"embedded field rules, every embedded field readable", `"roles": [{"name": "r", "apply_when": {}, "fields": {"profile": {"fields": {"name": {"read": true}}, "additional_fields": {"read": true}}}}]`, "profile.name", true},
	{"embedded field rules hiding one", `"roles": [{"name": "r", "apply_when": {}, "fields": {"profile": {"fields": {"ssn": {"read": false}}, "additional_fields": {"read": true}}}, "additional_fields": {"read": true}}]`, "profile.name", false},
	{"embedded field rules on another path", `"roles": [{"name": "r", "apply_when": {}, "fields": {"profile": {"fields": {"ssn": {"read": false}}, "additional_fields": {"read": true}}}, "additional_fields": {"read": true}}]`, "status", true},
	{"embedded field rules under a readable field", `"roles": [{"name": "r", "apply_when": {}, "fields": {"profile": {"read": true, "fields": {"ssn": {"read": false}}}}, "additional_fields": {"read": true}}]`, "profile.name", true},
	{"a filter projection withholding the path", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "projection": {"status": 0}}]`, "status", false},
	{"a filter projection withholding an embedded field", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "projection": {"meta.secret": 0}}]`, "meta.tags", false},
	{"a filter projection withholding another field", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "projection": {"private": 0}}]`, "status title", true},
	{"an inclusive filter projection", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "projection": {"status": 1, "title": 1}}]`, "status title _id", true},
	{"an inclusive filter projection without the path", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "projection": {"title": 1}}]`, "status", false},
	{"a filter projection that cannot apply", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {"%%user.custom_data.admin": true}, "projection": {"status": 0}}]`, "status", true},
	{"a filter query on the path", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "query": {"status": {"$exists": false}}}]`, "status", false},
	{"a filter query on another field", `"roles": [{"name": "r", "apply_when": {}, "read": true}], "filters": [{"name": "f", "apply_when": {}, "query": {"deleted": false}}]`, "status", true},
	{"a permission comparing the whole document", `"roles": [{"name": "r", "apply_when": {"%%root": {"$exists": true}}, "read": true}]`, "status", false},
	{"no role", `"roles": []`, "status", false},
}

const teammateHides = `"roles": [
	{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true},
	{"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teams"}}, "fields": {"private": {"read": false}}, "additional_fields": {"read": true}}]`

// TestReadsPaths: true only when every role that can decide a document for
// the caller reads each path whatever the document holds, no filter
// projection that can apply withholds one, and no rule reads a path
// overlapping one (so that a document lacking it is decided alike with
// it present).
func TestReadsPaths(t *testing.T) {
	for _, tc := range readsPathsCases {
		t.Run(tc.name, func(t *testing.T) {
			b := readsPathsBound(t, tc.body)
			if got := b.ReadsPaths(context.Background(), strings.Fields(tc.paths)); got != tc.want {
				t.Fatalf("ReadsPaths(%q) = %v, want %v", tc.paths, got, tc.want)
			}
		})
	}
	p, err := evaluator.Compile(&rules.App{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Bind(context.Background(), evaluator.Caller{Namespace: "shop.none"})
	if err != nil {
		t.Fatal(err)
	}
	if b.ReadsPaths(context.Background(), []string{"status"}) {
		t.Fatal("ReadsPaths without rules = true")
	}
}

// ReadsPaths says whether a client filter or sort may be paged by the
// server: with exampleRules both the owner and the team role read status
// and total in every order, whatever it holds; the team role cannot read
// the note, and owner_id is what the owner role is chosen by.
func ExampleBound_ReadsPaths() {
	ctx := context.Background()
	b, err := exampleProgram().Bind(ctx, evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}})
	if err != nil {
		panic(err)
	}
	fmt.Println(b.ReadsPaths(ctx, []string{"status", "total"}))
	fmt.Println(b.ReadsPaths(ctx, []string{"status", "note"}))
	fmt.Println(b.ReadsPaths(ctx, []string{"owner_id"}))
	// Output:
	// true
	// false
	// false
}
