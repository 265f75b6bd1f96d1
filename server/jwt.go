package server

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/rules"
)

// maxCustomJWT is App Services' limit on a custom JWT's length
// (source/authentication/custom-jwt.txt, "2048 Character Limit").
const maxCustomJWT = 2048

func jwtError(format string, args ...any) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: codeInvalidPassword, msg: "invalid custom JWT: " + fmt.Sprintf(format, args...)}
}

// loginJWT verifies a custom JWT as source/authentication/custom-jwt.txt
// describes: signed with HS256 or RS256 by one of the provider's signing
// keys (secrets, given with WithSecrets) or a key of its JWK set; exp
// required; aud the provider's audience, else the app id; sub the
// identity's id. The provider's metadata fields become the user's data.
func (s *Server) loginJWT(ctx context.Context, p *rules.Provider, raw string) (accounts.User, bool, error) {
	cfg := p.CustomToken
	if cfg == nil {
		cfg = &rules.CustomTokenConfig{}
	}
	if raw == "" {
		return accounts.User{}, false, errorf(http.StatusBadRequest, codeMissingParameter, "custom JWT login needs a \"token\"")
	}
	if len(raw) > maxCustomJWT {
		return accounts.User{}, false, jwtError("longer than %d characters", maxCustomJWT)
	}
	alg := cfg.SigningAlgorithm
	if cfg.UseJWKURI {
		alg = "RS256" // a JWK set "must use the RS256 algorithm" (ibid.)
	}
	if alg != "HS256" && alg != "RS256" {
		return accounts.User{}, false, jwtError("the provider's signing algorithm %q is not HS256 or RS256", alg)
	}
	keys, err := s.jwtKeys(ctx, cfg, alg)
	if err != nil {
		return accounts.User{}, false, err
	}
	parser := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	var claims jwt.MapClaims
	var lastErr error
	for _, k := range keys {
		if cfg.UseJWKURI && k.kid == "" {
			continue
		}
		claims = jwt.MapClaims{}
		_, lastErr = parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
			if cfg.UseJWKURI {
				if kid, _ := t.Header["kid"].(string); kid != k.kid {
					return nil, errors.New("key id does not match")
				}
			}
			return k.key, nil
		})
		if lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		return accounts.User{}, false, &apiError{status: http.StatusUnauthorized, code: codeInvalidPassword, msg: "invalid custom JWT", err: lastErr}
	}
	if err := checkAudience(claims, cfg, s.appID); err != nil {
		return accounts.User{}, false, err
	}
	sub, _ := claims["sub"].(string)
	if sub == "" {
		return accounts.User{}, false, jwtError("\"sub\" must be a non-empty string")
	}
	data, err := metadata(claims, p.MetadataFields)
	if err != nil {
		return accounts.User{}, false, err
	}
	return s.accounts.LoginExternal(ctx, p.Type, p.Name, sub, data)
}

func checkAudience(claims jwt.MapClaims, cfg *rules.CustomTokenConfig, appID string) error {
	want := cfg.Audience
	if len(want) == 0 {
		want = []string{appID}
	}
	got, err := claims.GetAudience()
	if err != nil || len(got) == 0 {
		return jwtError("\"aud\" is required")
	}
	n := 0
	for _, w := range want {
		if slices.Contains(got, w) {
			n++
		}
	}
	if n == 0 || (!cfg.RequireAnyAudience && len(cfg.Audience) > 0 && n < len(want)) {
		return jwtError("\"aud\" does not name the provider's audience")
	}
	return nil
}

// metadata maps the provider's metadata fields from the JWT into the
// user's data; a required field the JWT lacks fails the login.
func metadata(claims jwt.MapClaims, fields []*rules.MetadataField) ([]byte, error) {
	data := map[string]any{}
	for _, f := range fields {
		var v any = map[string]any(claims)
		for _, seg := range f.Path {
			m, ok := v.(map[string]any)
			if !ok {
				v = nil
				break
			}
			v, ok = m[seg]
			if !ok {
				v = nil
				break
			}
		}
		if v == nil {
			if f.Required {
				return nil, jwtError("the required metadata field %q is missing", f.Name)
			}
			continue
		}
		name := f.FieldName
		if name == "" && len(f.Path) > 0 {
			name = f.Path[len(f.Path)-1]
		}
		if strings.HasPrefix(name, "$") {
			return nil, jwtError("metadata field name %q starts with \"$\"", name)
		}
		if k, ok := dollarKey(v); ok {
			// %%user.data is read as extended JSON: {"$oid": ...} in a
			// claim would become a typed value the issuer never meant.
			return nil, jwtError("the metadata field %q holds a key %q starting with \"$\"", f.Name, k)
		}
		data[name] = v
	}
	return json.Marshal(data)
}

