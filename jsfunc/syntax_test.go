package jsfunc_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/source"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestSyntaxErrors: a source that does not compile is an error at its
// file, line and column, code jsfunc/syntax (testdata/syntax.golden).
func TestSyntaxErrors(t *testing.T) {
	app := testApp(map[string]string{
		"unclosed":   "exports = function(a) {\n  return a +\n",
		"badToken":   "exports = function() {\n  return 1 @ 2\n}",
		"reserved":   "exports = function(class) { return 1 }",
		"fine":       "exports = function() { return 1 }",
		"importStmt": "import x from 'y'\nexports = function() { return x }",
		"redeclared": "let a = 1\nlet a = 2\nexports = function() { return a }",
	})
	_, err := jsfunc.Load(app)
	var list source.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("got %v, want a source.ErrorList", err)
	}
	var b strings.Builder
	for _, e := range list {
		if e.Code != jsfunc.CodeSyntax {
			t.Errorf("code %q", e.Code)
		}
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "syntax.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
