package server

import "testing"

// TestSSEData: a change event is one data line; "%", LF and CR are the
// three bytes App Services percent-encoded, and realm-web decodes exactly
// those, so no event can end its line early or forge an "event: error".
func TestSSEData(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, "data: {\"a\":1}\n\n"},
		{"100%", "data: 100%25\n\n"},
		{"a\nevent: error\ndata: x", "data: a%0Aevent: error%0Adata: x\n\n"},
		{"a\r\nb", "data: a%0D%0Ab\n\n"},
		{"%0A", "data: %250A\n\n"},
		{"", "data: \n\n"},
	} {
		if got := string(sseData([]byte(tc.in))); got != tc.want {
			t.Errorf("sseData(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
