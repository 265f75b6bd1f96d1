package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tidwall/gjson"

	"github.com/rulegate/rulegate/expansion"
)

// ErrInvalid is matched by every verification failure: each sentinel
// below matches it with errors.Is, so a caller maps any refused token to
// one answer (HTTP 401) with one test and still tells the failures apart
// by their own sentinels. Errors of key, signer and verifier construction
// (ErrKey, ErrParams) do not match it.
var ErrInvalid = errors.New("token: invalid token")

// invalid is a verification sentinel: its own text, and ErrInvalid
// beneath it.
type invalid string

func (e invalid) Error() string { return string(e) }
func (invalid) Unwrap() error   { return ErrInvalid }

// Sentinel errors of Verify and VerifyRefresh, each wrapped with detail;
// every one matches ErrInvalid.
var (
	// ErrMalformed: not a compact JWS of three base64url parts, a header
	// or payload that is not a JSON object, or a missing or mistyped
	// registered claim.
	ErrMalformed error = invalid("token: malformed token")
	// ErrTooLarge: the token is longer than the Verifier's size limit.
	ErrTooLarge error = invalid("token: token too large")
	// ErrAlgNone: the header says "alg": "none" (an unsigned token).
	ErrAlgNone error = invalid(`token: unsigned token ("alg": "none")`)
	// ErrAlgorithm: the header's algorithm is not the one the key was
	// declared with (for example HS256 presented for an RS256 key).
	ErrAlgorithm error = invalid("token: algorithm does not match the key")
	// ErrUnknownKey: no key has the header's "kid".
	ErrUnknownKey error = invalid("token: unknown key id")
	// ErrSignature: the signature does not verify.
	ErrSignature error = invalid("token: invalid signature")
	// ErrExpired: "exp" is in the past (beyond the leeway).
	ErrExpired error = invalid("token: token expired")
	// ErrNotYetValid: "nbf" or "iat" is in the future (beyond the leeway).
	ErrNotYetValid error = invalid("token: token not valid yet")
	// ErrIssuer: "iss" is not the Verifier's issuer.
	ErrIssuer error = invalid("token: wrong issuer")
	// ErrAudience: "aud" does not include the Verifier's audience.
	ErrAudience error = invalid("token: wrong audience")
	// ErrTokenType: a refresh token presented as an access token, or the
	// other way round.
	ErrTokenType error = invalid("token: wrong token type")
	// ErrDuplicateKey: the header or the payload has an object with the
	// same key twice (at any depth, after unescaping). JSON readers
	// disagree on which one wins, so Claims, %%user and a client's
	// decoder could see different users: such a token is refused.
	ErrDuplicateKey error = invalid("token: duplicate JSON key")
)

// Claims is a verified token's payload. The registered claims are read
// eagerly; everything else is read from Raw on demand.
type Claims struct {
	// Subject is the "sub" claim, the user id.
	Subject string
	// Type is the "typ" claim: TypeAccess or TypeRefresh.
	Type string
	// SessionID is the "sid" claim of a refresh token ("" otherwise).
	SessionID string
	// Issuer is the "iss" claim ("" when absent).
	Issuer string
	// IssuedAt and ExpiresAt are the "iat" and "exp" claims.
	IssuedAt, ExpiresAt time.Time
	// KeyID is the header's "kid": the key that signed the token.
	KeyID string

	raw []byte
}

// Raw returns the payload JSON. Callers must not modify it.
func (c *Claims) Raw() []byte { return c.raw }

// User returns the payload as an expansion.User, the caller %%user
// expansions resolve against.
func (c *Claims) User() expansion.User {
	// The payload was checked to be a JSON object; this cannot fail.
	u, _ := expansion.NewUserClaims(c.raw)
	return u
}

// CustomData returns the raw JSON of the "user_data" claim; ok is false
// when the token carries no custom user data.
func (c *Claims) CustomData() (raw []byte, ok bool) {
	r := gjson.GetBytes(c.raw, expansion.ClaimCustomData)
	if !r.Exists() {
		return nil, false
	}
	return []byte(r.Raw), true
}

// Verifier checks tokens against the keys of a KeySet. It is immutable and
// safe for concurrent use.
type Verifier struct {
	keys *KeySet
	cfg  verifyConfig
	// enc is strict base64url: no second spelling of the same bytes
	// (nonzero trailing bits), so a token has exactly one encoding.
	enc *base64.Encoding
}

