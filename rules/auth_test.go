package rules_test

import (
	"reflect"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/rules"
)

// TestProviders reads the typed configuration of each provider type the
// server serves, and checks that App.Provider finds a provider by name.
func TestProviders(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		userPass   *rules.UserPassConfig
		token      *rules.CustomTokenConfig
		fields     []rules.MetadataField
	}{
		{name: "anon-user", json: `{"name": "anon-user", "type": "anon-user", "disabled": false}`},
		{name: "api-key", json: `{"type": "api-key", "config": {"whatever": 1}}`},
		{name: "custom-function", json: `{"type": "custom-function", "config": {"authFunctionName": "f"}}`},
		{
			name:     "local-userpass",
			json:     `{"type": "local-userpass", "config": {"autoConfirm": true, "resetFunctionName": "resetFunc", "runConfirmationFunction": false, "runResetFunction": true, "resetPasswordSubject": "x"}}`,
			userPass: &rules.UserPassConfig{AutoConfirm: true, RunResetFunction: true, ResetFunctionName: "resetFunc"},
		},
		{
			name:     "local-userpass",
			json:     `{"type": "local-userpass", "config": {"emailConfirmationUrl": "https://a/confirm", "resetPasswordUrl": "https://a/reset", "runConfirmationFunction": true, "confirmationFunctionName": "confirm"}}`,
			userPass: &rules.UserPassConfig{EmailConfirmationURL: "https://a/confirm", ResetPasswordURL: "https://a/reset", RunConfirmationFunction: true, ConfirmationFunctionName: "confirm"},
		},
		{
			name:     "local-userpass",
			json:     `{"type": "local-userpass"}`,
			userPass: &rules.UserPassConfig{},
		},
		{
			name:  "custom-token",
			json:  `{"type": "custom-token", "config": {"audience": "a", "signingAlgorithm": "RS256"}, "secret_config": {"signingKeys": ["k1", "k2"]}}`,
			token: &rules.CustomTokenConfig{Audience: []string{"a"}, SigningAlgorithm: "RS256", SigningKeys: []string{"k1", "k2"}},
		},
		{
			name:  "custom-token",
			json:  `{"type": "custom-token", "config": {"audience": [], "useJWKURI": true, "jwkURI": "https://k", "requireAnyAudience": true}}`,
			token: &rules.CustomTokenConfig{RequireAnyAudience: true, UseJWKURI: true, JWKURI: "https://k"},
		},
		{
			name:   "custom-token",
			json:   `{"type": "custom-token", "config": {"signingAlgorithm": "HS256"}, "secret_config": {"signingKeys": ["k"]}, "metadata_fields": [{"required": false, "name": "user", "field_name": "name"}, {"name": "a\\.b.c"}]}`,
			token:  &rules.CustomTokenConfig{SigningAlgorithm: "HS256", SigningKeys: []string{"k"}},
			fields: []rules.MetadataField{{Name: "user", Path: []string{"user"}, FieldName: "name"}, {Name: `a\.b.c`, Path: []string{"a.b", "c"}, FieldName: "c"}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := rules.LoadApp(fstest.MapFS{"auth/providers.json": {Data: []byte(`{"` + tc.name + `": ` + tc.json + `}`)}})
			if err != nil {
				t.Fatal(err)
			}
			if errs := rules.Validate(app, rules.ValidateOptions{}); len(errs) > 0 {
				t.Fatal(errs)
			}
			p := app.Provider(tc.name)
			if p == nil || p.Name != tc.name || p.Type != tc.name {
				t.Fatalf("Provider(%q) = %+v", tc.name, p)
			}
			if !reflect.DeepEqual(p.UserPass, tc.userPass) {
				t.Errorf("UserPass = %+v, want %+v", p.UserPass, tc.userPass)
			}
			if !reflect.DeepEqual(p.CustomToken, tc.token) {
				t.Errorf("CustomToken = %+v, want %+v", p.CustomToken, tc.token)
			}
			if len(p.MetadataFields) != len(tc.fields) {
				t.Fatalf("MetadataFields = %d, want %d", len(p.MetadataFields), len(tc.fields))
			}
			for i, f := range p.MetadataFields {
				w := tc.fields[i]
				if f.Name != w.Name || !reflect.DeepEqual(f.Path, w.Path) || f.FieldName != w.FieldName || f.Required != w.Required {
					t.Errorf("MetadataFields[%d] = %+v, want %+v", i, f, w)
				}
			}
			if app.Provider("nope") != nil {
				t.Error("Provider of an unknown name is not nil")
			}
		})
	}
}

// TestAppID checks which file gives App.ID in each layout.
func TestAppID(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fsys  fstest.MapFS
		id    string
		title string
	}{
		{"realm_config.json", fstest.MapFS{"realm_config.json": {Data: []byte(`{"app_id": "a-1", "name": "a"}`)}, "root_config.json": {Data: []byte(`{"app_id": "b-2"}`)}}, "a-1", "a"},
		{"root_config.json", fstest.MapFS{"root_config.json": {Data: []byte(`{"app_id": "b-2", "name": "b"}`)}}, "b-2", "b"},
		{"none", fstest.MapFS{"realm_config.json": {Data: []byte(`{"name": "c"}`)}}, "", "c"},
		{"stitch.json", fstest.MapFS{"stitch.json": {Data: []byte(`{"app_id": "s-3", "name": "s"}`)}}, "s-3", "s"},
		{"config.json", fstest.MapFS{"config.json": {Data: []byte(`{"app_id": "c-4"}`)}, "stitch.json": {Data: []byte(`{"app_id": "", "name": "n"}`)}}, "c-4", "n"},
		{"empty", fstest.MapFS{"data_sources/mongodb-atlas/config.json": {Data: []byte(`{}`)}}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := rules.LoadApp(tc.fsys)
			if err != nil {
				t.Fatal(err)
			}
			if app.ID != tc.id || app.Name != tc.title {
				t.Errorf("ID, Name = %q, %q; want %q, %q", app.ID, app.Name, tc.id, tc.title)
			}
		})
	}
}

// TestDataAPI checks the defaults of data_api_config.json and that an app
// without it has no DataAPI.
func TestDataAPI(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{"realm_config.json": {Data: []byte(`{}`)}})
	if err != nil || app.DataAPI != nil {
		t.Fatalf("without data_api_config.json: %v, %+v", err, app.DataAPI)
	}
	app, err = rules.LoadApp(fstest.MapFS{"https_endpoints/data_api_config.json": {Data: []byte(`{"versions": ["v1"], "can_evaluate": {"%%user.data.email": {"$exists": true}}}`)}})
	if err != nil {
		t.Fatal(err)
	}
	c := app.DataAPI
	if c == nil || c.Disabled || c.ReturnType != "JSON" || !reflect.DeepEqual(c.Versions, []string{"v1"}) || c.ValidationMethod != "" || c.RunAsUserID != "" {
		t.Fatalf("DataAPI = %+v", c)
	}
	if got := rules.Summary(c.CanEvaluate); got != "%%user.data.email {$exists bool:true}" {
		t.Errorf("CanEvaluate = %s", got)
	}
	if c.FileName() != "https_endpoints/data_api_config.json" {
		t.Errorf("FileName = %q", c.FileName())
	}
}
