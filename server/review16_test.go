package server_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
)

// jsAppWith is testdata/jsapp with files added or replaced, and functions
// (name → source) added to functions/ and its config.json (each with
// cfg, a JSON object's members, or none).
func jsAppWith(t *testing.T, files map[string]string, fns map[string][2]string) *rules.App {
	t.Helper()
	dir := t.TempDir()
	err := filepath.WalkDir("testdata/jsapp", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/jsapp", p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := os.ReadFile("testdata/jsapp/functions/config.json")
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	if files == nil {
		files = map[string]string{}
	}
	for name, f := range fns {
		files["functions/"+name+".js"] = f[0]
		e := `{"name": "` + name + `"`
		if f[1] != "" {
			e += ", " + f[1]
		}
		entries = append(entries, e+"}")
	}
	c := strings.TrimSpace(string(cfg))
	c = strings.TrimSuffix(c, "]")
	if len(entries) > 0 {
		c += ",\n" + strings.Join(entries, ",\n")
	}
	files["functions/config.json"] = c + "\n]"
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app, err := rules.LoadApp(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func newJSEnvWith(t *testing.T, app *rules.App, opts ...server.Option) *env {
	t.Helper()
	client := rulegatetest.Client(t)
	if err := client.Database("srvjs").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	e := newEnvAppOn(t, app, client, rulegatetest.Database(t).Name(), opts...)
	t.Cleanup(func() { e.wait() })
	return e
}

const openRules = `{"database": "srvjs", "collection": "open", "roles": [{"name": "all", "apply_when": {},
	"read": true, "write": true, "insert": true, "delete": true, "search": false}], "filters": []}`

// goInternals matches what of rulegate's Go code an error message might
// carry: a package path, a Go source position, a method value's name, a
// native frame.
var goInternals = regexp.MustCompile(`github\.com/|\.go:\d|\(\*[a-z]+\)|\(native\)|goroutine|func\d+`)

// A client whose function fails inside one of rulegate's own methods (a
// gate refusal, a driver error, BSON, execute) gets the method's error,
// never the Go name of the method: a native frame's name holds
// parentheses ("jsfunc.(*call).collection.func45 (native)"), which the
// message's frame filter did not expect.
func TestReviewJSErrorsCarryNoGoFrames(t *testing.T) {
	coll := `context.services.get("mongodb-atlas").db("srvjs").collection("open")`
	fns := map[string][2]string{
		"badUpdate":    {`exports = function() { return ` + coll + `.updateOne({}, {$foo: 1}) }`, ""},
		"badUpdateSys": {`exports = function() { return ` + coll + `.updateOne({}, {$foo: 1}) }`, `"run_as_system": true`},
		"badStage":     {`exports = function() { return ` + coll + `.aggregate([{$nope: 1}]).toArray() }`, ""},
		"dollarKey":    {`exports = function() { return ` + coll + `.insertOne({$where: "x"}) }`, ""},
		"badObjectId":  {`exports = function() { return new BSON.ObjectId("zz") }`, ""},
		"badExecute":   {`exports = function() { return context.functions.execute("badObjectId") }`, ""},
	}
	app := jsAppWith(t, map[string]string{"data_sources/mongodb-atlas/srvjs/open/rules.json": openRules}, fns)
	e := newJSEnvWith(t, app)
	bob := e.signup("bob@example.com")
	for name := range fns {
		r := e.js(bob, name, `[]`)
		msg, _ := r.json(t)["error"].(string)
		if r.status != http.StatusBadRequest || goInternals.MatchString(msg) || !strings.Contains(msg, "srvjs.open") && !strings.Contains(msg, "BSON.ObjectId") {
			t.Errorf("%s: %d %q, want the method's error without Go internals", name, r.status, msg)
		}
	}
}

// A rule whose %function throws makes its expression false
// (source/functions.txt): the role does not apply, so reads find nothing
// and writes are denied (no-role), never a 500 that says the server is
// broken (and logs an error for every such request), and never with the
// function's message, which may hold what it read as system. Found by a
// role's apply_when calling a function that throws, when such a rule
// denied with evaluator.ReasonError: the gate's ReasonError denial is no
// *gate.DeniedError for errors.As (dataError maps it since).
func TestReviewRuleFunctionErrorIsADenial(t *testing.T) {
	guarded := `{"database": "srvjs", "collection": "guarded", "roles": [{"name": "fn",
		"apply_when": {"%%true": {"%function": {"name": "throws", "arguments": ["%%user.id"]}}},
		"read": true, "write": true, "insert": true, "delete": true, "search": false}], "filters": []}`
	fns := map[string][2]string{
		"throws": {`exports = async function(id) {
			const p = await context.services.get("mongodb-atlas").db("srvjs").collection("profiles").findOne({});
			throw new Error("SYSTEM-READ " + JSON.stringify(p)) }`, `"private": true, "run_as_system": true`},
	}
	app := jsAppWith(t, map[string]string{"data_sources/mongodb-atlas/srvjs/guarded/rules.json": guarded}, fns)
	e := newJSEnvWith(t, app)
	bob := e.signup("bob@example.com")
	e.wait()
	e.logs.Reset()
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	ns := `"database":"srvjs","collection":"guarded"`
	for what, tc := range map[string]struct {
		r      resp
		status int
		body   string
	}{
		"service findOne":   {e.do("POST", base+"/functions/call", bob.access, `{"name":"findOne","service":"mongodb-atlas","arguments":[{`+ns+`,"query":{}}]}`), http.StatusOK, "null"},
		"service insertOne": {e.do("POST", base+"/functions/call", bob.access, `{"name":"insertOne","service":"mongodb-atlas","arguments":[{`+ns+`,"document":{"a":1}}]}`), http.StatusForbidden, "no-role"},
		"Data API find":     {e.do("POST", dapi+"find", bob.access, `{"dataSource":"mongodb-atlas",`+ns+`,"filter":{}}`), http.StatusForbidden, "PermissionDenied"}, // (the test app's Data API can_evaluate)
	} {
		if tc.r.status != tc.status || !strings.Contains(string(tc.r.body), tc.body) || strings.Contains(string(tc.r.body), "SYSTEM-READ") {
			t.Errorf("%s: %d %s, want %d %s without the function's message", what, tc.r.status, tc.r.body, tc.status, tc.body)
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("a denial logged as an error:\n%s", logs)
	}
}

// What a rule's %function read as system and put in its error is not
// told to another function, nor to the client that called it: the
// function the client calls reads a collection whose rule calls a private
// system function that throws with what it read. Found as the sibling of
// TestReviewRuleFunctionErrorIsADenial: the gate's ReasonError denial
// carries its cause in its message, and jsfunc throws that message.
func TestReviewRuleFunctionErrorNotToFunctions(t *testing.T) {
	guarded := `{"database": "srvjs", "collection": "guarded", "roles": [{"name": "fn",
		"apply_when": {"%%true": {"%function": {"name": "throws", "arguments": ["%%user.id"]}}},
		"read": true, "write": true, "insert": true, "delete": true, "search": false}], "filters": []}`
	coll := `context.services.get("mongodb-atlas").db("srvjs").collection("guarded")`
	fns := map[string][2]string{
		"throws": {`exports = async function(id) {
			const p = await context.services.get("mongodb-atlas").db("srvjs").collection("profiles").findOne({});
			throw new Error("SYSTEM-READ " + JSON.stringify(p)) }`, `"private": true, "run_as_system": true`},
		"readsGuarded":   {`exports = function() { return ` + coll + `.findOne({}) }`, ""},
		"catchesGuarded": {`exports = async function() { try { return await ` + coll + `.insertOne({a: 1}) } catch (e) { return e.message } }`, ""},
	}
	app := jsAppWith(t, map[string]string{"data_sources/mongodb-atlas/srvjs/guarded/rules.json": guarded}, fns)
	e := newJSEnvWith(t, app)
	bob := e.signup("bob@example.com")
	for _, name := range []string{"readsGuarded", "catchesGuarded"} {
		if r := e.js(bob, name, `[]`); strings.Contains(string(r.body), "SYSTEM-READ") || name == "catchesGuarded" && !strings.Contains(string(r.body), "denied: no-role") {
			t.Errorf("%s: %d %s, want the denial without the rule function's message", name, r.status, r.body)
		}
	}
}

// context.request (and %%request) carries no credential of the caller's,
// however the client spells it: a function that records its request (a
// common audit pattern) would put it where others read it. Found by
// percent-encoding the baas_at query parameter's name (baas%5Fat, which
// url.ParseQuery decodes to the watch's access token parameter), and by a
// Proxy-Authorization header.
func TestReviewRequestCarriesNoCredentials(t *testing.T) {
	app := jsAppWith(t, map[string]string{}, map[string][2]string{"request": {`exports = function() { return context.request }`, ""}})
	e := newJSEnvWith(t, app)
	bob := e.signup("bob@example.com")
	body := `{"name":"request","arguments":[]}`
	for what, r := range map[string]resp{
		"baas_at":             e.do("POST", base+"/functions/call?x=1&baas_at="+bob.access, bob.access, body),
		"baas%5Fat":           e.do("POST", base+"/functions/call?x=1&baas%5Fat="+bob.access, bob.access, body),
		"baas%5fat":           e.do("POST", base+"/functions/call?baas%5fat="+bob.access+"&x=1", bob.access, body),
		"Proxy-Authorization": e.do("POST", base+"/functions/call", bob.access, body, "Proxy-Authorization", "Basic cHJveHk6c2VjcmV0"),
	} {
		if r.status != http.StatusOK || strings.Contains(string(r.body), bob.access) || strings.Contains(string(r.body), "cHJveHk6c2VjcmV0") {
			t.Errorf("%s: %d %s, want the request without the credential", what, r.status, r.body)
		}
	}
}

// A burst of logins does not run a trigger per login at once: anonymous
// logins cost a client nothing, and each running trigger holds a fresh
// runtime (and a watchdog sampling the heap every millisecond) for up to
// 300 seconds. They queue, and all of them run. Found by a burst of
// anonymous logins against a slow LOGIN trigger: every one ran at once.
func TestReviewTriggersQueueInABurst(t *testing.T) {
	slow := `exports = async function(ev) {
		const start = new Date(); while (Date.now() - start < 100) {}
		await context.services.get("mongodb-atlas").db("srvjs").collection("slow").insertOne({start, end: new Date()}) }`
	app := jsAppWith(t, map[string]string{"triggers/loginEvents.json": `{"type": "AUTHENTICATION", "name": "loginEvents", "function_name": "slowEvent",
		"config": {"providers": ["anon-user"], "operation_type": "LOGIN"}, "disabled": false}`}, map[string][2]string{"slowEvent": {slow, `"private": true`}})
	e := newJSEnvWith(t, app)
	bound := 2 * runtime.GOMAXPROCS(0)
	n := 2*bound + 2
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.do("POST", base+"/auth/providers/anon-user/login", "", `{}`)
		}()
	}
	wg.Wait()
	e.wait()
	runs := e.srvjs("slow")
	if len(runs) != n {
		t.Fatalf("%d trigger runs, want %d", len(runs), n)
	}
	most := 0
	for _, a := range runs {
		at := a["start"].(bson.DateTime)
		running := 0
		for _, b := range runs {
			if b["start"].(bson.DateTime) <= at && at < b["end"].(bson.DateTime) {
				running++
			}
		}
		most = max(most, running)
	}
	if most > bound {
		t.Errorf("%d triggers ran at once, want at most %d", most, bound)
	}
}

// A value linked to a secret ("from_secret": true) is the secret's value
// in functions (context.values.get) and rules (%%values) when the server
// is given the secret (WithSecrets), as App Services exposes it ("Expose
// the Secret with a Secret Value. You can access the Secret Value in
// function's with context.values or in a rule expression with %%values",
// values-and-secrets/define-and-manage-secrets); without it, it stays
// unavailable (fail closed). Found porting a function that reads an API
// key from a secret value: served with the secret, it still failed.
func TestReviewSecretValueServed(t *testing.T) {
	app := jsAppWith(t, map[string]string{"values/apiKey.json": `{"name": "apiKey", "value": "apiKeySecret", "from_secret": true}`},
		map[string][2]string{"apiKey": {`exports = function() { return context.values.get("apiKey") }`, `"can_evaluate": {"%%values.apiKey": "s3cr3t-value"}`}})
	e := newJSEnvWith(t, app, server.WithSecrets(map[string]string{"jwtsecret": jwtSecret, "apiKeySecret": "s3cr3t-value"}))
	bob := e.signup("bob@example.com")
	if r := e.js(bob, "apiKey", `[]`); r.status != http.StatusOK || string(r.body) != `"s3cr3t-value"` {
		t.Errorf("with the secret: %d %s, want the secret's value", r.status, r.body)
	}
	e = newJSEnvWith(t, app)
	bob = e.signup("bob@example.com")
	if r := e.js(bob, "apiKey", `[]`); r.status == http.StatusOK {
		t.Errorf("without the secret: %d %s, want a refusal", r.status, r.body)
	}
}

// Calls of many users at once each see their own caller, request and
// data, also when a slow call of another user runs (run under -race): a
// call's runtime, inputs and collections are its own.
func TestReviewConcurrentCallersSeeThemselves(t *testing.T) {
	fns := map[string][2]string{
		"me":   {`exports = async function(tag) { Object.prototype.polluted = context.user.id; const t = await context.services.get("mongodb-atlas").db("srvjs").collection("teams").find({}).toArray(); return [context.user.id, context.user.data.email, context.request.requestHeaders["X-Tag"][0], tag, t.map(x => x._id).join(","), ({}).polluted] }`, ""},
		"slow": {`exports = function() { const t = Date.now(); while (Date.now() - t < 500) {} return 1 }`, ""},
	}
	e := newJSEnvWith(t, jsAppWith(t, map[string]string{}, fns))
	users := []user{e.signup("u0@example.com"), e.signup("u1@example.com"), e.signup("u2@example.com")}
	for i, u := range users {
		if _, err := e.client.Database("srvjs").Collection("teams").InsertOne(context.Background(), bson.D{{Key: "_id", Value: "team" + string(rune('0'+i))}, {Key: "members", Value: bson.A{u.id}}}); err != nil {
			t.Fatal(err)
		}
	}
	slow := make(chan resp, 1)
	go func() { slow <- e.js(users[0], "slow", `[]`) }()
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := i % len(users)
			u, tag := users[k], "tag"+string(rune('a'+i))
			r := e.do("POST", base+"/functions/call", u.access, `{"name":"me","arguments":["`+tag+`"]}`, "X-Tag", tag)
			want := `["` + u.id + `","u` + string(rune('0'+k)) + `@example.com","` + tag + `","` + tag + `","team` + string(rune('0'+k)) + `","` + u.id + `"]`
			if r.status != http.StatusOK || string(r.body) != want {
				t.Errorf("call %d: %d %s, want %s", i, r.status, r.body, want)
			}
		}()
	}
	wg.Wait()
	if r := <-slow; r.status != http.StatusOK {
		t.Errorf("slow: %d %s", r.status, r.body)
	}
}