// NewVerifier returns a Verifier for the keys of keys.
func NewVerifier(keys *KeySet, opts ...VerifyOption) (*Verifier, error) {
	if keys == nil {
		return nil, fmt.Errorf("%w: nil key set", ErrKey)
	}
	cfg := verifyConfig{now: time.Now, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o.applyVerify(&cfg)
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	if cfg.maxSize <= 0 {
		return nil, fmt.Errorf("token: size limit must be positive, got %d", cfg.maxSize)
	}
	if cfg.leeway < 0 {
		return nil, fmt.Errorf("token: leeway must not be negative, got %v", cfg.leeway)
	}
	return &Verifier{keys: keys, cfg: cfg, enc: base64.RawURLEncoding.Strict()}, nil
}

// Verify checks an access token and returns its claims. Every failure
// wraps one of the package's sentinel errors, and so matches ErrInvalid.
func (v *Verifier) Verify(tok string) (*Claims, error) { return v.verify(tok, TypeAccess) }

// VerifyRefresh checks a refresh token and returns its claims, whose
// SessionID is set.
func (v *Verifier) VerifyRefresh(tok string) (*Claims, error) {
	c, err := v.verify(tok, TypeRefresh)
	if err != nil {
		return nil, err
	}
	if c.SessionID == "" {
		return nil, fmt.Errorf("%w: refresh token without %q", ErrMalformed, ClaimSession)
	}
	return c, nil
}

func (v *Verifier) verify(tok, wantType string) (*Claims, error) {
	// Size first: nothing below runs on an oversized token.
	if len(tok) > v.cfg.maxSize {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(tok), v.cfg.maxSize)
	}
	dot1 := strings.IndexByte(tok, '.')
	dot2 := strings.LastIndexByte(tok, '.')
	if dot1 < 0 || dot1 == dot2 || strings.IndexByte(tok[dot1+1:dot2], '.') >= 0 {
		return nil, fmt.Errorf("%w: want three dot-separated parts", ErrMalformed)
	}
	enc := v.enc

	// Header: small, decoded into a stack buffer.
	var hbuf [512]byte
	if enc.DecodedLen(dot1) > len(hbuf) {
		return nil, fmt.Errorf("%w: header longer than %d bytes", ErrMalformed, len(hbuf))
	}
	hn, err := enc.Decode(hbuf[:], []byte(tok[:dot1]))
	if err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrMalformed, err)
	}
	key, err := v.headerKey(hbuf[:hn])
	if err != nil {
		return nil, err
	}

	// Signature on the raw signing input.
	var sbuf [1024]byte
	sigText := tok[dot2+1:]
	if enc.DecodedLen(len(sigText)) > len(sbuf) {
		return nil, fmt.Errorf("%w: signature longer than %d bytes", ErrMalformed, len(sbuf))
	}
	sn, err := enc.Decode(sbuf[:], []byte(sigText))
	if err != nil {
		return nil, fmt.Errorf("%w: signature: %v", ErrMalformed, err)
	}
	if key.macs != nil {
		if !key.verifyHMAC(tok[:dot2], sbuf[:sn]) {
			return nil, fmt.Errorf("%w: key %q (%s): signature is invalid", ErrSignature, key.id, key.alg)
		}
	} else if err := key.method.Verify(tok[:dot2], sbuf[:sn], key.verify); err != nil {
		return nil, fmt.Errorf("%w: key %q (%s): %v", ErrSignature, key.id, key.alg, err)
	}

	// Payload: decoded once, kept as the Claims' raw JSON.
	payload, err := enc.DecodeString(tok[dot1+1 : dot2])
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	c := &Claims{KeyID: key.id, raw: payload}
	if err := v.claims(c, wantType); err != nil {
		return nil, err
	}
	return c, nil
}

// headerKey reads alg and kid from a decoded header and returns the key.
func (v *Verifier) headerKey(h []byte) (Key, error) {
	js := string(h)
	if !gjson.Valid(js) {
		return Key{}, fmt.Errorf("%w: header is not JSON", ErrMalformed)
	}
	hdr := gjson.Parse(js)
	if !hdr.IsObject() {
		return Key{}, fmt.Errorf("%w: header is not a JSON object", ErrMalformed)
	}
	if !utf8.ValidString(js) {
		// JSON is UTF-8 (RFC 8259); readers disagree on other bytes.
		return Key{}, fmt.Errorf("%w: header is not valid UTF-8", ErrMalformed)
	}
	if k, dup := duplicateKey(js); dup {
		return Key{}, fmt.Errorf("%w: header has %q twice", ErrDuplicateKey, k)
	}
	var alg, kid, crit gjson.Result
	hdr.ForEach(func(k, val gjson.Result) bool {
		switch k.Str {
		case "alg":
			alg = val
		case "kid":
			kid = val
		case "crit":
			crit = val
		}
		return true
	})
	if alg.Type != gjson.String {
		return Key{}, fmt.Errorf(`%w: header has no string "alg"`, ErrMalformed)
	}
	if strings.EqualFold(alg.Str, "none") {
		return Key{}, ErrAlgNone
	}
	if crit.Exists() {
		return Key{}, fmt.Errorf(`%w: unsupported "crit" header %s`, ErrMalformed, crit.Raw)
	}
	if kid.Type != gjson.String {
		return Key{}, fmt.Errorf(`%w: header has no string "kid"`, ErrUnknownKey)
	}
	key, ok := v.keys.byID[kid.Str]
	if !ok {
		return Key{}, fmt.Errorf("%w: %q", ErrUnknownKey, kid.Str)
	}
	if alg.Str != string(key.alg) {
		return Key{}, fmt.Errorf("%w: header says %q, key %q is %s", ErrAlgorithm, alg.Str, key.id, key.alg)
	}
	return key, nil
}

