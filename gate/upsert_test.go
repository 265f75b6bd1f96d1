package gate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func set(kv ...any) bson.D {
	var d bson.D
	for i := 0; i < len(kv); i += 2 {
		d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
	}
	return bson.D{{Key: "$set", Value: d}}
}

// upserted is an UpdateResult as text, without the UpsertedID when it is
// a new ObjectID (it differs from run to run).
func upserted(res *mongo.UpdateResult, err error) string {
	if err != nil {
		return niErrCode(err)
	}
	id := res.UpsertedID
	if _, ok := id.(bson.ObjectID); ok {
		id = "new"
	}
	return fmt.Sprintf("matched %d modified %d upserted %d id %v", res.MatchedCount, res.ModifiedCount, res.UpsertedCount, id)
}

// TestUpsertUpdateOne: an upsert that matches a document in the caller's
// write scope is the update of that document, decided as UpdateOne
// decides it; one that matches none inserts the document MongoDB would
// create (the filter's equality fields, then the update with
// $setOnInsert), decided as InsertOne decides it.
func TestUpsertUpdateOne(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	up := options.UpdateOne().SetUpsert(true)
	id := func(i int) bson.D { return bson.D{{Key: "_id", Value: i}} }

	// Matching: an update, nothing inserted.
	if got := upserted(e.as("alice").UpdateOne(ctx, id(1), set("title", "renamed"), up)); got != "matched 1 modified 1 upserted 0 id <nil>" {
		t.Errorf("alice upserts her own note: %s", got)
	}
	// Matching a visible document the caller may not write: denied as
	// the update is, nothing inserted.
	_, err := e.as("alice").UpdateOne(ctx, id(2), set("title", "mine"), up)
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, "")
	if n, _ := e.raw.CountDocuments(ctx, bson.D{}); n != 3 {
		t.Errorf("%d documents after a denied upsert, want 3", n)
	}

	// Matching nothing: an insert of the equality fields of the filter
	// ($eq and $and included, comparisons left out) and the update;
	// $setOnInsert applies.
	filter := bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "owner_id", Value: bson.D{{Key: "$eq", Value: "a1"}}}}, bson.D{{Key: "title", Value: "fresh"}}}},
		{Key: "count", Value: bson.D{{Key: "$gt", Value: 5}}}}
	upd := bson.D{{Key: "$set", Value: bson.D{{Key: "team", Value: "red"}}}, {Key: "$setOnInsert", Value: bson.D{{Key: "meta.by", Value: "upsert"}}}}
	res, err := e.as("alice").UpdateOne(ctx, filter, upd, up)
	if got := upserted(res, err); got != "matched 0 modified 0 upserted 1 id new" {
		t.Fatalf("alice upserts a new note: %s", got)
	}
	var stored bson.D
	if err := e.raw.FindOne(ctx, bson.D{{Key: "_id", Value: res.UpsertedID}}).Decode(&stored); err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(stored[1:]), `{"owner_id":"a1","title":"fresh","meta":{"by":"upsert"},"team":"red"}`; got != want || stored[0].Key != "_id" {
		t.Errorf("inserted %v, want _id then %s", stored, want)
	}
	// The same upsert again matches the inserted note: an update,
	// $setOnInsert ignored.
	if got := upserted(e.as("alice").UpdateOne(ctx, bson.D{{Key: "title", Value: "fresh"}}, set("count", 1), up)); got != "matched 1 modified 1 upserted 0 id <nil>" {
		t.Errorf("upsert of the note just inserted: %s", got)
	}
	// UpdateByID: the filter's _id is the new document's.
	if got := upserted(e.as("alice").UpdateByID(ctx, 20, set("owner_id", "a1"), up)); got != "matched 0 modified 0 upserted 1 id 20" {
		t.Errorf("UpdateByID upsert: %s", got)
	}
	if d := e.doc(20); d["owner_id"] != "a1" {
		t.Errorf("document 20: %v", d)
	}

	// The document to insert is decided with Evaluate(insert): a
	// teammate's role may never insert (permission-denied, the real
	// reason, before its field rules); dave has no role for an owner_id
	// of a1's (no-role).
	_, err = e.as("bob").UpdateOne(ctx, bson.D{{Key: "_id", Value: 30}, {Key: "team", Value: "red"}}, set("count", 1), up)
	wantDenied(t, err, "UpdateOne", evaluator.ActionInsert, evaluator.ReasonPermission)
	_, err = e.as("dave").UpdateOne(ctx, bson.D{{Key: "owner_id", Value: "a1"}}, set("title", "x"), up)
	wantDenied(t, err, "UpdateOne", evaluator.ActionInsert, evaluator.ReasonNoRole)
	if e.doc(30) != nil {
		t.Errorf("a denied upsert inserted: %v", e.doc(30))
	}

	// carol's note 3 is invisible to alice: the upsert inserts, and the
	// insert collides with the _id as InsertOne of that document would
	// (the key withheld); with carol's owner_id, alice may not insert.
	_, err = e.as("alice").UpdateOne(ctx, id(3), set("owner_id", "a1"), up)
	if !mongo.IsDuplicateKeyError(err) {
		t.Errorf("alice upserts carol's invisible _id: %v, want a duplicate key error", err)
	}
	_, err = e.as("alice").UpdateOne(ctx, bson.D{{Key: "_id", Value: 3}, {Key: "owner_id", Value: "c1"}}, set("title", "x"), up)
	wantDenied(t, err, "UpdateOne", evaluator.ActionInsert, "")
	if d := e.doc(3); d["title"] != "carol's plan" || d["owner_id"] != "c1" {
		t.Errorf("carol's note changed: %v", d)
	}

	// Refused as before: operator-less updates, and filters MongoDB
	// cannot seed a document from.
	_, err = e.as("alice").UpdateOne(ctx, id(1), bson.D{{Key: "title", Value: "replacement"}}, up)
	wantRefused(t, err, gate.CodeInvalid)
	_, err = e.as("alice").UpdateOne(ctx, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "meta", Value: 1}, {Key: "meta.x", Value: 2}}, set("title", "x"), up)
	wantRefused(t, err, gate.CodeInvalid)
	_, err = e.as("alice").UpdateOne(ctx, bson.D{{Key: "_id", Value: 40}}, bson.D{{Key: "$setOnInsert", Value: bson.D{{Key: "_id", Value: 41}}}}, up)
	wantRefused(t, err, gate.CodeInvalid)
}

