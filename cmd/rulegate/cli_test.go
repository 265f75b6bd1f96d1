package main

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
)

// lastLine returns the last non-empty line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

var summaryLine = regexp.MustCompile(`^(\d+) passed, (\d+) failed$`)

// TestExamplesPass runs "rulegate test" on every bundled example, as the
// README's first command does.
func TestExamplesPass(t *testing.T) {
	dirs, err := filepath.Glob("../../examples/*/tests")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 2 {
		t.Fatalf("want at least the teams and customdata examples, found %v", dirs)
	}
	for _, d := range dirs {
		app := filepath.Dir(d)
		t.Run(filepath.Base(app), func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run([]string{"test", app}, nil, &out, &errb)
			if code != exitOK {
				t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
			}
			m := summaryLine.FindStringSubmatch(lastLine(out.String()))
			if m == nil || m[2] != "0" || m[1] == "0" {
				t.Fatalf("last line %q, want \"N passed, 0 failed\" with N > 0", lastLine(out.String()))
			}
		})
	}
}

// copyApp copies the app files of an example (not its Go program) to a
// temporary directory.
func copyApp(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		if strings.HasSuffix(p, ".go") {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// TestWrongExpectationFails flips one expectation of the teams example in
// a temporary copy: test must exit 1 and print the failing check with a
// readable trace that points into the rule file.
func TestWrongExpectationFails(t *testing.T) {
	app := copyApp(t, "../../examples/teams")
	p := filepath.Join(app, "tests", "members.json")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	const from = `"expect": {"read": false, "search": false}`
	if !bytes.Contains(data, []byte(from)) {
		t.Fatalf("%s no longer holds %s; update this test", p, from)
	}
	data = bytes.Replace(data, []byte(from), []byte(`"expect": {"read": true, "search": false}`), 1)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"test", app}, nil, &out, &errb)
	if code != exitProblems {
		t.Fatalf("exit %d, want 1\n%s%s", code, out.String(), errb.String())
	}
	text := out.String()
	for _, want := range []string{
		"--- FAIL: archived projects are hidden from members (tests/members.json:",
		"FAIL read: want allowed, got denied",
		"trace:",
		"data_sources/mongodb-atlas/teams/projects/rules.json:",
		"/filters/0",
		"filter.query",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	m := summaryLine.FindStringSubmatch(lastLine(text))
	if m == nil || m[2] != "1" {
		t.Errorf("last line %q, want \"N passed, 1 failed\"", lastLine(text))
	}
}

// TestInitTestsThenTest: the suite init-tests writes passes as written.
func TestInitTestsThenTest(t *testing.T) {
	app := copyApp(t, "../../examples/teams")
	var out, errb bytes.Buffer
	if code := run([]string{"init-tests", "--out", "tests/baseline.json", app}, nil, &out, &errb); code != exitOK {
		t.Fatalf("init-tests: exit %d\n%s%s", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"test", app}, nil, &out, &errb); code != exitOK {
		t.Fatalf("test after init-tests: exit %d\n%s%s", code, out.String(), errb.String())
	}
	// 13 hand-written tests plus 4 users x 7 documents.
	if got, want := lastLine(out.String()), "41 passed, 0 failed"; got != want {
		t.Errorf("last line %q, want %q", got, want)
	}
}

// TestEvalToken decides a request whose caller is an access token,
// verified with --secret; a wrong secret is unusable input.
func TestEvalToken(t *testing.T) {
	const secret = "a secret of at least thirty-two bytes"
	key, err := token.HMACKey("k1", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(keys)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signer.Sign(token.Params{UserID: "u1", CustomData: []byte(`{"teamIds": ["red"]}`)})
	if err != nil {
		t.Fatal(err)
	}
	req := `{"token": "` + tok + `", "namespace": "teams.projects", "action": "read", "document": {"team_id": "red", "name": "R"}}`

	var out, errb bytes.Buffer
	code := run([]string{"eval", "--app", "../../examples/teams", "--secret", secret}, strings.NewReader(req), &out, &errb)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var got struct {
		Allowed bool
		Role    *string
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if !got.Allowed || got.Role == nil || *got.Role != "member" {
		t.Errorf("decision %s, want allowed by member", out.String())
	}

	out.Reset()
	errb.Reset()
	code = run([]string{"eval", "--app", "../../examples/teams", "--secret", strings.Repeat("x", 40)}, strings.NewReader(req), &out, &errb)
	if code != exitUsage || !strings.Contains(errb.String(), "invalid signature") {
		t.Errorf("wrong secret: exit %d, stderr %q; want 2 and an invalid-signature error", code, errb.String())
	}
}

// TestEvalOutputKeyOrder pins the key order of eval's output.
func TestEvalOutputKeyOrder(t *testing.T) {
	var out, errb bytes.Buffer
	req := `{"user": {"id": "u1"}, "namespace": "teams.projects", "action": "read", "document": {}}`
	if code := run([]string{"eval", "--app", "../../examples/teams"}, strings.NewReader(req), &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	s := out.String()
	last := -1
	for _, k := range []string{`"allowed"`, `"role"`, `"reason"`, `"fields"`} {
		i := strings.Index(s, k)
		if i <= last {
			t.Fatalf("key %s out of order in\n%s", k, s)
		}
		last = i
	}
}

// TestColorOnlyWhenAsked: no ANSI codes unless on a terminal or asked.
func TestColorOnlyWhenAsked(t *testing.T) {
	app := "../../examples/customdata"
	var out bytes.Buffer
	run([]string{"test", app}, nil, &out, &bytes.Buffer{})
	if strings.Contains(out.String(), "\x1b[") {
		t.Errorf("colour codes written to a non-terminal: %q", out.String())
	}
	out.Reset()
	run([]string{"test", "--color=always", app}, nil, &out, &bytes.Buffer{})
	if !strings.Contains(out.String(), "\x1b[32m") {
		t.Errorf("--color=always wrote no colour: %q", out.String())
	}
}

// TestEvalHelpListsEveryReason checks that eval --help names every reason
// a decision can carry (evaluator.Reasons).
func TestEvalHelpListsEveryReason(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"eval", "--help"}, nil, &out, &errb); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, r := range evaluator.Reasons() {
		if !regexp.MustCompile(`[ ,]` + regexp.QuoteMeta(string(r)) + `[,\n]`).MatchString(out.String()) {
			t.Errorf("eval --help does not list the reason %q:\n%s", r, out.String())
		}
	}
}

// realworld is the folder of real App Services exports beside the
// repository (../shared/realworld from its root; see its SOURCES.md).
var realworld = filepath.Join("..", "..", "..", "shared", "realworld")

// TestRealWorldInitTestsThenTest runs init-tests, then test, on a
// temporary copy of every real export: none ships fixtures, so init-tests
// derives them from the schemas and rules, and the suite it writes must
// pass as written.
func TestRealWorldInitTestsThenTest(t *testing.T) {
	entries, err := os.ReadDir(realworld)
	if err != nil {
		t.Skipf("SKIPPED: the real-world exports are not at %s (%v); this test needs them", realworld, err)
	}
	apps := 0
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		apps++
		t.Run(e.Name(), func(t *testing.T) {
			app := copyApp(t, filepath.Join(realworld, e.Name()))
			var out, errb bytes.Buffer
			if code := run([]string{"init-tests", app}, nil, &out, &errb); code != exitOK {
				t.Fatalf("init-tests: exit %d\n%s%s", code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), "derived from the schemas") {
				t.Errorf("init-tests did not derive fixtures:\n%s", out.String())
			}
			generated := lastLine(strings.TrimSuffix(out.String(), lastLine(out.String())+"\n"))
			out.Reset()
			errb.Reset()
			if code := run([]string{"test", app}, nil, &out, &errb); code != exitOK {
				t.Fatalf("test after init-tests: exit %d\n%s%s", code, out.String(), errb.String())
			}
			m := summaryLine.FindStringSubmatch(lastLine(out.String()))
			if m == nil || m[2] != "0" || m[1] == "0" {
				t.Fatalf("last line %q, want \"N passed, 0 failed\" with N > 0", lastLine(out.String()))
			}
			t.Logf("%s; test: %s", generated[strings.LastIndex(generated, ": ")+2:], lastLine(out.String()))
			// The derived documents are valid: no user's write of the
			// document derived for them is denied for breaking the
			// schema (a "validate" expression may still deny others).
			out.Reset()
			run([]string{"test", "--json", app}, nil, &out, &errb)
			var rep struct {
				Tests []struct {
					Name, User, Document string
					Checks               []struct{ Action, Reason string }
				}
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatal(err)
			}
			for _, r := range rep.Tests {
				if r.Document != r.User+"-doc" {
					continue
				}
				for _, c := range r.Checks {
					if c.Reason == string(evaluator.ReasonSchema) {
						t.Errorf("%s: %s denied by the schema: the derived document breaks it", r.Name, c.Action)
					}
				}
			}
		})
	}
	if apps < 28 {
		t.Errorf("%d apps under %s, want the 28 of SOURCES.md", apps, realworld)
	}
}

// serve reads from RULEGATE_SECRET_<NAME> every secret the export names:
// a custom JWT provider's signing keys and the secrets values link to
// ("from_secret": true), which functions and rules read.
func TestServeSecretNames(t *testing.T) {
	app, err := rules.LoadApp(fstest.MapFS{
		"auth/providers.json": {Data: []byte(`{"custom-token": {"name": "custom-token", "type": "custom-token", "config": {"audience": "a", "signingAlgorithm": "HS256", "useJWKURI": false}, "secret_config": {"signingKeys": ["jwtKey"]}, "metadata_fields": []}}`)},
		"values/apiKey.json":  {Data: []byte(`{"name": "apiKey", "value": "apiKeySecret", "from_secret": true}`)},
		"values/plain.json":   {Data: []byte(`{"name": "plain", "value": "x"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := secretNames(app), []string{"jwtKey", "apiKeySecret"}; !slices.Equal(got, want) {
		t.Errorf("secretNames = %v, want %v", got, want)
	}
}
