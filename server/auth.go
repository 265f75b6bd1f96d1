package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
)

// supportedProvider reports whether rulegate logs users in with providers
// of type t (source/authentication/*.txt).
func supportedProvider(t string) bool {
	switch t {
	case rules.ProviderUserPass, rules.ProviderAnonymous, rules.ProviderAPIKey, rules.ProviderCustomToken:
		return true
	}
	return false
}

// enabledProvider returns the export's enabled provider of that name, or
// the 404 App Services answers for a provider it does not offer.
func (s *Server) enabledProvider(name string) (*rules.Provider, *apiError) {
	p := s.app.Provider(name)
	if p == nil || p.Disabled || !supportedProvider(p.Type) {
		return nil, errorf(http.StatusNotFound, codeProviderNotFound, "authentication via '%s' is unsupported", name)
	}
	return p, nil
}

// provider serves POST .../auth/providers/<name>/<op>.
func (s *Server) provider(w http.ResponseWriter, r *http.Request, name, op string) {
	p, ae := s.enabledProvider(name)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	doc, ae := readDocument(w, r, 64<<10, true)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	if op == "login" {
		if r.URL.Query().Get("link") == "true" {
			s.writeError(w, r, errorf(http.StatusBadRequest, codeBadRequest, "linking identities is not supported by rulegate"))
			return
		}
		s.providerLogin(w, r, p, doc)
		return
	}
	if p.Type != rules.ProviderUserPass {
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s", r.URL.Path))
		return
	}
	s.userPass(w, r, p, op, doc)
}

func str(doc bson.Raw, key string) string {
	v, _ := doc.Lookup(key).StringValueOK()
	return v
}

