package rules_test

import (
	"bytes"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

// FuzzParse checks, for any bytes, that ParseRules never panics; that every
// diagnostic has a position and a well-formed JSON pointer that, for
// diagnostics after JSON parsing, names a value of the document; that every
// node of a parsed AST points into the document; and that
// ParseRules(Format(c)) gives the same AST and Format is idempotent. It is
// seeded with every JSON file of the conformance corpus.
func FuzzParse(f *testing.F) {
	files, _ := txtar.Glob("testdata/cases/*.txtar")
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range a.Files {
			if strings.HasSuffix(af.Name, ".json") {
				f.Add(af.Data)
			}
		}
	}
	f.Add([]byte(`{"roles":[{"name":"a","apply_when":{"%%user.id":{"%in":[1,"%%user.custom_data.x",{"a":"%%user.id"}]}}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := source.NewFile("rules.json", data)
		// The other parsers must not panic either, and report well-formed
		// diagnostics.
		d, derr := rules.ParseDefaultRule(file)
		if derr != nil {
			checkDiagnostics(t, file, derr)
		}
		cud, cerr := rules.ParseCustomUserData(file)
		if cerr != nil {
			checkDiagnostics(t, file, cerr)
		}
		c, err := rules.ParseRules(file)
		if err != nil {
			checkDiagnostics(t, file, err)
			return
		}
		checkPointers(t, file, c)
		// Validate never panics and its findings point into the file.
		app := &rules.App{
			Files:          map[string]*source.File{file.Name: file},
			DataSources:    []*rules.DataSource{{Name: "mongodb-atlas", DefaultRule: d, Collections: []*rules.Collection{c}}},
			CustomUserData: cud,
		}
		for _, e := range rules.Validate(app, rules.ValidateOptions{Functions: []string{"f"}}) {
			if e.File != file.Name || e.Line < 1 || e.Code == "" {
				t.Fatalf("Validate finding without a place or code: %#v", e)
			}
			if _, err := e.Ptr.Tokens(); err != nil {
				t.Fatalf("Validate finding with a bad pointer: %v", e)
			}
		}
		out := rules.Format(c)
		c2, err := rules.ParseRules(source.NewFile("formatted.json", out))
		if err != nil {
			t.Fatalf("Format output does not parse: %v\ninput: %s\nformatted: %s", err, data, out)
		}
		if got, want := rules.Summary(c2), rules.Summary(c); got != want {
			t.Fatalf("round trip changed the AST\ninput: %s\nformatted: %s\ngot:\n%s\nwant:\n%s", data, out, got, want)
		}
		if again := rules.Format(c2); !bytes.Equal(again, out) {
			t.Fatalf("Format not idempotent:\n%s\nthen:\n%s", out, again)
		}
	})
}

func checkDiagnostics(t *testing.T, file *source.File, err error) {
	t.Helper()
	list, ok := err.(source.ErrorList)
	if !ok || len(list) == 0 {
		t.Fatalf("error is %T %v, want a non-empty source.ErrorList", err, err)
	}
	root, jsonErr := source.ParseJSON(file)
	var index map[source.Pointer]source.Span
	if jsonErr == nil {
		index = source.Index(root)
	}
	for _, e := range list {
		if e.File != file.Name || e.Line < 1 || e.Col < 1 || e.Code == "" || e.Msg == "" {
			t.Fatalf("diagnostic lacks a place or code: %#v", e)
		}
		if _, err := e.Ptr.Tokens(); err != nil {
			t.Fatalf("diagnostic has a malformed pointer: %#v: %v", e, err)
		}
		if index != nil {
			if _, ok := index[e.Ptr]; !ok {
				t.Fatalf("diagnostic pointer %q names no value of the document: %v", e.Ptr, e)
			}
		}
	}
}

// checkPointers verifies that every node's pointer names a value of the
// document and that its offset lies inside the file.
func checkPointers(t *testing.T, file *source.File, c *rules.Collection) {
	t.Helper()
	root, err := source.ParseJSON(file)
	if err != nil {
		t.Fatalf("ParseRules succeeded on bytes ParseJSON refuses: %v", err)
	}
	index := source.Index(root)
	check := func(a rules.At) {
		if a.File != file {
			t.Fatalf("node at %q has file %v", a.Ptr, a.File)
		}
		if _, ok := index[a.Ptr]; !ok {
			t.Fatalf("node pointer %q names no value of the document", a.Ptr)
		}
		if a.Offset < 0 || a.Offset >= len(file.Data) {
			t.Fatalf("node at %q has offset %d outside the file", a.Ptr, a.Offset)
		}
	}
	rules.Walk(c, func(n rules.Node) bool {
		check(n.Loc())
		return true
	})
}

// FuzzLoadLegacy checks, for any bytes used as every file of an old-layout
// app (an old rule file, the service's config.json, the app's config.json),
// that LoadApp and Validate never panic and that every diagnostic names a
// file of the app, a line, a column, a well-formed pointer and a code. It
// is seeded with the old-layout files of the conformance corpus.
func FuzzLoadLegacy(f *testing.F) {
	files, _ := txtar.Glob("testdata/cases/*legacy*.txtar")
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range a.Files {
			if strings.HasSuffix(af.Name, ".json") {
				f.Add(af.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"config.json":                               {Data: data},
			"services/mongodb-atlas/config.json":        {Data: data},
			"services/mongodb-atlas/rules/db.coll.json": {Data: data},
			"services/other/rules/x.json":               {Data: data},
			"auth_providers/local-userpass.json":        {Data: data},
		}
		app, _ := rules.LoadApp(fsys)
		for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
			if _, ok := fsys[e.File]; !ok || e.Line < 1 || e.Col < 1 || e.Code == "" {
				t.Fatalf("diagnostic lacks a place or code: %#v", e)
			}
			if _, err := e.Ptr.Tokens(); err != nil {
				t.Fatalf("diagnostic has a malformed pointer: %#v: %v", e, err)
			}
		}
	})
}

// FuzzLoadServe checks, for any bytes used as every file serve reads of a
// current-layout app besides its rules (realm_config.json,
// auth/providers.json, https_endpoints/data_api_config.json), that LoadApp
// and Validate never panic and that every diagnostic names a file of the
// app, a line, a column, a well-formed pointer and a code. It is seeded
// with those files of the conformance corpus.
func FuzzLoadServe(f *testing.F) {
	files, _ := txtar.Glob("testdata/cases/*.txtar")
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range a.Files {
			switch af.Name {
			case "realm_config.json", "root_config.json", "auth/providers.json", "https_endpoints/data_api_config.json", "http_endpoints/data_api_config.json":
				f.Add(af.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"realm_config.json":                    {Data: data},
			"auth/providers.json":                  {Data: data},
			"https_endpoints/data_api_config.json": {Data: data},
		}
		app, _ := rules.LoadApp(fsys)
		for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
			if _, ok := fsys[e.File]; !ok || e.Line < 1 || e.Col < 1 || e.Code == "" {
				t.Fatalf("diagnostic lacks a place or code: %#v", e)
			}
			if _, err := e.Ptr.Tokens(); err != nil {
				t.Fatalf("diagnostic has a malformed pointer: %#v: %v", e, err)
			}
		}
		for _, p := range app.Providers {
			if app.Provider(p.Name) != p {
				t.Fatalf("Provider(%q) does not find it", p.Name)
			}
		}
	})
}

// FuzzLoadFunctions feeds the same bytes to a function manifest, an
// old-layout function config, a trigger and a function source: LoadApp
// never panics, and every diagnostic has a file of the app, a position, a
// code and a well-formed pointer.
func FuzzLoadFunctions(f *testing.F) {
	files, _ := txtar.Glob("testdata/cases/*.txtar")
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range a.Files {
			if strings.HasPrefix(af.Name, "functions/") || strings.HasPrefix(af.Name, "triggers/") {
				f.Add(af.Data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := fstest.MapFS{
			"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"roles": [{"name": "r", "read": true, "apply_when": {"%%true": {"%function": {"name": "f", "arguments": []}}}}]}`)},
			"functions/config.json":                         {Data: data},
			"functions/f.js":                                {Data: data},
			"functions/old/config.json":                     {Data: data},
			"triggers/t.json":                               {Data: data},
		}
		app, _ := rules.LoadApp(fsys)
		for _, e := range rules.Validate(app, rules.ValidateOptions{}) {
			if _, ok := fsys[e.File]; !ok || e.Line < 1 || e.Col < 1 || e.Code == "" {
				t.Fatalf("diagnostic lacks a place or code: %#v", e)
			}
			if _, err := e.Ptr.Tokens(); err != nil {
				t.Fatalf("diagnostic has a malformed pointer: %#v: %v", e, err)
			}
		}
		seen := map[string]bool{}
		for _, fn := range app.JSFunctions {
			if fn.Name == "" || seen[fn.Name] {
				t.Fatalf("function name %q empty or twice", fn.Name)
			}
			seen[fn.Name] = true
		}
	})
}
