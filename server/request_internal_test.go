package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

// %%request is built from what the peer cannot choose where a rule may
// trust it: remoteIPAddress is the connection's address, never a
// forwarded-for header; credential headers are left out, and so is any
// header whose name starts with "$" (extended JSON would read it as a
// typed value).
func TestRequestJSONSpoofing(t *testing.T) {
	r := httptest.NewRequest("POST", "/api/client/v2.0/app/x/functions/call?a=1", strings.NewReader("{}"))
	r.RemoteAddr = "198.51.100.7:4242"
	for k, v := range map[string]string{
		"X-Forwarded-For": "10.0.0.1", "Forwarded": "for=10.0.0.1", "X-Real-Ip": "10.0.0.1",
		"Authorization": "Bearer secret-token", "Cookie": "c=secret", "apiKey": "secret-key", "password": "secret-pw",
		"jwtTokenString": "secret-jwt",
	} {
		r.Header.Set(k, v)
	}
	r.Header["$numberInt"] = []string{"1"}
	r.Header["$oid"] = []string{"65a000000000000000000001"}
	var m map[string]any
	if err := json.Unmarshal(requestJSON(r, "mongodb-atlas", "find"), &m); err != nil {
		t.Fatal(err)
	}
	if m["remoteIPAddress"] != "198.51.100.7" {
		t.Errorf("remoteIPAddress %v", m["remoteIPAddress"])
	}
	h, _ := m["requestHeaders"].(map[string]any)
	for k := range h {
		if strings.HasPrefix(k, "$") {
			t.Errorf("header %q reaches %%request", k)
		}
	}
	b, _ := json.Marshal(m)
	if strings.Contains(string(b), "secret") {
		t.Errorf("a credential reaches %%request: %s", b)
	}
	if h["X-Forwarded-For"] == nil || m["service"] != "mongodb-atlas" || m["action"] != "find" || m["rawQueryString"] != "a=1" {
		t.Errorf("%%request %s", b)
	}
	r.URL.RawQuery = "baas_request=e30&baas_at=secret-token"
	if b := requestJSON(r, "s", "watch"); strings.Contains(string(b), "secret") {
		t.Errorf("a watch request's token reaches %%request: %s", b)
	}
}
