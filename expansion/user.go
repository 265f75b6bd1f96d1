package expansion

import (
	"errors"
	"strings"

	"github.com/tidwall/gjson"
)

// Claim names inside a rulegate access token. The custom user data rides
// under ClaimCustomData, the claim App Services access tokens used.
const (
	ClaimID         = "sub"             // %%user.id
	ClaimCustomData = "user_data"       // %%user.custom_data
	ClaimType       = "user_type"       // %%user.type ("normal" or "server")
	ClaimData       = "user_metadata"   // %%user.data
	ClaimIdentities = "user_identities" // %%user.identities
)

// Layout says how a User's raw JSON is shaped.
type Layout uint8

const (
	// LayoutObject is the App Services user object:
	// {"id", "type", "data", "custom_data", "identities"}.
	LayoutObject Layout = iota + 1
	// LayoutClaims is the payload of a rulegate access token, where the
	// user id is "sub" and the custom data is "user_data" (see the Claim
	// constants).
	LayoutClaims
)

// ErrUserJSON is returned when a user's raw JSON is not a JSON object.
var ErrUserJSON = errors.New("expansion: user must be a JSON object")

// User is the caller that %%user expansions resolve against: an immutable
// view over raw JSON bytes, either an App Services user object or the claims
// of a verified access token. Paths are looked up lazily with gjson; the
// bytes are never decoded as a whole.
//
// The zero User has no fields: every %%user path is missing, and rules that
// need one fail closed.
type User struct {
	raw    []byte
	layout Layout
}

// NewUserObject returns the User described by an App Services user object,
// {"id": "...", "type": "normal", "data": {...}, "custom_data": {...},
// "identities": [{"id": "...", "provider_type": "..."}]}. A user object
// without a "custom_data" key has no custom data.
func NewUserObject(raw []byte) (User, error) { return newUser(raw, LayoutObject) }

// NewUserClaims returns the User described by the JSON payload of an access
// token (see the Claim constants for the claim names).
func NewUserClaims(raw []byte) (User, error) { return newUser(raw, LayoutClaims) }

func newUser(raw []byte, l Layout) (User, error) {
	if !gjson.ValidBytes(raw) || !gjson.ParseBytes(raw).IsObject() {
		return User{}, ErrUserJSON
	}
	return User{raw: raw, layout: l}, nil
}

// Raw returns the JSON bytes the User was built from. Callers must not
// modify them.
func (u User) Raw() []byte { return u.raw }

// Layout reports the shape of Raw.
func (u User) Layout() Layout { return u.layout }

// IsZero reports whether u is the zero User (no caller).
func (u User) IsZero() bool { return u.raw == nil }

// userField maps the first segment after %%user to its key in the raw JSON.
func (u User) userField(seg string) (string, bool) {
	if u.layout == LayoutObject {
		switch seg {
		case "id", "type", "data", "custom_data", "identities":
			return seg, true
		}
		return "", false
	}
	switch seg {
	case "id":
		return ClaimID, true
	case "type":
		return ClaimType, true
	case "data":
		return ClaimData, true
	case "custom_data":
		return ClaimCustomData, true
	case "identities":
		return ClaimIdentities, true
	}
	return "", false
}

// gjsonPath returns the gjson path of the %%user sub-path segs (segs[0] is
// one of id, type, data, custom_data, identities). ok is false for an
// unknown first segment.
func (u User) gjsonPath(segs []string) (string, bool) {
	if len(segs) == 0 {
		return "", false
	}
	first, ok := u.userField(segs[0])
	if !ok {
		return "", false
	}
	var b strings.Builder
	b.WriteString(escapeGJSON(first))
	for _, s := range segs[1:] {
		b.WriteByte('.')
		b.WriteString(escapeGJSON(s))
	}
	return b.String(), true
}

// Lookup returns the raw JSON result at a %%user sub-path (segs[0] is one of
// id, type, data, custom_data, identities). found is false when the path is
// missing.
func (u User) Lookup(segs []string) (res gjson.Result, found bool) {
	if u.raw == nil {
		return gjson.Result{}, false
	}
	p, ok := u.gjsonPath(segs)
	if !ok {
		return gjson.Result{}, false
	}
	r := gjson.GetBytes(u.raw, p)
	return r, r.Exists()
}

// gjsonSpecial are the characters gjson treats specially in a path
// component: separators, wildcards, queries, modifiers, and the "{" and "["
// that open a multipath.
const gjsonSpecial = `.*?|#@\!=<>%"{}[],:`

// escapeGJSON escapes the characters gjson treats specially in a path
// component, so that a MongoDB field name is looked up literally.
func escapeGJSON(s string) string {
	if !strings.ContainsAny(s, gjsonSpecial) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.', '*', '?', '|', '#', '@', '\\', '!', '=', '<', '>', '%', '"', '{', '}', '[', ']', ',', ':':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
