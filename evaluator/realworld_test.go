package evaluator_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// realworldApp loads one of the exported apps of ../shared/realworld (the
// repository is checked out with shared/ beside it), skipping loudly when
// they are absent.
func realworldApp(t *testing.T, name string) *evaluator.Program {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "realworld", name)
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("SKIPPED: the real exports are not at %s (%v): check out shared/ beside the repository", dir, err)
	}
	app, err := rules.LoadApp(os.DirFS(dir))
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatalf("compile %s: %v", dir, err)
	}
	return prog
}

// The deny-first role of Sistemium/vfs-masters-realm,
// {"%%user.custom_data.masterId": null} before broader roles, denies a user
// without masterId: a missing claim as the subject of a comparison matches
// null as a missing document field does (the subject rule,
// evaluator/doc.go). Before, the role was skipped and ArticlePricing's
// userWithMasterId role, whose document_filters.read holds for {"master":
// null}, let that user read every document without a master.
func TestRealworldDenyRoleForMissingClaim(t *testing.T) {
	prog := realworldApp(t, "Sistemium__vfs-masters-realm__root")
	ctx := context.Background()
	doc, err := bson.Marshal(bson.D{{Key: "_id", Value: 1}})
	if err != nil {
		t.Fatal(err)
	}
	noMaster := []string{`{"id": "u1", "custom_data": {"id": "u1"}}`, `{"id": "u1"}`, `{"id": "u1", "custom_data": {"id": "u1", "masterId": null}}`}
	master := `{"id": "u1", "custom_data": {"id": "u1", "masterId": "m1"}}`
	admin := `{"id": "u1", "custom_data": {"id": "u1", "isAdmin": true}}`
	type want struct {
		user, role string
		ok         bool
	}
	for _, tc := range []struct {
		ns    string
		wants []want
	}{
		{"Masters.ArticlePricing", []want{
			{noMaster[0], "denyAllAccess", false}, {noMaster[1], "denyAllAccess", false}, {noMaster[2], "denyAllAccess", false},
			{master, "userWithMasterId", true}, {admin, "admin", true},
		}},
		{"Masters.ServiceTask", []want{
			{noMaster[0], "denyAllAccess", false}, {noMaster[1], "denyAllAccess", false}, {noMaster[2], "denyAllAccess", false},
			{master, "user", false}, {admin, "admin", true},
		}},
	} {
		for _, w := range tc.wants {
			user, err := expansion.NewUserObject([]byte(w.user))
			if err != nil {
				t.Fatal(err)
			}
			caller := evaluator.Caller{Namespace: tc.ns, Inputs: expansion.Inputs{User: user}}
			dec, err := prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
			if err != nil {
				t.Fatalf("%s %s: %v", tc.ns, w.user, err)
			}
			if dec.Role != w.role || dec.Allowed != w.ok {
				t.Errorf("%s %s: read: role %q allowed %v (%s), want role %q allowed %v", tc.ns, w.user, dec.Role, dec.Allowed, dec.Reason, w.role, w.ok)
			}
			if w.role != "denyAllAccess" {
				continue
			}
			// The read filter agrees: nothing is readable without masterId.
			f, _, err := prog.ReadFilter(ctx, caller)
			if err != nil {
				t.Fatalf("%s %s: read filter: %v", tc.ns, w.user, err)
			}
			if b, _ := bson.MarshalExtJSON(f, false, false); string(b) != `{"_id":{"$in":[]}}` {
				t.Errorf("%s %s: read filter %s, want one that matches nothing", tc.ns, w.user, b)
			}
		}
	}
}
