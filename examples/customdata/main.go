// Command customdata is the App Services "Access Custom User Data" flow in
// Go, with rulegate: a user logs in and gets an access token carrying their
// custom data; they update their own custom data document through a gated
// collection; they refresh their token and see the change; they try to
// update another user's document, which they cannot read, and match nothing
// (as App Services leaves out the documents a user cannot read).
//
// The app is the one of the Web SDK "Access Custom User Data" page: custom
// user data in custom-user-data-database.custom-user-data, keyed by userId.
// The rules
// (data_sources/mongodb-atlas/custom-user-data-database/custom-user-data/rules.json):
// each user reads and writes only the document whose userId equals
// %%user.id. The custom user data configuration is
// auth/custom_user_data.json (user_id_field "userId"); realm_config.json
// gives the app id (customdata-abcde) and auth/providers.json the
// providers rulegate serve offers (email/password with automatic
// confirmation, anonymous, API keys), so that the page's code runs
// unchanged against `rulegate serve --app examples/customdata`.
//
// Run it from the repository root with
//
//	go run ./examples/customdata
//
// It starts the embedded test server (FerretDB, built on first use; about a
// minute the first time) unless MONGODB_URI names a server to use.
package main

import (
	"context"
	"crypto/rand"
	"embed"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// appFiles is the exported App Services app: rules and the custom user data
// configuration.
//
//go:embed auth data_sources
var appFiles embed.FS

// The users of the flow (ids from fixtures/users.json).
const (
	aliceID = "5f1f216e82df4a7979f9da93"
	bobID   = "5f1f298f757611faec901d0f"
)

func main() {
	uri, stop, err := rulegatetest.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "customdata:", err)
		os.Exit(1)
	}
	err = func() error {
		defer stop()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		client, err := mongo.Connect(options.Client().ApplyURI(uri))
		if err != nil {
			return err
		}
		defer client.Disconnect(context.Background())
		_, err = run(ctx, os.Stdout, client, "")
		return err
	}()
	if err != nil {
		fmt.Fprintln(os.Stderr, "customdata:", err)
		os.Exit(1)
	}
}

// Outcome is what the flow observed, for the integration test.
type Outcome struct {
	ColorAtLogin   string
	Update         *mongo.UpdateResult
	ColorAfter     string
	BobUpdate      *mongo.UpdateResult
	BobColorAfter  string
	AliceSeesBob   bool
	AliceDocuments int64
}

