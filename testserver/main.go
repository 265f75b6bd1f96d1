// Command testserver runs an embedded FerretDB (SQLite backend) for
// rulegate's integration tests.
//
// It listens on 127.0.0.1 on a free port, prints exactly one line
//
//	ready mongodb://127.0.0.1:PORT/
//
// on stdout once the port accepts connections, and exits when its stdin
// reaches EOF (the parent process closed the pipe or died) or on SIGINT or
// SIGTERM, so it never outlives the test binary that started it. Logs go to
// stderr.
//
// Flags:
//
//	-data DIR   directory for the SQLite files (default: $RULEGATE_TESTSERVER_DATA,
//	            else a fresh temporary directory removed at exit)
//	-listen A   TCP address (default 127.0.0.1:0, a free port)
//	-log L      log level: debug, info, warn, error (default warn)
//
// It lives in its own Go module so that FerretDB's dependencies never enter
// the root module.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run() error {
	dataDir := flag.String("data", os.Getenv("RULEGATE_TESTSERVER_DATA"), "directory for the SQLite files (default: a temporary directory removed at exit)")
	listen := flag.String("listen", "127.0.0.1:0", "TCP listen address")
	logLevel := flag.String("log", "warn", "log level: debug, info, warn, error")
	flag.Parse()

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log %q: %w", *logLevel, err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "rulegate-testserver-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	} else if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dataDir)
	if err != nil {
		return err
	}
	// FerretDB wants a file: URI naming a directory, with a trailing slash.
	sqliteURL := (&url.URL{Scheme: "file", Opaque: filepath.ToSlash(abs) + "/"}).String()

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: *listen},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Exit when stdin closes: the parent ties our lifetime to a pipe.
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		cancel()
	}()

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	uri := f.MongoDBURI()
	u, err := url.Parse(uri)
	if err != nil {
		cancel()
		<-done
		return err
	}
	if err := waitAccepting(ctx, u.Host); err != nil {
		cancel()
		<-done
		return err
	}
	fmt.Printf("ready %s\n", uri)

	<-ctx.Done()
	return <-done
}

// waitAccepting dials addr until a connection succeeds.
func waitAccepting(ctx context.Context, addr string) error {
	deadline := time.Now().Add(30 * time.Second)
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if time.Now().After(deadline) {
			return errors.Join(fmt.Errorf("%s does not accept connections", addr), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
