package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
)

// DefaultDatabase is the database that holds the app's users, sessions,
// API keys and throttling counters unless WithDatabase names another.
const DefaultDatabase = "rulegate"

// DefaultMaxBody is the largest request body accepted: a 16 MiB document
// (MongoDB's limit) in extended JSON, with room for its envelope.
const DefaultMaxBody = 24 << 20

// Server serves one exported App Services app over HTTP: the client API
// realm-web and the other SDKs speak (/api/client/v2.0/...) and the Atlas
// Data API v1 (/app/<id>/endpoint/data/v1/action/<action>), with the app's
// rules enforced by package gate. It keeps no state of its own between
// requests: users, sessions and throttling counters live in MongoDB, so any
// number of Servers over one database serve one app. It is safe for
// concurrent use; mount it on an http.ServeMux like any http.Handler.
type Server struct {
	app      *rules.App
	appID    string
	gate     *gate.Gate
	accounts *accounts.Store
	auth     *customdata.Auth
	data     *customdata.Store
	signer   *token.Signer
	verifier *token.Verifier
	inputs   expansion.Inputs // %%values and %%environment
	logger   *slog.Logger
	cfg      config
	draining atomic.Bool
	stopInit sync.Once // makes stop
	stopOnce sync.Once // closes stop
	stop     chan struct{}
	jwks     jwksCache
	js       *jsfunc.Functions // nil when no JavaScript function has its source
	triggers tasks             // the authentication triggers running
	logins   userLocks         // one login of a user at a time
	// dataAPICan is the Data API's can_evaluate, nil when it always holds.
	dataAPICan *evaluator.Condition
}

type config struct {
	appID      string
	database   string
	logger     *slog.Logger
	accessTTL  time.Duration
	refreshTTL time.Duration
	secrets    map[string]string
	origins    []string
	hostname   string
	maxBody    int64
	throttle   []accounts.Option
	httpClient *http.Client
}

// Option configures a Server.
type Option func(*config)

// WithAppID sets the app id clients send in their URLs, for an export that
// has none (realm_config.json's app_id is used otherwise, and this option
// overrides it).
func WithAppID(id string) Option { return func(c *config) { c.appID = id } }

// WithDatabase names the database holding users, sessions, API keys and
// throttling counters (DefaultDatabase otherwise).
func WithDatabase(name string) Option { return func(c *config) { c.database = name } }

// WithLogger sets the logger for request, decision and error lines
// (slog.Default otherwise). Lines never carry tokens, passwords or document
// contents.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithAccessTTL sets the access token lifetime (30 minutes otherwise, as
// App Services).
func WithAccessTTL(d time.Duration) Option { return func(c *config) { c.accessTTL = d } }

// WithRefreshTTL sets the refresh token lifetime (60 days otherwise, as
// App Services; an export does not hold the lifetime, which App Services
// sets in its Admin API: source/users/sessions.txt).
func WithRefreshTTL(d time.Duration) Option { return func(c *config) { c.refreshTTL = d } }

// WithSecrets gives the values of the app's secrets by name, which an
// export never holds: the custom JWT provider's signing keys
// (secret_config.signingKeys), and the values linked to a secret
// ("from_secret": true), which functions (context.values.get) and rules
// (%%values) read.
func WithSecrets(secrets map[string]string) Option {
	return func(c *config) { c.secrets = secrets }
}

// WithAllowedOrigins sets the browser origins CORS allows
// ("https://app.example.com"); with none, every origin is allowed, which is
// safe because credentials travel in the Authorization header, never in
// cookies.
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) { c.origins = origins }
}

// WithHostname sets the origin the location request returns
// ("https://api.example.com", no trailing slash), for a server behind a
// proxy; otherwise it is the origin the request was sent to.
func WithHostname(origin string) Option { return func(c *config) { c.hostname = origin } }

// WithMaxBody sets the largest request body accepted (DefaultMaxBody
// otherwise).
func WithMaxBody(n int64) Option { return func(c *config) { c.maxBody = n } }

