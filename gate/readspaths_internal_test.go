package gate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Building blocks of the generated rules of
// TestReadsPathsAgreesWithDecisions.
var (
	rpApplyWhen = []string{`{}`, `{"owner_id": "%%user.id"}`, `{"team": {"$in": "%%user.custom_data.teams"}}`, `{"status": "open"}`,
		`{"%%user.custom_data.admin": true}`, `{"profile.name": {"$exists": true}}`, `{"private": {"$exists": false}}`, `{"meta.tags": {"$exists": true}}`, `{"title": {"$type": "string"}}`, `{"%%root.status": "open"}`, `{"$or": [{"public": true}, {"owner_id": "%%user.id"}]}`}
	rpPerm   = []string{`true`, `false`, `{"public": true}`, `{"status": "open"}`, `{"owner_id": "%%user.id"}`}
	rpFields = []string{
		`"private": {"read": false}`, `"private": {"read": %s}`, `"title": {"read": true}`, `"status": {"write": %s}`,
		`"profile": {"fields": {"name": {"read": true}}, "additional_fields": {"read": %s}}`,
		`"profile": {"read": true, "fields": {"ssn": {"read": false}}}`, `"meta": {"read": %s}`,
		`"profile": {"fields": {"name": {"read": true}}, "additional_fields": {"read": true}}`,
		`"profile": {"fields": {"ssn": {"read": false}}, "additional_fields": {"read": true}}`,
		`"meta": {"fields": {"tags": {"read": true}}}`, `"meta": {"fields": {"tags": {"read": true}}, "additional_fields": {"read": true}}`,
		`"profile": {"write": true, "fields": {"ssn": {"read": false}}}`, `"profile": {"read": true, "fields": {"ssn": {"write": false}}}`,
		`"title": {"write": %s}`, `"_id": {"read": false}`, `"meta": {"fields": {"tags": {"fields": {"k": {"read": true}}}}}`,
		`"profile": {"fields": {"name": {"write": true}}, "additional_fields": {"write": true}}`,
	}
	rpFilters = []string{
		`{"name": "f", "apply_when": {}, "projection": {"private": 0}}`,
		`{"name": "f", "apply_when": {}, "projection": {"profile.ssn": 0}}`,
		`{"name": "f", "apply_when": {}, "projection": {"title": 1, "status": 1, "meta": 1}}`,
		`{"name": "f", "apply_when": {"%%user.custom_data.admin": true}, "projection": {"status": 0}}`,
		`{"name": "f", "apply_when": {}, "query": {"deleted": {"$ne": true}}}`,
		`{"name": "f", "apply_when": {}, "query": {"status": {"$exists": true}}}`,
		`{"name": "f", "apply_when": {}, "query": {"profile": {"$exists": false}}}`,
		`{"name": "f", "apply_when": {}, "query": {"title": null}}`,
		`{"name": "f", "apply_when": {}, "projection": {"meta.tags": 0}}`, `{"name": "f", "apply_when": {"%%user.custom_data.admin": false}, "projection": {"title": 0}}`,
		`{"name": "f", "apply_when": {}, "query": {"meta.tags.k": 1}}`, `{"name": "f", "apply_when": {}, "projection": {"_id": 0, "title": 1}}`,
		`{"name": "f", "apply_when": {"%%user.custom_data.admin": false}, "query": {"public": true}, "projection": {"profile": 1, "title": 1}}`,
	}
	rpPaths = [][]string{{"status"}, {"title"}, {"status", "title"}, {"private"}, {"profile.name"}, {"profile"}, {"meta.tags"},
		{"meta.tags.k"}, {"owner_id"}, {"_id"}, {"status.x"}, {"team"}, {"profile.ssn"}, {"meta"}, {"deleted"}, {"public"}, {"title.0"}, {"meta.tags.0.k"}, {"profile", "profile.name"}}
	// rpValues: what a generated document holds at a field, absent
	// included (""), null, arrays and embedded documents.
	rpValues = []string{"", `null`, `"open"`, `"done"`, `1`, `[]`, `["open", "x"]`, `[{"k": 1}, 2]`, `{}`, `{"x": 1, "k": "a"}`, `{"name": "n", "ssn": "s"}`, `true`}
)

func rpPick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

func rpFill(r *rand.Rand, s string) string {
	if strings.Contains(s, "%s") {
		return fmt.Sprintf(s, rpPick(r, rpPerm))
	}
	return s
}

