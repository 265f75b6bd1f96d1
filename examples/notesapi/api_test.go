package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// notesServer starts the API on a fresh database of the test server
// (rulegatetest: MONGODB_URI, else the embedded FerretDB) with the demo
// users and notes.
func notesServer(t *testing.T) (*httptest.Server, *api, *seeded) {
	t.Helper()
	db := rulegatetest.Database(t)
	keys, err := newKeys()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := newAPI(ctx, db.Client(), db.Name(), keys, log)
	if err != nil {
		t.Fatal(err)
	}
	s, err := seed(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return srv, a, s
}

// call sends a request with a bearer token ("" for none) and a JSON body
// ("" for none) and returns the status and the body.
func call(t *testing.T, srv *httptest.Server, method, path, tok, body string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, b
}

// want checks the status of a call and returns its body.
func want(t *testing.T, status int, gotStatus int, body []byte) []byte {
	t.Helper()
	if gotStatus != status {
		t.Fatalf("status %d, want %d: %s", gotStatus, status, body)
	}
	return body
}

// tokens logs a demo user in.
func tokens(t *testing.T, srv *httptest.Server, email string) (access, refresh string) {
	t.Helper()
	st, b := call(t, srv, "POST", "/login", "", `{"email": "`+email+`", "password": "`+demoPassword+`"}`)
	var m map[string]string
	if err := json.Unmarshal(want(t, http.StatusOK, st, b), &m); err != nil {
		t.Fatal(err)
	}
	if m["access_token"] == "" || m["refresh_token"] == "" {
		t.Fatalf("login answered %s", b)
	}
	return m["access_token"], m["refresh_token"]
}

// note is a note as the API returns it.
type note struct {
	ID      bson.ObjectID `bson:"_id"`
	OwnerID string        `bson:"owner_id"`
	TeamID  string        `bson:"team_id"`
	Status  string        `bson:"status"`
	Title   string        `bson:"title"`
	Private *string       `bson:"private"` // nil when hidden
}

func decodeNote(t *testing.T, b []byte) note {
	t.Helper()
	var n note
	if err := bson.UnmarshalExtJSON(b, false, &n); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return n
}

func decodeNotes(t *testing.T, b []byte) []note {
	t.Helper()
	var raws []json.RawMessage
	if err := json.Unmarshal(b, &raws); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	ns := make([]note, len(raws))
	for i, r := range raws {
		ns[i] = decodeNote(t, r)
	}
	return ns
}

// titles names the notes of a list, in order, with "+private" after those
// whose private field the caller reads.
func titles(ns []note) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.Title
		if n.Private != nil {
			out[i] += " +private"
		}
	}
	return out
}

func wantTitles(t *testing.T, what string, ns []note, want ...string) {
	t.Helper()
	if got := titles(ns); !slices.Equal(got, want) {
		t.Errorf("%s: %q, want %q", what, got, want)
	}
}

// errorBody is the body of an error answer.
type errorBody struct {
	Error, Code, Reason, Role, Field string
}

func decodeError(t *testing.T, b []byte) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return e
}

// wantDenied checks a 403 and its DeniedError's reason and role.
func wantDenied(t *testing.T, what string, st int, b []byte, reason, role string) {
	t.Helper()
	if st != http.StatusForbidden {
		t.Errorf("%s: status %d, want 403: %s", what, st, b)
		return
	}
	e := decodeError(t, b)
	if e.Code != "gate/denied" || e.Reason != reason || e.Role != role {
		t.Errorf("%s: %+v, want code gate/denied, reason %q, role %q", what, e, reason, role)
	}
}

func path(id bson.ObjectID) string { return "/notes/" + id.Hex() }