// WithThrottle sets the login throttle: failures allowed per identity and
// per client address within window (see accounts.WithThrottle).
func WithThrottle(perIdentity, perAddress int, window time.Duration) Option {
	return func(c *config) {
		c.throttle = append(c.throttle, accounts.WithThrottle(perIdentity, perAddress, window))
	}
}

// WithHTTPClient sets the client used to fetch a custom JWT provider's
// JWK set (http.DefaultClient with a 10 s timeout otherwise).
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.httpClient = hc } }

// ErrNoAppID is returned by New when neither the export nor WithAppID gives
// an app id.
var ErrNoAppID = errors.New("server: the export has no app_id (realm_config.json); give one with WithAppID")

// New returns a Server for app on client, signing tokens with keys. It
// compiles the rules and the JavaScript functions (a syntax error is an
// error positioned in its .js file), creates the accounts database's
// indexes and checks the custom user data configuration. A user creation
// function or an enabled authentication trigger whose function the
// export has no source for is an error: rulegate could not run it.
func New(ctx context.Context, app *rules.App, client *mongo.Client, keys *token.KeySet, opts ...Option) (*Server, error) {
	if app == nil || client == nil || keys == nil {
		return nil, errors.New("server: New needs an app, a client and a key set")
	}
	cfg := config{database: DefaultDatabase, maxBody: DefaultMaxBody, accessTTL: token.DefaultTTL, refreshTTL: token.DefaultRefreshTTL}
	cfg.appID = app.ID
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.appID == "" {
		return nil, ErrNoAppID
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.httpClient == nil {
		cfg.httpClient = &http.Client{Timeout: 10 * time.Second}
	}
	s := &Server{app: app, appID: cfg.appID, logger: cfg.logger, cfg: cfg}
	s.triggers.slots = make(chan struct{}, maxRunningTriggers)

	if errs := rules.Validate(app, rules.ValidateOptions{}).Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("server: the app's rules have errors (rulegate check lists them): %w", errs)
	}
	fns, err := exprfunc.Load(app, exprfunc.Limits{})
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	var set evaluator.FunctionSet = fns
	if hasJSSource(app) {
		// The JavaScript functions: %function in the rules, the user
		// creation function, triggers and client calls. Syntax errors
		// are positioned in their .js files.
		if s.js, err = jsfunc.Load(app, jsfunc.WithLogger(cfg.logger)); err != nil {
			return nil, fmt.Errorf("server: the app's functions have errors (rulegate check lists them): %w", err)
		}
		if set, err = joinSets(fns, s.js); err != nil {
			return nil, err
		}
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(set))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.gate, err = gate.New(client, prog, gate.WithDocumentErrors(func(ctx context.Context, ns string, err error) {
		s.log(nil).WarnContext(ctx, "document left out: deciding its access failed", "namespace", ns, "error", err.Error())
	}))
	if err != nil {
		return nil, err
	}
	if s.js != nil {
		// Functions read through the gate (as the user) or the driver (as
		// system); the gate needed the Program, which needed the
		// functions: this is the step that closes the loop.
		if err := s.js.Bind(serverData{Data: jsfunc.MongoData(s.gate, app), accountsDB: s.cfg.database}); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	if d := app.DataAPI; d != nil && d.CanEvaluate != nil && !emptyExpr(d.CanEvaluate) {
		if s.dataAPICan, err = evaluator.CompileCondition(app, d.CanEvaluate, evaluator.WithFunctions(set)); err != nil {
			return nil, fmt.Errorf("server: the Data API's can_evaluate: %w", err)
		}
	}
	for _, tr := range app.Triggers {
		if !tr.Disabled {
			if err := s.runnable("authentication trigger "+tr.Name, tr.FunctionName); err != nil {
				return nil, err
			}
		}
	}
	if s.inputs, err = app.Inputs(expansion.Inputs{Values: secretValues(app, cfg.secrets)}, app.Environment); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}

	s.signer, err = token.NewSigner(keys, token.WithTTL(cfg.accessTTL), token.WithRefreshTTL(cfg.refreshTTL))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	if s.verifier, err = token.NewVerifier(keys); err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	s.accounts, err = accounts.New(ctx, client.Database(cfg.database), cfg.throttle...)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	cud := app.CustomUserData
	if cud == nil {
		cud = &rules.CustomUserData{}
	}
	s.data, err = customdata.New(cud, client, customdata.WithWarnings(func(w customdata.Warning) {
		s.log(nil).Warn("custom user data", "code", string(w.Code), "warning", w.Msg)
	}))
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	var aopts []customdata.AuthOption
	if fn := cud.OnUserCreationFunctionName; cud.Enabled && fn != "" {
		if err := s.runnable("custom user data: on_user_creation_function_name", fn); err != nil {
			return nil, err
		}
		aopts = append(aopts, customdata.WithUserCreationHook(fn, s.userCreation(fn)))
	}
	s.auth, err = customdata.NewAuth(s.data, s.signer, s.verifier, s.accounts.Sessions(), aopts...)
	if err != nil {
		return nil, fmt.Errorf("server: %w", err)
	}
	for _, p := range app.Providers {
		if !p.Disabled && !supportedProvider(p.Type) {
			s.logger.Warn("authentication provider not supported: its logins are refused", "provider", p.Name, "type", p.Type)
		}
	}
	return s, nil
}

