package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/rulegatetest"
)

// TestJSFunctionsDoNotReachTheAccounts: the accounts database (password
// hashes, sessions, API keys) is rulegate's own, not the app's: App
// Services kept its users outside the app's cluster, so no function, as
// the user through a default rule that opens every namespace or as
// system, reads or writes it; nor MongoDB's own namespaces through the
// rules. A function that takes the namespace from its caller is common.
func TestJSFunctionsDoNotReachTheAccounts(t *testing.T) {
	app := appWithFiles(t, map[string]string{
		"data_sources/mongodb-atlas/default_rule.json": `{"roles": [{"name": "all", "apply_when": {},
			"read": true, "write": true, "insert": true, "delete": true, "search": true}], "filters": []}`,
		"functions/config.json": `[{"name": "readAsUser", "private": false}, {"name": "readAsSystem", "private": false, "run_as_system": true},
			{"name": "writeAsSystem", "private": false, "run_as_system": true}]`,
		"functions/readAsUser.js":    `exports = function(db, coll) { return context.services.get("mongodb-atlas").db(db).collection(coll).find({}).toArray(); };`,
		"functions/readAsSystem.js":  `exports = function(db, coll) { return context.services.get("mongodb-atlas").db(db).collection(coll).find({}).toArray(); };`,
		"functions/writeAsSystem.js": `exports = function(db, coll) { return context.services.get("mongodb-atlas").db(db).collection(coll).insertOne({x: 1}); };`,
	})
	client := rulegatetest.Client(t)
	if err := client.Database("srvtest").Drop(context.Background()); err != nil {
		t.Fatal(err)
	}
	accountsDB := rulegatetest.Database(t).Name()
	e := newEnvAppOn(t, app, client, accountsDB)
	u := e.signup("mallory@example.com")
	// The functions work elsewhere.
	if r := e.do("POST", base+"/functions/call", u.access, `{"name":"readAsSystem","arguments":["srvtest","anything"]}`); r.status != http.StatusOK {
		t.Fatalf("readAsSystem elsewhere: %d %s", r.status, r.body)
	}
	for _, fn := range []string{"readAsUser", "readAsSystem", "writeAsSystem"} {
		for _, ns := range [][2]string{{accountsDB, "users"}, {accountsDB, "identities"}, {strings.ToUpper(accountsDB), "users"}, {"admin", "system.users"}, {"local", "oplog.rs"}} {
			r := e.do("POST", base+"/functions/call", u.access, `{"name":"`+fn+`","arguments":["`+ns[0]+`","`+ns[1]+`"]}`)
			if r.status == http.StatusOK || strings.Contains(string(r.body), "argon2") || strings.Contains(string(r.body), "mallory") {
				t.Errorf("%s(%s.%s): %d %s", fn, ns[0], ns[1], r.status, r.body)
			}
		}
	}
	n, err := client.Database(accountsDB).Collection("users").CountDocuments(context.Background(), map[string]any{"x": 1})
	if err != nil || n != 0 {
		t.Fatalf("a function wrote into the accounts database: %d %v", n, err)
	}
}