// providerLogin logs a user in with the provider and answers
// {access_token, refresh_token, user_id, device_id} (§3.2).
func (s *Server) providerLogin(w http.ResponseWriter, r *http.Request, p *rules.Provider, doc bson.Raw) {
	ctx := r.Context()
	var u accounts.User
	var created bool
	var err error
	switch p.Type {
	case rules.ProviderUserPass:
		u, err = s.accounts.LoginPassword(ctx, str(doc, "username"), str(doc, "password"), r.RemoteAddr)
	case rules.ProviderAnonymous:
		u, err = s.accounts.LoginAnonymous(ctx)
		created = err == nil
	case rules.ProviderAPIKey:
		u, err = s.accounts.LoginAPIKey(ctx, str(doc, "key"), r.RemoteAddr)
	case rules.ProviderCustomToken:
		u, created, err = s.loginJWT(ctx, p, str(doc, "token"))
	}
	if err != nil {
		s.writeError(w, r, authError(err))
		return
	}
	device := ""
	if oid, ok := doc.Lookup("options", "device", "deviceId").ObjectIDOK(); ok && !oid.IsZero() {
		device = oid.Hex()
	}
	// A user is created, for the user creation function and CREATE
	// triggers, at its first login: an email/password user registers
	// first, and is an App Services user once it logs in. The logins of
	// one user wait for each other from FirstLogin to the tokens: a login
	// during a first login's user creation function would get in without
	// it (the function may refuse the user), and waits for its outcome.
	unlock, err := s.logins.lock(ctx, u.ID)
	if err != nil {
		s.writeError(w, r, authError(err))
		return
	}
	first, err := s.accounts.FirstLogin(ctx, u.ID)
	if err != nil {
		unlock()
		s.writeError(w, r, authError(err))
		return
	}
	created = created || first
	t, err := s.auth.Login(ctx, u.ID, u.LoginInfo(created, device))
	if err != nil {
		if first {
			// Its user creation function failed: the user is not created,
			// and its next login is its first again.
			if uerr := s.accounts.UndoFirstLogin(context.WithoutCancel(ctx), u.ID); uerr != nil {
				s.log(r).Error("a failed first login stays recorded: the user creation function will not run again", "user_id", u.ID, "error", uerr.Error())
			}
		}
		unlock()
		s.writeError(w, r, authError(err))
		return
	}
	unlock()
	s.log(r).Info("login", "user_id", u.ID, "provider", p.Name)
	if len(s.app.Triggers) > 0 {
		s.loginTriggers(r, u, p.Type, created, t)
	}
	writeJSON(w, http.StatusOK, mustJSON(map[string]string{
		"access_token": t.AccessToken, "refresh_token": t.RefreshToken, "user_id": u.ID, "device_id": t.DeviceID,
	}))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// authError maps account and session errors. Unknown users and wrong
// passwords get one answer (no enumeration, source/authentication/
// email-password.txt).
func authError(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, accounts.ErrInvalidCredentials):
		return &apiError{status: http.StatusUnauthorized, code: codeInvalidPassword, msg: "invalid username/password", err: err}
	case errors.Is(err, accounts.ErrThrottled):
		return &apiError{status: http.StatusTooManyRequests, code: codeTooManyRequests, msg: "too many failed login attempts; try again later", err: err}
	case errors.Is(err, accounts.ErrPending):
		return &apiError{status: http.StatusUnauthorized, code: codeUserPending, msg: "confirmation required", err: err}
	case errors.Is(err, accounts.ErrDisabled):
		return &apiError{status: http.StatusUnauthorized, code: codeUserDisabled, msg: "user disabled", err: err}
	case errors.Is(err, accounts.ErrInvalidPassword):
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: "password must be between 6 and 128 characters", err: err}
	case errors.Is(err, accounts.ErrInvalidEmail):
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: "invalid email address", err: err}
	case errors.Is(err, accounts.ErrInvalidToken):
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: "invalid or expired token", err: err}
	case errors.Is(err, accounts.ErrNameInUse):
		return &apiError{status: http.StatusConflict, code: codeAccountNameInUse, msg: "name already in use", err: err}
	case errors.Is(err, accounts.ErrInvalidKeyName):
		return &apiError{status: http.StatusBadRequest, code: codeInvalidParameter, msg: "an API key name must be 1 to 256 bytes of UTF-8", err: err}
	case errors.Is(err, accounts.ErrAnonymous):
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: "anonymous users cannot own API keys", err: err}
	case errors.Is(err, accounts.ErrLimit):
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: "too many API keys: a user may have at most 20", err: err}
	case errors.Is(err, accounts.ErrNotFound):
		return &apiError{status: http.StatusNotFound, code: codeNotFound, msg: "not found", err: err}
	case errors.Is(err, customdata.ErrSession):
		return &apiError{status: http.StatusUnauthorized, code: codeInvalidSession, msg: "invalid session: failed to find refresh token", err: err}
	case errors.Is(err, customdata.ErrTooLarge):
		// The user may write its own document through the rules: its
		// doing, so a 4xx, and never a 401 (a refresh cannot fix it).
		return &apiError{status: http.StatusBadRequest, code: codeBadRequest, msg: "the user's custom data document is too large to travel in an access token", err: err}
	case errors.Is(err, customdata.ErrDollarKey):
		return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "the user's custom data cannot be carried in a token", err: err}
	case errors.Is(err, token.ErrInvalid):
		return &apiError{status: http.StatusUnauthorized, code: codeInvalidSession, msg: "invalid session: failed to find refresh token", err: err}
	}
	return dataError(err)
}

// userPass serves the email/password provider's other operations (§3.1).
// Their answers never say whether an address is registered.
func (s *Server) userPass(w http.ResponseWriter, r *http.Request, p *rules.Provider, op string, doc bson.Raw) {
	ctx := r.Context()
	cfg := p.UserPass
	if cfg == nil {
		cfg = &rules.UserPassConfig{}
	}
	var err error
	switch op {
	case "register":
		var pend accounts.Pending
		pend, err = s.accounts.Register(ctx, str(doc, "email"), str(doc, "password"), cfg.AutoConfirm)
		if err == nil {
			s.pending(r, "confirmation", cfg.EmailConfirmationURL, pend)
		}
	case "confirm":
		err = s.accounts.Confirm(ctx, str(doc, "token"), str(doc, "tokenId"))
	case "confirm/send":
		var pend accounts.Pending
		pend, err = s.accounts.ResendConfirmation(ctx, str(doc, "email"))
		if err == nil {
			s.pending(r, "confirmation", cfg.EmailConfirmationURL, pend)
		}
	case "reset/send":
		var pend accounts.Pending
		pend, err = s.accounts.RequestReset(ctx, str(doc, "email"))
		if err == nil {
			s.pending(r, "password reset", cfg.ResetPasswordURL, pend)
		}
	case "reset":
		err = s.accounts.Reset(ctx, str(doc, "token"), str(doc, "tokenId"), str(doc, "password"))
	case "confirm/call", "reset/call":
		fn := cfg.ConfirmationFunctionName
		if op == "reset/call" {
			fn = cfg.ResetFunctionName
		}
		err = errorf(http.StatusBadRequest, codeFunctionExecution, "the %s function '%s' is not run: rulegate does not run the email/password provider's confirmation and reset functions", strings.TrimSuffix(op, "/call"), fn)
	default:
		err = errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s", r.URL.Path)
	}
	if err != nil {
		s.writeError(w, r, authError(err))
		return
	}
	// A JSON body, not an empty one: realm-web fails on an empty body
	// with a JSON content type (§1).
	writeJSON(w, http.StatusCreated, []byte("{}"))
}

