package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// clientsDir is the Node package of the real-client tests: realm-web
// 2.0.1 and playwright-core, pinned by its package-lock.json.
const clientsDir = "../../clients/node"

// shortTTL is the access token lifetime of the server the expiry tests use.
const shortTTL = 3 * time.Second

// TestRealClients runs App Services' own Web SDK, realm-web 2.0.1, against
// the rulegate binary's serve command: under Node (clients/node/test/*.mjs,
// with node --test) and in headless Chromium (clients/node/chromium/*.mjs,
// driving Debian's chromium with playwright-core). It builds rulegate,
// starts three servers on the test's MongoDB server — examples/customdata,
// the same app with access tokens of a few seconds, and clients/testapp —
// and an origin of its own that serves the browser page and writes custom
// data documents (POST /seed) as a user creation function would on Atlas.
//
// Node 20 with npm and Debian's chromium must be installed (.ci/run
// installs them); the test fails, never skips, without them. It runs
// npm ci in clients/node when node_modules is missing or differs from the
// lock file.
func TestRealClients(t *testing.T) {
	node := requireTool(t, "node", "Node.js 20 with npm (Debian: apt-get install -y nodejs npm)")
	npm := requireTool(t, "npm", "npm, Node.js's package manager (Debian: apt-get install -y npm)")
	requireNode20(t, node)
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Fatalf("the browser test needs Debian's Chromium at %s (apt-get update && apt-get install -y chromium; .ci/run does, or set CHROMIUM): %v", chromium, err)
	}
	dir, err := filepath.Abs(clientsDir)
	if err != nil {
		t.Fatal(err)
	}
	npmCI(t, npm, dir)

	bin := buildRulegate(t)
	uri := rulegatetest.URI(t)
	origin := startOrigin(t, dir, rulegatetest.Client(t))
	customdata := startServe(t, bin, uri, "../../examples/customdata")
	shortLived := startServe(t, bin, uri, "../../examples/customdata", "--access-ttl", shortTTL.String())
	notes := startServe(t, bin, uri, "../../clients/testapp")

	env := append(os.Environ(),
		"RULEGATE_URL="+customdata,
		"RULEGATE_APP_ID=customdata-abcde",
		"RULEGATE_SHORT_TTL_URL="+shortLived,
		"RULEGATE_SHORT_TTL_SECONDS="+strconv.Itoa(int(shortTTL/time.Second)),
		"RULEGATE_NOTES_URL="+notes,
		"RULEGATE_NOTES_APP_ID=notes-abcde",
		"RULEGATE_ORIGIN="+origin,
		"CHROMIUM="+chromium,
	)
	t.Run("node", func(t *testing.T) { nodeTest(t, node, dir, env, "test") })
	t.Run("chromium", func(t *testing.T) { nodeTest(t, node, dir, env, "chromium") })
}

// requireTool returns the path of the command name, failing the test with
// what to install when it is not on PATH.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("the real-client tests need %s on PATH: install %s (.ci/run checks it)", name, install)
	}
	return p
}

// requireNode20 fails the test unless node is version 20 or later.
func requireNode20(t *testing.T, node string) {
	t.Helper()
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		t.Fatalf("%s --version: %v", node, err)
	}
	v := strings.TrimSpace(string(out))
	major, _, _ := strings.Cut(strings.TrimPrefix(v, "v"), ".")
	if n, err := strconv.Atoi(major); err != nil || n < 20 {
		t.Fatalf("node %s: the real-client tests need Node.js 20 or later", v)
	}
}

// npmCI runs npm ci in dir when node_modules is missing or stale: when
// node_modules/.package-lock.json (npm's record of what it installed) does
// not list exactly the packages, versions and integrity hashes of
// package-lock.json.
func npmCI(t *testing.T, npm, dir string) {
	t.Helper()
	if installedMatchesLock(dir) {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
	}
	if !installedMatchesLock(dir) {
		t.Fatalf("npm ci in %s: node_modules still differs from package-lock.json", dir)
	}
}

