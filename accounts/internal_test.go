package accounts

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rulegate/rulegate/rulegatetest"
)

// TestUnknownEmailVerifiesDummy: a login for an unknown email (or an
// unusable password) still runs one argon2id verification, against the
// dummy hash; a known email does not touch it.
func TestUnknownEmailVerifiesDummy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := New(ctx, rulegatetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int64
	s.onDummy = func() { n.Add(1) }
	if _, err := s.Register(ctx, "known@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email, password string
		dummy           int64
	}{
		{"known@example.com", "wrong-password", 0},
		{"unknown@example.com", "pa55w0rd", 1},
		{"not an email", "pa55w0rd", 1},
		{"known@example.com", "short", 1},
	} {
		before := n.Load()
		_, err := s.LoginPassword(ctx, tc.email, tc.password, "")
		if !errors.Is(err, ErrInvalidCredentials) || n.Load()-before != tc.dummy {
			t.Errorf("LoginPassword(%q, %q) = %v, dummy verifications %d, want ErrInvalidCredentials and %d", tc.email, tc.password, err, n.Load()-before, tc.dummy)
		}
	}
}

func TestPHC(t *testing.T) {
	t.Parallel()
	p := argonParams{memory: 64, time: 1, threads: 1}
	h := hashPassword("secret", p)
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("hash %s", h)
	}
	if ok, got := verifyPassword(h, "secret"); !ok || got != p {
		t.Errorf("verify(right) = %v, %+v", ok, got)
	}
	if ok, _ := verifyPassword(h, "Secret"); ok {
		t.Error("verify(wrong) matched")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=99,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA",
		"$argon2id$v=19$m=64,t=1,p=1,x=2$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaGhhc2hoYXNoaGFzaA"} {
		if ok, _ := verifyPassword(bad, "secret"); ok {
			t.Errorf("verify(%q) matched", bad)
		}
	}
}

// FuzzLogin: Register and LoginPassword never panic, and a registered,
// confirmed user logs in with the password it registered (cheap argon2
// parameters keep the target fast).
func FuzzLogin(f *testing.F) {
	ctx := context.Background()
	s, err := New(ctx, rulegatetest.Database(f))
	if err != nil {
		f.Fatal(err)
	}
	s.params = argonParams{memory: 64, time: 1, threads: 1}
	s.dummy = hashPassword("dummy", s.params)
	f.Add("a@example.com", "pa55w0rd", "127.0.0.1")
	f.Add(" A@Example.com ", "\xff\xfe", "")
	f.Add("Bob <b@example.com>", strings.Repeat("x", 129), "::1")
	f.Fuzz(func(t *testing.T, email, password, addr string) {
		_, rerr := s.Register(ctx, email, password, true)
		u, lerr := s.LoginPassword(ctx, email, password, addr)
		switch {
		case rerr != nil && !errors.Is(rerr, ErrInvalidEmail) && !errors.Is(rerr, ErrInvalidPassword):
			t.Fatalf("Register(%q, %q) = %v", email, password, rerr)
		case rerr == nil && lerr != nil && !errors.Is(lerr, ErrInvalidCredentials) && !errors.Is(lerr, ErrThrottled):
			t.Fatalf("LoginPassword(%q, %q) = %v", email, password, lerr)
		case rerr != nil && lerr == nil:
			t.Fatalf("LoginPassword(%q, %q) succeeded after Register failed: %+v", email, password, u)
		}
	})
}
