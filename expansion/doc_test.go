package expansion

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/internal/casetest"
)

// vocabularyDoc renders Vocabulary() as the doc comment block of doc.go.
func vocabularyDoc() string {
	var b strings.Builder
	b.WriteString("// Generated from Vocabulary() by TestDocVocabulary (go test -update).\n//\n")
	b.WriteString("//\t| expansion      | phase    | path below it                                                 |\n")
	b.WriteString("//\t|----------------|----------|---------------------------------------------------------------|\n")
	for _, in := range Vocabulary() {
		path := "any path"
		switch {
		case in.Leaf:
			path = "none"
		case in.Fields != nil:
			path = "a documented field, then any path"
		}
		fmt.Fprintf(&b, "//\t| %-14s | %-8s | %-61s |\n", in.Name, in.Phase, path)
	}
	for _, in := range Vocabulary() {
		b.WriteString("//\n")
		fmt.Fprintf(&b, "// %s (%s phase): %s.", in.Name, in.Phase, in.Meaning)
		if in.Fields != nil {
			fmt.Fprintf(&b, " Fields: %s.", strings.Join(in.Fields, ", "))
		}
		fmt.Fprintf(&b, " Missing: %s.", in.Missing)
		fmt.Fprintf(&b, " Source: %s.\n", in.Source)
	}
	return b.String()
}

func TestDocVocabulary(t *testing.T) {
	data, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	start := strings.Index(doc, "// # Vocabulary\n//\n")
	end := strings.Index(doc, "//\n// # Resolving")
	if start < 0 || end < start {
		t.Fatal("doc.go lacks the # Vocabulary and # Resolving sections")
	}
	start += len("// # Vocabulary\n//\n")
	want := wrapComment(vocabularyDoc())
	if casetest.Updating() {
		doc = doc[:start] + want + doc[end:]
		if err := os.WriteFile("doc.go", []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got := doc[start:end]; got != want {
		t.Errorf("doc.go's vocabulary is out of date with Vocabulary(); run go test -run TestDocVocabulary -update\ngot:\n%s\nwant:\n%s", got, want)
	}
}

// wrapComment wraps the prose lines of a comment block at 78 columns.
func wrapComment(s string) string {
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		if strings.HasPrefix(line, "//\t") || len(line) <= 78 {
			out.WriteString(line + "\n")
			continue
		}
		words := strings.Fields(strings.TrimPrefix(line, "// "))
		cur := "//"
		for _, w := range words {
			if len(cur)+1+len(w) > 78 && cur != "//" {
				out.WriteString(cur + "\n")
				cur = "//"
			}
			cur += " " + w
		}
		out.WriteString(cur + "\n")
	}
	return out.String()
}
