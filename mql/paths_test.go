package mql

import (
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustMarshal(t *testing.T, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestPathsKeep(t *testing.T) {
	doc := mustMarshal(t, bson.D{
		{Key: "a", Value: bson.A{bson.D{{Key: "x", Value: 1}, {Key: "y", Value: 2}}, 7}},
		{Key: "b", Value: bson.D{{Key: "x", Value: 1}, {Key: "y", Value: 2}}},
		{Key: "c", Value: 3},
	})
	tr := NewPaths([]string{"a.x", "b.y", "b.y.z"})
	got := mustMarshal(t, tr.Keep(doc))
	want := mustMarshal(t, bson.D{
		{Key: "a", Value: bson.A{bson.D{{Key: "x", Value: 1}}}},
		{Key: "b", Value: bson.D{{Key: "y", Value: 2}}},
	})
	if !reflect.DeepEqual(got, want) {
		t.Errorf("keep = %v, want %v", got, want)
	}
	for path, want := range map[string]bool{"a.x": true, "a.x.q": true, "a": false, "b.y": true, "c": false, "b": false} {
		if tr.Covers(path) != want {
			t.Errorf("covers(%q) = %v", path, !want)
		}
	}
}

func TestPathsRedactDrop(t *testing.T) {
	doc := mustMarshal(t, bson.D{
		{Key: "a", Value: bson.A{bson.D{{Key: "x", Value: 1}, {Key: "y", Value: 2}}, bson.D{{Key: "y", Value: 3}}, 7}},
		{Key: "b", Value: bson.D{{Key: "y", Value: 2}}},
		{Key: "c", Value: bson.A{bson.D{{Key: "y", Value: 1}}}},
		{Key: "d", Value: 4},
	})
	ps := NewPaths([]string{"a.x", "b.x", "c.x", "d"})
	for _, tc := range []struct {
		name string
		got  bson.D
		want bson.D
	}{
		{"Keep", ps.Keep(doc), bson.D{
			{Key: "a", Value: bson.A{bson.D{{Key: "x", Value: 1}}, bson.D{}}},
			{Key: "b", Value: bson.D{}},
			{Key: "c", Value: bson.A{bson.D{}}},
			{Key: "d", Value: 4},
		}},
		// Redact leaves out what keeps nothing: b, c and a's second
		// element, so that an empty shell tells nothing.
		{"Redact", ps.Redact(doc), bson.D{
			{Key: "a", Value: bson.A{bson.D{{Key: "x", Value: 1}}}},
			{Key: "d", Value: 4},
		}},
		{"Drop", ps.Drop(doc), bson.D{
			{Key: "a", Value: bson.A{bson.D{{Key: "y", Value: 2}}, bson.D{{Key: "y", Value: 3}}, 7}},
			{Key: "b", Value: bson.D{{Key: "y", Value: 2}}},
			{Key: "c", Value: bson.A{bson.D{{Key: "y", Value: 1}}}},
		}},
	} {
		if got, want := bson.Raw(mustMarshal(t, tc.got)).String(), bson.Raw(mustMarshal(t, tc.want)).String(); got != want {
			t.Errorf("%s = %s, want %s", tc.name, got, want)
		}
	}
	if got := ps.Top(); !reflect.DeepEqual(got, []string{"a", "b", "c", "d"}) {
		t.Errorf("Top = %v", got)
	}
	if got := NewPaths(nil).Top(); len(got) != 0 {
		t.Errorf("Top of the empty set = %v", got)
	}
}
