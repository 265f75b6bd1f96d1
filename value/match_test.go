package value

import (
	"math"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// candidates lists the candidates of Each at path; the path "." stands
// for the empty Path (the value itself), "" for the field named "".
func candidates(t *testing.T, doc Value, path string) string {
	t.Helper()
	var out []string
	p := ParsePath(path)
	if path == "." {
		p = nil
	}
	Each(doc, p, func(v Value) bool {
		out = append(out, v.ExtJSON())
		return false
	})
	return strings.Join(out, " ")
}

func TestEach(t *testing.T) {
	for _, c := range []struct{ doc, path, want string }{
		{`{"a":1}`, "a", `1`},
		{`{"a":1}`, "b", `missing`},
		{`{"a":1}`, "a.b", `missing`},
		{`{"a":null}`, "a", `null`},
		{`{"a":{"b":2}}`, "a.b", `2`},
		{`{"a":[1,2]}`, "a", `1 2 [1,2]`},
		{`{"a":[]}`, "a", `[]`},
		{`{"a":[[1,2],3]}`, "a", `[1,2] 3 [[1,2],3]`},
		{`{"a":[{"b":1},{"b":[2,3]},{"c":4},5,[{"b":6}]]}`, "a.b", `1 2 3 [2,3] missing`},
		{`{"a":[1,2]}`, "a.b", ``},
		{`{"a":[]}`, "a.b", ``},
		{`{"a":[5,6]}`, "a.0", `5`},
		{`{"a":[5,6]}`, "a.1", `6`},
		{`{"a":[5,6]}`, "a.2", ``},
		{`{"a":[5,6]}`, "a.01", ``},
		{`{"a":[[1,2],3]}`, "a.0", `[1,2]`},
		{`{"a":[{"0":"x"},{"0":"y"}]}`, "a.0", `"x" {"0":"x"} "y"`},
		{`{"a":[{"b":1},{"b":2}]}`, "a.1.b", `missing missing 2`},
		{`{"a":{"0":"z"}}`, "a.0", `"z"`},
		{`{"a":[{"b":[{"c":1},{"c":2}]}]}`, "a.b.c", `1 2`},
		{`{"a":[[{"b":1}]]}`, "a.0.b", `1`},
		{`{"a.b":1}`, "a.b", `missing`},
		{`{"a":1}`, ".", `{"a":1}`},
		{`{"a":1}`, "", `missing`},
		{`{"":1}`, "", `1`},
	} {
		got := candidates(t, FromDocument(rawDoc(t, c.doc)), c.path)
		if got != c.want {
			t.Errorf("Each(%s, %q) = %s, want %s", c.doc, c.path, got, c.want)
		}
	}
}

// TestEachValue checks Each over values that are not documents: v is
// the value at the empty path, reached by a field name, as the field "v"
// of {"v": v}.
func TestEachValue(t *testing.T) {
	for _, c := range []struct{ v, path string }{
		{`[1,[2]]`, "."},
		{`5`, "."},
		{`[{"b":1},{"b":[2]},3]`, "b"},
		{`[[{"b":1}],{"0":4}]`, "0.b"},
		{`[5,6]`, "1"},
		{`"x"`, "a"},
		{`{"$minKey":1}`, "a.b"},
	} {
		v := j(t, c.v)
		got := candidates(t, v, c.path)
		want := candidates(t, FromDocument(rawDoc(t, `{"v":`+c.v+`}`)), "v."+c.path)
		if c.path == "." {
			want = candidates(t, FromDocument(rawDoc(t, `{"v":`+c.v+`}`)), "v")
		}
		if got != want {
			t.Errorf("Each(%s, %q) = %s, want %s (as {v: ...})", c.v, c.path, got, want)
		}
	}
	if got := candidates(t, Value{}, "."); got != "missing" {
		t.Errorf("Each(Missing, \"\") = %s, want missing", got)
	}
}

func TestEachStops(t *testing.T) {
	doc := FromDocument(rawDoc(t, `{"a":[1,2,3]}`))
	n := 0
	if !Each(doc, Path{"a"}, func(v Value) bool { n++; return Equal(v, Int32(2)) }) || n != 2 {
		t.Errorf("Each did not stop at 2 (n=%d)", n)
	}
	if Each(doc, Path{"a"}, func(Value) bool { return false }) {
		t.Error("Each reported true")
	}
}

func TestResolve(t *testing.T) {
	doc := FromDocument(rawDoc(t, `{"a":{"b":[{"c":1},{"c":2}]},"x":[1]}`))
	for _, c := range []struct{ path, want string }{
		{"a.b.1.c", `2`},
		{"a.b", `[{"c":1},{"c":2}]`},
		{"a.b.c", `missing`},
		{"x.0", `1`},
		{"x.0.y", `missing`},
		{"q", `missing`},
		{"", `missing`},
	} {
		if got := Resolve(doc, ParsePath(c.path)).ExtJSON(); got != c.want {
			t.Errorf("Resolve(%q) = %s, want %s", c.path, got, c.want)
		}
	}
	if got := Resolve(doc, nil).ExtJSON(); got != `{"a":{"b":[{"c":1},{"c":2}]},"x":[1]}` {
		t.Errorf("Resolve(empty Path) = %s, want the document", got)
	}
}

func TestMatchEq(t *testing.T) {
	for _, c := range []struct {
		doc, path, v string
		want         bool
	}{
		{`{"a":1}`, "a", `1`, true},
		{`{"a":1}`, "a", `1.0`, true},
		{`{"a":{"$numberLong":"1"}}`, "a", `{"$numberDecimal":"1.00"}`, true},
		{`{"a":1}`, "a", `2`, false},
		{`{"a":1}`, "a", `"1"`, false},
		{`{"a":[1,2]}`, "a", `2`, true},
		{`{"a":[1,2]}`, "a", `[1,2]`, true},
		{`{"a":[1,2]}`, "a", `[2,1]`, false},
		{`{"a":[[1,2],3]}`, "a", `[1,2]`, true},
		{`{"a":[[1,2],3]}`, "a", `1`, false},
		{`{"a":null}`, "a", `null`, true},
		{`{}`, "a", `null`, true},
		{`{"a":{"$undefined":true}}`, "a", `null`, false},
		{`{"a":[1,null]}`, "a", `null`, true},
		{`{"a":[1,2]}`, "a", `null`, false},
		{`{"a":{"b":1}}`, "a.c", `null`, true},
		{`{"a":[{"b":1},{"c":1}]}`, "a.b", `null`, true},
		{`{"a":[{"b":1}]}`, "a.b", `null`, false},
		{`{"a":[1,2]}`, "a.b", `null`, false},
		{`{"a":"x"}`, "a.b", `null`, true},
		{`{"a":{"b":1,"c":2}}`, "a", `{"b":1,"c":2}`, true},
		{`{"a":{"b":1,"c":2}}`, "a", `{"c":2,"b":1}`, false},
		{`{"a":{"$oid":"650102030405060708090a0b"}}`, "a", `"650102030405060708090a0b"`, false},
		{`{"a":{"$oid":"650102030405060708090a0b"}}`, "a", `{"$oid":"650102030405060708090a0b"}`, true},
		{`{"a":{"$date":"2024-01-02T03:04:05.006Z"}}`, "a", `{"$date":{"$numberLong":"1704164645006"}}`, true},
		{`{"a":[{"b":[1,2]},{"b":3}]}`, "a.b", `2`, true},
		{`{"a":[{"b":[1,2]},{"b":3}]}`, "a.b", `[1,2]`, true},
		{`{"a":[5,6]}`, "a.1", `6`, true},
		{`{"a":[{"0":7}]}`, "a.0", `7`, true},
		{`{"a":{"$numberLong":"9007199254740993"}}`, "a", `9007199254740992.0`, false},
		{`{"a":{"$numberDouble":"NaN"}}`, "a", `{"$numberDecimal":"NaN"}`, true},
		{`{"a":-0.0}`, "a", `0`, true},
		{`{"a":"x"}`, "a", `"X"`, false},
	} {
		doc := FromDocument(rawDoc(t, c.doc))
		v := j(t, c.v)
		if got := MatchEq(doc, ParsePath(c.path), v); got != c.want {
			t.Errorf("MatchEq(%s, {%q: %s}) = %v, want %v", c.doc, c.path, c.v, got, c.want)
		}
		// The same through a document made by FromGo of a Go map and, at
		// the top level, with the empty path in the field's value.
		var m map[string]any
		if err := unmarshalExt(c.doc, &m); err == nil {
			gd, err := FromGo(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := MatchEq(gd, ParsePath(c.path), v); got != c.want {
				t.Errorf("MatchEq(FromGo %s, {%q: %s}) = %v, want %v", c.doc, c.path, c.v, got, c.want)
			}
		}
		if !strings.Contains(c.path, ".") {
			if got := MatchEq(doc.Field(c.path), nil, v); got != c.want {
				t.Errorf("MatchEq(%s.%s, nil, %s) = %v, want %v", c.doc, c.path, c.v, got, c.want)
			}
		}
	}
	if MatchEq(FromDocument(rawDoc(t, `{}`)), Path{"a"}, Value{}) {
		t.Error("MatchEq with a Missing operand matched")
	}
}

func TestMatchIn(t *testing.T) {
	set := NewSet(Int32(1), String("a"), j(t, `[1,2]`))
	withNull := NewSet(Int32(1), Null())
	for _, c := range []struct {
		doc, path string
		s         Set
		want      bool
	}{
		{`{"x":1.0}`, "x", set, true},
		{`{"x":"a"}`, "x", set, true},
		{`{"x":"b"}`, "x", set, false},
		{`{"x":[3,"a"]}`, "x", set, true},
		{`{"x":[1,2]}`, "x", set, true},
		{`{"x":[2,1]}`, "x", set, true}, // element 1
		{`{"x":[2,3]}`, "x", set, false},
		{`{}`, "x", set, false},
		{`{}`, "x", withNull, true},
		{`{"x":null}`, "x", withNull, true},
		{`{"x":[{"y":5},{"z":1}]}`, "x.y", withNull, true},
		{`{"x":2}`, "x", withNull, false},
		{`{"x":1}`, "x", Set{}, false},
	} {
		doc := FromDocument(rawDoc(t, c.doc))
		if got := MatchIn(doc, ParsePath(c.path), c.s, c.s.HasNull()); got != c.want {
			t.Errorf("MatchIn(%s, %q) = %v, want %v", c.doc, c.path, got, c.want)
		}
		if c.path == "x" {
			if got := MatchIn(doc.Field("x"), nil, c.s, c.s.HasNull()); got != c.want {
				t.Errorf("MatchIn(%s.x, nil) = %v, want %v", c.doc, got, c.want)
			}
		}
	}
}

func TestMatchExists(t *testing.T) {
	for _, c := range []struct {
		doc, path string
		want      bool
	}{
		{`{"a":null}`, "a", true},
		{`{}`, "a", false},
		{`{"a":[{"b":1},{"c":1}]}`, "a.b", true},
		{`{"a":[{"c":1}]}`, "a.b", false},
		{`{"a":[]}`, "a", true},
		{`{"a":[1]}`, "a.0", true},
		{`{"a":[1]}`, "a.1", false},
	} {
		doc := FromDocument(rawDoc(t, c.doc))
		if got := MatchExists(doc, ParsePath(c.path), true); got != c.want {
			t.Errorf("$exists:true on %s %q = %v", c.doc, c.path, got)
		}
		if got := MatchExists(doc, ParsePath(c.path), false); got == c.want {
			t.Errorf("$exists:false on %s %q = %v", c.doc, c.path, got)
		}
	}
}

func TestMatchCmp(t *testing.T) {
	for _, c := range []struct {
		doc  string
		op   CmpOp
		v    string
		want bool
	}{
		{`{"a":5}`, Gt, `4`, true},
		{`{"a":5}`, Gt, `5.0`, false},
		{`{"a":5}`, Gte, `{"$numberDecimal":"5"}`, true},
		{`{"a":5}`, Lt, `5.5`, true},
		{`{"a":5}`, Lte, `4`, false},
		{`{"a":"5"}`, Gt, `4`, false}, // type bracketing
		{`{"a":"b"}`, Gt, `"a"`, true},
		{`{"a":"B"}`, Gt, `"a"`, false},
		{`{"a":[1,10]}`, Gt, `5`, true},
		{`{"a":[1,10]}`, Lt, `5`, true},
		{`{"a":[6,10]}`, Lt, `5`, false},
		{`{"a":[1,2]}`, Gt, `[1]`, true},
		{`{"a":[1,2]}`, Gt, `[1,2]`, false},
		{`{"a":null}`, Gte, `null`, true},
		{`{}`, Lte, `null`, true},
		{`{}`, Gt, `null`, false},
		{`{"a":null}`, Lt, `null`, false},
		{`{"a":1}`, Gte, `null`, false},
		{`{}`, Gt, `0`, false},
		{`{"a":{"$numberLong":"9223372036854775807"}}`, Lt, `9223372036854775808.0`, true},
		{`{"a":{"$numberLong":"9007199254740993"}}`, Gt, `9007199254740992.0`, true},
		{`{"a":{"$numberDouble":"NaN"}}`, Lt, `0`, false},
		{`{"a":{"$numberDouble":"NaN"}}`, Gt, `0`, false},
		{`{"a":{"$numberDouble":"NaN"}}`, Gte, `{"$numberDouble":"NaN"}`, true},
		{`{"a":{"$numberDouble":"NaN"}}`, Gt, `{"$numberDouble":"NaN"}`, false},
		{`{"a":1}`, Gt, `{"$numberDouble":"NaN"}`, false},
		{`{"a":{"$date":"2024-01-02T00:00:00Z"}}`, Gt, `{"$date":"2024-01-01T00:00:00Z"}`, true},
		{`{"a":{"$date":"2024-01-02T00:00:00Z"}}`, Gt, `1`, false},
		{`{"a":"x"}`, Gt, `{"$minKey":1}`, true},
		{`{"a":"x"}`, Lt, `{"$maxKey":1}`, true},
		{`{"a":"x"}`, Lt, `{"$minKey":1}`, false},
		{`{}`, Gt, `{"$minKey":1}`, false},
		{`{"a":{"$oid":"650102030405060708090a0b"}}`, Gt, `{"$oid":"650102030405060708090a0a"}`, true},
		{`{"a":{"b":1}}`, Gt, `{"a":5}`, true},
	} {
		doc := FromDocument(rawDoc(t, c.doc))
		v := j(t, c.v)
		if got := MatchCmp(doc, Path{"a"}, c.op, v); got != c.want {
			t.Errorf("MatchCmp(%s, {a: {%v: %s}}) = %v, want %v", c.doc, c.op, c.v, got, c.want)
		}
		if got := MatchCmp(doc.Field("a"), nil, c.op, v); got != c.want {
			t.Errorf("MatchCmp(%s.a, nil, %v, %s) = %v, want %v", c.doc, c.op, c.v, got, c.want)
		}
	}
	if MatchCmp(FromDocument(rawDoc(t, `{"a":1}`)), Path{"a"}, Gt, Value{}) {
		t.Error("Missing operand matched")
	}
	if Gt.String() != "$gt" || Lte.String() != "$lte" || CmpOp(0).String() != "$invalid" {
		t.Error("CmpOp.String")
	}
	if Gt.Flip() != Lt || Gte.Flip() != Lte || Lt.Flip() != Gt || Lte.Flip() != Gte || CmpOp(0).Flip() != 0 {
		t.Error("CmpOp.Flip")
	}
}

// TestMatchEqEmptyPath checks MatchEq of a plain value, with the empty
// path: an array matches its elements, Missing matches only null.
func TestMatchEqEmptyPath(t *testing.T) {
	roles := j(t, `["admin","editor"]`)
	if !MatchEq(roles, nil, String("admin")) || MatchEq(roles, nil, String("owner")) {
		t.Error("MatchEq on array of roles")
	}
	if !MatchEq(Value{}, nil, Null()) || MatchEq(Value{}, nil, String("admin")) || MatchEq(Value{}, nil, Value{}) {
		t.Error("MatchEq with Missing left")
	}
	if !MatchEq(Double(math.Copysign(0, -1)), nil, Int32(0)) {
		t.Error("-0 != 0")
	}
	if !MatchEq(j(t, `{"a":[1]}`), nil, j(t, `{"a":[1]}`)) {
		t.Error("documents")
	}
}

// TestMatchAllSize: $all and $size against the MongoDB manual's examples
// and jstests/core/query/all and /size, through arrays of documents too.
func TestMatchAllSize(t *testing.T) {
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"tags":["a","b"],"n":5,"nested":[[1,2]],"items":[{"q":[1,2]},{"q":[3]}],"e":[]}`), false, &raw); err != nil {
		t.Fatal(err)
	}
	d := FromDocument(raw)
	arr := func(s string) Value {
		v, err := FromExtJSON([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct {
		path, xs string
		want     bool
	}{
		{"tags", `["a"]`, true}, {"tags", `["b","a"]`, true}, {"tags", `["a","c"]`, false},
		{"tags", `[]`, false}, {"n", `[5]`, true}, {"n", `[5, 6]`, false},
		{"nested", `[[1,2]]`, true}, {"nested", `[1]`, false}, {"items.q", `[1, 3]`, true},
		{"items.q", `[[1,2]]`, true}, {"missing", `[null]`, true}, {"missing", `["a"]`, false},
		{"e", `[]`, false},
	} {
		if got := MatchAll(d, ParsePath(tc.path), arr(tc.xs)); got != tc.want {
			t.Errorf("{%s: {$all: %s}} = %v, want %v", tc.path, tc.xs, got, tc.want)
		}
	}
	if MatchAll(d, ParsePath("tags"), String("a")) {
		t.Error("$all of a non-array matched")
	}
	for _, tc := range []struct {
		path string
		n    int64
		want bool
	}{
		{"tags", 2, true}, {"tags", 1, false}, {"nested", 1, true}, {"nested", 2, false},
		{"items.q", 1, true}, {"items.q", 2, true}, {"items.q", 3, false}, {"e", 0, true},
		{"missing", 0, false}, {"n", 1, false}, {"tags", -1, false},
	} {
		if got := MatchSize(d, ParsePath(tc.path), tc.n); got != tc.want {
			t.Errorf("{%s: {$size: %d}} = %v, want %v", tc.path, tc.n, got, tc.want)
		}
	}
}

// TestSizeOK: the operands of $size the server accepts (its match
// expression parser: a whole number from 0 to 2^31-1) and those it
// refuses.
func TestSizeOK(t *testing.T) {
	for _, tc := range []struct {
		x  Value
		n  int64
		ok bool
	}{
		{Int32(2), 2, true}, {Int64(2), 2, true}, {Double(2), 2, true}, {Int32(0), 0, true},
		{Int64(math.MaxInt32), math.MaxInt32, true},
		{Int32(-1), 0, false}, {Double(-1), 0, false}, {Int64(math.MaxInt32 + 1), 0, false},
		{Int64(math.MaxInt64), 0, false}, {Double(1.5), 0, false}, {Double(math.NaN()), 0, false},
		{Double(math.Inf(1)), 0, false}, {String("2"), 0, false}, {Null(), 0, false},
	} {
		n, ok := SizeOK(tc.x)
		if ok != tc.ok || ok && n != tc.n {
			t.Errorf("SizeOK(%s) = %d, %v, want %d, %v", tc.x.ExtJSON(), n, ok, tc.n, tc.ok)
		}
	}
}

// TestMatchMod: $mod truncates numbers toward zero (the MongoDB manual,
// $mod, "Floating Point Arguments"; ModMatchExpression), with the sign of
// the dividend, and matches no NaN, infinity or non-number.
func TestMatchMod(t *testing.T) {
	for _, tc := range []struct {
		x    string
		d, r int64
		want bool
	}{
		{`5`, 4, 1, true}, {`5`, 4, 0, false}, {`{"$numberLong": "-5"}`, 4, -1, true}, {`-5`, 4, 3, false},
		{`5.9`, 4, 1, true}, {`-5.9`, 4, -1, true}, {`{"$numberDecimal": "5.9"}`, 4, 1, true},
		{`{"$numberDecimal": "-0.5"}`, 4, 0, true}, {`{"$numberDecimal": "12E1"}`, 7, 1, true},
		{`{"$numberDouble": "NaN"}`, 1, 0, false}, {`{"$numberDouble": "Infinity"}`, 1, 0, false},
		{`{"$numberDecimal": "NaN"}`, 1, 0, false}, {`{"$numberDecimal": "1E30"}`, 1, 0, false},
		{`"5"`, 4, 1, false}, {`{"$numberLong": "-9223372036854775808"}`, -1, 0, true}, {`[1, 6]`, 5, 1, true},
	} {
		v, err := FromExtJSON([]byte(tc.x))
		if err != nil {
			t.Fatal(err)
		}
		if got := MatchMod(v, nil, tc.d, tc.r); got != tc.want {
			t.Errorf("%s $mod [%d, %d] = %v, want %v", tc.x, tc.d, tc.r, got, tc.want)
		}
	}
	for _, tc := range []struct {
		x  string
		ok bool
	}{
		{`[4, 1]`, true}, {`[4.5, 1.2]`, true}, {`[0, 1]`, false}, {`[0.5, 1]`, false}, {`[4]`, false},
		{`[4, 1, 2]`, false}, {`[{"$numberDouble": "NaN"}, 1]`, false}, {`["4", 1]`, false}, {`4`, false},
	} {
		v, err := FromExtJSON([]byte(tc.x))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, ok := ModOK(v); ok != tc.ok {
			t.Errorf("ModOK(%s) = %v, want %v", tc.x, ok, tc.ok)
		}
	}
}

// TestTypeAlias: every $type alias names its type back, and a type with no
// alias has none.
func TestTypeAlias(t *testing.T) {
	for name, bt := range typeAlias {
		if got, ok := TypeAlias(bt); !ok || got != name {
			t.Errorf("TypeAlias(%v) = %q, %v; want %q", bt, got, ok, name)
		}
	}
	if got, ok := TypeAlias(bson.Type(0x42)); ok {
		t.Errorf("TypeAlias(0x42) = %q, want none", got)
	}
}
