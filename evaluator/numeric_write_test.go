package evaluator_test

import (
	"context"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestWriteFilterNumericPathsOnServer checks on a server that WriteFilter
// for updates with numeric path components selects exactly the stored
// documents on which Evaluate allows the update: a numeric component is
// an array index where the stored value is an array and a field name
// elsewhere, decided by the filter with $type (one such component) or
// requiring both readings (several).
func TestWriteFilterNumericPathsOnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	ctx := context.Background()
	coll := rulegatetest.Database(t).Collection("coll")
	docs := []string{
		`{"_id": 1, "a": {"1": {"b": 1}, "b": 2}}`,
		`{"_id": 2, "a": [{"b": 1}, {"b": 2}]}`,
		`{"_id": 3}`,
		`{"_id": 4, "a": 5}`,
		`{"_id": 5, "a": {"1": [{"b": 1}, {"b": 2}]}}`,
		// (FerretDB stores no nested arrays.)
	}
	byID := map[int32]bson.Raw{}
	for _, s := range docs {
		d := genDoc(t, s)
		byID[d.Lookup("_id").Int32()] = d
		if _, err := coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	ruleSets := []string{
		// a's embedded field b writable, nothing else.
		`{"fields": {"a": {"fields": {"b": {"write": true}}}}}`,
		// a's embedded field "1" writable, nothing else.
		`{"fields": {"a": {"fields": {"1": {"write": true}}}}}`,
		// a's embedded field "1" and its field b writable.
		`{"fields": {"a": {"fields": {"1": {"fields": {"b": {"write": true}}}, "b": {"write": true}}}}}`,
		// everything but a.1.
		`{"fields": {"a": {"fields": {"1": {"write": false}}, "additional_fields": {"write": true}}}, "additional_fields": {"write": true}}`,
	}
	updates := []string{
		`{"$set": {"a.1.b": 9}}`,
		`{"$set": {"a.1": 9}}`,
		`{"$unset": {"a.1.b": ""}}`,
		`{"$set": {"a.1.1.b": 9}}`,
		`{"$rename": {"a.1.b": "c"}}`,
		`{"$inc": {"a.$[].b": 1}}`,
	}
	user, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for _, rs := range ruleSets {
		p := genApp(t, `{"database": "db", "collection": "coll", "roles": [{"name": "r", "apply_when": {}, `+rs[1:len(rs)-1]+`}]}`)
		if p == nil {
			t.Fatalf("rules %s do not compile", rs)
		}
		for _, us := range updates {
			u := genDoc(t, us)
			caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}
			f, err := p.WriteFilter(ctx, caller, evaluator.ActionWrite, u)
			if err != nil {
				t.Fatalf("%s %s: WriteFilter: %v", rs, us, err)
			}
			cur, err := coll.Find(ctx, f)
			if err != nil {
				t.Fatalf("%s %s: find %v: %v", rs, us, f, err)
			}
			inFilter := map[int32]bool{}
			for cur.Next(ctx) {
				inFilter[cur.Current.Lookup("_id").Int32()] = true
			}
			for id, d := range byID {
				dec, _ := p.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionWrite, PrevDocument: d, Update: u})
				if dec.Reason == evaluator.ReasonError {
					continue // an update the server rejects on this document
				}
				compared++
				// The filter may be stricter where the readings are
				// unknown to it (several numeric components), never
				// looser.
				if inFilter[id] && !dec.Allowed {
					t.Errorf("rules %s, update %s: filter %v selects document %d, which Evaluate denies (%s)", rs, us, f, id, dec.Reason)
				}
				if !inFilter[id] && dec.Allowed && countNumeric(us) <= 1 {
					t.Errorf("rules %s, update %s: filter %v misses document %d, which Evaluate allows", rs, us, f, id)
				}
			}
		}
	}
	t.Logf("%d decisions compared", compared)
	if compared < 50 {
		t.Errorf("only %d decisions compared", compared)
	}
}

// countNumeric counts the numeric components of the update paths used
// above ("a.1.1.b" has two).
func countNumeric(update string) int {
	if strings.Contains(update, ".1.1.") {
		return 2
	}
	return 1
}
