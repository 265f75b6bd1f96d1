package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/internal/casetest"
)

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
	examples, err := filepath.Abs("../../examples")
	if err != nil {
		t.Fatal(err)
	}
	casetest.Run(t, "testdata/*.txtar", func(t *testing.T, c *casetest.Case) {
		work := t.TempDir()
		for _, f := range c.Archive.Files {
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
		argsText, ok := c.File("args")
		if !ok {
			t.Fatalf("%s: no args file", c.Path)
		}
		expand := strings.NewReplacer("$WORK", work, "$EXAMPLES", examples)
		var args []string
		for _, l := range strings.Split(strings.TrimRight(string(argsText), "\n"), "\n") {
			args = append(args, expand.Replace(l))
		}
		stdin, _ := c.File("stdin")
		var stdout, stderr bytes.Buffer
		code := run(args, bytes.NewReader(stdin), &stdout, &stderr)
		clean := func(s string) []byte {
			s = strings.ReplaceAll(s, work, "$WORK")
			return []byte(strings.ReplaceAll(s, examples, "$EXAMPLES"))
		}
		c.Check("exit", []byte(strconv.Itoa(code)+"\n"))
		c.Check("stdout", clean(stdout.String()))
		c.Check("stderr", clean(stderr.String()))
		for _, f := range c.Archive.Files {
			if rel, ok := strings.CutPrefix(f.Name, "want/"); ok {
				data, err := os.ReadFile(filepath.Join(work, filepath.FromSlash(rel)))
				if err != nil {
					t.Errorf("%s: the run did not write %s: %v", c.Path, rel, err)
					continue
				}
				c.Check(f.Name, clean(string(data)))
			}
		}
	})
}
