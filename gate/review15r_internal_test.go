package gate

import (
	"context"
	"testing"
)

// TestReviewWatchRemovedDottedFieldName (failing, open): an update that
// removes the top-level field named "meta.tag" ($unsetField), which bob
// cannot read, reports removedFields ["meta.tag"]; without
// disambiguatedPaths (sent only with showExpandedEvents) and without a
// pre-image, neither image holds the dotted name any more, and the gate
// reads the path as meta's field tag, which bob reads: he learns that a
// hidden field of that name existed and was removed. Closing it needs
// disambiguatedPaths (ask the server for showExpandedEvents and drop the
// expanded events, MongoDB 6.1 and later) or a pre-image.
func TestReviewWatchRemovedDottedFieldName(t *testing.T) {
	t.Parallel()
	g := watchGate(t)
	now := `{"_id": 1, "owner_id": "a1", "team": "red", "title": "plan", "meta": {"tag": "t"}}`
	w := watcherFor(t, g, "bob", "notes")
	got, keep, err := w.event(context.Background(), ejson(t, updateEvent(now, `{"updatedFields": {}, "removedFields": ["meta.tag"], "truncatedArrays": []}`)))
	if err != nil {
		t.Fatal(err)
	}
	if keep {
		t.Errorf("bob is told of the removal of the hidden field named meta.tag: %s", got)
	}
}