// A second login of a new user while its first login's user creation
// function runs does not get in: the function may refuse the user, and
// until it has succeeded the user has no custom data document. Found by
// two concurrent first logins of a user the function refuses (slowly):
// the second, seeing the first login taken, logged in without the
// function. The logins of one user now wait for each other; a first login
// that failed leaves the next one first again.
func TestReviewConcurrentFirstLogins(t *testing.T) {
	creation := `exports = async function (user) {
		const t = Date.now(); while (Date.now() - t < 300) {}
		if ((user.data.email || "").startsWith("refused")) { throw new Error("refused: " + user.data.email) }
		await context.services.get("mongodb-atlas").db("srvjs").collection("profiles").insertOne({ userId: user.id, email: user.data.email, plan: "free" }) }`
	e := newJSEnvWith(t, jsAppWith(t, map[string]string{"functions/onUserCreation.js": creation}, nil))
	for _, c := range []struct {
		email  string
		status int
	}{{"refused-race@example.com", http.StatusBadRequest}, {"race@example.com", http.StatusOK}} {
		e.register(c.email, "pa55w0rd!")
		var wg sync.WaitGroup
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"`+c.email+`","password":"pa55w0rd!"}`)
				if r.status != c.status {
					t.Errorf("%s: a concurrent first login: %d %s, want %d", c.email, r.status, r.body, c.status)
				}
			}()
		}
		wg.Wait()
	}
	if n := len(e.srvjs("profiles")); n != 1 {
		t.Errorf("%d profiles, want race@example.com's one", n)
	}
}

// A system function's pipeline does not reach the namespaces the server
// never serves through a stage that names another collection ($out and
// $merge into the accounts database would write sessions or password
// hashes; $lookup, $graphLookup and $unionWith read a system
// collection), at any depth of sub-pipelines. The embedded server
// implements none of these stages, so the refusal must come first; on
// MongoDB they run. Found as the sibling of
// TestReviewInternalNamespacesAreNotServed: servedNamespace checked only
// the collection a function names.
func TestReviewPipelinesReachNoUnservedNamespace(t *testing.T) {
	fns := map[string][2]string{
		"pipe": {`exports = function(p) { return context.services.get("mongodb-atlas").db("srvjs").collection("open").aggregate(p).toArray() }`, `"run_as_system": true`},
	}
	acc := rulegatetest.Database(t).Name()
	e := newJSEnvWith(t, jsAppWith(t, map[string]string{"data_sources/mongodb-atlas/srvjs/open/rules.json": openRules}, fns), server.WithDatabase(acc))
	bob := e.signup("bob@example.com")
	for _, p := range []string{
		`{"$out": {"db": "` + acc + `", "coll": "sessions"}}`,
		`{"$out": {"db": "` + strings.ToUpper(acc) + `", "coll": "sessions"}}`,
		`{"$out": "system.js"}`,
		`{"$merge": {"into": {"db": "` + acc + `", "coll": "users"}}}`,
		`{"$merge": {"into": "system.views"}}`,
		`{"$merge": "system.views"}`,
		`{"$lookup": {"from": "system.views", "localField": "a", "foreignField": "b", "as": "u"}}`,
		`{"$lookup": {"from": {"db": "` + acc + `", "coll": "users"}, "pipeline": [], "as": "u"}}`,
		`{"$graphLookup": {"from": "system.profile", "startWith": "$a", "connectFromField": "a", "connectToField": "b", "as": "u"}}`,
		`{"$unionWith": "system.views"}`,
		`{"$unionWith": {"coll": "users", "db": "` + acc + `"}}`,
		`{"$facet": {"a": [{"$unionWith": {"coll": "open", "pipeline": [{"$lookup": {"from": "system.js", "pipeline": [], "as": "x"}}]}}]}}`,
		`{"$lookup": {"from": "open", "pipeline": [{"$unionWith": {"coll": "users", "db": "` + acc + `"}}], "as": "x"}}`,
	} {
		r := e.js(bob, "pipe", `[[`+p+`]]`)
		if msg, _ := r.json(t)["error"].(string); r.status == http.StatusOK || !strings.Contains(msg, "not served") {
			t.Errorf("%s: %d %s, want the refusal of a namespace not served", p, r.status, r.body)
		}
	}
	if r := e.js(bob, "pipe", `[[{"$match": {}}, {"$count": "n"}]]`); r.status != http.StatusOK {
		t.Errorf("a pipeline within the collection: %d %s", r.status, r.body)
	}
}

// A client's call of a function configured to run as a chosen user
// (run_as_user_id, run_as_user_id_script_source: makesitgo's
// utils/hello_world is public and has one) fails, as rules/function-config
// warns, rather than run as the caller under the caller's rules. (The
// same for rule calls and context.functions.execute is jsfunc's:
// TestReviewRunAsUserIDFails.)
func TestReviewRunAsUserIDRefused(t *testing.T) {
	fns := map[string][2]string{
		"asChosen":       {`exports = function() { return context.user.id }`, `"private": false, "run_as_user_id": "624475eca51828cf7fd6bc64"`},
		"asChosenScript": {`exports = function() { return context.user.id }`, `"private": false, "run_as_user_id_script_source": "exports = function() { return \"624475eca51828cf7fd6bc64\" }"`},
	}
	e := newJSEnvWith(t, jsAppWith(t, nil, fns))
	bob := e.signup("bob@example.com")
	for name := range fns {
		r := e.js(bob, name, `[]`)
		if r.status == http.StatusOK || !strings.Contains(string(r.body), "run_as_user_id") {
			t.Errorf("%s: %d %s, want a refusal naming run_as_user_id", name, r.status, r.body)
		}
	}
}

// A %function that throws makes its expression false, as
// source/functions.txt says ("If the function throws an error, the
// expression evaluates to false"): the role whose apply_when calls it does
// not apply, and the next role decides. rulegate denies the document
// instead (evaluator.ReasonError: a find leaves it out, a write is
// refused), which is both a porting difference and an oracle: whether the
// document comes back tells the caller whether the function threw on it,
// for the value of a field the caller cannot read that the rule passes it
// (here, whether the secret is a string). (Failing: the evaluator's
// choice, ReasonError for a function's error; routed.)
func TestReviewThrowingRuleFunctionIsFalse(t *testing.T) {
	notes := `{"database": "srvjs", "collection": "guarded", "roles": [
		{"name": "checked", "apply_when": {"%%true": {"%function": {"name": "check", "arguments": ["%%root.secret"]}}},
		 "read": true, "write": false, "insert": false, "delete": false, "search": false},
		{"name": "reader", "apply_when": {}, "fields": {"secret": {"read": false, "write": false}},
		 "additional_fields": {"read": true, "write": false}, "insert": false, "delete": false, "search": false}], "filters": []}`
	fns := map[string][2]string{"check": {`exports = function(s) { return s.toUpperCase() === "OPEN" }`, `"private": true`}}
	e := newJSEnvWith(t, jsAppWith(t, map[string]string{"data_sources/mongodb-atlas/srvjs/guarded/rules.json": notes}, fns))
	bob := e.signup("bob@example.com")
	if _, err := e.client.Database("srvjs").Collection("guarded").InsertMany(context.Background(), []any{
		bson.D{{Key: "_id", Value: "a"}, {Key: "secret", Value: "open"}, {Key: "n", Value: 1}},
		bson.D{{Key: "_id", Value: "b"}, {Key: "secret", Value: 42}, {Key: "n", Value: 2}},
	}); err != nil {
		t.Fatal(err)
	}
	find := func(id string) resp {
		return e.do("POST", base+"/functions/call", bob.access, `{"name":"find","service":"mongodb-atlas","arguments":[{"database":"srvjs","collection":"guarded","query":{"_id":"`+id+`"}}]}`)
	}
	if r := find("a"); r.status != http.StatusOK || !strings.Contains(string(r.body), `"open"`) {
		t.Errorf("a (checked): %d %s, want it whole", r.status, r.body)
	}
	if r := find("b"); r.status != http.StatusOK || strings.Contains(string(r.body), "secret") || !strings.Contains(string(r.body), `"n"`) {
		t.Errorf("b (check throws: the reader role): %d %s, want it without its secret", r.status, r.body)
	}
}