// TestOwner: alice owns alice-red and alice-blue and is on team red, so
// she reads bob-red as a teammate, without its private field; she lists
// with filter, sort, skip and limit, inserts, updates and deletes her own
// notes, and is denied what the rules refuse.
func TestOwner(t *testing.T) {
	srv, _, s := notesServer(t)
	alice, _ := tokens(t, srv, "alice@example.com")

	st, b := call(t, srv, "GET", "/notes?sort=title", alice, "")
	wantTitles(t, "alice's notes by title", decodeNotes(t, want(t, 200, st, b)),
		"alice's blue report +private", "alice's red plan +private", "bob's red draft")
	st, b = call(t, srv, "GET", "/notes?status=open&sort=-title", alice, "")
	wantTitles(t, "open, by title descending", decodeNotes(t, want(t, 200, st, b)),
		"bob's red draft", "alice's red plan +private")
	st, b = call(t, srv, "GET", "/notes?sort=title&skip=1&limit=1", alice, "")
	wantTitles(t, "second page of one", decodeNotes(t, want(t, 200, st, b)), "alice's red plan +private")
	// A sort on a field hidden in a document leaves that document out:
	// its order would tell the hidden value.
	st, b = call(t, srv, "GET", "/notes?sort=private", alice, "")
	wantTitles(t, "sorted by private", decodeNotes(t, want(t, 200, st, b)),
		"alice's blue report +private", "alice's red plan +private")

	st, b = call(t, srv, "GET", path(s.notes["bob-red"]), alice, "")
	if n := decodeNote(t, want(t, 200, st, b)); n.Title != "bob's red draft" || n.Private != nil {
		t.Errorf("bob-red as a teammate: %s, want its title and no private field", b)
	}
	st, b = call(t, srv, "GET", path(s.notes["carol-green"]), alice, "")
	want(t, 404, st, b) // another team's note: as if it did not exist

	// Insert: her own note (owner_id defaults to her), not one for bob.
	st, b = call(t, srv, "POST", "/notes", alice, `{"team_id": "red", "status": "open", "title": "alice's new idea", "private": "x"}`)
	var created map[string]string
	if err := json.Unmarshal(want(t, 201, st, b), &created); err != nil {
		t.Fatal(err)
	}
	newID, err := bson.ObjectIDFromHex(created["id"])
	if err != nil {
		t.Fatal(err)
	}
	st, b = call(t, srv, "GET", path(newID), alice, "")
	if n := decodeNote(t, want(t, 200, st, b)); n.OwnerID != s.users["alice@example.com"] || n.Title != "alice's new idea" {
		t.Errorf("the inserted note: %s", b)
	}
	st, b = call(t, srv, "POST", "/notes", alice, `{"owner_id": "`+s.users["bob@example.com"]+`", "team_id": "blue", "title": "for bob"}`)
	wantDenied(t, "insert of a note owned by bob", st, b, "no-role", "")

	// Update: her own note, not its owner (it would leave her scope), not
	// bob's (a teammate reads, never writes).
	st, b = call(t, srv, "PATCH", path(newID), alice, `{"status": "done"}`)
	if n := decodeNote(t, want(t, 200, st, b)); n.Status != "done" || n.Private == nil {
		t.Errorf("update of her note: %s, want status done, private kept", b)
	}
	st, b = call(t, srv, "PATCH", path(newID), alice, `{"owner_id": "`+s.users["bob@example.com"]+`"}`)
	// The owner's write filter (owner_id == %%user.id) fails on the
	// document after the update.
	wantDenied(t, "giving her note to bob", st, b, "document-filter", "owner")
	st, b = call(t, srv, "PATCH", path(s.notes["bob-red"]), alice, `{"title": "mine now"}`)
	wantDenied(t, "update of bob's note", st, b, "field-not-writable", "teammate")
	st, b = call(t, srv, "PATCH", path(s.notes["carol-green"]), alice, `{"title": "mine now"}`)
	want(t, 404, st, b) // invisible: the driver's zero result, as a missing note
	st, b = call(t, srv, "PATCH", path(newID), alice, `{"$where": "1"}`)
	if e := decodeError(t, want(t, 400, st, b)); e.Code != "gate/invalid" {
		t.Errorf("a $-prefixed field: %+v, want gate/invalid", e)
	}

	// Delete: her own note, not bob's.
	st, b = call(t, srv, "DELETE", path(s.notes["bob-red"]), alice, "")
	// The teammate role's delete is false: that is the reason given.
	wantDenied(t, "delete of bob's note", st, b, "permission-denied", "teammate")
	st, b = call(t, srv, "DELETE", path(newID), alice, "")
	want(t, 204, st, b)
	st, b = call(t, srv, "GET", path(newID), alice, "")
	want(t, 404, st, b)
	st, b = call(t, srv, "DELETE", path(newID), alice, "")
	want(t, 404, st, b)
}

// TestTeammate: bob reads alice-red as a teammate (private hidden), not
// alice-blue (team blue), and can write neither.
func TestTeammate(t *testing.T) {
	srv, _, s := notesServer(t)
	bob, _ := tokens(t, srv, "bob@example.com")

	st, b := call(t, srv, "GET", "/notes?sort=title", bob, "")
	wantTitles(t, "bob's notes", decodeNotes(t, want(t, 200, st, b)), "alice's red plan", "bob's red draft +private")
	st, b = call(t, srv, "GET", path(s.notes["alice-blue"]), bob, "")
	want(t, 404, st, b)
	// A filter on the hidden field matches nothing in alice's note.
	st, b = call(t, srv, "GET", "/notes?status=open", bob, "")
	wantTitles(t, "open", decodeNotes(t, want(t, 200, st, b)), "alice's red plan", "bob's red draft +private")

	st, b = call(t, srv, "PATCH", path(s.notes["alice-red"]), bob, `{"status": "done"}`)
	wantDenied(t, "teammate update", st, b, "field-not-writable", "teammate")
	if e := decodeError(t, b); e.Field != "status" {
		t.Errorf("teammate update: field %q, want status", e.Field)
	}
	st, b = call(t, srv, "DELETE", path(s.notes["alice-red"]), bob, "")
	wantDenied(t, "teammate delete", st, b, "permission-denied", "teammate")
	if e := decodeError(t, b); e.Field != "" {
		t.Errorf("teammate delete: field %q, want none (the role's delete permission decided)", e.Field)
	}
	st, b = call(t, srv, "PATCH", path(s.notes["alice-blue"]), bob, `{"status": "done"}`)
	want(t, 404, st, b)
}

