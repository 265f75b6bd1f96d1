package rules_test

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

func valuesApp(t *testing.T) *rules.App {
	t.Helper()
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(`{"roles": []}`)},
		"values/admins.json":                            {Data: []byte(`{"name": "admins", "value": ["u1", "u2"]}`)},
		"values/limit.json":                             {Data: []byte(`{"name": "limit", "value": 10, "from_secret": false}`)},
		"values/apiKey.json":                            {Data: []byte(`{"name": "apiKey", "value": "stripeKey", "from_secret": true}`)},
		"environments/production.json":                  {Data: []byte(`{"values": {"baseUrl": "https://example.com", "open": false}}`)},
		"environments/development.json":                 {Data: []byte(`{"values": {"baseUrl": "https://dev.example.com"}}`)},
		"environments/no-environment.json":              {Data: []byte(`{"values": {"baseUrl": "http://localhost"}}`)},
		"realm_config.json":                             {Data: []byte(`{"app_id": "x", "environment": "development"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return app
}

func TestLoadValues(t *testing.T) {
	app := valuesApp(t)
	if app.Environment != "development" {
		t.Errorf("Environment = %q, want development (realm_config.json)", app.Environment)
	}
	var names []string
	for _, v := range app.Values {
		names = append(names, v.Name+"="+string(v.JSON)+"/"+v.Secret)
	}
	if got, want := names, []string{"admins=[\"u1\", \"u2\"]/", "apiKey=/stripeKey", "limit=10/"}; !equal(got, want) {
		t.Errorf("Values = %q, want %q", got, want)
	}
	var tags []string
	for _, e := range app.Environments {
		tags = append(tags, e.Tag)
	}
	if want := []string{"", "development", "production"}; !equal(tags, want) {
		t.Errorf("Environment tags = %q, want %q", tags, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAppInputs(t *testing.T) {
	app := valuesApp(t)
	for _, tc := range []struct {
		name             string
		in               expansion.Inputs
		tag              string
		values, env, err string
	}{
		{name: "plain values, a secret stays unset", tag: "development",
			values: `{"admins":["u1", "u2"],"limit":10}`,
			env:    `{"tag":"development","values":{"baseUrl":"https://dev.example.com"}}`},
		{name: "no environment", tag: "",
			values: `{"admins":["u1", "u2"],"limit":10}`,
			env:    `{"tag":"","values":{"baseUrl":"http://localhost"}}`},
		{name: "a supported environment without a file has no values", tag: "qa",
			values: `{"admins":["u1", "u2"],"limit":10}`,
			env:    `{"tag":"qa","values":{}}`},
		{name: "the caller's values add and replace by name", tag: "production",
			in:     expansion.Inputs{Values: []byte(`{"apiKey": "sk_test", "limit": 3}`)},
			values: `{"admins":["u1", "u2"],"apiKey":"sk_test","limit":3}`,
			env:    `{"tag":"production","values":{"baseUrl":"https://example.com","open":false}}`},
		{name: "the caller's environment values replace by name", tag: "production",
			in:     expansion.Inputs{Environment: []byte(`{"values": {"open": true}}`)},
			values: `{"admins":["u1", "u2"],"limit":10}`,
			env:    `{"tag":"production","values":{"baseUrl":"https://example.com","open":true}}`},
		{name: "the caller's tag selects the file", tag: "development",
			in:     expansion.Inputs{Environment: []byte(`{"tag": "production"}`)},
			values: `{"admins":["u1", "u2"],"limit":10}`,
			env:    `{"tag":"production","values":{"baseUrl":"https://example.com","open":false}}`},
		{name: "an unknown environment", tag: "staging",
			err: `rules: unknown environment "staging": App Services supports "", "development", "testing", "qa", "production", and the app has no environments/staging.json (it has "", "development", "production")`},
		{name: "caller values not an object", tag: "", in: expansion.Inputs{Values: []byte(`[1]`)},
			err: "rules: values must be a JSON object, got an array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := app.Inputs(tc.in, tc.tag)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("err = %v, want %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got.Values) != tc.values {
				t.Errorf("Values = %s, want %s", got.Values, tc.values)
			}
			if string(got.Environment) != tc.env {
				t.Errorf("Environment = %s, want %s", got.Environment, tc.env)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
	if _, err := app.Inputs(expansion.Inputs{}, "staging"); !errors.Is(err, rules.ErrEnvironment) {
		t.Errorf("errors.Is(err, ErrEnvironment) = false for %v", err)
	}
}

// FuzzValues checks, for any bytes as a value file, an environment file,
// realm_config.json, functions/config.json and a caller's overrides, that
// LoadApp never panics and reports well-formed diagnostics, and that
// App.Inputs either fails or gives inputs that Validate accepts (JSON
// objects). It is seeded with the value and environment files of the
// conformance corpus.
func FuzzValues(f *testing.F) {
	files, _ := txtar.Glob("testdata/cases/*.txtar")
	for _, file := range files {
		a, err := txtar.ParseFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, af := range a.Files {
			if strings.HasPrefix(af.Name, "values/") || strings.HasPrefix(af.Name, "environments/") || af.Name == "realm_config.json" {
				f.Add(af.Data, []byte(`{"values":{"x":1}}`))
			}
		}
	}
	f.Add([]byte(`{"name":"a","value":{"$oid":"5f0000000000000000000001"}}`), []byte(`{"tag":"qa","values":{"a":"\u0000"}}`))
	f.Fuzz(func(t *testing.T, data, over []byte) {
		fsys := fstest.MapFS{
			"values/v.json":                {Data: data},
			"environments/production.json": {Data: data},
			"realm_config.json":            {Data: data},
			"functions/config.json":        {Data: data},
			"functions/f/config.json":      {Data: data},
		}
		app, err := rules.LoadApp(fsys)
		if err != nil {
			for _, e := range err.(source.ErrorList) {
				if e.Code == "" || e.File == "" || (e.Line < 1 && e.Code != rules.CodeFile) {
					t.Fatalf("diagnostic without a place or code: %#v", e)
				}
				if !strings.HasPrefix(string(e.Ptr), "/") && e.Ptr != "" {
					t.Fatalf("malformed pointer %q", e.Ptr)
				}
			}
		}
		for _, in := range []expansion.Inputs{{}, {Values: over}, {Environment: over}} {
			got, err := app.Inputs(in, "production")
			if err != nil {
				continue
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Inputs gave inputs Validate refuses: %v\nvalues %s\nenvironment %s", err, got.Values, got.Environment)
			}
		}
	})
}

// The environment an app runs in is the "environment" key of its app
// configuration: realm_config.json, else root_config.json, which
// source/reference/config/app.txt documents ("environment": the
// environment the app uses).
func TestEnvironmentFromAppConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"realm_config.json", fstest.MapFS{"realm_config.json": {Data: []byte(`{"environment": "qa"}`)}, "root_config.json": {Data: []byte(`{"environment": "production"}`)}}, "qa"},
		{"root_config.json", fstest.MapFS{"root_config.json": {Data: []byte(`{"app_id": "x", "environment": "production"}`)}}, "production"},
		{"none", fstest.MapFS{"root_config.json": {Data: []byte(`{"app_id": "x"}`)}}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := rules.LoadApp(tc.fsys)
			if err != nil {
				t.Fatal(err)
			}
			if app.Environment != tc.want {
				t.Errorf("Environment = %q, want %q", app.Environment, tc.want)
			}
		})
	}
}
