package casetest

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/internal/txtar"
)

var (
	update      = flag.Bool("update", false, "rewrite the golden files of the test cases instead of comparing them")
	divergences = flag.Bool("divergences", false, "run the known-divergence cases strictly instead of skipping them")
)

// Updating reports whether the tests run with -update: goldens are
// rewritten, not compared.
func Updating() bool { return *update }

// Case is one case of a corpus, as Run hands it to the corpus' function.
type Case struct {
	// Path is the archive's file.
	Path string
	// Archive is the parsed case.
	Archive *txtar.Archive

	t       *testing.T
	changed bool
}

// Run runs every case matching pattern (filepath.Glob), in sorted order,
// each in a subtest named after its file, and fails when there is none.
// A case must start with a "#" line saying what it proves. Under -update,
// an archive whose goldens changed is written back once fn returns.
func Run(t *testing.T, pattern string, fn func(t *testing.T, c *Case)) {
	t.Helper()
	files, err := txtar.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no cases match %s", pattern)
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(a.Comment, []byte("#")) || a.Says() == "" {
				t.Fatalf("%s: a case starts with a # line saying what it proves", path)
			}
			c := &Case{Path: path, Archive: a, t: t}
			fn(t, c)
			if *update && c.changed {
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// File returns the named file of the case.
func (c *Case) File(name string) ([]byte, bool) { return c.Archive.Get(name) }

// Option changes how Check treats a golden.
type Option int

const (
	// IfPresent checks the golden only when the case has it (and under
	// -update, rewrites it only then); otherwise a missing golden fails.
	IfPresent Option = 1 << iota
	// AsJSON compares the golden and the output as JSON values: spacing
	// and key order aside.
	AsJSON
)

// Check compares got with the case's golden file name and fails the case
// when they differ, or under -update stores got there. It reports whether
// the output matches (always, under -update).
func (c *Case) Check(name string, got []byte, opts ...Option) bool {
	c.t.Helper()
	var o Option
	for _, x := range opts {
		o |= x
	}
	want, ok := c.Archive.Get(name)
	if !ok && o&IfPresent != 0 {
		return true
	}
	same, err := bytes.Equal(got, want), error(nil)
	if ok && o&AsJSON != 0 {
		same, err = sameJSON(got, want)
	}
	if *update {
		// A golden the output matches stays as it is, spacing included.
		if !ok || !same {
			c.Archive.Set(name, got)
			c.changed = true
		}
		return true
	}
	switch {
	case !ok:
		c.t.Errorf("%s: no %s; run go test -update", c.Path, name)
	case err != nil:
		c.t.Errorf("%s: %s: %v", c.Path, name, err)
	case !same:
		c.t.Errorf("%s: %s differs\n--- got\n%s\n--- want\n%s", c.Path, name, got, want)
	}
	return ok && same
}

// Remove drops the named golden under -update: the case no longer
// produces it.
func (c *Case) Remove(name string) {
	if _, ok := c.Archive.Get(name); !*update || !ok {
		return
	}
	var files []txtar.File
	for _, f := range c.Archive.Files {
		if f.Name != name {
			files = append(files, f)
		}
	}
	c.Archive.Files = files
	c.changed = true
}

// Report fails the case with diffs, how its outcome differs from the
// expected one. A case with a known-divergence file is skipped instead,
// saying what it got, unless the tests run with -divergences; one that no
// longer diverges is skipped with a reminder to drop the file, so that the
// suite stays green while another change closes the divergence.
func (c *Case) Report(diffs []string) {
	c.t.Helper()
	div, isDiv := c.Archive.Get("known-divergence")
	why := strings.TrimSpace(string(div))
	switch {
	case isDiv && len(diffs) == 0:
		c.t.Skipf("known divergence no longer diverges; remove the known-divergence file: %s", why)
	case isDiv && !*divergences:
		c.t.Skipf("known divergence (%s): %s", strings.Join(diffs, "; "), why)
	case len(diffs) > 0:
		c.t.Errorf("%s\n%s", strings.Join(diffs, "\n"), c.Archive.Says())
	}
}

// sameJSON reports whether got and want hold the same JSON value.
func sameJSON(got, want []byte) (bool, error) {
	var g, w any
	if err := json.Unmarshal(want, &w); err != nil {
		return false, fmt.Errorf("the golden is not JSON: %v", err)
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return false, fmt.Errorf("the output is not JSON: %v\n%s", err, got)
	}
	return reflect.DeepEqual(g, w), nil
}