// AppID returns the app id the Server answers to.
func (s *Server) AppID() string { return s.appID }

// Drain makes /healthz answer 503 so that a load balancer stops sending
// new requests before the process stops; requests keep being served, but
// open watch streams end (http.Server.Shutdown waits for every handler).
// Wait, after the HTTP server's Shutdown, waits for the authentication
// triggers still running.
func (s *Server) Drain() {
	s.draining.Store(true)
	s.stopped()
	s.stopOnce.Do(func() { close(s.stop) })
}

type ctxKey struct{}

// reqInfo is what a request's handlers share: its id and, made on first
// use, its logger (most requests log their request line only, which
// ServeHTTP writes without one).
type reqInfo struct {
	id     string
	base   *slog.Logger
	once   sync.Once
	logger *slog.Logger
}

func (ri *reqInfo) log() *slog.Logger {
	ri.once.Do(func() { ri.logger = ri.base.With("request_id", ri.id) })
	return ri.logger
}

func (s *Server) log(r *http.Request) *slog.Logger {
	if r != nil {
		if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
			return ri.log()
		}
	}
	return s.logger
}

func (s *Server) link(r *http.Request) string {
	if ri, ok := r.Context().Value(ctxKey{}).(*reqInfo); ok {
		return "urn:rulegate:request:" + ri.id
	}
	return ""
}

// statusWriter records the status for the request log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if !validRequestID(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	ri := &reqInfo{id: id, base: s.logger}
	r = r.WithContext(context.WithValue(r.Context(), ctxKey{}, ri))
	sw := &statusWriter{ResponseWriter: w}
	sw.Header().Set("X-Request-Id", id)
	// No cache may keep an answer: logins and refreshes carry tokens (RFC
	// 6749 §5.1), the others the user's data, and location echoes the
	// Host header a shared cache would then serve to every client.
	sw.Header().Set("Cache-Control", "no-store")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			ri.log().Error("panic serving request", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if sw.status == 0 {
				s.writeError(sw, r, errorf(http.StatusInternalServerError, codeInternal, "internal server error"))
			}
		}
		// The path only: a watch request carries its access token in the
		// query string (baas_at). The request id comes first, as in the
		// request's other lines.
		s.logger.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("request_id", id),
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", sw.status), slog.Duration("duration", time.Since(start)))
	}()
	s.cors(sw, r)
	if r.Method == http.MethodOptions {
		sw.WriteHeader(http.StatusNoContent)
		return
	}
	s.route(sw, r)
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// cors answers browsers: every call from a web app is cross-origin
// (appservices-protocol.md §1). Credentials are bearer tokens, never
// cookies, so no Allow-Credentials.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return
	}
	allowed := len(s.cfg.origins) == 0
	for _, o := range s.cfg.origins {
		if o == origin {
			allowed = true
		}
	}
	if !allowed {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", origin)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "X-Request-Id")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Request-Id")
		h.Set("Access-Control-Max-Age", "600")
	}
}

