package rules_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

// caseApp builds the app of a conformance case. Archive files named by app
// paths (data_sources/..., auth/..., functions/..., values/...,
// environments/..., realm_config.json, and the old layout's services/...,
// config.json, stitch.json) are used as they are;
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
			strings.HasPrefix(f.Name, "services/"), f.Name == "config.json", f.Name == "stitch.json",
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
	casetest.Run(t, "testdata/cases/*.txtar", func(t *testing.T, c *casetest.Case) {
		ast, diags, loaded := runCase(t, c.Archive)
		_, hasAST := c.File("want-ast.txt")
		_, hasErr := c.File("want-error.txt")
		if !hasAST && !hasErr && !casetest.Updating() {
			t.Fatalf("%s has neither want-ast.txt nor want-error.txt", c.Path)
		}
		// A case that loads shows its AST unless it is about its
		// diagnostics alone.
		if loaded && (hasAST || !hasErr || diags == "") {
			c.Check("want-ast.txt", []byte(ast))
		} else if hasAST && !casetest.Updating() {
			t.Errorf("want an AST, but loading failed:\n%s", diags)
		}
		if diags != "" || hasErr && !casetest.Updating() {
			c.Check("want-error.txt", []byte(diags))
		} else {
			c.Remove("want-error.txt")
		}
	})
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
