package token_test

import (
	"strings"
	"testing"
	"time"

	"github.com/rulegate/rulegate/token"
)

// FuzzVerify checks that Verify never panics and never accepts a token
// whose header and payload were not signed by a known key: the only tokens
// it may accept are those whose signing input is one the test minted.
func FuzzVerify(f *testing.F) {
	k := keys(f)
	set, err := token.NewKeySet(k.hs, k.rs, k.es)
	if err != nil {
		f.Fatal(err)
	}
	v, err := token.NewVerifier(set, token.WithClock(fixedClock(t0)), token.WithLeeway(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	minted := map[string]bool{}
	for _, key := range []token.Key{k.hs, k.rs, k.es} {
		s := newSigner(f, key)
		for _, p := range []token.Params{sampleParams, {UserID: "u"}} {
			tok, err := s.Sign(p)
			if err != nil {
				f.Fatal(err)
			}
			minted[tok[:strings.LastIndexByte(tok, '.')]] = true
			f.Add(tok)
		}
		rt, _ := s.SignRefresh("u", "s")
		minted[rt[:strings.LastIndexByte(rt, '.')]] = true
		f.Add(rt)
	}
	f.Add("")
	f.Add("..")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(tok)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			return
		}
		if !minted[tok[:strings.LastIndexByte(tok, '.')]] {
			t.Fatalf("accepted a token not signed by a known key: %q", tok)
		}
		_ = c.User()
		_, _ = c.CustomData()
	})
}