func rpRules(r *rand.Rand) string {
	var roles []string
	for i := range 1 + r.IntN(3) {
		parts := []string{fmt.Sprintf(`"name": "r%d"`, i), `"apply_when": ` + rpPick(r, rpApplyWhen)}
		if r.IntN(4) == 0 {
			parts = append(parts, `"document_filters": {"read": `+rpPick(r, rpPerm)+`}`)
		}
		if r.IntN(3) == 0 {
			parts = append(parts, `"read": `+rpPick(r, rpPerm))
		} else {
			seen := map[string]bool{}
			var fs []string
			for range r.IntN(3) {
				f := rpPick(r, rpFields)
				name := f[:strings.Index(f[1:], `"`)+2]
				if !seen[name] {
					seen[name] = true
					fs = append(fs, rpFill(r, f))
				}
			}
			parts = append(parts, `"fields": {`+strings.Join(fs, ", ")+`}`)
			if r.IntN(2) == 0 {
				parts = append(parts, `"additional_fields": {"read": `+rpPick(r, rpPerm)+`}`)
			}
		}
		roles = append(roles, "{"+strings.Join(parts, ", ")+"}")
	}
	filters := ""
	if r.IntN(3) == 0 {
		filters = `, "filters": [` + rpPick(r, rpFilters) + `]`
	}
	return `{"database": "db", "collection": "notes", "roles": [` + strings.Join(roles, ", ") + `]` + filters + `}`
}

func rpDoc(t *testing.T, r *rand.Rand, i int) bson.Raw {
	parts := []string{fmt.Sprintf(`"_id": %d`, i)}
	for _, f := range []string{"owner_id", "team", "status", "title", "private", "public", "profile", "meta", "deleted"} {
		v := rpPick(r, rpValues)
		switch {
		case f == "owner_id" && r.IntN(2) == 0:
			v = `"u1"`
		case f == "team" && r.IntN(2) == 0:
			v = `"red"`
		case f == "meta" && r.IntN(2) == 0:
			v = `{"tags": [{"k": 1}, "x"]}`
		}
		if v != "" {
			parts = append(parts, fmt.Sprintf("%q: %s", f, v))
		}
	}
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte("{"+strings.Join(parts, ", ")+"}"), false, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestReadsPathsAgreesWithDecisions: on generated rules and documents
// (fields absent, null, scalars, arrays, embedded documents), whenever
// Bound.ReadsPaths says a caller reads the paths of a client filter or
// sort, the gate's per-document check (readable, with refsOK's probe of
// absent paths) keeps every document the caller may read: the server's
// n-th document is the caller's n-th, and the server may page. An exact
// rule filter (readScope) matches, in Go, exactly the documents the
// decision allows: paging also relies on that.
func TestReadsPathsAgreesWithDecisions(t *testing.T) {
	ctx := context.Background()
	// The client never connects: decisions need no server.
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Disconnect(ctx) }()
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "type": "normal", "custom_data": {"teams": ["red", "blue"], "admin": false}}`))
	if err != nil {
		t.Fatal(err)
	}
	seeds := 400
	if testing.Short() {
		seeds = 60
	}
	yes, no, kept := 0, 0, 0
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 15))
		js := rpRules(r)
		app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/notes/rules.json": {Data: []byte(js)}})
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, js)
		}
		prog, err := evaluator.Compile(app)
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, js)
		}
		g, err := New(client, prog)
		if err != nil {
			t.Fatal(err)
		}
		c := g.For(u).Database("db").Collection("notes")
		b, err := c.bind(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var docs []bson.Raw
		for i := range 40 {
			docs = append(docs, rpDoc(t, r, i))
		}
		rf, _, exact, err := readScope(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		if exact {
			rfRaw, _ := bson.Marshal(rf)
			for _, doc := range docs {
				d, err := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
				if err != nil {
					continue
				}
				m, err := mql.Match(rfRaw, doc)
				if err != nil || m != d.Allowed {
					t.Errorf("seed %d: exact rule filter %s matches %v (%v), decision allowed %v\nrules: %s\ndocument: %s", seed, rf, m, err, d.Allowed, js, doc)
				}
			}
		}
		for _, paths := range rpPaths {
			if !b.ReadsPaths(ctx, paths) {
				no++
				continue
			}
			yes++
			for _, doc := range docs {
				d, err := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
				if err != nil || !d.Allowed {
					continue
				}
				_, ok, err := c.readable(ctx, b, "Find", doc, paths)
				if err != nil || !ok {
					t.Fatalf("seed %d: ReadsPaths(%v) is true, but the gate leaves out a document role %q may read (%v)\nrules: %s\ndocument: %s", seed, paths, d.Role, err, js, doc)
				}
				kept++
			}
		}
	}
	t.Logf("ReadsPaths true %d times (%d documents kept), false %d times", yes, kept, no)
	if yes == 0 || no == 0 || kept == 0 {
		t.Fatal("the generator does not cover both answers")
	}
}
