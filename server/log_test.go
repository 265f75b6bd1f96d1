package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// logLines decodes a JSON log.
func logLines(t *testing.T, b []byte) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// TestRequestLog: every line a request logs carries its request id, the
// one the client sent (when valid) or a new one, and answered as
// X-Request-Id; the request line names method, path, status and duration.
func TestRequestLog(t *testing.T) {
	var buf bytes.Buffer
	s := &Server{appID: "app-1", logger: slog.New(slog.NewJSONHandler(&buf, nil))}
	for _, sent := range []string{"client-chosen_id-1", "", "not valid!"} {
		buf.Reset()
		r := httptest.NewRequest("GET", "/api/client/v2.0/app/other/location?secret=x", nil)
		if sent != "" {
			r.Header.Set("X-Request-Id", sent)
		}
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		id := w.Header().Get("X-Request-Id")
		if !validRequestID(id) || (sent == "client-chosen_id-1") != (id == sent) {
			t.Fatalf("sent X-Request-Id %q, answered %q", sent, id)
		}
		lines := logLines(t, buf.Bytes())
		if len(lines) != 2 || lines[0]["msg"] != "request failed" || lines[1]["msg"] != "request" {
			t.Fatalf("log %s", buf.Bytes())
		}
		for _, l := range lines {
			if l["request_id"] != id {
				t.Fatalf("line %v: request_id, want %s", l, id)
			}
		}
		req := lines[1]
		if req["method"] != "GET" || req["path"] != "/api/client/v2.0/app/other/location" || req["status"] != float64(404) || req["duration"] == nil {
			t.Fatalf("request line %v", req)
		}
		if strings.Contains(buf.String(), "secret") {
			t.Fatalf("the log holds the query string: %s", buf.Bytes())
		}
	}
}

// TestRequestLogDisabled: a request whose lines the logger drops builds no
// request logger.
func TestRequestLogDisabled(t *testing.T) {
	s := &Server{appID: "app-1", logger: slog.New(slog.NewJSONHandler(&bytes.Buffer{}, &slog.HandlerOptions{Level: slog.LevelError}))}
	s.draining.Store(true)
	r := httptest.NewRequest("GET", "/healthz", nil)
	r.Header.Set("X-Request-Id", "fixed-id")
	w := httptest.NewRecorder()
	n := testing.AllocsPerRun(100, func() {
		clear(w.Header())
		w.Body.Reset()
		s.ServeHTTP(w, r)
	})
	if w.Code != http.StatusServiceUnavailable {
		t.Fatalf("healthz while draining: %d", w.Code)
	}
	// 8 in go1.26; 20 when every request made its logger.
	if n > 10 {
		t.Errorf("a draining healthz with logging off: %v allocations, want at most 10", n)
	}
}
