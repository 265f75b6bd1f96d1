package server_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
	"github.com/rulegate/rulegate/token"
)

const (
	appID     = "rulegate-test-abcde"
	jwtSecret = "a-custom-jwt-signing-key-of-32-bytes-or-more"
	base      = "/api/client/v2.0/app/" + appID
)

// env is one test's server: the handler over the embedded MongoDB, the
// rules database srvtest emptied first, a fresh accounts database.
type env struct {
	t      *testing.T
	url    string
	client *mongo.Client
	srv    *server.Server
	logs   *bytes.Buffer
}

var testKeys = func() *token.KeySet {
	k, err := token.HMACKey("test", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		panic(err)
	}
	ks, err := token.NewKeySet(k)
	if err != nil {
		panic(err)
	}
	return ks
}()

func loadApp(t testing.TB) *rules.App {
	t.Helper()
	app, err := rules.LoadApp(os.DirFS("testdata/app"))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func newEnv(t *testing.T, opts ...server.Option) *env {
	t.Helper()
	client := rulegatetest.Client(t)
	ctx := context.Background()
	if err := client.Database("srvtest").Drop(ctx); err != nil {
		t.Fatal(err)
	}
	accountsDB := rulegatetest.Database(t).Name()
	return newEnvOn(t, client, accountsDB, opts...)
}

func newEnvOn(t *testing.T, client *mongo.Client, accountsDB string, opts ...server.Option) *env {
	t.Helper()
	return newEnvAppOn(t, loadApp(t), client, accountsDB, opts...)
}

func newEnvAppOn(t *testing.T, app *rules.App, client *mongo.Client, accountsDB string, opts ...server.Option) *env {
	t.Helper()
	logs := &bytes.Buffer{}
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts = append([]server.Option{server.WithDatabase(accountsDB), server.WithLogger(logger), server.WithSecrets(map[string]string{"jwtsecret": jwtSecret})}, opts...)
	srv, err := server.New(context.Background(), app, client, testKeys, opts...)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &env{t: t, url: hs.URL, client: client, srv: srv, logs: logs}
}

type lockedWriter struct {
	w io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	logMu.Lock()
	defer logMu.Unlock()
	return l.w.Write(p)
}

// resp is an answer: status, headers and the body.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

func (e *env) do(method, path, tok string, body string, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{status: res.StatusCode, header: res.Header, body: b}
}

// user is a logged-in client.
type user struct {
	id, access, refresh, device string
}

func (e *env) register(email, password string) {
	e.t.Helper()
	r := e.do("POST", base+"/auth/providers/local-userpass/register", "", `{"email":"`+email+`","password":"`+password+`"}`)
	if r.status != http.StatusCreated {
		e.t.Fatalf("register %s: %d %s", email, r.status, r.body)
	}
}

func (e *env) login(provider, payload string) user {
	e.t.Helper()
	r := e.do("POST", base+"/auth/providers/"+provider+"/login", "", payload)
	if r.status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", provider, r.status, r.body)
	}
	m := r.json(e.t)
	u := user{}
	for k, dst := range map[string]*string{"user_id": &u.id, "access_token": &u.access, "refresh_token": &u.refresh, "device_id": &u.device} {
		s, ok := m[k].(string)
		if !ok || s == "" {
			e.t.Fatalf("login %s: %q missing in %s", provider, k, r.body)
		}
		*dst = s
	}
	return u
}

func (e *env) signup(email string) user {
	e.t.Helper()
	e.register(email, "pa55w0rd!")
	return e.login("local-userpass", `{"username":"`+email+`","password":"pa55w0rd!","options":{"device":{"sdkVersion":"2.0.1","platform":"node"}}}`)
}

// call is a MongoDB service call as realm-web sends it.
func (e *env) call(u user, name, arg string) resp {
	e.t.Helper()
	return e.do("POST", base+"/functions/call", u.access, `{"name":"`+name+`","arguments":[{"database":"srvtest","collection":"notes",`+arg+`}],"service":"mongodb-atlas"}`)
}

