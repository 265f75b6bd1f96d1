package accounts_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
)

var ctx = context.Background()

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(t *testing.T, db *mongo.Database, opts ...accounts.Option) *accounts.Store {
	t.Helper()
	if db == nil {
		db = rulegatetest.Database(t)
	}
	s, err := accounts.New(ctx, db, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// auth is a customdata.Auth over s.Sessions(), its signer's and verifier's
// clock c.
func auth(t *testing.T, s *accounts.Store, c *clock, opts ...customdata.AuthOption) (*customdata.Auth, *token.Verifier) {
	t.Helper()
	cd, err := customdata.New(&rules.CustomUserData{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := token.HMACKey("k1", []byte("accounts-test-secret-0123456789abcdef"))
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks, token.WithClock(c.now))
	verifier, _ := token.NewVerifier(ks, token.WithClock(c.now))
	a, err := customdata.NewAuth(cd, signer, verifier, s.Sessions(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return a, verifier
}

func login(t *testing.T, a *customdata.Auth, u accounts.User) customdata.Tokens {
	t.Helper()
	tok, err := a.Login(ctx, u.ID, u.LoginInfo(false, ""))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRegisterConfirmLogin(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	s := newStore(t, db)
	p, err := s.Register(ctx, " Alice@Example.COM ", "pa55w0rd!", false)
	if err != nil || p.Token == "" || !hex24.MatchString(p.TokenID) || !hex24.MatchString(p.UserID) {
		t.Fatalf("Register = %+v, %v", p, err)
	}
	if _, err := s.LoginPassword(ctx, "alice@example.com", "pa55w0rd!", ""); !errors.Is(err, accounts.ErrPending) {
		t.Errorf("LoginPassword(pending) = %v, want ErrPending", err)
	}
	if err := s.Confirm(ctx, p.Token+"x", p.TokenID); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Confirm(wrong token) = %v", err)
	}
	if err := s.Confirm(ctx, p.Token, p.TokenID); err != nil {
		t.Fatal(err)
	}
	if err := s.Confirm(ctx, p.Token, p.TokenID); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Confirm twice = %v, want ErrInvalidToken", err)
	}
	u, err := s.LoginPassword(ctx, "ALICE@example.com", "pa55w0rd!", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != p.UserID || u.Type != "normal" || string(u.Data) != `{"email":"alice@example.com"}` || len(u.Identities) != 1 ||
		u.Identities[0].ProviderType != "local-userpass" || string(u.Identities[0].Data) != `{"email":"alice@example.com"}` || u.Created.IsZero() {
		t.Errorf("user = %+v", u)
	}
	if _, err := s.LoginPassword(ctx, "alice@example.com", "pa55w0rd?", ""); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Errorf("wrong password: %v", err)
	}
	// The password is stored as an argon2id PHC string, never in clear.
	raw, _ := db.Collection("identities").FindOne(ctx, bson.D{}).Raw()
	phc, _ := raw.Lookup("password").StringValueOK()
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=19456,t=2,p=1$") || bytes.Contains(raw, []byte("pa55w0rd!")) {
		t.Errorf("stored identity %s", raw)
	}
	got, err := s.User(ctx, u.ID)
	if err != nil || got.ID != u.ID || len(got.Identities) != 1 {
		t.Errorf("User = %+v, %v", got, err)
	}
	if _, err := s.User(ctx, bson.NewObjectID().Hex()); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("User(unknown) = %v", err)
	}
	if _, err := s.User(ctx, "nope"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("User(nope) = %v", err)
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	for _, tc := range []struct {
		email, password string
		want            error
	}{
		{"", "pa55w0rd", accounts.ErrInvalidEmail},
		{"not an email", "pa55w0rd", accounts.ErrInvalidEmail},
		{"Bob <bob@example.com>", "pa55w0rd", accounts.ErrInvalidEmail},
		{"bob@example.com", "12345", accounts.ErrInvalidPassword},
		{"bob@example.com", strings.Repeat("x", 129), accounts.ErrInvalidPassword},
		{"bob@example.com", "\xff\xfe\xfd\xfc\xfb\xfa", accounts.ErrInvalidPassword},
	} {
		if _, err := s.Register(ctx, tc.email, tc.password, true); !errors.Is(err, tc.want) {
			t.Errorf("Register(%q, %q) = %v, want %v", tc.email, tc.password, err, tc.want)
		}
	}
	for _, pw := range []string{"123456", strings.Repeat("é", 128)} {
		if _, err := s.Register(ctx, "ok"+pw[:1]+"@example.com", pw, true); err != nil {
			t.Errorf("Register(password of %d characters) = %v", len([]rune(pw)), err)
		}
	}
}

// TestNoEnumeration: register, resend, reset and login answer the same for
// a known and an unknown email.
func TestNoEnumeration(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	if _, err := s.Register(ctx, "known@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	again, err := s.Register(ctx, "Known@example.com", "another1", false)
	if err != nil || again != (accounts.Pending{}) {
		t.Errorf("Register(known) = %+v, %v; want the zero Pending and nil", again, err)
	}
	if u, err := s.LoginPassword(ctx, "known@example.com", "pa55w0rd", ""); err != nil {
		t.Errorf("the original password no longer works: %v, %v", u, err)
	}
	for _, email := range []string{"known@example.com", "unknown@example.com"} {
		if p, err := s.ResendConfirmation(ctx, email); err != nil || p != (accounts.Pending{}) {
			t.Errorf("ResendConfirmation(%s) = %+v, %v", email, p, err)
		}
	}
	if p, err := s.RequestReset(ctx, "unknown@example.com"); err != nil || p != (accounts.Pending{}) {
		t.Errorf("RequestReset(unknown) = %+v, %v", p, err)
	}
	_, errUnknown := s.LoginPassword(ctx, "unknown@example.com", "pa55w0rd", "")
	_, errWrong := s.LoginPassword(ctx, "known@example.com", "wrong-password", "")
	if !errors.Is(errUnknown, accounts.ErrInvalidCredentials) || errUnknown.Error() != errWrong.Error() {
		t.Errorf("unknown email: %v; wrong password: %v; want the same ErrInvalidCredentials", errUnknown, errWrong)
	}
}

func TestTokenExpiryAndResend(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := newStore(t, nil, accounts.WithClock(c.now), accounts.WithTokenTTL(30*time.Minute))
	p1, err := s.Register(ctx, "carol@example.com", "pa55w0rd", false)
	if err != nil {
		t.Fatal(err)
	}
	c.add(31 * time.Minute)
	if err := s.Confirm(ctx, p1.Token, p1.TokenID); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Confirm after 31 minutes = %v, want ErrInvalidToken", err)
	}
	p2, err := s.ResendConfirmation(ctx, "carol@example.com")
	if err != nil || p2.Token == "" || p2.TokenID == p1.TokenID {
		t.Fatalf("ResendConfirmation = %+v, %v", p2, err)
	}
	c.add(29 * time.Minute)
	if err := s.Confirm(ctx, p2.Token, p2.TokenID); err != nil {
		t.Errorf("Confirm(resent, 29 minutes) = %v", err)
	}
	if _, err := s.LoginPassword(ctx, "carol@example.com", "pa55w0rd", ""); err != nil {
		t.Errorf("login after confirmation: %v", err)
	}
	if err := s.Confirm(ctx, "x", "nothex"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Confirm(bad id) = %v", err)
	}
}

func TestResetRevokesSessions(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := newStore(t, nil, accounts.WithClock(c.now))
	a, _ := auth(t, s, c)
	if _, err := s.Register(ctx, "dan@example.com", "old-password", true); err != nil {
		t.Fatal(err)
	}
	u, err := s.LoginPassword(ctx, "dan@example.com", "old-password", "")
	if err != nil {
		t.Fatal(err)
	}
	tok := login(t, a, u)
	p, err := s.RequestReset(ctx, "dan@example.com")
	if err != nil || p.Token == "" {
		t.Fatalf("RequestReset = %+v, %v", p, err)
	}
	if err := s.Reset(ctx, p.Token, p.TokenID, "short"); !errors.Is(err, accounts.ErrInvalidPassword) {
		t.Errorf("Reset(short) = %v", err)
	}
	if err := s.Reset(ctx, p.Token, p.TokenID, "new-password"); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset(ctx, p.Token, p.TokenID, "third-password"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Reset twice = %v", err)
	}
	if _, err := a.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh after Reset = %v, want ErrSession", err)
	}
	if _, err := s.LoginPassword(ctx, "dan@example.com", "old-password", ""); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Errorf("old password: %v", err)
	}
	u, err = s.LoginPassword(ctx, "dan@example.com", "new-password", "")
	if err != nil {
		t.Fatal(err)
	}
	tok = login(t, a, u)
	if err := s.SetPassword(ctx, "nobody@example.com", "whatever1"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("SetPassword(unknown) = %v", err)
	}
	if err := s.SetPassword(ctx, "dan@example.com", "set-by-function"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh after SetPassword = %v, want ErrSession", err)
	}
	if _, err := s.LoginPassword(ctx, "dan@example.com", "set-by-function", ""); err != nil {
		t.Errorf("login with the set password: %v", err)
	}
}

func TestThrottlePerIdentity(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := newStore(t, nil, accounts.WithClock(c.now), accounts.WithThrottle(3, 100, 15*time.Minute))
	if _, err := s.Register(ctx, "erin@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	// A success clears the counter.
	for range 2 {
		_, _ = s.LoginPassword(ctx, "erin@example.com", "wrong-one", "10.0.0.1")
	}
	if _, err := s.LoginPassword(ctx, "erin@example.com", "pa55w0rd", "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.LoginPassword(ctx, "Erin@example.com", "wrong-one", "10.0.0.2"); !errors.Is(err, accounts.ErrInvalidCredentials) {
			t.Fatalf("failure %d: %v", i, err)
		}
	}
	if _, err := s.LoginPassword(ctx, "erin@example.com", "pa55w0rd", "10.0.0.3"); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("right password after 3 failures = %v, want ErrThrottled", err)
	}
	// An unknown email throttles the same way.
	for range 3 {
		_, _ = s.LoginPassword(ctx, "ghost@example.com", "pa55w0rd", "10.0.0.4")
	}
	if _, err := s.LoginPassword(ctx, "ghost@example.com", "pa55w0rd", "10.0.0.5"); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("unknown email after 3 failures = %v, want ErrThrottled", err)
	}
	c.add(15*time.Minute + time.Second)
	if _, err := s.LoginPassword(ctx, "erin@example.com", "pa55w0rd", "10.0.0.3"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestThrottlePerAddress(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := newStore(t, nil, accounts.WithClock(c.now), accounts.WithThrottle(100, 3, time.Minute))
	if _, err := s.Register(ctx, "fay@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		_, _ = s.LoginPassword(ctx, "other"+string(rune('a'+i))+"@example.com", "pa55w0rd", "192.0.2.1")
	}
	if _, err := s.LoginPassword(ctx, "fay@example.com", "pa55w0rd", "192.0.2.1"); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("login from a throttled address = %v", err)
	}
	if _, err := s.LoginAPIKey(ctx, "whatever", "192.0.2.1"); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("API key login from a throttled address = %v", err)
	}
	if _, err := s.LoginPassword(ctx, "fay@example.com", "pa55w0rd", "192.0.2.2"); err != nil {
		t.Errorf("login from another address: %v", err)
	}
	for range 3 {
		_, _ = s.LoginAPIKey(ctx, "bad key", "192.0.2.3")
	}
	if _, err := s.LoginAPIKey(ctx, "bad key", "192.0.2.3"); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("fourth bad API key = %v, want ErrThrottled", err)
	}
	c.add(time.Minute)
	if _, err := s.LoginPassword(ctx, "fay@example.com", "pa55w0rd", "192.0.2.1"); err != nil {
		t.Errorf("after the window: %v", err)
	}
}