// pending reports a confirmation or reset token that App Services would
// have e-mailed. rulegate sends no mail: the operator's log gets the link
// (at debug level, so it is off unless asked for), never the client.
func (s *Server) pending(r *http.Request, what, url string, p accounts.Pending) {
	if p.Token == "" {
		return
	}
	link := url
	if link != "" {
		sep := "?"
		if strings.Contains(link, "?") {
			sep = "&"
		}
		link += sep + "token=" + p.Token + "&tokenId=" + p.TokenID
	}
	s.log(r).Debug("e-mail not sent (rulegate sends no mail): "+what+" link", "link", link, "token", p.Token, "tokenId", p.TokenID)
}

// routeAuth serves the user and session routes under /api/client/v2.0/auth/.
func (s *Server) routeAuth(w http.ResponseWriter, r *http.Request, rest string) {
	switch {
	case rest == "profile":
		if s.method(w, r, http.MethodGet) {
			s.profile(w, r)
		}
	case rest == "session":
		switch r.Method {
		case http.MethodPost:
			s.refresh(w, r)
		case http.MethodDelete:
			s.logout(w, r)
		default:
			s.notAllowed(w, r)
		}
	case rest == "delete":
		if s.method(w, r, http.MethodDelete) {
			s.deleteUser(w, r)
		}
	case rest == "api_keys" || strings.HasPrefix(rest, "api_keys/"):
		s.apiKeys(w, r, strings.TrimPrefix(strings.TrimPrefix(rest, "api_keys"), "/"))
	default:
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s", r.URL.Path))
	}
}

// profile answers GET /auth/profile (§3.3): type, identities and data are
// required by realm-web.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) {
	c, ae := s.accessClaims(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	u, err := s.accounts.User(r.Context(), c.Subject)
	if errors.Is(err, accounts.ErrNotFound) {
		s.writeError(w, r, errorf(http.StatusUnauthorized, codeInvalidSession, "invalid session: user not found"))
		return
	}
	if err != nil {
		s.writeError(w, r, authError(err))
		return
	}
	type ident struct {
		ID           string          `json:"id"`
		ProviderType string          `json:"provider_type"`
		ProviderID   string          `json:"provider_id"`
		ProviderData json.RawMessage `json:"provider_data,omitempty"`
	}
	ids := make([]ident, len(u.Identities))
	for i, id := range u.Identities {
		ids[i] = ident{ID: id.ID, ProviderType: id.ProviderType, ProviderID: id.ProviderName, ProviderData: id.Data}
	}
	data := json.RawMessage(u.Data)
	if len(data) == 0 {
		data = json.RawMessage("{}")
	}
	writeJSON(w, http.StatusOK, mustJSON(map[string]any{
		"user_id": u.ID, "domain_id": s.appID, "identities": ids, "data": data, "type": u.Type,
	}))
}

