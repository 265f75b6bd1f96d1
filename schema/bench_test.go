package schema_test

import (
	"testing"

	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// BenchmarkValidate checks a document of the shape of the votes example of
// source/schemas/enforce-a-schema.txt against its schema.
func BenchmarkValidate(b *testing.B) {
	n, err := source.ParseJSON(source.NewFile("schema.json", []byte(`{
  "bsonType": "object",
  "required": ["name", "age", "favoriteColors"],
  "properties": {
    "name": {"bsonType": "string"},
    "age": {"bsonType": "int", "minimum": 13},
    "favoriteColors": {"bsonType": "array", "uniqueItems": true, "items": {
      "bsonType": "object",
      "properties": {"rank": {"bsonType": "int"}, "name": {"bsonType": "string"}, "hexCode": {"bsonType": "string"}}
    }}
  }
}`)))
	if err != nil {
		b.Fatal(err)
	}
	s, diags := schema.Compile(n)
	if s == nil {
		b.Fatal(diags)
	}
	doc, _ := bson.Marshal(bson.D{
		{Key: "name", Value: "Jane Doe"}, {Key: "age", Value: int32(42)},
		{Key: "favoriteColors", Value: bson.A{
			bson.D{{Key: "rank", Value: int32(1)}, {Key: "name", Value: "RebeccaPurple"}, {Key: "hexCode", Value: "#663399"}},
			bson.D{{Key: "rank", Value: int32(2)}, {Key: "name", Value: "DodgerBlue"}, {Key: "hexCode", Value: "#1E90FF"}},
			bson.D{{Key: "rank", Value: int32(3)}, {Key: "name", Value: "SeaGreen"}, {Key: "hexCode", Value: "#2E8B57"}},
		}},
	})
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
