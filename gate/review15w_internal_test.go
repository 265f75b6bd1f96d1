package gate

import (
	"context"
	"testing"
)

// TestReviewWatchDottedFieldName: a top-level field whose name holds a
// dot ("meta.tag", possible since MongoDB 5.0 through $setField) is not
// the readable meta.tag: bob's teammate role hides every top-level field
// but _id, title, team, count, meta and items. Without
// disambiguatedPaths (the server sends them only with
// showExpandedEvents, which the gate refuses), an update setting it
// must not show its value.
func TestReviewWatchDottedFieldName(t *testing.T) {
	t.Parallel()
	g := watchGate(t)
	doc := `{"_id": 1, "owner_id": "a1", "team": "red", "title": "plan", "meta": {"tag": "t"}, "meta.tag": "SECRET"}`
	for _, ev := range []string{
		`{` + head + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc + `}`,
		updateEvent(doc, `{"updatedFields": {"meta.tag": "SECRET"}, "removedFields": [], "truncatedArrays": []}`),
	} {
		w := watcherFor(t, g, "bob", "notes")
		got, keep, err := w.event(context.Background(), ejson(t, ev))
		if err != nil {
			t.Fatal(err)
		}
		if keep && containsSecret(got.String()) {
			t.Errorf("bob sees the hidden field named meta.tag: %s", got)
		}
	}
}

func containsSecret(s string) bool {
	for i := 0; i+6 <= len(s); i++ {
		if s[i:i+6] == "SECRET" {
			return true
		}
	}
	return false
}
