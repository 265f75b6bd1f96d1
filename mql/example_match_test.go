package mql_test

import (
	"errors"
	"fmt"

	"github.com/rulegate/rulegate/mql"
)

func ExampleMatch() {
	doc := exampleExtDoc(`{"_id": 1, "owner": "u1", "tags": ["a", "b"], "items": {"1": {"qty": 2}}}`)
	for _, f := range []string{
		`{"$or": [{"owner": "u2"}, {"tags": "b"}]}`,
		`{"items": {"$not": {"$type": "array"}}, "items.1.qty": {"$gte": 2}}`,
		`{"owner": {"$nin": ["u1", null]}}`,
	} {
		fmt.Println(mql.Match(exampleExtDoc(f), doc))
	}
	_, err := mql.Match(exampleExtDoc(`{"owner": {"$bitsAllSet": 1}}`), doc)
	fmt.Println(errors.Is(err, mql.ErrUnsupportedFilter), err)
	// Output:
	// true <nil>
	// true <nil>
	// false <nil>
	// true /owner/$bitsAllSet: operator $bitsAllSet is not supported by Match
}
