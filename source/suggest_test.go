package source

import (
	"fmt"
	"strings"
	"testing"
)

func TestEditDistance(t *testing.T) {
	long := strings.Repeat("a", 65)
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"read", "read", 0}, {"raed", "read", 1} /* a swap is one edit */, {"ca", "abc", 3} /* optimal string alignment, not Damerau */, {"aply_when", "apply_when", 1},
		{"", "abc", 3}, {"kitten", "sitting", 3}, {long, long, 99},
	} {
		if got := EditDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func ExampleEditDistance() {
	fmt.Println(EditDistance("aply_when", "apply_when"))
	// Output: 1
}

// TestClosest pins the one rule of suggestions: normalised equality, else
// at most two edits and one per three characters of the name.
func TestClosest(t *testing.T) {
	ops := []string{"$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$all", "$and", "$or", "$nor"}
	for _, c := range []struct {
		name  string
		known []string
		want  string
	}{
		{"$exist", ops, "$exists"},
		{"$exsits", ops, "$exists"},
		{"$al", ops, ""},      // one edit in two characters: not close
		{"$bad", ops, ""},     // not "$and"
		{"$foo", ops, ""},     // not "$or"
		{"$all", ops[:9], ""}, // not "$lt"
		{"Apply_When", []string{"apply_when", "name"}, "apply_when"},
		{"apply-when", []string{"apply_when"}, "apply_when"},
		{"aply_when", []string{"apply_when"}, "apply_when"},
		{"documentFilters", []string{"document_filters"}, "document_filters"},
		{"xyz", []string{"apply_when"}, ""},
		{"read", []string{"read", "write"}, ""}, // itself is no suggestion
		{"$gte", ops, ""},                       // a known name is no misspelling
		{"raed", []string{"read", "write"}, "read"},
		{"wirte", []string{"read", "write"}, "write"},
		{"$exsits", ops, "$exists"},
	} {
		got, ok := Closest(c.name, c.known)
		if got != c.want || ok != (c.want != "") {
			t.Errorf("Closest(%q) = %q, %v; want %q", c.name, got, ok, c.want)
		}
	}
}

func ExampleClosest() {
	known := []string{"$eq", "$exists", "$lt"}
	fmt.Println(Closest("$exsits", known))
	fmt.Println(Closest("$all", known))
	// Output:
	// $exists true
	//  false
}
