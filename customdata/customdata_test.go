package customdata_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
	"github.com/rulegate/rulegate/value"
)

var ctx = context.Background()

type env struct {
	db       *mongo.Database
	coll     *mongo.Collection
	cfg      *rules.CustomUserData
	store    *customdata.Store
	signer   *token.Signer
	verifier *token.Verifier
	auth     *customdata.Auth
	sessions *customdata.MemorySessions
	warnings *warnLog
}

type warnLog struct {
	mu sync.Mutex
	ws []customdata.Warning
}

func (l *warnLog) add(w customdata.Warning) { l.mu.Lock(); l.ws = append(l.ws, w); l.mu.Unlock() }
func (l *warnLog) all() []customdata.Warning {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]customdata.Warning(nil), l.ws...)
}

func newEnv(t *testing.T, cfgEdit func(*rules.CustomUserData), storeOpts []customdata.Option, authOpts ...customdata.AuthOption) *env {
	t.Helper()
	db := rulegatetest.Database(t)
	cfg := &rules.CustomUserData{
		Enabled:          true,
		MongoServiceName: "mongodb-atlas",
		DatabaseName:     db.Name(),
		CollectionName:   "users",
		UserIDField:      "userId",
		File:             "auth/custom_user_data.json",
	}
	if cfgEdit != nil {
		cfgEdit(cfg)
	}
	e := &env{db: db, coll: db.Collection("users"), cfg: cfg, warnings: &warnLog{}, sessions: customdata.NewMemorySessions()}
	var err error
	e.store, err = customdata.New(cfg, db.Client(), append([]customdata.Option{customdata.WithWarnings(e.warnings.add)}, storeOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	key, err := token.HMACKey("k1", []byte("customdata-test-secret-0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	ks, _ := token.NewKeySet(key)
	e.signer, err = token.NewSigner(ks, token.WithIssuer("rulegate-test"))
	if err != nil {
		t.Fatal(err)
	}
	e.verifier, err = token.NewVerifier(ks, token.WithIssuer("rulegate-test"))
	if err != nil {
		t.Fatal(err)
	}
	e.auth, err = customdata.NewAuth(e.store, e.signer, e.verifier, e.sessions, authOpts...)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) insert(t *testing.T, docs ...bson.D) {
	t.Helper()
	for _, d := range docs {
		if _, err := e.coll.InsertOne(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
}

// customData verifies an access token and returns %%user.custom_data.<path>.
func (e *env) customData(t *testing.T, accessToken, path string) (value.Value, bool) {
	t.Helper()
	c, err := e.verifier.Verify(accessToken)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return lookup(t, c.User(), append([]string{"custom_data"}, strings.Split(path, ".")...)...)
}

// lookup returns %%user.<segs> and whether it is present.
func lookup(t *testing.T, u expansion.User, segs ...string) (value.Value, bool) {
	t.Helper()
	v, err := u.Lookup(segs...)
	if err != nil {
		t.Fatalf("%%%%user.%s: %v", strings.Join(segs, "."), err)
	}
	return v, !v.IsMissing()
}

// str is v's string, "" for another type.
func str(v value.Value) string { s, _ := v.StringOK(); return s }

func TestLoginCarriesStoredDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	id := bson.NewObjectID()
	e.insert(t, bson.D{{Key: "_id", Value: id}, {Key: "userId", Value: "u1"}, {Key: "orgId", Value: "acme"},
		{Key: "teamIds", Value: bson.A{"t1", "t2"}}, {Key: "seats", Value: int32(5)}})

	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{Metadata: []byte(`{"email":"u1@example.com"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.HasCustomData || tok.UserID != "u1" {
		t.Fatalf("Login = %+v", tok)
	}
	c, err := e.verifier.Verify(tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := c.CustomData()
	if !ok {
		t.Fatal("no user_data claim")
	}
	want := `{"_id":{"$oid":"` + id.Hex() + `"},"userId":"u1","orgId":"acme","teamIds":["t1","t2"],"seats":{"$numberInt":"5"}}`
	if string(raw) != want {
		t.Errorf("user_data = %s\nwant        %s", raw, want)
	}
	if r, ok := e.customData(t, tok.AccessToken, "teamIds"); !ok || r.ExtJSON() != `["t1","t2"]` {
		t.Errorf("%%%%user.custom_data.teamIds = %s, %v", r, ok)
	}
	if r, ok := lookup(t, c.User(), "data", "email"); !ok || str(r) != "u1@example.com" {
		t.Errorf("%%%%user.data.email = %s, %v", r, ok)
	}
}

func TestUpdateVisibleOnlyAfterRefresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	e.insert(t, bson.D{{Key: "userId", Value: "u1"}, {Key: "role", Value: "viewer"}})
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.coll.UpdateOne(ctx, bson.D{{Key: "userId", Value: "u1"}}, bson.D{{Key: "$set", Value: bson.D{{Key: "role", Value: "admin"}}}}); err != nil {
		t.Fatal(err)
	}
	if r, _ := e.customData(t, tok.AccessToken, "role"); str(r) != "viewer" {
		t.Errorf("old token: role = %q, want the stale %q", str(r), "viewer")
	}
	fresh, err := e.auth.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := e.customData(t, fresh.AccessToken, "role"); str(r) != "admin" {
		t.Errorf("refreshed token: role = %q, want %q", str(r), "admin")
	}
	if fresh.RefreshToken != tok.RefreshToken {
		t.Error("Refresh changed the refresh token")
	}
	if r, _ := e.customData(t, tok.AccessToken, "role"); str(r) != "viewer" {
		t.Error("old token changed")
	}
}

func TestDuplicatesFirstInsertedWins(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	// String _ids in reverse order, so _id order is not insertion order.
	e.insert(t,
		bson.D{{Key: "_id", Value: "c"}, {Key: "userId", Value: "u1"}, {Key: "n", Value: "first"}},
		bson.D{{Key: "_id", Value: "b"}, {Key: "userId", Value: "u1"}, {Key: "n", Value: "second"}},
		bson.D{{Key: "_id", Value: "a"}, {Key: "userId", Value: "u1"}, {Key: "n", Value: "third"}},
	)
	d, found, err := e.store.Load(ctx, "u1")
	if err != nil || !found {
		t.Fatalf("Load = %v, %v", found, err)
	}
	if n := d.Doc.Lookup("n").StringValue(); n != "first" {
		t.Errorf("Load picked %q, want the first inserted", n)
	}
	if len(d.Warnings) != 1 || d.Warnings[0].Code != customdata.WarnDuplicate {
		t.Fatalf("Warnings = %v, want one %s", d.Warnings, customdata.WarnDuplicate)
	}
	w := d.Warnings[0]
	wantMsg := e.cfg.Namespace() + `: user "u1": 3 documents have userId "u1"; using the first inserted (_id "c"); add a unique index (EnsureIndex) (customdata/duplicate)`
	if w.String() != wantMsg {
		t.Errorf("warning:\n got %s\nwant %s", w, wantMsg)
	}
	if got := e.warnings.all(); len(got) != 1 || got[0] != w {
		t.Errorf("hook saw %v", got)
	}
	// A second lookup is consistent (the $natural fallback is cached).
	d2, _, _ := e.store.Load(ctx, "u1")
	if n := d2.Doc.Lookup("n").StringValue(); n != "first" {
		t.Errorf("second Load picked %q", n)
	}
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := e.customData(t, tok.AccessToken, "n"); str(r) != "first" {
		t.Errorf("token carries %q", str(r))
	}
}

func TestNoDocumentNoClaim(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	e.insert(t, bson.D{{Key: "userId", Value: "someone-else"}, {Key: "orgId", Value: "acme"}})
	d, found, err := e.store.Load(ctx, "u1")
	if err != nil || found || d.Doc != nil {
		t.Fatalf("Load = %v, %v, %v", d, found, err)
	}
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if tok.HasCustomData {
		t.Error("HasCustomData for a user without a document")
	}
	c, _ := e.verifier.Verify(tok.AccessToken)
	if _, ok := c.CustomData(); ok {
		t.Errorf("token has user_data: %s", c.Raw())
	}
	if _, ok := lookup(t, c.User(), "custom_data", "orgId"); ok {
		t.Error("%%user.custom_data.orgId is present")
	}
}

func TestUserIDStringOrObjectID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	oid, other := bson.NewObjectID(), bson.NewObjectID()
	e.insert(t,
		bson.D{{Key: "userId", Value: oid}, {Key: "kind", Value: "oid"}},
		bson.D{{Key: "userId", Value: oid.Hex()}, {Key: "kind", Value: "string"}},
		bson.D{{Key: "userId", Value: other}, {Key: "kind", Value: "oid only"}},
	)
	// Both forms stored: the string wins, though inserted later.
	d, found, err := e.store.Load(ctx, oid.Hex())
	if err != nil || !found || d.Doc.Lookup("kind").StringValue() != "string" {
		t.Errorf("Load(both forms) = %v, %v, %v; want the string-typed document", d.Doc, found, err)
	}
	// Only the ObjectID form stored: it matches.
	d, found, err = e.store.Load(ctx, other.Hex())
	if err != nil || !found || d.Doc.Lookup("kind").StringValue() != "oid only" {
		t.Errorf("Load(ObjectID form) = %v, %v, %v", d.Doc, found, err)
	}
	if len(d.Warnings) != 0 {
		t.Errorf("warnings: %v", d.Warnings)
	}
}

func TestSizeGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, []customdata.Option{customdata.WithMaxSize(24 << 10)})
	e.insert(t,
		bson.D{{Key: "_id", Value: "big"}, {Key: "userId", Value: "big"}, {Key: "blob", Value: strings.Repeat("x", 17<<10)}},
		bson.D{{Key: "_id", Value: "huge"}, {Key: "userId", Value: "huge"}, {Key: "blob", Value: strings.Repeat("x", 30<<10)}},
	)
	d, found, err := e.store.Load(ctx, "big")
	if err != nil || !found {
		t.Fatalf("Load(big) = %v, %v", found, err)
	}
	if len(d.Warnings) != 1 || d.Warnings[0].Code != customdata.WarnLarge {
		t.Fatalf("Warnings = %v", d.Warnings)
	}
	if !strings.Contains(d.Warnings[0].Msg, "17446 bytes") {
		t.Errorf("warning does not give the size: %s", d.Warnings[0])
	}

	_, found, err = e.store.Load(ctx, "huge")
	if !errors.Is(err, customdata.ErrTooLarge) || found {
		t.Fatalf("Load(huge) = %v, %v; want ErrTooLarge", found, err)
	}
	want := `customdata: custom user data too large: ` + e.cfg.Namespace() + `: user "huge": document is 30760 bytes as JSON, above the 24576-byte limit; it travels in every access token`
	if err.Error() != want {
		t.Errorf("error:\n got %v\nwant %s", err, want)
	}
	if _, err := e.auth.Login(ctx, "huge", customdata.LoginInfo{}); !errors.Is(err, customdata.ErrTooLarge) {
		t.Errorf("Login(huge) = %v, want ErrTooLarge", err)
	}
}

func TestEnsureIndexAndCheck(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	e.insert(t, bson.D{{Key: "userId", Value: "u1"}})
	ws, err := e.store.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Code != customdata.WarnNoUniqueIndex {
		t.Fatalf("Check before EnsureIndex = %v", ws)
	}
	if err := e.store.EnsureIndex(ctx); err != nil {
		t.Fatal(err)
	}
	if ws, err := e.store.Check(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("Check after EnsureIndex = %v, %v", ws, err)
	}
	if err := e.store.EnsureIndex(ctx); err != nil {
		t.Errorf("EnsureIndex is not idempotent: %v", err)
	}
	if _, err := e.coll.InsertOne(ctx, bson.D{{Key: "userId", Value: "u1"}}); !mongo.IsDuplicateKeyError(err) {
		t.Errorf("duplicate insert after EnsureIndex: %v", err)
	}
}

func TestEnsureIndexWithDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	e.insert(t, bson.D{{Key: "userId", Value: "u1"}}, bson.D{{Key: "userId", Value: "u1"}})
	err := e.store.EnsureIndex(ctx)
	if err == nil || !strings.Contains(err.Error(), `create unique index on "userId"`) {
		t.Fatalf("EnsureIndex with duplicates = %v", err)
	}
}

func TestCheckMissingCollection(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	ws, err := e.store.Check(ctx)
	if err != nil || len(ws) != 1 || ws[0].Code != customdata.WarnNoUniqueIndex {
		t.Fatalf("Check on a missing collection = %v, %v", ws, err)
	}
}

func TestHooks(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var created []string
	var mu sync.Mutex
	e := newEnv(t, func(c *rules.CustomUserData) { c.OnUserCreationFunctionName = "createCustomData" }, nil,
		customdata.WithUserCreationHook("createCustomData", func(ctx context.Context, ev customdata.Event) error {
			mu.Lock()
			created = append(created, ev.UserID)
			mu.Unlock()
			_, err := ev.Collection.InsertOne(ctx, bson.D{{Key: ev.UserIDField, Value: ev.UserID}, {Key: "plan", Value: "free"}, {Key: "logins", Value: int32(0)}})
			return err
		}),
		customdata.WithLoginHook(func(ctx context.Context, ev customdata.Event) error {
			_, err := ev.Collection.UpdateOne(ctx, bson.D{{Key: ev.UserIDField, Value: ev.UserID}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "lastLogin", Value: ev.Time}}}, {Key: "$inc", Value: bson.D{{Key: "logins", Value: int32(1)}}}})
			return err
		}),
		customdata.WithClock(func() time.Time { return now }),
	)
	tok, err := e.auth.Login(ctx, "new-user", customdata.LoginInfo{NewUser: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 || created[0] != "new-user" {
		t.Fatalf("creation hook ran for %v", created)
	}
	if r, _ := e.customData(t, tok.AccessToken, "plan"); str(r) != "free" {
		t.Errorf("plan = %s", r)
	}
	if r, _ := e.customData(t, tok.AccessToken, "lastLogin"); r.ExtJSON() != `{"$date":"2024-05-01T12:00:00Z"}` {
		t.Errorf("lastLogin = %s", r)
	}
	// A returning user: no creation, the login hook runs again.
	tok, err = e.auth.Login(ctx, "new-user", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 1 {
		t.Errorf("creation hook ran again: %v", created)
	}
	if r, _ := e.customData(t, tok.AccessToken, "logins"); r.ExtJSON() != "2" {
		t.Errorf("logins = %s", r)
	}
}

func TestHookErrors(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	e := newEnv(t, nil, nil, customdata.WithLoginHook(func(context.Context, customdata.Event) error { return boom }))
	if _, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{}); !errors.Is(err, boom) {
		t.Errorf("Login with a failing hook = %v", err)
	}
	if e.sessions.Len() != 0 {
		t.Error("a failed login left a session")
	}
}

func TestCreationHookMustMatchConfig(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	key, _ := token.HMACKey("k1", []byte("customdata-test-secret-0123456789abcdef"))
	ks, _ := token.NewKeySet(key)
	s, _ := token.NewSigner(ks)
	v, _ := token.NewVerifier(ks)
	hook := func(context.Context, customdata.Event) error { return nil }
	for name, tc := range map[string]struct {
		fn   string
		opts []customdata.AuthOption
		want string
	}{
		"named, no hook": {"createUser", nil, `on_user_creation_function_name is "createUser" but no WithUserCreationHook was given`},
		"hook, not named": {"", []customdata.AuthOption{customdata.WithUserCreationHook("createUser", hook)},
			`WithUserCreationHook "createUser" given, but on_user_creation_function_name is ""`},
		"wrong name": {"createUser", []customdata.AuthOption{customdata.WithUserCreationHook("other", hook)},
			`WithUserCreationHook "other" given, but on_user_creation_function_name is "createUser"`},
	} {
		cfg := &rules.CustomUserData{Enabled: true, DatabaseName: db.Name(), CollectionName: "users", UserIDField: "userId", OnUserCreationFunctionName: tc.fn}
		st, err := customdata.New(cfg, db.Client())
		if err != nil {
			t.Fatal(err)
		}
		_, err = customdata.NewAuth(st, s, v, customdata.NewMemorySessions(), tc.opts...)
		if !errors.Is(err, customdata.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	ran := false
	e := newEnv(t, func(c *rules.CustomUserData) { c.Enabled = false }, nil,
		customdata.WithLoginHook(func(context.Context, customdata.Event) error { ran = true; return nil }))
	e.insert(t, bson.D{{Key: "userId", Value: "u1"}, {Key: "orgId", Value: "acme"}})
	if e.store.Enabled() {
		t.Fatal("Enabled")
	}
	if _, found, err := e.store.Load(ctx, "u1"); found || err != nil {
		t.Fatalf("Load = %v, %v", found, err)
	}
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.verifier.Verify(tok.AccessToken)
	if _, ok := c.CustomData(); ok || ran {
		t.Errorf("disabled config: user_data present %v, hook ran %v", ok, ran)
	}
	// No client needed when disabled.
	if _, err := customdata.New(&rules.CustomUserData{}, nil); err != nil {
		t.Errorf("New(disabled, nil client) = %v", err)
	}
}

func TestRefreshAndLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	tok, err := e.auth.Login(ctx, "u1", customdata.LoginInfo{Type: "server", Identities: []token.Identity{{ID: "key-1", ProviderType: "api-key"}}})
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := e.auth.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := e.verifier.Verify(fresh.AccessToken)
	if r, _ := lookup(t, c.User(), "type"); str(r) != "server" {
		t.Errorf("refreshed token lost the user type: %s", c.Raw())
	}
	if r, _ := lookup(t, c.User(), "identities", "0", "provider_type"); str(r) != "api-key" {
		t.Errorf("refreshed token lost the identities: %s", c.Raw())
	}
	if _, err := e.auth.Refresh(ctx, tok.AccessToken); !errors.Is(err, token.ErrTokenType) {
		t.Errorf("Refresh(access token) = %v, want token.ErrTokenType", err)
	}
	if err := e.auth.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.Refresh(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("Refresh after Logout = %v, want ErrSession", err)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg  rules.CustomUserData
		want string
	}{
		{rules.CustomUserData{Enabled: true, File: "auth/custom_user_data.json"},
			"customdata: invalid configuration: auth/custom_user_data.json: database_name is empty; collection_name is empty; user_id_field is empty"},
		{rules.CustomUserData{Enabled: true, DatabaseName: "a.b", CollectionName: "system.users", UserIDField: "$id"},
			`customdata: invalid configuration: custom_user_data.json: database_name "a.b" holds a character MongoDB forbids; collection_name "system.users" is not a usable collection; user_id_field "$id" must not start with $`},
	} {
		_, err := customdata.New(&tc.cfg, nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) =\n %v\nwant\n %s", tc.cfg, err, tc.want)
		}
	}
	if _, err := customdata.New(&rules.CustomUserData{Enabled: true, DatabaseName: "d", CollectionName: "c", UserIDField: "u"}, nil); !errors.Is(err, customdata.ErrConfig) {
		t.Errorf("nil client: %v", err)
	}
}

func TestSessionUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil, nil)
	tok, err := e.auth.Login(ctx, "u7", customdata.LoginInfo{})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := e.auth.SessionUser(ctx, tok.RefreshToken); err != nil || id != "u7" {
		t.Fatalf("SessionUser = %q, %v; want u7", id, err)
	}
	if _, err := e.auth.SessionUser(ctx, tok.AccessToken); !errors.Is(err, token.ErrTokenType) {
		t.Errorf("SessionUser(access token) = %v, want token.ErrTokenType", err)
	}
	if err := e.auth.Logout(ctx, tok.RefreshToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.SessionUser(ctx, tok.RefreshToken); !errors.Is(err, customdata.ErrSession) {
		t.Errorf("SessionUser after Logout = %v, want ErrSession", err)
	}
}

// TestDatabaseMapping: the configuration names the rules' database ("app");
// WithDatabaseMapping reads the documents from the deployment's, as
// gate.WithDatabaseMapping maps the gate's, so that a test (or a staging
// deployment) keeps the export as it is.
func TestDatabaseMapping(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	cfg := &rules.CustomUserData{Enabled: true, MongoServiceName: "mongodb-atlas", DatabaseName: "app", CollectionName: "users", UserIDField: "userId"}
	if _, err := db.Collection("users").InsertOne(ctx, bson.D{{Key: "userId", Value: "u1"}, {Key: "color", Value: "pink"}}); err != nil {
		t.Fatal(err)
	}
	store, err := customdata.New(cfg, db.Client(), customdata.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if err != nil {
		t.Fatal(err)
	}
	if got := store.Collection().Database().Name(); got != db.Name() {
		t.Fatalf("collection in %q, want %q", got, db.Name())
	}
	d, found, err := store.Load(ctx, "u1")
	if err != nil || !found || !strings.Contains(string(d.JSON), `"color":"pink"`) {
		t.Fatalf("Load = %s, %v, %v", d.JSON, found, err)
	}
	if cfg.DatabaseName != "app" || store.Config().DatabaseName != "app" {
		t.Errorf("the configuration changed: %q, %q", cfg.DatabaseName, store.Config().DatabaseName)
	}
	unmapped, err := customdata.New(cfg, db.Client(), customdata.WithDatabaseMapping(map[string]string{"other": db.Name()}))
	if err != nil {
		t.Fatal(err)
	}
	if got := unmapped.Collection().Database().Name(); got != "app" {
		t.Errorf("a mapping of another database moved the collection to %q", got)
	}
}
