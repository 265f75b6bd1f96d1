package evaluator_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
)

// TestReasonsListsEveryReason reads the Reason constants of api.go and
// checks that Reasons lists each exactly once, so that a new reason cannot
// be missing from the list tools show.
func TestReasonsListsEveryReason(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "api.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[evaluator.Reason]bool{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Reason" {
				continue
			}
			for _, v := range vs.Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok {
					t.Fatalf("a Reason constant that is not a string literal: %T", v)
				}
				s, _ := strconv.Unquote(lit.Value)
				declared[evaluator.Reason(s)] = true
			}
		}
	}
	if len(declared) == 0 {
		t.Fatal("found no Reason constants in api.go")
	}
	listed := map[evaluator.Reason]bool{}
	for _, r := range evaluator.Reasons() {
		if listed[r] {
			t.Errorf("Reasons lists %q twice", r)
		}
		listed[r] = true
		if !declared[r] {
			t.Errorf("Reasons lists %q, which api.go does not declare", r)
		}
	}
	for r := range declared {
		if !listed[r] {
			t.Errorf("Reasons does not list %q", r)
		}
	}
}
