package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/token"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	database := flag.String("database", "notesapi", "the deployment database of users, sessions, custom data and notes")
	flag.Parse()
	if err := serve(*addr, *database); err != nil {
		fmt.Fprintln(os.Stderr, "notesapi:", err)
		os.Exit(1)
	}
}

func serve(addr, database string) error {
	uri, stop, err := rulegatetest.Start()
	if err != nil {
		return err
	}
	defer stop()
	client, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background())
	keys, err := newKeys()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := newAPI(ctx, client, database, keys, log)
	if err != nil {
		return err
	}
	if _, err := seed(ctx, a); err != nil {
		return err
	}
	fmt.Printf("notesapi: serving on http://%s (users %s, password %q)\n", addr, "alice@example.com bob@example.com carol@example.com dave@example.com", demoPassword)
	srv := &http.Server{Addr: addr, Handler: a, ReadHeaderTimeout: 10 * time.Second}
	return srv.ListenAndServe()
}

// newKeys returns a key set with a fresh HMAC signing key: tokens do not
// outlive the process.
func newKeys() (*token.KeySet, error) {
	secret := make([]byte, token.MinHMACSecret)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	key, err := token.HMACKey("k1", secret)
	if err != nil {
		return nil, err
	}
	return token.NewKeySet(key)
}

// demoPassword is every demo user's password.
const demoPassword = "pa55w0rd!"

// demoUser is a demo user and the custom data document the application
// writes for it (nil: none).
type demoUser struct {
	email      string
	customData bson.D
}

var demoUsers = []demoUser{
	{"alice@example.com", bson.D{{Key: "teamIds", Value: bson.A{"red"}}}},
	{"bob@example.com", bson.D{{Key: "teamIds", Value: bson.A{"red"}}}},
	{"carol@example.com", bson.D{{Key: "teamIds", Value: bson.A{}}, {Key: "isAdmin", Value: true}}},
	{"dave@example.com", nil},
}

// demoNote is a demo note, owned by the user of that email.
type demoNote struct {
	name, owner, team, status, title, private string
}

var demoNotes = []demoNote{
	{"alice-red", "alice@example.com", "red", "open", "alice's red plan", "alice's red secret"},
	{"alice-blue", "alice@example.com", "blue", "done", "alice's blue report", "alice's blue secret"},
	{"bob-red", "bob@example.com", "red", "open", "bob's red draft", "bob's red secret"},
	{"carol-green", "carol@example.com", "green", "done", "carol's green memo", "carol's green secret"},
}

// seeded is what seed made: user ids by email, note ids by name.
type seeded struct {
	users map[string]string
	notes map[string]bson.ObjectID
}

// seed registers the demo users (confirmed), writes their custom data and
// the demo notes with the system handle: the application's own writes,
// outside the rules, as an App Services system function would make them.
func seed(ctx context.Context, a *api) (*seeded, error) {
	s := &seeded{users: map[string]string{}, notes: map[string]bson.ObjectID{}}
	for _, u := range demoUsers {
		if _, err := a.accounts.Register(ctx, u.email, demoPassword, true); err != nil {
			return nil, err
		}
		// Register answers a registered email as it answers a new one (no
		// enumeration) and returns no user id: log in to learn it.
		usr, err := a.accounts.LoginPassword(ctx, u.email, demoPassword, "seed")
		if err != nil {
			return nil, err
		}
		s.users[u.email] = usr.ID
		if u.customData != nil {
			doc := append(bson.D{{Key: "userId", Value: usr.ID}}, u.customData...)
			if _, err := a.system("custom_data").InsertOne(ctx, doc); err != nil {
				return nil, err
			}
		}
	}
	for _, n := range demoNotes {
		id := bson.NewObjectID()
		if _, err := a.system(notesName).InsertOne(ctx, bson.D{
			{Key: "_id", Value: id}, {Key: "owner_id", Value: s.users[n.owner]}, {Key: "team_id", Value: n.team},
			{Key: "status", Value: n.status}, {Key: "title", Value: n.title}, {Key: "private", Value: n.private},
		}); err != nil {
			return nil, err
		}
		s.notes[n.name] = id
	}
	return s, nil
}
