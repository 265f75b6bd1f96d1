package casetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// corpus writes the named archives into a new directory and returns its
// *.txtar pattern.
func corpus(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name+".txtar"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "*.txtar")
}

func read(t *testing.T, pattern, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(pattern), name+".txtar"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// produce is the corpus function of the tests: each case's "in" file, upper
// cased, is its "out" golden; "opt" is checked only where present; "json"
// is compared as JSON.
func produce(t *testing.T, c *Case) {
	in, _ := c.File("in")
	c.Check("out", []byte(strings.ToUpper(string(in))))
	c.Check("opt", []byte("opt\n"), IfPresent)
	if _, ok := c.File("json"); ok {
		c.Check("json", []byte(`{"a": 1, "b": [2]}`+"\n"), AsJSON)
	}
}

func TestCompare(t *testing.T) {
	pattern := corpus(t, map[string]string{
		"plain": "# proves the plain case\n-- in --\nx\n-- out --\nX\n",
		"json":  "# proves JSON equality\n-- in --\n-- out --\n-- json --\n{\"b\":[2],\"a\":1}\n-- opt --\nopt\n",
	})
	Run(t, pattern, produce)
}

func TestUpdate(t *testing.T) {
	*update = true
	defer func() { *update = false }()
	clean := "# proves an unchanged case is not rewritten\n-- in --\nx\n-- out --\nX"
	sameJSON := "# proves a JSON golden equal as JSON is kept as written\n-- in --\n-- out --\n-- json --\n{\"b\":[2],  \"a\":1}\n"
	pattern := corpus(t, map[string]string{
		"stale": "# proves a stale golden is rewritten\n-- in --\nx\n-- out --\nold\n",
		"new":   "# proves a missing golden is added, an optional one not\n-- in --\ny\n",
		"clean": clean,
		"json":  sameJSON,
	})
	Run(t, pattern, produce)
	for name, want := range map[string]string{
		"stale": "# proves a stale golden is rewritten\n-- in --\nx\n-- out --\nX\n",
		"new":   "# proves a missing golden is added, an optional one not\n-- in --\ny\n-- out --\nY\n",
		"clean": clean,
		"json":  sameJSON,
	} {
		if got := read(t, pattern, name); got != want {
			t.Errorf("%s after -update:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

func TestRemove(t *testing.T) {
	*update = true
	defer func() { *update = false }()
	pattern := corpus(t, map[string]string{"gone": "# proves Remove\n-- keep --\n-- drop --\nx\n"})
	Run(t, pattern, func(t *testing.T, c *Case) { c.Remove("drop") })
	if got, want := read(t, pattern, "gone"), "# proves Remove\n-- keep --\n"; got != want {
		t.Errorf("after Remove:\n%s\nwant:\n%s", got, want)
	}
}

// TestFailures runs corpora that must fail, or be skipped, in a child
// test process (TestChild), and checks what it says.
func TestFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cases map[string]string
		flags []string
		fails bool
		says  string
	}{
		{"no # line", map[string]string{"c": "proves nothing\n-- in --\n-- out --\n"}, nil, true,
			"a case starts with a # line saying what it proves"},
		{"an empty # line", map[string]string{"c": "#\n-- in --\n-- out --\n"}, nil, true,
			"a case starts with a # line saying what it proves"},
		{"a differing golden", map[string]string{"c": "# c\n-- in --\nx\n-- out --\nY\n"}, nil, true,
			"c.txtar: out differs"},
		{"a missing golden", map[string]string{"c": "# c\n-- in --\nx\n"}, nil, true,
			"no out; run go test -update"},
		{"JSON that differs", map[string]string{"c": "# c\n-- in --\n-- out --\n-- json --\n{\"a\": 2, \"b\": [2]}\n"}, nil, true,
			"json differs"},
		{"a golden that is not JSON", map[string]string{"c": "# c\n-- in --\n-- out --\n-- json --\n{\n"}, nil, true,
			"json: the golden is not JSON"},
		{"no cases", map[string]string{}, nil, true, "no cases match"},
		{"a known divergence", map[string]string{"c": "# c\n-- in --\nx\n-- out --\nY\n-- known-divergence --\nissue 99\n"}, nil, false,
			"known divergence (out: got X, want Y): issue 99"},
		{"a known divergence, strictly", map[string]string{"c": "# c\n-- in --\nx\n-- out --\nY\n-- known-divergence --\nissue 99\n"},
			[]string{"-divergences"}, true, "--- FAIL: TestChild/c"},
		{"a known divergence that is fixed", map[string]string{"c": "# c\n-- in --\nx\n-- out --\nX\n-- known-divergence --\nissue 99\n"}, nil, false,
			"known divergence no longer diverges; remove the known-divergence file: issue 99"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"-test.run=^TestChild$", "-test.v"}, tc.flags...)
			cmd := exec.Command(os.Args[0], args...)
			cmd.Env = append(os.Environ(), "CASETEST_CORPUS="+corpus(t, tc.cases))
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != tc.fails {
				t.Errorf("failed %v (%v), want %v:\n%s", failed, err, tc.fails, out)
			}
			if !strings.Contains(string(out), tc.says) {
				t.Errorf("output does not say %q:\n%s", tc.says, out)
			}
		})
	}
}

// TestChild runs the corpus of CASETEST_CORPUS for TestFailures. Its
// divergences are a golden "out" that differs from the upper-cased "in".
func TestChild(t *testing.T) {
	pattern := os.Getenv("CASETEST_CORPUS")
	if pattern == "" {
		t.Skip("run by TestFailures")
	}
	Run(t, pattern, func(t *testing.T, c *Case) {
		if _, ok := c.File("known-divergence"); !ok {
			produce(t, c)
			return
		}
		in, _ := c.File("in")
		want, _ := c.File("out")
		var diffs []string
		if got := strings.ToUpper(string(in)); got != string(want) {
			diffs = append(diffs, "out: got "+strings.TrimSpace(got)+", want "+strings.TrimSpace(string(want)))
		}
		c.Report(diffs)
	})
}
