package mql_test

import (
	"fmt"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExamplePaths() {
	doc := exampleExtDoc(`{"_id": 1, "bid": 20, "seller": {"name": "ann", "ssn": "111"}, "notes": {"secret": 1}}`)
	read := mql.NewPaths([]string{"_id", "bid", "seller.name", "notes.public"})
	show := func(d bson.D) {
		raw, _ := bson.Marshal(d)
		fmt.Println(bson.Raw(raw))
	}
	show(read.Keep(doc))
	show(read.Redact(doc))
	show(mql.NewPaths([]string{"seller.ssn", "notes"}).Drop(doc))
	fmt.Println(read.Covers("seller.name"), read.Covers("seller"), read.Top())
	// Output:
	// {"_id": {"$numberInt":"1"},"bid": {"$numberInt":"20"},"seller": {"name": "ann"},"notes": {}}
	// {"_id": {"$numberInt":"1"},"bid": {"$numberInt":"20"},"seller": {"name": "ann"}}
	// {"_id": {"$numberInt":"1"},"bid": {"$numberInt":"20"},"seller": {"name": "ann"}}
	// true false [_id bid notes seller]
}
