package jsfunc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
)

// notesRules: in app.notes the owner (owner = %%user.id) may do
// everything; anyone else reads _id, owner, title and n (never secret) and may
// neither write, insert nor delete. app.other has no rules.
const notesRules = `{"database": "app", "collection": "notes", "roles": [
	{"name": "owner", "apply_when": {"owner": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true, "search": true},
	{"name": "reader", "apply_when": {}, "fields": {"_id": {"read": true}, "owner": {"read": true}, "title": {"read": true}, "n": {"read": true}},
	 "insert": false, "delete": false, "search": true}]}`

func notesApp(tb testing.TB) (*rules.App, *evaluator.Program) {
	tb.Helper()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(notesRules)}})
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	return app, prog
}

func raw(tb testing.TB, ejson string) bson.Raw {
	tb.Helper()
	var r bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(ejson), false, &r); err != nil {
		tb.Fatalf("%s: %v", ejson, err)
	}
	return r
}

// seedNotes are the documents every case starts from: 1 and 3 are
// alice's, 2 bob's.
func seedNotes(tb testing.TB) []bson.Raw {
	return []bson.Raw{
		raw(tb, `{"_id": 1, "owner": "a1", "title": "alpha", "n": 3, "secret": "s1"}`),
		raw(tb, `{"_id": 2, "owner": "b1", "title": "beta", "n": 1, "secret": "s2"}`),
		raw(tb, `{"_id": 3, "owner": "a1", "title": "gamma", "n": 2, "secret": "s3"}`),
	}
}

var callers = map[string]string{"alice": `{"id": "a1"}`, "bob": `{"id": "b1"}`}

func asOf(tb testing.TB, who string) jsfunc.As {
	tb.Helper()
	if who == "system" {
		return jsfunc.As{System: true}
	}
	u, err := expansion.NewUserObject([]byte(callers[who]))
	if err != nil {
		tb.Fatal(err)
	}
	return jsfunc.As{User: u}
}

// dataCase is one call of a Collection method, run on MongoData over the
// embedded server and on MemoryData over the same documents: both must
// give want, and leave the collection as the other does.
type dataCase struct {
	name string
	as   string
	coll string // "notes" unless set
	call func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error)
	want string
}

