package customdata

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/token"
)

// ErrSession is returned by Refresh and Logout for a refresh token whose
// session does not exist (never did, was logged out, or expired) or whose
// session was issued another refresh token (its hash differs).
var ErrSession = errors.New("customdata: unknown or revoked session")

// ErrReused is returned, wrapped with ErrSession, by Refresh and Logout
// under WithRotation for a refresh token the session already rotated away:
// someone holds a copy, so the session is deleted.
var ErrReused = errors.New("customdata: rotated refresh token presented again; session revoked")

// MaxPreviousHashes bounds Session.PreviousHashes: a token rotated away more
// than this many refreshes ago is only an unknown token (ErrSession), no
// longer a reuse that ends the session.
const MaxPreviousHashes = 32

// Session is the server-side state a refresh token names: what is needed
// to mint the user's next access token, besides the custom data, which is
// reloaded at every refresh, and the hash of the refresh token it issued.
type Session struct {
	UserID     string
	Type       string // "normal" or "server"
	Metadata   []byte // the user object's data, a JSON object, or nil
	Identities []token.Identity
	// DeviceID is the login's device id (24-hex), carried by every access
	// token of the session as baas_device_id.
	DeviceID string
	// Expires is the refresh token's expiry; a SessionStore's Get finds
	// nothing from then on. Zero means never.
	Expires time.Time
	// TokenHash is the SHA-256 of the refresh token the session issued last:
	// only that token refreshes it or logs it out.
	TokenHash []byte
	// PreviousHashes are, under WithRotation, the hashes of the tokens it
	// issued before, oldest first, at most MaxPreviousHashes.
	PreviousHashes [][]byte
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

// Get returns the session stored under id, unless it has expired (by
// time.Now); an expired session is removed.
func (m *MemorySessions) Get(_ context.Context, id string) (Session, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.m[id]
	if ok && !s.Expires.IsZero() && !time.Now().Before(s.Expires) {
		delete(m.m, id)
		return Session{}, false, nil
	}
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
	// DeviceID is the client's device id (realm-web sends the one the
	// previous login returned); empty makes a new 24-hex ObjectId.
	DeviceID string
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
	// given, or a new one under WithRotation.
	RefreshToken string
	// DeviceID is the session's device id; SessionID its id (the refresh
	// token's "sid").
	DeviceID  string
	SessionID string
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
	rotate   bool

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

// WithRotation makes Refresh rotate refresh tokens: it returns a new one
// and remembers the previous one's hash, and presenting a rotated token
// again deletes the session (ErrSession wrapping ErrReused). Off by
// default: realm-web 2.0.1 ignores a new refresh token in the refresh
// response, so rotation would log its users out at their second refresh
// (see the package documentation).
func WithRotation() AuthOption { return func(a *Auth) { a.rotate = true } }

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
	sess := Session{UserID: userID, Type: info.Type, Metadata: info.Metadata, Identities: info.Identities, DeviceID: info.DeviceID}
	if sess.DeviceID == "" {
		sess.DeviceID = bson.NewObjectID().Hex()
	}
	t, err := a.mint(ctx, sess)
	if err != nil {
		return Tokens{}, err
	}
	sid, err := newSessionID()
	if err != nil {
		return Tokens{}, err
	}
	if err := a.issue(&sess, &t, sid); err != nil {
		return Tokens{}, err
	}
	if err := a.sessions.Put(ctx, sid, sess); err != nil {
		return Tokens{}, fmt.Errorf("customdata: user %q: store session: %w", userID, err)
	}
	return t, nil
}

// issue mints a refresh token for session sid into t and records its hash
// and expiry in sess.
func (a *Auth) issue(sess *Session, t *Tokens, sid string) error {
	rt, err := a.signer.SignRefresh(sess.UserID, sid)
	if err != nil {
		return fmt.Errorf("customdata: user %q: refresh token: %w", sess.UserID, err)
	}
	// The session expires with its token; reading exp back from the token
	// keeps the two equal whatever clocks the Signer and the Auth use.
	c, err := a.verifier.VerifyRefresh(rt)
	if err != nil {
		return fmt.Errorf("customdata: user %q: the verifier refuses the signer's refresh token: %w", sess.UserID, err)
	}
	h := sha256.Sum256([]byte(rt))
	sess.TokenHash, sess.Expires = h[:], c.ExpiresAt
	t.RefreshToken, t.SessionID = rt, sid
	return nil
}

// Refresh checks a refresh token, reloads the user's custom data from the
// collection, and returns a new access token. RefreshToken is the one
// given, or under WithRotation a new one (the given one is then spent).
// Changes to the document become visible to rules here, not before.
//
// Without compare-and-swap in SessionStore, two concurrent refreshes with
// one token under rotation both succeed and the later Put wins; the other
// client's new token then counts as rotated away.
func (a *Auth) Refresh(ctx context.Context, refreshToken string) (Tokens, error) {
	sid, sess, err := a.session(ctx, "refresh", refreshToken)
	if err != nil {
		return Tokens{}, err
	}
	t, err := a.mint(ctx, sess)
	if err != nil {
		return Tokens{}, err
	}
	if !a.rotate {
		t.RefreshToken, t.SessionID = refreshToken, sid
		return t, nil
	}
	// A new slice: the stored session may share the old one's array.
	prev := append(append(make([][]byte, 0, len(sess.PreviousHashes)+1), sess.PreviousHashes...), sess.TokenHash)
	if len(prev) > MaxPreviousHashes {
		prev = prev[len(prev)-MaxPreviousHashes:]
	}
	sess.PreviousHashes = prev
	if err := a.issue(&sess, &t, sid); err != nil {
		return Tokens{}, err
	}
	if err := a.sessions.Put(ctx, sid, sess); err != nil {
		return Tokens{}, fmt.Errorf("customdata: user %q: store session: %w", sess.UserID, err)
	}
	return t, nil
}

// Logout ends the session a refresh token names; the token no longer
// refreshes. Access tokens already minted stay valid until they expire.
// A session that no longer exists is not an error; one that issued
// another token is (ErrSession), and it stays.
func (a *Auth) Logout(ctx context.Context, refreshToken string) error {
	sid, _, err := a.session(ctx, "logout", refreshToken)
	if err != nil {
		if errors.Is(err, ErrSession) && !errors.Is(err, errHash) && !errors.Is(err, ErrReused) {
			return nil
		}
		return err
	}
	if err := a.sessions.Delete(ctx, sid); err != nil {
		return fmt.Errorf("customdata: logout session %q: %w", sid, err)
	}
	return nil
}

// errHash marks, under ErrSession, a session that exists but issued another
// refresh token.
var errHash = errors.New("refresh token is not the session's")

// session returns the id and the state of the session refreshToken names,
// after checking the token's hash against the session's in constant time.
// A token the session rotated away deletes the session (ErrReused).
func (a *Auth) session(ctx context.Context, op, refreshToken string) (string, Session, error) {
	c, err := a.verifier.VerifyRefresh(refreshToken)
	if err != nil {
		return "", Session{}, fmt.Errorf("customdata: %s: %w", op, err)
	}
	sess, ok, err := a.sessions.Get(ctx, c.SessionID)
	if err != nil {
		return "", Session{}, fmt.Errorf("customdata: %s user %q: %w", op, c.Subject, err)
	}
	if !ok || sess.UserID != c.Subject {
		return "", Session{}, fmt.Errorf("%w: %s: user %q, session %q", ErrSession, op, c.Subject, c.SessionID)
	}
	h := sha256.Sum256([]byte(refreshToken))
	if subtle.ConstantTimeCompare(h[:], sess.TokenHash) == 1 {
		return c.SessionID, sess, nil
	}
	for _, p := range sess.PreviousHashes {
		if subtle.ConstantTimeCompare(h[:], p) == 1 {
			if err := a.sessions.Delete(ctx, c.SessionID); err != nil {
				return "", Session{}, fmt.Errorf("customdata: %s user %q: revoke session %q: %w", op, c.Subject, c.SessionID, err)
			}
			return "", Session{}, fmt.Errorf("%w: %w: %s: user %q, session %q", ErrSession, ErrReused, op, c.Subject, c.SessionID)
		}
	}
	return "", Session{}, fmt.Errorf("%w: %w: %s: user %q, session %q", ErrSession, errHash, op, c.Subject, c.SessionID)
}

// mint loads the custom data and signs an access token.
func (a *Auth) mint(ctx context.Context, sess Session) (Tokens, error) {
	d, found, err := a.store.Load(ctx, sess.UserID)
	if err != nil {
		return Tokens{}, err
	}
	p := token.Params{UserID: sess.UserID, Type: sess.Type, Metadata: sess.Metadata, Identities: sess.Identities, DeviceID: sess.DeviceID}
	if found {
		p.CustomData = d.JSON
	}
	at, err := a.signer.Sign(p)
	if err != nil {
		return Tokens{}, fmt.Errorf("customdata: user %q: access token: %w", sess.UserID, err)
	}
	return Tokens{UserID: sess.UserID, AccessToken: at, CustomData: d, HasCustomData: found, DeviceID: sess.DeviceID}, nil
}

func newSessionID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("customdata: session id: %w", err)
	}
	return hex.EncodeToString(b[:]), nil
}

// SessionUser returns the id of the user whose session refreshToken names,
// checking the token as Refresh does, without minting anything: for the
// routes App Services authenticates with the refresh token (user API keys).
func (a *Auth) SessionUser(ctx context.Context, refreshToken string) (string, error) {
	_, sess, err := a.session(ctx, "session", refreshToken)
	if err != nil {
		return "", err
	}
	return sess.UserID, nil
}
