package main

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// appFiles is the exported App Services app: the rules of notes.notes and
// the custom user data configuration.
//
//go:embed app
var appFiles embed.FS

// The rules' names (app/data_sources/mongodb-atlas/notes/notes/rules.json,
// app/auth/custom_user_data.json). The API always asks the gate for these;
// gate.WithDatabaseMapping sends them to the deployment's database.
const (
	rulesDatabase = "notes"
	notesName     = "notes"
)

// Bounds of GET /notes.
const (
	defaultLimit = 20
	maxLimit     = 100
	maxBody      = 64 << 10
)

// api is the notes API: accounts and sessions, custom user data in the
// access token, and every read and write of a note through the gate.
type api struct {
	accounts *accounts.Store
	auth     *customdata.Auth
	verifier *token.Verifier
	gate     *gate.Gate
	log      *slog.Logger
	mux      *http.ServeMux
}

// newAPI returns the API over client, keeping users, sessions, custom data
// and notes in the deployment database named database, and signing tokens
// with keys.
func newAPI(ctx context.Context, client *mongo.Client, database string, keys *token.KeySet, log *slog.Logger) (*api, error) {
	dir, err := fs.Sub(appFiles, "app")
	if err != nil {
		return nil, err
	}
	app, err := rules.LoadApp(dir)
	if err != nil {
		return nil, err
	}
	if app.CustomUserData == nil {
		return nil, errors.New("app/auth/custom_user_data.json is missing")
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		return nil, err
	}
	g, err := gate.New(client, prog,
		gate.WithDatabaseMapping(map[string]string{rulesDatabase: database}),
		gate.WithDecisionHook(gate.LogDecisions(log)))
	if err != nil {
		return nil, err
	}
	// The custom data store maps the rules' database as the gate does.
	store, err := customdata.New(app.CustomUserData, client, customdata.WithDatabaseMapping(map[string]string{rulesDatabase: database}))
	if err != nil {
		return nil, err
	}
	acc, err := accounts.New(ctx, client.Database(database))
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner(keys)
	if err != nil {
		return nil, err
	}
	verifier, err := token.NewVerifier(keys)
	if err != nil {
		return nil, err
	}
	auth, err := customdata.NewAuth(store, signer, verifier, acc.Sessions())
	if err != nil {
		return nil, err
	}
	a := &api{accounts: acc, auth: auth, verifier: verifier, gate: g, log: log, mux: http.NewServeMux()}
	a.mux.HandleFunc("POST /login", a.login)
	a.mux.HandleFunc("POST /refresh", a.refresh)
	a.mux.HandleFunc("GET /notes", a.withNotes(a.list))
	a.mux.HandleFunc("POST /notes", a.withNotes(a.insert))
	a.mux.HandleFunc("GET /notes/stats", a.withNotes(a.stats))
	a.mux.HandleFunc("GET /notes/watch", a.withNotes(a.watch))
	a.mux.HandleFunc("GET /notes/{id}", a.withNotes(a.get))
	a.mux.HandleFunc("PATCH /notes/{id}", a.withNotes(a.update))
	a.mux.HandleFunc("DELETE /notes/{id}", a.withNotes(a.delete))
	return a, nil
}

func (a *api) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// system is the rules-bypassing handle on a collection of the rules'
// database (mapped like the gated ones): for seeding and for the
// application's own writes of custom data.
func (a *api) system(name string) *mongo.Collection {
	return a.gate.System().Database(rulesDatabase).Collection(name)
}

// login serves POST /login {"email", "password"}:
// {"access_token", "refresh_token", "user_id"}.
func (a *api) login(w http.ResponseWriter, r *http.Request) {
	var in struct{ Email, Password string }
	if err := readJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	u, err := a.accounts.LoginPassword(r.Context(), in.Email, in.Password, r.RemoteAddr)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.auth.Login(r.Context(), u.ID, u.LoginInfo(false, ""))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": t.AccessToken, "refresh_token": t.RefreshToken, "user_id": u.ID})
}

// refresh serves POST /refresh {"refresh_token"}: a new access token
// carrying the custom data as stored now.
func (a *api) refresh(w http.ResponseWriter, r *http.Request) {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := readJSON(r, &in); err != nil {
		a.writeError(w, r, err)
		return
	}
	t, err := a.auth.Refresh(r.Context(), in.RefreshToken)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"access_token": t.AccessToken})
}

// caller is a verified request: its token's claims and the notes
// collection as the rules let it see them.
type caller struct {
	claims *token.Claims
	notes  *gate.Collection
}

// withNotes verifies the bearer access token and hands the caller's gated
// notes collection to h.
func (a *api) withNotes(h func(http.ResponseWriter, *http.Request, caller)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			a.writeError(w, r, errNoToken)
			return
		}
		claims, err := a.verifier.Verify(tok)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		notes := a.gate.For(claims.User()).Database(rulesDatabase).Collection(notesName)
		h(w, r, caller{claims: claims, notes: notes})
	}
}