// TestUpsertReplaceAndMany: ReplaceOne inserts the replacement (with the
// filter's _id), UpdateMany inserts one document when nothing matches.
func TestUpsertReplaceAndMany(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	repl := bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "r"}}
	rup := options.Replace().SetUpsert(true)
	if got := upserted(e.as("alice").ReplaceOne(ctx, bson.D{{Key: "_id", Value: 50}, {Key: "title", Value: "ignored"}}, repl, rup)); got != "matched 0 modified 0 upserted 1 id 50" {
		t.Errorf("ReplaceOne upsert: %s", got)
	}
	if d := e.doc(50); d["title"] != "r" || len(d) != 3 {
		t.Errorf("replacement inserted as %v, want the replacement with _id 50 only", d)
	}
	if got := upserted(e.as("alice").ReplaceOne(ctx, bson.D{{Key: "_id", Value: 50}}, repl[:1], rup)); got != "matched 1 modified 1 upserted 0 id <nil>" {
		t.Errorf("ReplaceOne upsert of an existing note: %s", got)
	}
	_, err := e.as("alice").ReplaceOne(ctx, bson.D{{Key: "_id", Value: 51}}, append(bson.D{{Key: "_id", Value: 52}}, repl...), rup)
	wantRefused(t, err, gate.CodeInvalid)
	_, err = e.as("bob").ReplaceOne(ctx, bson.D{{Key: "_id", Value: 53}}, bson.D{{Key: "team", Value: "red"}}, rup)
	wantDenied(t, err, "ReplaceOne", evaluator.ActionInsert, "")

	mup := options.UpdateMany().SetUpsert(true)
	if got := upserted(e.as("alice").UpdateMany(ctx, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "many"}}, set("count", 7), mup)); got != "matched 0 modified 0 upserted 1 id new" {
		t.Errorf("UpdateMany upsert: %s", got)
	}
	if got := upserted(e.as("alice").UpdateMany(ctx, bson.D{{Key: "team", Value: "red"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}}, mup)); got != "matched 2 modified 2 upserted 0 id <nil>" {
		t.Errorf("UpdateMany upsert matching: %s", got)
	}
	_, err = e.as("bob").UpdateMany(ctx, bson.D{{Key: "team", Value: "blue"}}, set("count", 1), mup)
	wantDenied(t, err, "UpdateMany", evaluator.ActionInsert, "")
}

