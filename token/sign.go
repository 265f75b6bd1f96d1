package token

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/rulegate/rulegate/expansion"
)

// Claim names besides the user claims of package expansion.
const (
	ClaimTokenType = "typ" // "access" or "refresh"
	ClaimSession   = "sid" // refresh tokens: the session id
	ClaimIssuedAt  = "iat"
	ClaimExpires   = "exp"
	ClaimNotBefore = "nbf"
	ClaimIssuer    = "iss"
	ClaimAudience  = "aud"
	ClaimTokenID   = "jti"            // refresh tokens: a random nonce
	ClaimDeviceID  = "baas_device_id" // access tokens: the login's device id
)

// Token types, the values of the "typ" claim.
const (
	TypeAccess  = "access"
	TypeRefresh = "refresh"
)

// User types, the values of the "user_type" claim.
const (
	UserNormal = "normal"
	UserServer = "server"
)

// ErrParams is returned by Signer methods for unusable input.
var ErrParams = errors.New("token: invalid claims")

// Identity is one of a user's identities, an element of %%user.identities.
type Identity struct {
	ID           string `json:"id"`
	ProviderType string `json:"provider_type"`
}

// Params are the user claims of an access token.
type Params struct {
	// UserID is the "sub" claim; required.
	UserID string
	// Type is "normal" (the default when empty) or "server".
	Type string
	// CustomData is the custom user data document as a JSON object, or
	// nil for none: then the token has no "user_data" claim and every
	// %%user.custom_data path is missing. It is read as extended JSON, so
	// an object with a "$" key is a typed value ({"$maxKey": 1} is MaxKey):
	// pass customdata.TokenJSON of the stored document (canonical extended
	// JSON, refusing documents whose own keys start with "$"), never JSON
	// whose keys a user wrote.
	CustomData []byte
	// Metadata is the user object's data, a JSON object, or nil.
	Metadata []byte
	// Identities lists the user's identities.
	Identities []Identity
	// DeviceID is the "baas_device_id" claim (realm-web's user.deviceId),
	// omitted when empty.
	DeviceID string
}

// Signer mints tokens with a KeySet's signing key. It is immutable and safe
// for concurrent use.
type Signer struct {
	key    Key
	header string // base64url of the JOSE header, with its trailing '.'
	cfg    signConfig
}

// NewSigner returns a Signer using the signing key of keys.
func NewSigner(keys *KeySet, opts ...SignOption) (*Signer, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil key set", ErrKey)
	}
	k, ok := keys.Signing()
	if !ok {
		return nil, fmt.Errorf("%w: key set has no signing key", ErrKey)
	}
	cfg := signConfig{now: time.Now, ttl: DefaultTTL, refreshTTL: DefaultRefreshTTL}
	for _, o := range opts {
		o.applySign(&cfg)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.ttl <= 0 || cfg.refreshTTL <= 0 {
		return nil, fmt.Errorf("token: TTL must be positive (access %v, refresh %v)", cfg.ttl, cfg.refreshTTL)
	}
	h, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{string(k.alg), k.id, "JWT"})
	if err != nil {
		return nil, err
	}
	return &Signer{key: k, header: base64.RawURLEncoding.EncodeToString(h) + ".", cfg: cfg}, nil
}

// KeyID returns the id of the key the Signer signs with.
func (s *Signer) KeyID() string { return s.key.id }

// Sign mints an access token for p, valid from now for the Signer's TTL.
// A user id or identity string that is not valid UTF-8 is refused with
// ErrParams: JSON would carry it as U+FFFD, naming another user.
func (s *Signer) Sign(p Params) (string, error) {
	if p.UserID == "" {
		return "", fmt.Errorf("%w: empty user id", ErrParams)
	}
	// Strings are written with encoding/json, which replaces bytes that
	// are not UTF-8 by U+FFFD: the token would name another user.
	if !utf8.ValidString(p.UserID) {
		return "", fmt.Errorf("%w: user id %q is not valid UTF-8", ErrParams, p.UserID)
	}
	if !utf8.ValidString(p.DeviceID) {
		return "", fmt.Errorf("%w: user %q: device id is not valid UTF-8", ErrParams, p.UserID)
	}
	for i, id := range p.Identities {
		if !utf8.ValidString(id.ID) || !utf8.ValidString(id.ProviderType) {
			return "", fmt.Errorf("%w: user %q: identity %d is not valid UTF-8", ErrParams, p.UserID, i)
		}
	}
	typ := p.Type
	if typ == "" {
		typ = UserNormal
	}
	if typ != UserNormal && typ != UserServer {
		return "", fmt.Errorf("%w: user %q: user type %q, want %q or %q", ErrParams, p.UserID, typ, UserNormal, UserServer)
	}
	if err := checkObject(p.CustomData); err != nil {
		return "", fmt.Errorf("%w: user %q: custom data: %v", ErrParams, p.UserID, err)
	}
	if err := checkObject(p.Metadata); err != nil {
		return "", fmt.Errorf("%w: user %q: metadata: %v", ErrParams, p.UserID, err)
	}
	now := s.cfg.now()
	b := s.start(p.UserID, TypeAccess, now, s.cfg.ttl, 64+len(p.CustomData)+len(p.Metadata))
	b = appendKey(b, expansion.ClaimType)
	b = appendString(b, typ)
	if p.DeviceID != "" {
		b = appendKey(b, ClaimDeviceID)
		b = appendString(b, p.DeviceID)
	}
	if p.Identities != nil {
		ids, err := json.Marshal(p.Identities)
		if err != nil {
			return "", err
		}
		b = appendKey(b, expansion.ClaimIdentities)
		b = append(b, ids...)
	}
	if p.Metadata != nil {
		b = appendKey(b, expansion.ClaimData)
		b = append(b, p.Metadata...)
	}
	// The custom data goes last, so the registered claims a Verifier reads
	// come first in the payload.
	if p.CustomData != nil {
		b = appendKey(b, expansion.ClaimCustomData)
		b = append(b, p.CustomData...)
	}
	b = append(b, '}')
	return s.finish(b)
}

