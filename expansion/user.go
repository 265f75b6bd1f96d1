package expansion

import (
	"errors"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/rulegate/rulegate/value"
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

// layout says how a User's raw JSON is shaped.
type layout uint8

const (
	// layoutObject is the App Services user object:
	// {"id", "type", "data", "custom_data", "identities"}.
	layoutObject layout = iota + 1
	// layoutClaims is the payload of a rulegate access token, where the
	// user id is "sub" and the custom data is "user_data" (see the Claim
	// constants).
	layoutClaims
)

// ErrUserJSON is returned when a user's raw JSON is not a JSON object.
var ErrUserJSON = errors.New("expansion: user must be a JSON object")

// User is the caller that %%user expansions resolve against: an immutable
// view over raw JSON bytes, either an App Services user object or the claims
// of a verified access token. Paths are looked up lazily (see Accessor); the
// bytes are never decoded as a whole, and must not be modified once the
// User is built.
//
// The zero User has no fields: every %%user path is missing, and rules that
// need one fail closed.
type User struct {
	raw    []byte
	layout layout
}

// NewUserObject returns the User described by an App Services user object,
// {"id": "...", "type": "normal", "data": {...}, "custom_data": {...},
// "identities": [{"id": "...", "provider_type": "..."}]}. A user object
// without a "custom_data" key has no custom data.
func NewUserObject(raw []byte) (User, error) { return newUser(raw, layoutObject) }

// NewUserClaims returns the User described by the JSON payload of an access
// token (see the Claim constants for the claim names).
func NewUserClaims(raw []byte) (User, error) { return newUser(raw, layoutClaims) }

func newUser(raw []byte, l layout) (User, error) {
	if !gjson.ValidBytes(raw) || !gjson.ParseBytes(raw).IsObject() {
		return User{}, ErrUserJSON
	}
	return User{raw: raw, layout: l}, nil
}

// IsZero reports whether u is the zero User (no caller).
func (u User) IsZero() bool { return u.raw == nil }

// Lookup returns the value at a %%user sub-path, as the expansion
// %%user.<segs[0]>.<segs[1]>... resolves: segs[0] is one of id, type, data,
// custom_data, identities. The value is Missing when the path is absent.
// It compiles an Accessor on every call: hold one (Compile) on hot paths.
func (u User) Lookup(segs ...string) (value.Value, error) {
	if len(segs) == 0 {
		return value.Value{}, nil
	}
	in := Inputs{User: u}
	return Compile(Ref{Root: RootUser, Path: segs}).Resolve(&in)
}

// userFieldKey maps the first segment after %%user to its key in the raw
// JSON of layout l.
func userFieldKey(l layout, seg string) (string, bool) {
	if l == layoutObject {
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
