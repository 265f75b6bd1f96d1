package accounts_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/rulegatetest"
)

// exampleDB returns a fresh database on an embedded server (or
// $MONGODB_URI) shared by the examples.
var exampleDB = func() func(name string) *mongo.Database {
	var once sync.Once
	var client *mongo.Client
	return func(name string) *mongo.Database {
		once.Do(func() {
			uri, _, err := rulegatetest.Start() // the server stops when the program exits
			if err != nil {
				log.Fatal(err)
			}
			if client, err = mongo.Connect(options.Client().ApplyURI(uri)); err != nil {
				log.Fatal(err)
			}
		})
		db := client.Database(name)
		_ = db.Drop(context.Background())
		return db
	}
}()

func ExampleNew() {
	ctx := context.Background()
	store, err := accounts.New(ctx, exampleDB("example_new"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(store.Ping(ctx))
	// Output:
	// <nil>
}

// Register, confirm, log in: the wrong password and the unknown email get
// the same error.
func ExampleStore_Register() {
	ctx := context.Background()
	store, _ := accounts.New(ctx, exampleDB("example_register"))

	pending, err := store.Register(ctx, "Alice@Example.com", "pa55w0rd!", false)
	if err != nil {
		log.Fatal(err)
	}
	_, err = store.LoginPassword(ctx, "alice@example.com", "pa55w0rd!", "192.0.2.1")
	fmt.Println(errors.Is(err, accounts.ErrPending))

	// pending.Token and pending.TokenID go into the confirmation e-mail.
	if err := store.Confirm(ctx, pending.Token, pending.TokenID); err != nil {
		log.Fatal(err)
	}
	u, err := store.LoginPassword(ctx, "alice@example.com", "pa55w0rd!", "192.0.2.1")
	fmt.Println(u.ID == pending.UserID, string(u.Data), u.Identities[0].ProviderType, err)

	_, wrong := store.LoginPassword(ctx, "alice@example.com", "guess", "192.0.2.1")
	_, unknown := store.LoginPassword(ctx, "mallory@example.com", "guess", "192.0.2.1")
	fmt.Println(wrong)
	fmt.Println(unknown)
	// Output:
	// true
	// true {"email":"alice@example.com"} local-userpass <nil>
	// accounts: invalid username/password
	// accounts: invalid username/password
}

// The secret is shown once; the store keeps its hash.
func ExampleStore_CreateAPIKey() {
	ctx := context.Background()
	store, _ := accounts.New(ctx, exampleDB("example_apikey"))
	owner, _, _ := store.LoginExternal(ctx, "custom-token", "custom-token", "jwt-subject-1", []byte(`{"name":"Bob"}`))

	key, err := store.CreateAPIKey(ctx, owner.ID, "laptop")
	if err != nil {
		log.Fatal(err)
	}
	u, err := store.LoginAPIKey(ctx, key.Key, "192.0.2.7")
	fmt.Println(u.ID == owner.ID, err)

	listed, _ := store.APIKeys(ctx, owner.ID)
	fmt.Printf("%s %q\n", listed[0].Name, listed[0].Key)

	_ = store.EnableAPIKey(ctx, owner.ID, key.ID, false)
	_, err = store.LoginAPIKey(ctx, key.Key, "192.0.2.7")
	fmt.Println(err)
	// Output:
	// true <nil>
	// laptop ""
	// accounts: disabled
}

// The first login of a user is the one its user-creation function and
// CREATE authentication triggers run for; a first login whose creation
// function failed is undone, and the next login is the first again.
func ExampleStore_FirstLogin() {
	ctx := context.Background()
	store, _ := accounts.New(ctx, exampleDB("example_first_login"))
	u, _ := store.LoginAnonymous(ctx)
	first, _ := store.FirstLogin(ctx, u.ID)
	again, _ := store.FirstLogin(ctx, u.ID)
	fmt.Println(first, again)

	_ = store.UndoFirstLogin(ctx, u.ID)
	retried, _ := store.FirstLogin(ctx, u.ID)
	fmt.Println(retried)
	// Output:
	// true false
	// true
}
