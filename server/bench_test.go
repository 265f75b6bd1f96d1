package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/internal/benchcpu"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/server"
	"github.com/rulegate/rulegate/token"
)

// benchClients is the number of concurrent clients of BenchmarkFindOne.
const benchClients = 16

// benchNotes is the number of the user's notes the benchmark reads.
const benchNotes = 1000

// BenchmarkFindOne compares findOne through the Server with a handwritten
// net/http handler that does what a hand-coded backend would: verify the
// same access token with package token, run FindOne on the raw driver with
// the filter the owner rule stands for ({$and: [query, {owner: sub}]}),
// answer in the same format. Both are httptest servers on loopback over
// one mongo.Client to the embedded server, and benchClients goroutines
// send requests on kept-alive connections, each for one of benchNotes
// documents by _id. api=client is functions/call (canonical extended JSON
// in and out), api=data the Data API v1 findOne (Bearer token, JSON
// answer). Besides ns/op (requests/s is 1e9 / ns/op) it reports req/s,
// the p50 and p99 request latency, and cpu-ns/op, the CPU time this
// process (clients, handler and driver, not the database server) spends
// per request: the embedded server's own work on each findOne dominates
// the latency, and cpu-ns/op shows what the handler adds beside it. The
// Server logs its request line as rulegate serve does, in JSON, to
// io.Discard.
func BenchmarkFindOne(b *testing.B) {
	be := newBenchEnv(b)
	for _, api := range []string{"client", "data"} {
		for _, h := range []string{"raw", "serve"} {
			b.Run("handler="+h+"/api="+api, func(b *testing.B) {
				url := be.raw.URL
				if h == "serve" {
					url = be.serve.URL
				}
				be.run(b, url, api)
			})
		}
	}
}

type benchEnv struct {
	raw, serve *httptest.Server
	hc         *http.Client
	access     string
	bodies     map[string][][]byte // per api, one body per note
}

func newBenchEnv(b *testing.B) *benchEnv {
	b.Helper()
	client := rulegatetest.Client(b)
	ctx := context.Background()
	if err := client.Database("srvtest").Drop(ctx); err != nil {
		b.Fatal(err)
	}
	accountsDB := rulegatetest.Database(b).Name()
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := server.New(ctx, loadApp(b), client, testKeys, server.WithDatabase(accountsDB), server.WithLogger(logger))
	if err != nil {
		b.Fatal(err)
	}
	verifier, err := token.NewVerifier(testKeys)
	if err != nil {
		b.Fatal(err)
	}
	be := &benchEnv{
		serve:  httptest.NewServer(srv),
		raw:    httptest.NewServer(rawFindOne(client, verifier)),
		hc:     &http.Client{Transport: &http.Transport{MaxIdleConns: 4 * benchClients, MaxIdleConnsPerHost: 4 * benchClients}},
		bodies: map[string][][]byte{},
	}
	b.Cleanup(func() {
		be.hc.CloseIdleConnections()
		be.serve.Close()
		be.raw.Close()
	})

	// The user logs in through the real login path.
	const email, password = "bench@example.com", "pa55w0rd!"
	if st, body := be.post(be.serve.URL+base+"/auth/providers/local-userpass/register", "", fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)); st != http.StatusCreated {
		b.Fatalf("register: %d %s", st, body)
	}
	st, body := be.post(be.serve.URL+base+"/auth/providers/local-userpass/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, email, password))
	var login struct {
		UserID      string `json:"user_id"`
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &login); st != http.StatusOK || err != nil || login.AccessToken == "" {
		b.Fatalf("login: %d %s", st, body)
	}
	be.access = login.AccessToken

	docs := make([]any, benchNotes)
	for i := range docs {
		id := bson.NewObjectID()
		docs[i] = bson.D{{Key: "_id", Value: id}, {Key: "owner", Value: login.UserID}, {Key: "n", Value: int32(i)}, {Key: "title", Value: fmt.Sprintf("note %d", i)}}
		q := fmt.Sprintf(`{"_id":{"$oid":"%s"}}`, id.Hex())
		be.bodies["client"] = append(be.bodies["client"], []byte(`{"name":"findOne","arguments":[{"database":"srvtest","collection":"notes","query":`+q+`}],"service":"mongodb-atlas"}`))
		be.bodies["data"] = append(be.bodies["data"], []byte(`{"dataSource":"mongodb-atlas","database":"srvtest","collection":"notes","filter":`+q+`}`))
	}
	if _, err := client.Database("srvtest").Collection("notes").InsertMany(ctx, docs); err != nil {
		b.Fatal(err)
	}

	// Both handlers answer alike, byte for byte.
	for _, api := range []string{"client", "data"} {
		_, raw := be.request(b, be.raw.URL, api, be.bodies[api][7])
		_, served := be.request(b, be.serve.URL, api, be.bodies[api][7])
		if !bytes.Equal(raw, served) || !bytes.Contains(raw, []byte(`"note 7"`)) {
			b.Fatalf("api=%s: the handwritten handler answers %s, the Server %s", api, raw, served)
		}
	}
	return be
}

