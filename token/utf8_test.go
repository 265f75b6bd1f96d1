package token_test

import (
	"errors"
	"testing"

	"github.com/rulegate/rulegate/token"
)

// TestSubjectIsUserID: the token's subject is the user id it was signed
// for, or Sign fails. appendString writes the id with encoding/json, which
// replaces bytes that are not UTF-8 by U+FFFD: Sign("bob\xff") minted a
// token whose Claims.Subject and %%user.id are "bob\ufffd", another user,
// carrying bob\xff's custom data. The same holds for refresh tokens.
func TestSubjectIsUserID(t *testing.T) {
	k := keys(t).hs
	s := newSigner(t, k)
	v := newVerifier(t, nil, k)
	const id = "bob\xff"
	tok, err := s.Sign(token.Params{UserID: id})
	if err == nil {
		c, err := v.Verify(tok)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != id {
			t.Errorf("Sign(%q): Subject = %q", id, c.Subject)
		}
		u, _ := c.User().Lookup("id")
		if s, _ := u.StringOK(); s != id {
			t.Errorf("Sign(%q): %%%%user.id = %q", id, s)
		}
	} else if !errors.Is(err, token.ErrParams) {
		t.Errorf("Sign(%q) = %v, want ErrParams", id, err)
	}
	rt, err := s.SignRefresh(id, "sid")
	if err == nil {
		c, err := v.VerifyRefresh(rt)
		if err != nil {
			t.Fatal(err)
		}
		if c.Subject != id {
			t.Errorf("SignRefresh(%q): Subject = %q", id, c.Subject)
		}
	} else if !errors.Is(err, token.ErrParams) {
		t.Errorf("SignRefresh(%q) = %v, want ErrParams", id, err)
	}
	if _, err := s.Sign(token.Params{UserID: "u", Identities: []token.Identity{{ID: "a\xff", ProviderType: "custom-token"}}}); !errors.Is(err, token.ErrParams) {
		t.Errorf("Sign with identity id %q = %v, want ErrParams (it would read back as U+FFFD)", "a\xff", err)
	}
}
