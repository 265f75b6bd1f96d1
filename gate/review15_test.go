package gate_test

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The review of issue 15's gate changes: each test is a hole the review
// tried, named after it.

const allowAllDefault = `{"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true, "insert": true, "delete": true}]}`

// TestDatabaseMappingCaseBypass: MongoDB database names are unique without
// case, so the mapped deployment database asked for in another case is the
// same data (or, on MongoDB, a database that cannot be created beside it):
// it is denied with no-rules as its own name is, under a default rule too.
func TestDatabaseMappingCaseBypass(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	fsys := rulesFS("app", ownerRules, "notes")
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(allowAllDefault)}
	g := newGate(t, db.Client(), fsys, gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if _, err := db.Collection("notes").InsertOne(ctx, bson.D{{Key: "owner", Value: "b1"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{strings.ToUpper(db.Name()), strings.ToUpper(db.Name()[:1]) + db.Name()[1:]} {
		if name == db.Name() {
			continue
		}
		direct := g.For(user(t, `{"id": "a1"}`)).Database(name).Collection("notes")
		_, err := direct.CountDocuments(ctx, bson.D{})
		wantDenied(t, err, "CountDocuments", evaluator.ActionRead, evaluator.ReasonNoRules)
		_, err = direct.DeleteMany(ctx, bson.D{})
		wantDenied(t, err, "DeleteMany", evaluator.ActionDelete, evaluator.ReasonNoRules)
	}
	if n, err := db.Collection("notes").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("the deployment holds %d, %v; want bob's note kept", n, err)
	}
}

// TestDatabaseMappingReservedRefused: a rules database mapped onto one of
// MongoDB's own (admin, local, config, in any case) would let a default
// rule, or a rule written for an app's data, reach the oplog or the users'
// credentials: New refuses it, as rules.Reserved keeps default rules out.
// A mapping onto two names differing only in case, and onto a case variant
// of another rules database, are refused like the same name.
func TestDatabaseMappingReservedRefused(t *testing.T) {
	t.Parallel()
	client := rulegatetest.Client(t)
	fsys := rulesFS("app", ownerRules, "notes")
	for k, v := range rulesFS("other", ownerRules, "notes") {
		fsys[k] = v
	}
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(allowAllDefault)}
	prog := newGate(t, client, fsys).Program()
	for _, tc := range []struct {
		m    map[string]string
		want string
	}{
		{map[string]string{"app": "local"}, `"local" is reserved`},
		{map[string]string{"app": "Admin"}, `"Admin" is reserved`},
		{map[string]string{"x": "CONFIG"}, `"CONFIG" is reserved`},
		{map[string]string{"app": "t", "other": "T"}, `"app" and "other" both map to "T"`},
		{map[string]string{"app": "Other"}, `"Other" has rules of its own`},
	} {
		_, err := gate.New(client, prog, gate.WithDatabaseMapping(tc.m))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New with %v: %v, want an error saying %s", tc.m, err, tc.want)
		}
	}
}