// TestUpsertInsertRules: the inserted document is decided by the insert
// rules: a role's apply_when, document_filters.write, field-level write
// permissions and the collection's schema.
func TestUpsertInsertRules(t *testing.T) {
	t.Parallel()
	db := rulegatetest.Database(t)
	fsys := rulesFS(db.Name(), `"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"},
		"document_filters": {"write": {"state": {"$ne": "locked"}}},
		"fields": {"audit": {"read": true, "write": false}},
		"additional_fields": {"read": true, "write": true}, "insert": true}]`, "items")
	fsys["data_sources/mongodb-atlas/"+db.Name()+"/items/schema.json"] = &fstest.MapFile{Data: []byte(`{
  "bsonType": "object",
  "required": ["owner"],
  "properties": {"owner": {"bsonType": "string"}, "n": {"bsonType": "int"}}
}`)}
	g := newGate(t, db.Client(), fsys)
	items := g.For(user(t, `{"id": "u1", "type": "normal"}`)).Database(db.Name()).Collection("items")
	ctx := context.Background()
	up := options.UpdateOne().SetUpsert(true)
	for _, tc := range []struct {
		name           string
		filter, update bson.D
		want           string
	}{
		{"allowed", bson.D{{Key: "owner", Value: "u1"}, {Key: "k", Value: 1}}, set("n", int32(1)), "matched 0 modified 0 upserted 1 id new"},
		{"apply_when", bson.D{{Key: "owner", Value: "u2"}}, set("n", int32(1)), "denied insert no-role"},
		{"document_filters", bson.D{{Key: "owner", Value: "u1"}, {Key: "state", Value: "locked"}}, set("n", int32(1)), "denied insert document-filter"},
		{"field", bson.D{{Key: "owner", Value: "u1"}, {Key: "k", Value: 3}}, set("audit", "x"), "denied insert field-not-writable"},
		{"schema", bson.D{{Key: "owner", Value: "u1"}, {Key: "k", Value: 2}}, set("n", "one"), "denied insert schema"},
	} {
		got := upserted(items.UpdateOne(ctx, tc.filter, tc.update, up))
		if got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	if n, _ := db.Collection("items").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("%d documents stored, want the allowed one only", n)
	}
}

