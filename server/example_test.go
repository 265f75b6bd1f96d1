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
