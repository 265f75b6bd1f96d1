package token_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/rulegate/rulegate/token"
)

func ExampleSigner_Sign() {
	key, _ := token.HMACKey("2024-01", []byte("a secret of at least thirty-two bytes"))
	keys, _ := token.NewKeySet(key)
	now := func() time.Time { return time.Unix(1_700_000_000, 0) }
	signer, _ := token.NewSigner(keys, token.WithIssuer("rulegate"), token.WithClock(now))
	verifier, _ := token.NewVerifier(keys, token.WithIssuer("rulegate"), token.WithClock(now))

	tok, err := signer.Sign(token.Params{
		UserID:     "u-42",
		CustomData: []byte(`{"userId":"u-42","orgId":"acme"}`),
	})
	if err != nil {
		panic(err)
	}
	claims, err := verifier.Verify(tok)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(claims.Raw()))
	// Output:
	// {"sub":"u-42","typ":"access","iat":1700000000,"exp":1700001800,"iss":"rulegate","user_type":"normal","user_data":{"userId":"u-42","orgId":"acme"}}
}

func ExampleVerifier_Verify() {
	key, _ := token.HMACKey("2024-01", []byte("a secret of at least thirty-two bytes"))
	keys, _ := token.NewKeySet(key)
	minted := time.Unix(1_700_000_000, 0)
	signer, _ := token.NewSigner(keys, token.WithClock(func() time.Time { return minted }))
	tok, _ := signer.Sign(token.Params{UserID: "u-42", CustomData: []byte(`{"orgId":"acme"}`)})

	// Ten minutes later: valid.
	v, _ := token.NewVerifier(keys, token.WithClock(func() time.Time { return minted.Add(10 * time.Minute) }))
	claims, _ := v.Verify(tok)
	org, _ := claims.User().Lookup("custom_data", "orgId")
	fmt.Println(claims.Subject, org, claims.ExpiresAt.UTC().Format(time.RFC3339))

	// An hour later: expired.
	late, _ := token.NewVerifier(keys, token.WithClock(func() time.Time { return minted.Add(time.Hour) }))
	_, err := late.Verify(tok)
	fmt.Println(errors.Is(err, token.ErrExpired))
	// Output:
	// u-42 "acme" 2023-11-14T22:43:20Z
	// true
}

func ExampleSigner_SignRefresh() {
	key, _ := token.HMACKey("2024-01", []byte("a secret of at least thirty-two bytes"))
	keys, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(keys)
	verifier, _ := token.NewVerifier(keys)

	rt, _ := signer.SignRefresh("u-42", "session-7")
	claims, err := verifier.VerifyRefresh(rt)
	fmt.Println(claims.Subject, claims.SessionID, err)

	_, err = verifier.Verify(rt) // not an access token
	fmt.Println(errors.Is(err, token.ErrTokenType))
	// Output:
	// u-42 session-7 <nil>
	// true
}

func ExampleNewKeySet() {
	old, _ := token.HMACKey("2024-01", []byte("the old secret, thirty-two bytes long"))
	cur, _ := token.HMACKey("2024-02", []byte("the new secret, thirty-two bytes long"))

	// Before rotation: tokens signed with the old key.
	before, _ := token.NewKeySet(old)
	oldSigner, _ := token.NewSigner(before)
	tok, _ := oldSigner.Sign(token.Params{UserID: "u-1"})

	// After rotation: sign with the new key, still accept the old one.
	after, _ := token.NewKeySet(cur, old)
	signer, _ := token.NewSigner(after)
	verifier, _ := token.NewVerifier(after)
	claims, err := verifier.Verify(tok)
	fmt.Println(claims.KeyID, err, signer.KeyID())
	// Output:
	// 2024-01 <nil> 2024-02
}

// Every verification failure matches ErrInvalid, so an HTTP handler maps
// all of them to 401 with one test; the specific sentinels still tell
// which check failed.
func ExampleVerifier_Verify_errInvalid() {
	key, _ := token.HMACKey("2024-01", []byte("a secret of at least thirty-two bytes"))
	keys, _ := token.NewKeySet(key)
	v, _ := token.NewVerifier(keys)
	for _, tok := range []string{"not.a.token", "", "eyJhbGciOiJub25lIn0.e30."} {
		_, err := v.Verify(tok)
		status := 200
		if errors.Is(err, token.ErrInvalid) {
			status = 401
		}
		fmt.Println(status, errors.Is(err, token.ErrMalformed), errors.Is(err, token.ErrAlgNone))
	}
	// Output:
	// 401 true false
	// 401 true false
	// 401 false true
}
