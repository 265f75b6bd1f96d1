package source

import "strings"

// EditDistance is the edit distance of two short strings (optimal string
// alignment: an insertion, a deletion, a substitution or the swap of two
// adjacent characters is one edit, so "raed" is one edit from "read"), used
// to suggest the documented spelling of a misspelt key, operator or
// expansion in diagnostics ("did you mean ...?", Closest). Strings longer
// than 64 bytes are "far" (99): suggestions are for names, and the cost
// stays bounded.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	// d[i][j] is the distance of a[:i] and b[:j]; three rows suffice.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// Closest returns the name of known that name is a misspelling of, for a
// diagnostic's "did you mean ...?", and whether there is one. A name is
// close when it is equal but for case and the characters "-", "_" and " "
// ("Apply_When" for "apply_when"), or when it is at most two edits away,
// case ignored, and at most one edit for every three characters of name
// after a leading "$" or "%" ("$exsits" for "$exists"; "$all" is not
// "$lt", nor "$bad" "$and"). Of equally close names the first in known
// wins. It is the one rule of every suggestion rulegate makes.
func Closest(name string, known []string) (string, bool) {
	norm := strings.NewReplacer("-", "", "_", "", " ", "").Replace
	lname := strings.ToLower(name)
	n := norm(lname)
	for _, k := range known {
		if k == name {
			return "", false // a known name is no misspelling
		}
	}
	for _, k := range known {
		if norm(strings.ToLower(k)) == n {
			return k, true
		}
	}
	body := len(strings.TrimLeft(name, "$%"))
	best, bestD := "", 3
	for _, k := range known {
		if d := EditDistance(lname, strings.ToLower(k)); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" || 3*bestD > body {
		return "", false
	}
	return best, true
}
