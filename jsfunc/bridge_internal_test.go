package jsfunc

import (
	"context"
	"strconv"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// testCall is a call with its globals installed, outside any function.
func testCall(t testing.TB) *call {
	t.Helper()
	fs, err := Load(&rules.App{})
	if err != nil {
		t.Fatal(err)
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(maxCallStack)
	cl := &call{fs: fs, f: &function{js: &rules.JSFunction{Name: "test"}}, ctx: context.Background(), rt: rt, br: newBridge(rt, DefaultMaxResultBytes)}
	if err := cl.install(); err != nil {
		t.Fatal(err)
	}
	return cl
}

func ext(t testing.TB, s string) value.Value {
	t.Helper()
	v, err := value.FromExtJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBridgeTypes: every BSON type, as a function sees it and as it comes
// back.
func TestBridgeTypes(t *testing.T) {
	cases := []struct {
		in   string // canonical Extended JSON
		js   string // what the function sees: typeof, class, and its string
		back string // canonical Extended JSON after the round trip
	}{
		{`{"$numberDouble": "1.5"}`, "number 1.5", ""},
		{`{"$numberDouble": "2.0"}`, "number 2", `{"$numberLong":"2"}`},
		{`{"$numberDouble": "-0.0"}`, "number 0", ""},
		{`{"$numberDouble": "Infinity"}`, "number Infinity", ""},
		{`"héllo"`, "string héllo", ""},
		{`{"a": {"$numberInt": "1"}, "z": null, "b": true}`, "object [object Object]", `{"a":{"$numberLong":"1"},"z":null,"b":true}`},
		{`[{"$numberInt": "1"}, "x"]`, "object 1,x", `[{"$numberLong":"1"},"x"]`},
		{`{"$binary": {"base64": "AP8=", "subType": "04"}}`, "object Binary", ""},
		{`{"$oid": "5e58667d902d38559c802b13"}`, "object ObjectId", ""},
		{`true`, "boolean true", ""},
		{`{"$date": {"$numberLong": "86400000"}}`, "object Date", ""},
		{`{"$date": {"$numberLong": "9000000000000000"}}`, "object BSONValue", ""},
		{`null`, "object null", ""},
		{`{"$regularExpression": {"pattern": "a.c", "options": "ix"}}`, "object BSONRegExp", ""},
		{`{"$code": "function() {}"}`, "object BSONValue", ""},
		{`{"$symbol": "sym"}`, "object BSONValue", ""},
		{`{"$code": "x", "$scope": {"a": 1}}`, "object BSONValue", `{"$code":"x","$scope":{"a":{"$numberInt":"1"}}}`},
		{`{"$dbPointer": {"$ref": "c", "$id": {"$oid": "5e58667d902d38559c802b13"}}}`, "object BSONValue", ""},
		{`{"$numberInt": "-7"}`, "number -7", `{"$numberLong":"-7"}`},
		{`{"$timestamp": {"t": 5, "i": 6}}`, "object Timestamp", ""},
		{`{"$numberLong": "42"}`, "number 42", ""},
		{`{"$numberLong": "9007199254740993"}`, "object Long", ""},
		{`{"$numberDecimal": "1.10"}`, "object Decimal128", ""},
		{`{"$minKey": 1}`, "object MinKey", ""},
		{`{"$maxKey": 1}`, "object MaxKey", ""},
		{`{"__proto__": {"$numberInt": "1"}}`, "object [object Object]", `{"__proto__":{"$numberLong":"1"}}`},
	}
	cl := testCall(t)
	describe, err := cl.rt.RunString(`(v) => typeof v + " " + (v === null ? "null" : v instanceof Date ? "Date" : v && v._bsontype && !(v instanceof BSON.ObjectId && false) ? v._bsontype : String(v))`)
	if err != nil {
		t.Fatal(err)
	}
	fn, _ := goja.AssertFunction(describe)
	for _, c := range cases {
		in := ext(t, c.in)
		jv := cl.br.toJS(in)
		got, err := fn(goja.Undefined(), jv)
		if err != nil {
			t.Fatal(err)
		}
		if got.String() != c.js {
			t.Errorf("%s: the function sees %q, want %q", c.in, got, c.js)
		}
		back, err := cl.br.fromJS(jv)
		if err != nil {
			t.Errorf("%s: back: %v", c.in, err)
			continue
		}
		want := c.back
		if want == "" {
			want, _ = extJSON(in, true)
		}
		if s, _ := extJSON(back, true); s != want {
			t.Errorf("%s: back as %s, want %s", c.in, s, want)
		}
	}
	// BSON undefined reads as undefined, which has no BSON form inside a
	// document.
	if jv := cl.br.toJS(ext(t, `{"u": {"$undefined": true}}`)); true {
		if _, err := cl.br.fromJS(jv); err == nil {
			t.Error("undefined inside a document converted back")
		}
	}
}

// bridgeSeeds are documents with every BSON type.
var bridgeSeeds = []string{
	`{"d": 1.5, "s": "x", "o": {"a": [1, 2]}, "b": {"$binary": {"base64": "AP8=", "subType": "00"}}, "id": {"$oid": "5e58667d902d38559c802b13"},
	  "t": true, "dt": {"$date": "2020-01-01T00:00:00Z"}, "n": null, "re": {"$regularExpression": {"pattern": "a", "options": "i"}},
	  "js": {"$code": "f"}, "i": {"$numberInt": "3"}, "ts": {"$timestamp": {"t": 1, "i": 2}}, "l": {"$numberLong": "-9007199254740995"},
	  "dec": {"$numberDecimal": "NaN"}, "min": {"$minKey": 1}, "max": {"$maxKey": 1}}`,
	`{"a": {"b": {"c": {"d": []}}}}`,
	`{"": "", "x.y": {"$numberDouble": "-Infinity"}}`,
}

// roundTrippable reports whether a document converts to JavaScript and
// back without the changes JavaScript itself makes: integer-like keys
// (which JavaScript objects order first), duplicate keys, invalid UTF-8,
// BSON undefined.
func roundTrippable(raw bson.Raw) bool {
	elems, err := raw.Elements()
	if err != nil {
		return false
	}
	seen := map[string]bool{}
	for _, e := range elems {
		k := e.Key()
		if _, err := strconv.ParseUint(k, 10, 32); err == nil || seen[k] || !utf8.ValidString(k) {
			return false
		}
		seen[k] = true
		v := e.Value()
		switch v.Type {
		case bson.TypeUndefined:
			return false
		case bson.TypeString:
			if !utf8.ValidString(v.StringValue()) {
				return false
			}
		case bson.TypeEmbeddedDocument:
			if !roundTrippable(v.Document()) {
				return false
			}
		case bson.TypeArray:
			vals, err := v.Array().Values()
			if err != nil {
				return false
			}
			for _, x := range vals {
				d, _ := bson.Marshal(bson.D{{Key: "x", Value: x}})
				if !roundTrippable(d) {
					return false
				}
			}
		case bson.TypeRegex:
			p, o := v.Regex()
			if !utf8.ValidString(p) || !utf8.ValidString(o) {
				return false
			}
		}
	}
	return true
}

// FuzzJSBridgeBSON: any BSON document becomes a JavaScript value without
// panicking, and comes back equal (in the BSON order, which compares
// numbers by value) unless JavaScript itself changes it.
func FuzzJSBridgeBSON(f *testing.F) {
	for _, s := range bridgeSeeds {
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &raw); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(raw))
	}
	cl := testCall(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		raw := bson.Raw(data)
		if raw.Validate() != nil {
			return
		}
		// Validate checks the structure, not every value's encoding (a
		// string whose last byte is not NUL passes it): a document the
		// driver cannot read whole is not a BSON document, and no server
		// sends one.
		if _, err := bson.MarshalExtJSON(raw, true, false); err != nil {
			return
		}
		in := value.FromDocument(raw)
		var jv goja.Value
		if ex := cl.rt.Try(func() { jv = cl.br.toJS(in) }); ex != nil {
			return // nested deeper than the bridge converts
		}
		back, err := cl.br.fromJS(jv)
		if !roundTrippable(raw) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", in.ExtJSON(), err)
		}
		if value.Compare(in, back) != 0 {
			t.Fatalf("round trip changed\n%s\n%s", in.ExtJSON(), back.ExtJSON())
		}
	})
}

