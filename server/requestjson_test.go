package server

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// marshalRequest is %%request as encoding/json writes it from a map, the
// reference requestJSON must match byte for byte.
func marshalRequest(r *http.Request, service, action string) []byte {
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	headers := map[string][]string{}
	for k, v := range r.Header {
		if hiddenHeaders[k] || strings.HasPrefix(k, "$") {
			continue
		}
		headers[k] = v
	}
	m := map[string]any{
		"httpMethod":      r.Method,
		"httpReferrer":    r.Referer(),
		"httpUserAgent":   r.UserAgent(),
		"remoteIPAddress": ip,
		"requestHeaders":  headers,
		"service":         service,
		"action":          action,
	}
	if q := r.URL.RawQuery; q != "" && !strings.Contains(q, "baas_at=") {
		m["rawQueryString"] = q
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

func TestRequestJSON(t *testing.T) {
	plain := httptest.NewRequest("POST", "/api/client/v2.0/app/a/functions/call", nil)
	plain.Header.Set("Content-Type", "application/json")
	plain.Header.Set("Authorization", "Bearer secret")

	odd := httptest.NewRequest("POST", "/app/a/endpoint/data/v1/action/find?x=1&y=<b>", nil)
	odd.RemoteAddr = "[::1]:4567"
	odd.Header.Set("User-Agent", "realm-web/2.0.1 \"quoted\" \\ <script>&amp;</script>")
	odd.Header.Set("Referer", "https://app.example.com/a?b=c&d=e")
	odd.Header["X-Multi"] = []string{"one", "two\ttabs\nnewline\r\x01\x1f\x7f", "\u2028\u2029 é 日本 \xff\xfe bad utf-8"}
	odd.Header["X-Empty"] = []string{}
	odd.Header["X-Nil"] = nil
	odd.Header["$Sneaky"] = []string{"x"}
	odd.Header["not-canonical"] = []string{"kept as sent"}
	odd.Header["\xffKey<>"] = []string{"a key needing escapes"}
	for _, h := range []string{"Cookie", "Apikey", "Password", "Jwttokenstring", "Authorization"} {
		odd.Header[h] = []string{"hidden"}
	}

	watch := httptest.NewRequest("GET", "/api/client/v2.0/app/a/functions/call?baas_at=tok&stitch_request=e30", nil)
	noPort := httptest.NewRequest("GET", "/healthz", nil)
	noPort.RemoteAddr = "pipe"

	for name, r := range map[string]*http.Request{"plain": plain, "odd": odd, "watch": watch, "no port": noPort} {
		got := requestJSON(r, "mongodb-atlas", "find\"<&>")
		want := marshalRequest(r, "mongodb-atlas", "find\"<&>")
		if string(got) != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
		if strings.Contains(string(got), "hidden") || strings.Contains(string(got), "secret") {
			t.Errorf("%s: a credential header is in %%request: %s", name, got)
		}
	}
}

func TestJSONString(t *testing.T) {
	check := func(s string) {
		t.Helper()
		want, _ := json.Marshal(s)
		if got := jsonString(s); string(got) != string(want) {
			t.Errorf("jsonString(%q) = %s, want %s", s, got, want)
		}
	}
	for c := range 256 {
		check(string([]byte{byte(c)}))
		check("a" + string([]byte{byte(c)}) + "z")
	}
	for _, s := range []string{"", "plain", "\u2028\u2029", "é日本\U0001F600", "\xe6\x97", "\xed\xa0\x80", "<\"\\>&"} {
		check(s)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "<a href=\"x\">&</a>", "\u2028\xff\t\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := jsonString(s); string(got) != string(want) {
			t.Fatalf("jsonString(%q) = %s, want %s", s, got, want)
		}
	})
}

// TestRequestJSONAllocs: %%request is built on every data call; it costs
// the key list and the output, not a map and reflection.
func TestRequestJSONAllocs(t *testing.T) {
	r := httptest.NewRequest("POST", "/api/client/v2.0/app/a/functions/call", nil)
	for k, v := range map[string]string{"Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer t", "User-Agent": "node", "Accept-Encoding": "gzip"} {
		r.Header.Set(k, v)
	}
	if n := testing.AllocsPerRun(100, func() { requestJSON(r, "mongodb-atlas", "findOne") }); n > 2 {
		t.Errorf("requestJSON: %v allocations, want at most 2", n)
	}
}
