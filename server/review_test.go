package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
)

// serveFrom answers one request as if it came from addr (host:port), for
// the per-address login throttle.
func (e *env) serveFrom(addr, method, path, body string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.RemoteAddr = addr
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.srv.ServeHTTP(rec, req)
	return resp{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// One IPv6 client holds a whole /64 (RFC 4291 interface identifiers, SLAAC
// privacy addresses): counting failures per full address gave it 2^64
// throttle buckets. Mapped IPv4 addresses count with their IPv4 form.
func TestReviewThrottlePerIPv6Prefix(t *testing.T) {
	e := newEnv(t, server.WithThrottle(100, 3, time.Minute))
	login := base + "/auth/providers/local-userpass/login"
	for i, addr := range []string{"[2001:db8:1:2::1]:4000", "[2001:db8:1:2::2]:4000", "[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:4001"} {
		r := e.serveFrom(addr, "POST", login, `{"username":"u`+string(rune('a'+i))+`@example.com","password":"wrong-pass"}`)
		wantStatus(t, "failure from "+addr, r, 401, "InvalidPassword")
	}
	r := e.serveFrom("[2001:db8:1:2:ffff::9]:4002", "POST", login, `{"username":"z@example.com","password":"wrong-pass"}`)
	wantStatus(t, "another address of the same /64", r, 429, "TooManyRequests")
	r = e.serveFrom("[2001:db8:1:3::1]:4002", "POST", login, `{"username":"z@example.com","password":"wrong-pass"}`)
	wantStatus(t, "another /64", r, 401, "InvalidPassword")

	for range 3 {
		e.serveFrom("192.0.2.7:5000", "POST", login, `{"username":"y@example.com","password":"wrong-pass"}`)
	}
	r = e.serveFrom("[::ffff:192.0.2.7]:5001", "POST", login, `{"username":"y@example.com","password":"wrong-pass"}`)
	wantStatus(t, "the mapped form of a throttled IPv4 address", r, 429, "TooManyRequests")
	r = e.serveFrom("192.0.2.8:5000", "POST", login, `{"username":"y@example.com","password":"wrong-pass"}`)
	wantStatus(t, "the next IPv4 address", r, 401, "InvalidPassword")
}

var oidRE = regexp.MustCompile(`[0-9a-f]{24}|urn:rulegate:request:[0-9A-Za-z_-]+`)

// same reports whether two answers are alike but for ObjectIds and links.
func same(a, b resp) bool {
	return a.status == b.status && oidRE.ReplaceAllString(string(a.body), "X") == oidRE.ReplaceAllString(string(b.body), "X")
}

// leaks reports whether an answer holds one of alice's secrets.
func leaks(r resp) bool {
	b := oidRE.ReplaceAllString(string(r.body), "X")
	return strings.Contains(b, "aaa") || strings.Contains(b, "zzz")
}

// Nothing a caller gets back depends on a value it cannot read: each pair
// differs only in a guess of a hidden value (right, then wrong), sent by
// bob (a teammate, who reads the note but not its secret) and by carol (a
// stranger, who reads nothing).
func TestReviewHiddenValues(t *testing.T) {
	e := newEnv(t)
	alice, bob, carol := e.signup("alice@example.com"), e.signup("bob@example.com"), e.signup("carol@example.com")
	ctx := context.Background()
	db := e.client.Database("srvtest")
	if _, err := db.Collection("profiles").InsertOne(ctx, bson.D{{Key: "userId", Value: bob.id}, {Key: "teams", Value: bson.A{"red"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("notes").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "n1"}, {Key: "owner", Value: alice.id}, {Key: "team", Value: "red"}, {Key: "secret", Value: "aaa"}, {Key: "n", Value: 1}},
		bson.D{{Key: "_id", Value: "n2"}, {Key: "owner", Value: alice.id}, {Key: "team", Value: "red"}, {Key: "secret", Value: "zzz"}, {Key: "n", Value: 2}},
	}); err != nil {
		t.Fatal(err)
	}
	rr := e.do("POST", "/api/client/v2.0/auth/session", bob.refresh, "")
	wantStatus(t, "bob's refresh", rr, 201, "")
	bob.access = rr.json(t)["access_token"].(string)

	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	ns := `"database":"srvtest","collection":"notes"`
	// cleanup removes what an upsert inserted, so that each answer sees
	// alice's two notes alone.
	cleanup := func() {
		if _, err := db.Collection("notes").DeleteMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$nin", Value: bson.A{"n1", "n2"}}}}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ what, name, arg string }{
		{"count", "count", `"query":{"secret":"GUESS"}`},
		{"find", "find", `"query":{"secret":"GUESS"}`},
		{"find $regex", "find", `"query":{"secret":{"$regex":"^GUESS"}}`},
		{"find $gt", "find", `"query":{"secret":{"$gt":"GUESS"}}`},
		{"find $expr", "find", `"query":{"$expr":{"$eq":["$secret","GUESS"]}}`},
		{"find $where", "find", `"query":{"$where":"this.secret == 'GUESS'"}`},
		{"findOne", "findOne", `"query":{"team":"red","secret":"GUESS"}`},
		{"findOne $or", "findOne", `"query":{"$or":[{"secret":"GUESS"},{"_id":"none"}]}`},
		{"findOne $nor", "findOne", `"query":{"$nor":[{"secret":"GUESS"}]}`},
		{"findOne $not", "findOne", `"query":{"secret":{"$not":{"$eq":"GUESS"}}}`},
		{"findOne $ne", "findOne", `"query":{"secret":{"$ne":"GUESS"}}`},
		{"findOne $exists", "findOne", `"query":{"_id":"n1","secret":{"$exists":true},"team":"GUESS"}`},
		{"aggregate $match", "aggregate", `"pipeline":[{"$match":{"secret":"GUESS"}}]`},
		{"aggregate $group", "aggregate", `"pipeline":[{"$match":{"team":"red"}},{"$group":{"_id":"$secret"}}]`},
		{"aggregate $sort", "aggregate", `"pipeline":[{"$match":{"team":"red"}},{"$sort":{"secret":1}},{"$limit":1},{"$project":{"n":1}}]`},
		{"updateOne", "updateOne", `"query":{"secret":"GUESS"},"update":{"$set":{"x":1}}`},
		{"updateOne upsert", "updateOne", `"query":{"secret":"GUESS"},"update":{"$set":{"owner":"OWNER"}},"upsert":true`},
		{"updateOne upsert on an _id", "updateOne", `"query":{"_id":"n1","secret":"GUESS"},"update":{"$set":{"owner":"OWNER"}},"upsert":true`},
		{"updateMany", "updateMany", `"query":{"secret":"GUESS"},"update":{"$set":{"x":1}}`},
		{"updateMany upsert", "updateMany", `"query":{"secret":"GUESS"},"update":{"$set":{"owner":"OWNER"}},"upsert":true`},
		{"findOneAndUpdate", "findOneAndUpdate", `"filter":{"secret":"GUESS"},"update":{"$set":{"x":1}}`},
		{"findOneAndUpdate upsert", "findOneAndUpdate", `"filter":{"secret":"GUESS"},"update":{"$set":{"owner":"OWNER"}},"upsert":true,"returnNewDocument":true,"projection":{"n":1}`},
		{"findOneAndReplace", "findOneAndReplace", `"filter":{"secret":"GUESS"},"update":{"owner":"OWNER"}`},
		{"findOneAndReplace upsert", "findOneAndReplace", `"filter":{"secret":"GUESS"},"update":{"owner":"OWNER"},"upsert":true`},
		{"findOneAndDelete as realm-web sends it", "findOneAndReplace", `"filter":{"secret":"GUESS"}`},
		{"findOneAndDelete", "findOneAndDelete", `"filter":{"secret":"GUESS"}`},
		{"findOneAndDelete sorted", "findOneAndDelete", `"filter":{"team":"red"},"sort":{"secret":1}`},
		{"deleteOne", "deleteOne", `"query":{"secret":"GUESS"}`},
		{"deleteMany", "deleteMany", `"query":{"secret":"GUESS"}`},
		{"find sorted by the hidden field", "find", `"query":{"team":"red"},"sort":{"secret":1},"project":{"n":1}`},
		{"find sorted, GUESS unused", "find", `"query":{"team":"red","_id":{"$ne":"GUESS"}},"sort":{"secret":-1},"limit":1`},
	} {
		for _, u := range []struct {
			name string
			u    user
		}{{"bob", bob}, {"carol", carol}} {
			answer := func(guess string) resp {
				arg := strings.ReplaceAll(strings.ReplaceAll(c.arg, "GUESS", guess), "OWNER", u.u.id)
				return e.call(u.u, c.name, arg)
			}
			right := answer("aaa")
			cleanup()
			wrong := answer("nope")
			cleanup()
			if !same(right, wrong) {
				t.Errorf("%s by %s: a right guess answers %d %s, a wrong one %d %s", c.what, u.name, right.status, right.body, wrong.status, wrong.body)
			}
			if right.status >= 500 || right.status == http.StatusUnauthorized || leaks(right) {
				t.Errorf("%s by %s: %d %s", c.what, u.name, right.status, right.body)
			}
		}
	}
	// The same through the Data API, with its field names.
	for _, c := range []struct{ what, action, body string }{
		{"findOne", "findOne", `"filter":{"secret":"GUESS"}`},
		{"find sorted", "find", `"filter":{"team":"red"},"sort":{"secret":1},"limit":1,"projection":{"n":1}`},
		{"updateOne upsert", "updateOne", `"filter":{"secret":"GUESS"},"update":{"$set":{"owner":"OWNER"}},"upsert":true`},
		{"replaceOne upsert", "replaceOne", `"filter":{"_id":"n1","secret":"GUESS"},"replacement":{"owner":"OWNER"},"upsert":true`},
		{"deleteOne", "deleteOne", `"filter":{"secret":"GUESS"}`},
		{"deleteMany", "deleteMany", `"filter":{"secret":"GUESS"}`},
		{"aggregate", "aggregate", `"pipeline":[{"$match":{"secret":"GUESS"}},{"$count":"n"}]`},
	} {
		for _, u := range []struct {
			name string
			u    user
		}{{"bob", bob}, {"carol", carol}} {
			answer := func(guess string) resp {
				b := strings.ReplaceAll(strings.ReplaceAll(c.body, "GUESS", guess), "OWNER", u.u.id)
				return e.do("POST", dapi+c.action, u.u.access, `{"dataSource":"mongodb-atlas",`+ns+`,`+b+`}`)
			}
			right := answer("aaa")
			cleanup()
			wrong := answer("nope")
			cleanup()
			if !same(right, wrong) {
				t.Errorf("Data API %s by %s: a right guess answers %d %s, a wrong one %d %s", c.what, u.name, right.status, right.body, wrong.status, wrong.body)
			}
			if right.status >= 500 || right.status == http.StatusUnauthorized || leaks(right) {
				t.Errorf("Data API %s by %s: %d %s", c.what, u.name, right.status, right.body)
			}
		}
	}
	// Alice's notes are as they were.
	n, err := db.Collection("notes").CountDocuments(ctx, bson.D{{Key: "owner", Value: alice.id}, {Key: "secret", Value: bson.D{{Key: "$in", Value: bson.A{"aaa", "zzz"}}}}})
	if err != nil || n != 2 {
		t.Fatalf("alice's notes: %d %v", n, err)
	}
}

// A session must not outlive its user. DeleteUser deletes the sessions
// before the user document, so a login that stores its session in between
// (or an anonymous user past its 90 days, or a user disabled while a login
// was under way) leaves a session naming a user who is gone: its refresh
// token must mint nothing.
func TestReviewSessionOutlivesUser(t *testing.T) {
	client := rulegatetest.Client(t)
	ctx := context.Background()
	if err := client.Database("srvtest").Drop(ctx); err != nil {
		t.Fatal(err)
	}
	accounts := rulegatetest.Database(t)
	e := newEnvOn(t, client, accounts.Name())
	users := accounts.Collection("users")
	oid := func(u user) bson.ObjectID {
		id, err := bson.ObjectIDFromHex(u.id)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	check := func(what string, u user) {
		t.Helper()
		r := e.do("POST", "/api/client/v2.0/auth/session", u.refresh, "")
		wantStatus(t, what+": refresh", r, 401, "InvalidSession")
		r = e.do("GET", "/api/client/v2.0/auth/api_keys", u.refresh, "")
		wantStatus(t, what+": API keys", r, 401, "InvalidSession")
		r = e.do("POST", "/api/client/v2.0/auth/api_keys", u.refresh, `{"name":"k"}`)
		wantStatus(t, what+": new API key", r, 401, "InvalidSession")
	}

	gone := e.signup("gone@example.com")
	if _, err := users.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid(gone)}}); err != nil {
		t.Fatal(err)
	}
	check("a deleted user", gone)
	wantStatus(t, "a deleted user's profile", e.do("GET", "/api/client/v2.0/auth/profile", gone.access, ""), 401, "InvalidSession")

	anon := e.login("anon-user", `{}`)
	if _, err := users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid(anon)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "expires", Value: time.Now().Add(-time.Minute)}}}}); err != nil {
		t.Fatal(err)
	}
	check("an expired anonymous user", anon)

	off := e.signup("off@example.com")
	if _, err := users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid(off)}}, bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: true}}}}); err != nil {
		t.Fatal(err)
	}
	check("a disabled user", off)

	ok := e.signup("ok@example.com")
	wantStatus(t, "a live user's refresh", e.do("POST", "/api/client/v2.0/auth/session", ok.refresh, ""), 201, "")
}

