package token

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

func TestDuplicateKey(t *testing.T) {
	for _, c := range []struct {
		js  string
		key string
		dup bool
	}{
		{`{}`, "", false},
		{`{"a":1,"b":"a","c":["a","a"]}`, "", false},
		{`{"a":1,"a":2}`, "a", true},
		{`{"a" : 1, "a"	:2}`, "a", true},
		{`{"s\u0075b":1,"sub":2}`, "sub", true},
		{`{"a\"":1,"a\\":2}`, "", false},
		{`{"a\"":1,"a\"":2}`, `a"`, true},
		{`{"x":{"a":1},"y":{"a":1}}`, "", false},
		{`{"x":[{"a":1},{"a":1}]}`, "", false},
		{`{"x":[{"a":1,"b":[{"c":{"d":1,"d":2}}]}]}`, "d", true},
		{`[{"a":1},{"a":2,"a":3}]`, "a", true},
		{`{"a":"{\"b\":1,\"b\":2}"}`, "", false},
		{`{"1":1,"2":1,"3":1,"4":1,"5":1,"6":1,"7":1,"8":1,"9":1,"10":1,"11":1,"12":1,"13":1,"14":1,"1":2}`, "1", true},
		{`{"1":1,"2":1,"3":1,"4":1,"5":1,"6":1,"7":1,"8":1,"9":1,"10":1,"11":1,"12":1,"13":1,"14":1,"14":2}`, "14", true},
		{`[[[[[[[[{"a":1,"a":1}]]]]]]]]`, "a", true},
		{`"a"`, "", false},
		{`["a","a"]`, "", false},
	} {
		k, dup := duplicateKey(c.js)
		if k != c.key || dup != c.dup {
			t.Errorf("duplicateKey(%s) = %q, %v; want %q, %v", c.js, k, dup, c.key, c.dup)
		}
	}
}

func BenchmarkDuplicateKey(b *testing.B) {
	js := `{"sub":"65a1b2c3d4e5f60718293a4c","typ":"access","iat":1700000000,"exp":1700001800,"user_type":"normal","user_data":{"_id":{"$oid":"65a1b2c3d4e5f60718293a4b"},"admin":true,"bio":"Mathematician and writer, chiefly known for work on the Analytical Engine. Mathematician and writer, chiefly known for work on the Analytical Engine. Mathematician and writer, chiefly known for work on the Analytical Engine. ","email":"ada.lovelace@example.com","teamIds":["team-00-00000000","team-01-9e3779b1","team-02-3c6ef362","team-03-daa66d13","team-04-78dde6c4","team-05-1715609d","team-06-b54cda56","team-07-53845407","team-08-f1bbcdb8","team-09-8ff34769","team-10-2e2ac11a","team-11-cc623acb"],"prefs":{"theme":"dark","locale":"en-GB","notifications":{"email":true,"push":false}},"quota":{"seats":25}}}`
	b.SetBytes(int64(len(js)))
	b.ReportAllocs()
	for b.Loop() {
		if _, dup := duplicateKey(js); dup {
			b.Fatal("dup")
		}
	}
}

// FuzzDuplicateKey checks the byte scanner against a reference built on
// encoding/json's token stream.
func FuzzDuplicateKey(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `{"s\u0075b":1,"sub":2}`, `[{"a":[{"b":1}],"b":"c"}]`, `{"a":"\"","b":{"a":1}}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, js string) {
		if !gjson.Valid(js) || !json.Valid([]byte(js)) || !utf8.ValidString(js) {
			// Verify and Sign refuse invalid UTF-8 before the scan
			// (TestRejections): readers disagree on such keys.
			return
		}
		want := refDuplicate(t, js)
		if _, got := duplicateKey(js); got != want {
			t.Fatalf("duplicateKey(%s) = %v, reference %v", js, got, want)
		}
	})
}

func refDuplicate(t *testing.T, js string) bool {
	dec := json.NewDecoder(strings.NewReader(js))
	type frame struct {
		obj     bool
		seen    map[string]bool
		wantKey bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.wantKey {
			if s, ok := tok.(string); ok {
				if top.seen[s] {
					return true
				}
				top.seen[s] = true
				top.wantKey = false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			if top != nil && top.obj {
				top.wantKey = true
			}
			stack = append(stack, &frame{obj: true, seen: map[string]bool{}, wantKey: true})
			continue
		case json.Delim('['):
			if top != nil && top.obj {
				top.wantKey = true
			}
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].wantKey = true
			}
			continue
		}
		if top != nil && top.obj {
			top.wantKey = true
		}
	}
}
