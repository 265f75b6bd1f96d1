package customdata

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/token"
)

// ErrSession is returned by Refresh and Logout for a refresh token whose
// session does not exist (never did, or was logged out).
var ErrSession = errors.New("customdata: unknown or revoked session")

// Session is the server-side state a refresh token names: what is needed
// to mint the user's next access token, besides the custom data, which is
// reloaded at every refresh.
type Session struct {
	UserID     string
	Type       string // "normal" or "server"
	Metadata   []byte // the user object's data, a JSON object, or nil
	Identities []token.Identity
}

// SessionStore keeps sessions by id. Implementations must be safe for
// concurrent use.
type SessionStore interface {
	Put(ctx context.Context, id string, s Session) error
	Get(ctx context.Context, id string) (s Session, ok bool, err error)
	Delete(ctx context.Context, id string) error
}

// MemorySessions is an in-memory SessionStore, for tests and single-process
// deployments. Its zero value is not usable; call NewMemorySessions.
type MemorySessions struct {
	mu sync.Mutex
	m  map[string]Session
}

// NewMemorySessions returns an empty MemorySessions.
func NewMemorySessions() *MemorySessions { return &MemorySessions{m: map[string]Session{}} }

// Put stores s under id.
func (m *MemorySessions) Put(_ context.Context, id string, s Session) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[id] = s
	return nil
}

// Get returns the session stored under id.
func (m *MemorySessions) Get(_ context.Context, id string) (Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[id]
	return s, ok, nil
}

// Delete removes the session stored under id.
func (m *MemorySessions) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.m, id)
	return nil
}

// Len returns the number of sessions.
func (m *MemorySessions) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.m)
}

// LoginInfo describes the user logging in, as the authentication provider
// knows it.
type LoginInfo struct {
	// Type is "normal" (default) or "server".
	Type string
	// Metadata is the user object's data (%%user.data), a JSON object.
	Metadata []byte
	// Identities are the user's identities (%%user.identities).
	Identities []token.Identity
	// NewUser is true on the login that created the user; the
	// user-creation hook runs then.
	NewUser bool
}

// Event is what a hook receives.
type Event struct {
	// UserID is the user's id, the value of the user id field.
	UserID string
	// Collection is the custom data collection; UserIDField names the
	// field holding the user id.
	Collection  *mongo.Collection
	UserIDField string
	// Time is the login time, from the Auth's clock.
	Time time.Time
	// Info is the login's LoginInfo.
	Info LoginInfo
}

// Hook runs during Login. A hook error fails the login.
type Hook func(ctx context.Context, e Event) error

// Tokens is the outcome of Login and Refresh.
type Tokens struct {
	// UserID is the user the tokens are for.
	UserID string
	// AccessToken carries the custom data, if any, in "user_data".
	AccessToken string
	// RefreshToken names the session; Refresh returns the one it was
	// given.
	RefreshToken string
	// CustomData is what the access token carries; HasCustomData is false
	// when the user has none (then the token has no "user_data" claim).
	CustomData    Data
	HasCustomData bool
}

// Auth is the login and refresh flow: it loads custom data from a Store,
// runs the hooks, and mints tokens with a token.Signer. It is safe for
// concurrent use.
type Auth struct {
	store    *Store
	signer   *token.Signer
	verifier *token.Verifier
	sessions SessionStore
	now      func() time.Time

	createName string
	onCreate   Hook
	onLogin    Hook
}

// AuthOption configures an Auth.
type AuthOption func(*Auth)

// WithUserCreationHook registers the user-creation hook under the
// function name the configuration's on_user_creation_function_name must
// name. It runs on a new user's login (LoginInfo.NewUser), before the
// lookup, and may insert the user's document.
func WithUserCreationHook(functionName string, h Hook) AuthOption {
	return func(a *Auth) { a.createName, a.onCreate = functionName, h }
}

// WithLoginHook registers the login hook. It runs on every login, after the
// user-creation hook and before the lookup, so the token sees its writes
// (App Services' authentication triggers run asynchronously instead).
func WithLoginHook(h Hook) AuthOption { return func(a *Auth) { a.onLogin = h } }

// WithClock sets the clock hooks see as Event.Time (time.Now by default).
// Token times come from the Signer's own clock.
func WithClock(now func() time.Time) AuthOption { return func(a *Auth) { a.now = now } }

