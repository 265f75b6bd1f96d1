package rulegatetest

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// EnvURI names the environment variable that points tests and programs at
// a real server instead of the embedded one.
const EnvURI = "MONGODB_URI"

// shared is the embedded server shared by every test in the binary. It is
// process-wide mutable state, which the library packages never have; a test
// helper that starts one external process per test binary needs it.
var shared struct {
	once  sync.Once
	uri   string
	err   error
	stdin io.WriteCloser // never closed: the server lives as long as the binary
}

// dbSeq numbers the databases handed out by Database.
var dbSeq atomic.Int64

// URI returns the connection string of the server tests should use:
// $MONGODB_URI when set, else the embedded server's, started on first use
// and shared by every test of the binary. It fails tb when the embedded
// server cannot be built or started.
func URI(tb testing.TB) string {
	tb.Helper()
	if uri := os.Getenv(EnvURI); uri != "" {
		return uri
	}
	shared.once.Do(func() { shared.uri, shared.stdin, shared.err = launch() })
	if shared.err != nil {
		tb.Fatalf("rulegatetest: embedded server: %v", shared.err)
	}
	return shared.uri
}

// Client returns a connected client for URI(tb), disconnected when the test
// ends.
func Client(tb testing.TB) *mongo.Client {
	tb.Helper()
	uri := URI(tb)
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetTimeout(30 * time.Second))
	if err != nil {
		tb.Fatalf("rulegatetest: connect %s: %v", uri, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return c
}

// Database returns a fresh database with a unique name derived from the
// test's name ("rg_<test>_<pid>_<n>"), dropped (and its client
// disconnected) when the test ends, so tests may run in parallel.
func Database(tb testing.TB) *mongo.Database {
	tb.Helper()
	c := Client(tb)
	db := c.Database(dbName(tb.Name(), dbSeq.Add(1)))
	// Registered after Client's cleanup, so it runs before the disconnect.
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := db.Drop(ctx); err != nil {
			tb.Errorf("rulegatetest: drop database %s: %v", db.Name(), err)
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

// Start is for programs that are not tests: it returns $MONGODB_URI when
// set, with a stop function that does nothing; otherwise it builds (or
// reuses) and starts an embedded server of its own and returns its URI and
// a stop function that shuts it down. The server also stops when the
// program exits, however it exits. stop may be called more than once.
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
