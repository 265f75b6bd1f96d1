package token_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/token"
)

// benchCustomData is ~1.7 KB of custom user data with a 20-element teamIds
// array, the size real apps put in access tokens.
func benchCustomData() []byte {
	var teams []string
	for i := range 20 {
		teams = append(teams, fmt.Sprintf("team-%02d-%08x", i, i*2654435761))
	}
	doc := map[string]any{
		"_id":       map[string]string{"$oid": "65a1b2c3d4e5f60718293a4b"},
		"userId":    "65a1b2c3d4e5f60718293a4c",
		"email":     "ada.lovelace@example.com",
		"name":      "Ada Lovelace",
		"orgId":     "org-acme-industries",
		"role":      "admin",
		"admin":     true,
		"teamIds":   teams,
		"manages":   []string{"grace@example.com", "edsger@example.com", "barbara@example.com", "donald@example.com"},
		"lastLogin": map[string]string{"$date": "2024-05-01T12:34:56.789Z"},
		"prefs":     map[string]any{"theme": "dark", "locale": "en-GB", "timezone": "Europe/London", "notifications": map[string]bool{"email": true, "push": false, "sms": false}},
		"quota":     map[string]int{"storageMB": 10240, "apiCallsPerDay": 50000, "seats": 25},
		"address":   map[string]string{"street": "12 St James's Square", "city": "London", "postcode": "SW1Y 4JH", "country": "GB"},
		"tags":      []string{"beta", "early-adopter", "enterprise", "sso", "audit-log", "priority-support"},
		"bio":       strings.Repeat("Mathematician and writer, chiefly known for work on the Analytical Engine. ", 5),
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(err)
	}
	return b
}

func benchToken(b *testing.B) (string, []byte, *token.Verifier) {
	secret := []byte("0123456789abcdef0123456789abcdef-bench")
	key, err := token.HMACKey("k1", secret)
	if err != nil {
		b.Fatal(err)
	}
	ks, _ := token.NewKeySet(key)
	s, _ := token.NewSigner(ks, token.WithIssuer("rulegate"), token.WithAudience("app-1"), token.WithClock(fixedClock(t0)))
	cd := benchCustomData()
	tok, err := s.Sign(token.Params{
		UserID:     "65a1b2c3d4e5f60718293a4c",
		CustomData: cd,
		Metadata:   []byte(`{"email":"ada.lovelace@example.com","name":"Ada Lovelace"}`),
		Identities: []token.Identity{{ID: "65a1b2c3d4e5f60718293a4d", ProviderType: "local-userpass"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	v, _ := token.NewVerifier(ks, token.WithIssuer("rulegate"), token.WithAudience("app-1"), token.WithClock(fixedClock(t0.Add(time.Minute))))
	return tok, secret, v
}

// BenchmarkVerify compares verifying an HS256 access token carrying ~1.7 KB
// of custom data and extracting sub, iat, exp, iss and aud.
func BenchmarkVerify(b *testing.B) {
	tok, secret, v := benchToken(b)
	b.Logf("custom data %d bytes, token %d bytes", len(benchCustomData()), len(tok))

	b.Run("rulegate", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c, err := v.Verify(tok)
			if err != nil || c.Subject == "" || c.ExpiresAt.IsZero() || c.IssuedAt.IsZero() {
				b.Fatal(err)
			}
		}
	})

	// The same, plus one %%user.custom_data lookup, as a rule would do.
	b.Run("rulegate+lookup", func(b *testing.B) {
		b.ReportAllocs()
		acc := expansion.Compile(expansion.Ref{Root: expansion.RootUser, Path: []string{"custom_data", "teamIds"}})
		for b.Loop() {
			c, err := v.Verify(tok)
			if err != nil {
				b.Fatal(err)
			}
			in := expansion.Inputs{User: c.User()}
			if r, err := acc.Resolve(&in); err != nil || !r.IsArray() {
				b.Fatal("teamIds missing")
			}
		}
	})

	b.Run("jwt-MapClaims", func(b *testing.B) {
		b.ReportAllocs()
		p := jwt.NewParser(
			jwt.WithValidMethods([]string{"HS256"}),
			jwt.WithIssuer("rulegate"),
			jwt.WithAudience("app-1"),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithTimeFunc(fixedClock(t0.Add(time.Minute))),
		)
		keyFunc := func(t *jwt.Token) (any, error) {
			if t.Header["kid"] != "k1" {
				return nil, fmt.Errorf("unknown kid %v", t.Header["kid"])
			}
			return secret, nil
		}
		for b.Loop() {
			var mc jwt.MapClaims
			t, err := p.ParseWithClaims(tok, &mc, keyFunc)
			if err != nil || !t.Valid {
				b.Fatal(err)
			}
			sub, _ := mc.GetSubject()
			exp, _ := mc.GetExpirationTime()
			iat, _ := mc.GetIssuedAt()
			if sub == "" || exp == nil || iat == nil {
				b.Fatal("claims missing")
			}
		}
	})

	b.Run("verify+json-map", func(b *testing.B) {
		b.ReportAllocs()
		dot1 := strings.IndexByte(tok, '.')
		dot2 := strings.LastIndexByte(tok, '.')
		for b.Loop() {
			sig, err := base64.RawURLEncoding.DecodeString(tok[dot2+1:])
			if err != nil {
				b.Fatal(err)
			}
			if err := jwt.SigningMethodHS256.Verify(tok[:dot2], sig, secret); err != nil {
				b.Fatal(err)
			}
			payload, err := base64.RawURLEncoding.DecodeString(tok[dot1+1 : dot2])
			if err != nil {
				b.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(payload, &m); err != nil {
				b.Fatal(err)
			}
			if m["sub"] == nil || m["exp"] == nil {
				b.Fatal("claims missing")
			}
		}
	})
}