// TestUpsertIgnoresHiddenDocuments: an upsert whose filter matches a
// document the caller cannot read, or matches it only through a field
// hidden from the caller, answers as if that document did not match: it
// inserts the computed document, or is denied or collides exactly as
// InsertOne of that document would. The answers (the result, the error,
// the caller's view afterwards) do not depend on the hidden values.
func TestUpsertIgnoresHiddenDocuments(t *testing.T) {
	ctx := context.Background()
	const (
		owner  = `"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true}]`
		hideS  = `"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true, "insert": true}], "filters": [{"name": "f", "apply_when": {}, "query": {}, "projection": {"secret": 0}}]`
		queryF = `"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true, "insert": true}], "filters": [{"name": "f", "apply_when": {}, "query": {"owner": "%%user.id"}}]`
	)
	doc := func(id any, kv ...any) bson.D {
		d := bson.D{{Key: "_id", Value: id}}
		for i := 0; i < len(kv); i += 2 {
			d = append(d, bson.E{Key: kv[i].(string), Value: kv[i+1]})
		}
		return d
	}
	updateOne := func(filter, u bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			return upserted(c.UpdateOne(ctx, filter, u, options.UpdateOne().SetUpsert(true))) + " | after: " + viewNoNewIDs(t, ctx, c)
		}
	}
	replaceOne := func(filter, r bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			return upserted(c.ReplaceOne(ctx, filter, r, options.Replace().SetUpsert(true))) + " | after: " + viewNoNewIDs(t, ctx, c)
		}
	}
	findOneAndUpdate := func(filter, u bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			var got bson.D
			err := c.FindOneAndUpdate(ctx, filter, u, options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&got)
			if err != nil {
				return niErrCode(err) + " | after: " + viewNoNewIDs(t, ctx, c)
			}
			return fmt.Sprint(dropNewID(got)) + " | after: " + viewNoNewIDs(t, ctx, c)
		}
	}
	findOneAndReplace := func(filter, r bson.D) func(c *gate.Collection) string {
		return func(c *gate.Collection) string {
			var got bson.D
			err := c.FindOneAndReplace(ctx, filter, r, options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.After)).Decode(&got)
			if err != nil {
				return niErrCode(err) + " | after: " + viewNoNewIDs(t, ctx, c)
			}
			return fmt.Sprint(dropNewID(got)) + " | after: " + viewNoNewIDs(t, ctx, c)
		}
	}
	for _, tc := range []struct {
		name, rules string
		d, twin     []bson.D
		run         func(c *gate.Collection) string
		want        string
	}{
		// Another user's document, invisible: on D it matches the
		// filter, on D' it does not. Both insert.
		{"invisible-match", owner, []bson.D{doc(1, "owner", "u2", "k", "s")}, []bson.D{doc(1, "owner", "u2", "k", "t")},
			updateOne(bson.D{{Key: "k", Value: "s"}}, set("owner", "u1")),
			`matched 0 modified 0 upserted 1 id new | after: [{"_id":"new","k":"s","owner":"u1"}]`},
		// The same, with the invisible document's _id in the filter: the
		// insert collides on _id, as InsertOne of {_id: 1, ...} does,
		// whether or not the rest of the filter matches it.
		{"invisible-id", owner, []bson.D{doc(1, "owner", "u2", "k", "s")}, []bson.D{doc(1, "owner", "u2", "k", "t")},
			updateOne(bson.D{{Key: "_id", Value: 1}, {Key: "k", Value: "s"}}, set("owner", "u1")),
			"write exception: write errors: [E11000 duplicate key error (the gate withholds the key: it may hold values the caller cannot read)] | after: []"},
		// The caller may not insert the computed document: denied
		// whether or not an invisible document matches.
		{"invisible-insert-denied", owner, []bson.D{doc(1, "owner", "u2", "k", "s")}, []bson.D{doc(1, "owner", "u2", "k", "t")},
			updateOne(bson.D{{Key: "owner", Value: "u2"}, {Key: "k", Value: "s"}}, set("n", 1)),
			"denied insert no-role | after: []"},
		// A document left out by a filter's query is invisible too.
		{"filtered-out-match", queryF, []bson.D{doc(1, "owner", "u2", "k", "s")}, []bson.D{doc(1, "owner", "u2", "k", "t")},
			replaceOne(bson.D{{Key: "k", Value: "s"}}, bson.D{{Key: "owner", Value: "u1"}}),
			`matched 0 modified 0 upserted 1 id new | after: [{"_id":"new","owner":"u1"}]`},
		// A visible document whose secret the projection hides: the
		// filter reads secret, so it matches nothing, right guess or
		// wrong, and the upsert inserts.
		{"hidden-field-match", hideS, []bson.D{doc(1, "owner", "u1", "secret", "s")}, []bson.D{doc(1, "owner", "u1", "secret", "t")},
			updateOne(bson.D{{Key: "owner", Value: "u1"}, {Key: "secret", Value: "s"}}, set("n", 1)),
			`matched 0 modified 0 upserted 1 id new | after: [{"_id":{"$numberInt":"1"},"owner":"u1"} {"_id":"new","owner":"u1","n":{"$numberInt":"1"}}]`},
		{"hidden-field-findoneandupdate", hideS, []bson.D{doc(1, "owner", "u1", "secret", "s")}, []bson.D{doc(1, "owner", "u1", "secret", "t")},
			findOneAndUpdate(bson.D{{Key: "owner", Value: "u1"}, {Key: "secret", Value: "s"}}, set("n", 1)),
			`{"_id":"new","owner":"u1","n":{"$numberInt":"1"}} | after: [{"_id":{"$numberInt":"1"},"owner":"u1"} {"_id":"new","owner":"u1","n":{"$numberInt":"1"}}]`},
		{"invisible-findoneandreplace", owner, []bson.D{doc(1, "owner", "u2", "k", "s")}, []bson.D{doc(1, "owner", "u2", "k", "t")},
			findOneAndReplace(bson.D{{Key: "k", Value: "s"}}, bson.D{{Key: "owner", Value: "u1"}, {Key: "k", Value: "s"}}),
			`{"_id":"new","owner":"u1","k":"s"} | after: [{"_id":"new","owner":"u1","k":"s"}]`},
		{"invisible-findoneandreplace-id", owner, []bson.D{doc(1, "owner", "u2", "k", "s")}, []bson.D{doc(1, "owner", "u2", "k", "t")},
			findOneAndReplace(bson.D{{Key: "_id", Value: 1}, {Key: "k", Value: "s"}}, bson.D{{Key: "owner", Value: "u1"}}),
			"write exception: write errors: [E11000 duplicate key error (the gate withholds the key: it may hold values the caller cannot read)] | after: []"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := onTwins(t, tc.rules, tc.d, tc.twin, tc.run); got != tc.want {
				t.Errorf("on D: %s\nwant      %s", got, tc.want)
			}
		})
	}
}

