package source

// EditDistance is the Levenshtein distance of two short strings, used to
// suggest the documented spelling of a misspelt key, operator or expansion
// in diagnostics ("did you mean ...?"). Strings longer than 64 bytes are
// "far" (99): suggestions are for names, and the cost stays bounded.
func EditDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
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
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
