package gate_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The review of issue 15's gate changes: each test is a hole the review
// tried, named after it.

const allowAllDefault = `{"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true, "insert": true, "delete": true}]}`

// TestDatabaseMappingCaseBypass: MongoDB database names are unique without
// case, so the mapped deployment database asked for in another case is the
// same data (or, on MongoDB, a database that cannot be created beside it):
// it is denied with no-rules as its own name is, under a default rule too.
func TestDatabaseMappingCaseBypass(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	fsys := rulesFS("app", ownerRules, "notes")
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(allowAllDefault)}
	g := newGate(t, db.Client(), fsys, gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if _, err := db.Collection("notes").InsertOne(ctx, bson.D{{Key: "owner", Value: "b1"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{strings.ToUpper(db.Name()), strings.ToUpper(db.Name()[:1]) + db.Name()[1:]} {
		if name == db.Name() {
			continue
		}
		direct := g.For(user(t, `{"id": "a1"}`)).Database(name).Collection("notes")
		_, err := direct.CountDocuments(ctx, bson.D{})
		wantDenied(t, err, "CountDocuments", evaluator.ActionRead, evaluator.ReasonNoRules)
		_, err = direct.DeleteMany(ctx, bson.D{})
		wantDenied(t, err, "DeleteMany", evaluator.ActionDelete, evaluator.ReasonNoRules)
	}
	if n, err := db.Collection("notes").CountDocuments(ctx, bson.D{}); err != nil || n != 1 {
		t.Errorf("the deployment holds %d, %v; want bob's note kept", n, err)
	}
}

// TestDatabaseMappingReservedRefused: a rules database mapped onto one of
// MongoDB's own (admin, local, config, in any case) would let a default
// rule, or a rule written for an app's data, reach the oplog or the users'
// credentials: New refuses it, as rules.Reserved keeps default rules out.
// A mapping onto two names differing only in case, and onto a case variant
// of another rules database, are refused like the same name.
func TestDatabaseMappingReservedRefused(t *testing.T) {
	t.Parallel()
	client := rulegatetest.Client(t)
	fsys := rulesFS("app", ownerRules, "notes")
	for k, v := range rulesFS("other", ownerRules, "notes") {
		fsys[k] = v
	}
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(allowAllDefault)}
	prog := newGate(t, client, fsys).Program()
	for _, tc := range []struct {
		m    map[string]string
		want string
	}{
		{map[string]string{"app": "local"}, `"local" is reserved`},
		{map[string]string{"app": "Admin"}, `"Admin" is reserved`},
		{map[string]string{"x": "CONFIG"}, `"CONFIG" is reserved`},
		{map[string]string{"app": "t", "other": "T"}, `"app" and "other" both map to "T"`},
		{map[string]string{"app": "Other"}, `"Other" has rules of its own`},
	} {
		_, err := gate.New(client, prog, gate.WithDatabaseMapping(tc.m))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New with %v: %v, want an error saying %s", tc.m, err, tc.want)
		}
	}
}

// TestDeleteHiddenFieldPresence: a delete needs every field of the
// document writable, and a field the caller cannot read is never
// writable. Deleting a document the caller reads was denied when the
// document held a hidden field (field-not-writable) and answered a silent
// zero when it held none (the rule delete filter excludes every document
// of a role that does not write all fields): the answer told whether the
// document holds a field the caller may not see. Both now answer the
// denial; with rules no filter expresses, both too; and so for a field
// the role may read but not write that a filter's projection withholds.
func TestDeleteHiddenFieldPresence(t *testing.T) {
	ctx := context.Background()
	const (
		fieldsRW = `"fields": {"secret": {"read": false, "write": false}}, "additional_fields": {"read": true, "write": true}, "insert": true, "delete": true}]`
		exact    = `"roles": [{"name": "r", "apply_when": {}, ` + fieldsRW
		// t = %%root.u: no MongoDB filter compares two fields.
		notExpr = `"roles": [{"name": "r", "apply_when": {"t": "%%root.u"}, ` + fieldsRW
	)
	d := []bson.D{{{Key: "_id", Value: 1}, {Key: "t", Value: "a"}, {Key: "u", Value: "a"}, {Key: "secret", Value: "s"}}}
	twin := []bson.D{{{Key: "_id", Value: 1}, {Key: "t", Value: "a"}, {Key: "u", Value: "a"}}}
	id1 := bson.D{{Key: "_id", Value: 1}}
	// secret read-only for the role, withheld by a filter's projection.
	const projected = `"roles": [{"name": "r", "apply_when": {}, "fields": {"secret": {"read": true}}, "additional_fields": {"read": true, "write": true}, "insert": true, "delete": true}],
		"filters": [{"name": "f", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]`
	for _, rules := range []struct{ name, rules string }{{"exact", exact}, {"not-expressible", notExpr}, {"projection", projected}} {
		for _, tc := range []struct {
			op  string
			run func(c *gate.Collection) error
		}{
			{"DeleteOne", func(c *gate.Collection) error { _, err := c.DeleteOne(ctx, id1); return err }},
			{"DeleteMany", func(c *gate.Collection) error { _, err := c.DeleteMany(ctx, bson.D{}); return err }},
			{"FindOneAndDelete", func(c *gate.Collection) error { return c.FindOneAndDelete(ctx, id1).Err() }},
			{"BulkWrite", func(c *gate.Collection) error {
				_, err := c.BulkWrite(ctx, []mongo.WriteModel{mongo.NewDeleteOneModel().SetFilter(id1)})
				return err
			}},
		} {
			t.Run(rules.name+"/"+tc.op, func(t *testing.T) {
				got := onTwins(t, rules.rules, d, twin, func(c *gate.Collection) string {
					err := tc.run(c)
					var de *gate.DeniedError
					if errors.As(err, &de) {
						return fmt.Sprintf("denied %s %s role %q field %q", de.Action, de.Reason, de.Role, de.Field)
					}
					n, cerr := c.CountDocuments(ctx, bson.D{})
					return fmt.Sprint(err, " left ", n, cerr)
				})
				if want := `denied delete field-not-writable role "r" field ""`; got != want {
					t.Errorf("got %s, want %s", got, want)
				}
			})
		}
	}
}

// TestReservedNoRules: under a default rule, MongoDB's own namespaces
// (rules.Reserved: admin, local and config in any case, system.
// collections of any database) have no rules, and every read of them is
// denied with no-rules as writes are, not answered as an empty
// collection. A rules.json naming one opens it.
func TestReservedNoRules(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	fsys := rulesFS("app", ownerRules, "notes")
	for k, v := range rulesFS(db.Name(), `"roles": [{"name": "all", "apply_when": {}, "read": true}]`, "system.js") {
		fsys[k] = v
	}
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(allowAllDefault)}
	g := newGate(t, db.Client(), fsys)
	s := g.For(user(t, `{"id": "a1"}`))
	for _, ns := range [][2]string{{"LOCAL", "startup_log"}, {"Config", "x"}, {"aDmin", "system.users"}, {db.Name(), "system.views"}, {"app", "system.profile"}} {
		c := s.Database(ns[0]).Collection(ns[1])
		_, err := c.EstimatedDocumentCount(ctx)
		wantDenied(t, err, "EstimatedDocumentCount", evaluator.ActionRead, evaluator.ReasonNoRules)
		_, err = c.CountDocuments(ctx, bson.D{})
		wantDenied(t, err, "CountDocuments", evaluator.ActionRead, evaluator.ReasonNoRules)
		_, err = c.Find(ctx, bson.D{})
		wantDenied(t, err, "Find", evaluator.ActionRead, evaluator.ReasonNoRules)
		wantDenied(t, c.FindOne(ctx, bson.D{}).Err(), "FindOne", evaluator.ActionRead, evaluator.ReasonNoRules)
		wantDenied(t, c.Distinct(ctx, "x", bson.D{}).Err(), "Distinct", evaluator.ActionRead, evaluator.ReasonNoRules)
		_, err = c.Aggregate(ctx, bson.A{})
		wantDenied(t, err, "Aggregate", evaluator.ActionRead, evaluator.ReasonNoRules)
		_, err = c.DeleteMany(ctx, bson.D{})
		wantDenied(t, err, "DeleteMany", evaluator.ActionDelete, evaluator.ReasonNoRules)
	}
	if _, err := s.Database(db.Name()).Collection("system.js").CountDocuments(ctx, bson.D{}); err != nil {
		t.Errorf("a system collection with rules of its own: %v", err)
	}
}