func (e *env) callOK(u user, name, arg string) string {
	e.t.Helper()
	r := e.call(u, name, arg)
	if r.status != http.StatusOK {
		e.t.Fatalf("%s %s: %d %s", name, arg, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		e.t.Fatalf("%s: Content-Type %q, want exactly application/json", name, ct)
	}
	return string(r.body)
}

// claims decodes an access token's payload as realm-web does: plain JSON.
func claims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func wantStatus(t *testing.T, what string, r resp, status int, code string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.body)
	}
	if code == "" {
		return
	}
	m := r.json(t)
	if m["error_code"] != code {
		t.Fatalf("%s: error_code %v, want %s: %s", what, m["error_code"], code, r.body)
	}
	if _, ok := m["error"].(string); !ok {
		t.Fatalf("%s: no error message: %s", what, r.body)
	}
	if _, ok := m["link"].(string); !ok {
		t.Fatalf("%s: no link: %s", what, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: error Content-Type %q, want exactly application/json", what, ct)
	}
}

func TestLocation(t *testing.T) {
	e := newEnv(t)
	r := e.do("GET", "//api/client/v2.0/app/"+appID+"/location", "", "")
	wantStatus(t, "location", r, 200, "")
	m := r.json(t)
	if m["hostname"] != e.url || m["ws_hostname"] != "ws"+strings.TrimPrefix(e.url, "http") {
		t.Fatalf("location %s, want hostname %s", r.body, e.url)
	}
	r = e.do("GET", "/api/client/v2.0/app/other-app/location", "", "")
	wantStatus(t, "another app's location", r, 404, "AppNotFound")
}

func TestEmailPasswordFlow(t *testing.T) {
	e := newEnv(t)
	alice := e.signup("alice@example.com")
	p := e.do("GET", "/api/client/v2.0/auth/profile", alice.access, "")
	wantStatus(t, "profile", p, 200, "")
	m := p.json(t)
	if m["type"] != "normal" || m["user_id"] != alice.id {
		t.Fatalf("profile %s", p.body)
	}
	if d, _ := m["data"].(map[string]any); d["email"] != "alice@example.com" {
		t.Fatalf("profile data %s", p.body)
	}
	ids, _ := m["identities"].([]any)
	if len(ids) != 1 || ids[0].(map[string]any)["provider_type"] != "local-userpass" {
		t.Fatalf("profile identities %s", p.body)
	}
	c := claims(t, alice.access)
	if c["sub"] != alice.id || c["baas_device_id"] != alice.device || c["typ"] != "access" {
		t.Fatalf("access token claims %v", c)
	}
	exp, _ := c["exp"].(float64)
	iat, _ := c["iat"].(float64)
	if exp-iat != 1800 {
		t.Fatalf("access token lives %v s, want 1800", exp-iat)
	}
	if len(alice.id) != 24 {
		t.Fatalf("user id %q is not an ObjectId hex", alice.id)
	}

	// No enumeration: registering a taken address answers as a new one,
	// and a wrong password as an unknown address.
	e.register("alice@example.com", "another-pass")
	wrong := e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"alice@example.com","password":"nope-nope"}`)
	unknown := e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"nobody@example.com","password":"nope-nope"}`)
	wantStatus(t, "wrong password", wrong, 401, "InvalidPassword")
	wantStatus(t, "unknown user", unknown, 401, "InvalidPassword")
	if wrong.json(t)["error"] != unknown.json(t)["error"] {
		t.Fatalf("wrong password %s and unknown user %s differ", wrong.body, unknown.body)
	}
	e.login("local-userpass", `{"username":"alice@example.com","password":"pa55w0rd!"}`)

	// Reset by token: the link would be e-mailed; the operator's log has it.
	r := e.do("POST", base+"/auth/providers/local-userpass/reset/send", "", `{"email":"alice@example.com"}`)
	wantStatus(t, "reset/send", r, 201, "")
	r2 := e.do("POST", base+"/auth/providers/local-userpass/reset/send", "", `{"email":"nobody@example.com"}`)
	if r2.status != r.status || string(r2.body) != string(r.body) {
		t.Fatalf("reset/send answers differ for known (%s) and unknown (%s) addresses", r.body, r2.body)
	}
}

