package expansion

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/value"
	"github.com/tidwall/gjson"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in    string
		root  Root
		path  []string
		phase Phase
	}{
		{"%%user", RootUser, nil, PhaseRequest},
		{"%%user.id", RootUser, []string{"id"}, PhaseRequest},
		{"%%user.type", RootUser, []string{"type"}, PhaseRequest},
		{"%%user.data.email", RootUser, []string{"data", "email"}, PhaseRequest},
		{"%%user.custom_data", RootUser, []string{"custom_data"}, PhaseRequest},
		{"%%user.custom_data.teamIds", RootUser, []string{"custom_data", "teamIds"}, PhaseRequest},
		{"%%user.custom_data.a.b.0.c", RootUser, []string{"custom_data", "a", "b", "0", "c"}, PhaseRequest},
		{"%%user.identities", RootUser, []string{"identities"}, PhaseRequest},
		{"%%user.identities.0.providerType", RootUser, []string{"identities", "0", "providerType"}, PhaseRequest},
		{"%%root", RootRoot, nil, PhaseDocument},
		{"%%root._id", RootRoot, []string{"_id"}, PhaseDocument},
		{"%%root.a.b", RootRoot, []string{"a", "b"}, PhaseDocument},
		{"%%prevRoot", RootPrevRoot, nil, PhaseDocument},
		{"%%prevRoot.status", RootPrevRoot, []string{"status"}, PhaseDocument},
		{"%%this", RootThis, nil, PhaseDocument},
		{"%%this.x", RootThis, []string{"x"}, PhaseDocument},
		{"%%prev", RootPrev, nil, PhaseDocument},
		{"%%request", RootRequest, nil, PhaseRequest},
		{"%%request.httpMethod", RootRequest, []string{"httpMethod"}, PhaseRequest},
		{"%%request.httpReferrer", RootRequest, []string{"httpReferrer"}, PhaseRequest},
		{"%%request.httpUserAgent", RootRequest, []string{"httpUserAgent"}, PhaseRequest},
		{"%%request.rawQueryString", RootRequest, []string{"rawQueryString"}, PhaseRequest},
		{"%%request.remoteIPAddress", RootRequest, []string{"remoteIPAddress"}, PhaseRequest},
		{"%%request.requestHeaders.User-Agent", RootRequest, []string{"requestHeaders", "User-Agent"}, PhaseRequest},
		{"%%request.service", RootRequest, []string{"service"}, PhaseRequest},
		{"%%request.action", RootRequest, []string{"action"}, PhaseRequest},
		{"%%request.webhookUrl", RootRequest, []string{"webhookUrl"}, PhaseRequest},
		{"%%values", RootValues, nil, PhaseRequest},
		{"%%values.admin_ids", RootValues, []string{"admin_ids"}, PhaseRequest},
		{"%%environment", RootEnvironment, nil, PhaseRequest},
		{"%%environment.tag", RootEnvironment, []string{"tag"}, PhaseRequest},
		{"%%environment.values.baseUrl", RootEnvironment, []string{"values", "baseUrl"}, PhaseRequest},
		{"%%partition", RootPartition, nil, PhaseRequest},
		{"%%args", RootArgs, nil, PhaseRequest},
		{"%%args.body.userId", RootArgs, []string{"body", "userId"}, PhaseRequest},
		{"%%true", RootTrue, nil, PhaseConstant},
		{"%%false", RootFalse, nil, PhaseConstant},
		{"%%values.a b", RootValues, []string{"a b"}, PhaseRequest},
		{"%%user.custom_data.$x", RootUser, []string{"custom_data", "$x"}, PhaseRequest},
	} {
		ref, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if ref.Root != tc.root || !slices.Equal(ref.Path, tc.path) || ref.Phase() != tc.phase {
			t.Errorf("Parse(%q) = %v %q phase %v; want %v %q %v", tc.in, ref.Root, ref.Path, ref.Phase(), tc.root, tc.path, tc.phase)
		}
		if got := ref.String(); got != tc.in {
			t.Errorf("Parse(%q).String() = %q", tc.in, got)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in, code, msg string
	}{
		{"user.id", CodeSyntax, `an expansion starts with "%%"`},
		{"%user.id", CodeSyntax, `an expansion starts with "%%"`},
		{"", CodeSyntax, `an expansion starts with "%%"`},
		{"%%", CodeUnknown, `unknown expansion "%%"`},
		{"%%usr.id", CodeUnknown, `unknown expansion "%%usr" (did you mean %%user?)`},
		{"%%User.id", CodeUnknown, `unknown expansion "%%User" (did you mean %%user?)`},
		{"%%prevroot", CodeUnknown, `unknown expansion "%%prevroot" (did you mean %%prevRoot?)`},
		{"%%prev_root", CodeUnknown, `unknown expansion "%%prev_root" (did you mean %%prevRoot?)`},
		{"%%env.tag", CodeUnknown, `unknown expansion "%%env" (did you mean %%environment?)`},
		{"%%foo", CodeUnknown, `unknown expansion "%%foo"`},
		{"%%user.name", CodeUnknownField, `%%user has no field "name" (it has id, type, data, custom_data, identities)`},
		{"%%user.customData.x", CodeUnknownField, `%%user has no field "customData" (it has id, type, data, custom_data, identities; did you mean %%user.custom_data?)`},
		{"%%user.Id", CodeUnknownField, `%%user has no field "Id" (it has id, type, data, custom_data, identities; did you mean %%user.id?)`},
		{"%%request.ip", CodeUnknownField, `%%request has no field "ip" (it has httpMethod, httpReferrer, httpUserAgent, rawQueryString, remoteIPAddress, requestHeaders, service, action, webhookUrl)`},
		{"%%environment.name", CodeUnknownField, `%%environment has no field "name" (it has tag, values)`},
		{"%%environment.tag.x", CodeSyntax, `%%environment.tag is a string and has no fields`},
		{"%%user.", CodeSyntax, "empty path segment"},
		{"%%user..id", CodeSyntax, "empty path segment"},
		{"%%root.a.", CodeSyntax, "empty path segment"},
		{"%%true.x", CodeSyntax, "%%true takes no path"},
		{"%%false.x", CodeSyntax, "%%false takes no path"},
		{"%%partition.x", CodeSyntax, "%%partition takes no path"},
	} {
		_, err := Parse(tc.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%q) = %v, want an *Error", tc.in, err)
			continue
		}
		if e.Code != tc.code || e.Msg != tc.msg || e.Text != tc.in {
			t.Errorf("Parse(%q) = %q %q, want %q %q", tc.in, e.Code, e.Msg, tc.code, tc.msg)
		}
		if want := tc.in + ": " + tc.msg + " (" + tc.code + ")"; e.Error() != want {
			t.Errorf("Error() = %q, want %q", e.Error(), want)
		}
	}
}

