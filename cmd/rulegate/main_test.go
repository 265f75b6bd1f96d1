package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/internal/txtar"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/*.txtar")

// TestGolden runs each testdata/*.txtar case through run, in-process:
//
//	args          the command line, one argument per line; $WORK is the
//	              case's temporary directory, $EXAMPLES the repository's
//	              examples/ folder
//	stdin         standard input (optional)
//	app/...       files written under $WORK/app before the run
//	exit          the wanted exit code
//	stdout        the wanted standard output
//	stderr        the wanted standard error
//	want/<path>   a file the run must have written under $WORK
//
// Outputs are compared with $WORK and $EXAMPLES put back in place of the
// real paths. go test -update rewrites exit, stdout, stderr and want/*.
func TestGolden(t *testing.T) {
	cases, err := txtar.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatal("no testdata/*.txtar cases")
	}
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range cases {
		name := strings.TrimSuffix(filepath.Base(path), ".txtar")
		t.Run(name, func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if a.Says() == "" {
				t.Fatalf("%s: the case must start with a # line saying what it proves", path)
			}
			work := t.TempDir()
			for _, f := range a.Files {
				if rel, ok := strings.CutPrefix(f.Name, "app/"); ok {
					p := filepath.Join(work, "app", filepath.FromSlash(rel))
					if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(p, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
				}
			}
			argsText, ok := a.Get("args")
			if !ok {
				t.Fatalf("%s: no args file", path)
			}
			expand := strings.NewReplacer("$WORK", work, "$EXAMPLES", examples)
			var args []string
			for _, l := range strings.Split(strings.TrimRight(string(argsText), "\n"), "\n") {
				args = append(args, expand.Replace(l))
			}
			stdin, _ := a.Get("stdin")
			var stdout, stderr bytes.Buffer
			code := run(args, bytes.NewReader(stdin), &stdout, &stderr)
			clean := func(s string) string {
				s = strings.ReplaceAll(s, work, "$WORK")
				return strings.ReplaceAll(s, examples, "$EXAMPLES")
			}
			got := map[string]string{
				"exit":   strconv.Itoa(code) + "\n",
				"stdout": clean(stdout.String()),
				"stderr": clean(stderr.String()),
			}
			for _, f := range a.Files {
				if rel, ok := strings.CutPrefix(f.Name, "want/"); ok {
					data, err := os.ReadFile(filepath.Join(work, filepath.FromSlash(rel)))
					if err != nil {
						t.Errorf("%s: the run did not write %s: %v", path, rel, err)
						continue
					}
					got[f.Name] = clean(string(data))
				}
			}
			if *update {
				for _, k := range []string{"exit", "stdout", "stderr"} {
					a.Set(k, []byte(got[k]))
				}
				for k, v := range got {
					if strings.HasPrefix(k, "want/") {
						a.Set(k, []byte(v))
					}
				}
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			for k, v := range got {
				want, ok := a.Get(k)
				if !ok {
					t.Errorf("%s: no %q file; run go test -update", path, k)
					continue
				}
				if string(want) != v {
					t.Errorf("%s: %s differs\n--- got\n%s\n--- want\n%s", path, k, v, want)
				}
			}
		})
	}
}
