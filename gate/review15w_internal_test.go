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

// TestReviewWatchUpdateLookupOverwritten: with fullDocument updateLookup
// (the gate's default) an update event carries the document as it is
// when the event is read, not as the update left it. bob owns doc now
// (owner_id b1) and reads secret; the event is of an update made while
// alice owned it, setting secret to a value overwritten since ("old",
// now "new"). bob never could read "old": the event must not show it.
func TestReviewWatchUpdateLookupOverwritten(t *testing.T) {
	t.Parallel()
	g := watchGate(t)
	now := `{"_id": 1, "owner_id": "b1", "team": "red", "title": "plan", "secret": "new"}`
	w := watcherFor(t, g, "bob", "notes")
	for _, tc := range []struct{ desc, want string }{
		{`{"updatedFields": {"secret": "old"}, "removedFields": []}`, ""},
		{`{"updatedFields": {"secret": "old", "title": "plan"}, "removedFields": []}`, `{"updatedFields": {"title": "plan"}, "removedFields": []}`},
	} {
		got, keep, err := w.event(context.Background(), ejson(t, updateEvent(now, tc.desc)))
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case tc.want == "" && keep:
			t.Errorf("%s: got %s, want the event dropped", tc.desc, got)
		case tc.want != "" && !keep:
			t.Errorf("%s: dropped, want %s", tc.desc, tc.want)
		case tc.want != "" && got.Lookup("updateDescription").String() != ejson(t, tc.want).String():
			t.Errorf("%s: updateDescription %s, want %s", tc.desc, got.Lookup("updateDescription"), ejson(t, tc.want))
		}
	}
}