// The log never holds a password, a token, an API key or a document value
// (WithLogger: "Lines never carry tokens, passwords or document
// contents"), whatever the request, failed or not.
func TestReviewLogsHoldNoSecrets(t *testing.T) {
	e := newEnv(t)
	const pw = "Pw-LEAK-0001"
	e.register("leak@example.com", pw)
	u := e.login("local-userpass", `{"username":"leak@example.com","password":"`+pw+`"}`)
	bob := e.signup("bob@example.com")
	e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"leak@example.com","password":"Pw-LEAK-0002"}`)
	e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"leak@example.com","password":{"$numberLong":"Pw-LEAK-0003"}}`)
	e.do("POST", base+"/auth/providers/local-userpass/register", "", `{"email":"leak@example.com","password":"Pw-LEAK-0004"}`)
	e.do("POST", base+"/auth/providers/local-userpass/register", "", `{"email":"leak2@example.com","password":"Pw-LEAK-05"`)
	k := e.do("POST", "/api/client/v2.0/auth/api_keys", u.refresh, `{"name":"k"}`).json(t)
	key, _ := k["key"].(string)
	e.login("api-key", `{"key":"`+key+`"}`)
	e.do("POST", base+"/auth/providers/api-key/login", "", `{"key":"Key-LEAK-0006"}`)
	jwtTok := customJWT(t, "Wrong-LEAK-0007-secret-of-enough-length", jwt.MapClaims{"aud": appID, "sub": "s", "exp": time.Now().Add(time.Hour).Unix()})
	e.do("POST", base+"/auth/providers/custom-token/login", "", `{"token":"`+jwtTok+`"}`)
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	find := `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`
	e.do("POST", dapi+"find", "", find, "email", "leak@example.com", "password", "Pw-LEAK-0008")
	e.do("POST", dapi+"find", "", find, "apiKey", "Key-LEAK-0009")
	e.do("POST", dapi+"find", "", find, "jwtTokenString", jwtTok)
	e.do("POST", dapi+"find", "Tok-LEAK-0010", find)

	// Document values: in bodies the decoder refuses, in documents the
	// database refuses, in duplicate keys, in denied and refused calls.
	e.call(u, "insertOne", `"document":{"owner":"`+u.id+`","ssn":{"$numberLong":"Doc-LEAK-0011"}}`)
	e.call(u, "insertOne", `"document":{"owner":"`+u.id+`","ssn":{"$date":"Doc-LEAK-0012"}}`)
	e.call(u, "insertOne", `"document":{"owner":"`+u.id+`","ssn":{"$oid":"Doc-LEAK-0013"}}`)
	e.callOK(u, "insertOne", `"document":{"_id":"Doc-LEAK-0014","owner":"`+u.id+`","n":"Doc-LEAK-0015"}`)
	e.call(u, "insertOne", `"document":{"_id":"Doc-LEAK-0014","owner":"`+u.id+`"}`)
	e.call(u, "updateOne", `"query":{"_id":"Doc-LEAK-0014"},"update":{"$inc":{"n":1}}`)
	e.call(u, "updateOne", `"query":{"_id":"Doc-LEAK-0014"},"update":{"$push":{"n":"x"}}`)
	e.call(u, "updateOne", `"query":{"_id":"Doc-LEAK-0014"},"update":{"$set":{"n.x":1}}`)
	e.call(u, "insertOne", `"document":{"owner":"`+u.id+`","$bad":"Doc-LEAK-0016"}`)
	e.call(u, "find", `"query":{"n":{"$bogus":"Doc-LEAK-0017"}}`)
	e.call(u, "aggregate", `"pipeline":[{"$match":{"n":"Doc-LEAK-0018"}},{"$out":"x"}]`)
	e.call(bob, "updateOne", `"query":{},"update":{"$set":{"owner":"Doc-LEAK-0019"}}`)
	e.call(bob, "insertOne", `"document":{"owner":"`+u.id+`","x":"Doc-LEAK-0020"}`)

	logs := e.logText()
	if testing.Verbose() {
		t.Log(logs)
	}
	for _, secret := range []string{pw, u.access, u.refresh, bob.access, key, jwtTok, "LEAK-0002", "LEAK-0003", "LEAK-0004", "LEAK-05", "LEAK-0006", "LEAK-0007", "LEAK-0008", "LEAK-0009", "LEAK-0010",
		"LEAK-0011", "LEAK-0012", "LEAK-0013", "LEAK-0014", "LEAK-0015", "LEAK-0016", "LEAK-0017", "LEAK-0018", "LEAK-0019", "LEAK-0020"} {
		if i := strings.Index(logs, secret); i >= 0 {
			start := strings.LastIndexByte(logs[:i], '\n') + 1
			end := i + strings.IndexByte(logs[i:], '\n')
			t.Errorf("the log holds %q: %s", secret, logs[start:end])
		}
	}
}

