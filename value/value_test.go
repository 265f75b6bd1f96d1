package value

import (
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// j parses extended JSON or fails the test.
func j(t testing.TB, s string) Value {
	t.Helper()
	v, err := FromExtJSON([]byte(s))
	if err != nil {
		t.Fatalf("FromExtJSON(%s): %v", s, err)
	}
	return v
}

func dec128(t testing.TB, s string) Value {
	t.Helper()
	d, err := bson.ParseDecimal128(s)
	if err != nil {
		t.Fatal(err)
	}
	return decimal128(d)
}

func rawDoc(t testing.TB, s string) bson.Raw {
	t.Helper()
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &r); err != nil {
		t.Fatalf("UnmarshalExtJSON(%s): %v", s, err)
	}
	return r
}

func TestCompare(t *testing.T) {
	oid := bson.ObjectID{0x65, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	ordered := [][]Value{ // each group sorts strictly before the next; values in a group are equal
		{minKey()},
		{j(t, `{"$undefined":true}`)},
		{Null()},
		{Double(math.NaN()), dec128(t, "NaN")},
		{Double(math.Inf(-1)), dec128(t, "-Infinity")},
		{Int64(math.MinInt64), Double(-0x1p63)},
		{Int32(-1), Double(-1), dec128(t, "-1.000")},
		{Double(-0.5), dec128(t, "-0.5")},
		{Int32(0), Double(0), Double(math.Copysign(0, -1)), dec128(t, "0"), dec128(t, "-0"), dec128(t, "0E+10")},
		{dec128(t, "0.1")},
		{Double(0.1)}, // the double 0.1 is 0.1000000000000000055511151231257827...
		{Int32(1), Int64(1), Double(1), dec128(t, "1"), dec128(t, "1.0"), dec128(t, "10E-1")},
		{Double(1.5), dec128(t, "1.5")},
		{Int64(1<<53 + 1)},
		{Double(1<<53 + 2), Int64(1<<53 + 2)},
		{Int64(math.MaxInt64 - 1)},
		{Int64(math.MaxInt64), dec128(t, "9223372036854775807")},
		{Double(0x1p63), dec128(t, "9223372036854775808")},
		{dec128(t, "1E+400")},
		{Double(math.Inf(1)), dec128(t, "Infinity")},
		{String("")},
		{String("A"), j(t, `{"$symbol":"A"}`)},
		{String("a")},
		{String("a\x00")},
		{String("ab")},
		{String("b")},
		{j(t, `{}`)},
		{j(t, `{"a":null}`)},
		{j(t, `{"a":1}`), j(t, `{"a":1.0}`)},
		{j(t, `{"a":1,"b":1}`)},
		{j(t, `{"b":1}`)},
		{j(t, `{"b":1,"a":1}`)},
		{j(t, `{"a":"x"}`)}, // the type class of a field's value counts before its name
		{j(t, `[]`)},
		{j(t, `[1]`), j(t, `[{"$numberLong":"1"}]`)},
		{j(t, `[1,2]`)},
		{j(t, `[2]`)},
		{j(t, `[[1]]`)},
		{binData(5, []byte("zz"))},
		{binData(0, []byte("aaa"))},
		{binData(0, []byte("aab"))},
		{ObjectID(oid)},
		{ObjectID(bson.ObjectID{0x66})},
		{Bool(false)},
		{Bool(true)},
		{dateTime(-1)},
		{dateTime(0), j(t, `{"$date":"1970-01-01T00:00:00Z"}`)},
		{dateTime(1700000000000)},
		{timestamp(1, 5)},
		{timestamp(2, 0)},
		{Regex("a", "")},
		{Regex("a", "i")},
		{Regex("b", "")},
		{maxKey()},
	}
	for gi, g := range ordered {
		for _, a := range g {
			for hi, h := range ordered {
				for _, b := range h {
					want := cmpInt(gi, hi)
					if got := Compare(a, b); got != want {
						t.Errorf("Compare(%v %v, %v %v) = %d, want %d", a.Type, a, b.Type, b, got, want)
					}
					if got := Equal(a, b); got != (want == 0) {
						t.Errorf("Equal(%v, %v) = %v", a, b, got)
					}
					ka, kb := string(Key(nil, a)), string(Key(nil, b))
					if (ka == kb) != (want == 0) {
						t.Errorf("Key(%v)==Key(%v) is %v, want %v", a, b, ka == kb, want == 0)
					}
				}
			}
		}
	}
}

func TestEqualMissing(t *testing.T) {
	if Equal(Value{}, Value{}) {
		t.Error("Missing equals Missing")
	}
	if Equal(Value{}, Null()) || Equal(Null(), Value{}) {
		t.Error("Missing equals null")
	}
	if Compare(Value{}, minKey()) >= 0 {
		t.Error("Missing does not sort first")
	}
	if !Equal(Null(), Null()) {
		t.Error("null != null")
	}
}

func TestObjectIDVersusHex(t *testing.T) {
	id := bson.NewObjectID()
	if Equal(ObjectID(id), String(id.Hex())) {
		t.Error("ObjectId equals its hex string")
	}
	if NewSet(String(id.Hex())).Has(ObjectID(id)) {
		t.Error("set of hex string has the ObjectId")
	}
	if !Equal(ObjectID(id), j(t, `{"$oid":"`+id.Hex()+`"}`)) {
		t.Error("ObjectId from extended JSON differs")
	}
}

func TestConstructorsAndAccessors(t *testing.T) {
	if s, ok := String("héllo").StringOK(); !ok || s != "héllo" {
		t.Errorf("StringOK = %q, %v", s, ok)
	}
	if _, ok := Int32(1).StringOK(); ok {
		t.Error("Int32.StringOK ok")
	}
	if i, ok := Int32(-7).Int32OK(); !ok || i != -7 {
		t.Error("Int32OK")
	}
	if i, ok := Int64(-7).Int64OK(); !ok || i != -7 {
		t.Error("Int64OK")
	}
	if f, ok := Double(2.5).DoubleOK(); !ok || f != 2.5 {
		t.Error("DoubleOK")
	}
	if b, ok := Bool(true).BoolOK(); !ok || !b {
		t.Error("BoolOK")
	}
	if ms, ok := dateTime(42).DateTimeOK(); !ok || ms != 42 {
		t.Error("DateTimeOK")
	}
	for _, c := range []struct {
		v    Value
		want int64
		ok   bool
	}{
		{Int32(3), 3, true}, {Double(3), 3, true}, {Double(3.5), 0, false}, {dec128(t, "3.00"), 3, true},
		{dec128(t, "-9223372036854775808"), math.MinInt64, true}, {dec128(t, "9223372036854775808"), 0, false},
		{String("3"), 0, false}, {Double(math.NaN()), 0, false},
	} {
		if got, ok := c.v.IntOK(); got != c.want || ok != c.ok {
			t.Errorf("%v.IntOK() = %d, %v", c.v, got, ok)
		}
	}
	if !Null().IsNull() || Null().IsMissing() || !Missing().IsMissing() || Missing().IsNull() {
		t.Error("null/missing predicates")
	}
	if !j(t, `[1]`).IsArray() || !j(t, `{}`).IsDocument() || !dec128(t, "1").IsNumber() || String("1").IsNumber() {
		t.Error("kind predicates")
	}
	rv := Int32(5).RawValue()
	if !Equal(FromRaw(rv), Int32(5)) || rv.Int32() != 5 {
		t.Error("RawValue round trip")
	}
	if n := j(t, `{"a":1,"b":2}`).Len(); n != 2 {
		t.Errorf("Len = %d", n)
	}
	if e := j(t, `[1,"x"]`).Index(1); !Equal(e, String("x")) {
		t.Errorf("Index(1) = %v", e)
	}
	if e := j(t, `[1]`).Index(3); !e.IsMissing() {
		t.Errorf("Index(3) = %v", e)
	}
}

func TestFromGo(t *testing.T) {
	for _, c := range []struct {
		in   any
		want string
	}{
		{map[string]any{"a": int32(1)}, `{"a":1}`},
		{bson.D{{Key: "b", Value: "x"}, {Key: "a", Value: true}}, `{"b":"x","a":true}`},
		{[]any{1, "x", nil}, `[1,"x",null]`},
		{nil, `null`},
		{"s", `"s"`},
		{int64(1) << 40, `1099511627776`},
		{2.5, `2.5`},
	} {
		v, err := FromGo(c.in)
		if err != nil {
			t.Errorf("FromGo(%#v): %v", c.in, err)
			continue
		}
		if got := v.ExtJSON(); got != c.want {
			t.Errorf("FromGo(%#v).ExtJSON() = %s, want %s", c.in, got, c.want)
		}
	}
	if _, err := FromGo(make(chan int)); err == nil {
		t.Error("FromGo(chan) succeeded")
	}
}

func TestExtJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`1`, `1`},
		{`{"$numberLong":"5"}`, `5`},
		{`3000000000`, `3000000000`},
		{`1.5`, `1.5`},
		{`"x"`, `"x"`},
		{`null`, `null`},
		{`[1,{"a":[true]}]`, `[1,{"a":[true]}]`},
		{`{"$oid":"650102030405060708090a0b"}`, `{"$oid":"650102030405060708090a0b"}`},
		{`{"$date":{"$numberLong":"0"}}`, `{"$date":"1970-01-01T00:00:00Z"}`},
		{`{"$numberDecimal":"1.10"}`, `{"$numberDecimal":"1.10"}`},
	} {
		v := j(t, c.in)
		if got := v.ExtJSON(); got != c.want {
			t.Errorf("ExtJSON(%s) = %s, want %s", c.in, got, c.want)
		}
	}
	if got := (Value{}).ExtJSON(); got != "missing" {
		t.Errorf("Missing.ExtJSON() = %s", got)
	}
	if i, ok := j(t, `3000000000`).Int64OK(); !ok || i != 3000000000 {
		t.Error("large JSON integer is not int64")
	}
	if _, ok := j(t, `7`).Int32OK(); !ok {
		t.Error("small JSON integer is not int32")
	}
	for _, bad := range []string{``, `{`, `1 2`, `{"$oid":"zz"}`} {
		if v, err := FromExtJSON([]byte(bad)); err == nil {
			t.Errorf("FromExtJSON(%q) = %v, want error", bad, v)
		}
	}
}