// TestRulesDatabaseOtherCase: a rules database asked for in another case
// ("APP" for the rules' "app") is another namespace to the rules, so a
// default rule, not app's rules, would govern it, while MongoDB, whose
// database names are unique without case, holds one database of that
// name. It is denied with no-rules, mapped or not.
func TestRulesDatabaseOtherCase(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	fsys := rulesFS("app", ownerRules, "notes")
	fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: []byte(allowAllDefault)}
	for _, opts := range [][]gate.Option{nil, {gate.WithDatabaseMapping(map[string]string{"app": db.Name()})}} {
		g := newGate(t, db.Client(), fsys, opts...)
		s := g.For(user(t, `{"id": "a1"}`))
		for _, name := range []string{"APP", "App"} {
			_, err := s.Database(name).Collection("notes").Find(ctx, bson.D{})
			wantDenied(t, err, "Find", evaluator.ActionRead, evaluator.ReasonNoRules)
			_, err = s.Database(name).Collection("notes").InsertOne(ctx, bson.D{{Key: "owner", Value: "b1"}})
			wantDenied(t, err, "InsertOne", evaluator.ActionInsert, evaluator.ReasonNoRules)
		}
		if _, err := s.Database("app").Collection("notes").CountDocuments(ctx, bson.D{}); err != nil {
			t.Errorf("the rules' own name: %v", err)
		}
		if _, err := s.Database("other").Collection("notes").CountDocuments(ctx, bson.D{}); err != nil {
			t.Errorf("a database the default rule governs: %v", err)
		}
	}
}