// TestAdmin: carol reads and writes every note, private fields included,
// and the stats aggregate runs for her.
func TestAdmin(t *testing.T) {
	srv, _, s := notesServer(t)
	carol, _ := tokens(t, srv, "carol@example.com")

	st, b := call(t, srv, "GET", "/notes?sort=title", carol, "")
	wantTitles(t, "every note", decodeNotes(t, want(t, 200, st, b)),
		"alice's blue report +private", "alice's red plan +private", "bob's red draft +private", "carol's green memo +private")
	st, b = call(t, srv, "PATCH", path(s.notes["bob-red"]), carol, `{"status": "done"}`)
	if n := decodeNote(t, want(t, 200, st, b)); n.Status != "done" {
		t.Errorf("admin update: %s", b)
	}
	st, b = call(t, srv, "GET", "/notes/stats", carol, "")
	if got := string(bytes.TrimSpace(want(t, 200, st, b))); got != `[{"status":"done","count":3},{"status":"open","count":1}]` {
		t.Errorf("stats: %s", got)
	}
	st, b = call(t, srv, "DELETE", path(s.notes["alice-blue"]), carol, "")
	want(t, 204, st, b)
}

// TestStats: Aggregate runs for every caller over the notes they read: an
// admin (in TestAdmin), a caller who reads nothing, an owner in no team,
// the owner + teammate case and a teammate alone (issue 15, item 3: the
// gate runs the pipeline itself over the redacted notes).
func TestStats(t *testing.T) {
	srv, a, s := notesServer(t)
	alice, _ := tokens(t, srv, "alice@example.com")
	dave, refresh := tokens(t, srv, "dave@example.com")

	wantStats := func(what, tok, stats string) {
		t.Helper()
		st, b := call(t, srv, "GET", "/notes/stats", tok, "")
		if got := string(bytes.TrimSpace(want(t, 200, st, b))); got != stats {
			t.Errorf("%s: %s, want %s", what, got, stats)
		}
	}
	wantStats("owner + teammate", alice, `[{"status":"done","count":1},{"status":"open","count":2}]`)
	wantStats("reading nothing", dave, `[]`)

	st, b := call(t, srv, "POST", "/notes", dave, `{"team_id": "green", "status": "open", "title": "dave's hello", "private": "d"}`)
	var created map[string]string
	if err := json.Unmarshal(want(t, 201, st, b), &created); err != nil {
		t.Fatal(err)
	}
	wantStats("an owner in no team", dave, `[{"status":"open","count":1}]`)

	if _, err := a.system("custom_data").InsertOne(context.Background(), bson.D{
		{Key: "userId", Value: s.users["dave@example.com"]}, {Key: "teamIds", Value: bson.A{"blue"}},
	}); err != nil {
		t.Fatal(err)
	}
	st, b = call(t, srv, "POST", "/refresh", "", `{"refresh_token": "`+refresh+`"}`)
	var m map[string]string
	if err := json.Unmarshal(want(t, 200, st, b), &m); err != nil {
		t.Fatal(err)
	}
	dave = m["access_token"]
	wantStats("dave, owner + teammate of team blue", dave, `[{"status":"done","count":1},{"status":"open","count":1}]`)
	st, b = call(t, srv, "DELETE", "/notes/"+created["id"], dave, "")
	want(t, 204, st, b)
	wantStats("dave, a teammate alone", dave, `[{"status":"done","count":1}]`)
}