// SignRefresh mints a refresh token for the user and session ids, valid
// from now for the Signer's refresh TTL. A refresh token carries no user
// data; whoever honours it must look the session up (see package
// customdata). Its "jti" claim is random, so two refresh tokens are never
// equal, even for one session in one second: a session store can tell
// them apart by hash.
func (s *Signer) SignRefresh(userID, sessionID string) (string, error) {
	if userID == "" || sessionID == "" {
		return "", fmt.Errorf("%w: refresh token needs a user id and a session id (got %q, %q)", ErrParams, userID, sessionID)
	}
	if !utf8.ValidString(userID) || !utf8.ValidString(sessionID) {
		return "", fmt.Errorf("%w: refresh token: user id %q or session id %q is not valid UTF-8", ErrParams, userID, sessionID)
	}
	b := s.start(userID, TypeRefresh, s.cfg.now(), s.cfg.refreshTTL, 0)
	b = appendKey(b, ClaimSession)
	b = appendString(b, sessionID)
	b = appendKey(b, ClaimTokenID)
	b = appendString(b, rand.Text())
	b = append(b, '}')
	return s.finish(b)
}

// start writes the opening of a payload: the registered claims.
func (s *Signer) start(sub, typ string, now time.Time, ttl time.Duration, extra int) []byte {
	b := make([]byte, 0, 160+len(sub)+extra)
	b = append(b, '{')
	b = appendString(b, expansion.ClaimID)
	b = append(b, ':')
	b = appendString(b, sub)
	b = appendKey(b, ClaimTokenType)
	b = appendString(b, typ)
	b = appendKey(b, ClaimIssuedAt)
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = appendKey(b, ClaimExpires)
	b = strconv.AppendInt(b, now.Add(ttl).Unix(), 10)
	if s.cfg.issuer != "" {
		b = appendKey(b, ClaimIssuer)
		b = appendString(b, s.cfg.issuer)
	}
	switch len(s.cfg.audience) {
	case 0:
	case 1:
		b = appendKey(b, ClaimAudience)
		b = appendString(b, s.cfg.audience[0])
	default:
		b = appendKey(b, ClaimAudience)
		b = append(b, '[')
		for i, a := range s.cfg.audience {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, a)
		}
		b = append(b, ']')
	}
	return b
}

// finish encodes and signs a payload.
func (s *Signer) finish(payload []byte) (string, error) {
	enc := base64.RawURLEncoding
	in := make([]byte, 0, len(s.header)+enc.EncodedLen(len(payload)))
	in = append(in, s.header...)
	in = enc.AppendEncode(in, payload)
	sig, err := s.key.method.Sign(string(in), s.key.sign)
	if err != nil {
		return "", fmt.Errorf("token: sign with key %q: %w", s.key.id, err)
	}
	out := make([]byte, 0, len(in)+1+enc.EncodedLen(len(sig)))
	out = append(out, in...)
	out = append(out, '.')
	out = enc.AppendEncode(out, sig)
	return string(out), nil
}

func checkObject(raw []byte) error {
	if raw == nil {
		return nil
	}
	if !gjson.ValidBytes(raw) || !gjson.ParseBytes(raw).IsObject() {
		return errors.New("not a JSON object")
	}
	if !utf8.Valid(raw) {
		return errors.New("not valid UTF-8 (a Verifier refuses such a token)")
	}
	if k, dup := duplicateKey(string(raw)); dup {
		return fmt.Errorf("key %q twice in one object (a Verifier refuses such a token: %w)", k, ErrDuplicateKey)
	}
	return nil
}

func appendKey(b []byte, k string) []byte {
	b = append(b, ',')
	b = appendString(b, k)
	return append(b, ':')
}

func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always marshals
	return append(b, q...)
}
