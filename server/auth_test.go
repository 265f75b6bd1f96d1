package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
)

// appWithProviders is testdata/app with auth/providers.json replaced.
func appWithProviders(t *testing.T, providers string) *rules.App {
	t.Helper()
	return appWithFile(t, "auth/providers.json", providers)
}

func newEnvApp(t *testing.T, app *rules.App, opts ...server.Option) *env {
	t.Helper()
	client := rulegatetest.Client(t)
	if err := client.Database("srvtest").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	return newEnvAppOn(t, app, client, rulegatetest.Database(t).Name(), opts...)
}

// tokenFromLog finds the last confirmation or reset token the server
// logged (at debug level: rulegate sends no mail).
func (e *env) tokenFromLog(t *testing.T) (tok, id string) {
	t.Helper()
	re := regexp.MustCompile(`"token":"([^"]+)","tokenId":"([^"]+)"`)
	m := re.FindAllStringSubmatch(e.logText(), -1)
	if len(m) == 0 {
		t.Fatal("no token in the log")
	}
	return m[len(m)-1][1], m[len(m)-1][2]
}

func TestConfirmationAndReset(t *testing.T) {
	app := appWithProviders(t, `{"local-userpass": {"name": "local-userpass", "type": "local-userpass", "disabled": false,
		"config": {"autoConfirm": false, "emailConfirmationUrl": "https://example.com/confirm", "resetPasswordUrl": "https://example.com/reset"}}}`)
	e := newEnvApp(t, app)
	e.register("hank@example.com", "pa55w0rd!")
	login := `{"username":"hank@example.com","password":"pa55w0rd!"}`
	r := e.do("POST", base+"/auth/providers/local-userpass/login", "", login)
	wantStatus(t, "unconfirmed login", r, 401, "AuthError")
	tok, id := e.tokenFromLog(t)
	if strings.Contains(string(r.body), tok) {
		t.Fatal("the token reached the client")
	}
	wantStatus(t, "confirm with a wrong token", e.do("POST", base+"/auth/providers/local-userpass/confirm", "", `{"token":"x","tokenId":"`+id+`"}`), 400, "BadRequest")
	wantStatus(t, "confirm", e.do("POST", base+"/auth/providers/local-userpass/confirm", "", `{"token":"`+tok+`","tokenId":"`+id+`"}`), 201, "")
	wantStatus(t, "confirm twice", e.do("POST", base+"/auth/providers/local-userpass/confirm", "", `{"token":"`+tok+`","tokenId":"`+id+`"}`), 400, "BadRequest")
	u := e.login("local-userpass", login)

	wantStatus(t, "reset/send", e.do("POST", base+"/auth/providers/local-userpass/reset/send", "", `{"email":"hank@example.com"}`), 201, "")
	tok, id = e.tokenFromLog(t)
	wantStatus(t, "reset", e.do("POST", base+"/auth/providers/local-userpass/reset", "", `{"token":"`+tok+`","tokenId":"`+id+`","password":"n3w-pa55w0rd"}`), 201, "")
	wantStatus(t, "old password", e.do("POST", base+"/auth/providers/local-userpass/login", "", login), 401, "InvalidPassword")
	e.login("local-userpass", `{"username":"hank@example.com","password":"n3w-pa55w0rd"}`)
	// A reset ends the sessions opened with the old password.
	wantStatus(t, "refresh after reset", e.do("POST", "/api/client/v2.0/auth/session", u.refresh, ""), 401, "InvalidSession")
	wantStatus(t, "reset/call runs JavaScript", e.do("POST", base+"/auth/providers/local-userpass/reset/call", "", `{"email":"hank@example.com","password":"x","arguments":[]}`), 400, "FunctionExecutionError")
	wantStatus(t, "a disabled provider", e.do("POST", base+"/auth/providers/anon-user/login", "", `{}`), 404, "AuthProviderNotFound")
}

func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, server.WithThrottle(3, 100, time.Minute))
	e.register("ivy@example.com", "pa55w0rd!")
	for range 3 {
		wantStatus(t, "bad password", e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":"ivy@example.com","password":"wrong-one"}`), 401, "InvalidPassword")
	}
	r := e.do("POST", base+"/auth/providers/local-userpass/login", "", `{"username":" IVY@example.com ","password":"pa55w0rd!"}`)
	wantStatus(t, "throttled, even with the right password in another spelling", r, 429, "TooManyRequests")
}

func TestCustomJWTWithJWKS(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var fetches atomic.Int32
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "kid": "k1", "alg": "RS256", "use": "sig",
			"n": base64.RawURLEncoding.EncodeToString(priv.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(priv.E)).Bytes()),
		}}})
	}))
	defer jwks.Close()
	app := appWithProviders(t, `{"custom-token": {"name": "custom-token", "type": "custom-token", "disabled": false,
		"config": {"audience": ["my-audience"], "useJWKURI": true, "jwkURI": "`+jwks.URL+`"},
		"metadata_fields": [{"required": false, "name": "name"}]}}`)
	e := newEnvApp(t, app)
	sign := func(kid string, key any, m jwt.SigningMethod, c jwt.MapClaims) string {
		tk := jwt.NewWithClaims(m, c)
		tk.Header["kid"] = kid
		s, err := tk.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	exp := time.Now().Add(time.Hour).Unix()
	good := sign("k1", priv, jwt.SigningMethodRS256, jwt.MapClaims{"aud": "my-audience", "sub": "u-1", "exp": exp, "name": "Jean"})
	u := e.login("custom-token", `{"token":"`+good+`"}`)
	p := e.do("GET", "/api/client/v2.0/auth/profile", u.access, "").json(t)
	if d, _ := p["data"].(map[string]any); d["name"] != "Jean" {
		t.Fatalf("profile %v", p)
	}
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	for name, tok := range map[string]string{
		"unknown kid":    sign("k2", priv, jwt.SigningMethodRS256, jwt.MapClaims{"aud": "my-audience", "sub": "u-1", "exp": exp}),
		"another key":    sign("k1", other, jwt.SigningMethodRS256, jwt.MapClaims{"aud": "my-audience", "sub": "u-1", "exp": exp}),
		"app id as aud":  sign("k1", priv, jwt.SigningMethodRS256, jwt.MapClaims{"aud": appID, "sub": "u-1", "exp": exp}),
		"HS256 with n":   hsWithKey(t, priv.N.Bytes(), jwt.MapClaims{"aud": "my-audience", "sub": "u-1", "exp": exp}),
		"too long token": strings.Repeat("a", 2049),
	} {
		wantStatus(t, name, e.do("POST", base+"/auth/providers/custom-token/login", "", `{"token":"`+tok+`"}`), 401, "InvalidPassword")
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("the JWK set was fetched %d times for 6 logins, want once (cached)", n)
	}
}

func hsWithKey(t *testing.T, key []byte, c jwt.MapClaims) string {
	t.Helper()
	tk := jwt.NewWithClaims(jwt.SigningMethodHS256, c)
	tk.Header["kid"] = "k1"
	s, err := tk.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
