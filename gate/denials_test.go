package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// denialRules: the author writes her drafts except owner (read-only) and
// hidden (neither read nor written); a public document is read-only
// (document-level write false); a filter's projection withholds secret.
const denialRules = `{"database": "db", "collection": "c", "roles": [
	{"name": "author", "apply_when": {"owner": "%%user.id", "status": "draft"},
	 "fields": {"owner": {"read": true}, "hidden": {"read": false, "write": false}},
	 "additional_fields": {"read": true, "write": true}, "insert": true, "delete": true},
	{"name": "reader", "apply_when": {"public": true}, "read": true, "write": false, "delete": false}],
 "filters": [{"name": "hide", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]}`

var denialDocs = []string{
	`{"_id": 1, "owner": "u1", "status": "draft", "t": 1}`,
	`{"_id": 2, "owner": "u2", "public": true, "t": 1}`,
	`{"_id": 3, "owner": "u1", "status": "draft", "hidden": "h"}`,
	`{"_id": 4, "hidden": "h", "owner": "u1", "status": "draft"}`,
}

// TestDeniedErrorSaysWhatToFix: a denial names the role that decided, the
// field of a field-level denial, and the real reason: permission-denied
// for a false document-level write, leaving-scope for a write whose
// result the caller could no longer write. A delete names a field of the
// stored document only when the caller may read it.
func TestDeniedErrorSaysWhatToFix(t *testing.T) {
	t.Parallel()
	c, _ := inlineColl(t, denialRules, denialDocs...)
	ctx := context.Background()
	set := func(k string, v any) bson.D { return bson.D{{Key: "$set", Value: bson.D{{Key: k, Value: v}}}} }
	id := func(i int) bson.D { return bson.D{{Key: "_id", Value: i}} }
	for _, tc := range []struct {
		name   string
		run    func() error
		reason evaluator.Reason
		role   string
		field  string
		text   string
	}{
		{"unwritable field", func() error { _, err := c.UpdateOne(ctx, id(1), set("owner", "u2")); return err },
			evaluator.ReasonFieldNotWritable, "author", "owner",
			`gate: db.c: UpdateOne: write denied: field-not-writable (field "owner") (role "author") (gate/denied)`},
		{"document-level write false", func() error { _, err := c.UpdateOne(ctx, id(2), set("t", 2)); return err },
			evaluator.ReasonPermission, "reader", "",
			`gate: db.c: UpdateOne: write denied: permission-denied (role "reader") (gate/denied)`},
		{"leaving scope", func() error { _, err := c.UpdateOne(ctx, id(1), set("status", "submitted")); return err },
			evaluator.ReasonLeavingScope, "author", "",
			`gate: db.c: UpdateOne: write denied: leaving-scope (role "author") (gate/denied)`},
		{"leaving scope, FindOneAndUpdate", func() error { return c.FindOneAndUpdate(ctx, id(1), set("status", "submitted")).Err() },
			evaluator.ReasonLeavingScope, "author", "", ""},
		{"withheld field", func() error { _, err := c.UpdateOne(ctx, id(1), set("secret", 1)); return err },
			evaluator.ReasonFieldNotReadable, "author", "secret", ""},
		{"insert", func() error {
			_, err := c.InsertOne(ctx, bson.D{{Key: "status", Value: "draft"}, {Key: "owner", Value: "u1"}})
			return err
		}, evaluator.ReasonFieldNotWritable, "author", "owner", ""},
		{"insert many", func() error {
			_, err := c.InsertMany(ctx, []any{bson.D{{Key: "t", Value: 1}}, bson.D{{Key: "owner", Value: "u1"}, {Key: "status", Value: "draft"}, {Key: "hidden", Value: 1}}})
			return err
		}, evaluator.ReasonNoRole, "", "", ""},
		{"delete, readable field", func() error { _, err := c.DeleteOne(ctx, id(3)); return err },
			evaluator.ReasonFieldNotWritable, "author", "owner", ""},
		// hidden, stored before owner, is not named, and does not hide
		// owner: the same denial as without it (TestDeleteFieldNamedBeforeHidden).
		{"delete, hidden field", func() error { _, err := c.DeleteOne(ctx, id(4)); return err },
			evaluator.ReasonFieldNotWritable, "author", "owner", ""},
	} {
		err := tc.run()
		var de *gate.DeniedError
		if !errors.As(err, &de) {
			t.Errorf("%s: %v, want a *DeniedError", tc.name, err)
			continue
		}
		if de.Reason != tc.reason || de.Role != tc.role || de.Field != tc.field {
			t.Errorf("%s: reason %s role %q field %q; want %s %q %q", tc.name, de.Reason, de.Role, de.Field, tc.reason, tc.role, tc.field)
		}
		if want := strings.Replace(tc.text, "db.c", c.Namespace(), 1); tc.text != "" && err.Error() != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.name, err, want)
		}
	}
}