func TestSet(t *testing.T) {
	s := NewSet(Int32(1), Int64(1), Double(1), String("a"), Null(), Value{}, j(t, `[1,2]`), j(t, `{"x":1}`))
	if len(s.m) != 5 {
		t.Errorf("%d distinct values, want 5", len(s.m))
	}
	if !s.HasNull() {
		t.Error("HasNull false")
	}
	for _, v := range []Value{dec128(t, "1.0"), Double(1), String("a"), Null(), j(t, `[1.0,2]`), j(t, `{"x":1.0}`)} {
		if !s.Has(v) {
			t.Errorf("Has(%v) false", v)
		}
	}
	for _, v := range []Value{Value{}, String("A"), Double(1.0000001), j(t, `[2,1]`), j(t, `{"x":1,"y":1}`), j(t, `{"$symbol":"b"}`)} {
		if s.Has(v) {
			t.Errorf("Has(%v) true", v)
		}
	}
	var zero Set
	if zero.Has(Int32(1)) || len(zero.m) != 0 || zero.HasNull() {
		t.Error("zero Set not empty")
	}
	long := String(string(make([]byte, 200)))
	if !NewSet(long).Has(long) {
		t.Error("long key")
	}
}

func TestMalformed(t *testing.T) {
	// Truncated or corrupt encodings must never panic.
	for _, v := range []Value{
		{Type: bson.TypeString, Data: []byte{5, 0}},
		{Type: bson.TypeString, Data: []byte{255, 255, 255, 127, 'a'}},
		{Type: bson.TypeEmbeddedDocument, Data: []byte{200, 0, 0, 0, 2, 'a', 0}},
		{Type: bson.TypeEmbeddedDocument, Data: []byte{12, 0, 0, 0, 2, 'a', 0, 255, 255, 255, 255, 0}},
		{Type: bson.TypeArray, Data: []byte{9, 0, 0, 0, 0x10, '0', 0, 1, 0}},
		{Type: bson.TypeBinary, Data: []byte{1}},
		{Type: bson.TypeDecimal128, Data: []byte{1}},
		{Type: bson.TypeDouble},
		{Type: bson.TypeCodeWithScope, Data: []byte{1, 2, 3}},
		{Type: 0x42, Data: []byte{1}},
	} {
		for _, w := range []Value{v, Int32(1), String("a"), j(t, `{"a":1}`)} {
			Compare(v, w)
			Compare(w, v)
			Equal(v, w)
		}
		Key(nil, v)
		v.Field("a")
		v.Len()
		v.Each(func(int, Value) bool { return false })
		_ = v.ExtJSON()
		MatchEq(v, nil, Int32(1))
		MatchEq(v, Path{"a", "0"}, Int32(1))
	}
}

