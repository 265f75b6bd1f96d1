package customdata_test

import (
	"context"
	"fmt"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
)

// A disabled configuration needs no database: tokens carry no custom data.
// With Enabled true, pass a connected *mongo.Client to New (see the
// package's integration tests).
func ExampleAuth_Login() {
	ctx := context.Background()
	store, _ := customdata.New(&rules.CustomUserData{Enabled: false}, nil)
	key, _ := token.HMACKey("k1", []byte("a secret of at least thirty-two bytes"))
	keys, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(keys)
	verifier, _ := token.NewVerifier(keys)
	auth, _ := customdata.NewAuth(store, signer, verifier, customdata.NewMemorySessions())

	tok, err := auth.Login(ctx, "u-42", customdata.LoginInfo{})
	if err != nil {
		panic(err)
	}
	claims, _ := verifier.Verify(tok.AccessToken)
	_, hasCustomData := claims.CustomData()
	fmt.Println(claims.Subject, tok.HasCustomData, hasCustomData)

	refreshed, err := auth.Refresh(ctx, tok.RefreshToken)
	fmt.Println(refreshed.UserID, err)
	// Output:
	// u-42 false false
	// u-42 <nil>
}

func ExampleWarning_String() {
	w := customdata.Warning{
		Code:      customdata.WarnNoUniqueIndex,
		Namespace: "app.users",
		Msg:       `no unique index on "userId"`,
	}
	fmt.Println(w)
	// Output:
	// app.users: no unique index on "userId" (customdata/no-unique-index)
}
