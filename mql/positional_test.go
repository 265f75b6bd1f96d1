package mql_test

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// positionalCase is an update with positional paths of one stored
// document, and the document after it as the MongoDB manual's positional
// update pages describe it (want), or the error's code (code).
type positionalCase struct {
	name, prev, query, update string
	filters                   []string
	want, resolved, code      string
}

var positionalCases = []positionalCase{
	{name: "$ first matching element", prev: `{"_id": 1, "items": [{"sku": "a", "qty": 1}, {"sku": "x", "qty": 2}, {"sku": "x", "qty": 3}]}`,
		query: `{"items.sku": "x"}`, update: `{"$set": {"items.$.qty": 9}}`,
		want: `{"_id":1,"items":[{"sku":"a","qty":1},{"sku":"x","qty":9},{"sku":"x","qty":3}]}`, resolved: `{"$set":{"items.1.qty":9}}`},
	{name: "$ of scalars", prev: `{"_id": 1, "grades": [85, 80, 80]}`, query: `{"_id": 1, "grades": 80}`, update: `{"$set": {"grades.$": 82}}`,
		want: `{"_id":1,"grades":[85,82,80]}`, resolved: `{"$set":{"grades.1":82}}`},
	{name: "$ with $elemMatch", prev: `{"_id": 1, "items": [{"sku": "x", "qty": 1}, {"sku": "x", "qty": 5}]}`,
		query: `{"items": {"$elemMatch": {"sku": "x", "qty": {"$gt": 2}}}}`, update: `{"$inc": {"items.$.qty": 1}}`,
		want: `{"_id":1,"items":[{"sku":"x","qty":1},{"sku":"x","qty":6}]}`, resolved: `{"$inc":{"items.1.qty":1}}`},
	{name: "$ with $in, in $and", prev: `{"_id": 1, "a": [1, 2, 3]}`, query: `{"$and": [{"_id": 1}, {"a": {"$in": [3, 2]}}]}`, update: `{"$max": {"a.$": 7}}`,
		want: `{"_id":1,"a":[1,7,3]}`, resolved: `{"$max":{"a.1":7}}`},
	{name: "$ ignores $or", prev: `{"_id": 1, "a": [1, 2, 3], "b": [7]}`, query: `{"$or": [{"b": 7}], "a": 3}`, update: `{"$set": {"a.$": 0}}`,
		want: `{"_id":1,"a":[1,2,0],"b":[7]}`, resolved: `{"$set":{"a.2":0}}`},
	{name: "$ no match", prev: `{"_id": 1, "a": [1]}`, query: `{"_id": 1}`, update: `{"$set": {"a.$": 0}}`, code: mql.CodeUpdateNotViable},
	{name: "$ ambiguous: two conditions on arrays", prev: `{"_id": 1, "a": [1, 2], "b": [3]}`, query: `{"a": 2, "b": 3}`, update: `{"$set": {"a.$": 0}}`, code: mql.CodeUpdateUnsupported},
	{name: "$ ambiguous: two operators", prev: `{"_id": 1, "a": [1, 5]}`, query: `{"a": {"$gt": 0, "$lt": 3}}`, update: `{"$set": {"a.$": 0}}`, code: mql.CodeUpdateUnsupported},
	{name: "$ with $ne", prev: `{"_id": 1, "a": [1, 5]}`, query: `{"a": {"$ne": 1}}`, update: `{"$set": {"a.$": 0}}`, code: mql.CodeUpdateUnsupported},
	{name: "$ twice in a path", prev: `{"_id": 1, "a": [{"b": [1]}]}`, query: `{"a.b": 1}`, update: `{"$set": {"a.$.b.$": 0}}`, code: mql.CodeUpdatePath},
	{name: "$[] every element", prev: `{"_id": 1, "items": [{"qty": 1}, {"qty": 2}, {"n": 0}]}`, query: `{}`, update: `{"$inc": {"items.$[].qty": 10}}`,
		want: `{"_id":1,"items":[{"qty":11},{"qty":12},{"n":0,"qty":10}]}`, resolved: `{"$inc":{"items.0.qty":10,"items.1.qty":10,"items.2.qty":10}}`},
	{name: "$[] empty array", prev: `{"_id": 1, "a": []}`, query: `{}`, update: `{"$set": {"a.$[]": 1}}`, want: `{"_id":1,"a":[]}`, resolved: `{"$set":{}}`},
	{name: "$[<id>] filtered", prev: `{"_id": 1, "items": [{"sku": "a", "qty": 1}, {"sku": "x", "qty": 2}, {"sku": "x", "qty": 3}]}`,
		query: `{}`, update: `{"$set": {"items.$[e].qty": 0}}`, filters: []string{`{"e.sku": "x"}`},
		want: `{"_id":1,"items":[{"sku":"a","qty":1},{"sku":"x","qty":0},{"sku":"x","qty":0}]}`, resolved: `{"$set":{"items.1.qty":0,"items.2.qty":0}}`},
	{name: "$[<id>] on scalars", prev: `{"_id": 1, "grades": [95, 92, 90]}`, query: `{}`, update: `{"$set": {"grades.$[g]": 100}}`, filters: []string{`{"g": {"$gte": 92}}`},
		want: `{"_id":1,"grades":[100,100,90]}`, resolved: `{"$set":{"grades.0":100,"grades.1":100}}`},
	{name: "$[<id>] nested with $[]", prev: `{"_id": 1, "a": [{"k": 1, "b": [1, 2]}, {"k": 2, "b": [3]}]}`, query: `{}`,
		update: `{"$inc": {"a.$[x].b.$[]": 1}}`, filters: []string{`{"x.k": 2}`},
		want: `{"_id":1,"a":[{"k":1,"b":[1,2]},{"k":2,"b":[4]}]}`, resolved: `{"$inc":{"a.1.b.0":1}}`},
	{name: "$[<id>] matching nothing", prev: `{"_id": 1, "a": [1, 2]}`, query: `{}`, update: `{"$set": {"a.$[x]": 0}}`, filters: []string{`{"x": 9}`},
		want: `{"_id":1,"a":[1,2]}`, resolved: `{"$set":{}}`},
	{name: "$[<id>] without its filter", prev: `{"_id": 1, "a": [1]}`, query: `{}`, update: `{"$set": {"a.$[x]": 0}}`, filters: []string{}, code: mql.CodeUpdateArrayFilter},
	{name: "unused array filter", prev: `{"_id": 1, "a": [1]}`, query: `{}`, update: `{"$set": {"a.0": 0}}`, filters: []string{`{"y": 1}`}, code: mql.CodeUpdateArrayFilter},
	{name: "two identifiers in one filter", prev: `{"_id": 1, "a": [1]}`, query: `{}`, update: `{"$set": {"a.$[x]": 0}}`, filters: []string{`{"x": 1, "y": 1}`}, code: mql.CodeUpdateArrayFilter},
	{name: "$[] and $[<id>] meet", prev: `{"_id": 1, "a": [1, 2]}`, query: `{}`, update: `{"$set": {"a.$[]": 0, "a.$[x]": 1}}`, filters: []string{`{"x": 2}`}, code: mql.CodeUpdateConflict},
	{name: "$[] on a missing field", prev: `{"_id": 1}`, query: `{}`, update: `{"$set": {"a.$[]": 0}}`, code: mql.CodeUpdateNotViable},
}