func TestAnonymousAndAPIKeys(t *testing.T) {
	e := newEnv(t)
	anon := e.login("anon-user", `{"options":{"device":{"sdkVersion":"2.0.1"}}}`)
	anon2 := e.login("anon-user", `{}`)
	if anon.id == anon2.id {
		t.Fatal("two anonymous logins gave one user")
	}
	bob := e.signup("bob@example.com")
	r := e.do("POST", "/api/client/v2.0/auth/api_keys", bob.refresh, `{"name":"k1"}`)
	wantStatus(t, "create API key", r, 201, "")
	k := r.json(t)
	key, _ := k["key"].(string)
	kid, _ := k["_id"].(string)
	if key == "" || len(kid) != 24 || k["name"] != "k1" || k["disabled"] != false {
		t.Fatalf("API key %s", r.body)
	}
	// The access token does not authenticate these routes (realm-web
	// sends the refresh token).
	wantStatus(t, "API keys with an access token", e.do("GET", "/api/client/v2.0/auth/api_keys", bob.access, ""), 401, "InvalidSession")
	list := e.do("GET", "/api/client/v2.0/auth/api_keys", bob.refresh, "")
	wantStatus(t, "list API keys", list, 200, "")
	if strings.Contains(string(list.body), key) {
		t.Fatal("listing API keys returned a secret")
	}
	viaKey := e.login("api-key", `{"key":"`+key+`"}`)
	if viaKey.id != bob.id {
		t.Fatalf("API key login gave user %s, want %s", viaKey.id, bob.id)
	}
	wantStatus(t, "disable", e.do("PUT", "/api/client/v2.0/auth/api_keys/"+kid+"/disable", bob.refresh, ""), 204, "")
	wantStatus(t, "login with a disabled key", e.do("POST", base+"/auth/providers/api-key/login", "", `{"key":"`+key+`"}`), 401, "")
	wantStatus(t, "delete key", e.do("DELETE", "/api/client/v2.0/auth/api_keys/"+kid, bob.refresh, ""), 204, "")
	wantStatus(t, "get deleted key", e.do("GET", "/api/client/v2.0/auth/api_keys/"+kid, bob.refresh, ""), 404, "APIKeyNotFound")
}

