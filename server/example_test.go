package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/server"
	"github.com/rulegate/rulegate/token"
)

// A Go backend mounts the server on its own mux; App Services clients then
// point their baseUrl at it. (The example starts the embedded test server.)
func ExampleNew() {
	uri, stop, err := rulegatetest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	client, _ := mongo.Connect(options.Client().ApplyURI(uri))
	defer client.Disconnect(context.Background())
	defer client.Database("example_accounts").Drop(context.Background())

	app, _ := rules.LoadApp(os.DirFS("testdata/app"))
	key, _ := token.HMACKey("k1", []byte("a signing secret of 32 bytes or more!"))
	keys, _ := token.NewKeySet(key)
	srv, err := server.New(context.Background(), app, client, keys, server.WithDatabase("example_accounts"))
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	hs := httptest.NewServer(mux)
	defer hs.Close()

	// What realm-web sends first: where to send the rest.
	res, _ := http.Get(hs.URL + "/api/client/v2.0/app/" + srv.AppID() + "/location")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.StatusCode, strings.Replace(string(body), hs.URL[len("http://"):], "HOST", 2))
	// Output:
	// 200 {"deployment_model":"GLOBAL","location":"US-VA","hostname":"http://HOST","ws_hostname":"ws://HOST"}
}

// An app with a LOGIN authentication trigger: its function runs after the
// login has answered; Wait waits for it, as a process does after its HTTP
// server's Shutdown. (The example starts the embedded test server.)
func ExampleServer_Wait() {
	uri, stop, err := rulegatetest.Start()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	ctx := context.Background()
	client, _ := mongo.Connect(options.Client().ApplyURI(uri))
	defer client.Disconnect(ctx)
	defer client.Database("example_wait").Drop(ctx)
	_ = client.Database("srvjs").Drop(ctx)
	defer client.Database("srvjs").Drop(ctx)

	app, _ := rules.LoadApp(os.DirFS("testdata/jsapp"))
	key, _ := token.HMACKey("k1", []byte("a signing secret of 32 bytes or more!"))
	keys, _ := token.NewKeySet(key)
	srv, err := server.New(ctx, app, client, keys, server.WithDatabase("example_wait"))
	if err != nil {
		fmt.Println(err)
		return
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	auth := hs.URL + "/api/client/v2.0/app/" + srv.AppID() + "/auth/providers/local-userpass/"
	post := func(url, body string) {
		res, _ := http.Post(url, "application/json", strings.NewReader(body))
		res.Body.Close()
	}
	post(auth+"register", `{"email":"ann@example.com","password":"pa55w0rd!"}`)
	post(auth+"login", `{"username":"ann@example.com","password":"pa55w0rd!"}`)

	hs.Close() // as http.Server.Shutdown: no request starts a trigger any more
	if err := srv.Wait(ctx); err != nil {
		fmt.Println(err)
		return
	}
	var profile struct {
		Plan      string `bson:"plan"`
		LastLogin any    `bson:"lastLogin"`
	}
	_ = client.Database("srvjs").Collection("profiles").FindOne(ctx, map[string]string{"email": "ann@example.com"}).Decode(&profile)
	fmt.Println(profile.Plan, profile.LastLogin != nil)
	// Output:
	// free true
}
