package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// wildaidFunctions are the four functions the WildAid O-FISH rules call;
// the export has their configs only. ../../testdata/wildaid-functions
// holds sources we wrote for them.
var wildaidFunctions = []string{"isAgencyAdmin", "isAgencyMember", "isGlobalAdmin", "isPartner"}

// TestWildAidFunctions copies the WildAid O-FISH export, adds our four
// functions' sources (old layout: functions/<name>/source.js) and checks
// that rulegate check reports no error (warnings allowed: the export
// lacks its other functions' sources) and nothing about the four, and that
// the suite in ../../testdata/wildaid-suite passes both with the
// functions running over its "collections" and with stubs in their place
// (its stubs.json), the same tests and expectations both ways.
func TestWildAidFunctions(t *testing.T) {
	src := filepath.Join(realworld, "WildAid__o-fish-realm__WildAidDemo")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("SKIPPED: the real-world exports are not at %s (%v); this test needs them", realworld, err)
	}
	app := copyApp(t, src)
	for _, name := range wildaidFunctions {
		data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wildaid-functions", name, "source.js"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(app, "functions", name, "source.js"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var out, errb bytes.Buffer
	code := run([]string{"check", "--allow-warnings", "--color=never", app}, nil, &out, &errb)
	all := out.String() + errb.String()
	if code != exitOK || !regexp.MustCompile(`: \d+ files checked, 0 errors, \d+ warnings\n`).MatchString(all) {
		t.Fatalf("check: exit %d\n%s", code, lastLine(all))
	}
	for _, line := range strings.Split(all, "\n") {
		for _, name := range wildaidFunctions {
			if strings.Contains(line, `"`+name+`"`) || strings.Contains(line, "functions/"+name+"/") {
				t.Errorf("check says of %s: %s", name, line)
			}
		}
	}

	suite := filepath.Join("..", "..", "testdata", "wildaid-suite")
	for _, f := range []string{"fixtures/users.json", "fixtures/documents.json"} {
		copyFile(t, filepath.Join(suite, f), filepath.Join(app, f))
	}
	jsTests, err := os.ReadFile(filepath.Join(suite, "tests", "wildaid.json"))
	if err != nil {
		t.Fatal(err)
	}
	stubbed := withStubs(t, jsTests, filepath.Join(suite, "stubs.json"))
	for _, v := range []struct {
		name  string
		tests []byte
	}{{"javascript", jsTests}, {"stubs", stubbed}} {
		t.Run(v.name, func(t *testing.T) {
			if err := os.MkdirAll(filepath.Join(app, "tests"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(app, "tests", "wildaid.json"), v.tests, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			if code := run([]string{"test", "--color=never", app}, nil, &out, &errb); code != exitOK || lastLine(out.String()) != "18 passed, 0 failed" {
				t.Fatalf("test: exit %d\n%s%s", code, out.String(), errb.String())
			}
		})
	}
}

// withStubs returns the test file tests without its "collections" and
// with, in each test, the stubs stubsFile gives it: true for the
// functions it lists, false for the other WildAid functions.
func withStubs(t *testing.T, tests []byte, stubsFile string) []byte {
	t.Helper()
	var file map[string]json.RawMessage
	if err := json.Unmarshal(tests, &file); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(stubsFile)
	if err != nil {
		t.Fatal(err)
	}
	var trues map[string]json.RawMessage
	if err := json.Unmarshal(data, &trues); err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal(file["tests"], &list); err != nil {
		t.Fatal(err)
	}
	for _, test := range list {
		name := test["name"].(string)
		raw, ok := trues[name]
		if !ok {
			t.Fatalf("%s has no stubs for %q", stubsFile, name)
		}
		var names []string
		if err := json.Unmarshal(raw, &names); err != nil {
			t.Fatal(err)
		}
		fns := map[string]bool{}
		for _, f := range wildaidFunctions {
			fns[f] = false
		}
		for _, f := range names {
			fns[f] = true
		}
		test["functions"] = fns
	}
	out, err := json.MarshalIndent(map[string]any{"tests": list}, "", "    ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
