package server_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/server"
	"github.com/rulegate/rulegate/token"
)

// secretMark is a stored value no hostile request may ever get back.
const secretMark = "s3cr3t-hostile-value"

// wantClean checks an answer to a hostile request: a 4xx (want, when not
// 0, exactly), the error body {"error","error_code","link"} and nothing
// else, Content-Type exactly application/json, no stack, no stored data.
func wantClean(t *testing.T, what string, r resp, want int) {
	t.Helper()
	full := r.body
	if len(r.body) > 400 {
		r.body = append(r.body[:400:400], "..."...)
	}
	if want != 0 && r.status != want {
		t.Errorf("%s: status %d, want %d: %s", what, r.status, want, r.body)
		return
	}
	if r.status < 400 || r.status > 499 {
		t.Errorf("%s: status %d, want a 4xx: %s", what, r.status, r.body)
		return
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q, want exactly application/json", what, ct)
	}
	var m map[string]any
	if err := json.Unmarshal(full, &m); err != nil {
		t.Errorf("%s: body %q is not a JSON object: %v", what, r.body, err)
		return
	}
	if len(m) != 3 {
		t.Errorf("%s: body has keys other than error, error_code, link: %s", what, r.body)
	}
	for _, k := range []string{"error", "error_code", "link"} {
		if s, ok := m[k].(string); !ok || s == "" {
			t.Errorf("%s: %q missing or empty: %s", what, k, r.body)
		}
	}
	for _, bad := range []string{"goroutine", "panic", ".go:", "runtime.", secretMark} {
		if strings.Contains(string(full), bad) {
			t.Errorf("%s: body holds %q: %s", what, bad, r.body)
		}
	}
}

// jwtOf builds a compact JWS from a header and a payload, signed with
// HS256 under secret (or unsigned when secret is nil).
func jwtOf(header, payload string, secret []byte) string {
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if secret == nil {
		return in + "."
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(in))
	return in + "." + enc.EncodeToString(m.Sum(nil))
}

