package hostile

import "testing"

// TestParseWant: a want names the exact outcome; a bare kind, an unknown
// reason or a word that is not a stable code is refused.
func TestParseWant(t *testing.T) {
	for _, tc := range []struct {
		want string
		ok   bool
	}{
		{"denied no-role", true},
		{"denied error", true},
		{"error query/forbidden-operator", true},
		{"literal %%user.id", true},
		{"denied", false},
		{"denied  ", false},
		{"denied maybe", false},
		{"denied allowed", false},
		{"error", false},
		{"error bad", false},
		{"error rules/type json/syntax", false},
		{"literal", false},
		{"allowed owner", false},
	} {
		_, _, err := parseWant([]byte(tc.want + "\n"))
		if (err == nil) != tc.ok {
			t.Errorf("parseWant(%q): err %v, want ok %v", tc.want, err, tc.ok)
		}
	}
}
