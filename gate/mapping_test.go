package gate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

const ownerRules = `"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"},
	"document_filters": {"read": {"owner": "%%user.id"}, "write": {"owner": "%%user.id"}},
	"read": true, "write": true, "insert": true, "delete": true}]`

// TestDatabaseMapping: the caller asks for the rules' database "app", the
// gate decides with the rules of app.notes and reads and writes the test's
// database; names in handles and errors stay the rules'.
func TestDatabaseMapping(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	g := newGate(t, db.Client(), rulesFS("app", ownerRules, "notes"), gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	alice := g.For(user(t, `{"id": "a1"}`)).Database("app")
	if alice.Name() != "app" {
		t.Errorf("Database.Name = %q, want the rules' name app", alice.Name())
	}
	notes := alice.Collection("notes")
	if notes.Namespace() != "app.notes" {
		t.Errorf("Namespace = %q, want app.notes", notes.Namespace())
	}
	if _, err := notes.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "owner", Value: "a1"}}); err != nil {
		t.Fatal(err)
	}
	// Stored in the deployment database, not in "app".
	if n, err := db.Collection("notes").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("deployment %s.notes holds %d, %v; want 1", db.Name(), n, err)
	}
	if n, err := db.Client().Database("app").Collection("notes").CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("app.notes holds %d, %v; want nothing written there", n, err)
	}
	if n, err := notes.CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("gated count = %d, %v; want 1", n, err)
	}
	// A denial names the rules' namespace.
	_, err := notes.InsertOne(ctx, bson.D{{Key: "owner", Value: "b1"}})
	wantDenied(t, err, "InsertOne", evaluator.ActionInsert, "")
	var de *gate.DeniedError
	if errors.As(err, &de) && de.Namespace != "app.notes" {
		t.Errorf("denial namespace %q, want app.notes", de.Namespace)
	}
	// System maps the same way: trusted code stays in the test's database.
	if n, err := g.System().Database("app").Collection("notes").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("System().Database(app) count = %d, %v; want the deployment's 1", n, err)
	}
	// The deployment's name asked for directly reaches nothing.
	direct := g.For(user(t, `{"id": "a1"}`)).Database(db.Name()).Collection("notes")
	_, err = direct.Find(ctx, bson.D{})
	wantDenied(t, err, "Find", evaluator.ActionRead, evaluator.ReasonNoRules)
	_, err = direct.DeleteMany(ctx, bson.D{})
	wantDenied(t, err, "DeleteMany", evaluator.ActionDelete, evaluator.ReasonNoRules)
}

// TestDatabaseMappingDefaultRule: under a default rule too, the deployment
// database another name maps to is not reachable by its own name.
func TestDatabaseMappingDefaultRule(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	fsys := rulesFS("app", ownerRules, "notes")
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(`{"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true, "insert": true, "delete": true}]}`)}
	g := newGate(t, db.Client(), fsys, gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if _, err := db.Collection("notes").InsertOne(ctx, bson.D{{Key: "owner", Value: "b1"}}); err != nil {
		t.Fatal(err)
	}
	direct := g.For(user(t, `{"id": "a1"}`)).Database(db.Name()).Collection("notes")
	_, err := direct.CountDocuments(ctx, bson.D{})
	wantDenied(t, err, "CountDocuments", evaluator.ActionRead, evaluator.ReasonNoRules)
	_, err = direct.UpdateMany(ctx, bson.D{}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "a1"}}}})
	wantDenied(t, err, "UpdateMany", evaluator.ActionWrite, evaluator.ReasonNoRules)
	// Through the rules' name, bob's note stays invisible to alice.
	if n, err := g.For(user(t, `{"id": "a1"}`)).Database("app").Collection("notes").CountDocuments(ctx, bson.D{}); err != nil || n != 0 {
		t.Errorf("alice counts %d, %v; want 0", n, err)
	}
}

func TestDatabaseMappingRefused(t *testing.T) {
	t.Parallel()
	client := rulegatetest.Client(t)
	fsys := rulesFS("app", ownerRules, "notes")
	for k, v := range rulesFS("other", ownerRules, "notes") {
		fsys[k] = v
	}
	prog := newGate(t, client, fsys).Program()
	for _, tc := range []struct {
		m    map[string]string
		want string
	}{
		{map[string]string{"app": ""}, "empty database name"},
		{map[string]string{"": "x"}, "empty database name"},
		{map[string]string{"app": "t", "other": "t"}, `"app" and "other" both map to "t"`},
		{map[string]string{"app": "other"}, `"other" has rules of its own`},
	} {
		_, err := gate.New(client, prog, gate.WithDatabaseMapping(tc.m))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New with %v: %v, want an error saying %s", tc.m, err, tc.want)
		}
	}
	// Swapping two rules databases, or mapping one to itself, is a mapping.
	for _, m := range []map[string]string{{"app": "other", "other": "app"}, {"app": "app"}} {
		if _, err := gate.New(client, prog, gate.WithDatabaseMapping(m)); err != nil {
			t.Errorf("New with %v: %v", m, err)
		}
	}
}
