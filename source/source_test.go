package source

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestParseJSONErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // rendered error
	}{
		{``, `f.json:1:1: unexpected end of file, want a value (json/syntax)`},
		{`   `, `f.json:1:4: unexpected end of file, want a value (json/syntax)`},
		{`{`, `f.json:1:2: unexpected end of file, want a quoted object key (json/syntax)`},
		{`{"a"}`, `f.json:1:5: /a: unexpected '}', want ':' after key "a" (json/syntax)`},
		{`{"a":}`, `f.json:1:6: /a: unexpected '}', want a value (json/syntax)`},
		{`{"a":1,}`, `f.json:1:8: unexpected '}', want a quoted object key (json/syntax)`},
		{`{"a":1 "b":2}`, `f.json:1:8: unexpected '"', want ',' or '}' (json/syntax)`},
		{`[1,]`, `f.json:1:4: /1: unexpected ']', want a value (json/syntax)`},
		{`[1 2]`, `f.json:1:4: unexpected '2', want ',' or ']' (json/syntax)`},
		{"{\n  \"roles\": [\n    {\"name\": \"r\",}\n  ]\n}", `f.json:3:18: /roles/0: unexpected '}', want a quoted object key (json/syntax)`},
		{`{"a": 1, "a": 2}`, `f.json:1:10: /a: duplicate key "a" (first at 1:2) (json/duplicate-key)`},
		{`{"a": {"b~/": 1, "b~/": 2}}`, `f.json:1:18: /a/b~0~1: duplicate key "b~/" (first at 1:8) (json/duplicate-key)`},
		{`tru`, `f.json:1:1: unexpected 't', want a value (json/syntax)`},
		{`truex`, `f.json:1:5: unexpected 'x' after a value (json/syntax)`},
		{`nul`, `f.json:1:1: unexpected 'n', want a value (json/syntax)`},
		{`01`, `f.json:1:1: malformed number "01": leading zero (json/syntax)`},
		{`-`, `f.json:1:2: malformed number "-" (json/syntax)`},
		{`1.`, `f.json:1:3: malformed number "1." (json/syntax)`},
		{`1e`, `f.json:1:3: malformed number "1e" (json/syntax)`},
		{`12abc`, `f.json:1:3: unexpected 'a' after a value (json/syntax)`},
		{`+1`, `f.json:1:1: unexpected '+', want a value (json/syntax)`},
		{`"abc`, `f.json:1:1: unterminated string (json/syntax)`},
		{`"a\`, `f.json:1:1: unterminated string (json/syntax)`},
		{"\"a\x01\"", `f.json:1:3: control character 0x01 in string (json/syntax)`},
		{`"\x"`, `f.json:1:2: unknown escape "\\x" (json/syntax)`},
		{`"\u12"`, `f.json:1:2: malformed \u escape (json/syntax)`},
		{"\"\xff\"", `f.json:1:2: invalid UTF-8 in string (json/syntax)`},
		{`1 2`, `f.json:1:3: unexpected '2' after the top-level value (json/syntax)`},
		{`{} x`, `f.json:1:4: unexpected 'x' after the top-level value (json/syntax)`},
		{"\ufeff{}", `f.json:1:1: unexpected '\ufeff', want a value (json/syntax)`},
		{`'a'`, `f.json:1:1: unexpected '\'', want a value (json/syntax)`},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), fmt.Sprintf(`f.json:1:%d: %s: nesting deeper than %d levels (json/too-deep)`, MaxDepth+1, strings.Repeat("/0", MaxDepth), MaxDepth)},
	} {
		_, err := ParseJSON(NewFile("f.json", []byte(tc.in)))
		if err == nil {
			t.Errorf("ParseJSON(%q) succeeded, want %s", tc.in, tc.want)
			continue
		}
		if got := err.Error(); got != tc.want {
			t.Errorf("ParseJSON(%q):\n got %s\nwant %s", tc.in, got, tc.want)
		}
		var e *Error
		if !errors.As(err, &e) || e.Line < 1 {
			t.Errorf("ParseJSON(%q) = %T, want *Error with a position", tc.in, err)
		}
	}
}

func TestParseJSONDepth(t *testing.T) {
	ok := strings.Repeat("[", MaxDepth) + "1" + strings.Repeat("]", MaxDepth)
	if _, err := ParseJSON(NewFile("f", []byte(ok))); err != nil {
		t.Errorf("%d nested arrays must parse: %v", MaxDepth, err)
	}
	obj := strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	if _, err := ParseJSON(NewFile("f", []byte(obj))); err != nil {
		t.Errorf("%d nested objects must parse: %v", MaxDepth, err)
	}
	deep := strings.Repeat(`{"a":`, MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1)
	if _, err := ParseJSON(NewFile("f", []byte(deep))); Codes(err)[0] != CodeJSONTooDeep {
		t.Errorf("%d nested objects: %v, want json/too-deep", MaxDepth+1, err)
	}
	huge := strings.Repeat("[", 1_000_000)
	if _, err := ParseJSON(NewFile("f", []byte(huge))); Codes(err)[0] != CodeJSONTooDeep {
		t.Errorf("a million brackets: %v", err)
	}
}

func TestParseJSONTree(t *testing.T) {
	src := "{\n  \"a\": [1, -2.5e3, true, false, null],\n  \"b/c\": {\"~\": \"x\\n\\u00e9\\ud83d\\ude00\"},\n  \"\": \"\"\n}\n"
	f := NewFile("t.json", []byte(src))
	n, err := ParseJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	if n.Kind != Object || len(n.Members) != 3 || n.File() != f || n.Ptr != "" {
		t.Fatalf("root: %+v", n)
	}
	a := n.Get("a")
	if a.Kind != Array || len(a.Elems) != 5 || a.Ptr != "/a" || a.Pos() != (Pos{2, 8}) {
		t.Fatalf("a: %+v at %v", a, a.Pos())
	}
	kinds := []Kind{Number, Number, Bool, Bool, Null}
	for i, e := range a.Elems {
		if e.Kind != kinds[i] || e.Ptr != Pointer(fmt.Sprintf("/a/%d", i)) {
			t.Errorf("a[%d] = %v %q", i, e.Kind, e.Ptr)
		}
	}
	if string(a.Elems[1].Raw()) != "-2.5e3" || !a.Elems[2].Bool || a.Elems[3].Bool {
		t.Errorf("elements: %q %v %v", a.Elems[1].Raw(), a.Elems[2].Bool, a.Elems[3].Bool)
	}
	tilde := n.Get("b/c").Get("~")
	if tilde.Ptr != "/b~1c/~0" || tilde.Str != "x\né😀" {
		t.Errorf("escaped: %q %q", tilde.Ptr, tilde.Str)
	}
	if m := n.Members[1]; m.Key != "b/c" || f.Position(m.KeyOffset) != (Pos{3, 3}) {
		t.Errorf("member b/c: %+v at %v", m, f.Position(m.KeyOffset))
	}
	if e := n.Get(""); e == nil || e.Ptr != "/" || e.Str != "" {
		t.Errorf("empty key: %+v", e)
	}
	if n.Get("zz") != nil || a.Get("x") != nil || (*Node)(nil).Get("x") != nil {
		t.Error("Get of a missing key, on an array, or on nil must be nil")
	}
	idx := Index(n)
	if len(idx) != 10 {
		t.Errorf("Index has %d entries, want 10: %v", len(idx), idx)
	}
	if sp := idx["/b~1c/~0"]; sp.Start != (Pos{3, 16}) || string(f.Data[sp.Offset:sp.End]) != `"x\n\u00e9\ud83d\ude00"` {
		t.Errorf("span: %+v", sp)
	}
	e := tilde.Errorf("rules/type", "bad %s", "thing")
	if e.Error() != `t.json:3:16: /b~1c/~0: bad thing (rules/type)` {
		t.Errorf("Node.Errorf: %s", e)
	}
	for _, k := range []Kind{Null, Bool, Number, String, Object, Array, 0, 9} {
		_ = k.String()
	}
	if Object.String() != "object" || Kind(9).String() != "Kind(9)" {
		t.Error("Kind.String")
	}
}

func TestParseJSONSurrogates(t *testing.T) {
	for in, want := range map[string]string{
		`"\ud83d\ude00"`: "😀",
		`"\ud800"`:       "\ufffd",
		`"\udc00"`:       "\ufffd",
		`"\ud800\u0041"`: "\ufffdA",
		`"\ud800\ud800"`: "\ufffd\ufffd",
		`"\udc00\ude00"`: "\ufffd\ufffd",
		`"\ud800x"`:      "\ufffdx",
	} {
		n, err := ParseJSON(NewFile("f", []byte(in)))
		if err != nil {
			t.Errorf("%s: %v", in, err)
			continue
		}
		var std string
		if err := json.Unmarshal([]byte(in), &std); err != nil {
			t.Fatal(err)
		}
		if n.Str != want || std != want {
			t.Errorf("%s = %q (encoding/json %q), want %q", in, n.Str, std, want)
		}
	}
}

func TestPointer(t *testing.T) {
	for _, tc := range []struct {
		ptr    Pointer
		tokens []string
	}{
		{"", nil},
		{"/", []string{""}},
		{"/roles/1/document_filters/read", []string{"roles", "1", "document_filters", "read"}},
		{"/a~1b/c~0d/~01", []string{"a/b", "c~d", "~1"}},
		{"//x", []string{"", "x"}},
		{"/%%user.id", []string{"%%user.id"}},
	} {
		got, err := tc.ptr.Tokens()
		if err != nil || !reflect.DeepEqual(got, tc.tokens) {
			t.Errorf("%q.Tokens() = %q, %v; want %q", tc.ptr, got, err, tc.tokens)
		}
		// Rebuilding the pointer from its tokens gives it back.
		var p Pointer
		for _, tok := range got {
			p = p.Key(tok)
		}
		if p != tc.ptr {
			t.Errorf("rebuilt %q from %q", p, tc.ptr)
		}
	}
	for _, bad := range []Pointer{"a", "a/b", "/~", "/~2", "/a~"} {
		if _, err := bad.Tokens(); err == nil {
			t.Errorf("%q.Tokens() succeeded", bad)
		} else if !strings.Contains(err.Error(), "bad JSON pointer") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if p := Pointer("/a").Index(3).Key("~x/"); p != "/a/3/~0x~1" || p.String() != "/a/3/~0x~1" {
		t.Errorf("Index/Key: %q", p)
	}
}

func TestErrorList(t *testing.T) {
	mk := func(file string, line, col int, ptr Pointer, code, msg string) *Error {
		return &Error{File: file, Line: line, Col: col, Ptr: ptr, Code: code, Msg: msg}
	}
	w := mk("a.json", 1, 1, "", "rules/shadowed-role", "w")
	w.Severity = SeverityWarning
	l := ErrorList{
		mk("b.json", 1, 1, "", "x/y", "b"),
		mk("a.json", 2, 1, "", "x/y", "second line"),
		mk("a.json", 1, 5, "/b", "x/y", "col 5"),
		mk("a.json", 1, 5, "/a", "x/z", "col 5 ptr a"),
		mk("a.json", 1, 5, "/a", "x/y", "col 5 ptr a"),
		mk("a.json", 2, 1, "", "x/y", "second line"), // duplicate
		w,
	}
	l.Sort()
	var got []string
	for _, e := range l {
		got = append(got, e.Error())
	}
	want := []string{
		"a.json:1:1: warning: w (rules/shadowed-role)",
		"a.json:1:5: /a: col 5 ptr a (x/y)",
		"a.json:1:5: /a: col 5 ptr a (x/z)",
		"a.json:1:5: /b: col 5 (x/y)",
		"a.json:2:1: second line (x/y)",
		"b.json:1:1: b (x/y)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sorted:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if l.Error() != strings.Join(want, "\n") {
		t.Errorf("Error() = %q", l.Error())
	}
	if len(l.Warnings()) != 1 || len(l.Errors()) != 5 || !l[0].IsWarning() {
		t.Errorf("Warnings/Errors split wrong")
	}
	if err := l.Err(); err == nil || !reflect.DeepEqual(Codes(err), []string{"rules/shadowed-role", "x/y", "x/z", "x/y", "x/y", "x/y"}) {
		t.Errorf("Codes = %v", Codes(err))
	}
	var e *Error
	if !errors.As(l.Err(), &e) || e != l[0] {
		t.Errorf("errors.As finds the first *Error")
	}
	var empty ErrorList
	empty.Sort()
	if empty.Err() != nil || empty.Error() != "no errors" {
		t.Error("an empty list is no error")
	}
	empty.Add(mk("", 0, 0, "", "c/d", "only msg"))
	if empty.Error() != "only msg (c/d)" {
		t.Errorf("one error: %q", empty.Error())
	}
	if got := Codes(mk("f", 1, 1, "", "one/code", "m")); !reflect.DeepEqual(got, []string{"one/code"}) {
		t.Errorf("Codes(*Error) = %v", got)
	}
	if Codes(errors.New("plain")) != nil {
		t.Error("Codes of a foreign error is nil")
	}
	if got := (&Error{File: "f.json", Msg: "m"}).Error(); got != "f.json: m" {
		t.Errorf("no position: %q", got)
	}
	if got := Errorf(nil, 5, "/p", "c/x", "n=%d", 3).Error(); got != "/p: n=3 (c/x)" {
		t.Errorf("Errorf without file: %q", got)
	}
}

func TestFilePositions(t *testing.T) {
	f := NewFile("f", []byte("ab\n\tcd\r\n\nxyz"))
	for _, tc := range []struct {
		off  int
		want Pos
	}{
		{-3, Pos{1, 1}}, {0, Pos{1, 1}}, {1, Pos{1, 2}}, {2, Pos{1, 3}}, {3, Pos{2, 1}}, {4, Pos{2, 2}},
		{8, Pos{3, 1}}, {9, Pos{4, 1}}, {11, Pos{4, 3}}, {12, Pos{4, 4}}, {99, Pos{4, 4}},
	} {
		if got := f.Position(tc.off); got != tc.want {
			t.Errorf("Position(%d) = %v, want %v", tc.off, got, tc.want)
		}
	}
	for n, want := range map[int]string{0: "", 1: "ab", 2: "\tcd", 3: "", 4: "xyz", 5: ""} {
		if got := f.Line(n); got != want {
			t.Errorf("Line(%d) = %q, want %q", n, got, want)
		}
	}
	for _, tc := range []struct {
		p    Pos
		want string
	}{
		{Pos{1, 2}, "ab\n ^"},
		{Pos{2, 3}, "\tcd\n\t ^"},
		{Pos{3, 1}, "\n^"},
		{Pos{4, 9}, "xyz\n   ^"},
		{Pos{5, 1}, ""},
		{Pos{}, ""},
	} {
		if got := f.Snippet(tc.p); got != tc.want {
			t.Errorf("Snippet(%v) = %q, want %q", tc.p, got, tc.want)
		}
	}
	var nilFile *File
	if nilFile.Position(3).IsValid() || nilFile.Line(1) != "" || nilFile.Snippet(Pos{1, 1}) != "" {
		t.Error("a nil File knows no places")
	}
	if !(Pos{1, 1}).IsValid() || (Pos{}).IsValid() {
		t.Error("Pos.IsValid")
	}
}

func BenchmarkParseJSON(b *testing.B) {
	data := []byte(`{"database":"app","collection":"items","roles":[{"name":"owner","apply_when":{"owner_id":"%%user.id"},
"document_filters":{"read":{"%%user.custom_data.teamIds":{"$in":["red","blue","green"]}},"write":{"owner_id":"%%user.id"}},
"fields":{"title":{"read":true,"write":true},"meta":{"read":true,"fields":{"secret":{"read":false}}}},"additional_fields":{"read":true}}],
"filters":[{"name":"f","apply_when":{"%%true":true},"query":{"deleted":{"$ne":true}},"projection":{"_internal":0}}]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseJSON(NewFile("f", data)); err != nil {
			b.Fatal(err)
		}
	}
}

func ExampleKind_Article() {
	fmt.Println(Object.Article(), "/", String.Article(), "/", Null.Article())
	// Output: an object / a string / null
}
