package schema_test

import (
	"errors"
	"fmt"
	"testing/fstest"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleCompile() {
	f := source.NewFile("schema.json", []byte(`{
  "bsonType": "object",
  "required": ["name"],
  "properties": {
    "name": {"bsonType": "string", "pattern": "^[a-z]+$"},
    "age": {"bsonType": "int", "minimum": 13}
  }
}`))
	n, _ := source.ParseJSON(f)
	s, diags := schema.Compile(n)
	fmt.Println(s != nil)
	fmt.Println(diags)
	// Output:
	// true
	// schema.json:5:36: /properties/name/pattern: warning: rulegate does not enforce "pattern": every write to the collection is refused (fail closed) (schema/unsupported)
}

func ExampleSchema_Validate() {
	n, _ := source.ParseJSON(source.NewFile("schema.json", []byte(`{"properties": {"tags": {"bsonType": "array", "items": {"bsonType": "string"}}}}`)))
	s, _ := schema.Compile(n)
	ok, _ := bson.Marshal(bson.D{{Key: "tags", Value: bson.A{"a", "b"}}})
	fmt.Println(s.Validate(ok))
	doc, _ := bson.Marshal(bson.D{{Key: "tags", Value: bson.A{"a", 2}}})
	err := s.Validate(doc)
	var ve *schema.ValidationError
	fmt.Println(errors.As(err, &ve), ve.Path, ve.Keyword, ve.SchemaPtr)
	fmt.Println(err)
	// Output:
	// <nil>
	// true /tags/1 bsonType /properties/tags/items/bsonType
	// schema: /tags/1: want bsonType "string", got int (bsonType)
}

func ExampleSchema_Expressions() {
	n, _ := source.ParseJSON(source.NewFile("schema.json", []byte(`{"properties": {"owner_id": {"validate": {"%or": [{"%%prev": {"%exists": false}}, {"%%prev": "%%this"}]}}}}`)))
	s, _ := schema.Compile(n)
	for _, e := range s.Expressions() {
		fmt.Println(e.Path, e.Expr.Loc().Ptr)
	}
	// Output:
	// [owner_id] /properties/owner_id/validate/%or
}

func ExampleSchema_File() {
	n, _ := source.ParseJSON(source.NewFile("data_sources/mongodb-atlas/db/coll/schema.json", []byte(`{}`)))
	s, _ := schema.Compile(n)
	fmt.Println(s.File())
	// Output:
	// data_sources/mongodb-atlas/db/coll/schema.json
}

func ExampleCheck() {
	app, _ := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/db/coll/schema.json": {Data: []byte(`{"properties": {"n": {"bsonType": "integer"}}}`)},
	})
	fmt.Println(schema.Check(app))
	// Output:
	// data_sources/mongodb-atlas/db/coll/schema.json:1:35: /properties/n/bsonType: unknown bsonType "integer" (want one of array, binData, bool, date, dbPointer, decimal, double, int, javascript, javascriptWithScope, long, maxKey, minKey, mixed, null, number, object, objectId, regex, string, symbol, timestamp, undefined, uuid) (schema/type)
}