// route dispatches on the path, with leading slashes collapsed (realm-web
// requests "//api/..." when baseUrl ends in a slash, §2).
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	p := "/" + strings.TrimLeft(r.URL.Path, "/")
	switch {
	case p == "/healthz":
		s.healthz(w, r)
	case strings.HasPrefix(p, "/api/client/v2.0/app/"):
		app, rest, _ := strings.Cut(strings.TrimPrefix(p, "/api/client/v2.0/app/"), "/")
		if app != s.appID {
			s.writeError(w, r, errorf(http.StatusNotFound, codeAppNotFound, "cannot find app using Client App ID '%s'", app))
			return
		}
		s.routeApp(w, r, rest)
	case strings.HasPrefix(p, "/api/client/v2.0/auth/"):
		s.routeAuth(w, r, strings.TrimPrefix(p, "/api/client/v2.0/auth/"))
	case strings.HasPrefix(p, "/app/"):
		app, rest, _ := strings.Cut(strings.TrimPrefix(p, "/app/"), "/")
		if app != s.appID {
			s.writeError(w, r, errorf(http.StatusNotFound, codeAppNotFound, "cannot find app using Client App ID '%s'", app))
			return
		}
		s.routeEndpoint(w, r, rest)
	default:
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s", p))
	}
}

func (s *Server) routeApp(w http.ResponseWriter, r *http.Request, rest string) {
	switch {
	case rest == "location":
		if s.method(w, r, http.MethodGet) {
			s.location(w, r)
		}
	case rest == "functions/call":
		switch r.Method {
		case http.MethodPost:
			s.functionsCall(w, r)
		case http.MethodGet:
			s.watch(w, r)
		default:
			s.notAllowed(w, r)
		}
	case strings.HasPrefix(rest, "auth/providers/"):
		provider, op, _ := strings.Cut(strings.TrimPrefix(rest, "auth/providers/"), "/")
		if s.method(w, r, http.MethodPost) {
			s.provider(w, r, provider, op)
		}
	default:
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s", r.URL.Path))
	}
}

func (s *Server) method(w http.ResponseWriter, r *http.Request, m string) bool {
	if r.Method == m {
		return true
	}
	s.notAllowed(w, r)
	return false
}

func (s *Server) notAllowed(w http.ResponseWriter, r *http.Request) {
	s.writeError(w, r, errorf(http.StatusMethodNotAllowed, codeMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path))
}

// location answers the first request every SDK makes (§2): where to send
// the rest. Both hostnames are sent: the Node SDK requires ws_hostname.
func (s *Server) location(w http.ResponseWriter, r *http.Request) {
	host := s.cfg.hostname
	if host == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		host = scheme + "://" + r.Host
	}
	ws := "ws" + strings.TrimPrefix(host, "http")
	body := fmt.Appendf(nil, `{"deployment_model":"GLOBAL","location":"US-VA","hostname":%s,"ws_hostname":%s}`, jsonString(host), jsonString(ws))
	writeJSON(w, http.StatusOK, body)
}

// healthz answers 200 when the accounts database answers a ping, 503 when
// it does not or the server is draining.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"draining"}`))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.accounts.Ping(ctx); err != nil {
		s.log(r).Error("healthz: MongoDB unreachable", "error", err.Error())
		writeJSON(w, http.StatusServiceUnavailable, []byte(`{"status":"mongodb unreachable"}`))
		return
	}
	writeJSON(w, http.StatusOK, []byte(`{"status":"ok"}`))
}

// secretValues is the JSON object of the app's values linked to a secret
// that secrets holds (value name: the secret's string), or nil for none.
// A value whose secret is not given stays unavailable (fail closed).
func secretValues(app *rules.App, secrets map[string]string) []byte {
	vals := map[string]string{}
	for _, v := range app.Values {
		if sec, ok := secrets[v.Secret]; ok && v.Secret != "" {
			vals[v.Name] = sec
		}
	}
	if len(vals) == 0 {
		return nil
	}
	b, _ := json.Marshal(vals)
	return b
}