func dataCases() []dataCase {
	doc := func(t *testing.T, s string) bson.Raw { return raw(t, s) }
	return []dataCase{
		{name: "findOne/user/redacted", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOne(ctx, doc(t, `{"_id": 2}`), jsfunc.FindOptions{})
		}, want: `{"_id":2,"owner":"b1","title":"beta","n":1}`},
		{name: "findOne/user/own", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOne(ctx, doc(t, `{"title": "alpha"}`), jsfunc.FindOptions{Projection: doc(t, `{"secret": 1}`)})
		}, want: `{"_id":1,"secret":"s1"}`},
		{name: "findOne/user/none", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOne(ctx, doc(t, `{"_id": 9}`), jsfunc.FindOptions{})
		}, want: `null`},
		{name: "findOne/system", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOne(ctx, doc(t, `{"_id": 2}`), jsfunc.FindOptions{})
		}, want: `{"_id":2,"owner":"b1","title":"beta","n":1,"secret":"s2"}`},
		{name: "find/user/sorted", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Find(ctx, nil, jsfunc.FindOptions{Sort: doc(t, `{"n": 1}`)})
		}, want: `[{"_id":2,"owner":"b1","title":"beta","n":1,"secret":"s2"},{"_id":3,"owner":"a1","title":"gamma","n":2},{"_id":1,"owner":"a1","title":"alpha","n":3}]`},
		{name: "find/user/hidden-field-in-filter", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Find(ctx, doc(t, `{"secret": {"$in": ["s2", "s3"]}}`), jsfunc.FindOptions{})
		}, want: `[{"_id":3,"owner":"a1","title":"gamma","n":2,"secret":"s3"}]`},
		{name: "find/system/limit-skip", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Find(ctx, nil, jsfunc.FindOptions{Sort: doc(t, `{"n": -1}`), Skip: 1, Limit: 1, Projection: doc(t, `{"title": 1, "_id": 0}`)})
		}, want: `[{"title":"gamma"}]`},
		{name: "count/user", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Count(ctx, doc(t, `{"owner": "a1"}`), jsfunc.CountOptions{})
		}, want: `2`},
		{name: "count/user/hidden", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Count(ctx, doc(t, `{"secret": {"$exists": true}}`), jsfunc.CountOptions{})
		}, want: `1`},
		{name: "distinct/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Distinct(ctx, "secret", nil)
		}, want: `["s1","s3"]`},
		{name: "aggregate/system", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Aggregate(ctx, []bson.Raw{doc(t, `{"$match": {"n": {"$gte": 2}}}`), doc(t, `{"$sort": {"n": 1}}`), doc(t, `{"$project": {"title": 1}}`)})
		}, want: `[{"_id":3,"title":"gamma"},{"_id":1,"title":"alpha"}]`},
		{name: "aggregate/system/count", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Aggregate(ctx, []bson.Raw{doc(t, `{"$match": {"owner": "a1"}}`), doc(t, `{"$count": "k"}`)})
		}, want: `[{"k":2}]`},
		{name: "insertOne/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.InsertOne(ctx, doc(t, `{"_id": 10, "owner": "a1", "title": "new"}`))
		}, want: `10`},
		{name: "insertOne/user/denied", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.InsertOne(ctx, doc(t, `{"_id": 10, "owner": "a1", "title": "new"}`))
		}, want: `denied insert permission-denied role "reader"`},
		{name: "insertMany/system", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.InsertMany(ctx, []bson.Raw{doc(t, `{"_id": 20, "owner": "z"}`), doc(t, `{"_id": 21}`)})
		}, want: `[20,21]`},
		{name: "updateOne/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateOne(ctx, doc(t, `{"_id": 1}`), doc(t, `{"$set": {"title": "A"}}`), jsfunc.UpdateOptions{})
		}, want: `{"MatchedCount":1,"ModifiedCount":1,"UpsertedID":null}`},
		{name: "updateOne/user/replacement", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateOne(ctx, doc(t, `{"_id": 3}`), doc(t, `{"owner": "a1", "title": "G"}`), jsfunc.UpdateOptions{})
		}, want: `{"MatchedCount":1,"ModifiedCount":1,"UpsertedID":null}`},
		{name: "updateOne/user/denied", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateOne(ctx, doc(t, `{"_id": 2}`), doc(t, `{"$set": {"title": "B"}}`), jsfunc.UpdateOptions{})
		}, want: `denied write field-not-writable role "reader" field "title"`},
		{name: "updateMany/system", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateMany(ctx, nil, doc(t, `{"$inc": {"n": 1}}`), jsfunc.UpdateOptions{})
		}, want: `{"MatchedCount":3,"ModifiedCount":3,"UpsertedID":null}`},
		{name: "updateMany/user/denied", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateMany(ctx, nil, doc(t, `{"$inc": {"n": 1}}`), jsfunc.UpdateOptions{})
		}, want: `denied write field-not-writable role "reader" field "n"`},
		{name: "deleteOne/user/denied", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.DeleteOne(ctx, doc(t, `{"_id": 1}`))
		}, want: `denied delete permission-denied role "reader"`},
		{name: "deleteMany/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.DeleteMany(ctx, doc(t, `{"owner": "a1"}`))
		}, want: `2`},
		{name: "findOneAndUpdate/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOneAndUpdate(ctx, doc(t, `{"_id": 3}`), doc(t, `{"$set": {"n": 9}}`), jsfunc.FindOneAndOptions{ReturnNewDocument: true})
		}, want: `{"_id":3,"owner":"a1","title":"gamma","n":9,"secret":"s3"}`},
		{name: "findOneAndReplace/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOneAndReplace(ctx, doc(t, `{"_id": 3}`), doc(t, `{"owner": "a1", "title": "g2"}`), jsfunc.FindOneAndOptions{Projection: doc(t, `{"title": 1}`)})
		}, want: `{"_id":3,"title":"gamma"}`},
		{name: "findOneAndDelete/user", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOneAndDelete(ctx, doc(t, `{"owner": "b1"}`), jsfunc.FindOneAndOptions{})
		}, want: `{"_id":2,"owner":"b1","title":"beta","n":1,"secret":"s2"}`},
		{name: "aggregate/user", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Aggregate(ctx, []bson.Raw{doc(t, `{"$match": {}}`)})
		}, want: `[{"_id":1,"owner":"a1","title":"alpha","n":3},{"_id":2,"owner":"b1","title":"beta","n":1,"secret":"s2"},{"_id":3,"owner":"a1","title":"gamma","n":2}]`},
		{name: "aggregate/user/group", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Aggregate(ctx, []bson.Raw{doc(t, `{"$group": {"_id": null, "n": {"$sum": "$n"}, "secrets": {"$push": "$secret"}}}`)})
		}, want: `[{"_id":null,"n":6,"secrets":["s2"]}]`},
		{name: "aggregate/user/refused", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Aggregate(ctx, []bson.Raw{doc(t, `{"$out": "copy"}`)})
		}, want: `refused`},
		{name: "insertMany/user", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.InsertMany(ctx, []bson.Raw{doc(t, `{"_id": 30, "owner": "a1"}`), doc(t, `{"_id": 31, "owner": "a1"}`)})
		}, want: `[30,31]`},
		{name: "insertMany/user/denied", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.InsertMany(ctx, []bson.Raw{doc(t, `{"_id": 30, "owner": "a1"}`), doc(t, `{"_id": 31, "owner": "b1"}`)})
		}, want: `denied insert permission-denied role "reader"`},
		{name: "deleteOne/user", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.DeleteOne(ctx, doc(t, `{"_id": 2}`))
		}, want: `1`},
		{name: "deleteMany/system", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.DeleteMany(ctx, doc(t, `{"n": {"$lt": 3}}`))
		}, want: `2`},
		{name: "count/system/skip-limit", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Count(ctx, nil, jsfunc.CountOptions{Skip: 1, Limit: 1})
		}, want: `1`},
		// No distinct/system: the embedded server (FerretDB 1.24) refuses
		// the driver's distinct command ("unknown field maxTimeMS"); the
		// gate computes a user's Distinct itself.
		{name: "findOneAndUpdate/user/denied", as: "bob", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.FindOneAndUpdate(ctx, doc(t, `{"_id": 1}`), doc(t, `{"$set": {"n": 0}}`), jsfunc.FindOneAndOptions{})
		}, want: `denied write field-not-writable role "reader" field "n"`},
		{name: "findOneAndDelete/system/sorted", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			// (No projection: FerretDB does not implement findAndModify's.)
			return c.FindOneAndDelete(ctx, doc(t, `{"owner": "a1"}`), jsfunc.FindOneAndOptions{Sort: doc(t, `{"n": 1}`)})
		}, want: `{"_id":3,"owner":"a1","title":"gamma","n":2,"secret":"s3"}`},
		{name: "updateOne/system/none", as: "system", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateOne(ctx, doc(t, `{"_id": 9}`), doc(t, `{"$set": {"n": 0}}`), jsfunc.UpdateOptions{})
		}, want: `{"MatchedCount":0,"ModifiedCount":0,"UpsertedID":null}`},
		{name: "updateOne/user/unchanged", as: "alice", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.UpdateOne(ctx, doc(t, `{"_id": 1}`), doc(t, `{"$set": {"n": 3}}`), jsfunc.UpdateOptions{})
		}, want: `{"MatchedCount":1,"ModifiedCount":0,"UpsertedID":null}`},
		{name: "find/no-rules", as: "alice", coll: "other", call: func(ctx context.Context, t *testing.T, c jsfunc.Collection) (any, error) {
			return c.Find(ctx, nil, jsfunc.FindOptions{})
		}, want: `denied read no-rules role ""`},
	}
}