func (be *benchEnv) post(url, tok, body string) (int, []byte) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		return 0, []byte(err.Error())
	}
	req.Header.Set("Content-Type", "application/json")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := be.hc.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, out
}

// request sends one findOne as realm-web (api=client) or a Data API
// client (api=data) does, and returns the time it took and the answer.
func (be *benchEnv) request(b *testing.B, url, api string, body []byte) (time.Duration, []byte) {
	path := base + "/functions/call"
	if api == "data" {
		path = "/app/" + appID + "/endpoint/data/v1/action/findOne"
	}
	start := time.Now()
	req, err := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(body))
	if err != nil {
		b.Error(err)
		return 0, nil
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+be.access)
	res, err := be.hc.Do(req)
	if err != nil {
		b.Error(err)
		return 0, nil
	}
	out, err := io.ReadAll(res.Body)
	res.Body.Close()
	d := time.Since(start)
	if err != nil || res.StatusCode != http.StatusOK {
		b.Errorf("%s: %d %s %v", url+path, res.StatusCode, out, err)
	}
	return d, out
}

func (be *benchEnv) run(b *testing.B, url, api string) {
	bodies := be.bodies[api]
	var mu sync.Mutex
	var lat []time.Duration
	var clients atomic.Int64
	b.SetParallelism((benchClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := benchcpu.Start()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		i := int(clients.Add(1)) * 7919 // each client starts elsewhere
		for pb.Next() {
			d, _ := be.request(b, url, api, bodies[i%len(bodies)])
			mine = append(mine, d)
			i++
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	b.StopTimer()
	cpu.Report(b)
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// rawFindOne is the handwritten handler: functions/call findOne and Data
// API findOne with a Bearer access token, the caller's owner filter AND-ed
// to the query, on the raw driver.
func rawFindOne(client *mongo.Client, v *token.Verifier) http.Handler {
	coll := client.Database("srvtest").Collection("notes")
	fail := func(w http.ResponseWriter, status int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":%q}`, msg)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		if scheme != "Bearer" {
			fail(w, http.StatusUnauthorized, "no access token")
			return
		}
		claims, err := v.Verify(tok)
		if err != nil {
			fail(w, http.StatusUnauthorized, "invalid access token")
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			fail(w, http.StatusBadRequest, "body")
			return
		}
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON(body, true, &doc); err != nil {
			fail(w, http.StatusBadRequest, "body")
			return
		}
		dataAPI := strings.HasSuffix(r.URL.Path, "/action/findOne")
		var query bson.Raw
		if dataAPI {
			query, _ = doc.Lookup("filter").DocumentOK()
		} else {
			args, _ := doc.Lookup("arguments").ArrayOK()
			if a, err := args.IndexErr(0); err == nil {
				arg, _ := a.DocumentOK()
				query, _ = arg.Lookup("query").DocumentOK()
			}
		}
		if query == nil {
			fail(w, http.StatusBadRequest, "no query")
			return
		}
		filter := bson.D{{Key: "$and", Value: bson.A{query, bson.D{{Key: "owner", Value: claims.Subject}}}}}
		raw, err := coll.FindOne(r.Context(), filter).Raw()
		var out []byte
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			out = []byte("null")
		case err != nil:
			fail(w, http.StatusInternalServerError, "database")
			return
		case dataAPI:
			var d bson.D
			if err = bson.Unmarshal(raw, &d); err == nil {
				out, err = json.Marshal(d)
			}
		default:
			out, err = bson.MarshalExtJSON(raw, true, false)
		}
		if err != nil {
			fail(w, http.StatusInternalServerError, "encoding")
			return
		}
		if dataAPI {
			out = append(append([]byte(`{"document":`), out...), '}')
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	})
}