// sortField is what GET /notes?sort= takes: a top-level field name, "-"
// first for descending.
var sortField = regexp.MustCompile(`^-?[A-Za-z_][A-Za-z0-9_]*$`)

// list serves GET /notes?status=&sort=&skip=&limit=: the notes the caller
// may read, each with the fields its role reads.
func (a *api) list(w http.ResponseWriter, r *http.Request, c caller) {
	q := r.URL.Query()
	filter := bson.D{}
	if s := q.Get("status"); s != "" {
		filter = append(filter, bson.E{Key: "status", Value: s})
	}
	opts := options.Find()
	if s := q.Get("sort"); s != "" {
		if !sortField.MatchString(s) {
			a.writeError(w, r, badRequest("sort must be a field name, - first for descending"))
			return
		}
		dir := 1
		if f, ok := strings.CutPrefix(s, "-"); ok {
			s, dir = f, -1
		}
		opts.SetSort(bson.D{{Key: s, Value: dir}, {Key: "_id", Value: 1}})
	}
	skip, err := intParam(q.Get("skip"), 0, -1)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	limit, err := intParam(q.Get("limit"), defaultLimit, maxLimit)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	opts.SetSkip(skip).SetLimit(limit)
	cur, err := c.notes.Find(r.Context(), filter, opts)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer cur.Close(r.Context())
	docs := []json.RawMessage{}
	for cur.Next(r.Context()) {
		b, err := bson.MarshalExtJSON(cur.Current, false, false)
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		docs = append(docs, b)
	}
	if err := cur.Err(); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, docs)
}

// intParam parses a non-negative integer query parameter, def when empty,
// at most hi (no bound when hi < 0).
func intParam(s string, def, hi int64) (int64, error) {
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || (hi >= 0 && n > hi) {
		if hi >= 0 {
			return 0, badRequest(fmt.Sprintf("%q: want an integer from 0 to %d", s, hi))
		}
		return 0, badRequest(fmt.Sprintf("%q: want a non-negative integer", s))
	}
	return n, nil
}

// get serves GET /notes/{id}.
func (a *api) get(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := noteID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	raw, err := c.notes.FindOne(r.Context(), bson.D{{Key: "_id", Value: id}}).Raw()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeDocument(w, http.StatusOK, raw)
}