func TestAnonymous(t *testing.T) {
	t.Parallel()
	c := newClock()
	db := rulegatetest.Database(t)
	s := newStore(t, db, accounts.WithClock(c.now))
	u, err := s.LoginAnonymous(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !hex24.MatchString(u.ID) || len(u.Identities) != 1 || u.Identities[0].ProviderType != "anon-user" || string(u.Data) != "{}" {
		t.Errorf("anonymous user = %+v", u)
	}
	var d struct{ Expires time.Time }
	_ = db.Collection("users").FindOne(ctx, bson.D{}).Decode(&d)
	if !d.Expires.Equal(c.now().Add(90 * 24 * time.Hour)) {
		t.Errorf("expires %v, want 90 days after %v", d.Expires, c.now())
	}
	if _, err := s.CreateAPIKey(ctx, u.ID, "k"); !errors.Is(err, accounts.ErrAnonymous) {
		t.Errorf("CreateAPIKey(anonymous) = %v", err)
	}
	c.add(90 * 24 * time.Hour)
	if _, err := s.User(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("User after 90 days = %v, want ErrNotFound", err)
	}
}

func TestLoginExternal(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	u, created, err := s.LoginExternal(ctx, "custom-token", "custom-token", "jwt-sub-1", []byte(`{"name":"Gus"}`))
	if err != nil || !created || !hex24.MatchString(u.ID) || string(u.Data) != `{"name":"Gus"}` ||
		len(u.Identities) != 1 || u.Identities[0].ID != "jwt-sub-1" || u.Identities[0].ProviderName != "custom-token" {
		t.Fatalf("first login = %+v, %v, %v", u, created, err)
	}
	again, created, err := s.LoginExternal(ctx, "custom-token", "custom-token", "jwt-sub-1", []byte(`{"name":"Gus 2"}`))
	if err != nil || created || again.ID != u.ID || string(again.Data) != `{"name":"Gus 2"}` || string(again.Identities[0].Data) != `{"name":"Gus 2"}` {
		t.Errorf("second login = %+v, %v, %v", again, created, err)
	}
	if _, _, err := s.LoginExternal(ctx, "custom-token", "local-userpass", "x", nil); err == nil {
		t.Error("reserved provider name accepted")
	}
	if _, _, err := s.LoginExternal(ctx, "custom-token", "custom-token", "x", []byte(`[1]`)); err == nil {
		t.Error("non-object data accepted")
	}
	if err := s.EnableUser(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LoginExternal(ctx, "custom-token", "custom-token", "jwt-sub-1", nil); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("disabled user = %v", err)
	}
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	s := newStore(t, db)
	u, _, err := s.LoginExternal(ctx, "custom-token", "custom-token", "owner", nil)
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.CreateAPIKey(ctx, u.ID, "laptop")
	if err != nil || !hex24.MatchString(k.ID) || len(k.Key) < 43 || k.Name != "laptop" || k.Disabled {
		t.Fatalf("CreateAPIKey = %+v, %v", k, err)
	}
	// Hashed at rest: no document holds the secret.
	cur, _ := db.Collection("api_keys").Find(ctx, bson.D{})
	for cur.Next(ctx) {
		if bytes.Contains(cur.Current, []byte(k.Key)) {
			t.Errorf("stored key %s holds the secret", cur.Current)
		}
	}
	if _, err := s.CreateAPIKey(ctx, u.ID, "laptop"); !errors.Is(err, accounts.ErrNameInUse) {
		t.Errorf("same name = %v, want ErrNameInUse", err)
	}
	got, err := s.LoginAPIKey(ctx, k.Key, "")
	if err != nil || got.ID != u.ID {
		t.Errorf("LoginAPIKey = %+v, %v", got, err)
	}
	if err := s.EnableAPIKey(ctx, u.ID, k.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoginAPIKey(ctx, k.Key, ""); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("disabled key = %v", err)
	}
	if g, err := s.APIKey(ctx, u.ID, k.ID); err != nil || !g.Disabled || g.Key != "" {
		t.Errorf("APIKey = %+v, %v", g, err)
	}
	_ = s.EnableAPIKey(ctx, u.ID, k.ID, true)
	if _, err := s.LoginAPIKey(ctx, k.Key, ""); err != nil {
		t.Errorf("re-enabled key = %v", err)
	}
	for i := 1; i < accounts.MaxUserAPIKeys; i++ {
		if _, err := s.CreateAPIKey(ctx, u.ID, "k"+string(rune('a'+i))); err != nil {
			t.Fatalf("key %d: %v", i+1, err)
		}
	}
	if _, err := s.CreateAPIKey(ctx, u.ID, "one too many"); !errors.Is(err, accounts.ErrLimit) {
		t.Errorf("21st key = %v, want ErrLimit", err)
	}
	ks, err := s.APIKeys(ctx, u.ID)
	if err != nil || len(ks) != 20 || ks[0].ID != k.ID || ks[0].Key != "" {
		t.Errorf("APIKeys = %d keys, %v", len(ks), err)
	}
	if err := s.DeleteAPIKey(ctx, u.ID, k.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoginAPIKey(ctx, k.Key, ""); !errors.Is(err, accounts.ErrInvalidCredentials) {
		t.Errorf("deleted key = %v", err)
	}
	for _, err := range []error{
		s.DeleteAPIKey(ctx, u.ID, k.ID),
		s.EnableAPIKey(ctx, u.ID, k.ID, true),
		func() error { _, err := s.APIKey(ctx, u.ID, k.ID); return err }(),
		func() error { _, err := s.APIKey(ctx, bson.NewObjectID().Hex(), ks[1].ID); return err }(),
	} {
		if !errors.Is(err, accounts.ErrNotFound) {
			t.Errorf("deleted or foreign key: %v, want ErrNotFound", err)
		}
	}
	if _, err := s.CreateAPIKey(ctx, bson.NewObjectID().Hex(), "x"); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("CreateAPIKey(unknown user) = %v", err)
	}
}

func TestServerAPIKey(t *testing.T) {
	t.Parallel()
	s := newStore(t, nil)
	k, err := s.CreateServerAPIKey(ctx, "backend")
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.LoginAPIKey(ctx, k.Key, "")
	if err != nil || u.Type != "server" || len(u.Identities) != 1 || u.Identities[0].ProviderType != "api-key" || u.Identities[0].ID != k.ID {
		t.Errorf("server key user = %+v, %v", u, err)
	}
	if _, err := s.CreateServerAPIKey(ctx, "backend"); !errors.Is(err, accounts.ErrNameInUse) {
		t.Errorf("same server key name = %v", err)
	}
	if ks, err := s.APIKeys(ctx, u.ID); err != nil || len(ks) != 1 || ks[0].ID != k.ID {
		t.Errorf("APIKeys(server user) = %+v, %v", ks, err)
	}
}

func TestSessions(t *testing.T) {
	t.Parallel()
	c := newClock()
	db := rulegatetest.Database(t)
	s := newStore(t, db, accounts.WithClock(c.now))
	a, verifier := auth(t, s, c)
	u, _, err := s.LoginExternal(ctx, "custom-token", "custom-token", "sess", []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	tok := login(t, a, u)
	got, ok, err := s.Sessions().Get(ctx, tok.SessionID)
	if err != nil || !ok || got.UserID != u.ID || string(got.Metadata) != `{"a":1}` || got.DeviceID != tok.DeviceID || len(got.TokenHash) != 32 ||
		len(got.Identities) != 1 || got.Identities[0].ID != "sess" {
		t.Errorf("stored session = %+v, %v, %v", got, ok, err)
	}
	raw, _ := db.Collection("sessions").FindOne(ctx, bson.D{}).Raw()
	if bytes.Contains(raw, []byte(tok.RefreshToken)) {
		t.Error("the session document holds the refresh token")
	}
	fresh, err := a.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if at, _ := verifier.Verify(fresh.AccessToken); at == nil || !bytes.Contains(at.Raw(), []byte(tok.DeviceID)) {
		t.Error("refreshed access token lacks the device id")
	}
	// Hash mismatch.
	got.TokenHash = bytes.Repeat([]byte{1}, 32)
	_ = s.Sessions().Put(ctx, tok.SessionID, got)
	if _, err := a.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh(mismatched hash) = %v", err)
	}
	// Expiry: the session expires with the refresh token; past it Get finds nothing.
	tok = login(t, a, u)
	got, _, _ = s.Sessions().Get(ctx, tok.SessionID)
	c.t = got.Expires
	if _, ok, _ := s.Sessions().Get(ctx, tok.SessionID); ok {
		t.Error("Get(expired session) found it")
	}
	c.add(-time.Second)
	if _, ok, _ := s.Sessions().Get(ctx, tok.SessionID); !ok {
		t.Error("Get(live session) found nothing")
	}
	// Delete user removes its sessions, identities and keys.
	if _, err := s.CreateAPIKey(ctx, u.ID, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh after DeleteUser = %v", err)
	}
	for _, coll := range []string{"users", "identities", "sessions", "api_keys", "tokens"} {
		if n, _ := db.Collection(coll).CountDocuments(ctx, bson.D{}); n != 0 {
			t.Errorf("%d documents left in %s", n, coll)
		}
	}
	if err := s.DeleteUser(ctx, u.ID); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("DeleteUser twice = %v", err)
	}
}

