package mongotest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvURI names the environment variable that points tests at a real server.
const EnvURI = "MONGODB_URI"

// startTimeout bounds building and starting the embedded server; the first
// build of FerretDB takes about a minute on a small machine.
const startTimeout = 3 * time.Minute

// server is the embedded server shared by every test in the binary. It is
// process-wide mutable state, which the library packages never have; a test
// helper that starts one external process per test binary needs it.
var server struct {
	once sync.Once
	uri  string
	err  error
}

// dbSeq numbers the databases handed out by Database.
var dbSeq atomic.Int64

// URI returns the connection string of the server tests should use:
// $MONGODB_URI when set, else the embedded server's (started on first use).
// It fails tb when the embedded server cannot be built or started.
func URI(tb testing.TB) string {
	tb.Helper()
	if uri := os.Getenv(EnvURI); uri != "" {
		return uri
	}
	server.once.Do(func() { server.uri, server.err = startEmbedded() })
	if server.err != nil {
		tb.Fatalf("mongotest: embedded server: %v", server.err)
	}
	return server.uri
}

// Client returns a connected client for URI(tb), disconnected when the test
// ends.
func Client(tb testing.TB) *mongo.Client {
	tb.Helper()
	uri := URI(tb)
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		tb.Fatalf("mongotest: connect %s: %v", uri, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

// Database returns a fresh database with a unique name derived from the
// test's name, dropped (and its client disconnected) when the test ends.
func Database(tb testing.TB) *mongo.Database {
	tb.Helper()
	c := Client(tb)
	db := c.Database(dbName(tb.Name(), dbSeq.Add(1)))
	// Registered after Client's cleanup, so it runs before the disconnect.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Errorf("mongotest: drop database %s: %v", db.Name(), err)
		}
	})
	return db
}

// dbName makes a database name from a test name: MongoDB database names may
// not contain /\. "$*<>:|? or spaces and are limited to 63 bytes.
func dbName(test string, n int64) string {
	var b strings.Builder
	for _, r := range test {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	name := b.String()
	suffix := fmt.Sprintf("_%d_%d", os.Getpid()%100000, n)
	const max = 63 - len("rg_")
	if len(name)+len(suffix) > max {
		name = name[:max-len(suffix)]
	}
	return "rg_" + name + suffix
}

// repoRoot returns the root of the rulegate repository, found from this
// source file's location.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("cannot locate mongotest's source file")
	}
	dir := filepath.Dir(file)
	for {
		if _, err := os.Stat(filepath.Join(dir, "testserver", "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no testserver/go.mod above %s", filepath.Dir(file))
		}
		dir = parent
	}
}

// startEmbedded builds and starts the embedded server and returns its URI.
// The server's stdin is a pipe whose write end stays open, unreferenced by
// anything that closes it, for the life of the test binary: when the binary
// exits the kernel closes it and the server shuts down.
func startEmbedded() (string, error) {
	uri, stdin, err := launch()
	if err != nil {
		return "", err
	}
	// Keep the write end of stdin reachable forever; see above.
	keepAlive.Store(&stdin)
	return uri, nil
}

// Start is for programs that are not tests (the runnable examples): it
// returns $MONGODB_URI when set, with a stop function that does nothing;
// otherwise it builds and starts an embedded server of its own and returns
// its URI and a stop function that shuts it down (closing its stdin). The
// server also stops when the program exits, however it exits.
func Start() (uri string, stop func(), err error) {
	if uri := os.Getenv(EnvURI); uri != "" {
		return uri, func() {}, nil
	}
	uri, stdin, err := launch()
	if err != nil {
		return "", nil, err
	}
	var once sync.Once
	return uri, func() { once.Do(func() { _ = stdin.Close() }) }, nil
}

// launch builds and starts an embedded server and returns its URI and the
// write end of its stdin: closing it, or exiting, stops the server.
func launch() (string, io.WriteCloser, error) {
	root, err := repoRoot()
	if err != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "rulegate-mongotest-*")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, "rulegate-testserver")
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()

	build := exec.CommandContext(ctx, "go", "build", "-C", filepath.Join(root, "testserver"), "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("%s: %w\n%s", strings.Join(build.Args, " "), err, out)
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
	err = cmd.Start()
	// A running executable may be unlinked; nothing is left behind even
	// though the test binary exits without cleanup.
	os.RemoveAll(dir)
	if err != nil {
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

// keepAlive holds the server's stdin pipe so it is never garbage collected
// (an *os.File finalizer would close it and stop the server).
var keepAlive atomic.Pointer[io.WriteCloser]

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