func (c positionalCase) opts(t *testing.T) mql.ApplyOptions {
	o := mql.ApplyOptions{Query: extDoc(t, c.query)}
	if c.filters != nil {
		o.ArrayFilters = []bson.Raw{}
		for _, f := range c.filters {
			o.ArrayFilters = append(o.ArrayFilters, extDoc(t, f))
		}
	}
	return o
}

// TestApplyUpdatePositional checks the document after positional updates
// (ApplyUpdateWith with the query and arrayFilters) and the update
// ResolveUpdate gives for the server, against the manual's examples.
func TestApplyUpdatePositional(t *testing.T) {
	for _, c := range positionalCases {
		t.Run(c.name, func(t *testing.T) {
			prev, upd, o := extDoc(t, c.prev), extDoc(t, c.update), c.opts(t)
			got, err := mql.ApplyUpdateWith(prev, upd, o)
			res, rerr := mql.ResolveUpdate(prev, upd, o)
			if c.code != "" {
				for _, e := range []error{err, rerr} {
					if e == nil {
						t.Fatalf("no error, want %s", c.code)
					}
					if !containsCode(e, c.code) {
						t.Errorf("error %v, want code %s", e, c.code)
					}
					if errors.Is(e, mql.ErrUnsupportedUpdate) != (c.code == mql.CodeUpdateUnsupported) {
						t.Errorf("error %v: ErrUnsupportedUpdate %v", e, errors.Is(e, mql.ErrUnsupportedUpdate))
					}
				}
				return
			}
			if err != nil || rerr != nil {
				t.Fatalf("ApplyUpdateWith: %v; ResolveUpdate: %v", err, rerr)
			}
			if s := jsonOf(t, got); s != c.want {
				t.Errorf("after the update\n got  %s\n want %s", s, c.want)
			}
			if s := jsonOf(t, res); s != c.resolved {
				t.Errorf("resolved update\n got  %s\n want %s", s, c.resolved)
			}
			again, err := mql.ApplyUpdate(prev, res)
			if err != nil || jsonOf(t, again) != c.want {
				t.Errorf("the resolved update gives %s (%v), want %s", jsonOf(t, again), err, c.want)
			}
		})
	}
}