func TestVocabulary(t *testing.T) {
	v := Vocabulary()
	if len(v) != int(RootFalse) {
		t.Fatalf("Vocabulary has %d roots, want %d", len(v), RootFalse)
	}
	names := map[string]bool{}
	for i, in := range v {
		if in.Root != Root(i+1) {
			t.Errorf("entry %d is %v, want in Root order", i, in.Root)
		}
		if names[in.Name] || !strings.HasPrefix(in.Name, "%%") {
			t.Errorf("bad or duplicate name %q", in.Name)
		}
		names[in.Name] = true
		if in.Phase != in.Root.Phase() {
			t.Errorf("%s: Info.Phase %v, Root.Phase() %v", in.Name, in.Phase, in.Root.Phase())
		}
		if in.Root.Name() != in.Name {
			t.Errorf("%s: Root.Name() = %q", in.Name, in.Root.Name())
		}
		if in.Meaning == "" || in.Missing == "" || !strings.Contains(in.Source, "source/rules/expressions.txt") {
			t.Errorf("%s: Meaning, Missing and Source must be filled: %+v", in.Name, in)
		}
		if in.Leaf && in.Fields != nil {
			t.Errorf("%s: a leaf has no fields", in.Name)
		}
	}
	// The slice is fresh on every call: changing it changes nothing.
	v[0].Name = "%%changed"
	if Vocabulary()[0].Name != "%%user" {
		t.Error("Vocabulary shares state between calls")
	}
	if got := Root(0).Name(); got != "Root(0)" {
		t.Errorf("Root(0).Name() = %q", got)
	}
	for _, p := range []struct {
		p    Phase
		want string
	}{{PhaseConstant, "constant"}, {PhaseRequest, "request"}, {PhaseDocument, "document"}, {0, "unknown"}} {
		if p.p.String() != p.want {
			t.Errorf("Phase(%d).String() = %q", p.p, p.p.String())
		}
	}
}