// dropNewID replaces a new ObjectID _id with "new".
func dropNewID(d bson.D) bson.D {
	out := append(bson.D(nil), d...)
	for i, e := range out {
		if _, ok := e.Value.(bson.ObjectID); ok && e.Key == "_id" {
			out[i].Value = "new"
		}
	}
	return out
}

// viewNoNewIDs is viewOf with new ObjectIDs as "new".
func viewNoNewIDs(t *testing.T, ctx context.Context, c *gate.Collection) string {
	t.Helper()
	cur, err := c.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return niErrCode(err)
	}
	var docs []bson.D
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		docs[i] = dropNewID(docs[i])
	}
	return fmt.Sprint(docs)
}

// TestFindOneAndReplace: the replacement is decided as ReplaceOne decides
// it; the document returned (before or after) is redacted as
// FindOneAndUpdate redacts it, then the projection applies; a sort picks
// among the documents the caller may read.
func TestFindOneAndReplace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := func(i int) bson.D { return bson.D{{Key: "_id", Value: i}} }
	repl := bson.D{{Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "replaced"}}

	var before bson.M
	if err := e.as("alice").FindOneAndReplace(ctx, id(1), repl).Decode(&before); err != nil {
		t.Fatal(err)
	}
	if before["title"] != "alice's plan" || before["secret"] != "a-secret" {
		t.Errorf("pre-image: %v", before)
	}
	if d := e.doc(1); d["title"] != "replaced" || d["secret"] != nil {
		t.Errorf("stored: %v", d)
	}
	var after bson.D
	opts := options.FindOneAndReplace().SetReturnDocument(options.After).SetProjection(bson.D{{Key: "title", Value: 1}})
	if err := e.as("alice").FindOneAndReplace(ctx, id(1), append(repl[:2:2], bson.E{Key: "title", Value: "again"}), opts).Decode(&after); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(after); got != `{"_id":{"$numberInt":"1"},"title":"again"}` {
		t.Errorf("post-image with projection: %s", got)
	}
	// Denied: handing the note to carol, a teammate's replacement, the
	// replacement document with operators.
	err := e.as("alice").FindOneAndReplace(ctx, id(1), bson.D{{Key: "owner_id", Value: "c1"}}).Err()
	wantDenied(t, err, "FindOneAndReplace", evaluator.ActionWrite, "")
	err = e.as("bob").FindOneAndReplace(ctx, id(1), repl).Err()
	wantDenied(t, err, "FindOneAndReplace", evaluator.ActionWrite, "")
	err = e.as("alice").FindOneAndReplace(ctx, id(1), set("title", "x")).Err()
	wantRefused(t, err, gate.CodeInvalid)
	// Invisible or absent: no document.
	if err := e.as("carol").FindOneAndReplace(ctx, id(1), repl).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Errorf("carol replaces alice's invisible note: %v, want mongo.ErrNoDocuments", err)
	}
	if d := e.doc(1); d["title"] != "again" || d["owner_id"] != "a1" {
		t.Errorf("after denied replacements: %v", d)
	}

	// Redaction: an owner's document replaced by its owner is returned
	// whole; bob reading a teammate's document gets the teammate fields.
	// Give alice a second red note and let carol's role in blue decide.
	if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 4}, {Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "a"}, {Key: "secret", Value: "s4"}}); err != nil {
		t.Fatal(err)
	}
	// The sort picks the first of alice's notes by title descending.
	var picked bson.M
	sorted := options.FindOneAndReplace().SetSort(bson.D{{Key: "title", Value: -1}})
	if err := e.as("alice").FindOneAndReplace(ctx, bson.D{{Key: "owner_id", Value: "a1"}}, bson.D{{Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "b"}}, sorted).Decode(&picked); err != nil {
		t.Fatal(err)
	}
	if picked["_id"] != int32(1) {
		t.Errorf("sort picked %v, want 1 (title again > a)", picked)
	}
	// The document returned is redacted by the role decided on it: with
	// WithLeavingScopeAllowed, u1 hands a document over to u2, and the
	// post-image's role ("other") reads title only.
	c, _ := inlineCollWith(t, []gate.Option{gate.WithLeavingScopeAllowed()}, `{"database": "db", "collection": "c",
		"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true},
			{"name": "other", "apply_when": {}, "fields": {"title": {"read": true}}}]}`,
		`{"_id": 1, "owner": "u1", "title": "a"}`)
	var got bson.D
	if err := c.FindOneAndReplace(ctx, id(1), bson.D{{Key: "owner", Value: "u2"}, {Key: "title", Value: "b"}, {Key: "secret", Value: "s"}}, options.FindOneAndReplace().SetReturnDocument(options.After)).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != `{"title":"b"}` {
		t.Errorf("post-image returned: %v, want title only", got)
	}

	// Upserts: After returns the inserted document redacted and
	// projected; Before returns no document, as the driver does.
	err = e.as("alice").FindOneAndReplace(ctx, id(60), repl, options.FindOneAndReplace().SetUpsert(true)).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) || e.doc(60) == nil {
		t.Errorf("upsert returning the pre-image: %v, stored %v", err, e.doc(60))
	}
	after = nil
	err = e.as("alice").FindOneAndReplace(ctx, id(61), repl, options.FindOneAndReplace().SetUpsert(true).SetReturnDocument(options.After).SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "title", Value: 1}})).Decode(&after)
	if err != nil || fmt.Sprint(after) != `{"title":"replaced"}` {
		t.Errorf("upsert returning the post-image: %v, %v", after, err)
	}
	err = e.as("bob").FindOneAndReplace(ctx, id(62), bson.D{{Key: "team", Value: "red"}}, options.FindOneAndReplace().SetUpsert(true)).Err()
	wantDenied(t, err, "FindOneAndReplace", evaluator.ActionInsert, "")

	// Options the gate refuses on the other writes.
	err = e.as("alice").FindOneAndReplace(ctx, id(1), repl, options.FindOneAndReplace().SetHint("x")).Err()
	wantRefused(t, err, gate.CodeUnsupported)
	err = e.as("alice").FindOneAndReplace(ctx, id(1), repl, options.FindOneAndReplace().SetBypassDocumentValidation(true)).Err()
	wantRefused(t, err, gate.CodeUnsupported)
	err = e.as("alice").FindOneAndReplace(ctx, id(1), repl, options.FindOneAndReplace().SetCollation(&options.Collation{Locale: "en"})).Err()
	wantRefused(t, err, gate.CodeUnsupported)
	err = e.as("alice").FindOneAndReplace(ctx, id(1), repl, options.FindOneAndReplace().SetProjection(bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: 1}}}})).Err()
	wantRefused(t, err, gate.CodeUnsupported)
}