func customJWT(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCustomJWT(t *testing.T) {
	e := newEnv(t)
	exp := time.Now().Add(time.Hour).Unix()
	good := customJWT(t, jwtSecret, jwt.MapClaims{"aud": appID, "sub": "ext-42", "exp": exp, "user": map[string]any{"email": "x@example.com", "team": "red"}})
	u := e.login("custom-token", `{"token":"`+good+`"}`)
	p := e.do("GET", "/api/client/v2.0/auth/profile", u.access, "").json(t)
	d, _ := p["data"].(map[string]any)
	if d["email"] != "x@example.com" || d["team"] != "red" {
		t.Fatalf("custom JWT metadata %v", p)
	}
	again := e.login("custom-token", `{"token":"`+good+`"}`)
	if again.id != u.id {
		t.Fatal("the same JWT subject logged in as two users")
	}
	for name, tok := range map[string]string{
		"wrong key":       customJWT(t, "another-secret-of-enough-length-0123456789", jwt.MapClaims{"aud": appID, "sub": "ext-42", "exp": exp, "user": map[string]any{"email": "x"}}),
		"expired":         customJWT(t, jwtSecret, jwt.MapClaims{"aud": appID, "sub": "ext-42", "exp": time.Now().Add(-time.Hour).Unix(), "user": map[string]any{"email": "x"}}),
		"no exp":          customJWT(t, jwtSecret, jwt.MapClaims{"aud": appID, "sub": "ext-42", "user": map[string]any{"email": "x"}}),
		"wrong audience":  customJWT(t, jwtSecret, jwt.MapClaims{"aud": "other", "sub": "ext-42", "exp": exp, "user": map[string]any{"email": "x"}}),
		"required absent": customJWT(t, jwtSecret, jwt.MapClaims{"aud": appID, "sub": "ext-42", "exp": exp}),
		"alg none":        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJhdWQiOiJydWxlZ2F0ZS10ZXN0LWFiY2RlIiwic3ViIjoieCJ9.",
	} {
		r := e.do("POST", base+"/auth/providers/custom-token/login", "", `{"token":"`+tok+`"}`)
		wantStatus(t, name, r, 401, "InvalidPassword")
	}
}

func TestFunctionsCall(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.signup("alice@example.com"), e.signup("bob@example.com")
	ctx := context.Background()
	_, err := e.client.Database("srvtest").Collection("profiles").InsertOne(ctx, bson.D{{Key: "userId", Value: bob.id}, {Key: "teams", Value: bson.A{"red"}}})
	if err != nil {
		t.Fatal(err)
	}
	out := e.callOK(alice, "insertOne", `"document":{"_id":{"$oid":"65a0000000000000000000b1"},"owner":"`+alice.id+`","team":"red","secret":"s1","n":{"$numberInt":"1"}}`)
	if out != `{"insertedId":{"$oid":"65a0000000000000000000b1"}}` {
		t.Fatalf("insertOne: %s", out)
	}
	out = e.callOK(alice, "insertMany", `"documents":[{"owner":"`+alice.id+`","team":"blue","n":{"$numberInt":"2"}},{"owner":"`+alice.id+`","n":{"$numberLong":"3"}}]`)
	if !strings.HasPrefix(out, `{"insertedIds":[{"$oid":`) {
		t.Fatalf("insertMany: %s", out)
	}
	// Another user's insert for alice is refused: a 403, never a 401.
	r := e.call(bob, "insertOne", `"document":{"owner":"`+alice.id+`"}`)
	wantStatus(t, "bob inserts for alice", r, 403, "NoMatchingRuleFound")

	if out = e.callOK(alice, "count", `"query":{}`); out != `{"$numberLong":"3"}` {
		t.Fatalf("count: %s", out)
	}
	if out = e.callOK(alice, "find", `"query":{"n":{"$gt":{"$numberInt":"1"}}},"project":{"n":{"$numberInt":"1"},"_id":{"$numberInt":"0"}},"sort":{"n":{"$numberInt":"1"}},"limit":{"$numberInt":"10"}`); out != `[{"n":{"$numberInt":"2"}},{"n":{"$numberLong":"3"}}]` {
		t.Fatalf("find: %s", out)
	}
	if out = e.callOK(alice, "findOne", `"query":{"n":{"$numberInt":"5"}}`); out != `null` {
		t.Fatalf("findOne of nothing: %s", out)
	}
	// Bob is alice's teammate on red: he reads the red note, without its
	// secret; a fresh token is needed for his custom data (stale until
	// refresh).
	if out = e.callOK(bob, "find", `"query":{}`); out != `[]` {
		t.Fatalf("bob before refresh: %s", out)
	}
	rr := e.do("POST", "/api/client/v2.0/auth/session", bob.refresh, "")
	wantStatus(t, "refresh", rr, 201, "")
	bob.access = rr.json(t)["access_token"].(string)
	if ud, _ := claims(t, bob.access)["user_data"].(map[string]any); ud["userId"] != bob.id {
		t.Fatalf("user_data %v", claims(t, bob.access))
	}
	out = e.callOK(bob, "find", `"query":{}`)
	if !strings.Contains(out, `"team":"red"`) || strings.Contains(out, "secret") || strings.Contains(out, "blue") {
		t.Fatalf("bob's find: %s", out)
	}
	// A teammate may not write: the document is visible, so he is told.
	r = e.call(bob, "updateOne", `"query":{"team":"red"},"update":{"$set":{"n":{"$numberInt":"9"}}}`)
	wantStatus(t, "teammate update", r, 403, "PermissionDenied")
	// Filtering on a field hidden from him matches nothing.
	if out = e.callOK(bob, "find", `"query":{"secret":"s1"}`); out != `[]` {
		t.Fatalf("bob finds by a hidden field: %s", out)
	}

	if out = e.callOK(alice, "updateOne", `"query":{"n":{"$numberInt":"1"}},"update":{"$inc":{"n":{"$numberInt":"10"}}}`); out != `{"matchedCount":{"$numberInt":"1"},"modifiedCount":{"$numberInt":"1"}}` {
		t.Fatalf("updateOne: %s", out)
	}
	if out = e.callOK(alice, "updateMany", `"query":{},"update":{"$set":{"seen":true}}`); out != `{"matchedCount":{"$numberInt":"3"},"modifiedCount":{"$numberInt":"3"}}` {
		t.Fatalf("updateMany: %s", out)
	}
	out = e.callOK(alice, "findOneAndUpdate", `"filter":{"n":{"$numberInt":"11"}},"update":{"$set":{"t":"x"}},"projection":{"t":{"$numberInt":"1"}},"returnNewDocument":true`)
	if out != `{"_id":{"$oid":"65a0000000000000000000b1"},"t":"x"}` {
		t.Fatalf("findOneAndUpdate: %s", out)
	}
	if out = e.callOK(alice, "aggregate", `"pipeline":[{"$group":{"_id":null,"total":{"$sum":"$n"}}}]`); out != `[{"_id":null,"total":{"$numberLong":"16"}}]` {
		t.Fatalf("aggregate: %s", out)
	}
	// realm-web 2.0.1 sends findOneAndDelete as findOneAndReplace without
	// an update: decided and done as the delete the client asked for.
	out = e.callOK(alice, "findOneAndReplace", `"filter":{"n":{"$numberInt":"2"}},"projection":{"n":{"$numberInt":"1"},"_id":{"$numberInt":"0"}}`)
	if out != `{"n":{"$numberInt":"2"}}` {
		t.Fatalf("findOneAndDelete (as realm-web sends it): %s", out)
	}
	if out = e.callOK(alice, "deleteOne", `"query":{"n":{"$numberLong":"3"}}`); out != `{"deletedCount":{"$numberInt":"1"}}` {
		t.Fatalf("deleteOne: %s", out)
	}
	if out = e.callOK(alice, "deleteMany", `"query":{}`); out != `{"deletedCount":{"$numberInt":"1"}}` {
		t.Fatalf("deleteMany: %s", out)
	}
	if !strings.Contains(e.logText(), `"msg":"denied"`) {
		t.Fatal("no decision log line for the denials")
	}
	if strings.Contains(e.logText(), alice.access) || strings.Contains(e.logText(), "s1") {
		t.Fatal("the log holds a token or a document value")
	}
}

func TestSessions(t *testing.T) {
	e := newEnv(t, server.WithAccessTTL(time.Second))
	u := e.signup("carol@example.com")
	time.Sleep(2100 * time.Millisecond)
	r := e.call(u, "find", `"query":{}`)
	wantStatus(t, "expired access token", r, 401, "InvalidSession")
	wantStatus(t, "refresh token as access token", e.call(user{access: u.refresh}, "find", `"query":{}`), 401, "InvalidSession")
	rr := e.do("POST", "/api/client/v2.0/auth/session", u.refresh, "")
	wantStatus(t, "refresh", rr, 201, "")
	u.access = rr.json(t)["access_token"].(string)
	e.callOK(u, "find", `"query":{}`)
	wantStatus(t, "access token as refresh token", e.do("POST", "/api/client/v2.0/auth/session", u.access, ""), 401, "InvalidSession")

	wantStatus(t, "logout", e.do("DELETE", "/api/client/v2.0/auth/session", u.refresh, ""), 204, "")
	r = e.do("POST", "/api/client/v2.0/auth/session", u.refresh, "")
	wantStatus(t, "refresh after logout", r, 401, "InvalidSession")
	if !strings.Contains(r.json(t)["error"].(string), "failed to find refresh token") {
		t.Fatalf("realm-web swallows only 'failed to find refresh token' on logout: %s", r.body)
	}

	d := e.signup("dave@example.com")
	wantStatus(t, "delete user", e.do("DELETE", "/api/client/v2.0/auth/delete", d.access, ""), 204, "")
	wantStatus(t, "refresh a deleted user", e.do("POST", "/api/client/v2.0/auth/session", d.refresh, ""), 401, "InvalidSession")
	wantStatus(t, "login a deleted user", e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"dave@example.com","password":"pa55w0rd!"}`), 401, "InvalidPassword")
}

// Two instances on one database: nothing lives in either process.
func TestTwoInstances(t *testing.T) {
	client := rulegatetest.Client(t)
	if err := client.Database("srvtest").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	db := rulegatetest.Database(t).Name()
	a, b := newEnvOn(t, client, db), newEnvOn(t, client, db)
	a.register("erin@example.com", "pa55w0rd!")
	u := b.login("local-userpass", `{"username":"erin@example.com","password":"pa55w0rd!"}`)
	rr := a.do("POST", "/api/client/v2.0/auth/session", u.refresh, "")
	wantStatus(t, "refresh on the other instance", rr, 201, "")
	u.access = rr.json(t)["access_token"].(string)
	b.callOK(u, "insertOne", `"document":{"owner":"`+u.id+`"}`)
	if out := a.callOK(u, "count", `"query":{}`); out != `{"$numberLong":"1"}` {
		t.Fatalf("count on the other instance: %s", out)
	}
	wantStatus(t, "logout on one", a.do("DELETE", "/api/client/v2.0/auth/session", u.refresh, ""), 204, "")
	wantStatus(t, "refresh on the other", b.do("POST", "/api/client/v2.0/auth/session", u.refresh, ""), 401, "InvalidSession")
}

func TestDataAPI(t *testing.T) {
	e := newEnv(t)
	u := e.signup("frank@example.com")
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	hdr := []string{"email", "frank@example.com", "password", "pa55w0rd!"}
	r := e.do("POST", dapi+"insertOne", "", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","document":{"_id":{"$oid":"65a0000000000000000000c1"},"owner":"`+u.id+`","when":{"$date":{"$numberLong":"0"}},"n":{"$numberInt":"7"}}}`, hdr...)
	wantStatus(t, "insertOne", r, 201, "")
	if string(r.body) != `{"insertedId":"65a0000000000000000000c1"}` {
		t.Fatalf("insertOne JSON: %s", r.body)
	}
	r = e.do("POST", dapi+"findOne", u.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{"_id":{"$oid":"65a0000000000000000000c1"}}}`)
	wantStatus(t, "findOne", r, 200, "")
	want := `{"document":{"_id":"65a0000000000000000000c1","owner":"` + u.id + `","when":"1970-01-01T00:00:00.000Z","n":7}}`
	if string(r.body) != want {
		t.Fatalf("findOne JSON: %s, want %s", r.body, want)
	}
	r = e.do("POST", dapi+"find", u.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`, "Accept", "application/ejson")
	wantStatus(t, "find EJSON", r, 200, "")
	if !strings.Contains(string(r.body), `{"$date":{"$numberLong":"0"}}`) || r.header.Get("Content-Type") != "application/ejson" {
		t.Fatalf("find EJSON: %s %s", r.header.Get("Content-Type"), r.body)
	}
	r = e.do("POST", dapi+"updateOne", "", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{},"update":{"$set":{"n":8}}}`, hdr...)
	if string(r.body) != `{"matchedCount":1,"modifiedCount":1}` {
		t.Fatalf("updateOne: %d %s", r.status, r.body)
	}
	r = e.do("POST", dapi+"deleteMany", "", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`)
	wantStatus(t, "no credentials", r, 400, "MissingParameter")
	r = e.do("POST", dapi+"deleteMany", "", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`, "apiKey", "not-a-key")
	wantStatus(t, "bad API key", r, 401, "InvalidSession")
	r = e.do("POST", dapi+"deleteMany", "garbage", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`, hdr...)
	wantStatus(t, "a bad Bearer token decides alone", r, 401, "InvalidSession")
	r = e.do("POST", dapi+"deleteMany", "", `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`, hdr...)
	if string(r.body) != `{"deletedCount":1}` {
		t.Fatalf("deleteMany: %d %s", r.status, r.body)
	}
	r = e.do("POST", dapi+"find", u.access, `{"dataSource":"nope","database":"srvtest","collection":"notes"}`)
	wantStatus(t, "unknown data source", r, 400, "InvalidParameter")
	r = e.do("POST", dapi+"explode", u.access, `{}`)
	wantStatus(t, "unknown action", r, 404, "NotFound")
}