// NewAuth returns the login flow over store, minting with signer and
// checking refresh tokens with verifier, keeping sessions in sessions.
//
// When the configuration names an on_user_creation_function_name, a
// WithUserCreationHook of that name must be given, and the other way round.
func NewAuth(store *Store, signer *token.Signer, verifier *token.Verifier, sessions SessionStore, opts ...AuthOption) (*Auth, error) {
	if store == nil || signer == nil || verifier == nil || sessions == nil {
		return nil, fmt.Errorf("%w: NewAuth needs a store, a signer, a verifier and a session store", ErrConfig)
	}
	a := &Auth{store: store, signer: signer, verifier: verifier, sessions: sessions, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	if a.now == nil {
		a.now = time.Now
	}
	want := store.cfg.OnUserCreationFunctionName
	switch {
	case want != "" && a.onCreate == nil:
		return nil, fmt.Errorf("%w: %s: on_user_creation_function_name is %q but no WithUserCreationHook was given", ErrConfig, where(&store.cfg), want)
	case a.onCreate != nil && want != a.createName:
		return nil, fmt.Errorf("%w: %s: WithUserCreationHook %q given, but on_user_creation_function_name is %q", ErrConfig, where(&store.cfg), a.createName, want)
	}
	return a, nil
}

// Login logs userID in: on a new user it runs the user-creation hook, then
// the login hook (both only when custom data is enabled), loads the custom
// data, and returns an access token carrying it and a refresh token for a
// new session.
func (a *Auth) Login(ctx context.Context, userID string, info LoginInfo) (Tokens, error) {
	if userID == "" {
		return Tokens{}, errors.New("customdata: login: empty user id")
	}
	// %%user.data is read as extended JSON too: a "$" key there would be a
	// typed value, not the provider's data (see TokenJSON).
	if p, ok := expansion.DollarKey(info.Metadata); ok {
		return Tokens{}, fmt.Errorf("%w: user %q: metadata: %s", ErrDollarKey, userID, p)
	}
	if a.store.Enabled() {
		e := Event{UserID: userID, Collection: a.store.coll, UserIDField: a.store.cfg.UserIDField, Time: a.now(), Info: info}
		if info.NewUser && a.onCreate != nil {
			if err := a.onCreate(ctx, e); err != nil {
				return Tokens{}, fmt.Errorf("customdata: user %q: user-creation function %q: %w", userID, a.createName, err)
			}
		}
		if a.onLogin != nil {
			if err := a.onLogin(ctx, e); err != nil {
				return Tokens{}, fmt.Errorf("customdata: user %q: login hook: %w", userID, err)
			}
		}
	}
	sess := Session{UserID: userID, Type: info.Type, Metadata: info.Metadata, Identities: info.Identities}
	t, err := a.mint(ctx, sess)
	if err != nil {
		return Tokens{}, err
	}
	sid, err := newSessionID()
	if err != nil {
		return Tokens{}, err
	}
	t.RefreshToken, err = a.signer.SignRefresh(userID, sid)
	if err != nil {
		return Tokens{}, fmt.Errorf("customdata: user %q: refresh token: %w", userID, err)
	}
	if err := a.sessions.Put(ctx, sid, sess); err != nil {
		return Tokens{}, fmt.Errorf("customdata: user %q: store session: %w", userID, err)
	}
	return t, nil
}

// Refresh checks a refresh token, reloads the user's custom data from the
// collection, and returns a new access token (RefreshToken is the one
// given). Changes to the document become visible to rules here, not
// before.
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	sess, err := a.session(ctx, refreshToken)
	if err != nil {
		return Tokens{}, err
	}
	t, err := a.mint(ctx, sess)
	if err != nil {
		return Tokens{}, err
	}
	t.RefreshToken = refreshToken
	return t, nil
}

// Logout ends the session a refresh token names; the token no longer
// refreshes. Access tokens already minted stay valid until they expire.
func (a *Auth) Logout(ctx context.Context, refreshToken string) error {
	c, err := a.verifier.VerifyRefresh(refreshToken)
	if err != nil {
		return fmt.Errorf("customdata: logout: %w", err)
	}
	if err := a.sessions.Delete(ctx, c.SessionID); err != nil {
		return fmt.Errorf("customdata: logout user %q: %w", c.Subject, err)
	}
	return nil
}

func (a *Auth) session(ctx context.Context, refreshToken string) (Session, error) {
	c, err := a.verifier.VerifyRefresh(refreshToken)
	if err != nil {
		return Session{}, fmt.Errorf("customdata: refresh: %w", err)
	}
	sess, ok, err := a.sessions.Get(ctx, c.SessionID)
	if err != nil {
		return Session{}, fmt.Errorf("customdata: refresh user %q: %w", c.Subject, err)
	}
	if !ok || sess.UserID != c.Subject {
		return Session{}, fmt.Errorf("%w: user %q, session %q", ErrSession, c.Subject, c.SessionID)
	}
	return sess, nil
}

// mint loads the custom data and signs an access token.
func (a *Auth) mint(ctx context.Context, sess Session) (Tokens, error) {
	d, found, err := a.store.Load(ctx, sess.UserID)
	if err != nil {
		return Tokens{}, err
	}
	p := token.Params{UserID: sess.UserID, Type: sess.Type, Metadata: sess.Metadata, Identities: sess.Identities}
	if found {
		p.CustomData = d.JSON
	}
	at, err := a.signer.Sign(p)
	if err != nil {
		return Tokens{}, fmt.Errorf("customdata: user %q: access token: %w", sess.UserID, err)
	}
	return Tokens{UserID: sess.UserID, AccessToken: at, CustomData: d, HasCustomData: found}, nil
}

func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("customdata: session id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}
