package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
	"github.com/rulegate/rulegate/token"
)

var serveCmd = &command{
	name:    "serve",
	summary: "serve the app to App Services clients (client API and Data API) with the rules enforced",
	usage:   "serve --app APP [--addr HOST:PORT] [--app-id ID] [--key-file FILE] [flags]",
	help: `
Serve serves the exported app over HTTP as App Services did, so that client
code written for the App Services SDKs (realm-web's app.logIn,
user.mongoClient(...), refreshCustomData()) and for the Data API runs
unchanged with its baseUrl pointed here. Every MongoDB call goes through the
app's rules. The export's JavaScript functions run where App Services ran
them: %function in rules, user.functions.<name>(...) calls, the custom user
data's user creation function and authentication triggers.

  const app = new Realm.App({ id: "<app id>", baseUrl: "http://127.0.0.1:8080" });

With MONGODB_URI unset it starts the embedded test server (FerretDB, built on
first use) and says so; with it set, it uses that deployment. Users,
sessions, API keys and login throttling counters live in the database
--users-db, so any number of instances on one deployment serve one app.

The app id clients send is the export's (realm_config.json's app_id) or
--app-id. Tokens are signed with the key in --key-file or in the
RULEGATE_SIGNING_KEY environment variable (a PEM RSA or EC private key, or
an HMAC secret of at least 32 bytes); without one an ephemeral key is made
and tokens do not survive a restart. Secrets the export names (a custom JWT
provider's signing keys, the secrets values link to) come from --secret
NAME=VALUE or the environment variable RULEGATE_SECRET_<NAME>.

When ready it prints one line, "rulegate: serving APP on http://HOST:PORT".
Logs go to standard error (text on a terminal, JSON otherwise). SIGINT or
SIGTERM drains and stops it, after the authentication triggers still
running.

Examples:
  rulegate serve --app examples/customdata
  MONGODB_URI=mongodb://localhost:27017 rulegate serve --app ./backend --addr 0.0.0.0:8080 --key-file key.pem
`,
}

func init() { serveCmd.run = (*cli).serve }

// secretNames are the secrets app names: its custom JWT providers'
// signing keys, then the secrets its values link to ("from_secret").
func secretNames(app *rules.App) []string {
	var names []string
	for _, p := range app.Providers {
		if p.CustomToken != nil {
			names = append(names, p.CustomToken.SigningKeys...)
		}
	}
	for _, v := range app.Values {
		if v.Secret != "" {
			names = append(names, v.Secret)
		}
	}
	return names
}

// secretFlags is a repeatable NAME=VALUE flag.
type secretFlags map[string]string

func (s secretFlags) String() string { return "" }
func (s secretFlags) Set(v string) error {
	name, val, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return errors.New("want NAME=VALUE")
	}
	s[name] = val
	return nil
}

// listFlags is a repeatable string flag.
type listFlags []string

func (l *listFlags) String() string     { return strings.Join(*l, ",") }
func (l *listFlags) Set(v string) error { *l = append(*l, v); return nil }

