package gate_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// inlineColl returns the gated collection "c" of a fresh database whose
// rules are rulesJSON, for user {"id": "u1"}, and the raw collection
// holding docs (extended JSON).
func inlineColl(t *testing.T, rulesJSON string, docs ...string) (*gate.Collection, *mongo.Collection) {
	t.Helper()
	return inlineCollWith(t, nil, rulesJSON, docs...)
}

// inlineCollWith is inlineColl with Gate options.
func inlineCollWith(t *testing.T, opts []gate.Option, rulesJSON string, docs ...string) (*gate.Collection, *mongo.Collection) {
	t.Helper()
	db := rulegatetest.Database(t)
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
	g, err := gate.New(db.Client(), prog, opts...)
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
		{`{"$set": {"role": {"$maxKey": 1}}}`, "/$set/role/$maxKey", mql.CodeDocumentDollarField},
		{`{"$set": {"p": {"q": [{"x.y": 1}]}}}`, "/$set/p/q/0/x.y", mql.CodeDocumentDottedField},
		{`{"$setOnInsert": {"p": {"$gt": 1}}}`, "/$setOnInsert/p/$gt", mql.CodeDocumentDollarField},
		{`{"$push": {"a": {"$each": [1, {"$lte": 2}]}}}`, "/$push/a/$each/1/$lte", mql.CodeDocumentDollarField},
		{`{"$push": {"a": [[{"$x": 1}]]}}`, "/$push/a/0/0/$x", mql.CodeDocumentDollarField},
		{`{"$addToSet": {"a": {"$each": [{"k": {"$y": 1}}]}}}`, "/$addToSet/a/$each/0/k/$y", mql.CodeDocumentDollarField},
		{`{"$addToSet": {"a": {"b.c": 1}}}`, "/$addToSet/a/b.c", mql.CodeDocumentDottedField},
		{`{"$min": {"n": {"$numberX": 1}}}`, "/$min/n/$numberX", mql.CodeDocumentDollarField},
		{`{"$max": {"m": {"a.b": 1}}}`, "/$max/m/a.b", mql.CodeDocumentDottedField},
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

// findJSON runs Find and renders the documents as relaxed extended JSON.
func findJSON(t *testing.T, c *gate.Collection, filter any, opts ...options.Lister[options.FindOptions]) []string {
	t.Helper()
	cur, err := c.Find(context.Background(), filter, opts...)
	if err != nil {
		t.Fatalf("Find(%v): %v", filter, err)
	}
	var out []string
	for cur.Next(context.Background()) {
		b, _ := bson.MarshalExtJSON(cur.Current, false, false)
		out = append(out, string(b))
	}
	if err := cur.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFilterProjectionEmbedded: a filter projection on an embedded path
// ({"profile.ssn": 0}) removes that path from every result, and a client
// filter or sort that reads it, or reads profile as a whole, matches
// nothing; an embedded inclusion ({"profile.name": 1}) keeps only that
// path and _id (issue 11, hole 1).
func TestFilterProjectionEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	docs := []string{
		`{"_id": 1, "n": 1, "profile": {"name": "ann", "ssn": "111"}, "kids": [{"name": "k", "ssn": "k1"}]}`,
		`{"_id": 2, "n": 2, "profile": {"name": "ben", "ssn": "222"}, "kids": []}`,
	}
	c, raw := inlineColl(t, `{"database": "db", "collection": "c",
		"roles": [{"name": "r", "apply_when": {}, "read": true, "write": true}],
		"filters": [{"name": "hide", "apply_when": {}, "query": {}, "projection": {"profile.ssn": 0, "kids.ssn": 0}}]}`, docs...)

	want1 := `{"_id":1,"n":1,"profile":{"name":"ann"},"kids":[{"name":"k"}]}`
	if got := findJSON(t, c, bson.D{{Key: "_id", Value: 1}}); len(got) != 1 || got[0] != want1 {
		t.Errorf("Find: %v, want [%s]", got, want1)
	}
	var one bson.Raw
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&one); err != nil || strings.Contains(one.String(), "111") {
		t.Errorf("FindOne: %s, %v", one, err)
	}
	// A client projection cannot include the hidden path again.
	if got := findJSON(t, c, bson.D{{Key: "_id", Value: 1}}, options.Find().SetProjection(bson.D{{Key: "profile.ssn", Value: 1}})); len(got) != 1 || strings.Contains(got[0], "111") {
		t.Errorf("Find with projection: %v", got)
	}
	// Filters and sorts that read the hidden path, or profile whole.
	for _, f := range []bson.D{
		{{Key: "profile.ssn", Value: "111"}},
		{{Key: "profile.ssn", Value: bson.D{{Key: "$exists", Value: true}}}},
		{{Key: "profile", Value: bson.D{{Key: "name", Value: "ann"}, {Key: "ssn", Value: "111"}}}},
		{{Key: "profile", Value: bson.D{{Key: "$type", Value: "object"}}}},
		{{Key: "profile", Value: bson.D{{Key: "$exists", Value: true}}}},
		{{Key: "kids", Value: bson.D{{Key: "$elemMatch", Value: bson.D{{Key: "ssn", Value: "k1"}}}}}},
		{{Key: "kids.ssn", Value: "k1"}},
	} {
		if got := findJSON(t, c, f); len(got) != 0 {
			t.Errorf("Find(%v) = %v, want nothing: the filter reads a hidden path", f, got)
		}
		if n, err := c.CountDocuments(ctx, f); err != nil || n != 0 {
			t.Errorf("CountDocuments(%v) = %d, %v; want 0", f, n, err)
		}
	}
	// The readable part still filters.
	if got := findJSON(t, c, bson.D{{Key: "profile.name", Value: "ann"}}); len(got) != 1 || got[0] != want1 {
		t.Errorf("Find on profile.name: %v", got)
	}
	if got := findJSON(t, c, bson.D{}, options.Find().SetSort(bson.D{{Key: "profile.ssn", Value: -1}})); len(got) != 0 {
		t.Errorf("sort on the hidden path: %v", got)
	}
	if vals, err := c.Distinct(ctx, "profile.ssn", bson.D{}).Raw(); err == nil && strings.Contains(vals.String(), "111") {
		t.Errorf("Distinct(profile.ssn) = %s", vals)
	}
	if vals, err := c.Distinct(ctx, "profile", bson.D{}).Raw(); err == nil && strings.Contains(vals.String(), "111") {
		t.Errorf("Distinct(profile) = %s", vals)
	}
	// Aggregate runs over what Find returns: a filter projection on
	// embedded paths is applied per document, so no profile: {} is left
	// where profile held only the hidden ssn
	// (TestAggregateRefusalIgnoresHiddenChildren).
	if cur, err := c.Aggregate(ctx, mongo.Pipeline{}); err != nil {
		t.Errorf("Aggregate: %v", err)
	} else {
		var got []string
		for cur.Next(ctx) {
			b, _ := bson.MarshalExtJSON(cur.Current, false, false)
			got = append(got, string(b))
		}
		if want := findJSON(t, c, bson.D{}); fmt.Sprint(got) != fmt.Sprint(want) || strings.Contains(fmt.Sprint(got), "111") {
			t.Errorf("Aggregate = %v, want what Find returns: %v", got, want)
		}
	}
	var fu bson.Raw
	if err := c.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}).Decode(&fu); err != nil || strings.Contains(fu.String(), "111") {
		t.Errorf("FindOneAndUpdate: %s, %v", fu, err)
	}
	var fd bson.Raw
	if err := c.FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: 2}}).Decode(&fd); err != nil || strings.Contains(fd.String(), "222") {
		t.Errorf("FindOneAndDelete: %s, %v", fd, err)
	}
	// $rename reads its source: moving the withheld value, or the
	// document holding it, to a readable field is denied.
	for _, u := range []string{`{"$rename": {"profile.ssn": "leak"}}`, `{"$rename": {"profile": "p2"}}`, `{"$rename": {"kids": "k2"}}`} {
		_, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, extD(t, u))
		wantDenied(t, err, "UpdateOne", evaluator.ActionWrite, evaluator.ReasonFieldNotReadable)
	}
	if got, want := rawDoc(t, raw, 1), `{"_id":1,"n":2,"profile":{"name":"ann","ssn":"111"},"kids":[{"name":"k","ssn":"k1"}]}`; got != want {
		t.Errorf("document changed: %s", got)
	}

	inc, _ := inlineColl(t, `{"database": "db", "collection": "c",
		"roles": [{"name": "r", "apply_when": {}, "read": true}],
		"filters": [{"name": "only", "apply_when": {}, "query": {}, "projection": {"profile.name": 1}}]}`, docs...)
	if got := findJSON(t, inc, bson.D{{Key: "_id", Value: 1}}); len(got) != 1 || got[0] != `{"_id":1,"profile":{"name":"ann"}}` {
		t.Errorf("inclusion: %v", got)
	}
	if got := findJSON(t, inc, bson.D{{Key: "n", Value: 1}}); len(got) != 0 {
		t.Errorf("inclusion: a filter on an excluded field matched %v", got)
	}
}

