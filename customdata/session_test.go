package customdata_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/token"
)

var hex24 = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestSessionRecord: Login stores the SHA-256 of the refresh token, its
// expiry and a device id (a new ObjectId when none is given), and the
// access token carries the device id as baas_device_id.
func TestSessionRecord(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if !hex24.MatchString(tok.DeviceID) {
		t.Errorf("DeviceID = %q, want a 24-hex ObjectId", tok.DeviceID)
	}
	s, ok, _ := e.sessions.Get(ctx, tok.SessionID)
	if !ok {
		t.Fatalf("no session %q", tok.SessionID)
	}
	h := sha256.Sum256([]byte(tok.RefreshToken))
	if !bytes.Equal(s.TokenHash, h[:]) || s.DeviceID != tok.DeviceID {
		t.Errorf("session = %+v, want the refresh token's hash and device %s", s, tok.DeviceID)
	}
	c, _ := e.verifier.VerifyRefresh(tok.RefreshToken)
	if !s.Expires.Equal(c.ExpiresAt) {
		t.Errorf("session expires %v, refresh token %v", s.Expires, c.ExpiresAt)
	}
	at, _ := e.verifier.Verify(tok.AccessToken)
	if !bytes.Contains(at.Raw(), []byte(`"baas_device_id":"`+tok.DeviceID+`"`)) {
		t.Errorf("access token %s lacks baas_device_id %s", at.Raw(), tok.DeviceID)
	}
	again, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{DeviceID: tok.DeviceID})
	if err != nil || again.DeviceID != tok.DeviceID || again.SessionID == tok.SessionID {
		t.Errorf("second login = %+v, %v; want device %s and a new session", again, err, tok.DeviceID)
	}
	fresh, err := e.auth.Refresh(ctx, tok.RefreshToken)
	if err != nil || fresh.DeviceID != tok.DeviceID || fresh.SessionID != tok.SessionID || fresh.RefreshToken != tok.RefreshToken {
		t.Errorf("Refresh = %+v, %v", fresh, err)
	}
}

// TestSessionHashMismatch: a refresh token naming an existing session whose
// stored hash is another token's refreshes nothing and logs nothing out.
func TestSessionHashMismatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	s, _, _ := e.sessions.Get(ctx, tok.SessionID)
	other := sha256.Sum256([]byte("another token"))
	s.TokenHash = other[:]
	_ = e.sessions.Put(ctx, tok.SessionID, s)
	if _, err := e.auth.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh = %v, want ErrSession", err)
	}
	if err := e.auth.Logout(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Logout = %v, want ErrSession", err)
	}
	if _, ok, _ := e.sessions.Get(ctx, tok.SessionID); !ok {
		t.Error("a mismatched Logout deleted the session")
	}
}

// TestMemorySessionExpiry: Get of an expired session finds nothing.
func TestMemorySessionExpiry(t *testing.T) {
	t.Parallel()
	m := customdata.NewMemorySessions()
	_ = m.Put(ctx, "old", customdata.Session{UserID: "u1", Expires: time.Now().Add(-time.Second)})
	_ = m.Put(ctx, "new", customdata.Session{UserID: "u1", Expires: time.Now().Add(time.Hour)})
	if _, ok, _ := m.Get(ctx, "old"); ok {
		t.Error("Get(expired) found it")
	}
	if _, ok, _ := m.Get(ctx, "new"); !ok {
		t.Error("Get(live) found nothing")
	}
}

// TestRotation: with WithRotation each Refresh returns a new refresh
// token; presenting a rotated one again ends the session (ErrReused), so
// the newest token no longer refreshes either.
func TestRotation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil, customdata.WithRotation())
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	r1, err := e.auth.Refresh(ctx, tok.RefreshToken)
	if err != nil || r1.RefreshToken == tok.RefreshToken || r1.SessionID != tok.SessionID {
		t.Fatalf("Refresh = %+v, %v; want a new refresh token for the same session", r1, err)
	}
	r2, err := e.auth.Refresh(ctx, r1.RefreshToken)
	if err != nil || r2.RefreshToken == r1.RefreshToken {
		t.Fatalf("second Refresh = %+v, %v", r2, err)
	}
	_, err = e.auth.Refresh(ctx, tok.RefreshToken)
	if !errors.Is(err, customdata.ErrSession) || !errors.Is(err, customdata.ErrReused) {
		t.Errorf("Refresh(rotated token) = %v, want ErrSession and ErrReused", err)
	}
	if _, err := e.auth.Refresh(ctx, r2.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh(newest) after reuse = %v, want ErrSession", err)
	}
	if e.sessions.Len() != 0 {
		t.Errorf("%d sessions left after reuse", e.sessions.Len())
	}
}

// TestTokenDeviceIDUTF8: a device id that is not UTF-8 is refused.
func TestTokenDeviceIDUTF8(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	if _, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{DeviceID: "\xff"}); !errors.Is(err, token.ErrParams) {
		t.Errorf("Login(device \\xff) = %v, want token.ErrParams", err)
	}
}