// TestLeavingScopeAllowedKeepsReasons: under WithLeavingScopeAllowed the
// move is written, and what is denied keeps its own reason.
func TestLeavingScopeAllowedKeepsReasons(t *testing.T) {
	t.Parallel()
	c, raw := inlineCollWith(t, []gate.Option{gate.WithLeavingScopeAllowed()}, denialRules, denialDocs...)
	ctx := context.Background()
	res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "submitted"}}}})
	if err != nil || res.ModifiedCount != 1 {
		t.Fatalf("submit: %+v, %v", res, err)
	}
	if got := rawDoc(t, raw, 1); !strings.Contains(got, `"submitted"`) {
		t.Errorf("stored: %s", got)
	}
	_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 3}}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "u2"}}}})
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonFieldNotWritable)
}

// hookRecorder collects decision events.
type hookRecorder struct {
	mu     sync.Mutex
	events []gate.DecisionEvent
}

func (h *hookRecorder) hook(_ context.Context, e gate.DecisionEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.events = append(h.events, e)
}

func (h *hookRecorder) take() []gate.DecisionEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.events
	h.events = nil
	return out
}

// TestDecisionHook: the hook receives each document a read decides
// (returned or left out), each write, insert and delete, and each
// denial, with namespace, method, action, role, reason and _id.
func TestDecisionHook(t *testing.T) {
	t.Parallel()
	var h hookRecorder
	c, _ := inlineCollWith(t, []gate.Option{gate.WithDecisionHook(h.hook)}, denialRules, append(denialDocs,
		`{"_id": 5, "owner": "u9", "t": 1}`)...)
	ctx := context.Background()
	ns := c.Namespace()
	type ev struct {
		op      string
		action  evaluator.Action
		allowed bool
		role    string
		reason  evaluator.Reason
		field   string
		id      int32
	}
	check := func(what string, want []ev) {
		t.Helper()
		got := h.take()
		if len(got) != len(want) {
			t.Fatalf("%s: %d events %+v, want %d", what, len(got), got, len(want))
		}
		for i, e := range got {
			id, _ := e.ID.Int32OK()
			w := want[i]
			if e.Namespace != ns || e.Op != w.op || e.Action != w.action || e.Allowed != w.allowed || e.Role != w.role ||
				e.Reason != w.reason || e.Field != w.field || id != w.id {
				t.Errorf("%s: event %d = %+v (id %d), want %+v", what, i, e, id, w)
			}
		}
	}
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for cur.Next(ctx) {
		n++
	}
	if err := cur.Err(); err != nil || n != 4 {
		t.Fatalf("find: %d documents, %v", n, err)
	}
	// The rule filter leaves document 5 out on the server: never decided.
	check("Find", []ev{
		{"Find", evaluator.ActionRead, true, "author", evaluator.ReasonAllowed, "", 1},
		{"Find", evaluator.ActionRead, true, "reader", evaluator.ReasonAllowed, "", 2},
		{"Find", evaluator.ActionRead, true, "author", evaluator.ReasonAllowed, "", 3},
		{"Find", evaluator.ActionRead, true, "author", evaluator.ReasonAllowed, "", 4},
	})
	// Filtering by a field hidden in a document leaves it out.
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "secret", Value: bson.D{{Key: "$exists", Value: false}}}}).Err(); err == nil {
		t.Fatal("FindOne by the withheld field found a document")
	}
	check("FindOne by a withheld field", []ev{{"FindOne", evaluator.ActionRead, false, "author", evaluator.ReasonFieldNotReadable, "", 1}})
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "t", Value: 2}}}}); err != nil {
		t.Fatal(err)
	}
	check("UpdateOne", []ev{{"UpdateOne", evaluator.ActionWrite, true, "author", evaluator.ReasonAllowed, "", 1}})
	_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner", Value: "u2"}}}})
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonFieldNotWritable)
	check("UpdateOne denied", []ev{{"UpdateOne", evaluator.ActionWrite, false, "author", evaluator.ReasonFieldNotWritable, "owner", 1}})
	_, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "status", Value: "done"}}}})
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonLeavingScope)
	check("UpdateOne leaving scope", []ev{{"UpdateOne", evaluator.ActionWrite, false, "author", evaluator.ReasonLeavingScope, "", 1}})
	_, err = c.InsertOne(ctx, bson.D{{Key: "_id", Value: 7}, {Key: "t", Value: 1}})
	wantDenied(t, err, "InsertOne", evaluator.ActionInsert, evaluator.ReasonNoRole)
	check("InsertOne denied", []ev{{"InsertOne", evaluator.ActionInsert, false, "", evaluator.ReasonNoRole, "", 7}})
	_, err = c.DeleteOne(ctx, bson.D{{Key: "_id", Value: 4}})
	wantDenied(t, err, "DeleteOne", evaluator.ActionDelete, evaluator.ReasonFieldNotWritable)
	// hidden is not readable: the event names owner, the first field the
	// caller reads and may not write, as the denial does.
	check("DeleteOne denied", []ev{{"DeleteOne", evaluator.ActionDelete, false, "author", evaluator.ReasonFieldNotWritable, "owner", 4}})
}

