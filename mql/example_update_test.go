package mql_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// exampleExtDoc parses relaxed extended JSON for the examples.
func exampleExtDoc(s string) bson.Raw {
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		panic(err)
	}
	return d
}

func ExampleUpdatePaths() {
	info, err := mql.UpdatePaths(exampleExtDoc(`{"$set": {"items.$.qty": 2, "status": "open"}, "$rename": {"note": "notes.first"}}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Paths, info.TopLevel(), info.Operators, info.Positional)

	_, err = mql.UpdatePaths(exampleExtDoc(`{"$set": {"a": 1}, "b": 2}`))
	fmt.Println(err)
	// Output:
	// [items.qty note notes.first status] [items note notes status] [$rename $set] true
	// /b: update mixes operators and plain fields: "b" is not an update operator (use $set, or send a replacement document) (update/mixed)
}

func ExampleReplacementPaths() {
	prev := exampleExtDoc(`{"_id": 1, "owner": "u1", "title": "a", "draft": true}`)
	paths, _ := mql.ReplacementPaths(prev, exampleExtDoc(`{"_id": 1, "owner": "u1", "title": "b"}`))
	fmt.Println(paths)
	// Output: [draft owner title]
}

func ExampleMarshalUpdate() {
	raw, _ := mql.MarshalUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}})
	fmt.Println(raw)
	_, err := mql.MarshalUpdate(bson.A{bson.D{{Key: "$set", Value: bson.D{{Key: "n", Value: 1}}}}})
	fmt.Println(err)
	// Output:
	// {"$inc": {"n": {"$numberInt":"1"}}}
	// update pipelines are not supported: a pipeline can compute any field from any other, so field-level rules cannot be checked (update/pipeline)
}

func ExampleApplyUpdate() {
	prev := exampleExtDoc(`{"_id": 1, "owner": "u1", "tags": ["a"], "n": 1}`)
	post, err := mql.ApplyUpdate(prev, exampleExtDoc(`{"$inc": {"n": 1}, "$addToSet": {"tags": "b"}, "$unset": {"owner": ""}}`))
	fmt.Println(post, err)

	_, err = mql.ApplyUpdate(prev, exampleExtDoc(`{"$set": {"tags.$": "c"}}`))
	fmt.Println(errors.Is(err, mql.ErrUnsupportedUpdate), err)
	// Output:
	// {"_id": {"$numberInt":"1"},"tags": ["a","b"],"n": {"$numberInt":"2"}} <nil>
	// true /$set/tags.$: positional operators ($) need the query and arrayFilters; the result cannot be computed here (update/unsupported)
}

func ExampleApplyUpdateWith() {
	seed := exampleExtDoc(`{"_id": 7, "team": "red"}`)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	post, _ := mql.ApplyUpdateWith(seed, exampleExtDoc(`{"$setOnInsert": {"owner": "u1"}, "$currentDate": {"at": true}}`),
		mql.ApplyOptions{Insert: true, Now: now})
	fmt.Println(post)
	// Output: {"_id": {"$numberInt":"7"},"team": "red","at": {"$date":{"$numberLong":"1767323045000"}},"owner": "u1"}
}

func ExampleUpdateInfo_TopLevel() {
	info, _ := mql.UpdatePaths(exampleExtDoc(`{"$set": {"address.city": "Oslo", "address.zip": "0150"}, "$inc": {"items.$[].qty": 1}}`))
	fmt.Println(info.Paths, info.TopLevel())
	// Output: [address.city address.zip items.qty] [address items]
}

func ExampleUpdatePathsIn() {
	// "2024" is a field name in an embedded document, an index in an array.
	update := exampleExtDoc(`{"$set": {"a.2024.b": 1}}`)
	for _, prev := range []string{`{"a": {"2024": {"b": 0}}}`, `{"a": []}`} {
		info, _ := mql.UpdatePathsIn(exampleExtDoc(prev), update)
		fmt.Println(info.Paths)
	}
	info, _ := mql.UpdatePaths(update) // without the stored document: both
	fmt.Println(info.Paths)
	// Output:
	// [a.2024.b]
	// [a.b]
	// [a.2024.b a.b]
}

func ExampleWritePaths() {
	paths, _ := mql.WritePaths(exampleExtDoc(`{"$set": {"a.3.b": 1, "c.0.d.1": 2}}`))
	for _, p := range paths {
		fmt.Printf("%v %q\n", p.Readings, p.ArrayAt)
	}
	paths, _ = mql.WritePaths(exampleExtDoc(`{"name": "x"}`))
	fmt.Println(paths[0].Replacement != nil)
	// Output:
	// [[a b] [a 3 b]] "a"
	// [[c d] [c d 1] [c 0 d] [c 0 d 1]] ""
	// true
}

func ExampleIsReplacement() {
	fmt.Println(mql.IsReplacement(exampleExtDoc(`{"name": "x"}`)))
	fmt.Println(mql.IsReplacement(exampleExtDoc(`{"$set": {"name": "x"}}`)))
	fmt.Println(mql.IsReplacement(nil))
	// Output:
	// true
	// false
	// false
}

// ResolveUpdate turns positional paths into the array indexes they stand
// for in the stored document: the query decides $, arrayFilters decide
// $[<identifier>].
func ExampleResolveUpdate() {
	prev := exampleExtDoc(`{"_id": 1, "items": [{"sku": "a", "qty": 1}, {"sku": "x", "qty": 2}]}`)
	opt := mql.ApplyOptions{
		Query:        exampleExtDoc(`{"items.sku": "x"}`),
		ArrayFilters: []bson.Raw{exampleExtDoc(`{"e.qty": {"$lt": 2}}`)},
	}
	upd := exampleExtDoc(`{"$set": {"items.$.sku": "y", "items.$[e].qty": 0}}`)
	resolved, err := mql.ResolveUpdate(prev, upd, opt)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resolved)
	after, _ := mql.ApplyUpdateWith(prev, upd, opt)
	fmt.Println(after)
	// Output:
	// {"$set": {"items.1.sku": "y","items.0.qty": {"$numberInt":"0"}}}
	// {"_id": {"$numberInt":"1"},"items": [{"sku": "a","qty": {"$numberInt":"0"}},{"sku": "y","qty": {"$numberInt":"2"}}]}
}