// TestStranger: dave has no custom data document, so no role but owner
// can apply to him and he owns nothing: he reads nothing, writes nothing,
// and may insert his own notes. Once the application gives him team red,
// his access token still carries the old custom data until he refreshes.
func TestStranger(t *testing.T) {
	srv, a, s := notesServer(t)
	dave, refresh := tokens(t, srv, "dave@example.com")

	st, b := call(t, srv, "GET", "/notes", dave, "")
	wantTitles(t, "a stranger's notes", decodeNotes(t, want(t, 200, st, b)))
	st, b = call(t, srv, "GET", path(s.notes["alice-red"]), dave, "")
	want(t, 404, st, b)
	st, b = call(t, srv, "DELETE", path(s.notes["alice-red"]), dave, "")
	want(t, 404, st, b)
	st, b = call(t, srv, "POST", "/notes", dave, `{"team_id": "red", "status": "open", "title": "dave's hello", "private": "d"}`)
	want(t, 201, st, b)

	if _, err := a.system("custom_data").InsertOne(context.Background(), bson.D{
		{Key: "userId", Value: s.users["dave@example.com"]}, {Key: "teamIds", Value: bson.A{"red"}},
	}); err != nil {
		t.Fatal(err)
	}
	st, b = call(t, srv, "GET", "/notes?sort=title", dave, "")
	wantTitles(t, "before refresh", decodeNotes(t, want(t, 200, st, b)), "dave's hello +private")

	st, b = call(t, srv, "POST", "/refresh", "", `{"refresh_token": "`+refresh+`"}`)
	var m map[string]string
	if err := json.Unmarshal(want(t, 200, st, b), &m); err != nil {
		t.Fatal(err)
	}
	st, b = call(t, srv, "GET", "/notes?sort=title", m["access_token"], "")
	wantTitles(t, "after refresh", decodeNotes(t, want(t, 200, st, b)),
		"alice's red plan", "bob's red draft", "dave's hello +private")
}

// TestAuthErrors: every refused token is a 401 (token.ErrInvalid), as are
// a wrong password and an unknown refresh token; malformed requests are
// 400s.
func TestAuthErrors(t *testing.T) {
	srv, _, _ := notesServer(t)
	alice, refresh := tokens(t, srv, "alice@example.com")

	for _, c := range []struct{ name, method, path, tok, body string }{
		{"no token", "GET", "/notes", "", ""},
		{"garbage token", "GET", "/notes", "not.a.token", ""},
		{"tampered token", "GET", "/notes", alice[:len(alice)-2] + "xx", ""},
		{"refresh token as access token", "GET", "/notes", refresh, ""},
		{"wrong password", "POST", "/login", "", `{"email": "alice@example.com", "password": "wrong-password"}`},
		{"unknown email", "POST", "/login", "", `{"email": "nobody@example.com", "password": "` + demoPassword + `"}`},
		{"access token as refresh token", "POST", "/refresh", "", `{"refresh_token": "` + alice + `"}`},
	} {
		if st, b := call(t, srv, c.method, c.path, c.tok, c.body); st != http.StatusUnauthorized {
			t.Errorf("%s: status %d, want 401: %s", c.name, st, b)
		}
	}
	for _, c := range []struct{ name, method, path, body string }{
		{"bad id", "GET", "/notes/xyz", ""},
		{"bad sort", "GET", "/notes?sort=a.b", ""},
		{"bad limit", "GET", "/notes?limit=1000", ""},
		{"bad skip", "GET", "/notes?skip=-1", ""},
		{"not a document", "POST", "/notes", `[1]`},
		{"an _id", "POST", "/notes", `{"_id": 1}`},
	} {
		if st, b := call(t, srv, c.method, c.path, alice, c.body); st != http.StatusBadRequest {
			t.Errorf("%s: status %d, want 400: %s", c.name, st, b)
		}
	}
}

// TestWatch: GET /notes/watch streams the changes to the notes the caller
// may read, redacted. The embedded server has no change streams, so there
// the gate's Watch fails at once and the API answers 501; under
// MONGODB_URI (a replica set) bob, alice's teammate, gets the event of her
// new red note without its private field, and no event of her blue one.
func TestWatch(t *testing.T) {
	srv, _, _ := notesServer(t)
	alice, _ := tokens(t, srv, "alice@example.com")
	bob, _ := tokens(t, srv, "bob@example.com")
	if os.Getenv(rulegatetest.EnvURI) == "" {
		st, b := call(t, srv, "GET", "/notes/watch", bob, "")
		if e := decodeError(t, want(t, http.StatusNotImplemented, st, b)); !strings.Contains(e.Error, "no change streams") {
			t.Fatalf("watch on the embedded server: %+v", e)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/notes/watch", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bob)
	res, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("watch: %d", res.StatusCode)
	}
	for _, body := range []string{
		`{"team_id": "blue", "status": "open", "title": "alice's blue secret", "private": "p"}`,
		`{"team_id": "red", "status": "open", "title": "alice's red news", "private": "p"}`,
	} {
		st, b := call(t, srv, "POST", "/notes", alice, body)
		want(t, 201, st, b)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct {
			FullDocument map[string]any `json:"fullDocument"`
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.FullDocument["title"] != "alice's red news" {
			t.Fatalf("bob's first event: %s, want alice's red note", data)
		}
		if _, ok := ev.FullDocument["private"]; ok {
			t.Fatalf("bob's event carries the private field: %s", data)
		}
		return
	}
	t.Fatalf("stream ended: %v", sc.Err())
}