// claims reads and checks the registered claims in one pass over the
// payload.
func (v *Verifier) claims(c *Claims, wantType string) error {
	// One copy to a string; the claims read below are substrings of it.
	js := string(c.raw)
	if !gjson.Valid(js) {
		return fmt.Errorf("%w: payload is not JSON", ErrMalformed)
	}
	p := gjson.Parse(js)
	if !p.IsObject() {
		return fmt.Errorf("%w: payload is not a JSON object", ErrMalformed)
	}
	var sub, typ, sid, iss, aud, iat, exp, nbf gjson.Result
	// Every key, at the top level and inside every claim, is checked for
	// a repeat before any claim is read.
	if !utf8.ValidString(js) {
		// JSON is UTF-8 (RFC 8259); readers disagree on other bytes
		// (encoding/json reads two such keys as one, U+FFFD; gjson keeps
		// the bytes), so a value could read differently in Claims, in
		// %%user and in a client.
		return fmt.Errorf("%w: payload is not valid UTF-8", ErrMalformed)
	}
	if k, dup := duplicateKey(js); dup {
		return fmt.Errorf("%w: payload has %q twice in one object", ErrDuplicateKey, k)
	}
	p.ForEach(func(k, val gjson.Result) bool {
		switch k.Str {
		case expansion.ClaimID:
			sub = val
		case ClaimTokenType:
			typ = val
		case ClaimSession:
			sid = val
		case ClaimIssuer:
			iss = val
		case ClaimAudience:
			aud = val
		case ClaimIssuedAt:
			iat = val
		case ClaimExpires:
			exp = val
		case ClaimNotBefore:
			nbf = val
		}
		return true
	})

	if sub.Type != gjson.String || sub.Str == "" {
		return fmt.Errorf("%w: %q must be a non-empty string", ErrMalformed, expansion.ClaimID)
	}
	if exp.Type != gjson.Number {
		return fmt.Errorf("%w: %q must be a number", ErrMalformed, ClaimExpires)
	}
	if iat.Exists() && iat.Type != gjson.Number {
		return fmt.Errorf("%w: %q must be a number", ErrMalformed, ClaimIssuedAt)
	}
	if nbf.Exists() && nbf.Type != gjson.Number {
		return fmt.Errorf("%w: %q must be a number", ErrMalformed, ClaimNotBefore)
	}
	if typ.Type != gjson.String {
		return fmt.Errorf("%w: %q must be a string", ErrMalformed, ClaimTokenType)
	}
	if typ.Str != wantType {
		return fmt.Errorf("%w: %q is %q, want %q", ErrTokenType, ClaimTokenType, typ.Str, wantType)
	}
	c.Subject = sub.Str
	c.Type = typ.Str
	if sid.Type == gjson.String {
		c.SessionID = sid.Str
	}

	now := v.cfg.now()
	c.ExpiresAt = unix(exp.Num)
	if !now.Before(c.ExpiresAt.Add(v.cfg.leeway)) {
		return fmt.Errorf("%w: user %q: expired at %s, now %s (leeway %v)", ErrExpired, c.Subject,
			c.ExpiresAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.cfg.leeway)
	}
	if iat.Exists() {
		c.IssuedAt = unix(iat.Num)
		if now.Add(v.cfg.leeway).Before(c.IssuedAt) {
			return fmt.Errorf("%w: user %q: issued at %s, now %s (leeway %v)", ErrNotYetValid, c.Subject,
				c.IssuedAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.cfg.leeway)
		}
	}
	if nbf.Exists() {
		t := unix(nbf.Num)
		if now.Add(v.cfg.leeway).Before(t) {
			return fmt.Errorf("%w: user %q: not before %s, now %s (leeway %v)", ErrNotYetValid, c.Subject,
				t.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), v.cfg.leeway)
		}
	}

	if iss.Exists() && iss.Type != gjson.String {
		return fmt.Errorf("%w: %q must be a string", ErrMalformed, ClaimIssuer)
	}
	c.Issuer = iss.Str
	if v.cfg.issuer != "" && iss.Str != v.cfg.issuer {
		return fmt.Errorf("%w: %q, want %q", ErrIssuer, iss.Str, v.cfg.issuer)
	}
	if len(v.cfg.audience) > 0 && !audienceMatches(aud, v.cfg.audience) {
		got := aud.Raw
		if got == "" {
			got = "none"
		}
		return fmt.Errorf("%w: %s, want one of %q", ErrAudience, got, v.cfg.audience)
	}
	return nil
}

func audienceMatches(aud gjson.Result, want []string) bool {
	has := func(s string) bool {
		for _, w := range want {
			if s == w {
				return true
			}
		}
		return false
	}
	switch {
	case aud.Type == gjson.String:
		return has(aud.Str)
	case aud.IsArray():
		found := false
		aud.ForEach(func(_, a gjson.Result) bool {
			if a.Type == gjson.String && has(a.Str) {
				found = true
				return false
			}
			return true
		})
		return found
	}
	return false
}

// unix converts a NumericDate (seconds, possibly fractional).
func unix(sec float64) time.Time {
	whole := int64(sec)
	return time.Unix(whole, int64((sec-float64(whole))*1e9))
}
