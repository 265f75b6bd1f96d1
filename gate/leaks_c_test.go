package gate_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/internal/mongotest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// inlineColl returns the gated collection "c" of a fresh database whose
// rules are rulesJSON, for user {"id": "u1"}, and the raw collection
// holding docs (extended JSON).
func inlineColl(t *testing.T, rulesJSON string, docs ...string) (*gate.Collection, *mongo.Collection) {
	t.Helper()
	db := mongotest.Database(t)
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/config.json":     {Data: []byte(`{"name": "mongodb-atlas", "type": "mongodb-atlas", "config": {"clusterName": "Cluster0"}}`)},
		"data_sources/mongodb-atlas/db/c/rules.json": {Data: []byte(rulesJSON)},
	})
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
	raw := db.Collection("c")
	for _, d := range docs {
		var doc bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(d), false, &doc); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.InsertOne(context.Background(), doc); err != nil {
			t.Fatal(err)
		}
	}
	return g.For(user(t, `{"id": "u1", "type": "normal"}`)).Database(db.Name()).Collection("c"), raw
}

func rawDoc(t *testing.T, raw *mongo.Collection, id int) string {
	t.Helper()
	var d bson.Raw
	if err := raw.FindOne(context.Background(), bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func extD(t *testing.T, s string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestUpdateNumericPathComponents: a numeric update path component is an
// array index only where the stored value is an array; in an embedded
// document it is a field name, checked against that field's rules
// (issue 11, hole 3).
func TestUpdateNumericPathComponents(t *testing.T) {
	t.Parallel()
	const rulesJSON = `{"database": "db", "collection": "c", "roles": [{"name": "r", "apply_when": {},
		"fields": {"_id": {"read": true}, "a": {"fields": {"b": {"read": true, "write": true}}}}}]}`
	c, raw := inlineColl(t, rulesJSON,
		`{"_id": 1, "a": {"2024": {"b": "secret"}, "b": "open"}}`,
		`{"_id": 2, "a": [{"b": 1}, {"b": 2}]}`,
		`{"_id": 3, "a": {"01": {"b": "secret"}}}`)
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		id     int
		update string
	}{
		{"rename a hidden key into a readable field", 1, `{"$rename": {"a.2024.b": "a.b"}}`},
		{"set a protected key", 1, `{"$set": {"a.2024.b": "x"}}`},
		{"unset a protected key", 1, `{"$unset": {"a.2024.b": ""}}`},
		{"inc a protected key", 1, `{"$inc": {"a.2024.n": 1}}`},
		{"push to a protected key", 1, `{"$push": {"a.2024.l": 1}}`},
		{"currentDate on a protected key", 1, `{"$currentDate": {"a.2024.d": true}}`},
		{"leading zero is a key", 3, `{"$set": {"a.01.b": "x"}}`},
	} {
		before := rawDoc(t, raw, tc.id)
		_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: tc.id}}, extD(t, tc.update))
		wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonFieldNotWritable)
		if after := rawDoc(t, raw, tc.id); after != before {
			t.Errorf("%s: document changed: %s -> %s", tc.name, before, after)
		}
	}
	_, err := c.UpdateMany(ctx, bson.D{}, extD(t, `{"$set": {"a.2024.b": "x"}}`))
	wantDenied(t, err, "UpdateMany", evaluator.ActionWrite, "")
	// An array index writes an element's field b: allowed.
	if res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, extD(t, `{"$set": {"a.1.b": 3}}`)); err != nil || res.ModifiedCount != 1 {
		t.Fatalf("index update: %+v, %v", res, err)
	}
	if got, want := rawDoc(t, raw, 2), `{"_id":2,"a":[{"b":1},{"b":3}]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestUpdateValuesValidated: the values an update writes are checked like
// inserted documents: no "$"-prefixed and no dotted field names at any
// depth, with the document/* code and a pointer into the update (issue 11,
// hole 8). Such a value stored in a custom data document would ride in
// the access token as {"$maxKey": 1}.
func TestUpdateValuesValidated(t *testing.T) {
	t.Parallel()
	const rulesJSON = `{"database": "db", "collection": "c", "roles": [{"name": "r", "apply_when": {}, "read": true, "write": true}]}`
	c, raw := inlineColl(t, rulesJSON, `{"_id": 1, "a": [], "n": 1}`)
	ctx := context.Background()
	for _, tc := range []struct {
		update, ptr, code string
	}{
		{`{"$set": {"role": {"$maxKey": 1}}}`, "/$set/role/$maxKey", evaluator.CodeDocumentDollarField},
		{`{"$set": {"p": {"q": [{"x.y": 1}]}}}`, "/$set/p/q/0/x.y", evaluator.CodeDocumentDottedField},
		{`{"$setOnInsert": {"p": {"$gt": 1}}}`, "/$setOnInsert/p/$gt", evaluator.CodeDocumentDollarField},
		{`{"$push": {"a": {"$each": [1, {"$lte": 2}]}}}`, "/$push/a/$each/1/$lte", evaluator.CodeDocumentDollarField},
		{`{"$push": {"a": [[{"$x": 1}]]}}`, "/$push/a/0/0/$x", evaluator.CodeDocumentDollarField},
		{`{"$addToSet": {"a": {"$each": [{"k": {"$y": 1}}]}}}`, "/$addToSet/a/$each/0/k/$y", evaluator.CodeDocumentDollarField},
		{`{"$addToSet": {"a": {"b.c": 1}}}`, "/$addToSet/a/b.c", evaluator.CodeDocumentDottedField},
		{`{"$min": {"n": {"$numberX": 1}}}`, "/$min/n/$numberX", evaluator.CodeDocumentDollarField},
		{`{"$max": {"m": {"a.b": 1}}}`, "/$max/m/a.b", evaluator.CodeDocumentDottedField},
	} {
		_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, plainD(t, tc.update))
		re := wantRefused(t, err, gate.CodeInvalid)
		if string(re.Ptr) != tc.ptr || !strings.Contains(re.Msg, "("+tc.code+")") {
			t.Errorf("%s: ptr %q msg %q, want ptr %q code %s", tc.update, re.Ptr, re.Msg, tc.ptr, tc.code)
		}
		_, err = c.UpdateMany(ctx, bson.D{}, plainD(t, tc.update))
		wantRefused(t, err, gate.CodeInvalid)
		sr := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, plainD(t, tc.update))
		wantRefused(t, sr.Err(), gate.CodeInvalid)
	}
	_, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: 1}}, plainD(t, `{"a": [{"$x": 1}]}`))
	if re := wantRefused(t, err, gate.CodeInvalid); re.Ptr != "/a/0/$x" {
		t.Errorf("replacement ptr %q", re.Ptr)
	}
	if got, want := rawDoc(t, raw, 1), `{"_id":1,"a":[],"n":1}`; got != want {
		t.Errorf("document changed: %s", got)
	}
	// Plain values pass.
	if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, plainD(t, `{"$set": {"p": {"q": 1}}, "$pull": {"a": 5}, "$push": {"b": {"$each": [{"k": 1}]}}}`)); err != nil {
		t.Fatal(err)
	}
}

// plainD decodes plain JSON (no extended JSON: {"$maxKey": 1} stays a
// document with the key "$maxKey") into a bson.D, keeping key order.
func plainD(t *testing.T, s string) bson.D {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var val func() any
	val = func() any {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		switch x := tok.(type) {
		case json.Delim:
			if x == '[' {
				a := bson.A{}
				for dec.More() {
					a = append(a, val())
				}
				dec.Token()
				return a
			}
			d := bson.D{}
			for dec.More() {
				k, _ := dec.Token()
				d = append(d, bson.E{Key: k.(string), Value: val()})
			}
			dec.Token()
			return d
		case json.Number:
			if n, err := x.Int64(); err == nil {
				return int32(n)
			}
			f, _ := x.Float64()
			return f
		}
		return tok
	}
	return val().(bson.D)
}