// TestDeniedFieldIndexReading: a numeric path component of an update
// ("secret.0") is an array index where the stored value is an array and a
// field name elsewhere, so the denied path was "secret" on one document
// and "secret.0" on its twin: DeniedError.Field told the type of a value
// the caller cannot read. Such a denial names no field.
func TestDeniedFieldIndexReading(t *testing.T) {
	ctx := context.Background()
	const (
		hidden = `"roles": [{"name": "r", "apply_when": {}, "fields": {"secret": {"read": false, "write": false}},
			"additional_fields": {"read": true, "write": true}}]`
		projected = `"roles": [{"name": "r", "apply_when": {}, "read": true, "write": true}],
			"filters": [{"name": "f", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]`
	)
	arr := []bson.D{{{Key: "_id", Value: 1}, {Key: "secret", Value: bson.A{1, 2}}}}
	doc := []bson.D{{{Key: "_id", Value: 1}, {Key: "secret", Value: bson.D{{Key: "0", Value: 1}}}}}
	for _, tc := range []struct{ name, rules, want string }{
		{"field-rules", hidden, `denied write field-not-writable role "r" field ""`},
		{"projection", projected, `denied write field-not-readable role "r" field ""`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := onTwins(t, tc.rules, arr, doc, func(c *gate.Collection) string {
				_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$set", Value: bson.D{{Key: "secret.0", Value: 5}}}})
				var de *gate.DeniedError
				if errors.As(err, &de) {
					return fmt.Sprintf("denied %s %s role %q field %q", de.Action, de.Reason, de.Role, de.Field)
				}
				return fmt.Sprint(err)
			})
			if got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

// TestBulkWritePartialModel: a model that fails after writing some
// documents (UpdateMany stopped by a duplicate key on its second
// document) counts what it wrote in the BulkWrite's result, as the
// method's own result does; the result dropped it, so the caller was told
// nothing of a document changed.
func TestBulkWritePartialModel(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	ctx := context.Background()
	g := newGate(t, db.Client(), rulesFS(db.Name(), ownerRules, "notes"))
	raw := db.Collection("notes")
	if _, err := raw.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "k", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.InsertMany(ctx, []any{
		bson.D{{Key: "_id", Value: 1}, {Key: "owner", Value: "a1"}, {Key: "k", Value: 1}},
		bson.D{{Key: "_id", Value: 2}, {Key: "owner", Value: "a1"}, {Key: "k", Value: 2}},
	}); err != nil {
		t.Fatal(err)
	}
	notes := g.For(user(t, `{"id": "a1"}`)).Database(db.Name()).Collection("notes")
	res, err := notes.BulkWrite(ctx, []mongo.WriteModel{
		mongo.NewUpdateManyModel().SetFilter(bson.D{}).SetUpdate(bson.D{{Key: "$set", Value: bson.D{{Key: "k", Value: 3}}}}),
	})
	// A duplicate key on MongoDB; FerretDB answers an InternalError.
	var be *gate.BulkWriteException
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want the second document's unique-index error", err)
	}
	if n, _ := raw.CountDocuments(ctx, bson.D{{Key: "k", Value: 3}}); n != 1 {
		t.Fatalf("%d documents written, want 1 (the test assumes UpdateMany writes one by one)", n)
	}
	if res == nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
		t.Errorf("result %+v, want the document the model wrote counted", res)
	}
}

// TestDeleteFieldNamedBeforeHidden: a denied delete named the first
// unwritable field in document order, and left it out when the caller
// could not read it: a hidden field stored before the read-only owner
// made the denial name no field, its twin without it named owner. The
// denial names the first field the caller reads and may not write.
func TestDeleteFieldNamedBeforeHidden(t *testing.T) {
	ctx := context.Background()
	const author = `"roles": [{"name": "author", "apply_when": {}, "fields": {"owner": {"read": true}, "hidden": {"read": false, "write": false}},
		"additional_fields": {"read": true, "write": true}, "delete": true}]`
	d := []bson.D{{{Key: "_id", Value: 1}, {Key: "hidden", Value: "h"}, {Key: "owner", Value: "u1"}}}
	twin := []bson.D{{{Key: "_id", Value: 1}, {Key: "owner", Value: "u1"}}}
	got := onTwins(t, author, d, twin, func(c *gate.Collection) string {
		_, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}})
		var de *gate.DeniedError
		if errors.As(err, &de) {
			return fmt.Sprintf("denied %s %s role %q field %q", de.Action, de.Reason, de.Role, de.Field)
		}
		return fmt.Sprint(err)
	})
	if want := `denied delete field-not-writable role "author" field "owner"`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}
