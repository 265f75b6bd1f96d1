package evaluator_test

import (
	"context"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func compileRules(t *testing.T, rulesJSON string) *evaluator.Program {
	t.Helper()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rulesJSON)}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestDecisionField: a field-level denial names the first field the
// request touches that decided it; other reasons name none.
func TestDecisionField(t *testing.T) {
	const (
		owner = `{"name": "owner", "apply_when": {}, "fields": {"owner": {"read": true}, "meta": {"fields": {"lock": {"read": true}}, "additional_fields": {"read": true, "write": true}}}, "additional_fields": {"read": true, "write": true}, "insert": true, "delete": true}`
		ro    = `{"name": "ro", "apply_when": {}, "read": true, "write": false, "insert": true}`
		hide  = `"filters": [{"name": "hide", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]`
		all   = `{"name": "all", "apply_when": {}, "read": true, "write": true}`
	)
	for _, tc := range []struct {
		name, rules    string
		action         evaluator.Action
		doc, prev, upd string
		reason         evaluator.Reason
		field          string
	}{
		{"update", `{"database": "db", "collection": "coll", "roles": [` + owner + `]}`, evaluator.ActionWrite,
			"", `{"_id": 1, "owner": "a", "t": 1}`, `{"$set": {"t": 2, "owner": "b"}}`, evaluator.ReasonFieldNotWritable, "owner"},
		{"update-embedded", `{"database": "db", "collection": "coll", "roles": [` + owner + `]}`, evaluator.ActionWrite,
			"", `{"_id": 1, "meta": {"lock": 1}}`, `{"$set": {"meta.lock": 2}}`, evaluator.ReasonFieldNotWritable, "meta.lock"},
		{"documents", `{"database": "db", "collection": "coll", "roles": [` + owner + `]}`, evaluator.ActionWrite,
			`{"_id": 1, "owner": "b"}`, `{"_id": 1, "owner": "a"}`, "", evaluator.ReasonFieldNotWritable, "owner"},
		{"insert", `{"database": "db", "collection": "coll", "roles": [` + owner + `]}`, evaluator.ActionInsert,
			`{"_id": 1, "t": 1, "meta": {"x": 1, "lock": 2}}`, "", "", evaluator.ReasonFieldNotWritable, "meta.lock"},
		{"delete", `{"database": "db", "collection": "coll", "roles": [` + owner + `]}`, evaluator.ActionDelete,
			`{"_id": 1, "owner": "a"}`, "", "", evaluator.ReasonFieldNotWritable, "owner"},
		{"projection", `{"database": "db", "collection": "coll", "roles": [` + all + `], ` + hide + `}`, evaluator.ActionWrite,
			"", `{"_id": 1, "t": 1}`, `{"$set": {"t": 2, "secret": 1}}`, evaluator.ReasonFieldNotReadable, "secret"},
		{"document-level", `{"database": "db", "collection": "coll", "roles": [` + ro + `]}`, evaluator.ActionWrite,
			"", `{"_id": 1, "t": 1}`, `{"$set": {"t": 2}}`, evaluator.ReasonPermission, ""},
		{"replacement", `{"database": "db", "collection": "coll", "roles": [` + all + `], ` + hide + `}`, evaluator.ActionWrite,
			"", `{"_id": 1, "t": 1}`, `{"t": 2}`, evaluator.ReasonFieldNotWritable, ""},
		{"allowed", `{"database": "db", "collection": "coll", "roles": [` + owner + `]}`, evaluator.ActionWrite,
			"", `{"_id": 1, "owner": "a", "t": 1}`, `{"$set": {"t": 2}}`, evaluator.ReasonAllowed, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prog := compileRules(t, tc.rules)
			d := evaluator.Doc{Action: tc.action}
			if tc.doc != "" {
				d.Document = genDoc(t, tc.doc)
			}
			if tc.prev != "" {
				d.PrevDocument = genDoc(t, tc.prev)
			}
			if tc.upd != "" {
				d.Update = genDoc(t, tc.upd)
			}
			dec, err := prog.Evaluate(context.Background(), evaluator.Caller{Namespace: "db.coll"}, d)
			if err != nil {
				t.Fatal(err)
			}
			if dec.Reason != tc.reason || dec.Field != tc.field {
				t.Errorf("reason %s, field %q; want %s, field %q", dec.Reason, dec.Field, tc.reason, tc.field)
			}
		})
	}
}