// render shows a result or an error the same way for both Data.
func render(t *testing.T, v any, err error) string {
	t.Helper()
	var de *gate.DeniedError
	if errors.As(err, &de) {
		s := fmt.Sprintf("denied %s %s role %q", de.Action, de.Reason, de.Role)
		if de.Field != "" {
			s += fmt.Sprintf(" field %q", de.Field)
		}
		return s
	}
	var re *gate.RefusedError
	if errors.As(err, &re) || errors.Is(err, jsfunc.ErrMemoryUnsupported) {
		return "refused"
	}
	if err != nil {
		return "error: " + err.Error()
	}
	switch x := v.(type) {
	case bson.Raw:
		if x == nil {
			return "null"
		}
		return ejson(t, bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: x})
	case []bson.Raw:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = ejson(t, bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: d})
		}
		return "[" + strings.Join(parts, ",") + "]"
	case []bson.RawValue:
		parts := make([]string, len(x))
		for i, d := range x {
			parts[i] = ejson(t, d)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case bson.RawValue:
		return ejson(t, x)
	case int64:
		return fmt.Sprint(x)
	case jsfunc.UpdateResult:
		up := "null"
		if x.UpsertedID.Type != 0 {
			up = ejson(t, x.UpsertedID)
		}
		return fmt.Sprintf(`{"MatchedCount":%d,"ModifiedCount":%d,"UpsertedID":%s}`, x.MatchedCount, x.ModifiedCount, up)
	}
	t.Fatalf("cannot render %T", v)
	return ""
}

