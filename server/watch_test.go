package server_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/rulegatetest"
)

// watchPath is the GET realm-web sends for collection.watch(arg).
func watchPath(body string) string {
	return base + "/functions/call?baas_request=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte(body)))
}

func watchBody(arg string) string {
	return `{"name":"watch","arguments":[{"database":"srvtest","collection":"notes"` + arg + `}],"service":"mongodb-atlas"}`
}

// TestWatchRequests: every malformed watch is a 4xx with the error shape,
// before any stream begins, and a token goes in the header or in baas_at
// (the Node SDK's), never two different ones.
func TestWatchRequests(t *testing.T) {
	client := rulegatetest.Client(t)
	if err := client.Database("srvtest").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	accountsDB := rulegatetest.Database(t).Name()
	e := newEnvAppOn(t, loadApp(t), client, accountsDB)
	alice, bob := e.signup("alice@example.com"), e.signup("bob@example.com")
	sse := []string{"Accept", "text/event-stream"}
	for _, tc := range []struct {
		name, path, tok string
		status          int
		code            string
	}{
		{"no token", watchPath(watchBody("")), "", 401, "InvalidSession"},
		{"forged baas_at", watchPath(watchBody("")) + "&baas_at=x.y.z", "", 401, "InvalidSession"},
		{"two baas_at", watchPath(watchBody("")) + "&baas_at=" + alice.access + "&baas_at=" + alice.access, "", 401, "InvalidSession"},
		{"header and baas_at disagree", watchPath(watchBody("")) + "&baas_at=" + bob.access, alice.access, 401, "InvalidSession"},
		{"no baas_request", base + "/functions/call", alice.access, 400, "MissingParameter"},
		{"not base64", base + "/functions/call?baas_request=!!!", alice.access, 400, "InvalidParameter"},
		{"not JSON", watchPath("{"), alice.access, 400, "InvalidParameter"},
		{"not watch", watchPath(`{"name":"find","arguments":[{"database":"srvtest","collection":"notes"}],"service":"mongodb-atlas"}`), alice.access, 400, "InvalidParameter"},
		{"no service", watchPath(`{"name":"watch","arguments":[{"database":"srvtest","collection":"notes"}]}`), alice.access, 400, "MissingParameter"},
		{"unknown service", watchPath(`{"name":"watch","arguments":[{"database":"srvtest","collection":"notes"}],"service":"nope"}`), alice.access, 404, "ServiceNotFound"},
		{"two arguments", watchPath(`{"name":"watch","arguments":[{},{}],"service":"mongodb-atlas"}`), alice.access, 400, "InvalidParameter"},
		{"unknown argument", watchPath(watchBody(`,"pipeline":[]`)), alice.access, 400, "InvalidParameter"},
		{"ids and filter", watchPath(watchBody(`,"ids":[1],"filter":{}`)), alice.access, 400, "InvalidParameter"},
		{"ids not an array", watchPath(watchBody(`,"ids":1`)), alice.access, 400, "InvalidParameter"},
		{"filter not a document", watchPath(watchBody(`,"filter":[]`)), alice.access, 400, "InvalidParameter"},
		{"no collection", watchPath(`{"name":"watch","arguments":[{"database":"srvtest"}],"service":"mongodb-atlas"}`), alice.access, 400, "InvalidParameter"},
		{"accounts database", watchPath(`{"name":"watch","arguments":[{"database":"` + accountsDB + `","collection":"users"}],"service":"mongodb-atlas"}`), alice.access, 403, "PermissionDenied"},
		{"oplog", watchPath(`{"name":"watch","arguments":[{"database":"local","collection":"oplog.rs"}],"service":"mongodb-atlas"}`), alice.access, 403, "PermissionDenied"},
		{"no rules", watchPath(`{"name":"watch","arguments":[{"database":"srvtest","collection":"nothing"}],"service":"mongodb-atlas"}`), alice.access, 403, "NoMatchingRuleFound"},
		{"refused stage in filter", watchPath(watchBody(`,"filter":{"$where":"1"}`)), alice.access, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, tc.tok, "", sse...)
			if tc.code == "" {
				if r.status < 400 || r.status >= 500 || !strings.Contains(string(r.body), `"error_code"`) {
					t.Fatalf("%d %s", r.status, r.body)
				}
				return
			}
			wantStatus(t, tc.name, r, tc.status, tc.code)
		})
	}
}

// TestWatchEmbedded: on the embedded server, which has no change streams,
// a valid watch is answered at once with the database's refusal as a JSON
// error, before any stream begins.
func TestWatchEmbedded(t *testing.T) {
	if os.Getenv(rulegatetest.EnvURI) != "" {
		t.Skip("MONGODB_URI is set: TestWatchStream runs the stream there")
	}
	e := newEnv(t)
	alice := e.signup("alice@example.com")
	r := e.do("GET", watchPath(watchBody("")), alice.access, "", "Accept", "text/event-stream")
	wantStatus(t, "watch", r, 400, "MongoDBError")
	r = e.do("GET", watchPath(watchBody(""))+"&baas_at="+url.QueryEscape(alice.access), "", "", "Accept", "text/event-stream")
	wantStatus(t, "watch with baas_at", r, 400, "MongoDBError")
}

// TestWatchStream runs a watch end to end on a real deployment
// (MONGODB_URI, a replica set of MongoDB 6.0 or later): alice's stream
// carries the events of her notes, with the hidden field redacted, and
// none of bob's; each event is one canonical extended JSON data line.
func TestWatchStream(t *testing.T) {
	if os.Getenv(rulegatetest.EnvURI) == "" {
		t.Skip("the embedded server (FerretDB) has no change streams: run this test with MONGODB_URI set to a replica set")
	}
	e := newEnv(t)
	alice, bob := e.signup("alice@example.com"), e.signup("bob@example.com")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", e.url+watchPath(watchBody(`,"filter":{"operationType":"insert"}`)), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Authorization", "Bearer "+alice.access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	e.callOK(bob, "insertOne", `"document":{"owner":"`+bob.id+`","secret":"bob's"}`)
	e.callOK(alice, "insertOne", `"document":{"owner":"`+alice.id+`","secret":"s","title":"line1\nline2 100%"}`)
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("line %q", line)
		}
		data = strings.NewReplacer("%0A", "\n", "%0D", "\r", "%25", "%").Replace(data)
		var ev bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(data), true, &ev); err != nil {
			t.Fatalf("%s: %v", data, err)
		}
		doc := ev.Lookup("fullDocument").Document()
		if owner, _ := doc.Lookup("owner").StringValueOK(); owner != alice.id {
			t.Fatalf("alice got an event of another's note: %s", ev)
		}
		if title, _ := doc.Lookup("title").StringValueOK(); title != "line1\nline2 100%" {
			t.Fatalf("title %q in %s", title, ev)
		}
		return
	}
	t.Fatalf("stream ended: %v", sc.Err())
}
