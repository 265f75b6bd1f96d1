package rules_test

import (
	"bytes"
	"encoding/json"
	"fmt"
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
// environments/..., realm_config.json, root_config.json,
// https_endpoints/..., http_endpoints/..., triggers/..., and the old layout's
// services/..., auth_providers/..., config.json, stitch.json) are used as
// they are;
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
			strings.HasPrefix(f.Name, "values/"), strings.HasPrefix(f.Name, "environments/"), f.Name == "realm_config.json",
			f.Name == "root_config.json", strings.HasPrefix(f.Name, "auth_providers/"), strings.HasPrefix(f.Name, "https_endpoints/"),
			strings.HasPrefix(f.Name, "http_endpoints/"), strings.HasPrefix(f.Name, "triggers/"):
			fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		}
	}
	return fsys
}

// appSummary renders what an app says besides its rules: its id and name,
// its providers, its Data API configuration, its JavaScript functions and
// its authentication triggers (want-app.txt).
func appSummary(app *rules.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "app id %q name %q\n", app.ID, app.Name)
	for _, p := range app.Providers {
		b.WriteString(rules.Summary(p))
	}
	if app.DataAPI != nil {
		b.WriteString(rules.Summary(app.DataAPI))
	}
	for _, f := range app.JSFunctions {
		b.WriteString(rules.Summary(f))
	}
	for _, t := range app.Triggers {
		b.WriteString(rules.Summary(t))
	}
	return b.String()
}

// runCase loads a case's app and renders what the parser understood
// (want-ast.txt; want-app.txt, checked when the case has it, for what the
// app says besides its rules) and every diagnostic of LoadApp, or of
// Validate when loading succeeded (want-error.txt).
func runCase(t *testing.T, a *txtar.Archive) (ast, app, diags string, loaded bool) {
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
	loadedApp, err := rules.LoadApp(caseApp(a))
	app = appSummary(loadedApp)
	var list source.ErrorList
	if err != nil {
		list = err.(source.ErrorList)
	} else {
		loaded = true
		list = rules.Validate(loadedApp, opts)
		var b strings.Builder
		for _, ds := range loadedApp.DataSources {
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
	return ast, app, b.String(), loaded
}

func TestConformance(t *testing.T) {
	casetest.Run(t, "testdata/cases/*.txtar", func(t *testing.T, c *casetest.Case) {
		ast, app, diags, loaded := runCase(t, c.Archive)
		if _, ok := c.File("want-app.txt"); ok {
			c.Check("want-app.txt", []byte(app))
		}
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
