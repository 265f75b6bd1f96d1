package evaluator_test

import (
	"context"
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// A collection's schema.json is enforced on the writes the rules allow:
// the insert breaking it is denied with ReasonSchema, and the trace says
// where.
func ExampleReasonSchema() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/shop/orders/rules.json": {Data: []byte(exampleRules)},
		"data_sources/mongodb-atlas/shop/orders/schema.json": {Data: []byte(`{
  "bsonType": "object",
  "required": ["owner_id", "total"],
  "properties": {"total": {"bsonType": "number", "minimum": 0}}
}`)},
	})
	p, err := evaluator.Compile(app)
	if err != nil {
		panic(err)
	}
	caller := evaluator.Caller{Namespace: "shop.orders", Inputs: expansion.Inputs{User: exampleUser()}}
	for _, doc := range []string{
		`{"_id": 1, "owner_id": "u1", "total": 10}`,
		`{"_id": 2, "owner_id": "u1", "total": -1}`,
	} {
		var tr evaluator.Trace
		dec, _ := p.Evaluate(context.Background(), caller,
			evaluator.Doc{Action: evaluator.ActionInsert, Document: exampleDoc(doc)}, evaluator.WithTrace(&tr))
		last := tr.Steps[len(tr.Steps)-2]
		fmt.Println(dec.Allowed, dec.Reason, last.Ptr, last.Detail)
	}
	// Output:
	// true allowed  the document matches the schema
	// false schema /properties/total/minimum schema: /total: -1 is below the minimum 0 (minimum)
}