// insert serves POST /notes with the note as a JSON object (relaxed
// extended JSON); owner_id defaults to the caller. The rules decide
// whether the caller may insert it: {"owner_id": someone else} is denied.
func (a *api) insert(w http.ResponseWriter, r *http.Request, c caller) {
	doc, err := readDocument(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if has(doc, "_id") {
		a.writeError(w, r, badRequest("_id is chosen by the server"))
		return
	}
	if !has(doc, "owner_id") {
		doc = append(doc, bson.E{Key: "owner_id", Value: c.claims.Subject})
	}
	res, err := c.notes.InsertOne(r.Context(), doc)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	id, _ := res.InsertedID.(bson.ObjectID)
	writeJSON(w, http.StatusCreated, map[string]string{"id": id.Hex()})
}

// update serves PATCH /notes/{id} with the fields to set: the note after
// the update, with the fields the caller may read.
func (a *api) update(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := noteID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	set, err := readDocument(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if len(set) == 0 || has(set, "_id") {
		a.writeError(w, r, badRequest("send the fields to set, _id excepted"))
		return
	}
	raw, err := c.notes.FindOneAndUpdate(r.Context(), bson.D{{Key: "_id", Value: id}},
		bson.D{{Key: "$set", Value: set}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Raw()
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeDocument(w, http.StatusOK, raw)
}

// delete serves DELETE /notes/{id}.
func (a *api) delete(w http.ResponseWriter, r *http.Request, c caller) {
	id, err := noteID(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	res, err := c.notes.DeleteOne(r.Context(), bson.D{{Key: "_id", Value: id}})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if res.DeletedCount == 0 {
		a.writeError(w, r, mongo.ErrNoDocuments)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// statusCount is one row of GET /notes/stats.
type statusCount struct {
	Status string `bson:"_id" json:"status"`
	Count  int64  `bson:"count" json:"count"`
}

// stats serves GET /notes/stats: how many readable notes have each status,
// counted by a gated Aggregate. For a caller who owns some notes and
// reads others as a teammate (the private field hidden) the gate runs the
// pipeline itself over the notes as the caller reads them; for an admin,
// who reads every note whole, the server runs it.
func (a *api) stats(w http.ResponseWriter, r *http.Request, c caller) {
	cur, err := c.notes.Aggregate(r.Context(), bson.A{
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "count", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	out := []statusCount{}
	if err := cur.All(r.Context(), &out); err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// watch serves GET /notes/watch: the changes to the notes the caller may
// read, as server-sent events, one change event (redacted by the gate as
// Find redacts a note) per "data:" line. It needs change streams (MongoDB
// 6.0 or later, a replica set); the embedded test server has none, and
// the gate's Watch then fails at once with the server's refusal (501
// here).
func (a *api) watch(w http.ResponseWriter, r *http.Request, c caller) {
	cs, err := c.notes.Watch(r.Context(), bson.A{})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	defer func() { _ = cs.Close(context.WithoutCancel(r.Context())) }()
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush()
	for cs.Next(r.Context()) {
		b, err := bson.MarshalExtJSON(cs.Current, false, false)
		if err != nil {
			return
		}
		// Relaxed extended JSON has no raw newline: one line per event.
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return
		}
		_ = rc.Flush()
	}
}

// noteID is the {id} of the path, a note's ObjectID.
func noteID(r *http.Request) (bson.ObjectID, error) {
	id, err := bson.ObjectIDFromHex(r.PathValue("id"))
	if err != nil {
		return id, badRequest("a note id is 24 hexadecimal digits")
	}
	return id, nil
}

func has(d bson.D, key string) bool {
	for _, e := range d {
		if e.Key == key {
			return true
		}
	}
	return false
}

// readJSON decodes a small JSON body into v.
func readJSON(r *http.Request, v any) error {
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(v); err != nil {
		return badRequest("the body must be a JSON object: " + err.Error())
	}
	return nil
}

// readDocument reads a JSON object body as relaxed extended JSON. What it
// holds is data: the gate validates it (a "$"-prefixed key is refused).
func readDocument(r *http.Request) (bson.D, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBody {
		return nil, badRequest("the body is too large")
	}
	var d bson.D
	if err := bson.UnmarshalExtJSON(b, false, &d); err != nil {
		return nil, badRequest("the body must be a JSON object: " + err.Error())
	}
	return d, nil
}

// errNoToken is a request to a notes route without a bearer token.
var errNoToken = errors.New("notesapi: missing bearer access token")

// requestError is a malformed request (400).
type requestError string

func (e requestError) Error() string { return string(e) }

func badRequest(msg string) error { return requestError(msg) }

// apiError is the JSON body of every error answer.
type apiError struct {
	Error  string `json:"error"`
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
	Role   string `json:"role,omitempty"`
	Field  string `json:"field,omitempty"`
}

// writeError maps err to its answer: rules denials 403 with the
// DeniedError's reason, role and field; any refused token 401 (one
// errors.Is on token.ErrInvalid); operations the gate cannot check 501,
// malformed ones 400; a note the caller cannot see 404, whether it exists
// or not.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		denied  *gate.DeniedError
		refused *gate.RefusedError
		bad     requestError
	)
	switch {
	case errors.As(err, &denied):
		writeJSON(w, http.StatusForbidden, apiError{Error: denied.Error(), Code: gate.CodeDenied,
			Reason: string(denied.Reason), Role: denied.Role, Field: denied.Field})
	case errors.As(err, &refused):
		status := http.StatusBadRequest
		switch refused.Code {
		case gate.CodeUnsupported:
			status = http.StatusNotImplemented
		case gate.CodeConflict:
			status = http.StatusConflict
		}
		writeJSON(w, status, apiError{Error: refused.Error(), Code: refused.Code})
	case errors.Is(err, token.ErrInvalid), errors.Is(err, errNoToken):
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "invalid or missing access token"})
	case errors.Is(err, customdata.ErrSession):
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "invalid session"})
	case errors.Is(err, accounts.ErrInvalidCredentials), errors.Is(err, accounts.ErrPending), errors.Is(err, accounts.ErrDisabled):
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "invalid email or password"})
	case errors.Is(err, accounts.ErrThrottled):
		writeJSON(w, http.StatusTooManyRequests, apiError{Error: "too many failed logins; try again later"})
	case errors.Is(err, mongo.ErrNoDocuments):
		writeJSON(w, http.StatusNotFound, apiError{Error: "no such note"})
	case noChangeStreams(err):
		writeJSON(w, http.StatusNotImplemented, apiError{Error: "this database has no change streams (MongoDB 6.0 or later on a replica set is needed)"})
	case mongo.IsDuplicateKeyError(err):
		writeJSON(w, http.StatusConflict, apiError{Error: "duplicate key"})
	case errors.As(err, &bad):
		writeJSON(w, http.StatusBadRequest, apiError{Error: bad.Error()})
	default:
		a.log.ErrorContext(r.Context(), "notesapi", "method", r.Method, "path", r.URL.Path, "err", err)
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
	}
}

// noChangeStreams reports whether err is a server's refusal of a change
// stream: NotImplemented (FerretDB) or a standalone server's
// "$changeStream stage is only supported on replica sets" (40573).
func noChangeStreams(err error) bool {
	var se mongo.ServerError
	return errors.As(err, &se) && (se.HasErrorCode(238) || se.HasErrorCode(40573))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// writeDocument writes a document as relaxed extended JSON.
func writeDocument(w http.ResponseWriter, status int, doc bson.Raw) {
	b, err := bson.MarshalExtJSON(doc, false, false)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, apiError{Error: "internal error"})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