// TestFindOneAndUpdateUpsert: with upsert, After returns the inserted
// document redacted, Before no document.
func TestFindOneAndUpdateUpsert(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	var after bson.D
	err := e.as("alice").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 70}}, set("owner_id", "a1", "title", "t"),
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&after)
	if err != nil || fmt.Sprint(after) != `{"_id":{"$numberInt":"70"},"owner_id":"a1","title":"t"}` {
		t.Errorf("upsert returning the post-image: %v, %v", after, err)
	}
	err = e.as("alice").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 71}}, set("owner_id", "a1"), options.FindOneAndUpdate().SetUpsert(true)).Err()
	if !errors.Is(err, mongo.ErrNoDocuments) || e.doc(71) == nil {
		t.Errorf("upsert returning the pre-image: %v, stored %v", err, e.doc(71))
	}
	// Matching: an update returning the pre-image.
	var before bson.M
	if err := e.as("alice").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 70}}, set("title", "u"), options.FindOneAndUpdate().SetUpsert(true)).Decode(&before); err != nil || before["title"] != "t" {
		t.Errorf("upsert matching: %v, %v", before, err)
	}
	err = e.as("bob").FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 72}}, set("team", "red"), options.FindOneAndUpdate().SetUpsert(true)).Err()
	wantDenied(t, err, "FindOneAndUpdate", evaluator.ActionInsert, "")
}

