package value

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestCompileRegexMatches(t *testing.T) {
	for _, c := range []struct {
		pattern, options, s string
		want                bool
	}{
		{"^ab", "", "abc", true},
		{"^ab", "", "cab", false},
		{"b.d", "", "abcd", true},
		{"b.d", "", "b\nd", false},
		{"b.d", "s", "b\nd", true},
		{"^AB", "i", "abc", true},
		{"c$", "", "abc", true},
		// PCRE's $ also matches before a final line break.
		{"c$", "", "abc\n", true},
		{"c$", "", "abc\nd", false},
		{"c$", "m", "abc\nd", true},
		{"^d", "", "abc\nd", false},
		{"^d", "m", "abc\nd", true},
		{"^(a|b)+$", "", "abba", true},
		{"^a$|^b$", "", "b", true},
		{"a{2,3}", "", "baab", true},
		{"a{2}", "", "bab", false},
		{"[a-c]x", "", "bx", true},
		{"[^a-c]x", "", "bx", false},
		{`\d+\.\d`, "", "v1.2", true},
		{`\s`, "", "a\vb", true},
		{`[\s]`, "", "a\vb", true},
		{`\S`, "", " \t", false},
		{`\bfoo\b`, "", "a foo b", true},
		{"a b # comment\n c", "x", "abc", true},
		{`a\ b`, "x", "a b", true},
		{"[ ]", "x", " ", true},
		{"(?:ab)*?c", "", "ababc", true},
		{"é", "", "café", true},
		{"", "", "", true},
	} {
		r, err := CompileRegex(c.pattern, c.options)
		if err != nil {
			t.Errorf("CompileRegex(%q, %q): %v", c.pattern, c.options, err)
			continue
		}
		if got := MatchRegex(String(c.s), nil, r); got != c.want {
			t.Errorf("%q %q on %q = %v, want %v", c.pattern, c.options, c.s, got, c.want)
		}
	}
}

func TestCompileRegexRefused(t *testing.T) {
	for _, c := range []struct{ pattern, options string }{
		{`(a)\1`, ""},       // backreference
		{`a(?=b)`, ""},      // lookahead
		{`(?<!a)b`, ""},     // lookbehind
		{`(?>a)`, ""},       // atomic
		{`a*+`, ""},         // possessive
		{`(?i)a`, ""},       // inline options
		{`(?P<n>a)`, ""},    // named group
		{`[[:alpha:]]`, ""}, // POSIX class
		{`\p{L}`, ""},       // property
		{`\x41`, ""},        // hex escape
		{`\Qa\E`, ""},       // quoting
		{`\Z`, ""},          // end before final newline
		{`a$b`, ""},         // $ before more
		{`(a$|b)\n`, ""},    // $ inside a group followed by more
		{`^`, "m"},          // ^ under m with nothing after
		{`^a*`, "m"},        // ... or what may consume nothing
		{`é`, "i"},          // non-ASCII under i
		{`*a`, ""},          // nothing to repeat
		{`a{1001}`, ""},     // too many
		{`a{,2}`, ""},       // not a repetition in PCRE
		{`a{2,1}`, ""},      // reversed
		{`a**`, ""},         // quantifier of a quantifier
		{`[]a]`, ""},        // ] first
		{`[a-\d]`, ""},      // range to an escape
		{`[a-c-e]`, ""},     // - inside
		{`[\W]`, ""},        // negated escape in a class
		{`(a`, ""},          // unclosed
		{`a)`, ""},          // unbalanced
		{"a\x00", ""},       // NUL
		{`a`, "u"},          // option
		{`a`, "l"},          // option
		{`a}`, ""},          // stray }
		{`\`, ""},           // trailing backslash
	} {
		if _, err := CompileRegex(c.pattern, c.options); !errors.Is(err, ErrRegexUnsupported) {
			t.Errorf("CompileRegex(%q, %q) = %v, want ErrRegexUnsupported", c.pattern, c.options, err)
		}
	}
}

func TestMatchRegexCandidates(t *testing.T) {
	r, err := CompileRegex("^b", "")
	if err != nil {
		t.Fatal(err)
	}
	doc := func(s string) Value {
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
			t.Fatal(err)
		}
		b, _ := bson.Marshal(d)
		return FromDocument(b)
	}
	for _, c := range []struct {
		doc  string
		want bool
	}{
		{`{"f": "blue"}`, true},
		{`{"f": ["red", "blue"]}`, true},
		{`{"f": ["red", 1]}`, false},
		{`{"f": 1}`, false},
		{`{"f": null}`, false},
		{`{}`, false},
		{`{"f": [{"g": "b"}]}`, false},
		{`{"f": {"$regularExpression": {"pattern": "^b", "options": ""}}}`, true},
		{`{"f": {"$regularExpression": {"pattern": "^b", "options": "i"}}}`, false},
	} {
		if got := MatchRegex(doc(c.doc), Path{"f"}, r); got != c.want {
			t.Errorf("%s: %v, want %v", c.doc, got, c.want)
		}
	}
}

// FuzzCompileRegex: CompileRegex never panics, and what it accepts
// matches without panicking.
func FuzzCompileRegex(f *testing.F) {
	for _, s := range []string{`^a[b-d]+$`, `(?:x|y){2,3}?`, `\d\s\W`, "a # c\n b", `(a)\1`, `[[:alpha:]]`, `a$|^b`} {
		f.Add(s, "imsx")
		f.Add(s, "")
	}
	f.Fuzz(func(t *testing.T, pattern, options string) {
		r, err := CompileRegex(pattern, options)
		if err != nil {
			if !errors.Is(err, ErrRegexUnsupported) {
				t.Fatalf("error %v does not wrap ErrRegexUnsupported", err)
			}
			return
		}
		MatchRegex(String(pattern), nil, r)
	})
}