// run runs the flow against client, printing each step to w. database
// overrides the database of the app's configuration
// ("custom-user-data-database") when not
// empty, so tests can use a fresh one.
func run(ctx context.Context, w io.Writer, client *mongo.Client, database string) (*Outcome, error) {
	app, err := rules.LoadApp(appFiles)
	if err != nil {
		return nil, err
	}
	cfg := app.CustomUserData
	if cfg == nil {
		return nil, errors.New("auth/custom_user_data.json is missing")
	}
	if database != "" {
		for _, ds := range app.DataSources {
			for _, c := range ds.Collections {
				if c.Database == cfg.DatabaseName {
					c.Database = database
				}
			}
		}
		cfg.DatabaseName = database
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		return nil, err
	}
	g, err := gate.New(client, prog)
	if err != nil {
		return nil, err
	}
	out := &Outcome{}

	// 1. The custom data documents exist (written by a system function
	// in App Services, by the system handle here).
	sys := g.System().Database(cfg.DatabaseName).Collection(cfg.CollectionName)
	if _, err := sys.InsertMany(ctx, []any{
		bson.D{{Key: cfg.UserIDField, Value: aliceID}, {Key: "description", Value: "a test document for user: alice@example.com"}, {Key: "favoriteColor", Value: "blue"}},
		bson.D{{Key: cfg.UserIDField, Value: bobID}, {Key: "favoriteColor", Value: "green"}},
	}); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "1. custom user data in %s (user id field %q) for alice and bob\n", cfg.Namespace(), cfg.UserIDField)

	// 2. Alice logs in: her access token carries her custom data.
	store, err := customdata.New(cfg, client)
	if err != nil {
		return nil, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	key, err := token.HMACKey("k1", secret)
	if err != nil {
		return nil, err
	}
	keys, err := token.NewKeySet(key)
	if err != nil {
		return nil, err
	}
	signer, err := token.NewSigner(keys)
	if err != nil {
		return nil, err
	}
	verifier, err := token.NewVerifier(keys)
	if err != nil {
		return nil, err
	}
	auth, err := customdata.NewAuth(store, signer, verifier, customdata.NewMemorySessions())
	if err != nil {
		return nil, err
	}
	tok, err := auth.Login(ctx, aliceID, customdata.LoginInfo{Metadata: []byte(`{"email": "alice@example.com"}`)})
	if err != nil {
		return nil, err
	}
	claims, err := verifier.Verify(tok.AccessToken)
	if err != nil {
		return nil, err
	}
	out.ColorAtLogin = favoriteColor(claims)
	fmt.Fprintf(w, "2. alice logs in: user.customData.favoriteColor = %q\n", out.ColorAtLogin)

	// 3. She updates her own custom data through the gated collection.
	coll := g.For(claims.User()).Database(cfg.DatabaseName).Collection(cfg.CollectionName)
	out.Update, err = coll.UpdateOne(ctx,
		bson.D{{Key: cfg.UserIDField, Value: claims.Subject}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "favoriteColor", Value: "pink"}}}})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "3. alice updates {%s: user.id} with {$set: {favoriteColor: \"pink\"}}: {MatchedCount: %d, ModifiedCount: %d}\n",
		cfg.UserIDField, out.Update.MatchedCount, out.Update.ModifiedCount)
	fmt.Fprintf(w, "   her token still says %q until she refreshes it\n", favoriteColor(claims))

	// 4. She refreshes her custom data (a new access token).
	tok, err = auth.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		return nil, err
	}
	if claims, err = verifier.Verify(tok.AccessToken); err != nil {
		return nil, err
	}
	out.ColorAfter = favoriteColor(claims)
	fmt.Fprintf(w, "4. alice refreshes her custom data: user.customData.favoriteColor = %q\n", out.ColorAfter)

	// 5. She tries to update bob's document, which she cannot read: it is
	// left out, so nothing matches (gate.WithInvisibleMatchesRevealed would
	// deny instead, telling her that bob's document exists).
	coll = g.For(claims.User()).Database(cfg.DatabaseName).Collection(cfg.CollectionName)
	out.BobUpdate, err = coll.UpdateOne(ctx,
		bson.D{{Key: cfg.UserIDField, Value: bobID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "favoriteColor", Value: "pink"}}}})
	if err != nil {
		return nil, fmt.Errorf("updating bob's document: %w", err)
	}
	fmt.Fprintf(w, "5. alice updates bob's document: {MatchedCount: %d, ModifiedCount: %d}\n", out.BobUpdate.MatchedCount, out.BobUpdate.ModifiedCount)

	// 6. She cannot read it either, and it is unchanged.
	err = coll.FindOne(ctx, bson.D{{Key: cfg.UserIDField, Value: bobID}}).Err()
	out.AliceSeesBob = err == nil
	if err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		return nil, err
	}
	if out.AliceDocuments, err = coll.CountDocuments(ctx, bson.D{}); err != nil {
		return nil, err
	}
	var bob bson.M
	if err := sys.FindOne(ctx, bson.D{{Key: cfg.UserIDField, Value: bobID}}).Decode(&bob); err != nil {
		return nil, err
	}
	out.BobColorAfter, _ = bob["favoriteColor"].(string)
	fmt.Fprintf(w, "6. alice sees %d custom data document(s); bob's favoriteColor is still %q\n", out.AliceDocuments, out.BobColorAfter)
	return out, nil
}

// favoriteColor reads user.customData.favoriteColor from a token's claims.
func favoriteColor(c *token.Claims) string {
	v, _ := c.User().Lookup("custom_data", "favoriteColor")
	s, _ := v.StringOK()
	return s
}