// TestFieldRulesEmbedded: the same with field-level rules on an embedded
// document (fields.profile.fields.ssn unreadable, the rest of profile
// readable through its additional_fields).
func TestFieldRulesEmbedded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := inlineColl(t, `{"database": "db", "collection": "c",
		"roles": [{"name": "r", "apply_when": {}, "fields": {"profile": {"fields": {"ssn": {"read": false}}, "additional_fields": {"read": true}}}, "additional_fields": {"read": true}}]}`,
		`{"_id": 1, "profile": {"name": "ann", "ssn": "111"}}`)
	if got := findJSON(t, c, bson.D{}); len(got) != 1 || got[0] != `{"_id":1,"profile":{"name":"ann"}}` {
		t.Errorf("Find: %v", got)
	}
	for _, f := range []bson.D{
		{{Key: "profile.ssn", Value: "111"}},
		{{Key: "profile", Value: bson.D{{Key: "name", Value: "ann"}, {Key: "ssn", Value: "111"}}}},
		{{Key: "profile", Value: bson.D{{Key: "$exists", Value: true}}}},
	} {
		if n, err := c.CountDocuments(ctx, f); err != nil || n != 0 {
			t.Errorf("CountDocuments(%v) = %d, %v; want 0", f, n, err)
		}
	}
}

