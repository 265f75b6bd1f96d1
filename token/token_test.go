package token_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rulegate/rulegate/token"
)

var t0 = time.Unix(1_700_000_000, 0)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// testKeys are generated once per test binary: RSA generation is slow.
type testKeys struct {
	hs, hsOld token.Key
	rs        token.Key
	rsPriv    *rsa.PrivateKey
	es        token.Key
}

var (
	keysOnce sync.Once
	keysVal  testKeys
)

func keys(tb testing.TB) testKeys {
	tb.Helper()
	keysOnce.Do(func() {
		must := func(k token.Key, err error) token.Key {
			if err != nil {
				panic(err)
			}
			return k
		}
		rsPriv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		esPriv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		keysVal = testKeys{
			hs:     must(token.HMACKey("hs-2", []byte("0123456789abcdef0123456789abcdef-new"))),
			hsOld:  must(token.HMACKey("hs-1", []byte("0123456789abcdef0123456789abcdef-old"))),
			rs:     must(token.RSAKey("rs-1", rsPriv)),
			rsPriv: rsPriv,
			es:     must(token.ECDSAKey("es-1", esPriv)),
		}
	})
	return keysVal
}

func newSigner(tb testing.TB, k token.Key, opts ...token.SignOption) *token.Signer {
	tb.Helper()
	ks, err := token.NewKeySet(k)
	if err != nil {
		tb.Fatal(err)
	}
	s, err := token.NewSigner(ks, append([]token.SignOption{token.WithClock(fixedClock(t0))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func newVerifier(tb testing.TB, opts []token.VerifyOption, ks ...token.Key) *token.Verifier {
	tb.Helper()
	set, err := token.NewKeySet(token.Key{}, ks...)
	if err != nil {
		tb.Fatal(err)
	}
	v, err := token.NewVerifier(set, append([]token.VerifyOption{token.WithClock(fixedClock(t0.Add(time.Minute)))}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	return v
}

var sampleParams = token.Params{
	UserID:     "u-42",
	CustomData: []byte(`{"_id":{"$oid":"65a000000000000000000001"},"userId":"u-42","orgId":"acme","teamIds":["a","b"],"admin":true}`),
	Metadata:   []byte(`{"email":"ada@example.com"}`),
	Identities: []token.Identity{{ID: "ada@example.com", ProviderType: "local-userpass"}},
}

func TestRoundTrip(t *testing.T) {
	k := keys(t)
	for _, key := range []token.Key{k.hs, k.rs, k.es} {
		t.Run(string(key.Algorithm()), func(t *testing.T) {
			s := newSigner(t, key, token.WithIssuer("rulegate"), token.WithAudience("app-1"))
			tok, err := s.Sign(sampleParams)
			if err != nil {
				t.Fatal(err)
			}
			v := newVerifier(t, []token.VerifyOption{token.WithIssuer("rulegate"), token.WithAudience("app-1")}, key)
			c, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Subject != "u-42" || c.Type != token.TypeAccess || c.KeyID != key.ID() || c.Issuer != "rulegate" {
				t.Errorf("claims = %+v", c)
			}
			if !c.IssuedAt.Equal(t0) || !c.ExpiresAt.Equal(t0.Add(token.DefaultTTL)) {
				t.Errorf("iat, exp = %v, %v; want %v, %v", c.IssuedAt, c.ExpiresAt, t0, t0.Add(token.DefaultTTL))
			}
			u := c.User()
			for path, want := range map[string]string{
				"id":                  `"u-42"`,
				"type":                `"normal"`,
				"custom_data.orgId":   `"acme"`,
				"custom_data.teamIds": `["a","b"]`,
				"data.email":          `"ada@example.com"`,
				"identities.0.id":     `"ada@example.com"`,
			} {
				r, err := u.Lookup(strings.Split(path, ".")...)
				if err != nil || r.ExtJSON() != want {
					t.Errorf("%%%%user.%s = %s (%v), want %s", path, r, err, want)
				}
			}
			if cd, ok := c.CustomData(); !ok || string(cd) != string(sampleParams.CustomData) {
				t.Errorf("CustomData = %s, %v", cd, ok)
			}
		})
	}
}

func TestNoCustomData(t *testing.T) {
	k := keys(t)
	tok, err := newSigner(t, k.hs).Sign(token.Params{UserID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := newVerifier(t, nil, k.hs).Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.CustomData(); ok {
		t.Error("CustomData found in a token minted without it")
	}
	if v, _ := c.User().Lookup("custom_data", "orgId"); !v.IsMissing() {
		t.Error("%%user.custom_data.orgId found")
	}
	if strings.Contains(string(c.Raw()), `"user_data"`) {
		t.Errorf("payload has a user_data claim: %s", c.Raw())
	}
}

func TestRefreshToken(t *testing.T) {
	k := keys(t)
	s := newSigner(t, k.hs)
	v := newVerifier(t, nil, k.hs)
	rt, err := s.SignRefresh("u-1", "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.VerifyRefresh(rt)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "u-1" || c.SessionID != "sess-1" || !c.ExpiresAt.Equal(t0.Add(token.DefaultRefreshTTL)) {
		t.Errorf("refresh claims = %+v", c)
	}
	if _, err := v.Verify(rt); !errors.Is(err, token.ErrTokenType) {
		t.Errorf("Verify(refresh token) = %v, want ErrTokenType", err)
	}
	at, _ := s.Sign(token.Params{UserID: "u-1"})
	if _, err := v.VerifyRefresh(at); !errors.Is(err, token.ErrTokenType) {
		t.Errorf("VerifyRefresh(access token) = %v, want ErrTokenType", err)
	}
}

// TestErrInvalid: every verification sentinel matches ErrInvalid, keeps
// its own identity and text, and matches no other sentinel; a refresh
// token without a session (VerifyRefresh's own check) does too.
func TestErrInvalid(t *testing.T) {
	sentinels := []error{token.ErrMalformed, token.ErrTooLarge, token.ErrAlgNone, token.ErrAlgorithm, token.ErrUnknownKey,
		token.ErrSignature, token.ErrExpired, token.ErrNotYetValid, token.ErrIssuer, token.ErrAudience, token.ErrTokenType, token.ErrDuplicateKey}
	for _, e := range sentinels {
		if !errors.Is(e, token.ErrInvalid) {
			t.Errorf("%v does not match ErrInvalid", e)
		}
		if !errors.Is(fmt.Errorf("%w: detail", e), token.ErrInvalid) {
			t.Errorf("%v, wrapped, does not match ErrInvalid", e)
		}
		if !strings.HasPrefix(e.Error(), "token: ") || strings.Contains(e.Error(), token.ErrInvalid.Error()) {
			t.Errorf("%q: want its own text, not ErrInvalid's", e)
		}
	}
	for _, e := range []error{token.ErrKey, token.ErrParams} {
		if errors.Is(e, token.ErrInvalid) {
			t.Errorf("%v matches ErrInvalid", e)
		}
	}
	k := keys(t)
	noSession := forge(t, `{"alg":"HS256","kid":"hs-2"}`, `{"sub":"u-1","typ":"refresh","exp":`+itoa(t0.Add(time.Hour).Unix())+`}`,
		jwt.SigningMethodHS256, []byte("0123456789abcdef0123456789abcdef-new"))
	if _, err := newVerifier(t, nil, k.hs).VerifyRefresh(noSession); !errors.Is(err, token.ErrMalformed) || !errors.Is(err, token.ErrInvalid) {
		t.Errorf("VerifyRefresh(no sid) = %v, want ErrMalformed and ErrInvalid", err)
	}
}

func TestKeyRotation(t *testing.T) {
	k := keys(t)
	oldTok, err := newSigner(t, k.hsOld).Sign(token.Params{UserID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	// Rotate: the new key signs, the old one still verifies.
	set, err := token.NewKeySet(k.hs, k.hsOld, k.rs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := token.NewSigner(set, token.WithClock(fixedClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	v, err := token.NewVerifier(set, token.WithClock(fixedClock(t0)))
	if err != nil {
		t.Fatal(err)
	}
	newTok, err := s.Sign(token.Params{UserID: "u-1"})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct{ tok, kid string }{"old": {oldTok, "hs-1"}, "new": {newTok, "hs-2"}} {
		c, err := v.Verify(tc.tok)
		if err != nil {
			t.Fatalf("%s token: %v", name, err)
		}
		if c.KeyID != tc.kid {
			t.Errorf("%s token: kid %q, want %q", name, c.KeyID, tc.kid)
		}
	}
	// Retire the old key.
	v2 := newVerifier(t, nil, k.hs)
	if _, err := v2.Verify(oldTok); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("old token after retirement: %v, want ErrUnknownKey", err)
	}
}

func TestKeySetErrors(t *testing.T) {
	k := keys(t)
	pub, _ := token.RSAPublicKey("rs-pub", &k.rsPriv.PublicKey)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, err := range map[string]error{
		"short secret": second(token.HMACKey("k", []byte("short"))),
		"empty id":     second(token.HMACKey("", make([]byte, 32))),
		"small rsa":    second(token.RSAKey("k", small)),
		"p384":         second(token.ECDSAKey("k", p384)),
		"dup kid":      second(token.NewKeySet(k.hs, k.hs)),
		"pub signing":  second(token.NewKeySet(pub)),
		"empty set":    second(token.NewKeySet(token.Key{})),
	} {
		if !errors.Is(err, token.ErrKey) {
			t.Errorf("%s: %v, want ErrKey", name, err)
		}
		if errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: %v matches ErrInvalid, which only verification failures match", name, err)
		}
	}
	set, _ := token.NewKeySet(token.Key{}, pub)
	if _, err := token.NewSigner(set); !errors.Is(err, token.ErrKey) {
		t.Errorf("NewSigner(verification-only set) = %v, want ErrKey", err)
	}
}

func second[T any](_ T, err error) error { return err }

// forge builds a compact token from a header and payload, signed with
// method and key (nil method: empty signature).
func forge(tb testing.TB, header, payload string, method jwt.SigningMethod, key any) string {
	tb.Helper()
	enc := base64.RawURLEncoding
	in := enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(payload))
	if method == nil {
		return in + "."
	}
	sig, err := method.Sign(in, key)
	if err != nil {
		tb.Fatal(err)
	}
	return in + "." + enc.EncodeToString(sig)
}

func TestRejections(t *testing.T) {
	k := keys(t)
	secret := []byte("0123456789abcdef0123456789abcdef-new") // k.hs's secret
	pubDER, _ := x509.MarshalPKIXPublicKey(&k.rsPriv.PublicKey)
	now := t0.Add(time.Minute).Unix()
	payload := func(extra string) string {
		p := `{"sub":"u-1","typ":"access","iat":` + itoa(now-60) + `,"exp":` + itoa(now+600) + `,"iss":"rulegate","aud":"app-1"`
		if extra != "" {
			p += "," + extra
		}
		return p + "}"
	}
	hsHeader := `{"alg":"HS256","kid":"hs-2","typ":"JWT"}`
	good := forge(t, hsHeader, payload(""), jwt.SigningMethodHS256, secret)
	defaults := []token.VerifyOption{token.WithIssuer("rulegate"), token.WithAudience("app-1")}

	tests := []struct {
		name string
		tok  string
		opts []token.VerifyOption
		want error
	}{
		{"alg none", forge(t, `{"alg":"none","kid":"hs-2"}`, payload(""), nil, nil), nil, token.ErrAlgNone},
		{"alg None", forge(t, `{"alg":"None","kid":"hs-2"}`, payload(""), nil, nil), nil, token.ErrAlgNone},
		{"HS256 with the RSA public key as secret", forge(t, `{"alg":"HS256","kid":"rs-1"}`, payload(""), jwt.SigningMethodHS256, pubDER), nil, token.ErrAlgorithm},
		{"RS256 header on an HMAC key", forge(t, `{"alg":"RS256","kid":"hs-2"}`, payload(""), jwt.SigningMethodRS256, k.rsPriv), nil, token.ErrAlgorithm},
		{"unsupported alg", forge(t, `{"alg":"HS512","kid":"hs-2"}`, payload(""), jwt.SigningMethodHS512, secret), nil, token.ErrAlgorithm},
		{"unknown kid", forge(t, `{"alg":"HS256","kid":"nope"}`, payload(""), jwt.SigningMethodHS256, secret), nil, token.ErrUnknownKey},
		{"no kid", forge(t, `{"alg":"HS256"}`, payload(""), jwt.SigningMethodHS256, secret), nil, token.ErrUnknownKey},
		{"wrong secret", forge(t, hsHeader, payload(""), jwt.SigningMethodHS256, []byte("another secret, 32 bytes or more!!")), nil, token.ErrSignature},
		{"tampered payload", tamper(good), nil, token.ErrSignature},
		{"empty signature", good[:strings.LastIndexByte(good, '.')+1], nil, token.ErrSignature},
		{"expired", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now-10)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrExpired},
		{"expired at now", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrExpired},
		{"expired beyond leeway", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now-31)+`}`, jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithLeeway(30 * time.Second)}, token.ErrExpired},
		{"expired within leeway", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now-29)+`}`, jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithLeeway(30 * time.Second)}, nil},
		{"iat in the future", forge(t, hsHeader, `{"sub":"u-1","typ":"access","iat":`+itoa(now+60)+`,"exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrNotYetValid},
		{"nbf in the future", forge(t, hsHeader, `{"sub":"u-1","typ":"access","nbf":`+itoa(now+60)+`,"exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrNotYetValid},
		{"nbf within leeway", forge(t, hsHeader, `{"sub":"u-1","typ":"access","nbf":`+itoa(now+20)+`,"exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithLeeway(30 * time.Second)}, nil},
		{"wrong issuer", good, []token.VerifyOption{token.WithIssuer("other")}, token.ErrIssuer},
		{"missing issuer", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithIssuer("rulegate")}, token.ErrIssuer},
		{"wrong audience", good, []token.VerifyOption{token.WithAudience("app-2")}, token.ErrAudience},
		{"audience array", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now+600)+`,"aud":["x","app-2"]}`, jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithAudience("app-2")}, nil},
		{"missing audience", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithAudience("app-1")}, token.ErrAudience},
		{"too large", forge(t, hsHeader, payload(`"pad":"`+strings.Repeat("x", 200)+`"`), jwt.SigningMethodHS256, secret), []token.VerifyOption{token.WithMaxSize(200)}, token.ErrTooLarge},
		{"too large, garbage", strings.Repeat("a", token.DefaultMaxSize+1), nil, token.ErrTooLarge},
		{"refresh as access", forge(t, hsHeader, `{"sub":"u-1","typ":"refresh","sid":"s","exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrTokenType},
		{"malformed: empty", "", nil, token.ErrMalformed},
		{"malformed: two parts", "abc.def", nil, token.ErrMalformed},
		{"malformed: four parts", good + ".x", nil, token.ErrMalformed},
		{"malformed: header base64", "!!!" + good[strings.IndexByte(good, '.'):], nil, token.ErrMalformed},
		{"malformed: header not JSON", forge(t, `{"alg":`, payload(""), nil, nil), nil, token.ErrMalformed},
		{"malformed: header array", forge(t, `["alg"]`, payload(""), nil, nil), nil, token.ErrMalformed},
		{"malformed: crit header", forge(t, `{"alg":"HS256","kid":"hs-2","crit":["exp"]}`, payload(""), jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: payload not JSON", forge(t, hsHeader, `{"sub":`, jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: payload array", forge(t, hsHeader, `[1]`, jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: no exp", forge(t, hsHeader, `{"sub":"u-1","typ":"access"}`, jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: string exp", forge(t, hsHeader, `{"sub":"u-1","typ":"access","exp":"`+itoa(now+600)+`"}`, jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: no sub", forge(t, hsHeader, `{"typ":"access","exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: no typ", forge(t, hsHeader, `{"sub":"u-1","exp":`+itoa(now+600)+`}`, jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: non-canonical base64 signature", nonCanonical(good), nil, token.ErrMalformed},
		// Duplicate keys: the first and the last occurrence would give two
		// readers (Claims, %%user, a client's JSON decoder) two users.
		{"duplicate sub", forge(t, hsHeader, payload(`"sub":"admin"`), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"duplicate sub, escaped", forge(t, hsHeader, payload(`"s\u0075b":"admin"`), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"duplicate user_data", forge(t, hsHeader, payload(`"user_data":{"admin":false},"user_data":{"admin":true}`), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"duplicate exp", forge(t, hsHeader, payload(`"exp":`+itoa(now+99999)), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"duplicate key inside user_data", forge(t, hsHeader, payload(`"user_data":{"admin":false,"admin":true}`), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		// JSON is UTF-8 (RFC 8259): readers disagree on other bytes
		// (encoding/json reads both keys below as U+FFFD, one key twice;
		// gjson keeps the bytes, two keys).
		{"malformed: invalid UTF-8 keys", forge(t, hsHeader, payload("\"user_data\":{\"\xb6\":1,\"\x80\":2}"), jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: invalid UTF-8 value", forge(t, hsHeader, payload("\"user_data\":{\"team\":\"a\xffb\"}"), jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"malformed: invalid UTF-8 header", forge(t, "{\"alg\":\"HS256\",\"kid\":\"hs-2\",\"x\":\"\xff\"}", payload(""), jwt.SigningMethodHS256, secret), nil, token.ErrMalformed},
		{"duplicate key deep inside user_data", forge(t, hsHeader, payload(`"user_data":{"a":[1,{"b":{"c":1,"c":2}}]}`), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"duplicate key inside user_metadata", forge(t, hsHeader, payload(`"user_metadata":{"email":"a@x","email":"b@x"}`), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"same key in sibling objects", forge(t, hsHeader, payload(`"user_data":{"a":{"x":1},"b":{"x":1},"c":[{"x":1},{"x":2}]}`), jwt.SigningMethodHS256, secret), defaults, nil},
		{"duplicate alg in header", forge(t, `{"alg":"none","kid":"hs-2","alg":"HS256"}`, payload(""), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"duplicate kid in header", forge(t, `{"alg":"HS256","kid":"hs-2","kid":"rs-1"}`, payload(""), jwt.SigningMethodHS256, secret), nil, token.ErrDuplicateKey},
		{"good", good, defaults, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newVerifier(t, tc.opts, k.hs, k.rs)
			c, err := v.Verify(tc.tok)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Verify = %v, want success", err)
				}
				if c.Subject != "u-1" {
					t.Fatalf("Subject = %q", c.Subject)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, token.ErrInvalid) {
				t.Errorf("Verify = %v, does not match token.ErrInvalid", err)
			}
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			for _, other := range []error{token.ErrMalformed, token.ErrTooLarge, token.ErrAlgNone, token.ErrAlgorithm, token.ErrUnknownKey,
				token.ErrSignature, token.ErrExpired, token.ErrNotYetValid, token.ErrIssuer, token.ErrAudience, token.ErrTokenType, token.ErrDuplicateKey} {
				if other != tc.want && errors.Is(err, other) {
					t.Errorf("error %v also matches %v", err, other)
				}
			}
		})
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

// tamper changes the payload's subject, keeping the signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p, _ := base64.RawURLEncoding.DecodeString(parts[1])
	p = []byte(strings.Replace(string(p), `"u-1"`, `"u-2"`, 1))
	parts[1] = base64.RawURLEncoding.EncodeToString(p)
	return strings.Join(parts, ".")
}

// nonCanonical re-spells the signature's last character with nonzero
// trailing bits: the same bytes under lax base64 decoding.
func nonCanonical(tok string) string {
	last := tok[len(tok)-1]
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, last)
	// An HS256 signature is 32 bytes: 43 characters, the last carrying
	// 4 bits of data and 2 padding bits.
	return tok[:len(tok)-1] + string(alphabet[i|1])
}

func TestSignErrors(t *testing.T) {
	s := newSigner(t, keys(t).hs)
	for name, p := range map[string]token.Params{
		"no user id":          {},
		"bad type":            {UserID: "u", Type: "admin"},
		"custom data array":   {UserID: "u", CustomData: []byte(`[1]`)},
		"custom data invalid": {UserID: "u", CustomData: []byte(`{"a":`)},
		"metadata string":     {UserID: "u", Metadata: []byte(`"x"`)},
		// A token the Verifier would refuse is never minted.
		"custom data duplicate key":        {UserID: "u", CustomData: []byte(`{"admin":false,"admin":true}`)},
		"custom data nested duplicate key": {UserID: "u", CustomData: []byte(`{"a":[{"b":1,"b":2}]}`)},
		"metadata duplicate key":           {UserID: "u", Metadata: []byte(`{"email":"a","email":"b"}`)},
		"custom data invalid UTF-8":        {UserID: "u", CustomData: []byte("{\"\xb6\":1,\"\x80\":2}")},
		"metadata invalid UTF-8":           {UserID: "u", Metadata: []byte("{\"email\":\"a\xffb\"}")},
	} {
		_, err := s.Sign(p)
		if !errors.Is(err, token.ErrParams) {
			t.Errorf("%s: %v, want ErrParams", name, err)
		}
		if errors.Is(err, token.ErrInvalid) {
			t.Errorf("%s: %v matches ErrInvalid, which only verification failures match", name, err)
		}
	}
}

func TestVerifierConcurrent(t *testing.T) {
	k := keys(t)
	s := newSigner(t, k.es)
	v := newVerifier(t, nil, k.es)
	tok, _ := s.Sign(sampleParams)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if _, err := v.Verify(tok); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Sign(sampleParams); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestDeviceIDAndRefreshNonce: Params.DeviceID becomes the baas_device_id
// claim realm-web's user.deviceId reads, absent when empty; two refresh
// tokens for one session minted in the same second differ (their "jti"),
// so a session can remember the hash of the one it issued.
func TestDeviceIDAndRefreshNonce(t *testing.T) {
	k := keys(t)
	s := newSigner(t, k.hs)
	v := newVerifier(t, nil, k.hs)
	at, err := s.Sign(token.Params{UserID: "u-1", DeviceID: "65a0000000000000000000dd"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(at)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c.Raw()), `"baas_device_id":"65a0000000000000000000dd"`) {
		t.Errorf("payload %s has no baas_device_id", c.Raw())
	}
	at, _ = s.Sign(token.Params{UserID: "u-1"})
	if c, _ := v.Verify(at); strings.Contains(string(c.Raw()), token.ClaimDeviceID) {
		t.Errorf("payload %s has a device id", c.Raw())
	}
	r1, _ := s.SignRefresh("u-1", "sess-1")
	r2, _ := s.SignRefresh("u-1", "sess-1")
	if r1 == r2 {
		t.Error("two refresh tokens for one session are equal")
	}
}
