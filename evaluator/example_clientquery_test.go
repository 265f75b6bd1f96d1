package evaluator_test

import (
	"errors"
	"fmt"

	"github.com/rulegate/rulegate/evaluator"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleValidateClientQuery() {
	fmt.Println(evaluator.ValidateClientQuery(exampleExtDoc(`{"owner": "%%user.id", "n": {"$gte": 1}}`)))

	err := evaluator.ValidateClientQuery(exampleExtDoc(`{"$or": [{"a": 1}, {"$where": "this.secret"}]}`))
	fmt.Println(errors.Is(err, evaluator.ErrInvalidQuery), err)

	fmt.Println(evaluator.ValidateClientQuery(exampleExtDoc(`{"a": {"$near": [0, 0]}, "b": {"$foo": 1}}`)))
	// Output:
	// <nil>
	// true /$or/1/$where: $where is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)
	// /a/$near: $near is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)
}

func ExampleCombine() {
	client := bson.D{{Key: "owner", Value: "%%user.id"}} // a literal string: client queries are never expanded
	rule := bson.D{{Key: "owner", Value: "u1"}}
	fmt.Println(evaluator.Combine(client, rule))
	fmt.Println(evaluator.Combine(nil, rule))
	// Output:
	// {"$and":[{"owner":"%%user.id"},{"owner":"u1"}]}
	// {"owner":"u1"}
}

func ExampleValidateClientDocument() {
	fmt.Println(evaluator.ValidateClientDocument(exampleExtDoc(`{"_id": 1, "owner": "u1", "tags": ["a"]}`)))
	fmt.Println(evaluator.ValidateClientDocument(exampleExtDoc(`{"_id": 1, "meta": {"$set": {"admin": true}}}`)))
	fmt.Println(evaluator.ValidateClientDocument(exampleExtDoc(`{"a.b": 1}`)))
	// Output:
	// <nil>
	// /meta/$set: field name "$set" starts with "$" (document/dollar-field)
	// /a.b: field name "a.b" holds a "." (document/dotted-field)
}
