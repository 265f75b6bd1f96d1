package accounts

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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
//
// fuzz smoke: 1000x (each input registers and logs in on the embedded
// server, and each fuzz worker process starts a server of its own)
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

// TestHashingIsBounded: argon2id takes 19 MiB per hash, so a burst of
// concurrent logins, registrations or resets, each hashing at once, could
// allocate until the process runs out of memory. A Store hashes at most
// GOMAXPROCS passwords at once; the others wait for a slot, or for their
// context to end.
func TestHashingIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := New(ctx, rulegatetest.Database(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(ctx, "known@example.com", "pa55w0rd", true); err != nil {
		t.Fatal(err)
	}
	for range cap(s.hashing) {
		s.hashing <- struct{}{}
	}
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := s.LoginPassword(short, "known@example.com", "pa55w0rd", ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("LoginPassword with every slot taken = %v, want it to wait until its context ends", err)
	}
	if _, err := s.Register(short, "new@example.com", "pa55w0rd", true); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Register with every slot taken = %v", err)
	}
	if err := s.SetPassword(short, "known@example.com", "n3w-pa55w0rd"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("SetPassword with every slot taken = %v", err)
	}
	for range cap(s.hashing) {
		<-s.hashing
	}
	if _, err := s.LoginPassword(ctx, "known@example.com", "pa55w0rd", ""); err != nil {
		t.Errorf("LoginPassword once slots are free = %v", err)
	}
	if cap(s.hashing) != runtime.GOMAXPROCS(0) {
		t.Errorf("%d slots, want GOMAXPROCS (%d)", cap(s.hashing), runtime.GOMAXPROCS(0))
	}
}

// TestThrottleAddress: login throttling counts a client under its IPv4
// address or the /64 of its IPv6 address, whatever the caller passes
// (host:port as http.Request.RemoteAddr has it, or a bare address), so
// that every backend on the Store groups alike.
func TestThrottleAddress(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.7:4000":                 "192.0.2.7",
		"192.0.2.7":                      "192.0.2.7",
		"[2001:db8:1:2::1]:4000":         "2001:db8:1:2::/64",
		"2001:db8:1:2:aaaa:bbbb:cccc:dd": "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:1":           "192.0.2.7",
		"[fe80::1%eth0]:1":               "fe80::/64",
		"":                               "",
		"not an address":                 "not an address",
	} {
		if got := throttleAddress(in); got != want {
			t.Errorf("throttleAddress(%q) = %q, want %q", in, got, want)
		}
	}
}
