package customdata_test

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestArrayUserIDClaimsNoOtherUser: Load finds the user's document with
// {userId: <id>}, which MongoDB also matches against the elements of an
// array. A user who may write their own custom data document (a rule such
// as {"userId": "%%user.id"} allows userId: ["mallory", "victim"], since
// that array holds "mallory") thereby becomes the custom data of victim:
// the first inserted wins, so every user whose document is newer than
// mallory's, and every user without one, logs in with mallory's orgId,
// roles and the rest. The user id field must hold the id itself.
func TestArrayUserIDClaimsNoOtherUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	e.insert(t,
		bson.D{{Key: "userId", Value: bson.A{"mallory", "victim"}}, {Key: "orgId", Value: "mallory-org"}},
		bson.D{{Key: "userId", Value: "victim"}, {Key: "orgId", Value: "victim-org"}},
	)
	d, found, err := e.store.Load(ctx, "victim")
	if err != nil || !found {
		t.Fatalf("Load(victim) = %v, %v", found, err)
	}
	if org := d.Doc.Lookup("orgId").StringValue(); org != "victim-org" {
		t.Errorf("Load(victim) picked the document %s, whose userId is an array mallory wrote", d.Doc)
	}
	if _, found, err := e.store.Load(ctx, "nobody-yet"); err != nil || found {
		t.Fatalf("Load(nobody-yet) = %v, %v", found, err)
	}
	e.insert(t, bson.D{{Key: "userId", Value: bson.A{"mallory2", "newcomer"}}, {Key: "orgId", Value: "mallory-org"}})
	if d, found, err := e.store.Load(ctx, "newcomer"); err != nil || found {
		t.Errorf("Load(newcomer) = %s, %v, %v; want no document (the only match is mallory2's array)", d.Doc, found, err)
	}
}
