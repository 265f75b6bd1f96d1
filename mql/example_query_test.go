package mql_test

import (
	"errors"
	"fmt"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleValidateQuery() {
	fmt.Println(mql.ValidateQuery(exampleExtDoc(`{"owner": "%%user.id", "n": {"$gte": 1}}`)))

	err := mql.ValidateQuery(exampleExtDoc(`{"$or": [{"a": 1}, {"$where": "this.secret"}]}`))
	fmt.Println(errors.Is(err, mql.ErrInvalidQuery), err)

	fmt.Println(mql.ValidateQuery(exampleExtDoc(`{"a": {"$near": [0, 0]}, "b": {"$foo": 1}}`)))
	// Output:
	// <nil>
	// true /$or/1/$where: $where is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)
	// /a/$near: $near is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)
}

func ExampleAnd() {
	client := bson.D{{Key: "owner", Value: "%%user.id"}} // a literal string: client queries are never expanded
	rule := bson.D{{Key: "owner", Value: "u1"}}
	fmt.Println(mql.And(client, rule))
	fmt.Println(mql.And(nil, rule))
	// Output:
	// {"$and":[{"owner":"%%user.id"},{"owner":"u1"}]}
	// {"owner":"u1"}
}

func ExampleNeverMatch() {
	f, _ := bson.MarshalExtJSON(mql.NeverMatch(), false, false)
	fmt.Println(string(f))
	// Output: {"_id":{"$in":[]}}
}

func ExampleValidateDocument() {
	fmt.Println(mql.ValidateDocument(exampleExtDoc(`{"_id": 1, "owner": "u1", "tags": ["a"]}`)))
	fmt.Println(mql.ValidateDocument(exampleExtDoc(`{"_id": 1, "meta": {"$set": {"admin": true}}}`)))
	fmt.Println(mql.ValidateDocument(exampleExtDoc(`{"a.b": 1}`)))
	// Output:
	// <nil>
	// /meta/$set: field name "$set" starts with "$" (document/dollar-field)
	// /a.b: field name "a.b" holds a "." (document/dotted-field)
}

func ExampleValidateUpdate() {
	fmt.Println(mql.ValidateUpdate(exampleExtDoc(`{"$set": {"profile.name": "Ann"}, "$inc": {"n": 1}}`)))
	fmt.Println(mql.ValidateUpdate(exampleExtDoc(`{"$push": {"log": {"$each": [{"at.time": 1}]}}}`)))
	// Output:
	// <nil>
	// /$push/log/$each/0/at.time: field name "at.time" holds a "." (document/dotted-field)
}