func TestSessionRotation(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := newStore(t, nil, accounts.WithClock(c.now))
	a, _ := auth(t, s, c, customdata.WithRotation())
	u, err := s.LoginAnonymous(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := login(t, a, u)
	r1, err := a.Refresh(ctx, tok.RefreshToken)
	if err != nil || r1.RefreshToken == tok.RefreshToken {
		t.Fatalf("Refresh = %+v, %v", r1, err)
	}
	if _, err := a.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrReused) {
		t.Errorf("reused token = %v, want ErrReused", err)
	}
	if _, err := a.Refresh(ctx, r1.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("newest token after reuse = %v, want ErrSession", err)
	}
}

func TestEnableUser(t *testing.T) {
	t.Parallel()
	c := newClock()
	s := newStore(t, nil, accounts.WithClock(c.now))
	a, _ := auth(t, s, c)
	if _, err := s.Register(ctx, "hal@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	u, _ := s.LoginPassword(ctx, "hal@example.com", "pa55w0rd", "")
	tok := login(t, a, u)
	if err := s.EnableUser(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LoginPassword(ctx, "hal@example.com", "pa55w0rd", ""); !errors.Is(err, accounts.ErrDisabled) {
		t.Errorf("disabled login = %v", err)
	}
	if _, err := a.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh of a disabled user = %v", err)
	}
	_ = s.EnableUser(ctx, u.ID, true)
	if _, err := s.LoginPassword(ctx, "hal@example.com", "pa55w0rd", ""); err != nil {
		t.Errorf("re-enabled login = %v", err)
	}
	if err := s.EnableUser(ctx, bson.NewObjectID().Hex(), true); !errors.Is(err, accounts.ErrNotFound) {
		t.Errorf("EnableUser(unknown) = %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

// TestTwoStores: two Stores (two clients) on one database are one user
// base: a user registered through one logs in through the other, a session
// opened through one refreshes through the other, and failures counted by
// either throttle both.
func TestTwoStores(t *testing.T) {
	t.Parallel()
	c := newClock()
	db := rulegatetest.Database(t)
	opts := []accounts.Option{accounts.WithClock(c.now), accounts.WithThrottle(3, 100, time.Hour)}
	s1 := newStore(t, db, opts...)
	s2 := newStore(t, rulegatetest.Client(t).Database(db.Name()), opts...)
	p, err := s1.Register(ctx, "ivy@example.com", "pa55w0rd", false)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.Confirm(ctx, p.Token, p.TokenID); err != nil {
		t.Fatal(err)
	}
	u, err := s2.LoginPassword(ctx, "ivy@example.com", "pa55w0rd", "")
	if err != nil {
		t.Fatal(err)
	}
	a1, _ := auth(t, s1, c)
	a2, _ := auth(t, s2, c)
	tok := login(t, a1, u)
	if _, err := a2.Refresh(ctx, tok.RefreshToken); err != nil {
		t.Errorf("refresh through the other store: %v", err)
	}
	_, _ = s1.LoginPassword(ctx, "ivy@example.com", "wrong-one", "")
	_, _ = s2.LoginPassword(ctx, "ivy@example.com", "wrong-one", "")
	_, _ = s1.LoginPassword(ctx, "ivy@example.com", "wrong-one", "")
	if _, err := s2.LoginPassword(ctx, "ivy@example.com", "pa55w0rd", ""); !errors.Is(err, accounts.ErrThrottled) {
		t.Errorf("after 3 failures across two stores = %v, want ErrThrottled", err)
	}
}

// TestLoginInfo: what Auth.Login is given carries the user's type, data
// and identities (without them %%user.identities would be empty, and no
// error would say so).
func TestLoginInfo(t *testing.T) {
	u := accounts.User{ID: "65a000000000000000000001", Type: token.UserNormal, Data: []byte(`{"email":"a@example.com"}`),
		Identities: []accounts.Identity{{ID: "i1", ProviderType: "local-userpass", ProviderName: "local-userpass"}}}
	got := u.LoginInfo(true, "65a0000000000000000000dd")
	if got.Type != "normal" || string(got.Metadata) != `{"email":"a@example.com"}` || !got.NewUser || got.DeviceID != "65a0000000000000000000dd" ||
		len(got.Identities) != 1 || got.Identities[0] != (token.Identity{ID: "i1", ProviderType: "local-userpass"}) {
		t.Errorf("LoginInfo = %+v", got)
	}
}

// TestFirstLogin: a user's first login is reported once, whichever
// provider created the user; a failed first login (UndoFirstLogin) makes
// the next one first again; a user stored before the mark existed has no
// first login left (no user-creation function runs for it later).
func TestFirstLogin(t *testing.T) {
	db := rulegatetest.Database(t)
	s := newStore(t, db)
	if _, err := s.Register(ctx, "fay@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	u, err := s.LoginPassword(ctx, "fay@example.com", "pa55w0rd", "")
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		first, err := s.FirstLogin(ctx, u.ID)
		if err != nil || first != want {
			t.Fatalf("FirstLogin #%d = %v, %v; want %v", i+1, first, err, want)
		}
	}
	if err := s.UndoFirstLogin(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstLogin(ctx, u.ID); err != nil || !first {
		t.Fatalf("FirstLogin after UndoFirstLogin = %v, %v; want true", first, err)
	}
	anon, err := s.LoginAnonymous(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstLogin(ctx, anon.ID); err != nil || !first {
		t.Fatalf("anonymous FirstLogin = %v, %v; want true", first, err)
	}
	// A user document written before first logins were recorded.
	old := bson.NewObjectID()
	if _, err := db.Collection("users").InsertOne(ctx, bson.D{{Key: "_id", Value: old}, {Key: "type", Value: "normal"}, {Key: "data", Value: "{}"}}); err != nil {
		t.Fatal(err)
	}
	if first, err := s.FirstLogin(ctx, old.Hex()); err != nil || first {
		t.Fatalf("FirstLogin of an older user = %v, %v; want false", first, err)
	}
	if _, err := s.FirstLogin(ctx, "nope"); !errors.Is(err, accounts.ErrNotFound) {
		t.Fatalf("FirstLogin of a malformed id = %v, want ErrNotFound", err)
	}
}
