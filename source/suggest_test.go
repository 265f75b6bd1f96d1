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
		{"", "", 0}, {"read", "read", 0}, {"raed", "read", 2}, {"aply_when", "apply_when", 1},
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