// refresh answers POST /auth/session: a new access token minted from the
// current custom data document (§3.5, the staleness model).
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	if !ok {
		s.writeError(w, r, errorf(http.StatusUnauthorized, codeInvalidSession, "invalid session: failed to find refresh token"))
		return
	}
	if _, ae := s.liveSession(r, tok); ae != nil {
		s.writeError(w, r, ae)
		return
	}
	t, err := s.auth.Refresh(r.Context(), tok)
	if err != nil {
		s.writeError(w, r, authError(err))
		return
	}
	out := map[string]string{"access_token": t.AccessToken}
	if t.RefreshToken != tok {
		out["refresh_token"] = t.RefreshToken
	}
	writeJSON(w, http.StatusCreated, mustJSON(out))
}

// logout answers DELETE /auth/session: the session ends.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	tok, ok := bearer(r)
	if !ok {
		s.writeError(w, r, errorf(http.StatusUnauthorized, codeInvalidSession, "invalid session: failed to find refresh token"))
		return
	}
	if err := s.auth.Logout(r.Context(), tok); err != nil {
		s.writeError(w, r, authError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// deleteUser answers DELETE /auth/delete: the caller's user, identities,
// API keys and sessions go.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	c, ae := s.accessClaims(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	// The DELETE triggers' event carries the user as it was.
	var gone accounts.User
	if len(s.app.Triggers) > 0 {
		var err error
		if gone, err = s.accounts.User(r.Context(), c.Subject); err != nil && !errors.Is(err, accounts.ErrNotFound) {
			s.writeError(w, r, authError(err))
			return
		}
	}
	if err := s.accounts.DeleteUser(r.Context(), c.Subject); err != nil {
		if !errors.Is(err, accounts.ErrNotFound) {
			s.writeError(w, r, authError(err))
			return
		}
		gone = accounts.User{}
	}
	s.log(r).Info("user deleted", "user_id", c.Subject)
	if gone.ID != "" {
		s.deleteTriggers(r, gone)
	}
	w.WriteHeader(http.StatusNoContent)
}

// loginTriggers fires the CREATE (for a new user) and LOGIN triggers of a
// login with a provider of type providerType; the user object carries the
// custom data the access token carries.
func (s *Server) loginTriggers(r *http.Request, u accounts.User, providerType string, created bool, t customdata.Tokens) {
	info := u.LoginInfo(created, "")
	var custom bson.Raw
	if t.HasCustomData {
		custom = t.CustomData.Doc
	}
	_, obj, err := userDocument(u.ID, u.Type, u.Data, info.Identities, custom)
	if err != nil {
		s.log(r).Error("authentication triggers not run", "user_id", u.ID, "error", err.Error())
		return
	}
	now := time.Now()
	if created {
		s.fire(authEvent{op: "CREATE", providers: []string{providerType}, userID: u.ID, user: obj, time: now})
	}
	s.fire(authEvent{op: "LOGIN", providers: []string{providerType}, userID: u.ID, user: obj, time: now})
}

// deleteTriggers fires the DELETE triggers of a deleted user: the event
// names every provider the user had an identity with
// (source/triggers/authentication-triggers.txt).
func (s *Server) deleteTriggers(r *http.Request, u accounts.User) {
	info := u.LoginInfo(false, "")
	_, obj, err := userDocument(u.ID, u.Type, u.Data, info.Identities, nil)
	if err != nil {
		s.log(r).Error("authentication triggers not run", "user_id", u.ID, "error", err.Error())
		return
	}
	var providers []string
	for _, id := range u.Identities {
		if !slices.Contains(providers, id.ProviderType) {
			providers = append(providers, id.ProviderType)
		}
	}
	s.fire(authEvent{op: "DELETE", providers: providers, userID: u.ID, user: obj, time: time.Now()})
}

// refreshUser authenticates the user API key routes, which realm-web calls
// with the refresh token (§1).
func (s *Server) refreshUser(r *http.Request) (string, *apiError) {
	tok, ok := bearer(r)
	if !ok {
		return "", errorf(http.StatusUnauthorized, codeInvalidSession, "invalid session: failed to find refresh token")
	}
	return s.liveSession(r, tok)
}

// liveSession returns the user id of a refresh token's session, if that
// user still exists and is enabled. DeleteUser and EnableUser(false) end
// the user's sessions, but a login storing its session while they run,
// or an anonymous user past its lifetime, leaves a session naming a user
// who is gone: it is ended here, and its refresh token mints nothing.
func (s *Server) liveSession(r *http.Request, tok string) (string, *apiError) {
	ctx := r.Context()
	id, err := s.auth.SessionUser(ctx, tok)
	if err != nil {
		return "", authError(err)
	}
	u, err := s.accounts.User(ctx, id)
	switch {
	case err == nil && !u.Disabled:
		return id, nil
	case err != nil && !errors.Is(err, accounts.ErrNotFound):
		return "", authError(err)
	}
	if err := s.auth.Logout(ctx, tok); err != nil {
		s.log(r).Warn("ending the session of a deleted or disabled user", "user_id", id, "error", err.Error())
	}
	return "", &apiError{status: http.StatusUnauthorized, code: codeInvalidSession, msg: "invalid session: failed to find refresh token", err: fmt.Errorf("the session's user %s is deleted or disabled", id)}
}

func apiKeyJSON(k accounts.APIKey) map[string]any {
	m := map[string]any{"_id": k.ID, "name": k.Name, "disabled": k.Disabled}
	if k.Key != "" {
		m["key"] = k.Key
	}
	return m
}

// apiKeys serves the user API key routes (source/authentication/api-key.txt).
func (s *Server) apiKeys(w http.ResponseWriter, r *http.Request, rest string) {
	userID, ae := s.refreshUser(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	ctx := r.Context()
	id, action, _ := strings.Cut(rest, "/")
	var err error
	switch {
	case id == "" && r.Method == http.MethodPost:
		var doc bson.Raw
		if doc, ae = readDocument(w, r, 64<<10, false); ae != nil {
			break
		}
		name := str(doc, "name")
		if name == "" {
			ae = errorf(http.StatusBadRequest, codeMissingParameter, "an API key needs a \"name\"")
			break
		}
		var k accounts.APIKey
		if k, err = s.accounts.CreateAPIKey(ctx, userID, name); err == nil {
			writeJSON(w, http.StatusCreated, mustJSON(apiKeyJSON(k)))
			return
		}
	case id == "" && r.Method == http.MethodGet:
		var ks []accounts.APIKey
		if ks, err = s.accounts.APIKeys(ctx, userID); err == nil {
			out := make([]map[string]any, len(ks))
			for i, k := range ks {
				out[i] = apiKeyJSON(k)
			}
			writeJSON(w, http.StatusOK, mustJSON(out))
			return
		}
	case id != "" && action == "" && r.Method == http.MethodGet:
		var k accounts.APIKey
		if k, err = s.accounts.APIKey(ctx, userID, id); err == nil {
			writeJSON(w, http.StatusOK, mustJSON(apiKeyJSON(k)))
			return
		}
	case id != "" && action == "" && r.Method == http.MethodDelete:
		err = s.accounts.DeleteAPIKey(ctx, userID, id)
	case id != "" && (action == "enable" || action == "disable") && r.Method == http.MethodPut:
		err = s.accounts.EnableAPIKey(ctx, userID, id, action == "enable")
	default:
		ae = errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path)
	}
	switch {
	case ae != nil:
		s.writeError(w, r, ae)
	case errors.Is(err, accounts.ErrNotFound):
		s.writeError(w, r, errorf(http.StatusNotFound, codeAPIKeyNotFound, "API key not found"))
	case err != nil:
		s.writeError(w, r, authError(err))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// userLocks serializes the logins of each user (providerLogin); a user's
// entry lives while a login holds or waits for it.
type userLocks struct {
	mu sync.Mutex
	m  map[string]*userLock
}

type userLock struct {
	held chan struct{} // full while a login holds it
	n    int           // logins holding or waiting
}

// lock waits until no other login of user id holds its lock, or ctx is
// done (its error then), and returns the unlock.
func (l *userLocks) lock(ctx context.Context, id string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*userLock{}
	}
	e := l.m[id]
	if e == nil {
		e = &userLock{held: make(chan struct{}, 1)}
		l.m[id] = e
	}
	e.n++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		e.n--
		if e.n == 0 {
			delete(l.m, id)
		}
		l.mu.Unlock()
	}
	select {
	case e.held <- struct{}{}:
		return func() { <-e.held; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}