// TestLeavingScope: with WithLeavingScopeDenied, a write the rules allow
// whose result the caller could not write is denied with
// ReasonLeavingScope, naming the role that allowed the write; without
// it, or when the result stays writable, the decision is unchanged.
func TestLeavingScope(t *testing.T) {
	prog := compileRules(t, `{"database": "db", "collection": "coll", "roles": [
		{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true},
		{"name": "drafts", "apply_when": {"status": "draft"}, "read": true, "write": true}]}`)
	u, err := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	if err != nil {
		t.Fatal(err)
	}
	caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: u}}
	ctx := context.Background()
	for _, tc := range []struct {
		name, prev, upd string
		role            string
		plain, denied   evaluator.Reason
	}{
		{"give away", `{"_id": 1, "owner": "u1"}`, `{"$set": {"owner": "u2"}}`, "owner", evaluator.ReasonAllowed, evaluator.ReasonLeavingScope},
		{"submit", `{"_id": 1, "status": "draft"}`, `{"$set": {"status": "submitted"}}`, "drafts", evaluator.ReasonAllowed, evaluator.ReasonLeavingScope},
		{"stays", `{"_id": 1, "owner": "u1"}`, `{"$set": {"t": 1}}`, "owner", evaluator.ReasonAllowed, evaluator.ReasonAllowed},
		{"moves to another role", `{"_id": 1, "status": "draft"}`, `{"$set": {"owner": "u1"}}`, "drafts", evaluator.ReasonAllowed, evaluator.ReasonAllowed},
		{"denied anyway", `{"_id": 1, "owner": "u2"}`, `{"$set": {"owner": "u1"}}`, "", evaluator.ReasonNoRole, evaluator.ReasonNoRole},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prev, upd := genDoc(t, tc.prev), genDoc(t, tc.upd)
			for _, d := range []evaluator.Doc{
				{Action: evaluator.ActionWrite, PrevDocument: prev, Update: upd},
				{Action: evaluator.ActionWrite, PrevDocument: prev, Document: applied(t, prev, upd)},
			} {
				plain, err := prog.Evaluate(ctx, caller, d)
				if err != nil {
					t.Fatal(err)
				}
				var tr evaluator.Trace
				got, err := prog.Evaluate(ctx, caller, d, evaluator.WithLeavingScopeDenied(), evaluator.WithTrace(&tr))
				if err != nil {
					t.Fatal(err)
				}
				if plain.Reason != tc.plain || got.Reason != tc.denied || got.Allowed != (tc.denied == evaluator.ReasonAllowed) {
					t.Errorf("without the check %s, with it %s (allowed %v); want %s, %s", plain.Reason, got.Reason, got.Allowed, tc.plain, tc.denied)
				}
				if got.Role != tc.role {
					t.Errorf("role %q, want %q", got.Role, tc.role)
				}
				if last := tr.Steps[len(tr.Steps)-1]; last.What != "decision" || last.Detail != string(got.Reason) {
					t.Errorf("the trace ends with %+v", last)
				}
			}
		})
	}
	// Other actions are not affected.
	d := evaluator.Doc{Action: evaluator.ActionInsert, Document: genDoc(t, `{"_id": 1, "owner": "u2"}`)}
	if got, _ := prog.Evaluate(ctx, caller, d, evaluator.WithLeavingScopeDenied()); got.Reason != evaluator.ReasonNoRole {
		t.Errorf("insert: %s", got.Reason)
	}
}

func applied(t *testing.T, prev, upd bson.Raw) bson.Raw {
	t.Helper()
	var m bson.M
	if err := bson.Unmarshal(prev, &m); err != nil {
		t.Fatal(err)
	}
	set, _ := upd.Lookup("$set").Document().Elements()
	for _, e := range set {
		m[e.Key()] = e.Value()
	}
	out, err := bson.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFalsePermissionIsTheReason: a role whose insert or delete permission
// is false is denied for that reason (permission-denied), not for the
// first field it may not write: the permission is what to change, and it
// depends on no document. A permission that is an expression is still
// decided after the fields, as the documentation orders them.
func TestFalsePermissionIsTheReason(t *testing.T) {
	p := compileRules(t, `{"database": "db", "collection": "coll", "roles": [
		{"name": "reader", "apply_when": {"kind": "r"}, "fields": {"secret": {"read": false, "write": false}},
		 "additional_fields": {"read": true, "write": false}, "insert": false, "delete": false},
		{"name": "maybe", "apply_when": {"kind": "m"}, "fields": {"secret": {"read": false, "write": false}},
		 "additional_fields": {"read": true, "write": false}, "insert": {"%%user.id": "u1"}, "delete": {"%%user.id": "u1"}}]}`)
	doc := func(kind string) bson.Raw {
		b, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "kind", Value: kind}, {Key: "title", Value: "t"}})
		return b
	}
	user, _ := expansion.NewUserObject([]byte(`{"id": "u1"}`))
	for _, tc := range []struct {
		kind   string
		action evaluator.Action
		want   evaluator.Reason
	}{
		{"r", evaluator.ActionInsert, evaluator.ReasonPermission},
		{"r", evaluator.ActionDelete, evaluator.ReasonPermission},
		{"m", evaluator.ActionInsert, evaluator.ReasonFieldNotWritable},
		{"m", evaluator.ActionDelete, evaluator.ReasonFieldNotWritable},
	} {
		d, err := p.Evaluate(t.Context(), evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}, evaluator.Doc{Action: tc.action, Document: doc(tc.kind)})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed || d.Reason != tc.want {
			t.Errorf("%s by %s: %v %s, want denied %s", tc.action, tc.kind, d.Allowed, d.Reason, tc.want)
		}
	}
}
