package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
)

// The JavaScript app (testdata/jsapp): functions the clients call,
// %function rules that read other collections as the user and as system,
// a user creation function and authentication triggers, all in srvjs.

func loadJSApp(t testing.TB) *rules.App {
	t.Helper()
	app, err := rules.LoadApp(os.DirFS("testdata/jsapp"))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func newJSEnv(t *testing.T, opts ...server.Option) *env {
	t.Helper()
	client := rulegatetest.Client(t)
	if err := client.Database("srvjs").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnvAppOn(t, loadJSApp(t), client, rulegatetest.Database(t).Name(), opts...)
	t.Cleanup(func() { e.wait() })
	return e
}

// wait waits for the authentication triggers the requests so far started.
func (e *env) wait() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := e.srv.Wait(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// js calls the app's function name with the arguments args (a JSON array
// of canonical extended JSON, as realm-web sends them).
func (e *env) js(u user, name, args string) resp {
	e.t.Helper()
	return e.do("POST", base+"/functions/call", u.access, `{"name":"`+name+`","arguments":`+args+`}`)
}

func (e *env) srvjs(coll string) []bson.M {
	e.t.Helper()
	cur, err := e.client.Database("srvjs").Collection(coll).Find(context.Background(), bson.D{}, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []bson.M
	if err := cur.All(context.Background(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// TestJSUserCreationFunction: a new user's creation function inserts its
// custom data document before the first access token is made, which
// carries it; a function that throws refuses the login, and the next login
// runs it again (the user is still new), never letting the user in
// without its document.
func TestJSUserCreationFunction(t *testing.T) {
	e := newJSEnv(t)
	bob := e.signup("bob@example.com")
	data, ok := claims(t, bob.access)["user_data"].(map[string]any)
	if !ok || data["plan"] != "free" || data["email"] != "bob@example.com" || data["userId"] != bob.id {
		t.Fatalf("first access token's user_data = %v, want the document the creation function inserted", claims(t, bob.access)["user_data"])
	}
	again := e.login("local-userpass", `{"username":"bob@example.com","password":"pa55w0rd!"}`)
	e.wait()
	if n := len(e.srvjs("profiles")); n != 1 {
		t.Fatalf("%d profiles after a second login, want 1 (the creation function runs once)", n)
	}
	if data, _ := claims(t, again.access)["user_data"].(map[string]any); data["plan"] != "free" {
		t.Fatalf("second login's user_data = %v", data)
	}

	e.register("refused@example.com", "pa55w0rd!")
	for i := range 2 {
		r := e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"refused@example.com","password":"pa55w0rd!"}`)
		wantStatus(t, "login whose creation function throws", r, http.StatusBadRequest, "FunctionExecutionError")
		if msg := r.json(t)["error"].(string); !strings.Contains(msg, "refused: refused@example.com") || strings.Contains(msg, ".go:") {
			t.Fatalf("login %d: error %q, want the function's message and no Go location", i+1, msg)
		}
	}
	if n := len(e.srvjs("profiles")); n != 1 {
		t.Fatalf("%d profiles, want bob's only", n)
	}
}

// TestJSAuthTriggers: CREATE, LOGIN and DELETE triggers run after their
// events with the authentication event {operationType, providers, user,
// time}, as system; the providers filter and disabled apply; a LOGIN
// trigger sets lastLogin on the custom data document (the custom user data
// pages' example).
func TestJSAuthTriggers(t *testing.T) {
	e := newJSEnv(t)
	before := time.Now().Add(-time.Second)
	bob := e.signup("bob@example.com")
	e.wait()
	profiles := e.srvjs("profiles")
	if len(profiles) != 1 {
		t.Fatalf("profiles %v", profiles)
	}
	last, ok := profiles[0]["lastLogin"].(bson.DateTime)
	if !ok || last.Time().Before(before) || last.Time().After(time.Now()) {
		t.Fatalf("lastLogin = %#v, want the login's time", profiles[0]["lastLogin"])
	}
	// The token was made before the trigger ran: it carries no lastLogin.
	if data, _ := claims(t, bob.access)["user_data"].(map[string]any); data["lastLogin"] != nil {
		t.Errorf("the first token carries lastLogin %v: triggers run after the login", data["lastLogin"])
	}

	anon := e.login("anon-user", `{}`)
	e.login("local-userpass", `{"username":"bob@example.com","password":"pa55w0rd!"}`)
	e.wait()
	if r := e.do("DELETE", "/api/client/v2.0/auth/delete", bob.access, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	e.wait()

	type event struct {
		user, op, providers, email string
		isDate                     bool
	}
	var got []event
	for _, d := range e.srvjs("events") {
		ps, _ := json.Marshal(d["providers"])
		email, _ := d["email"].(string)
		isDate, _ := d["isDate"].(bool)
		got = append(got, event{d["userId"].(string), d["operationType"].(string), string(ps), email, isDate})
	}
	count := map[event]int{}
	for _, ev := range got {
		count[ev]++
	}
	want := map[event]int{
		{bob.id, "CREATE", `["local-userpass"]`, "bob@example.com", true}: 1,
		{bob.id, "LOGIN", `["local-userpass"]`, "bob@example.com", true}:  2,
		{anon.id, "LOGIN", `["anon-user"]`, "", true}:                     1,
		{bob.id, "DELETE", `["local-userpass"]`, "bob@example.com", true}: 1,
	}
	if !reflect.DeepEqual(count, want) {
		t.Fatalf("events %v, want %v (no CREATE for the anonymous user: that trigger is disabled)", count, want)
	}
}

// TestJSFunctionRules: %function rules that read another collection with
// findOne, as system (isAdmin reads srvjs.admins, which no rule opens) and
// as the user (inTeam reads srvjs.teams through the caller's rules).
func TestJSFunctionRules(t *testing.T) {
	e := newJSEnv(t)
	ctx := context.Background()
	root := e.signup("root@example.com")
	carol := e.signup("carol@example.com")
	dave := e.signup("dave@example.com")
	db := e.client.Database("srvjs")
	if _, err := db.Collection("admins").InsertOne(ctx, bson.D{{Key: "email", Value: "root@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("teams").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "red"}, {Key: "members", Value: bson.A{carol.id}}},
		bson.D{{Key: "_id", Value: "blue"}, {Key: "members", Value: bson.A{dave.id}}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Collection("notes").InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: "n1"}, {Key: "team", Value: "red"}},
		bson.D{{Key: "_id", Value: "n2"}, {Key: "team", Value: "blue"}},
	}); err != nil {
		t.Fatal(err)
	}
	find := func(u user) string {
		t.Helper()
		r := e.do("POST", base+"/functions/call", u.access, `{"name":"find","service":"mongodb-atlas","arguments":[{"database":"srvjs","collection":"notes","query":{},"sort":{"_id":1}}]}`)
		if r.status != http.StatusOK {
			t.Fatalf("find: %d %s", r.status, r.body)
		}
		return string(r.body)
	}
	if got := find(root); got != `[{"_id":"n1","team":"red"},{"_id":"n2","team":"blue"}]` {
		t.Errorf("the admin (isAdmin, as system) finds %s", got)
	}
	if got := find(carol); got != `[{"_id":"n1","team":"red"}]` {
		t.Errorf("a red team member (inTeam, as the user) finds %s", got)
	}
	if got := find(dave); got != `[]` {
		t.Errorf("a member of another team finds %s", got)
	}
	r := e.do("POST", base+"/functions/call", carol.access, `{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"srvjs","collection":"notes","document":{"team":"red"}}]}`)
	wantStatus(t, "a red team member's insert", r, http.StatusForbidden, "")
	r = e.do("POST", base+"/functions/call", root.access, `{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"srvjs","collection":"notes","document":{"_id":"n3","team":"green"}}]}`)
	wantStatus(t, "the admin's insert", r, http.StatusOK, "")
}

// TestJSFunctionsCall: user.functions.<name>(...) runs the function as the
// caller with context.request; arguments and the result travel as
// canonical extended JSON; a private function is answered as an unknown
// one; can_evaluate is decided first; a thrown error is
// FunctionExecutionError with the function's message.
func TestJSFunctionsCall(t *testing.T) {
	e := newJSEnv(t)
	bob := e.signup("bob@example.com")
	root := e.signup("root@example.com")
	carol := e.signup("carol@example.com")
	if _, err := e.client.Database("srvjs").Collection("teams").InsertMany(context.Background(), []any{
		bson.D{{Key: "_id", Value: "red"}, {Key: "members", Value: bson.A{carol.id}}},
		bson.D{{Key: "_id", Value: "blue"}, {Key: "members", Value: bson.A{carol.id}}},
		bson.D{{Key: "_id", Value: "green"}, {Key: "members", Value: bson.A{bob.id}}},
	}); err != nil {
		t.Fatal(err)
	}

	// The call realm-web sent for user.functions.sum(1, "two", {three: 3}, [4], null).
	args := `[{"$numberInt":"1"},"two",{"three":{"$numberInt":"3"}},[{"$numberInt":"4"}],null]`
	r := e.js(bob, "echo", args)
	wantStatus(t, "echo", r, http.StatusOK, "")
	// The values come back as they went (a JavaScript number's integer
	// type is jsfunc's choice: compared as numbers), typed: canonical.
	if got, want := relaxed(t, r.body), relaxed(t, []byte(args)); got != want || !strings.Contains(string(r.body), `{"$number`) {
		t.Errorf("echo %s = %s", args, r.body)
	}
	dates := `[{"$date":{"$numberLong":"0"}},{"$oid":"65a0000000000000000000aa"},{"$numberDecimal":"1.10"},{"$numberDouble":"1.5"},{"$binary":{"base64":"AAE=","subType":"04"}}]`
	if r := e.js(bob, "echo", dates); r.status != http.StatusOK || string(r.body) != dates {
		t.Errorf("echo %s = %d %s", dates, r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	r = e.js(bob, "echo", `[]`)
	if r.status != http.StatusOK || string(r.body) != `[]` {
		t.Errorf("echo() = %d %s", r.status, r.body)
	}
	r = e.do("POST", base+"/functions/call", bob.access, `{"name":"echo"}`)
	if r.status != http.StatusOK || string(r.body) != `[]` {
		t.Errorf("echo without arguments = %d %s", r.status, r.body)
	}

	r = e.js(bob, "whoami", `[]`)
	wantStatus(t, "whoami", r, http.StatusOK, "")
	if want := `{"id":"` + bob.id + `","email":"bob@example.com","ip":"127.0.0.1"}`; string(r.body) != want {
		t.Errorf("whoami = %s, want %s", r.body, want)
	}

	r = e.js(carol, "myTeams", `[]`)
	if r.status != http.StatusOK || string(r.body) != `["blue","red"]` {
		t.Errorf("myTeams (as the user) = %d %s", r.status, r.body)
	}

	unknown := e.js(bob, "nope", `[]`)
	wantStatus(t, "an unknown function", unknown, http.StatusNotFound, "FunctionNotFound")
	for _, name := range []string{"secret", "isAdmin", "onUserCreation", "recordLogin"} {
		r := e.js(bob, name, `[]`)
		wantStatus(t, "the private function "+name, r, http.StatusNotFound, "FunctionNotFound")
		if got, want := r.json(t)["error"], strings.ReplaceAll(unknown.json(t)["error"].(string), "nope", name); got != want {
			t.Errorf("private %s: %q, want the unknown function's answer %q", name, got, want)
		}
	}

	r = e.js(bob, "rootOnly", `[]`)
	wantStatus(t, "rootOnly as bob (can_evaluate false)", r, http.StatusForbidden, "FunctionNotCallable")
	r = e.js(root, "rootOnly", `[]`)
	if r.status != http.StatusOK || string(r.body) != `"root"` {
		t.Errorf("rootOnly as root = %d %s", r.status, r.body)
	}

	r = e.js(bob, "boom", `["x"]`)
	wantStatus(t, "boom", r, http.StatusBadRequest, "FunctionExecutionError")
	if msg := r.json(t)["error"].(string); !strings.Contains(msg, "boom: x") || strings.Contains(msg, ".go:") || strings.Contains(msg, "goroutine") || strings.Contains(msg, "github.com/") {
		t.Errorf("boom: error %q, want the thrown message and no Go stack", msg)
	}

	// Failures of the functions a function calls are its own failure,
	// never "not found" of the function the client called.
	r = e.js(bob, "callsMissing", `[]`)
	wantStatus(t, "callsMissing", r, http.StatusBadRequest, "FunctionExecutionError")
	if msg := r.json(t)["error"].(string); !strings.Contains(msg, "noSuchFunction") {
		t.Errorf("callsMissing: %q, want the missing function named", msg)
	}
	r = e.js(bob, "callsRootOnly", `[]`)
	if m := r.json(t); r.status < 400 || r.status == http.StatusNotFound || !strings.Contains(m["error"].(string), "rootOnly") {
		t.Errorf("callsRootOnly as bob: %d %s, want a refusal naming rootOnly", r.status, r.body)
	}
	if r := e.js(root, "callsRootOnly", `[]`); r.status != http.StatusOK || string(r.body) != `"root"` {
		t.Errorf("callsRootOnly as root = %d %s", r.status, r.body)
	}

	r = e.do("POST", base+"/functions/call", "", `{"name":"echo","arguments":[]}`)
	wantStatus(t, "echo without a token", r, http.StatusUnauthorized, "InvalidSession")
}

// relaxed is a JSON array of extended JSON in relaxed form, numbers as
// numbers whatever their BSON type.
func relaxed(t *testing.T, b []byte) string {
	t.Helper()
	var doc bson.D
	if err := bson.UnmarshalExtJSON(append(append([]byte(`{"v":`), b...), '}'), true, &doc); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	out, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestHostileUserFunctionCall: user function calls with every argument
// shape, and malformed ones: an answer or a clean 4xx, never a 5xx, never a
// private function's result.
func TestHostileUserFunctionCall(t *testing.T) {
	e := newJSEnv(t)
	bob := e.signup("bob@example.com")
	shapes := []string{
		`null`, `true`, `"x"`, `{"$numberInt":"1"}`, `{"$numberLong":"9007199254740993"}`, `{"$numberDouble":"1.5"}`,
		`{"$numberDouble":"NaN"}`, `{"$numberDouble":"-Infinity"}`, `{"$numberDecimal":"1.10"}`, `{"$oid":"65a0000000000000000000aa"}`,
		`{"$date":{"$numberLong":"0"}}`, `{"$binary":{"base64":"AAE=","subType":"00"}}`, `{"$binary":{"base64":"AAE=","subType":"04"}}`,
		`{"$regularExpression":{"pattern":"a+","options":"i"}}`, `{"$timestamp":{"t":1,"i":2}}`, `{"$minKey":1}`, `{"$maxKey":1}`,
		`{"$symbol":"s"}`, `{"$code":"1+1"}`, `{"$undefined":true}`, `{"a":{"b":[1,{"c":null}]}}`, `[[[]]]`, `{}`, `[]`,
		`{"__proto__":{"polluted":1}}`, `{"constructor":{"prototype":{"x":1}}}`, `"` + strings.Repeat("x", 1<<16) + `"`,
		strings.Repeat("[", 90) + strings.Repeat("]", 90),
	}
	for _, s := range shapes {
		for _, name := range []string{"echo", "whoami", "boom", "rootOnly", "myTeams", "secret", "nope"} {
			r := e.js(bob, name, `[`+s+`]`)
			what := name + "(" + s[:min(len(s), 40)] + ")"
			if r.status == http.StatusOK {
				if name == "secret" || name == "nope" || name == "boom" || name == "rootOnly" {
					t.Errorf("%s answered %s", what, r.body)
				}
				continue
			}
			wantClean(t, what, r, 0)
			if r.status == http.StatusUnauthorized {
				t.Errorf("%s: 401 (a client would refresh and retry)", what)
			}
		}
	}
	for what, body := range map[string]string{
		"arguments an object":   `{"name":"echo","arguments":{"a":1}}`,
		"arguments a string":    `{"name":"echo","arguments":"x"}`,
		"arguments null":        `{"name":"echo","arguments":null}`,
		"no name":               `{"arguments":[]}`,
		"name an array":         `{"name":["echo"],"arguments":[]}`,
		"empty name":            `{"name":"","arguments":[]}`,
		"a $ key":               `{"name":"echo","arguments":[],"$where":"1"}`,
		"too deep":              `{"name":"echo","arguments":` + strings.Repeat("[", 200) + strings.Repeat("]", 200) + `}`,
		"not an object":         `["echo"]`,
		"truncated":             `{"name":"echo","arguments":[`,
		"name with a NUL":       `{"name":"echo\u0000","arguments":[]}`,
		"prototype name":        `{"name":"__proto__","arguments":[]}`,
		"constructor name":      `{"name":"constructor","arguments":[]}`,
		"hasOwnProperty name":   `{"name":"hasOwnProperty","arguments":[]}`,
		"function of a service": `{"name":"echo","service":"mongodb-atlas","arguments":[]}`,
	} {
		r := e.do("POST", base+"/functions/call", bob.access, body)
		wantClean(t, what, r, 0)
	}
}

// FuzzUserFunctionCall sends fuzzed functions/call bodies without a
// service (the app's own functions) through the whole handler, the
// JavaScript runtime and the embedded server: never a 5xx, always the
// error shape on a refusal, never a private function's result.
//
// fuzz smoke: 1000x (each input is a request to the embedded server)
func FuzzUserFunctionCall(f *testing.F) {
	client := rulegatetest.Client(f)
	ctx := context.Background()
	if err := client.Database("srvjs").Drop(ctx); err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(ctx, loadJSApp(f), client, testKeys, server.WithDatabase(rulegatetest.Database(f).Name()),
		server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), server.WithMaxBody(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	serve := func(path, tok, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	email := "fuzz-" + bson.NewObjectID().Hex() + "@example.com"
	serve(base+"/auth/providers/local-userpass/register", "", `{"email":"`+email+`","password":"pa55w0rd!"}`)
	rec := serve(base+"/auth/providers/local-userpass/login", "", `{"username":"`+email+`","password":"pa55w0rd!"}`)
	var login struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil || login.AccessToken == "" {
		f.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	f.Cleanup(func() { _ = srv.Wait(context.Background()) })
	for _, s := range []string{
		`{"name":"echo","arguments":[{"$numberInt":"1"},"two",{"three":{"$numberInt":"3"}},[{"$numberInt":"4"}],null]}`,
		`{"name":"echo","arguments":[{"$date":{"$numberLong":"0"}},{"$oid":"65a0000000000000000000aa"},{"$numberDecimal":"1.10"}]}`,
		`{"name":"whoami","arguments":[]}`,
		`{"name":"boom","arguments":["x"]}`,
		`{"name":"rootOnly","arguments":[]}`,
		`{"name":"myTeams"}`,
		`{"name":"secret","arguments":[]}`,
		`{"name":"isAdmin","arguments":["root@example.com"]}`,
		`{"name":"nope","arguments":[1]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve(base+"/functions/call", login.AccessToken, body)
		out := rec.Body.String()
		if rec.Code >= 500 {
			t.Fatalf("%d %s for %q", rec.Code, out, body)
		}
		if strings.Contains(out, "the private function ran") {
			t.Fatalf("a private function's result %s for %q", out, body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q for %q", ct, body)
		}
		if rec.Code >= 400 {
			var m map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil || len(m) != 3 || m["error_code"] == nil {
				t.Fatalf("error body %s for %q", out, body)
			}
		}
	})
}

// TestJSNewErrors: New refuses an app whose JavaScript does not compile
// (the error positioned in its .js file), and one whose user creation
// function or enabled trigger's function has no source: rulegate could
// not run it.
func TestJSNewErrors(t *testing.T) {
	client := rulegatetest.Client(t)
	accountsDB := rulegatetest.Database(t).Name()
	for name, tc := range map[string]struct {
		edit func(dir string) error
		want []string
	}{
		"syntax error": {
			func(dir string) error {
				return os.WriteFile(dir+"/functions/boom.js", []byte("exports = function () {\n  return (;\n};\n"), 0o644)
			},
			[]string{"functions/boom.js:2:", "jsfunc/syntax"},
		},
		"user creation function without source": {
			func(dir string) error { return os.Remove(dir + "/functions/onUserCreation.js") },
			[]string{"on_user_creation_function_name", `"onUserCreation" has no source`},
		},
		"trigger function without source": {
			func(dir string) error { return os.Remove(dir + "/functions/recordLogin.js") },
			[]string{"authentication trigger onLogin", `"recordLogin" has no source`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS("testdata/jsapp")); err != nil {
				t.Fatal(err)
			}
			if err := tc.edit(dir); err != nil {
				t.Fatal(err)
			}
			app, err := rules.LoadApp(os.DirFS(dir))
			if err != nil {
				t.Fatal(err)
			}
			_, err = server.New(context.Background(), app, client, testKeys, server.WithDatabase(accountsDB), server.WithLogger(slog.New(slog.DiscardHandler)))
			if err == nil {
				t.Fatal("New succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("New: %v, want %q in it", err, w)
				}
			}
		})
	}
}

// TestJSDataAPICanEvaluate: the Data API's can_evaluate is decided for
// each request, here by a JavaScript function that reads as system.
func TestJSDataAPICanEvaluate(t *testing.T) {
	e := newJSEnv(t)
	e.signup("root@example.com")
	e.signup("bob@example.com")
	if _, err := e.client.Database("srvjs").Collection("admins").InsertOne(context.Background(), bson.D{{Key: "email", Value: "root@example.com"}}); err != nil {
		t.Fatal(err)
	}
	find := func(email string) resp {
		return e.do("POST", "/app/"+appID+"/endpoint/data/v1/action/find", "", `{"dataSource":"mongodb-atlas","database":"srvjs","collection":"notes","filter":{}}`,
			"email", email, "password", "pa55w0rd!")
	}
	if r := find("root@example.com"); r.status != http.StatusOK || string(r.body) != `{"documents":[]}` {
		t.Errorf("the admin's Data API find: %d %s", r.status, r.body)
	}
	wantStatus(t, "bob's Data API find", find("bob@example.com"), http.StatusForbidden, "PermissionDenied")
}

// TestJSTriggersConcurrent: triggers of concurrent logins all run, and
// Wait, called while they start, waits for every one (run under -race).
func TestJSTriggersConcurrent(t *testing.T) {
	e := newJSEnv(t)
	const n = 8
	done := make(chan string, n)
	for range n {
		go func() {
			r := e.do("POST", base+"/auth/providers/anon-user/login", "", `{}`)
			var m map[string]any
			_ = json.Unmarshal(r.body, &m)
			id, _ := m["user_id"].(string)
			done <- id
			_ = e.srv.Wait(context.Background())
		}()
	}
	ids := map[string]bool{}
	for range n {
		ids[<-done] = true
	}
	e.wait()
	got := map[string]bool{}
	for _, d := range e.srvjs("events") {
		if d["operationType"] == "LOGIN" {
			got[d["userId"].(string)] = true
		}
	}
	if len(ids) != n || !reflect.DeepEqual(got, ids) {
		t.Fatalf("LOGIN events for %v, want one for each of %v", got, ids)
	}
}