func TestCORS(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("OPTIONS", e.url+base+"/functions/call", nil)
	req.Header.Set("Origin", "http://localhost:5173")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t)
	wantStatus(t, "healthz", e.do("GET", "/healthz", "", ""), 200, "")
	e.srv.Drain()
	wantStatus(t, "healthz draining", e.do("GET", "/healthz", "", ""), 503, "")
}

var logMu sync.Mutex

// logText returns what the server logged so far.
func (e *env) logText() string {
	logMu.Lock()
	defer logMu.Unlock()
	return e.logs.String()
}

// The Web SDK and Node SDK custom user data pages write the document with
// an upsert: the first write inserts it (decided as an insert), the next
// updates it, and refreshCustomData() shows each.
func TestCustomDataUpsert(t *testing.T) {
	e := newEnv(t)
	u := e.signup("gina@example.com")
	upsert := func(nonce int) string {
		r := e.do("POST", base+"/functions/call", u.access, `{"name":"updateOne","arguments":[{"database":"srvtest","collection":"profiles","query":{"userId":"`+u.id+`"},"update":{"$set":{"userId":"`+u.id+`","nonce":{"$numberInt":"`+strconv.Itoa(nonce)+`"}}},"upsert":true}],"service":"mongodb-atlas"}`)
		wantStatus(t, "upsert", r, 200, "")
		return string(r.body)
	}
	if _, ok := claims(t, u.access)["user_data"]; ok {
		t.Fatal("a new user's token carries custom data")
	}
	if out := upsert(1); !strings.HasPrefix(out, `{"matchedCount":{"$numberInt":"0"},"modifiedCount":{"$numberInt":"0"},"upsertedId":{"$oid":"`) {
		t.Fatalf("first upsert: %s", out)
	}
	refresh := func() map[string]any {
		rr := e.do("POST", "/api/client/v2.0/auth/session", u.refresh, "")
		wantStatus(t, "refresh", rr, 201, "")
		u.access = rr.json(t)["access_token"].(string)
		ud, _ := claims(t, u.access)["user_data"].(map[string]any)
		return ud
	}
	if ud := refresh(); fmt.Sprint(ud["nonce"]) != "map[$numberInt:1]" {
		t.Fatalf("custom data after the first upsert: %v", ud)
	}
	if out := upsert(2); out != `{"matchedCount":{"$numberInt":"1"},"modifiedCount":{"$numberInt":"1"}}` {
		t.Fatalf("second upsert: %s", out)
	}
	if ud := refresh(); fmt.Sprint(ud["nonce"]) != "map[$numberInt:2]" {
		t.Fatalf("custom data after the second upsert: %v", ud)
	}
	// The teams field is read-only for the user: an upsert may not grant it.
	r := e.do("POST", base+"/functions/call", u.access, `{"name":"updateOne","arguments":[{"database":"srvtest","collection":"profiles","query":{"userId":"`+u.id+`"},"update":{"$set":{"teams":["red"]}},"upsert":true}],"service":"mongodb-atlas"}`)
	wantStatus(t, "granting oneself a team", r, 403, "PermissionDenied")
}

// A custom JWT authenticates a Data API request only for a user that
// exists, unless create_user_on_auth is set (it is not in testdata/app).
func TestDataAPIJWTUser(t *testing.T) {
	e := newEnv(t)
	dapi := "/app/" + appID + "/endpoint/data/v1/action/find"
	body := `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`
	tok := customJWT(t, jwtSecret, jwt.MapClaims{"aud": appID, "sub": "ext-7", "exp": time.Now().Add(time.Hour).Unix(), "user": map[string]any{"email": "j@example.com"}})
	wantStatus(t, "a JWT of no user", e.do("POST", dapi, "", body, "jwtTokenString", tok), 401, "InvalidSession")
	e.login("custom-token", `{"token":"`+tok+`"}`)
	r := e.do("POST", dapi, "", body, "jwtTokenString", tok)
	if r.status != 200 || string(r.body) != `{"documents":[]}` {
		t.Fatalf("a JWT of a user: %d %s", r.status, r.body)
	}
}
