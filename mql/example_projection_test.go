package mql_test

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/mql"
)

func ExampleParseProjection() {
	doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.D{{Key: "x", Value: 1}, {Key: "y", Value: 2}}}, {Key: "b", Value: 3}})
	for _, p := range []bson.D{{{Key: "a.x", Value: 1}}, {{Key: "b", Value: 0}, {Key: "_id", Value: 0}}, {{Key: "a", Value: 1}, {Key: "b", Value: 0}}} {
		raw, _ := bson.Marshal(p)
		proj, err := mql.ParseProjection(raw)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(proj.Inclusion(), proj.Apply(doc))
	}
	// Output:
	// true {"_id":{"$numberInt":"1"},"a":{"x":{"$numberInt":"1"}}}
	// false {"a":{"x":{"$numberInt":"1"},"y":{"$numberInt":"2"}}}
	// projection mixes inclusion and exclusion
}

func ExampleQueryPaths() {
	q, _ := bson.Marshal(bson.D{
		{Key: "owner", Value: "a1"},
		{Key: "$or", Value: bson.A{bson.D{{Key: "tags", Value: "x"}}, bson.D{{Key: "$expr", Value: bson.D{{Key: "$gt", Value: bson.A{"$n", "$m.k"}}}}}}},
	})
	paths := map[string]bool{}
	mql.QueryPaths(q, paths)
	fmt.Println(len(paths), paths["owner"], paths["tags"], paths["n"], paths["m.k"])
	// Output:
	// 4 true true true true
}
