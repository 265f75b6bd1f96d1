package rulegatetest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

// The embedded server's module: copies of <repo>/testserver's main.go,
// go.mod and go.sum (a directory with a go.mod is a module of its own,
// which the go command leaves out of rulegate's module zip, so a user's
// module cache never holds testserver/). TestEmbeddedSourceIsCurrent fails
// when they differ from testserver/.
//
//go:generate cp ../testserver/main.go testserver/main.go.txt
//go:generate cp ../testserver/go.mod testserver/go.mod.txt
//go:generate cp ../testserver/go.sum testserver/go.sum.txt
//go:embed testserver/main.go.txt testserver/go.mod.txt testserver/go.sum.txt
var serverSource embed.FS

// serverFiles maps the embedded files to the names they take in the build
// directory.
var serverFiles = [...]struct{ embedded, name string }{
	{"testserver/go.mod.txt", "go.mod"},
	{"testserver/go.sum.txt", "go.sum"},
	{"testserver/main.go.txt", "main.go"},
}

// startTimeout bounds building and starting the embedded server; the first
// build of FerretDB and its dependencies takes about a minute on a small
// machine (longer when the go command must download them).
const startTimeout = 5 * time.Minute

// buildMu serializes builds within a process; builds in different
// processes meet only at the final rename, which is atomic.
var buildMu sync.Mutex

// binary returns the path of the embedded server's executable, building it
// first when the cache does not hold it: <cache>/testserver-<hash>/, where
// cache is os.UserCacheDir()/rulegate (os.TempDir()/rulegate-cache when
// there is no user cache directory) and hash covers the embedded source and
// the target platform.
func binary(ctx context.Context) (string, error) {
	root, err := os.UserCacheDir()
	if err == nil {
		root = filepath.Join(root, "rulegate")
	} else {
		root = filepath.Join(os.TempDir(), "rulegate-cache")
	}
	return buildIn(ctx, root)
}

// buildIn is binary with the cache directory given.
func buildIn(ctx context.Context, cache string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s/%s\n", runtime.GOOS, runtime.GOARCH)
	for _, f := range serverFiles {
		b, err := fs.ReadFile(serverSource, f.embedded)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f.name, len(b))
		h.Write(b)
	}
	dir := filepath.Join(cache, "testserver-"+hex.EncodeToString(h.Sum(nil))[:16])
	bin := filepath.Join(dir, "rulegate-testserver")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}

	buildMu.Lock()
	defer buildMu.Unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	src, err := os.MkdirTemp(dir, "build-*")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(src)
	for _, f := range serverFiles {
		b, _ := fs.ReadFile(serverSource, f.embedded)
		if err := os.WriteFile(filepath.Join(src, f.name), b, 0o644); err != nil {
			return "", err
		}
	}
	out := filepath.Join(src, filepath.Base(bin))
	build := exec.CommandContext(ctx, "go", "build", "-o", out, ".")
	build.Dir = src
	// The build directory is a module of its own: no workspace, the
	// go.sum as written, no VCS stamping (the user's GOFLAGS may name
	// -mod=vendor or the like, meant for their module), and an executable
	// for this machine whatever GOOS and GOARCH the environment names.
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=readonly -buildvcs=false",
		"GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
	if msg, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build (in %s): %w\n%s", src, err, msg)
	}
	// Atomic: a concurrent build in another process renames an identical
	// file over it, and a reader never sees a partial executable.
	if err := os.Rename(out, bin); err != nil {
		return "", err
	}
	return bin, nil
}

// launch builds (or reuses) and starts an embedded server and returns its
// URI and the write end of its stdin: closing it, or exiting, stops the
// server.
func launch() (string, io.WriteCloser, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	bin, err := binary(ctx)
	if err != nil {
		return "", nil, err
	}

	// The server makes its own temporary data directory and removes it
	// when it exits.
	cmd := exec.Command(bin)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, err
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return "", nil, fmt.Errorf("start %s: %w", bin, err)
	}

	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, stdout)
	}()

	select {
	case line, ok := <-lines:
		uri, found := strings.CutPrefix(line, "ready ")
		if !ok || !found {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			return "", nil, fmt.Errorf("%s exited without a ready line (got %q)\n%s", bin, line, stderr.String())
		}
		go func() { _ = cmd.Wait() }()
		return strings.TrimSpace(uri), stdin, nil
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return "", nil, fmt.Errorf("%s not ready after %v\n%s", bin, startTimeout, stderr.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent Write and String.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