// dollarKey returns a key starting with "$" at any depth of a decoded
// JSON value.
func dollarKey(v any) (string, bool) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) { // the same key named every time
			if strings.HasPrefix(k, "$") {
				return k, true
			}
			if k, ok := dollarKey(v[k]); ok {
				return k, true
			}
		}
	case []any:
		for _, x := range v {
			if k, ok := dollarKey(x); ok {
				return k, true
			}
		}
	}
	return "", false
}

type jwtKey struct {
	kid string
	key any
}

// jwtKeys returns the keys a custom JWT may be signed with.
func (s *Server) jwtKeys(ctx context.Context, cfg *rules.CustomTokenConfig, alg string) ([]jwtKey, error) {
	if cfg.UseJWKURI {
		return s.jwks.get(ctx, cfg.JWKURI, s.fetchJWKS)
	}
	var keys []jwtKey
	for _, name := range cfg.SigningKeys {
		secret, ok := s.cfg.secrets[name]
		if !ok || secret == "" {
			continue
		}
		if alg == "HS256" {
			keys = append(keys, jwtKey{key: []byte(secret)})
			continue
		}
		pub, err := jwt.ParseRSAPublicKeyFromPEM([]byte(secret))
		if err != nil {
			return nil, &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "the custom JWT provider's signing key is not an RSA public key", err: err}
		}
		keys = append(keys, jwtKey{key: pub})
	}
	if len(keys) == 0 {
		return nil, &apiError{status: http.StatusUnauthorized, code: codeInvalidPassword, msg: "invalid custom JWT: no signing key is configured (give the provider's secrets to rulegate serve)"}
	}
	return keys, nil
}

// fetchJWKS reads the RSA keys of a JWK set (RFC 7517) or of a single JWK.
func (s *Server) fetchJWKS(ctx context.Context, uri string) ([]jwtKey, error) {
	fail := func(err error) ([]jwtKey, error) {
		return nil, &apiError{status: http.StatusUnauthorized, code: codeInvalidPassword, msg: "invalid custom JWT: the provider's JWK set cannot be read", err: err}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return fail(err)
	}
	resp, err := s.cfg.httpClient.Do(req)
	if err != nil {
		return fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fail(fmt.Errorf("GET %s: %s", uri, resp.Status))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fail(err)
	}
	type jwk struct {
		Kty, Kid, N, E, Alg, Use string
	}
	var set struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		return fail(err)
	}
	if set.Keys == nil {
		var one jwk
		if err := json.Unmarshal(body, &one); err != nil {
			return fail(err)
		}
		set.Keys = []jwk{one}
	}
	var keys []jwtKey
	for _, k := range set.Keys {
		if k.Kty != "RSA" || (k.Alg != "" && k.Alg != "RS256") || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) > 4 {
			continue
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		keys = append(keys, jwtKey{kid: k.Kid, key: pub})
	}
	if len(keys) == 0 {
		return fail(errors.New("no RS256 signing key in the set"))
	}
	return keys, nil
}

// jwksTTL is how long a fetched JWK set is used before it is fetched
// again. A JWK set is public keys, not state of a user: caching it keeps
// the server stateless, and keeps a login from costing an outbound
// request each (a flood of logins would otherwise be a flood of fetches).
const jwksTTL = 5 * time.Minute

// jwksCache holds the last JWK set fetched per URI. A failed fetch is not
// cached.
type jwksCache struct {
	mu sync.Mutex
	m  map[string]jwksEntry
}

type jwksEntry struct {
	keys []jwtKey
	at   time.Time
}

func (c *jwksCache) get(ctx context.Context, uri string, fetch func(context.Context, string) ([]jwtKey, error)) ([]jwtKey, error) {
	c.mu.Lock()
	e, ok := c.m[uri]
	c.mu.Unlock()
	if ok && time.Since(e.at) < jwksTTL {
		return e.keys, nil
	}
	keys, err := fetch(ctx, uri)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]jwksEntry{}
	}
	c.m[uri] = jwksEntry{keys: keys, at: time.Now()}
	c.mu.Unlock()
	return keys, nil
}