// TestApplyUpdatePositionalOnServer applies each update of
// positionalCases on the server and compares the stored document with
// ApplyUpdateWith's. The resolved update (array indexes only) is what the
// gate sends, and runs everywhere. The update as written runs on a real
// MongoDB (MONGODB_URI); the embedded FerretDB 1.24 refuses $ and $[]
// ("Cannot create field '$'") and the arrayFilters option
// (NotImplemented): a known divergence, checked here so that a FerretDB
// that accepts them is compared too.
func TestApplyUpdatePositionalOnServer(t *testing.T) {
	if testing.Short() {
		t.Skip("needs a server")
	}
	ctx := context.Background()
	coll := rulegatetest.Database(t).Collection("positional")
	ferret := os.Getenv(rulegatetest.EnvURI) == ""
	stored := func(t *testing.T, prev bson.Raw, upd bson.Raw, filter bson.Raw, af []bson.Raw) (string, error) {
		t.Helper()
		if _, err := coll.DeleteMany(ctx, bson.D{}); err != nil {
			t.Fatal(err)
		}
		if _, err := coll.InsertOne(ctx, prev); err != nil {
			t.Fatal(err)
		}
		o := options.UpdateOne()
		if af != nil {
			fs := make([]any, len(af))
			for i, f := range af {
				fs[i] = f
			}
			o.SetArrayFilters(fs)
		}
		if _, err := coll.UpdateOne(ctx, filter, upd, o); err != nil {
			return "", err
		}
		var got bson.Raw
		if err := coll.FindOne(ctx, bson.D{}).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return jsonOf(t, got), nil
	}
	for _, c := range positionalCases {
		if c.code != "" {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			prev, upd, o := extDoc(t, c.prev), extDoc(t, c.update), c.opts(t)
			want, err := mql.ApplyUpdateWith(prev, upd, o)
			if err != nil {
				t.Fatal(err)
			}
			res, err := mql.ResolveUpdate(prev, upd, o)
			if err != nil {
				t.Fatal(err)
			}
			got, err := stored(t, prev, res, extDoc(t, `{"_id": 1}`), nil)
			if err != nil {
				t.Fatalf("the resolved update %s: %v", jsonOf(t, res), err)
			}
			if got != jsonOf(t, want) {
				t.Errorf("the resolved update on the server\n got  %s\n want %s", got, jsonOf(t, want))
			}
			got, err = stored(t, prev, upd, o.Query, o.ArrayFilters)
			switch {
			case err != nil && ferret:
				t.Logf("known divergence: FerretDB refuses %s: %v", c.update, err)
			case err != nil:
				t.Fatalf("the update on the server: %v", err)
			case got != jsonOf(t, want):
				t.Errorf("the update on the server\n got  %s\n want %s", got, jsonOf(t, want))
			}
		})
	}
}

func containsCode(err error, code string) bool {
	var se *source.Error
	return errors.As(err, &se) && se.Code == code
}

// extDoc parses a relaxed extended JSON document.
func extDoc(t testing.TB, s string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return d
}

// jsonOf renders a document as relaxed extended JSON.
func jsonOf(t testing.TB, d bson.Raw) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatalf("cannot render %v: %v", d, err)
	}
	return string(b)
}