func TestIsExpansion(t *testing.T) {
	for s, want := range map[string]bool{"%%user": true, "%%": true, "%user": false, "user": false, "": false, " %%user": false} {
		if IsExpansion(s) != want {
			t.Errorf("IsExpansion(%q) = %v", s, !want)
		}
	}
}

// show renders a resolved value with its type, Missing as "missing".
func show(v value.Value) string {
	if v.IsMissing() {
		return "missing"
	}
	return v.Type.String() + " " + v.ExtJSON()
}

const userObject = `{
  "id": "5f8d0d55b54764421b7156c9",
  "type": "normal",
  "data": {"email": "ann@example.com", "name": "Ann"},
  "custom_data": {"teamIds": ["red", "blue"], "admin": true, "age": 42, "big": 5000000000, "ratio": 0.5,
                  "orgId": {"$oid": "5f8d0d55b54764421b7156ca"}, "nothing": null, "a.b": "dotted", "#": "hash",
                  "nested": {"x": {"y": "deep"}}},
  "identities": [{"id": "abc", "providerType": "local-userpass"}]
}`

const userClaims = `{
  "sub": "5f8d0d55b54764421b7156c9",
  "user_type": "server",
  "user_metadata": {"email": "srv@example.com"},
  "user_data": {"teamIds": ["green"], "admin": false},
  "user_identities": [{"id": "key1", "providerType": "api-key"}],
  "exp": 1700000000
}`