// hostileTokens are bearer tokens no route may honour, for user u.
func hostileTokens(t *testing.T, u, other user) map[string]string {
	t.Helper()
	exp := time.Now().Add(time.Hour).Unix()
	pay := func(sub, typ string) string {
		b, _ := json.Marshal(map[string]any{"sub": sub, "typ": typ, "exp": exp, "iat": time.Now().Unix()})
		return string(b)
	}
	past := func() time.Time { return time.Now().Add(-2 * time.Hour) }
	old, err := token.NewSigner(testKeys, token.WithClock(past))
	if err != nil {
		t.Fatal(err)
	}
	expired, err := old.Sign(token.Params{UserID: u.id})
	if err != nil {
		t.Fatal(err)
	}
	// alice's token with bob's sub: the signature no longer matches.
	parts := strings.Split(u.access, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(p), u.id, other.id, 1))) + "." + parts[2]
	return map[string]string{
		"garbage":           "garbage",
		"two parts":         "a.b",
		"empty parts":       "..",
		"alg none":          jwtOf(`{"alg":"none","kid":"test","typ":"JWT"}`, pay(u.id, "access"), nil),
		"alg None":          jwtOf(`{"alg":"None","kid":"test","typ":"JWT"}`, pay(u.id, "access"), nil),
		"another key":       jwtOf(`{"alg":"HS256","kid":"test","typ":"JWT"}`, pay(u.id, "access"), []byte("another-key-another-key-another-k")),
		"unknown kid":       jwtOf(`{"alg":"HS256","kid":"nope","typ":"JWT"}`, pay(u.id, "access"), []byte("0123456789abcdef0123456789abcdef")),
		"RS256 header":      jwtOf(`{"alg":"RS256","kid":"test","typ":"JWT"}`, pay(u.id, "access"), []byte("0123456789abcdef0123456789abcdef")),
		"expired":           expired,
		"forged sub":        forged,
		"duplicate sub":     jwtOf(`{"alg":"HS256","kid":"test","typ":"JWT"}`, `{"sub":"`+u.id+`","sub":"`+other.id+`","typ":"access","exp":`+jsonNum(exp)+`}`, []byte("0123456789abcdef0123456789abcdef")),
		"no typ":            jwtOf(`{"alg":"HS256","kid":"test","typ":"JWT"}`, `{"sub":"`+u.id+`","exp":`+jsonNum(exp)+`}`, []byte("0123456789abcdef0123456789abcdef")),
		"huge":              strings.Repeat("a", 1<<16) + "." + strings.Repeat("b", 10) + ".c",
		"invalid UTF-8 sub": jwtOf(`{"alg":"HS256","kid":"test","typ":"JWT"}`, "{\"sub\":\"\xff\",\"typ\":\"access\",\"exp\":"+jsonNum(exp)+"}", []byte("0123456789abcdef0123456789abcdef")),
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

// malformed are request bodies no route may accept.
var malformed = map[string]string{
	"bad $numberInt":  `{"a":{"$numberInt":"x"}}`,
	"top $numberInt":  `{"$numberInt":"x"}`,
	"bad $oid":        `{"a":{"$oid":"zz"}}`,
	"bad $date":       `{"a":{"$date":"bad"}}`,
	"bad $numberLong": `{"a":{"$numberLong":"1e99"}}`,
	"truncated":       `{"a":`,
	"array":           `[]`,
	"string":          `"x"`,
	"number":          `1`,
	"null":            `null`,
	"raw NUL":         "{\"a\":\"\x00\"}",
	"NUL in key":      `{"a\u0000b":1}`,
	"invalid UTF-8":   "{\"a\":\"\xff\xfe\"}",
	"UTF-8 in key":    "{\"\xff\":1}",
	"deep":            `{"a":` + strings.Repeat("[", 101) + strings.Repeat("]", 101) + `}`,
	"deep objects":    strings.Repeat(`{"a":`, 101) + "1" + strings.Repeat("}", 101),
	"trailing":        `{"a":1}{"b":2}`,
	"bare word":       `{a:1}`,
}

func TestHostileBodies(t *testing.T) {
	e := newEnv(t, server.WithMaxBody(1<<12))
	alice := e.signup("alice@example.com")
	seedSecret(t, e, alice)
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	type route struct {
		path, tok string
		hdr       []string
	}
	routes := map[string]route{
		"local-userpass login": {path: base + "/auth/providers/local-userpass/login"},
		"anon-user login":      {path: base + "/auth/providers/anon-user/login"},
		"api-key login":        {path: base + "/auth/providers/api-key/login"},
		"custom-token login":   {path: base + "/auth/providers/custom-token/login"},
		"register":             {path: base + "/auth/providers/local-userpass/register"},
		"confirm":              {path: base + "/auth/providers/local-userpass/confirm"},
		"confirm/send":         {path: base + "/auth/providers/local-userpass/confirm/send"},
		"reset/send":           {path: base + "/auth/providers/local-userpass/reset/send"},
		"reset":                {path: base + "/auth/providers/local-userpass/reset"},
		"confirm/call":         {path: base + "/auth/providers/local-userpass/confirm/call"},
		"reset/call":           {path: base + "/auth/providers/local-userpass/reset/call"},
		"api_keys POST":        {path: "/api/client/v2.0/auth/api_keys", tok: alice.refresh},
		"functions/call":       {path: base + "/functions/call", tok: alice.access},
	}
	for _, a := range []string{"findOne", "find", "insertOne", "insertMany", "updateOne", "updateMany", "replaceOne", "deleteOne", "deleteMany", "aggregate"} {
		routes["data API "+a] = route{path: dapi + a, tok: alice.access}
	}
	for rn, rt := range routes {
		for bn, body := range malformed {
			wantClean(t, rn+": "+bn, e.do("POST", rt.path, rt.tok, body, rt.hdr...), 0)
		}
		// Over the body limit: provider routes take 64 KiB, the data
		// routes WithMaxBody's 4 KiB.
		big := `{"a":"` + strings.Repeat("x", 70<<10) + `"}`
		wantClean(t, rn+": huge body", e.do("POST", rt.path, rt.tok, big, rt.hdr...), http.StatusRequestEntityTooLarge)
	}
}

// seedSecret stores a note of alice's holding secretMark, which no hostile
// request may get back.
func seedSecret(t *testing.T, e *env, alice user) {
	t.Helper()
	_, err := e.client.Database("srvtest").Collection("notes").InsertOne(context.Background(),
		bson.D{{Key: "_id", Value: "hostile-1"}, {Key: "owner", Value: alice.id}, {Key: "team", Value: "red"}, {Key: "secret", Value: secretMark}})
	if err != nil {
		t.Fatal(err)
	}
}

// TestHostileValidBodies spoils bodies each route accepts: trailing data,
// a raw NUL, invalid UTF-8 or an unescaped control character in a string
// must each be refused with 400, never read as the valid prefix.
func TestHostileValidBodies(t *testing.T) {
	e := newEnv(t)
	alice := e.signup("alice@example.com")
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	type route struct{ path, tok, body string }
	routes := map[string]route{
		"local-userpass login": {base + "/auth/providers/local-userpass/login", "", `{"username":"alice@example.com","password":"pa55w0rd!","m":"ok"}`},
		"anon-user login":      {base + "/auth/providers/anon-user/login", "", `{"m":"ok"}`},
		"register":             {base + "/auth/providers/local-userpass/register", "", `{"email":"new@example.com","password":"pa55w0rd!","m":"ok"}`},
		"reset/send":           {base + "/auth/providers/local-userpass/reset/send", "", `{"email":"alice@example.com","m":"ok"}`},
		"confirm/send":         {base + "/auth/providers/local-userpass/confirm/send", "", `{"email":"alice@example.com","m":"ok"}`},
		"api_keys POST":        {"/api/client/v2.0/auth/api_keys", alice.refresh, `{"name":"k","m":"ok"}`},
		"functions/call":       {base + "/functions/call", alice.access, `{"name":"insertOne","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"notes","document":{"owner":"` + alice.id + `","m":"ok"}}]}`},
		"data API insertOne":   {dapi + "insertOne", alice.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","document":{"owner":"` + alice.id + `","m":"ok"}}`},
	}
	spoil := map[string]func(string) string{
		"trailing object": func(b string) string { return b + `{"name":"deleteMany"}` },
		"trailing word":   func(b string) string { return b + ` x` },
		"raw NUL":         func(b string) string { return strings.Replace(b, `"ok"`, "\"o\x00k\"", 1) },
		"raw newline":     func(b string) string { return strings.Replace(b, `"ok"`, "\"o\nk\"", 1) },
		"invalid UTF-8":   func(b string) string { return strings.Replace(b, `"ok"`, "\"o\xffk\"", 1) },
		"overlong UTF-8":  func(b string) string { return strings.Replace(b, `"ok"`, "\"o\xc0\xafk\"", 1) },
		"surrogate UTF-8": func(b string) string { return strings.Replace(b, `"ok"`, "\"o\xed\xa0\x80k\"", 1) },
	}
	for rn, rt := range routes {
		for sn, f := range spoil {
			body := f(rt.body)
			if body == rt.body {
				t.Fatalf("%s: %s changed nothing", rn, sn)
			}
			wantClean(t, rn+": "+sn, e.do("POST", rt.path, rt.tok, body), http.StatusBadRequest)
		}
	}
}

// TestHostileTokens presents tokens no route may honour on every route
// that takes one: always 401 InvalidSession, never data.
func TestHostileTokens(t *testing.T) {
	e := newEnv(t)
	alice, bob := e.signup("alice@example.com"), e.signup("bob@example.com")
	seedSecret(t, e, alice)
	call := `{"name":"find","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"notes","query":{}}]}`
	dapiBody := `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`
	type route struct{ method, path, body string }
	access := map[string]route{
		"profile":        {"GET", "/api/client/v2.0/auth/profile", ""},
		"delete":         {"DELETE", "/api/client/v2.0/auth/delete", ""},
		"functions/call": {"POST", base + "/functions/call", call},
		"data API find":  {"POST", "/app/" + appID + "/endpoint/data/v1/action/find", dapiBody},
	}
	refresh := map[string]route{
		"session POST":          {"POST", "/api/client/v2.0/auth/session", ""},
		"session DELETE":        {"DELETE", "/api/client/v2.0/auth/session", ""},
		"api_keys GET":          {"GET", "/api/client/v2.0/auth/api_keys", ""},
		"api_keys POST":         {"POST", "/api/client/v2.0/auth/api_keys", `{"name":"k"}`},
		"api_key GET":           {"GET", "/api/client/v2.0/auth/api_keys/65a000000000000000000001", ""},
		"api_key DELETE":        {"DELETE", "/api/client/v2.0/auth/api_keys/65a000000000000000000001", ""},
		"api_key enable":        {"PUT", "/api/client/v2.0/auth/api_keys/65a000000000000000000001/enable", ""},
		"api_key disable":       {"PUT", "/api/client/v2.0/auth/api_keys/65a000000000000000000001/disable", ""},
		"api_keys unknown verb": {"PATCH", "/api/client/v2.0/auth/api_keys", ""},
	}
	toks := hostileTokens(t, alice, bob)
	for rn, rt := range access {
		for tn, tok := range toks {
			r := e.do(rt.method, rt.path, tok, rt.body)
			wantClean(t, rn+": "+tn, r, http.StatusUnauthorized)
			wantCode(t, rn+": "+tn, r, "InvalidSession")
		}
		r := e.do(rt.method, rt.path, alice.refresh, rt.body)
		wantClean(t, rn+": refresh token as access token", r, http.StatusUnauthorized)
		wantCode(t, rn+": refresh token as access token", r, "InvalidSession")
		r = e.do(rt.method, rt.path, "", rt.body, "Authorization", "Basic YWxpY2U6cGFzcw==")
		wantClean(t, rn+": Basic credentials", r, http.StatusUnauthorized)
	}
	for _, rn := range []string{"profile", "delete", "functions/call"} {
		rt := access[rn]
		r := e.do(rt.method, rt.path, "", rt.body)
		wantClean(t, rn+": no token", r, http.StatusUnauthorized)
		wantCode(t, rn+": no token", r, "InvalidSession")
	}
	for rn, rt := range refresh {
		for tn, tok := range toks {
			r := e.do(rt.method, rt.path, tok, rt.body)
			wantClean(t, rn+": "+tn, r, http.StatusUnauthorized)
			wantCode(t, rn+": "+tn, r, "InvalidSession")
		}
		for tn, tok := range map[string]string{"no token": "", "access token as refresh token": alice.access} {
			r := e.do(rt.method, rt.path, tok, rt.body)
			wantClean(t, rn+": "+tn, r, http.StatusUnauthorized)
			wantCode(t, rn+": "+tn, r, "InvalidSession")
		}
	}
	// The hostile tokens changed nothing: alice is still there.
	wantStatus(t, "alice after", e.do("GET", "/api/client/v2.0/auth/profile", alice.access, ""), 200, "")
	wantStatus(t, "alice's session after", e.do("POST", "/api/client/v2.0/auth/session", alice.refresh, ""), 201, "")
}

func wantCode(t *testing.T, what string, r resp, code string) {
	t.Helper()
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	if m["error_code"] != code {
		t.Errorf("%s: error_code %v, want %s: %s", what, m["error_code"], code, r.body)
	}
}

// TestHostileArguments sends every service method wrong types for each of
// its argument fields, unknown fields, and malformed calls: 400 or 404,
// never data, never a 5xx.
func TestHostileArguments(t *testing.T) {
	e := newEnv(t)
	alice := e.signup("alice@example.com")
	seedSecret(t, e, alice)
	methods := map[string][]string{
		"find":              {"query", "project", "sort", "limit"},
		"findOne":           {"query", "project", "sort"},
		"findOneAndUpdate":  {"filter", "update", "sort", "projection", "upsert", "returnNewDocument"},
		"findOneAndReplace": {"filter", "update", "sort", "projection", "upsert", "returnNewDocument"},
		"findOneAndDelete":  {"filter", "sort", "projection"},
		"aggregate":         {"pipeline"},
		"count":             {"query", "limit"},
		"insertOne":         {"document"},
		"insertMany":        {"documents"},
		"deleteOne":         {"query"},
		"deleteMany":        {"query"},
		"updateOne":         {"query", "update", "upsert", "arrayFilters"},
		"updateMany":        {"query", "update", "upsert", "arrayFilters"},
	}
	wrong := map[string][]string{
		"query": {`"x"`, `1`, `[]`, `true`}, "filter": {`"x"`, `1`, `[{}]`, `false`},
		"project": {`"x"`, `1`, `[]`}, "projection": {`"x"`, `[]`, `true`}, "sort": {`"n"`, `[]`, `1`},
		"update": {`null`, `"x"`, `[]`, `1`}, "document": {`null`, `"x"`, `[{}]`, `1`},
		"documents": {`{}`, `"x"`, `["x"]`, `[{}, 1]`, `null`}, "pipeline": {`{}`, `"x"`, `[1]`, `null`},
		"arrayFilters": {`{}`, `[1]`, `"x"`},
		"limit":        {`"1"`, `-1`, `1.5`, `true`, `{}`, `{"$numberDouble":"NaN"}`, `{"$numberDouble":"Infinity"}`, `{"$numberDouble":"1e300"}`, `{"$numberDecimal":"1"}`},
		"upsert":       {`"true"`, `1`, `null`}, "returnNewDocument": {`"yes"`, `0`, `{}`},
	}
	callBody := func(name, arg string) string {
		return `{"name":"` + name + `","service":"mongodb-atlas","arguments":[` + arg + `]}`
	}
	for m, fields := range methods {
		for _, f := range fields {
			for _, v := range wrong[f] {
				arg := `{"database":"srvtest","collection":"notes","` + f + `":` + v + `}`
				r := e.do("POST", base+"/functions/call", alice.access, callBody(m, arg))
				wantClean(t, m+" "+f+"="+v, r, http.StatusBadRequest)
			}
		}
		for _, arg := range []string{
			`{"database":"srvtest","collection":"notes","nope":1}`,
			`{"database":"srvtest","collection":"notes","skip":1}`,
			`{"collection":"notes"}`, `{"database":"srvtest"}`,
			`{"database":1,"collection":"notes"}`, `{"database":"srvtest","collection":["notes"]}`,
			`{"database":"","collection":"notes"}`, `{"database":"srvtest","collection":""}`,
		} {
			wantClean(t, m+" "+arg, e.do("POST", base+"/functions/call", alice.access, callBody(m, arg)), http.StatusBadRequest)
		}
		for _, args := range []string{``, `{},{}`, `"x"`, `[]`, `null`, `1`} {
			wantClean(t, m+" arguments ["+args+"]", e.do("POST", base+"/functions/call", alice.access, callBody(m, args)), http.StatusBadRequest)
		}
	}
	for what, body := range map[string]string{
		"arguments an object": `{"name":"find","service":"mongodb-atlas","arguments":{"database":"srvtest","collection":"notes"}}`,
		"arguments a string":  `{"name":"find","service":"mongodb-atlas","arguments":"x"}`,
		"no name":             `{"service":"mongodb-atlas","arguments":[]}`,
		"name a number":       `{"name":1,"service":"mongodb-atlas","arguments":[]}`,
		"empty name":          `{"name":"","service":"mongodb-atlas","arguments":[]}`,
	} {
		wantClean(t, what, e.do("POST", base+"/functions/call", alice.access, body), http.StatusBadRequest)
	}
	for what, body := range map[string]string{
		"unknown method":          `{"name":"dropDatabase","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"notes"}]}`,
		"method with a NUL":       `{"name":"find\u0000","service":"mongodb-atlas","arguments":[{"database":"srvtest","collection":"notes"}]}`,
		"prototype name":          `{"name":"__proto__","service":"mongodb-atlas","arguments":[{}]}`,
		"unknown service":         `{"name":"find","service":"mongodb-nope","arguments":[{"database":"srvtest","collection":"notes"}]}`,
		"unknown function":        `{"name":"nope","arguments":[]}`,
		"service of a wrong type": `{"name":"find","service":1,"arguments":[{"database":"srvtest","collection":"notes"}]}`,
	} {
		r := e.do("POST", base+"/functions/call", alice.access, body)
		wantClean(t, what, r, 0)
		if r.status == http.StatusUnauthorized {
			t.Errorf("%s: 401 (a client would refresh and retry)", what)
		}
	}
	// Names MongoDB refuses or that no rules cover: refused, never a 5xx.
	for _, ns := range [][2]string{
		{"srvtest\u0000x", "notes"}, {"srvtest", "notes\u0000x"}, {"srv.test", "notes"}, {"srvtest", "$cmd"},
		{"srvtest", "system.users"}, {"admin", "system.users"}, {"srvtest", "notes.x"}, {"a/b", "notes"},
		{"srvtest", strings.Repeat("n", 300)}, {"$", "notes"}, {"srvtest", ".notes"},
	} {
		for _, m := range []string{"find", "insertOne", "deleteMany", "aggregate", "count"} {
			a := map[string]any{"database": ns[0], "collection": ns[1]}
			switch m {
			case "insertOne":
				a["document"] = map[string]any{"owner": alice.id}
			case "aggregate":
				a["pipeline"] = []any{}
			}
			b, _ := json.Marshal(map[string]any{"name": m, "service": "mongodb-atlas", "arguments": []any{a}})
			r := e.do("POST", base+"/functions/call", alice.access, string(b))
			if r.status == http.StatusOK {
				// A namespace without rules holds nothing the caller
				// may read: an empty answer, as App Services gives.
				switch string(r.body) {
				case `[]`, `null`, `{"$numberLong":"0"}`, `{"deletedCount":{"$numberInt":"0"}}`:
				default:
					t.Errorf("%s on %q.%q: %s", m, ns[0], ns[1], r.body)
				}
				continue
			}
			wantClean(t, m+" on "+ns[0]+"."+ns[1], r, 0)
			if r.status == http.StatusUnauthorized {
				t.Errorf("%s on %q.%q: 401", m, ns[0], ns[1])
			}
		}
	}
}

// TestHostileRoutes: unknown paths, wrong methods, other apps, the Data
// API's own refusals, OPTIONS and healthz.
func TestHostileRoutes(t *testing.T) {
	e := newEnv(t)
	alice := e.signup("alice@example.com")
	seedSecret(t, e, alice)
	dapi := "/app/" + appID + "/endpoint/data/v1/action/"
	find := `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`
	for _, c := range []struct {
		what, method, path, tok, body string
		hdr                           []string
		status                        int
	}{
		{"root", "GET", "/", "", "", nil, 404},
		{"api", "GET", "/api/client/v2.0", "", "", nil, 404},
		{"unknown app route", "GET", base + "/nope", "", "", nil, 404},
		{"unknown auth route", "GET", "/api/client/v2.0/auth/nope", alice.access, "", nil, 404},
		{"another app", "POST", "/api/client/v2.0/app/other-app/functions/call", alice.access, `{}`, nil, 404},
		{"another app's Data API", "POST", "/app/other-app/endpoint/data/v1/action/find", alice.access, find, nil, 404},
		{"an app id with a slash", "GET", "/api/client/v2.0/app/" + appID + "%2Fx/location", "", "", nil, 404},
		{"dot segments", "GET", "/api/client/v2.0/app/other/../" + appID + "/location", "", "", nil, 0},
		{"location POST", "POST", base + "/location", "", `{}`, nil, 405},
		{"login GET", "GET", base + "/auth/providers/local-userpass/login", "", "", nil, 405},
		{"unknown provider", "POST", base + "/auth/providers/nope/login", "", `{}`, nil, 404},
		{"provider with no such op", "POST", base + "/auth/providers/local-userpass/nope", "", `{}`, nil, 404},
		{"anon-user register", "POST", base + "/auth/providers/anon-user/register", "", `{}`, nil, 404},
		{"link", "POST", base + "/auth/providers/anon-user/login?link=true", alice.access, `{}`, nil, 400},
		{"functions/call PUT", "PUT", base + "/functions/call", alice.access, `{}`, nil, 405},
		{"watch", "GET", base + "/functions/call?baas_request=e30&baas_at=" + alice.access, "", "", nil, 400},
		{"profile POST", "POST", "/api/client/v2.0/auth/profile", alice.access, `{}`, nil, 405},
		{"session GET", "GET", "/api/client/v2.0/auth/session", alice.refresh, "", nil, 405},
		{"delete POST", "POST", "/api/client/v2.0/auth/delete", alice.access, "", nil, 405},
		{"api_keys PATCH", "PATCH", "/api/client/v2.0/auth/api_keys", alice.refresh, "", nil, 404},
		{"api key with a bad id", "GET", "/api/client/v2.0/auth/api_keys/zz", alice.refresh, "", nil, 404},
		{"api key bad verb", "PUT", "/api/client/v2.0/auth/api_keys/65a000000000000000000001/explode", alice.refresh, "", nil, 404},
		{"api key without a name", "POST", "/api/client/v2.0/auth/api_keys", alice.refresh, `{}`, nil, 400},
		{"api key named by a number", "POST", "/api/client/v2.0/auth/api_keys", alice.refresh, `{"name":1}`, nil, 400},
		{"api key with a long name", "POST", "/api/client/v2.0/auth/api_keys", alice.refresh, `{"name":"` + strings.Repeat("k", 300) + `"}`, nil, 400},
		{"Data API GET", "GET", dapi + "find", alice.access, "", nil, 405},
		{"Data API v2", "POST", "/app/" + appID + "/endpoint/data/v2/action/find", alice.access, find, nil, 404},
		{"Data API beta (not enabled)", "POST", "/app/" + appID + "/endpoint/data/beta/action/find", alice.access, find, nil, 404},
		{"Data API unknown action", "POST", dapi + "dropDatabase", alice.access, find, nil, 404},
		{"Data API extra segment", "POST", dapi + "find/x", alice.access, find, nil, 404},
		{"Data API text/plain", "POST", dapi + "find", alice.access, find, []string{"Content-Type", "text/plain"}, 400},
		{"Data API no Content-Type", "POST", dapi + "find", alice.access, find, []string{"Content-Type", ""}, 400},
		{"Data API no dataSource", "POST", dapi + "find", alice.access, `{"database":"srvtest","collection":"notes"}`, nil, 400},
		{"Data API dataSource a number", "POST", dapi + "find", alice.access, `{"dataSource":1,"database":"srvtest","collection":"notes"}`, nil, 400},
		{"Data API limit too large", "POST", dapi + "find", alice.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","limit":50001}`, nil, 400},
		{"Data API skip negative", "POST", dapi + "find", alice.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","skip":-1}`, nil, 400},
		{"Data API updateOne without update", "POST", dapi + "updateOne", alice.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{}}`, nil, 400},
		{"Data API replaceOne with update", "POST", dapi + "replaceOne", alice.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":{},"update":{}}`, nil, 400},
		{"Data API client API field names", "POST", dapi + "find", alice.access, `{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","query":{}}`, nil, 400},
		{"Data API empty apiKey", "POST", dapi + "find", "", find, []string{"apiKey", " "}, 0},
		{"Data API wrong password", "POST", dapi + "find", "", find, []string{"email", "alice@example.com", "password", "wrong-password"}, 401},
		{"Data API email only", "POST", dapi + "find", "", find, []string{"email", "alice@example.com"}, 401},
		{"Data API bad jwtTokenString", "POST", dapi + "find", "", find, []string{"jwtTokenString", "x.y.z"}, 401},
	} {
		r := e.do(c.method, c.path, c.tok, c.body, c.hdr...)
		if c.status == 0 && r.status < 300 {
			continue // served as its valid form: checked elsewhere
		}
		wantClean(t, c.what, r, c.status)
	}
	anon := e.login("anon-user", `{}`)
	wantClean(t, "an anonymous user's API key", e.do("POST", "/api/client/v2.0/auth/api_keys", anon.refresh, `{"name":"k"}`), http.StatusBadRequest)
	for _, path := range []string{base + "/functions/call", "/api/client/v2.0/auth/session", "/nope", "/app/" + appID + "/endpoint/data/v1/action/find"} {
		r := e.do("OPTIONS", path, "", "", "Origin", "https://example.com", "Access-Control-Request-Method", "POST")
		if r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Errorf("OPTIONS %s: %d %q, want 204 and no body", path, r.status, r.body)
		}
	}
	for _, m := range []string{"GET", "HEAD", "POST"} {
		if r := e.do(m, "/healthz", "", ""); r.status != http.StatusOK || strings.Contains(string(r.body), secretMark) {
			t.Errorf("%s /healthz: %d %s", m, r.status, r.body)
		}
	}
}

// FuzzFunctionsCall sends fuzzed functions/call bodies through the whole
// handler, the gate and the embedded server, as a signed-in user who may
// read nothing of another user's note: never a 5xx, always the error
// shape on a refusal, never that note's secret.
//
// fuzz smoke: 1000x (each input is a request to the embedded server, and
// each fuzz worker process starts a server of its own)
func FuzzFunctionsCall(f *testing.F) {
	client := rulegatetest.Client(f)
	ctx := context.Background()
	if err := client.Database("srvtest").Drop(ctx); err != nil {
		f.Fatal(err)
	}
	srv, err := server.New(ctx, loadApp(f), client, testKeys, server.WithDatabase(rulegatetest.Database(f).Name()),
		server.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), server.WithMaxBody(1<<16))
	if err != nil {
		f.Fatal(err)
	}
	serve := func(method, path, tok, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec
	}
	serve("POST", base+"/auth/providers/local-userpass/register", "", `{"email":"fuzz@example.com","password":"pa55w0rd!"}`)
	rec := serve("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"fuzz@example.com","password":"pa55w0rd!"}`)
	var login struct {
		AccessToken string `json:"access_token"`
		UserID      string `json:"user_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &login); err != nil || login.AccessToken == "" {
		f.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	// An upsert: each fuzzing worker runs this setup on the one srvtest.
	if _, err := client.Database("srvtest").Collection("notes").ReplaceOne(ctx, bson.D{{Key: "_id", Value: "other-1"}},
		bson.D{{Key: "owner", Value: "65a0000000000000000000ee"}, {Key: "team", Value: "red"}, {Key: "secret", Value: secretMark}}, options.Replace().SetUpsert(true)); err != nil {
		f.Fatal(err)
	}
	ns := `"database":"srvtest","collection":"notes"`
	for _, s := range []string{
		`{"name":"find","service":"mongodb-atlas","arguments":[{` + ns + `,"query":{}}]}`,
		`{"name":"findOne","service":"mongodb-atlas","arguments":[{` + ns + `,"query":{"secret":"` + secretMark + `"},"project":{"secret":1}}]}`,
		`{"name":"count","service":"mongodb-atlas","arguments":[{` + ns + `,"query":{"team":"red"},"limit":{"$numberInt":"3"}}]}`,
		`{"name":"aggregate","service":"mongodb-atlas","arguments":[{` + ns + `,"pipeline":[{"$match":{}},{"$group":{"_id":"$secret"}}]}]}`,
		`{"name":"insertOne","service":"mongodb-atlas","arguments":[{` + ns + `,"document":{"owner":"` + login.UserID + `","n":{"$numberLong":"1"}}}]}`,
		`{"name":"updateOne","service":"mongodb-atlas","arguments":[{` + ns + `,"query":{"_id":"other-1"},"update":{"$set":{"owner":"` + login.UserID + `"}},"upsert":true}]}`,
		`{"name":"findOneAndUpdate","service":"mongodb-atlas","arguments":[{` + ns + `,"filter":{},"update":{"$set":{"x":1}},"returnNewDocument":true}]}`,
		`{"name":"findOneAndReplace","service":"mongodb-atlas","arguments":[{` + ns + `,"filter":{"team":"red"}}]}`,
		`{"name":"deleteMany","service":"mongodb-atlas","arguments":[{` + ns + `,"query":{"secret":{"$regex":"^s3"}}}]}`,
		`{"name":"updateMany","service":"mongodb-atlas","arguments":[{` + ns + `,"query":{},"update":{"$rename":{"secret":"open"}}}]}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		rec := serve("POST", base+"/functions/call", login.AccessToken, body)
		out := rec.Body.String()
		if rec.Code >= 500 {
			t.Fatalf("%d %s for %q", rec.Code, out, body)
		}
		if strings.Contains(out, secretMark) {
			t.Fatalf("the other user's secret in %s for %q", out, body)
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