// commandLog records the commands a client sends to one database.
type commandLog struct {
	mu   sync.Mutex
	db   string
	cmds []string
}

func (c *commandLog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.cmds
	c.cmds = nil
	return out
}

// monitoredEnv is newEnv on a client whose commands to the accounts
// database are recorded (command name and collection, never values).
func monitoredEnv(t *testing.T, app *rules.App, opts ...server.Option) (*env, *commandLog) {
	t.Helper()
	cl := &commandLog{db: rulegatetest.Database(t).Name()}
	mon := &event.CommandMonitor{Started: func(_ context.Context, ev *event.CommandStartedEvent) {
		if ev.DatabaseName != cl.db {
			return
		}
		coll, _ := ev.Command.Index(0).Value().StringValueOK()
		cl.mu.Lock()
		cl.cmds = append(cl.cmds, ev.CommandName+" "+coll)
		cl.mu.Unlock()
	}}
	client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(t)).SetMonitor(mon))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	if err := client.Database("srvtest").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newEnvAppOn(t, app, client, cl.db, opts...), cl
}

// The email/password routes that must not tell whether an address is
// registered do the same database work either way, by construction: the
// same commands on the same collections, so that no timing tells. A reset
// or confirmation request for an unknown (or confirmed) address cost one
// query where a registered one cost three, four times the latency on the
// embedded server. (Register still differs: a new address costs two
// inserts more than a taken one, beside the argon2id hash both pay.)
func TestReviewNoEnumerationByWork(t *testing.T) {
	app := appWithProviders(t, `{"local-userpass": {"name": "local-userpass", "type": "local-userpass", "disabled": false,
		"config": {"autoConfirm": false, "emailConfirmationUrl": "https://example.com/confirm", "resetPasswordUrl": "https://example.com/reset"}}}`)
	e, cl := monitoredEnv(t, app)
	e.register("pending@example.com", "pa55w0rd!")
	e.register("confirmed@example.com", "pa55w0rd!")
	tok, id := e.tokenFromLog(t)
	wantStatus(t, "confirm", e.do("POST", base+"/auth/providers/local-userpass/confirm", "", `{"token":"`+tok+`","tokenId":"`+id+`"}`), 201, "")
	e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"warm-up@example.com","password":"wrong-pass"}`)
	for _, c := range []struct{ path, known, unknown string }{
		{"reset/send", `{"email":"pending@example.com"}`, `{"email":"nobody@example.com"}`},
		{"reset/send", `{"email":"confirmed@example.com"}`, `{"email":"nobody@example.com"}`},
		{"confirm/send", `{"email":"pending@example.com"}`, `{"email":"nobody@example.com"}`},
		{"confirm/send", `{"email":"pending@example.com"}`, `{"email":"confirmed@example.com"}`},
		// Each identity's first failure (the address's counter runs
		// already): a throttle window starts alike for both.
		{"login", `{"username":"confirmed@example.com","password":"wrong-pass"}`, `{"username":"nobody1@example.com","password":"wrong-pass"}`},
		{"login", `{"username":"pending@example.com","password":"wrong-pass"}`, `{"username":"nobody2@example.com","password":"wrong-pass"}`},
		{"login", `{"username":"confirmed@example.com","password":"wrong-pass"}`, `{"username":"nobody1@example.com","password":"wrong-pass"}`},
	} {
		p := base + "/auth/providers/local-userpass/" + c.path
		cl.take()
		k := e.do("POST", p, "", c.known)
		kc := cl.take()
		u := e.do("POST", p, "", c.unknown)
		uc := cl.take()
		if !same(k, u) {
			t.Errorf("%s: a registered address answers %d %s, an unknown one %d %s", c.path, k.status, k.body, u.status, u.body)
		}
		if strings.Join(kc, ", ") != strings.Join(uc, ", ") {
			t.Errorf("%s: a registered address costs [%s], an unknown one [%s]", c.path, strings.Join(kc, ", "), strings.Join(uc, ", "))
		}
	}
}

// One user's refresh token opens none of another user's API keys: every
// route answers as for a key that does not exist, and changes nothing.
func TestReviewAPIKeysOfAnotherUser(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.signup("alice@example.com"), e.signup("bob@example.com")
	k := e.do("POST", "/api/client/v2.0/auth/api_keys", alice.refresh, `{"name":"k1"}`).json(t)
	kid, key := k["_id"].(string), k["key"].(string)
	keys := "/api/client/v2.0/auth/api_keys/"
	for _, c := range []struct{ method, path string }{
		{"GET", keys + kid}, {"DELETE", keys + kid}, {"PUT", keys + kid + "/disable"}, {"PUT", keys + kid + "/enable"},
	} {
		theirs := e.do(c.method, c.path, bob.refresh, "")
		none := e.do(c.method, strings.Replace(c.path, kid, "65a0000000000000000000ff", 1), bob.refresh, "")
		wantStatus(t, c.method+" another user's key", theirs, 404, "APIKeyNotFound")
		if !same(theirs, none) {
			t.Errorf("%s %s: another user's key answers %s, no key %s", c.method, c.path, theirs.body, none.body)
		}
	}
	if list := e.do("GET", "/api/client/v2.0/auth/api_keys", bob.refresh, ""); string(list.body) != "[]" {
		t.Errorf("bob's keys: %s", list.body)
	}
	// The key still logs alice in, and only alice.
	if u := e.login("api-key", `{"key":"`+key+`"}`); u.id != alice.id {
		t.Errorf("alice's key logs in %s", u.id)
	}
}

// Under WithAllowedOrigins, a preflight from any other origin gets no
// Access-Control-Allow-* header, so the browser sends nothing.
func TestReviewCORSDisallowedOrigin(t *testing.T) {
	e := newEnv(t, server.WithAllowedOrigins("https://app.example.com"))
	preflight := func(origin string) resp {
		return e.do("OPTIONS", base+"/functions/call", "", "", "Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type")
	}
	if r := preflight("https://app.example.com"); r.header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Fatalf("allowed origin: %v", r.header)
	}
	for _, o := range []string{"https://evil.example.com", "https://app.example.com.evil.com", "http://app.example.com", "https://app.example.com:8443", "null", "https://APP.example.com", "https://app.example.com/"} {
		r := preflight(o)
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-Allow-") {
				t.Errorf("origin %q: %s: %s", o, k, r.header.Get(k))
			}
		}
		g := e.do("GET", "/healthz", "", "", "Origin", o)
		if g.header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("origin %q: a GET is allowed", o)
		}
	}
}

// A custom JWT provider configured for RS256 with a PEM public key: a
// token signed HS256 with that PEM as the HMAC secret (the classic
// algorithm confusion) is refused, as are audiences that only look right.
func TestReviewCustomJWTConfusion(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	app := appWithProviders(t, `{"custom-token": {"name": "custom-token", "type": "custom-token", "disabled": false,
		"config": {"audience": [], "signingAlgorithm": "RS256", "useJWKURI": false},
		"secret_config": {"signingKeys": ["rsakey"]}}}`)
	e := newEnvApp(t, app, server.WithSecrets(map[string]string{"rsakey": pemKey}))
	exp := time.Now().Add(time.Hour).Unix()
	rs := func(c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodRS256, c).SignedString(priv)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	e.login("custom-token", `{"token":"`+rs(jwt.MapClaims{"aud": appID, "sub": "u1", "exp": exp})+`"}`)
	e.login("custom-token", `{"token":"`+rs(jwt.MapClaims{"aud": []string{"other", appID}, "sub": "u1", "exp": exp})+`"}`)
	hs := func(key []byte, c jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := jwt.MapClaims{"aud": appID, "sub": "u1", "exp": exp}
	for name, tok := range map[string]string{
		"HS256 with the PEM as secret":    hs([]byte(pemKey), good),
		"HS256 with the trimmed PEM":      hs([]byte(strings.TrimSpace(pemKey)), good),
		"HS256 with the DER as secret":    hs(der, good),
		"alg none":                        jwtOf(`{"alg":"none","typ":"JWT"}`, `{"aud":"`+appID+`","sub":"u1","exp":`+jsonNum(exp)+`}`, nil),
		"aud an empty array":              rs(jwt.MapClaims{"aud": []string{}, "sub": "u1", "exp": exp}),
		"aud a number array":              rs(jwt.MapClaims{"aud": []any{1}, "sub": "u1", "exp": exp}),
		"aud with a trailing space":       rs(jwt.MapClaims{"aud": appID + " ", "sub": "u1", "exp": exp}),
		"aud as an object":                rs(jwt.MapClaims{"aud": map[string]any{"0": appID}, "sub": "u1", "exp": exp}),
		"aud of a prefix":                 rs(jwt.MapClaims{"aud": appID[:10], "sub": "u1", "exp": exp}),
		"no aud":                          rs(jwt.MapClaims{"sub": "u1", "exp": exp}),
		"sub a number":                    rs(jwt.MapClaims{"aud": appID, "sub": 7, "exp": exp}),
		"exp a string":                    rs(jwt.MapClaims{"aud": appID, "sub": "u1", "exp": "9999999999"}),
		"nbf in the future":               rs(jwt.MapClaims{"aud": appID, "sub": "u1", "exp": exp, "nbf": exp - 60}),
		"iat in the future":               rs(jwt.MapClaims{"aud": appID, "sub": "u1", "exp": exp, "iat": exp - 60}),
		"RS256 header, another key's sig": strings.Join(strings.Split(rs(good), ".")[:2], ".") + ".AAAA",
		"three parts, garbage":            "a.b.c",
	} {
		r := e.do("POST", base+"/auth/providers/custom-token/login", "", `{"token":"`+tok+`"}`)
		wantClean(t, name, r, http.StatusUnauthorized)
		wantCode(t, name, r, "InvalidPassword")
	}
}

// A user can write its own custom data document through the rules; one
// too large to travel in an access token makes its login and refresh fail
// with a 4xx that says so: never a 401 (realm-web would refresh and retry
// without end), never a 5xx.
func TestReviewOversizedCustomData(t *testing.T) {
	e := newEnv(t)
	u := e.signup("big@example.com")
	r := e.do("POST", base+"/functions/call", u.access, `{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"profiles","document":{"userId":"`+u.id+`","blob":"`+strings.Repeat("x", 40<<10)+`"}}]}`)
	wantStatus(t, "writing one's own custom data", r, 200, "")
	wantClean(t, "refresh", e.do("POST", "/api/client/v2.0/auth/session", u.refresh, ""), http.StatusBadRequest)
	wantClean(t, "login", e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"big@example.com","password":"pa55w0rd!"}`), http.StatusBadRequest)
	dapi := "/app/" + appID + "/endpoint/data/v1/action/find"
	wantClean(t, "Data API", e.do("POST", dapi, "", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`, "email", "big@example.com", "password", "pa55w0rd!"), http.StatusBadRequest)
	e.signup("small@example.com")
}

// No answer may be kept by a cache between the client and the server:
// logins and refreshes carry tokens (RFC 6749 §5.1: "Cache-Control:
// no-store"), profile and data answers carry the user's data, and the
// location answer echoes the Host header, so a shared cache keeping one
// would send every client's next requests, tokens included, to the host
// an attacker named.
func TestReviewNoStore(t *testing.T) {
	e := newEnv(t)
	u := e.signup("cache@example.com")
	for what, r := range map[string]resp{
		"location": e.do("GET", base+"/location", "", "", "Host", "evil.example.com"),
		"login":    e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"cache@example.com","password":"pa55w0rd!"}`),
		"refresh":  e.do("POST", "/api/client/v2.0/auth/session", u.refresh, ""),
		"profile":  e.do("GET", "/api/client/v2.0/auth/profile", u.access, ""),
		"find":     e.call(u, "find", `"query":{}`),
		"error":    e.do("GET", "/api/client/v2.0/auth/profile", "", ""),
		"keys":     e.do("GET", "/api/client/v2.0/auth/api_keys", u.refresh, ""),
	} {
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", what, cc)
		}
	}
}

