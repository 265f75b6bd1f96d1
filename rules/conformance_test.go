package rules_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"os"

	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/cases/*.txtar")

// caseApp builds the app of a conformance case. Archive files named by app
// paths (data_sources/..., auth/..., functions/..., values/...,
// environments/..., realm_config.json) are used as they are;
// the shorthands "rules.json" and "default_rule.json" stand for
// data_sources/mongodb-atlas/db/coll/rules.json and
// data_sources/mongodb-atlas/default_rule.json.
func caseApp(a *txtar.Archive) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range a.Files {
		switch {
		case f.Name == "rules.json":
			fsys["data_sources/mongodb-atlas/db/coll/rules.json"] = &fstest.MapFile{Data: f.Data}
		case f.Name == "default_rule.json":
			fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: f.Data}
		case strings.HasPrefix(f.Name, "data_sources/"), strings.HasPrefix(f.Name, "auth/"), strings.HasPrefix(f.Name, "functions/"),
			strings.HasPrefix(f.Name, "values/"), strings.HasPrefix(f.Name, "environments/"), f.Name == "realm_config.json":
			fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		}
	}
	return fsys
}

// runCase loads a case's app and renders what the parser understood
// (want-ast.txt) and every diagnostic of LoadApp, or of Validate when
// loading succeeded (want-error.txt).
func runCase(t *testing.T, a *txtar.Archive) (ast, diags string, loaded bool) {
	t.Helper()
	var opts rules.ValidateOptions
	if data, ok := a.Get("options.json"); ok {
		var o struct {
			Functions []string `json:"functions"`
		}
		if err := json.Unmarshal(data, &o); err != nil {
			t.Fatalf("options.json: %v", err)
		}
		opts.Functions = o.Functions
	}
	app, err := rules.LoadApp(caseApp(a))
	var list source.ErrorList
	if err != nil {
		list = err.(source.ErrorList)
	} else {
		loaded = true
		list = rules.Validate(app, opts)
		var b strings.Builder
		for _, ds := range app.DataSources {
			if ds.DefaultRule != nil {
				b.WriteString(rules.Summary(ds.DefaultRule))
			}
			for _, c := range ds.Collections {
				b.WriteString(rules.Summary(c))
			}
		}
		ast = b.String()
	}
	var b strings.Builder
	for _, e := range list {
		b.WriteString(e.Error())
		b.WriteByte('\n')
	}
	return ast, b.String(), loaded
}

func TestConformance(t *testing.T) {
	files, err := txtar.Glob("testdata/cases/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if a.Says() == "" {
				t.Fatalf("%s: a case must start with a # line saying what it proves", file)
			}
			ast, diags, loaded := runCase(t, a)
			wantAST, hasAST := a.Get("want-ast.txt")
			wantErr, hasErr := a.Get("want-error.txt")
			if *update {
				if loaded && (hasAST || !hasErr || diags == "") {
					a.Set("want-ast.txt", []byte(ast))
				}
				if diags != "" {
					a.Set("want-error.txt", []byte(diags))
				} else if hasErr {
					a.Files = removeFile(a.Files, "want-error.txt")
				}
				if err := os.WriteFile(file, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !hasAST && !hasErr {
				t.Fatalf("%s has neither want-ast.txt nor want-error.txt", file)
			}
			if hasAST {
				if !loaded {
					t.Errorf("want an AST, but loading failed:\n%s", diags)
				} else if ast != string(wantAST) {
					t.Errorf("AST:\n%s\nwant:\n%s", ast, wantAST)
				}
			}
			if string(wantErr) != diags {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", diags, wantErr)
			}
		})
	}
}

func removeFile(fs []txtar.File, name string) []txtar.File {
	var out []txtar.File
	for _, f := range fs {
		if f.Name != name {
			out = append(out, f)
		}
	}
	return out
}

// TestConformanceRoundTrip formats every collection of every case that
// loads and checks that parsing the output gives the same AST.
func TestConformanceRoundTrip(t *testing.T) {
	files, _ := txtar.Glob("testdata/cases/*.txtar")
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		app, err := rules.LoadApp(caseApp(a))
		if err != nil {
			continue
		}
		for _, ds := range app.DataSources {
			for _, c := range ds.Collections {
				out := rules.Format(c)
				c2, err := rules.ParseRules(source.NewFile("formatted.json", out))
				if err != nil {
					t.Errorf("%s: %s does not parse back: %v\n%s", file, c.Namespace(), err, out)
					continue
				}
				if got, want := rules.Summary(c2), rules.Summary(c); got != want {
					t.Errorf("%s: round trip changed the AST:\n%s\nwant:\n%s", file, got, want)
				}
				if again := rules.Format(c2); !bytes.Equal(again, out) {
					t.Errorf("%s: Format is not idempotent:\n%s\nthen:\n%s", file, out, again)
				}
			}
			if d := ds.DefaultRule; d != nil {
				out := rules.FormatDefaultRule(d)
				d2, err := rules.ParseDefaultRule(source.NewFile("formatted.json", out))
				if err != nil {
					t.Errorf("%s: default rule does not parse back: %v\n%s", file, err, out)
				} else if rules.Summary(d2) != rules.Summary(d) {
					t.Errorf("%s: default rule round trip changed the AST", file)
				}
			}
		}
	}
}