// TestCustomUserDataUpsert: the App Services custom user data flow,
// updateOne({userId: user.id}, {$set: {userId, nonce}}, {upsert: true}):
// with examples/customdata's rules (insert false) it updates the user's
// own document and is denied for a user who has none; with a rule that
// lets users create their own document, the first call inserts it and the
// next ones update it, and no user touches another's.
func TestCustomUserDataUpsert(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := rulegatetest.Database(t)
	app, err := rules.LoadApp(os.DirFS("../examples/customdata"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range app.DataSources {
		for _, c := range ds.Collections {
			c.Database = db.Name()
		}
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(db.Client(), prog)
	if err != nil {
		t.Fatal(err)
	}
	raw := db.Collection("custom-user-data")
	if _, err := raw.InsertOne(ctx, bson.D{{Key: "userId", Value: "alice-id"}, {Key: "favoriteColor", Value: "green"}}); err != nil {
		t.Fatal(err)
	}
	as := func(id string) *gate.Collection {
		return g.For(user(t, `{"id": "`+id+`", "type": "normal"}`)).Database(db.Name()).Collection("custom-user-data")
	}
	up := options.UpdateOne().SetUpsert(true)
	flow := func(c *gate.Collection, id, nonce string) (*mongo.UpdateResult, error) {
		return c.UpdateOne(ctx, bson.D{{Key: "userId", Value: id}}, set("userId", id, "nonce", nonce), up)
	}
	if got := upserted(flow(as("alice-id"), "alice-id", "n1")); got != "matched 1 modified 1 upserted 0 id <nil>" {
		t.Errorf("alice's upsert of her document: %s", got)
	}
	_, err = flow(as("carol-id"), "carol-id", "n1")
	wantDenied(t, err, "UpdateOne", evaluator.ActionInsert, evaluator.ReasonPermission)
	// bob upserts with alice's id: alice's document is invisible to him,
	// so the upsert would insert {userId: alice-id, ...}, which no role
	// lets bob insert.
	_, err = flow(as("bob-id"), "alice-id", "n2")
	wantDenied(t, err, "UpdateOne", evaluator.ActionInsert, evaluator.ReasonNoRole)

	// Users who may create their own document.
	db2 := rulegatetest.Database(t)
	own := `"roles": [{"name": "ThisUser", "apply_when": {"userId": "%%user.id"},
		"document_filters": {"read": {"userId": "%%user.id"}, "write": {"userId": "%%user.id"}},
		"insert": true, "read": true, "write": true, "delete": false, "search": false}]`
	g2 := newGate(t, db2.Client(), rulesFS(db2.Name(), own, "custom-user-data"))
	c := g2.For(user(t, `{"id": "carol-id", "type": "normal"}`)).Database(db2.Name()).Collection("custom-user-data")
	if got := upserted(flow(c, "carol-id", "n1")); got != "matched 0 modified 0 upserted 1 id new" {
		t.Errorf("carol's first upsert: %s", got)
	}
	if got := upserted(flow(c, "carol-id", "n2")); got != "matched 1 modified 1 upserted 0 id <nil>" {
		t.Errorf("carol's second upsert: %s", got)
	}
	var m bson.M
	if err := c.FindOne(ctx, bson.D{}).Decode(&m); err != nil || m["nonce"] != "n2" || m["userId"] != "carol-id" {
		t.Errorf("carol's document: %v, %v", m, err)
	}
	_, err = flow(c, "dave-id", "n1")
	wantDenied(t, err, "UpdateOne", evaluator.ActionInsert, evaluator.ReasonNoRole)
	if n, _ := db2.Collection("custom-user-data").CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("%d documents, want carol's only", n)
	}
}

// TestUpsertInvisibleRevealed: with WithInvisibleMatchesRevealed, an
// upsert whose filter matches a document the caller cannot read and may
// not write is denied, as the update is, instead of inserting.
func TestUpsertInvisibleRevealed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, raw := inlineCollWith(t, []gate.Option{gate.WithInvisibleMatchesRevealed()}, `{"database": "db", "collection": "c",
		"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true}]}`,
		`{"_id": 1, "owner": "u2", "k": "s"}`)
	_, err := c.UpdateOne(ctx, bson.D{{Key: "k", Value: "s"}}, set("owner", "u1"), options.UpdateOne().SetUpsert(true))
	wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonNoRole)
	if n, _ := raw.CountDocuments(ctx, bson.D{}); n != 1 {
		t.Errorf("%d documents, want the invisible one only", n)
	}
	if got := upserted(c.UpdateOne(ctx, bson.D{{Key: "k", Value: "t"}}, set("owner", "u1"), options.UpdateOne().SetUpsert(true))); got != "matched 0 modified 0 upserted 1 id new" {
		t.Errorf("an upsert matching nothing: %s", got)
	}
}

