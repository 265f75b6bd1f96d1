package jsfunc_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// loadAppFS loads an export from files, and gives each JavaScript
// function the source of its file (the loader of issue 16 reads them).
func loadAppFS(t testing.TB, files map[string]string) *rules.App {
	t.Helper()
	fsys := fstest.MapFS{}
	for name, data := range files {
		fsys[name] = &fstest.MapFile{Data: []byte(data)}
	}
	app, err := rules.LoadApp(fsys)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range app.JSFunctions {
		if src, ok := files[f.File]; ok && strings.HasSuffix(f.File, ".js") {
			f.Source, f.SourceFile = src, f.File
		}
	}
	return app
}

func user(t testing.TB, js string) expansion.User {
	t.Helper()
	u, err := expansion.NewUserObject([]byte(js))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestGlobals: what a function sees of context, BSON, EJSON.
func TestGlobals(t *testing.T) {
	app := testApp(map[string]string{"f": ""})
	app.Values = []*rules.Value{{Name: "plain", JSON: []byte(`{"a": 1}`)}, {Name: "key", Secret: "apiKey"}}
	app.Environments = []*rules.Environment{{Tag: "production", Values: []byte(`{"baseUrl": "https://x"}`)}}
	app.Environment = "production"
	u := user(t, `{"id": "u1", "type": "normal", "data": {"email": "a@x"}, "custom_data": {"team": "red"}, "identities": [{"id": "i1", "provider_type": "local-userpass"}]}`)
	cases := []struct {
		name, src string
		call      jsfunc.Call
		want      string
	}{
		{"user", `exports = function() { return context.user }`, jsfunc.Call{User: u},
			`{"id":"u1","type":"normal","data":{"email":"a@x"},"custom_data":{"team":"red"},"identities":[{"id":"i1","provider_type":"local-userpass"}]}`},
		{"no user", `exports = function() { return [context.user.type === undefined, context.user.id === undefined, context.runningAsSystem()] }`, jsfunc.Call{}, `[true,true,false]`},
		{"values", `exports = function() { return [context.values.get("plain"), context.values.get("nope") === undefined] }`, jsfunc.Call{}, `[{"a":{"$numberLong":"1"}},true]`},
		{"a secret the call provides", `exports = function() { return context.values.get("key") }`,
			jsfunc.Call{Inputs: &expansion.Inputs{Values: []byte(`{"key": "s3cret"}`)}}, `"s3cret"`},
		{"environment", `exports = function() { return [context.environment.tag, context.environment.values.baseUrl] }`, jsfunc.Call{}, `["production","https://x"]`},
		{"no request", `exports = function() { return context.request === undefined }`, jsfunc.Call{}, `true`},
		{"request", `exports = function() { return context.request.remoteIPAddress }`,
			jsfunc.Call{Inputs: &expansion.Inputs{Request: []byte(`{"remoteIPAddress": "1.2.3.4"}`)}}, `"1.2.3.4"`},
		{"runningAsSystem", `exports = function() { return context.runningAsSystem() }`, jsfunc.Call{User: u}, `false`},
		{"arguments", `exports = function(a, b, c) { return [typeof a, typeof b, b.x instanceof Date, c === undefined] }`,
			jsfunc.Call{Args: []value.Value{value.String("s"), mustExtJSON(t, `{"x": {"$date": "2020-01-01T00:00:00Z"}}`)}}, `["string","object",true,true]`},
		{"Array as ever", `exports = function() { class A extends Array {}; const a = new A(); a.push(1);
			return [Array.isArray([]), [] instanceof Array, Array(3).length, new Array(1, 2).length, Array.of(1).length, Array.from("ab"),
				a instanceof A, a.map(x => x) instanceof A, [1, 2, 3].filter(x => x > 1).length, [].constructor === Array,
				Math.max(...[1, 5, 2]), [...[1, 2], 3].length, [].values === [][Symbol.iterator], new Set([1, 1, 2]).size, Array.from(new Map([[1, 2]]).keys())] }`, jsfunc.Call{},
			`[true,true,{"$numberLong":"3"},{"$numberLong":"2"},{"$numberLong":"1"},["a","b"],true,true,{"$numberLong":"2"},true,` +
				`{"$numberLong":"5"},{"$numberLong":"3"},true,{"$numberLong":"2"},[{"$numberLong":"1"}]]`},
		{"utils.crypto", `exports = function() { return [utils.crypto.hash("sha256", "hello!").toBase64(), utils.crypto.hmac("hello!", "super-secret", "sha256", "base64"),
			utils.crypto.hash("md5", BSON.Binary.fromHex("")).toHex()] }`, jsfunc.Call{},
			`["zgYJL7lI2f+sfRo3bkBLJrdXW8wR7gWkYV/vT+w6MIs=","SUXd6PRMaTXXgBGaGsIHzaDWgTSa6C3D44lRGrvRak0=","d41d8cd98f00b204e9800998ecf8427e"]`},
		{"module.exports", `module.exports = function() { return 1 }`, jsfunc.Call{}, `{"$numberLong":"1"}`},
		{"async and await", `exports = async function() { const a = await Promise.resolve(2); return a * 3 }`, jsfunc.Call{}, `{"$numberLong":"6"}`},
		{"numbers", `exports = function() { return [1, 1.5, -0, 2**53, 2**53 + 2, NaN] }`, jsfunc.Call{},
			`[{"$numberLong":"1"},{"$numberDouble":"1.5"},{"$numberDouble":"-0.0"},{"$numberLong":"9007199254740992"},{"$numberDouble":"9.007199254740994E+15"},{"$numberDouble":"NaN"}]`},
		{"BSON types", `exports = function() { return [new BSON.ObjectId("5e58667d902d38559c802b13"), BSON.Decimal128.fromString("1.10"), BSON.Long(1, 1), BSON.Int32(7), BSON.Double(2),
			BSON.Binary.fromHex("00ff", 4), BSON.BSONRegExp("a.c", "mi"), BSON.MinKey, BSON.MaxKey, new BSON.Timestamp({t: 5, i: 6}), /x/gi, new Date(86400000)] }`, jsfunc.Call{},
			`[{"$oid":"5e58667d902d38559c802b13"},{"$numberDecimal":"1.10"},{"$numberLong":"4294967297"},{"$numberInt":"7"},{"$numberDouble":"2.0"},` +
				`{"$binary":{"base64":"AP8=","subType":"04"}},{"$regularExpression":{"pattern":"a.c","options":"im"}},{"$minKey":1},{"$maxKey":1},` +
				`{"$timestamp":{"t":5,"i":6}},{"$regularExpression":{"pattern":"x","options":"i"}},{"$date":{"$numberLong":"86400000"}}]`},
		{"BSON methods", `exports = function() { const id = new BSON.ObjectId("5e58667d902d38559c802b13");
			return [id.toHexString(), String(id), id.equals(new BSON.ObjectId(id.toHexString())), id.getTimestamp().getTime(), id instanceof BSON.ObjectId,
				BSON.Binary.fromBase64("aGk=").text(), BSON.Binary.fromHex("6869").toBase64(), BSON.Long.fromString("12").toNumber() + 1, BSON.Int32(3) + 1,
				JSON.stringify({id}), typeof new BSON.ObjectId().toHexString()] }`, jsfunc.Call{},
			`["5e58667d902d38559c802b13","5e58667d902d38559c802b13",true,{"$numberLong":"1582851709000"},true,"hi","aGk=",{"$numberLong":"13"},{"$numberLong":"4"},"{\"id\":\"5e58667d902d38559c802b13\"}","string"]`},
		{"EJSON", `exports = function() { const s = EJSON.stringify({answer: 42, at: new Date(1583167607977)});
			const back = EJSON.parse('{"n": {"$numberLong": "9007199254740993"}, "d": {"$numberDecimal": "1.5"}}');
			return [s, EJSON.stringify(back.n), EJSON.serialize({x: 1}), EJSON.deserialize({"$oid": "5e58667d902d38559c802b13"}).toHexString(), EJSON.stringify({a: 1.5}, {relaxed: true})] }`, jsfunc.Call{},
			`["{\"answer\":{\"$numberLong\":\"42\"},\"at\":{\"$date\":{\"$numberLong\":\"1583167607977\"}}}","{\"$numberLong\":\"9007199254740993\"}",{"x":{"$numberLong":"1"}},"5e58667d902d38559c802b13","{\"a\":1.5}"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			app.JSFunctions[0].Source = c.src
			fs := load(t, app)
			c.call.Name = "f"
			v, err := fs.Run(context.Background(), c.call)
			if err != nil {
				t.Fatal(err)
			}
			if got := canonical(t, v); got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
		})
	}
}

func mustExtJSON(t testing.TB, s string) value.Value {
	t.Helper()
	v, err := value.FromExtJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// canonical renders v as canonical Extended JSON, which keeps every type.
func canonical(t testing.TB, v value.Value) string {
	t.Helper()
	s, err := jsfunc.ExtJSONForTest(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSecretNotProvided: reading a secret's value the call does not
// carry fails closed.
func TestSecretNotProvided(t *testing.T) {
	app := testApp(map[string]string{"f": `exports = function() { return context.values.get("key") }`})
	app.Values = []*rules.Value{{Name: "key", Secret: "apiKey"}}
	_, err := load(t, app).Run(context.Background(), jsfunc.Call{Name: "f"})
	if !errors.Is(err, jsfunc.ErrUnavailable) || !strings.Contains(err.Error(), `exposes the secret "apiKey"`) {
		t.Errorf("got %v", err)
	}
}

// TestRunsAs: a function runs as the caller unless run_as_system; a
// function it executes inherits the system user; context.user stays the
// caller's.
func TestRunsAs(t *testing.T) {
	find := `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").findOne({}).then(d => [context.user.id, context.runningAsSystem(), d.n]) }`
	app := testApp(map[string]string{
		"asUser":   find,
		"asSystem": find,
		"viaSys":   `exports = function() { return context.functions.execute("asUser") }`,
	}, func(f *rules.JSFunction) { f.RunAsSystem = f.Name != "asUser" })
	u := user(t, `{"id": "u1"}`)
	for name, want := range map[string]string{"asUser": `["u1",false,1]`, "asSystem": `["u1",true,1]`, "viaSys": `["u1",true,1]`} {
		d := newSliceData(map[string][]any{"d.c": {map[string]any{"n": 1}}})
		fs := load(t, app)
		if err := fs.Bind(d); err != nil {
			t.Fatal(err)
		}
		v, err := fs.Run(context.Background(), jsfunc.Call{Name: name, User: u})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.ExtJSON() != want {
			t.Errorf("%s: got %s, want %s", name, v.ExtJSON(), want)
		}
		last := d.as[len(d.as)-1]
		if wantSys := name != "asUser"; last.System != wantSys {
			t.Errorf("%s: Data asked with System %v, want %v", name, last.System, wantSys)
		}
		if id, _ := last.User.Lookup("id"); id.ExtJSON() != `"u1"` {
			t.Errorf("%s: Data asked for user %v", name, id)
		}
	}
}

// TestCollectionMethods: the documented result shapes.
func TestCollectionMethods(t *testing.T) {
	src := `exports = async function() {
		const c = context.services.get("mongodb-atlas").db("d").collection("c");
		const out = {};
		out.insertOne = await c.insertOne({_id: 3, n: 3, tag: "b"});
		out.insertMany = await c.insertMany([{_id: 4, n: 4, tag: "b"}, {_id: 5, n: 5, tag: "c"}]);
		out.findOne = await c.findOne({n: {$gt: 1}}, {n: 1});
		out.findNone = await c.findOne({n: 99});
		out.find = await c.find({n: {$gte: 2}}).skip(1).limit(2).toArray();
		const cur = c.find({n: 1});
		out.next = [await cur.next(), (await cur.next()) === undefined];
		out.count = await c.count({tag: "b"});
		out.countDocuments = await c.countDocuments({});
		out.distinct = await c.distinct("tag", {});
		out.aggregate = await c.aggregate([{$match: {tag: "c"}}]).toArray();
		out.updateOne = await c.updateOne({_id: 3}, {$set: {n: 30}});
		out.updateMany = await c.updateMany({tag: "b"}, {$set: {seen: true}});
		out.findOneAndUpdate = await c.findOneAndUpdate({_id: 5}, {$set: {n: 50}}, {returnNewDocument: true});
		out.deleteOne = await c.deleteOne({_id: 1});
		out.findOneAndDelete = await c.findOneAndDelete({_id: 2});
		out.deleteMany = await c.deleteMany({tag: "b"});
		try { await c.updateOne({}, {$inc: {n: 1}}) } catch (e) { out.rejected = e.message }
		out.bulkWrite = await c.bulkWrite([{insertOne: {document: {_id: 6, tag: "d"}}}, {updateOne: {filter: {_id: 6}, update: {$set: {n: 6}}}}, {deleteMany: {filter: {tag: "zz"}}}]);
		out.afterBulk = await c.findOne({_id: 6});
		try { await c.bulkWrite([{updateOne: {filter: {_id: 6}, update: {$inc: {n: 1}}}}, {insertOne: {document: {_id: 7}}}]) } catch (e) { out.bulkRejected = e.message }
		out.orderedStopped = await c.findOne({_id: 7});
		return out;
	}`
	fs := load(t, testApp(map[string]string{"f": src}))
	d := newSliceData(map[string][]any{"d.c": {
		bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 1}, {Key: "tag", Value: "a"}},
		bson.D{{Key: "_id", Value: 2}, {Key: "n", Value: 2}, {Key: "tag", Value: "a"}},
	}})
	if err := fs.Bind(d); err != nil {
		t.Fatal(err)
	}
	v, err := fs.Run(context.Background(), jsfunc.Call{Name: "f"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"insertOne":{"insertedId":3},"insertMany":{"insertedIds":[4,5]},"findOne":{"_id":2,"n":2,"tag":"a"},"findNone":null,` +
		`"find":[{"_id":3,"n":3,"tag":"b"},{"_id":4,"n":4,"tag":"b"}],"next":[{"_id":1,"n":1,"tag":"a"},true],"count":2,"countDocuments":5,` +
		`"distinct":["a","b","c"],"aggregate":[{"_id":5,"n":5,"tag":"c"}],"updateOne":{"matchedCount":1,"modifiedCount":1},` +
		`"updateMany":{"matchedCount":2,"modifiedCount":2},"findOneAndUpdate":{"_id":5,"n":50,"tag":"c"},"deleteOne":{"deletedCount":1},` +
		`"findOneAndDelete":{"_id":2,"n":2,"tag":"a"},"deleteMany":{"deletedCount":2},"rejected":"d.c.updateOne: sliceColl: only $set updates",` +
		`"bulkWrite":null,"afterBulk":{"_id":6,"tag":"d","n":6},"bulkRejected":"d.c.bulkWrite: sliceColl: only $set updates","orderedStopped":null}`
	if got := v.ExtJSON(); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestConfig: private refuses clients only; can_evaluate decides every
// call, from %%user and %%request.
func TestConfig(t *testing.T) {
	app := loadAppFS(t, map[string]string{
		"functions/config.json": `[{"name": "priv", "private": true}, {"name": "gated", "can_evaluate": {"%%user.custom_data.admin": true}},
			{"name": "ip", "can_evaluate": {"%%request.remoteIPAddress": {"$nin": ["6.6.6.6"]}}}]`,
		"functions/priv.js":  `exports = function() { return "p" }`,
		"functions/gated.js": `exports = function() { return "g" }`,
		"functions/ip.js":    `exports = function() { return "i" }`,
		"functions/noSrc.js": `exports = function() { return "n" }`,
	})
	setCfg(app, "priv", func(f *rules.JSFunction) { f.Private = true })
	setCfg(app, "gated", func(f *rules.JSFunction) { f.CanEvaluate = expr(t, `{"%%user.custom_data.admin": true}`) })
	setCfg(app, "ip", func(f *rules.JSFunction) {
		f.CanEvaluate = expr(t, `{"%%request.remoteIPAddress": {"$nin": ["6.6.6.6"]}}`)
	})
	admin, member := user(t, `{"id": "a", "custom_data": {"admin": true}}`), user(t, `{"id": "m"}`)
	ctx := context.Background()
	cases := []struct {
		name string
		call jsfunc.Call
		want error
	}{
		{"private from a client", jsfunc.Call{Name: "priv", FromClient: true}, jsfunc.ErrPrivate},
		{"private from Go", jsfunc.Call{Name: "priv"}, nil},
		{"private through execute", jsfunc.Call{Name: "exec", Args: []value.Value{value.String("priv")}, FromClient: true}, nil},
		{"can_evaluate holds", jsfunc.Call{Name: "gated", User: admin, FromClient: true}, nil},
		{"can_evaluate fails", jsfunc.Call{Name: "gated", User: member, FromClient: true}, jsfunc.ErrCannotEvaluate},
		{"can_evaluate fails from Go", jsfunc.Call{Name: "gated", User: member}, jsfunc.ErrCannotEvaluate},
		{"request holds", jsfunc.Call{Name: "ip", Inputs: &expansion.Inputs{Request: []byte(`{"remoteIPAddress": "1.1.1.1"}`)}}, nil},
		{"request fails", jsfunc.Call{Name: "ip", Inputs: &expansion.Inputs{Request: []byte(`{"remoteIPAddress": "6.6.6.6"}`)}}, jsfunc.ErrCannotEvaluate},
		{"no request: not provided", jsfunc.Call{Name: "ip"}, evaluator.ErrNotProvided},
		{"unknown", jsfunc.Call{Name: "nope"}, jsfunc.ErrNotFound},
	}
	app.JSFunctions = append(app.JSFunctions, &rules.JSFunction{Name: "exec", Source: `exports = function(n) { return context.functions.execute(n) }`, SourceFile: "functions/exec.js"})
	fs := load(t, app)
	for _, c := range cases {
		_, err := fs.Run(ctx, c.call)
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
	if cfg, ok := fs.Config("priv"); !ok || !cfg.Private {
		t.Errorf("Config(priv) = %+v, %v", cfg, ok)
	}
	if _, ok := fs.Config("nope"); ok {
		t.Error("Config(nope) found")
	}
}

func expr(t testing.TB, js string) rules.Expr {
	t.Helper()
	e, err := rules.ParseExpr(source.NewFile("functions/config.json", []byte(js)))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func setCfg(app *rules.App, name string, f func(*rules.JSFunction)) {
	for _, js := range app.JSFunctions {
		if js.Name == name {
			f(js)
		}
	}
}

// TestNoSource: a function the export names without source is listed
// and not callable.
func TestNoSource(t *testing.T) {
	app := testApp(nil)
	app.JSFunctions = []*rules.JSFunction{{Name: "gone", File: "functions/config.json"}}
	fs := load(t, app)
	if got := fs.Names(); len(got) != 1 || got[0] != "gone" {
		t.Errorf("Names = %v", got)
	}
	_, err := fs.Run(context.Background(), jsfunc.Call{Name: "gone"})
	if !errors.Is(err, jsfunc.ErrNotFound) || !strings.Contains(err.Error(), "no source") {
		t.Errorf("got %v", err)
	}
}

// TestBind: once, and not nil.
func TestBind(t *testing.T) {
	fs := load(t, testApp(nil))
	if err := fs.Bind(nil); err == nil {
		t.Error("Bind(nil) succeeded")
	}
	if err := fs.Bind(newSliceData(nil)); err != nil {
		t.Fatal(err)
	}
	if err := fs.Bind(newSliceData(nil)); !errors.Is(err, jsfunc.ErrAlreadyBound) {
		t.Errorf("second Bind: %v", err)
	}
}

// TestRuleCall: a %function of a rule runs the JavaScript as the
// request's user; a throw denies, and the error says why.
func TestRuleCall(t *testing.T) {
	app := loadAppFS(t, map[string]string{
		"data_sources/mongodb-atlas/wildaid/Boat/rules.json": `{"roles": [{"name": "admin", "read": true,
			"apply_when": {"%%true": {"%function": {"name": "isGlobalAdmin", "arguments": ["%%user.data.email"]}}}}]}`,
		"functions/isGlobalAdmin.js": `exports = function(email) {
			if (email === "boom@x") throw new Error("no such agency");
			return context.services.get("mongodb-atlas").db("wildaid").collection("User").findOne({email}).then(u => !!(u && u.global && u.global.admin)) }`,
	})
	fs := load(t, app)
	data := newSliceData(map[string][]any{"wildaid.User": {map[string]any{"email": "a@x", "global": map[string]any{"admin": true}}, map[string]any{"email": "b@x"}}})
	if err := fs.Bind(data); err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fs))
	if err != nil {
		t.Fatal(err)
	}
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: []byte{5, 0, 0, 0, 0}}
	for email, want := range map[string]bool{"a@x": true, "b@x": false, "boom@x": false} {
		u := user(t, `{"id": "u", "data": {"email": "`+email+`"}}`)
		var tr evaluator.Trace
		d, err := prog.Evaluate(context.Background(), evaluator.Caller{Namespace: "wildaid.Boat", Inputs: expansion.Inputs{User: u}}, doc, evaluator.WithTrace(&tr))
		if d.Allowed != want {
			t.Errorf("%s: allowed %v, want %v (%v)", email, d.Allowed, want, err)
		}
		if email == "boom@x" {
			if !errors.Is(err, evaluator.ErrFunctionCall) || !errors.Is(err, jsfunc.ErrThrown) || !strings.Contains(err.Error(), "Error: no such agency at exports (functions/isGlobalAdmin.js:2:") {
				t.Errorf("boom: %v", err)
			}
			if !strings.Contains(tr.String(), `%function isGlobalAdmin(%%user.data.email) = error: evaluator: function call failed: "isGlobalAdmin": jsfunc: function threw: Error: no such agency at exports (functions/isGlobalAdmin.js:2:`) ||
				!strings.Contains(tr.String(), "decision: error") {
				t.Errorf("boom: trace %s", tr.String())
			}
		} else if err != nil {
			t.Errorf("%s: %v", email, err)
		}
	}
	if len(data.as) == 0 || data.as[0].System {
		t.Errorf("the function ran as %+v, want the user", data.as)
	}
}

// TestLogger: console goes to the logger; each call is logged with its
// arguments unless disable_arg_logs.
func TestLogger(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	app := testApp(map[string]string{
		"f":      `exports = function(x) { console.log("hello", x, {a: 1}); console.error("bad"); return 1 }`,
		"secret": `exports = function(x) { return 2 }`,
	}, func(f *rules.JSFunction) { f.DisableArgLogs = f.Name == "secret" })
	fs := load(t, app, jsfunc.WithLogger(log))
	for _, n := range []string{"f", "secret"} {
		if _, err := fs.Run(context.Background(), jsfunc.Call{Name: n, Args: []value.Value{value.String("pw")}}); err != nil {
			t.Fatal(err)
		}
	}
	want := `level=INFO msg="hello pw {\"a\":1}" function=f
level=ERROR msg=bad function=f
level=DEBUG msg="function call" function=f args="[\"pw\"]"
level=DEBUG msg="function call" function=secret
`
	if buf.String() != want {
		t.Errorf("got\n%s\nwant\n%s", buf.String(), want)
	}
}

// TestNoUserIsNotSystem: a call without a user reaches the Data as no
// user, not as the system user; a function with run_as_system and no
// user sees the system user.
func TestNoUserIsNotSystem(t *testing.T) {
	src := `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").findOne({}).then(() => [context.user.type || "", context.runningAsSystem()]) }`
	app := testApp(map[string]string{"plain": src, "sys": src}, func(f *rules.JSFunction) { f.RunAsSystem = f.Name == "sys" })
	for name, want := range map[string]string{"plain": `["",false]`, "sys": `["system",true]`} {
		d := newSliceData(nil)
		fs := load(t, app)
		if err := fs.Bind(d); err != nil {
			t.Fatal(err)
		}
		v, err := fs.Run(context.Background(), jsfunc.Call{Name: name})
		if err != nil || v.ExtJSON() != want {
			t.Errorf("%s: %v, %v; want %s", name, v, err, want)
		}
		if sys := d.as[0].System; sys != (name == "sys") || !d.as[0].User.IsZero() {
			t.Errorf("%s: Data asked as %+v", name, d.as[0])
		}
	}
}

// TestRuleCallAsSystem: a %function whose function runs as system reads
// as system, with the request's user as context.user.
func TestRuleCallAsSystem(t *testing.T) {
	app := testApp(map[string]string{"f": `exports = function() {
		return context.services.get("mongodb-atlas").db("d").collection("c").count({}).then(n => [context.user.id, n]) }`},
		func(f *rules.JSFunction) { f.RunAsSystem = true })
	fs := load(t, app)
	d := newSliceData(map[string][]any{"d.c": {map[string]any{"a": 1}}})
	if err := fs.Bind(d); err != nil {
		t.Fatal(err)
	}
	in := expansion.Inputs{User: user(t, `{"id": "u1"}`)}
	v, err := fs.Call(context.Background(), "f", nil, evaluator.FuncEnv{Namespace: "d.c", Inputs: &in})
	if err != nil || v.ExtJSON() != `["u1",1]` {
		t.Errorf("got %v, %v", v, err)
	}
	if !d.as[0].System {
		t.Errorf("Data asked as %+v, want the system user", d.as[0])
	}
}

// TestRunAsChosenUser: a function configured to run as a chosen user
// (run_as_user_id, run_as_user_id_script_source) is not run: rulegate
// cannot become that user, and running it as the caller, or as system for
// a trigger, would give it access its configuration withholds.
func TestRunAsChosenUser(t *testing.T) {
	src := `exports = function() { return 1 }`
	app := testApp(map[string]string{"byID": src, "byScript": src, "sysByID": src}, func(f *rules.JSFunction) {
		switch f.Name {
		case "byID":
			f.RunAsUserID = "5f0000000000000000000001"
		case "byScript":
			f.RunAsUserIDScriptSource = "exports = function() { return 'x' }"
		case "sysByID":
			f.RunAsUserID = "5f0000000000000000000001"
			f.RunAsSystem = true
		}
	})
	fs := load(t, app)
	if err := fs.Bind(newSliceData(nil)); err != nil {
		t.Fatal(err)
	}
	u := user(t, `{"id": "u1"}`)
	for _, name := range []string{"byID", "byScript"} {
		_, err := fs.Run(context.Background(), jsfunc.Call{Name: name, User: u})
		if !errors.Is(err, jsfunc.ErrUnavailable) || !strings.Contains(err.Error(), "run_as_user_id") {
			t.Errorf("%s: %v, want ErrUnavailable naming run_as_user_id", name, err)
		}
		_, err = fs.Call(context.Background(), name, nil, evaluator.FuncEnv{Inputs: &expansion.Inputs{User: u}})
		if !errors.Is(err, jsfunc.ErrUnavailable) || !errors.Is(err, evaluator.ErrFunctionCall) {
			t.Errorf("%s from a rule: %v, want ErrUnavailable and evaluator.ErrFunctionCall", name, err)
		}
	}
	// run_as_system wins, as App Services' configuration makes the two
	// exclusive and system is what it runs as.
	if v, err := fs.Run(context.Background(), jsfunc.Call{Name: "sysByID", User: u}); err != nil || v.ExtJSON() != "1" {
		t.Errorf("sysByID: %v %v", v, err)
	}
}
