package schema_test

import (
	"errors"
	"testing"

	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzCompileValidate: Compile never panics, its diagnostics point into
// the file, and a compiled schema validates any document without panicking,
// returning nil, a *ValidationError wrapping ErrInvalid with a pointer into
// the document, or a malformed-document error.
func FuzzCompileValidate(f *testing.F) {
	for _, s := range []string{
		`{"bsonType": "object", "required": ["a"], "properties": {"a": {"bsonType": ["int", "null"]}}}`,
		`{"properties": {"a": {"bsonType": "array", "items": [{"bsonType": "string"}], "additionalItems": false, "uniqueItems": true}}}`,
		`{"properties": {"a": {"enum": [1, {"$oid": "5f1f216e82df4a7979f9da93"}], "minimum": 0, "maxLength": 3}}, "additionalProperties": {"type": "number"}}`,
		`{"properties": {"owner_id": {"validate": {"%or": [{"%%prev": {"%exists": false}}, {"%%prev": "%%this"}]}}}}`,
		`{"bsonType": "boolean", "pattern": 1, "minItems": -1}`,
	} {
		for _, d := range []bson.D{
			{{Key: "a", Value: int32(1)}},
			{{Key: "a", Value: bson.A{"x", "x", 2}}},
			{{Key: "a", Value: nil}, {Key: "b", Value: bson.D{{Key: "c", Value: 1.5}}}},
		} {
			raw, _ := bson.Marshal(d)
			f.Add(s, []byte(raw))
		}
	}
	f.Fuzz(func(t *testing.T, js string, doc []byte) {
		file := source.NewFile("schema.json", []byte(js))
		n, err := source.ParseJSON(file)
		if err != nil {
			return
		}
		s, diags := schema.Compile(n)
		for _, d := range diags {
			if d.Line == 0 && d.File != "" {
				t.Fatalf("diagnostic without a place: %v", d)
			}
			if _, err := d.Ptr.Tokens(); err != nil {
				t.Fatalf("bad pointer in %v: %v", d, err)
			}
		}
		if s == nil {
			if len(diags.Errors()) == 0 {
				t.Fatalf("nil schema without an error: %v", diags)
			}
			return
		}
		err = s.Validate(bson.Raw(doc))
		var ve *schema.ValidationError
		if errors.As(err, &ve) {
			if !errors.Is(err, schema.ErrInvalid) {
				t.Fatalf("%v does not wrap ErrInvalid", err)
			}
			if _, perr := ve.Path.Tokens(); perr != nil {
				t.Fatalf("bad document pointer in %v: %v", err, perr)
			}
		}
	})
}