// FuzzUUIDString: %stringToUuid and %uuidToString are inverse on UUIDs,
// and %stringToUuid accepts exactly the hyphenated 8-4-4-4-12 hex form.
func FuzzUUIDString(f *testing.F) {
	f.Add("3b241101-e2bb-4255-8caf-4136c566a962")
	f.Add("3B241101-E2BB-4255-8CAF-4136C566A962")
	f.Add("3b241101e2bb42558caf4136c566a962")
	f.Add("3b241101-e2bb-4255-8caf-4136c566a96g")
	f.Fuzz(func(t *testing.T, s string) {
		u := StringToUUID(String(s))
		if u.IsMissing() {
			if _, err := uuidParse(s); err == nil {
				t.Fatalf("%q refused, but it is a canonical UUID", s)
			}
			return
		}
		if _, err := uuidParse(s); err != nil {
			t.Fatalf("%q accepted: %v", s, err)
		}
		back, _ := UUIDToString(u).StringOK()
		if back != strings.ToLower(s) {
			t.Fatalf("%q -> %q", s, back)
		}
		if again := StringToUUID(u); !Equal(again, u) {
			t.Fatalf("a UUID is not returned as is")
		}
	})
}

// uuidParse is a reference parser of the canonical UUID form.
func uuidParse(s string) ([]byte, error) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, errors.New("not 8-4-4-4-12")
	}
	b, err := hex.DecodeString(strings.ReplaceAll(s, "-", ""))
	if err == nil && len(b) != 16 {
		err = errors.New("not 16 bytes")
	}
	return b, err
}