// TestUpsertTellsWhatInsertOneTells: under a unique index on a field of
// documents the caller cannot read, an upsert collides exactly when
// InsertOne of the document it computes collides: the one answer that
// depends on a hidden document, and no more than the caller could learn
// by inserting that document itself.
func TestUpsertTellsWhatInsertOneTells(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, hidden := range []string{"x@example.com", "y@example.com"} {
		c, raw := inlineColl(t, `{"database": "db", "collection": "c",
			"roles": [{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true}]}`,
			`{"_id": 1, "owner": "u2", "email": "`+hidden+`"}`)
		if _, err := raw.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true)}); err != nil {
			t.Fatal(err)
		}
		filter := bson.D{{Key: "owner", Value: "u1"}, {Key: "email", Value: "x@example.com"}}
		_, uerr := c.UpdateOne(ctx, filter, set("n", 1), options.UpdateOne().SetUpsert(true))
		if _, err := raw.DeleteMany(ctx, bson.D{{Key: "owner", Value: "u1"}}); err != nil {
			t.Fatal(err)
		}
		_, ierr := c.InsertOne(ctx, bson.D{{Key: "email", Value: "x@example.com"}, {Key: "n", Value: 1}, {Key: "owner", Value: "u1"}})
		if mongo.IsDuplicateKeyError(uerr) != mongo.IsDuplicateKeyError(ierr) || (uerr == nil) == (hidden == "x@example.com") {
			t.Errorf("hidden email %s: upsert %v, InsertOne %v", hidden, uerr, ierr)
		}
	}
}

// FindOneAndUpdate and FindOneAndDelete take the projection option as
// FindOneAndReplace does: applied to the fields the caller may read
// (realm-web sends "projection" with all three).
func TestFindOneAndModifyProjection(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	id := func(i int) bson.D { return bson.D{{Key: "_id", Value: i}} }
	var after bson.D
	o := options.FindOneAndUpdate().SetReturnDocument(options.After).SetProjection(bson.D{{Key: "title", Value: 1}})
	if err := e.as("alice").FindOneAndUpdate(ctx, id(1), set("title", "projected"), o).Decode(&after); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(after); got != `{"_id":{"$numberInt":"1"},"title":"projected"}` {
		t.Errorf("FindOneAndUpdate with projection: %s", got)
	}
	// An exclusion of a hidden field changes nothing; the hidden field
	// stays hidden whatever the projection asks for.
	var bobs bson.M
	o = options.FindOneAndUpdate().SetProjection(bson.D{{Key: "secret", Value: 1}})
	if err := e.as("alice").FindOneAndUpdate(ctx, id(1), set("title", "again"), o).Decode(&bobs); err != nil {
		t.Fatal(err)
	}
	var gone bson.D
	d := options.FindOneAndDelete().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "title", Value: 1}})
	if err := e.as("alice").FindOneAndDelete(ctx, id(1), d).Decode(&gone); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(gone); got != `{"title":"again"}` {
		t.Errorf("FindOneAndDelete with projection: %s", got)
	}
	err := e.as("alice").FindOneAndDelete(ctx, id(2), options.FindOneAndDelete().SetProjection(bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: 1}}}})).Err()
	wantRefused(t, err, gate.CodeUnsupported)
	if e.doc(2) == nil {
		t.Error("a refused FindOneAndDelete deleted the document")
	}
}