// installedMatchesLock reports whether dir's node_modules holds what its
// package-lock.json locks.
func installedMatchesLock(dir string) bool {
	type lock struct {
		Packages map[string]struct {
			Version   string `json:"version"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	read := func(p string) (lock, bool) {
		var l lock
		data, err := os.ReadFile(p)
		if err != nil || json.Unmarshal(data, &l) != nil {
			return l, false
		}
		delete(l.Packages, "") // the root package: not in node_modules
		return l, true
	}
	want, ok := read(filepath.Join(dir, "package-lock.json"))
	if !ok {
		return false
	}
	got, ok := read(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if !ok || len(got.Packages) != len(want.Packages) {
		return false
	}
	for k, w := range want.Packages {
		if g, ok := got.Packages[k]; !ok || g != w {
			return false
		}
	}
	return true
}

// buildRulegate builds this command into a temporary directory.
func buildRulegate(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "rulegate")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -o %s .: %v\n%s", bin, err, out)
	}
	return bin
}

// startOrigin starts the test's own origin: the browser page, realm-web's
// browser bundle and the flow module it imports, and POST /seed, which
// writes {userId, favoriteColor} as a custom data document of
// examples/customdata with the driver (no rule lets a client insert one).
func startOrigin(t *testing.T, dir string, client *mongo.Client) string {
	t.Helper()
	app, err := rules.LoadApp(os.DirFS("../../examples/customdata"))
	if err != nil {
		t.Fatal(err)
	}
	cud := app.CustomUserData
	coll := client.Database(cud.DatabaseName).Collection(cud.CollectionName)
	file := func(path, contentType string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			data, err := os.ReadFile(filepath.Join(dir, path))
			if err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", contentType)
			_, _ = w.Write(data)
		}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", file("chromium/index.html", "text/html; charset=utf-8"))
	mux.Handle("GET /realm-web.js", file("node_modules/realm-web/dist/bundle.iife.js", "text/javascript; charset=utf-8"))
	mux.Handle("GET /lib/flow.mjs", file("lib/flow.mjs", "text/javascript; charset=utf-8"))
	mux.HandleFunc("POST /seed", func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			UserID        string `json:"userId"`
			FavoriteColor string `json:"favoriteColor"`
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.UserID == "" {
			http.Error(w, fmt.Sprintf("want {userId, favoriteColor}: %v", err), http.StatusBadRequest)
			return
		}
		doc := bson.D{{Key: cud.UserIDField, Value: in.UserID}, {Key: "favoriteColor", Value: in.FavoriteColor}}
		if _, err := coll.InsertOne(r.Context(), doc); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

// readyLine is what rulegate serve prints once it accepts connections.
var readyLine = regexp.MustCompile(`rulegate: serving .* on (http://\S+)`)

// startServe starts bin serve --app app on a free loopback port with
// MONGODB_URI=uri, waits for its ready line and returns its URL. At the
// end of the test it sends SIGTERM and checks that the server exits
// cleanly; its output is logged when the test fails.
func startServe(t *testing.T, bin, uri, app string, args ...string) string {
	t.Helper()
	addr := freeAddr(t)
	args = append([]string{"serve", "--app", app, "--addr", addr}, args...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), rulegatetest.EnvURI+"="+uri)
	cmd.SysProcAttr = childProcAttr()
	var out syncBuffer
	ready := make(chan string, 1)
	var once sync.Once
	scan := func(r io.Reader) {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			line := sc.Text()
			out.Write([]byte(line + "\n"))
			if m := readyLine.FindStringSubmatch(line); m != nil {
				once.Do(func() { ready <- m[1] })
			}
		}
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("rulegate %s: %v", strings.Join(args, " "), err)
	}
	var scanned sync.WaitGroup
	scanned.Add(2)
	go func() { defer scanned.Done(); scan(stdout) }()
	go func() { defer scanned.Done(); scan(stderr) }()
	exited := make(chan error, 1)
	go func() { scanned.Wait(); exited <- cmd.Wait() }()

	name := "rulegate " + strings.Join(args, " ")
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("%s: after SIGTERM: %v, want a clean exit", name, err)
			}
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			t.Errorf("%s: still running 15 s after SIGTERM", name)
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, out.String())
		}
	})
	select {
	case u := <-ready:
		if want := "http://" + addr; u != want {
			t.Fatalf("%s: ready line names %s, want %s", name, u, want)
		}
		return u
	case err := <-exited:
		exited <- err
		t.Fatalf("%s exited before its ready line: %v\n%s", name, err, out.String())
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s: no ready line after 2 minutes\n%s", name, out.String())
	}
	return ""
}

// freeAddr returns a loopback address with a port that was free a moment
// ago (the kernel's ephemeral ports are above every port browsers block).
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// nodeTest runs node --test on the *.test.mjs files of dir/sub.
func nodeTest(t *testing.T, node, dir string, env []string, sub string) {
	files, err := filepath.Glob(filepath.Join(dir, sub, "*.test.mjs"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s/*.test.mjs in %s (%v)", sub, dir, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"--test", "--test-reporter=spec"}, files...)...)
	cmd.Dir = dir
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	err = cmd.Run()
	t.Logf("node --test %s/*.test.mjs:\n%s", sub, out.String())
	if err != nil {
		t.Fatalf("node --test %s: %v (its output is above)", sub, err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
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