// TestDecisionHookWritesAndDeletes: allowed inserts and deletes, one by
// one and by the server with the rule filter.
func TestDecisionHookWritesAndDeletes(t *testing.T) {
	t.Parallel()
	var h hookRecorder
	c, _ := inlineCollWith(t, []gate.Option{gate.WithDecisionHook(h.hook)}, `{"database": "db", "collection": "c", "roles": [
		{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true}]}`,
		`{"_id": 1, "owner": "u1"}`, `{"_id": 2, "owner": "u1", "k": 1}`, `{"_id": 3, "owner": "u2"}`)
	ctx := context.Background()
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}, {Key: "owner", Value: "u1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteOne(ctx, bson.D{{Key: "k", Value: 1}}); err != nil { // a client filter: decided one by one
		t.Fatal(err)
	}
	if res, err := c.DeleteMany(ctx, bson.D{}); err != nil || res.DeletedCount != 2 { // the server, with the rule filter
		t.Fatalf("DeleteMany: %+v, %v", res, err)
	}
	got := h.take()
	want := []string{"InsertOne insert owner allowed 4", "DeleteOne delete owner allowed 2", "DeleteMany delete  allowed 0"}
	if len(got) != len(want) {
		t.Fatalf("events %+v", got)
	}
	for i, e := range got {
		id, _ := e.ID.Int32OK()
		if s := fmt.Sprintf("%s %s %s %s %d", e.Op, e.Action, e.Role, e.Reason, id); s != want[i] || !e.Allowed {
			t.Errorf("event %d: %s (allowed %v), want %s", i, s, e.Allowed, want[i])
		}
	}
}

// TestDecisionHookTypeDrift: a claim of the wrong shape (teams written as a
// string where the rules want an array) denies, and the hook's event says
// why (evaluator's type-drift note), so that an operator sees the drift.
func TestDecisionHookTypeDrift(t *testing.T) {
	t.Parallel()
	var h hookRecorder
	db := rulegatetest.Database(t)
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(`{"database": "db", "collection": "c", "roles": [
			{"name": "team", "apply_when": {"team": {"$in": "%%user.custom_data.teams"}}, "read": true, "insert": true}]}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	app.DataSources[0].Collections[0].Database = db.Name()
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(db.Client(), prog, gate.WithDecisionHook(h.hook))
	if err != nil {
		t.Fatal(err)
	}
	c := g.For(user(t, `{"id": "u1", "custom_data": {"teams": "red"}}`)).Database(db.Name()).Collection("c")
	_, err = c.InsertOne(context.Background(), bson.D{{Key: "_id", Value: 1}, {Key: "team", Value: "red"}})
	if !errors.Is(err, gate.ErrDenied) {
		t.Fatalf("insert with a drifted claim: %v, want a denial", err)
	}
	evs := h.take()
	if len(evs) == 0 || len(evs[0].Notes) == 0 || evs[0].Notes[0].Code != evaluator.CodeTypeDrift {
		t.Fatalf("events %+v: want a type-drift note", evs)
	}
	if msg := evs[0].Notes[0].String(); !strings.Contains(msg, "$in expects an array, got string from %%user.custom_data.teams") || strings.Contains(msg, "red") {
		t.Errorf("note %q: want the operator, the shape and the claim, never its value", msg)
	}
}