// appWithFile is testdata/app with one file added or replaced.
func appWithFile(t *testing.T, name, content string) *rules.App {
	t.Helper()
	return appWithFiles(t, map[string]string{name: content})
}

// appWithFiles is testdata/app with files (path → content) added or
// replaced.
func appWithFiles(t *testing.T, files map[string]string) *rules.App {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("testdata/app", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/app", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	for name, content := range files {
		if err == nil {
			err = os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	app, err := rules.LoadApp(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

// The accounts database (password hashes, session and API key hashes,
// confirmation tokens, throttle counters) is on the app's own cluster. A
// default rule, which applies to every namespace of the data source
// without rules of its own, must not open it to service calls: a user
// could read every password hash, or insert a session for any user and
// log in as them.
func TestReviewInternalNamespacesAreNotServed(t *testing.T) {
	app := appWithFile(t, "data_sources/mongodb-atlas/default_rule.json", `{"roles": [{"name": "all", "apply_when": {},
		"read": true, "write": true, "insert": true, "delete": true, "search": true}], "filters": []}`)
	client := rulegatetest.Client(t)
	if err := client.Database("srvtest").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	accountsDB := rulegatetest.Database(t).Name()
	e := newEnvAppOn(t, app, client, accountsDB)
	u := e.signup("mallory@example.com")
	// The default rule is in force elsewhere.
	r := e.do("POST", base+"/functions/call", u.access, `{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"anything","document":{"x":1}}]}`)
	wantStatus(t, "the default rule elsewhere", r, 200, "")
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	for _, coll := range []string{"users", "identities", "sessions", "api_keys", "tokens", "throttle", "other"} {
		for _, c := range []struct{ name, arg string }{
			{"find", `"query":{}`}, {"count", `"query":{}`}, {"aggregate", `"pipeline":[]`},
			{"insertOne", `"document":{"_id":"x"}`}, {"deleteMany", `"query":{}`},
			{"updateMany", `"query":{},"update":{"$set":{"password":"x"}}`},
		} {
			b := `{"name":"` + c.name + `","service":"mongodb-atlas","arguments":[{"database":"` + accountsDB + `","collection":"` + coll + `",` + c.arg + `}]}`
			r := e.do("POST", base+"/functions/call", u.access, b)
			wantClean(t, c.name+" on the accounts database's "+coll, r, http.StatusForbidden)
		}
		r := e.do("POST", dapi+"find", u.access, `{"dataSource":"mongodb-atlas","database":"`+accountsDB+`","collection":"`+coll+`","filter":{}}`)
		wantClean(t, "Data API find on the accounts database's "+coll, r, http.StatusForbidden)
	}
	e.login("local-userpass", `{"username":"mallory@example.com","password":"pa55w0rd!"}`)
	// Nor MongoDB's own databases and system collections: the oplog holds
	// every write of every user, admin.system.users the cluster's
	// credentials.
	for _, ns := range [][2]string{{"local", "oplog.rs"}, {"local", "startup_log"}, {"admin", "system.users"}, {"admin", "anything"}, {"Admin", "x"},
		{"config", "system.sessions"}, {"srvtest", "system.profile"}, {"srvtest", "system.js"}, {"srvtest", "system.views"}} {
		for _, c := range []struct{ name, arg string }{{"find", `"query":{}`}, {"insertOne", `"document":{"x":1}`}, {"aggregate", `"pipeline":[]`}} {
			b := `{"name":"` + c.name + `","service":"mongodb-atlas","arguments":[{"database":"` + ns[0] + `","collection":"` + ns[1] + `",` + c.arg + `}]}`
			wantClean(t, c.name+" on "+ns[0]+"."+ns[1], e.do("POST", base+"/functions/call", u.access, b), http.StatusForbidden)
		}
	}
	// Nor through a pipeline stage that reads another database, a system
	// collection of this one, or the server's state. ($lookup and
	// $unionWith of an ordinary collection of the same database read it
	// through its rules, here the default rule: they cannot leave the
	// database, so they never reach the accounts database.)
	for _, st := range []string{
		`{"$lookup":{"from":"system.views","localField":"x","foreignField":"_id","as":"u"}}`,
		`{"$unionWith":{"coll":"system.profile"}}`, `{"$unionWith":{"coll":"system.js","pipeline":[]}}`,
		`{"$lookup":{"from":{"db":"` + accountsDB + `","coll":"identities"},"pipeline":[],"as":"u"}}`,
		`{"$unionWith":{"db":"local","coll":"oplog.rs"}}`,
		`{"$graphLookup":{"from":"x","startWith":"$x","connectFromField":"x","connectToField":"x","as":"g"}}`,
		`{"$currentOp":{}}`, `{"$listSessions":{}}`, `{"$listLocalSessions":{}}`, `{"$planCacheStats":{}}`,
		`{"$documents":[{"x":1}]}`, `{"$changeStream":{}}`, `{"$collStats":{"count":{}}}`, `{"$indexStats":{}}`,
		`{"$out":"x"}`, `{"$merge":{"into":{"db":"` + accountsDB + `","coll":"sessions"}}}`, `{"$listSearchIndexes":{}}`,
	} {
		b := `{"name":"aggregate","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"anything","pipeline":[` + st + `]}]}`
		wantClean(t, "aggregate "+st, e.do("POST", base+"/functions/call", u.access, b), 0)
	}
}

// A filter's projection withholds a field from the caller, even from the
// document's owner: no update of that field may answer differently by
// what the field holds (its type decides whether $inc, $push or a path
// inside it can apply).
func TestReviewFilterProjectionHidesTypes(t *testing.T) {
	app := appWithFile(t, "data_sources/mongodb-atlas/srvtest/notes/rules.json", `{
	"database": "srvtest", "collection": "notes",
	"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"},
		"document_filters": {"read": {"owner": "%%user.id"}, "write": {"owner": "%%user.id"}},
		"read": true, "write": true, "insert": true, "delete": true, "search": false}],
	"filters": [{"name": "hide", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]}`)
	e := newEnvApp(t, app)
	alice := e.signup("alice@example.com")
	ctx := context.Background()
	notes := e.client.Database("srvtest").Collection("notes")
	for id, v := range map[string]any{"str": "text", "num": 1, "arr": bson.A{1}, "doc": bson.D{{Key: "a", Value: 1}}, "none": nil} {
		d := bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: alice.id}}
		if v != nil {
			d = append(d, bson.E{Key: "secret", Value: v})
		}
		if _, err := notes.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	for _, upd := range []string{`{"$inc":{"secret":1}}`, `{"$push":{"secret":1}}`, `{"$set":{"secret.x":1}}`, `{"$unset":{"secret":""}}`,
		`{"$rename":{"secret":"open"}}`, `{"$set":{"open":"$secret"}}`, `{"$min":{"secret":0}}`, `{"$pull":{"secret":1}}`, `{"$addToSet":{"secret":1}}`} {
		for _, m := range []string{"updateOne", "updateMany", "findOneAndUpdate"} {
			q := "query"
			if m == "findOneAndUpdate" {
				q = "filter"
			}
			var first resp
			for i, id := range []string{"str", "num", "arr", "doc", "none"} {
				r := e.call(alice, m, `"`+q+`":{"_id":"`+id+`"},"update":`+upd)
				r.body = []byte(strings.Replace(string(r.body), `"_id":"`+id+`"`, `"_id":"ID"`, 1))
				if i == 0 {
					first = r
					if r.status >= 500 || r.status == http.StatusUnauthorized {
						t.Errorf("%s: %d %s", upd, r.status, r.body)
					}
					continue
				}
				if !same(first, r) {
					t.Errorf("%s %s: a hidden %s answers %d %s, a hidden string %d %s", m, upd, id, r.status, r.body, first.status, first.body)
				}
			}
		}
	}
	if n, _ := notes.CountDocuments(ctx, bson.D{{Key: "secret", Value: "text"}}); n != 1 {
		t.Fatal("the hidden string changed")
	}
}

// A custom JWT's claims are the client's input: a metadata value holding a
// "$" key (which extended JSON would read as a typed value in %%user.data)
// refuses the token with 401 InvalidPassword, never a 5xx.
func TestReviewCustomJWTDollarMetadata(t *testing.T) {
	e := newEnv(t)
	exp := time.Now().Add(time.Hour).Unix()
	for name, user := range map[string]any{
		"$oid":        map[string]any{"email": map[string]any{"$oid": "65a000000000000000000001"}},
		"deep $where": map[string]any{"email": "x@example.com", "team": []any{map[string]any{"$where": "1"}}},
		"$numberLong": map[string]any{"email": map[string]any{"$numberLong": "1"}},
	} {
		tok := customJWT(t, jwtSecret, jwt.MapClaims{"aud": appID, "sub": "d-1", "exp": exp, "user": user})
		r := e.do("POST", base+"/auth/providers/custom-token/login", "", `{"token":"`+tok+`"}`)
		wantClean(t, name, r, http.StatusUnauthorized)
		wantCode(t, name, r, "InvalidPassword")
	}
}