func ejson(t *testing.T, v bson.RawValue) string {
	t.Helper()
	d, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := bson.MarshalExtJSON(bson.Raw(d), false, false)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	return strings.TrimSuffix(strings.TrimPrefix(s, `{"v":`), "}")
}

// state is the collection as the system sees it, by _id.
func state(ctx context.Context, t *testing.T, d jsfunc.Data) string {
	t.Helper()
	c, err := d.Collection(ctx, jsfunc.As{System: true}, "mongodb-atlas", "app", "notes")
	if err != nil {
		t.Fatal(err)
	}
	docs, err := c.Find(ctx, nil, jsfunc.FindOptions{Sort: raw(t, `{"_id": 1}`)})
	return render(t, docs, err)
}

func mongoEnv(t *testing.T) (*mongo.Database, jsfunc.Data) {
	t.Helper()
	app, prog := notesApp(t)
	db := rulegatetest.Database(t)
	g, err := gate.New(db.Client(), prog, gate.WithDatabaseMapping(map[string]string{"app": db.Name()}))
	if err != nil {
		t.Fatal(err)
	}
	return db, jsfunc.MongoData(g, app)
}

func reseed(ctx context.Context, t *testing.T, db *mongo.Database) {
	t.Helper()
	if _, err := db.Collection("notes").DeleteMany(ctx, bson.D{}); err != nil {
		t.Fatal(err)
	}
	var docs []any
	for _, d := range seedNotes(t) {
		docs = append(docs, d)
	}
	if _, err := db.Collection("notes").InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
}

// TestData runs every case on MongoData (the gate and the driver on the
// embedded server) and on MemoryData over the same documents: the answers
// and the collection after the call agree.
func TestData(t *testing.T) {
	ctx := context.Background()
	db, md := mongoEnv(t)
	app, prog := notesApp(t)
	for _, tc := range dataCases() {
		t.Run(tc.name, func(t *testing.T) {
			coll := tc.coll
			if coll == "" {
				coll = "notes"
			}
			reseed(ctx, t, db)
			mem := jsfunc.MemoryData(app, prog, map[string][]bson.Raw{"app.notes": seedNotes(t)})
			var states []string
			for _, d := range []struct {
				name string
				data jsfunc.Data
			}{{"mongo", md}, {"memory", mem}} {
				c, err := d.data.Collection(ctx, asOf(t, tc.as), "mongodb-atlas", "app", coll)
				if err != nil {
					t.Fatal(err)
				}
				v, err := tc.call(ctx, t, c)
				if got := render(t, v, err); got != tc.want {
					t.Errorf("%s:\n got %s\nwant %s", d.name, got, tc.want)
				}
				states = append(states, state(ctx, t, d.data))
			}
			if states[0] != states[1] {
				t.Errorf("the collection after the call:\n mongo  %s\n memory %s", states[0], states[1])
			}
		})
	}
}

// TestDataUnknownService: a service that is not one of the app's data
// sources is an error saying so, for both Data.
func TestDataUnknownService(t *testing.T) {
	ctx := context.Background()
	_, md := mongoEnv(t)
	app, prog := notesApp(t)
	for _, d := range []jsfunc.Data{md, jsfunc.MemoryData(app, prog, nil)} {
		_, err := d.Collection(ctx, jsfunc.As{System: true}, "http", "app", "notes")
		if !errors.Is(err, jsfunc.ErrNoDataSource) || !strings.Contains(err.Error(), `"http" (the app's are mongodb-atlas)`) {
			t.Errorf("%T: %v", d, err)
		}
	}
}