// FuzzJSBridgeJS: any JavaScript value converts to BSON or fails with an
// error, never a panic, and its BSON converts to the same BSON again.
func FuzzJSBridgeJS(f *testing.F) {
	for _, s := range []string{
		`({a: 1, b: [1.5, "x", null, true], c: new Date(0)})`,
		`[new BSON.ObjectId(), BSON.Decimal128.fromString("1"), BSON.Long(1, 2), BSON.Int32(1), BSON.Double(1), BSON.MinKey, BSON.MaxKey]`,
		`({r: /a/gim, b: BSON.Binary.fromBase64("AA=="), t: new BSON.Timestamp({t: 1, i: 1}), re: BSON.BSONRegExp("x", "s")})`,
		`(() => { const o = {}; o.o = o; return o })()`,
		`({get x() { throw new Error("g") }})`,
		`[Symbol(), 1n, () => 1, undefined]`,
		`new Number(3)`, `new String("s")`, `({"1": 1, "a": 2})`, `"\ud800"`,
	} {
		f.Add(s)
	}
	cl := testCall(f)
	f.Fuzz(func(t *testing.T, src string) {
		timer := time.AfterFunc(200*time.Millisecond, func() { cl.rt.Interrupt("fuzz timeout") })
		defer func() {
			timer.Stop()
			cl.rt.ClearInterrupt()
		}()
		v, err := cl.rt.RunString(src)
		if err != nil {
			return
		}
		var out value.Value
		if ex := cl.rt.Try(func() { out, err = cl.br.fromJS(v) }); ex != nil || err != nil || out.IsMissing() {
			return
		}
		again, err := cl.br.fromJS(cl.br.toJS(out))
		if err != nil {
			t.Fatalf("%s: %s does not convert back: %v", src, out.ExtJSON(), err)
		}
		if value.Compare(out, again) != 0 {
			t.Fatalf("%s: %s then %s", src, out.ExtJSON(), again.ExtJSON())
		}
	})
}
