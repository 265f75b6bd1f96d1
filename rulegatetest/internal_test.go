package rulegatetest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestEmbeddedSourceIsCurrent: the embedded copies are <repo>/testserver's
// files (run go generate ./rulegatetest after changing them). Outside the
// repository (rulegate in a module cache) there is no testserver/ to
// compare with.
func TestEmbeddedSourceIsCurrent(t *testing.T) {
	for _, f := range serverFiles {
		want, err := os.ReadFile(filepath.Join("..", "testserver", f.name))
		if errors.Is(err, fs.ErrNotExist) {
			t.Skip("no ../testserver: not in the rulegate repository")
		}
		if err != nil {
			t.Fatal(err)
		}
		got, err := fs.ReadFile(serverSource, f.embedded)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from ../testserver/%s: run go generate ./rulegatetest", f.embedded, f.name)
		}
	}
}

// TestBuildInFreshCache: the server builds from the embedded source alone,
// in a cache directory that holds nothing yet (as on a user's first run),
// whatever the user's GOFLAGS and go.work say, and the second call reuses
// the executable.
func TestBuildInFreshCache(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the embedded server (seconds with a warm go build cache, a minute without)")
	}
	t.Setenv("GOFLAGS", "-mod=vendor")
	t.Setenv("GOWORK", filepath.Join(t.TempDir(), "go.work"))
	cache := t.TempDir()
	bin, err := buildIn(context.Background(), cache)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	if rel, err := filepath.Rel(cache, bin); err != nil || !filepath.IsLocal(rel) {
		t.Fatalf("executable %s outside the cache %s", bin, cache)
	}
	again, err := buildIn(context.Background(), cache)
	if err != nil || again != bin {
		t.Fatalf("second build = %s, %v; want %s reused", again, err, bin)
	}
	st2, _ := os.Stat(again)
	if !st2.ModTime().Equal(st.ModTime()) {
		t.Errorf("the executable was rebuilt")
	}
	// Nothing but the executable is left: the build directory is removed.
	entries, _ := os.ReadDir(filepath.Dir(bin))
	if len(entries) != 1 {
		t.Errorf("cache directory holds %d entries, want the executable alone", len(entries))
	}
}

func TestDBName(t *testing.T) {
	long := dbName("TestA/very long name with spaces and/slashes that goes on and on and on", 7)
	if len(long) > 63 {
		t.Errorf("%q: %d bytes", long, len(long))
	}
	for _, r := range long {
		if r == '/' || r == ' ' || r == '.' {
			t.Errorf("%q holds %q", long, r)
		}
	}
}