func (c *cli) serve(args []string) int {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	appDir := fs.String("app", "", "the app directory (required)")
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on")
	appID := fs.String("app-id", "", "the app id clients send (default: the export's app_id)")
	keyFile := fs.String("key-file", "", "a PEM RSA/EC private key or an HMAC secret signing the tokens (default: $RULEGATE_SIGNING_KEY, else ephemeral)")
	usersDB := fs.String("users-db", server.DefaultDatabase, "the database holding users, sessions and API keys")
	accessTTL := fs.Duration("access-ttl", token.DefaultTTL, "access token lifetime")
	refreshTTL := fs.Duration("refresh-ttl", 0, "refresh token lifetime (default 60 days)")
	hostname := fs.String("hostname", "", "the public origin the location request returns, behind a proxy (https://api.example.com)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	secrets := secretFlags{}
	fs.Var(secrets, "secret", "NAME=VALUE of a secret the export names (repeatable)")
	var origins listFlags
	fs.Var(&origins, "allow-origin", "a browser origin CORS allows (repeatable; default: every origin)")
	pos, code, ok := c.parseFlags(serveCmd, fs, args)
	if !ok {
		return code
	}
	if *appDir == "" {
		return c.usageErr(serveCmd, "--app APP is required")
	}
	if len(pos) > 0 {
		return c.usageErr(serveCmd, "unexpected argument %q", pos[0])
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return c.usageErr(serveCmd, "--log-level: %v", err)
	}
	logger := newLogger(c.stderr, level)

	// The rules are checked and compiled here first, so that their
	// diagnostics print as check prints them.
	app, _, ok := c.loadProgram(serveCmd, *appDir)
	if !ok {
		return exitUsage
	}
	for _, name := range secretNames(app) {
		if _, ok := secrets[name]; !ok {
			if v := c.env("RULEGATE_SECRET_" + name); v != "" {
				secrets[name] = v
			}
		}
	}

	keys, ephemeral, err := signingKeys(*keyFile, c.env("RULEGATE_SIGNING_KEY"))
	if err != nil {
		return c.usageErr(serveCmd, "%v", err)
	}
	if ephemeral {
		logger.Warn("no signing key given (--key-file or RULEGATE_SIGNING_KEY): using an ephemeral key; tokens will not survive a restart and other instances cannot verify them")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	uri := c.env(rulegatetest.EnvURI)
	stopDB := func() {}
	if uri == "" {
		logger.Info("MONGODB_URI is unset: starting the embedded test server (FerretDB; the first build takes about a minute)")
		uri, stopDB, err = rulegatetest.Start()
		if err != nil {
			fmt.Fprintf(c.stderr, "rulegate serve: starting the embedded server: %v\n", err)
			return exitProblems
		}
	}
	defer stopDB()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate serve: %v\n", err)
		return exitProblems
	}
	defer func() { _ = client.Disconnect(context.Background()) }()

	opts := []server.Option{server.WithLogger(logger), server.WithDatabase(*usersDB), server.WithAccessTTL(*accessTTL), server.WithSecrets(secrets)}
	if *appID != "" {
		opts = append(opts, server.WithAppID(*appID))
	}
	if *refreshTTL > 0 {
		opts = append(opts, server.WithRefreshTTL(*refreshTTL))
	}
	if *hostname != "" {
		opts = append(opts, server.WithHostname(strings.TrimSuffix(*hostname, "/")))
	}
	if len(origins) > 0 {
		opts = append(opts, server.WithAllowedOrigins(origins...))
	}
	startCtx, cancel := context.WithTimeout(ctx, time.Minute)
	srv, err := server.New(startCtx, app, client, keys, opts...)
	cancel()
	if err != nil {
		if errors.Is(err, server.ErrNoAppID) {
			return c.usageErr(serveCmd, "%s has no app_id (realm_config.json): give one with --app-id", *appDir)
		}
		fmt.Fprintf(c.stderr, "rulegate serve: %v\n", err)
		return exitProblems
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate serve: %v\n", err)
		return exitProblems
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	fmt.Fprintf(c.stdout, "rulegate: serving %s on http://%s\n", srv.AppID(), ln.Addr())
	if f, ok := c.stdout.(interface{ Sync() error }); ok {
		_ = f.Sync()
	}

	select {
	case err := <-done:
		fmt.Fprintf(c.stderr, "rulegate serve: %v\n", err)
		return exitProblems
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining requests")
	srv.Drain()
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutCtx); err != nil {
		logger.Error("shutdown", "error", err.Error())
		return exitProblems
	}
	// The authentication triggers the last requests started.
	if err := srv.Wait(shutCtx); err != nil {
		logger.Error("shutdown: authentication triggers still running", "error", err.Error())
		return exitProblems
	}
	logger.Info("stopped")
	return exitOK
}

// newLogger logs text to a terminal and JSON otherwise.
func newLogger(w interface{ Write([]byte) (int, error) }, level slog.Level) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return slog.New(slog.NewTextHandler(w, o))
		}
	}
	return slog.New(slog.NewJSONHandler(w, o))
}

// signingKeys reads the signing key: --key-file, else the environment
// variable's value, else an ephemeral HMAC key. The key id is derived from
// the key, so instances sharing a key agree on it.
func signingKeys(file, env string) (*token.KeySet, bool, error) {
	var material []byte
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, false, fmt.Errorf("--key-file: %w", err)
		}
		material = b
	case env != "":
		material = []byte(env)
	default:
		secret := make([]byte, 32)
		if _, err := rand.Read(secret); err != nil {
			return nil, false, err
		}
		k, err := token.HMACKey("ephemeral", secret)
		if err != nil {
			return nil, false, err
		}
		ks, err := token.NewKeySet(k)
		return ks, true, err
	}
	sum := sha256.Sum256(material)
	kid := hex.EncodeToString(sum[:8])
	var k token.Key
	var err error
	if blk, _ := pem.Decode(material); blk != nil {
		var priv any
		switch blk.Type {
		case "RSA PRIVATE KEY":
			priv, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			priv, err = x509.ParseECPrivateKey(blk.Bytes)
		case "PRIVATE KEY":
			priv, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		default:
			return nil, false, fmt.Errorf("signing key: PEM block %q is not a private key", blk.Type)
		}
		if err != nil {
			return nil, false, fmt.Errorf("signing key: %w", err)
		}
		switch p := priv.(type) {
		case *rsa.PrivateKey:
			k, err = token.RSAKey(kid, p)
		case *ecdsa.PrivateKey:
			k, err = token.ECDSAKey(kid, p)
		default:
			return nil, false, fmt.Errorf("signing key: %T is not an RSA or EC key", priv)
		}
	} else {
		secret := []byte(strings.TrimSpace(string(material)))
		if len(secret) < 32 {
			return nil, false, errors.New("signing key: an HMAC secret must be at least 32 bytes")
		}
		k, err = token.HMACKey(kid, secret)
	}
	if err != nil {
		return nil, false, fmt.Errorf("signing key: %w", err)
	}
	ks, err := token.NewKeySet(k)
	return ks, false, err
}
