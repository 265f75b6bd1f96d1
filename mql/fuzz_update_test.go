package mql

import (
	"bytes"
	"errors"
	"testing"

	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzUpdatePaths feeds arbitrary bytes (seeded with valid updates) to
// UpdatePaths and ApplyUpdate: they never panic, every error carries a
// code and a valid JSON pointer, and every result of ApplyUpdate is valid
// BSON.
func FuzzUpdatePaths(f *testing.F) {
	for _, s := range []string{
		`{"$set": {"a": 1, "b.c": [1, {"d": 2}]}}`,
		`{"$inc": {"items.$.qty": 1}, "$unset": {"x": ""}}`,
		`{"$push": {"a": {"$each": [1, 2], "$position": 0, "$slice": -1}}}`,
		`{"$addToSet": {"a": {"$each": [1, 1]}}, "$pull": {"b": 2}, "$pop": {"c": 1}}`,
		`{"$rename": {"a": "b.c"}, "$bit": {"n": {"and": 5}}, "$currentDate": {"t": true}}`,
		`{"$min": {"a": 1}, "$max": {"b": 2}, "$mul": {"c": 3}, "$pullAll": {"d": [1]}}`,
		`{"name": "x", "a": {"b": 1}}`,
		`{"0": {"$set": {"a": 1}}}`,
		`{"$set": {"a.5.b": 1}}`,
		`{"$set": {"a.1.b": 1, "c.01": {"$x": 1}}, "$rename": {"c.d": "a.0.e"}, "$push": {"a.$[].f": {"$each": [{"g.h": 1}]}}}`,
		`{"$set": {"a.$": 0, "a.$[x].b": 2}, "$inc": {"a.$[].c": 1}}`,
	} {
		var d bson.Raw
		if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
			f.Fatal(err)
		}
		f.Add([]byte(d))
	}
	prev := bson.Raw(utMarshal(f, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.A{1, bson.D{{Key: "b", Value: 2}}}}, {Key: "c", Value: bson.D{{Key: "d", Value: "x"}}}, {Key: "n", Value: int32(3)}}))
	query := bson.Raw(utMarshal(f, bson.D{{Key: "a.b", Value: 2}}))
	arrayFilter := bson.Raw(utMarshal(f, bson.D{{Key: "x", Value: bson.D{{Key: "$gte", Value: 1}}}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := UpdatePaths(bson.Raw(b))
		utCheckUpdateErr(t, err)
		if err == nil && !info.Replacement && len(info.Operators) == 0 {
			t.Fatalf("an update with no operators that is not a replacement: %+v", info)
		}
		for _, p := range []bson.Raw{nil, prev} {
			in, err := UpdatePathsIn(p, bson.Raw(b))
			utCheckUpdateErr(t, err)
			if err == nil && in.Replacement != info.Replacement {
				t.Fatalf("UpdatePathsIn and UpdatePaths disagree on a replacement")
			}
			_ = ValidateUpdate(bson.Raw(b))
			post, err := ApplyUpdate(p, bson.Raw(b))
			utCheckUpdateErr(t, err)
			if err == nil {
				if verr := post.Validate(); verr != nil {
					t.Fatalf("ApplyUpdate gave invalid BSON: %v", verr)
				}
			}
			// Positional paths decided by a query and an array filter:
			// the resolved update computes the same document.
			opt := ApplyOptions{Query: query, ArrayFilters: []bson.Raw{arrayFilter}}
			post, err = ApplyUpdateWith(p, bson.Raw(b), opt)
			utCheckUpdateErr(t, err)
			res, rerr := ResolveUpdate(p, bson.Raw(b), opt)
			utCheckUpdateErr(t, rerr)
			if err == nil && rerr == nil {
				again, err := ApplyUpdate(p, res)
				if err != nil || !bytes.Equal(again, post) {
					t.Fatalf("the resolved update %v gives %v (%v), the update %v", res, again, err, post)
				}
			}
		}
	})
}

func utCheckUpdateErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var se *source.Error
	if !errors.As(err, &se) || se.Code == "" {
		t.Fatalf("error without a code: %v", err)
	}
	if _, perr := se.Ptr.Tokens(); perr != nil {
		t.Fatalf("bad pointer in %v: %v", err, perr)
	}
	if !errors.Is(err, ErrInvalidUpdate) && !errors.Is(err, ErrUnsupportedUpdate) {
		t.Fatalf("error wraps no sentinel: %v", err)
	}
}

func utMarshal(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func BenchmarkUpdatePaths(b *testing.B) {
	u := utMarshal(b, bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: "open"}, {Key: "items.$.qty", Value: 2}, {Key: "meta.updatedBy", Value: "u1"}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		{Key: "$push", Value: bson.D{{Key: "history", Value: bson.D{{Key: "$each", Value: bson.A{"x"}}, {Key: "$slice", Value: -10}}}}},
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UpdatePaths(u); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyUpdate(b *testing.B) {
	prev := utMarshal(b, bson.D{{Key: "_id", Value: 1}, {Key: "status", Value: "draft"}, {Key: "version", Value: 3},
		{Key: "meta", Value: bson.D{{Key: "updatedBy", Value: "u0"}}}, {Key: "history", Value: bson.A{"a", "b"}}})
	u := utMarshal(b, bson.D{
		{Key: "$set", Value: bson.D{{Key: "status", Value: "open"}, {Key: "meta.updatedBy", Value: "u1"}}},
		{Key: "$inc", Value: bson.D{{Key: "version", Value: 1}}},
		{Key: "$push", Value: bson.D{{Key: "history", Value: "c"}}},
	})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ApplyUpdate(prev, u); err != nil {
			b.Fatal(err)
		}
	}
}