// TestQueryNumericPathComponents: a client filter or sort through a
// numeric component of an embedded document reads that document's field
// of that name; where it is hidden the document does not match.
func TestQueryNumericPathComponents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c, _ := inlineColl(t, `{"database": "db", "collection": "c", "roles": [{"name": "r", "apply_when": {},
		"fields": {"_id": {"read": true}, "a": {"fields": {"b": {"read": true}}}, "arr": {"read": true}}}]}`,
		`{"_id": 1, "a": {"2024": {"b": "secret"}, "b": "open"}, "arr": [{"b": 1}]}`)
	for _, f := range []bson.D{
		{{Key: "a.2024.b", Value: "secret"}},
		{{Key: "a.2024", Value: bson.D{{Key: "$exists", Value: true}}}},
		{{Key: "a.02024.b", Value: bson.D{{Key: "$exists", Value: false}}}},
	} {
		if n, err := c.CountDocuments(ctx, f); err != nil || n != 0 {
			t.Errorf("CountDocuments(%v) = %d, %v; want 0", f, n, err)
		}
	}
	if got := findJSON(t, c, bson.D{}, options.Find().SetSort(bson.D{{Key: "a.2024.b", Value: 1}})); len(got) != 0 {
		t.Errorf("sort on a.2024.b: %v", got)
	}
	for _, f := range []bson.D{{{Key: "a.b", Value: "open"}}, {{Key: "arr.0.b", Value: 1}}} {
		if n, err := c.CountDocuments(ctx, f); err != nil || n != 1 {
			t.Errorf("CountDocuments(%v) = %d, %v; want 1", f, n, err)
		}
	}
}