func mustUser(t *testing.T, f func([]byte) (User, error), raw string) User {
	t.Helper()
	u, err := f([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestResolve(t *testing.T) {
	obj := mustUser(t, NewUserObject, userObject)
	claims := mustUser(t, NewUserClaims, userClaims)
	full := Inputs{
		User:        obj,
		Request:     []byte(`{"httpMethod": "GET", "httpReferrer": "https://ref", "httpUserAgent": "ua", "rawQueryString": "a=1", "remoteIPAddress": "10.0.0.1", "requestHeaders": {"X-App": ["1", "2"]}, "service": "mongodb-atlas", "action": "find", "webhookUrl": "/hook"}`),
		Values:      []byte(`{"admin_ids": ["u1", "u2"], "limit": 10, "cfg": {"on": true}}`),
		Environment: []byte(`{"tag": "production", "values": {"baseUrl": "https://x"}}`),
		Partition:   []byte(`"team-red"`),
		Args:        []byte(`{"from": "+15558675309", "body": {"userId": "u1"}, "someNumber": 7}`),
	}
	for _, tc := range []struct {
		in   Inputs
		ref  string
		want string
	}{
		{full, "%%true", "boolean true"},
		{full, "%%false", "boolean false"},
		{full, "%%user.id", `string "5f8d0d55b54764421b7156c9"`},
		{full, "%%user.type", `string "normal"`},
		{full, "%%user.data.email", `string "ann@example.com"`},
		{full, "%%user.data", `embedded document {"email":"ann@example.com","name":"Ann"}`},
		{full, "%%user.custom_data.teamIds", `array ["red","blue"]`},
		{full, "%%user.custom_data.teamIds.1", `string "blue"`},
		{full, "%%user.custom_data.admin", "boolean true"},
		{full, "%%user.custom_data.age", "32-bit integer 42"},
		{full, "%%user.custom_data.big", "64-bit integer 5000000000"},
		{full, "%%user.custom_data.ratio", "double 0.5"},
		{full, "%%user.custom_data.orgId", `objectID {"$oid":"5f8d0d55b54764421b7156ca"}`}, // extended JSON
		{full, "%%user.custom_data.nothing", "null null"},
		{full, "%%user.custom_data.a.b", "missing"}, // "a.b" is two segments; the key "a.b" is not a path
		{full, "%%user.custom_data.#", `string "hash"`},
		{full, "%%user.custom_data.nested.x.y", `string "deep"`},
		{full, "%%user.custom_data.absent", "missing"},
		{full, "%%user.custom_data.teamIds.9", "missing"},
		{full, "%%user.identities.0.providerType", `string "local-userpass"`},
		{full, "%%user.identities", `array [{"id":"abc","providerType":"local-userpass"}]`},
		{full, "%%request.httpMethod", `string "GET"`},
		{full, "%%request.httpReferrer", `string "https://ref"`},
		{full, "%%request.httpUserAgent", `string "ua"`},
		{full, "%%request.rawQueryString", `string "a=1"`},
		{full, "%%request.remoteIPAddress", `string "10.0.0.1"`},
		{full, "%%request.requestHeaders.X-App", `array ["1","2"]`},
		{full, "%%request.service", `string "mongodb-atlas"`},
		{full, "%%request.action", `string "find"`},
		{full, "%%request.webhookUrl", `string "/hook"`},
		{full, "%%values.admin_ids", `array ["u1","u2"]`},
		{full, "%%values.limit", "32-bit integer 10"},
		{full, "%%values.cfg.on", "boolean true"},
		{full, "%%values", `embedded document {"admin_ids":["u1","u2"],"limit":10,"cfg":{"on":true}}`},
		{full, "%%environment.tag", `string "production"`},
		{full, "%%environment.values.baseUrl", `string "https://x"`},
		{full, "%%partition", `string "team-red"`},
		{full, "%%args.from", `string "+15558675309"`},
		{full, "%%args.body.userId", `string "u1"`},
		{full, "%%args.someNumber", "32-bit integer 7"},
		{full, "%%args.absent", "missing"},
		// The claims layout of an access token.
		{Inputs{User: claims}, "%%user.id", `string "5f8d0d55b54764421b7156c9"`},
		{Inputs{User: claims}, "%%user.type", `string "server"`},
		{Inputs{User: claims}, "%%user.data.email", `string "srv@example.com"`},
		{Inputs{User: claims}, "%%user.custom_data.teamIds", `array ["green"]`},
		{Inputs{User: claims}, "%%user.custom_data.admin", "boolean false"},
		{Inputs{User: claims}, "%%user.identities.0.providerType", `string "api-key"`},
		{Inputs{User: claims}, "%%user", `embedded document {"id":"5f8d0d55b54764421b7156c9","type":"server","data":{"email":"srv@example.com"},"custom_data":{"teamIds":["green"],"admin":false},"identities":[{"id":"key1","providerType":"api-key"}]}`},
		// Nothing given: every request expansion is missing (fail closed).
		{Inputs{}, "%%user", "missing"},
		{Inputs{}, "%%user.id", "missing"},
		{Inputs{}, "%%user.custom_data.admin", "missing"},
		{Inputs{}, "%%request.remoteIPAddress", "missing"},
		{Inputs{}, "%%values.admin_ids", "missing"},
		{Inputs{}, "%%environment.tag", "missing"},
		{Inputs{}, "%%partition", "missing"},
		{Inputs{}, "%%args.from", "missing"},
		{Inputs{}, "%%true", "boolean true"},
		// A user object without custom_data has no custom data.
		{Inputs{User: mustUser(t, NewUserObject, `{"id": "x"}`)}, "%%user.custom_data.admin", "missing"},
		{Inputs{User: mustUser(t, NewUserObject, `{"id": "x"}`)}, "%%user.custom_data", "missing"},
	} {
		ref, err := Parse(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		v, err := tc.in.Resolve(ref)
		if err != nil {
			t.Errorf("Resolve(%s): %v", tc.ref, err)
			continue
		}
		if got := show(v); got != tc.want {
			t.Errorf("Resolve(%s) = %s, want %s", tc.ref, got, tc.want)
		}
	}
	for _, s := range []string{"%%root", "%%root.a", "%%prevRoot", "%%this", "%%prev"} {
		ref, _ := Parse(s)
		if _, err := full.Resolve(ref); !errors.Is(err, ErrDocumentPhase) {
			t.Errorf("Resolve(%s) = %v, want ErrDocumentPhase", s, err)
		}
	}
	if _, err := full.Resolve(Ref{Root: 99}); err == nil {
		t.Error("Resolve of an unknown root must fail")
	}
}

// TestResolveLiteralKeys checks that path segments are looked up literally,
// whatever characters gjson gives meaning to.
func TestResolveLiteralKeys(t *testing.T) {
	keys := []string{"*", "?x", "a|b", "#", "@this", "!x", "=", "<", ">", "%", `"q`, "{a}", "[0]", "a,b", `\`, "x:y", "~", " sp", "é"}
	var b strings.Builder
	b.WriteString(`{"custom_data": {`)
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kj, _ := bson.MarshalExtJSON(bson.D{{Key: "k", Value: k}}, false, false)
		key := gjson.GetBytes(kj, "k").Raw
		b.WriteString(key + `: ` + key)
	}
	b.WriteString(`}}`)
	u := mustUser(t, NewUserObject, b.String())
	in := Inputs{User: u, Values: []byte(`{"custom_data": ` + b.String()[len(`{"custom_data": `):] + `}`)}
	for _, k := range keys {
		ref := Ref{Root: RootUser, Path: []string{"custom_data", k}}
		v, err := in.Resolve(ref)
		if s, ok := v.StringOK(); err != nil || !ok || s != k {
			t.Errorf("%%%%user.custom_data[%q] = %v, %v", k, show(v), err)
		}
		ref = Ref{Root: RootValues, Path: []string{"custom_data", k}}
		v, err = in.Resolve(ref)
		if s, ok := v.StringOK(); err != nil || !ok || s != k {
			t.Errorf("%%%%values.custom_data[%q] = %v, %v", k, show(v), err)
		}
	}
}

func TestNewUser(t *testing.T) {
	for _, raw := range []string{``, `[]`, `"x"`, `{`, `null`, `{"a":1}x`} {
		if _, err := NewUserObject([]byte(raw)); !errors.Is(err, ErrUserJSON) {
			t.Errorf("NewUserObject(%q) = %v, want ErrUserJSON", raw, err)
		}
		if _, err := NewUserClaims([]byte(raw)); !errors.Is(err, ErrUserJSON) {
			t.Errorf("NewUserClaims(%q) = %v, want ErrUserJSON", raw, err)
		}
	}
	u := mustUser(t, NewUserClaims, userClaims)
	if u.layout != layoutClaims || string(u.raw) != userClaims || u.IsZero() {
		t.Errorf("claims user: layout %v zero %v", u.layout, u.IsZero())
	}
	if !(User{}).IsZero() {
		t.Error("the zero User is zero")
	}
	if v, err := u.Lookup("exp"); err != nil || !v.IsMissing() {
		t.Error("only the documented user fields resolve; exp is a token claim")
	}
	if v, err := u.Lookup(); err != nil || !v.IsMissing() {
		t.Error("an empty path resolves nothing")
	}
}

func TestInputsValidate(t *testing.T) {
	for _, tc := range []struct {
		in   Inputs
		fail bool
	}{
		{Inputs{}, false},
		{Inputs{Request: []byte(`{"a":1}`), Values: []byte(`{}`), Environment: []byte(`{"tag":"x"}`), Partition: []byte(`5`), Args: []byte(`[1]`)}, false},
		{Inputs{Request: []byte(`[1]`)}, true},
		{Inputs{Values: []byte(`{`)}, true},
		{Inputs{Environment: []byte(`"x"`)}, true},
		{Inputs{Partition: []byte(`nope`)}, true},
		{Inputs{Args: []byte(`{"a":}`)}, true},
	} {
		if err := tc.in.Validate(); (err != nil) != tc.fail {
			t.Errorf("Validate(%+v) = %v, want failure %v", tc.in, err, tc.fail)
		}
	}
}

func TestFromGJSONValues(t *testing.T) {
	for _, tc := range []struct {
		json, want string
	}{
		{`null`, "null null"}, {`true`, "boolean true"}, {`false`, "boolean false"},
		{`"s"`, `string "s"`}, {`1`, "32-bit integer 1"}, {`-2147483648`, "32-bit integer -2147483648"},
		{`2147483648`, "64-bit integer 2147483648"}, {`1.5`, "double 1.5"}, {`1e3`, "double 1000.0"},
		{`99999999999999999999`, "double 1E+20"}, {`[1,"a"]`, `array [1,"a"]`},
		{`{"$date": "2020-01-01T00:00:00Z"}`, `UTC datetime {"$date":"2020-01-01T00:00:00Z"}`},
	} {
		v, err := fromGJSON(gjson.Parse(tc.json))
		if err != nil {
			t.Errorf("fromGJSON(%s): %v", tc.json, err)
			continue
		}
		if got := show(v); got != tc.want {
			t.Errorf("fromGJSON(%s) = %s, want %s", tc.json, got, tc.want)
		}
	}
}
