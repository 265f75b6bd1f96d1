package schema_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/schema"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func compile(t *testing.T, js string) (*schema.Schema, source.ErrorList) {
	t.Helper()
	n, err := source.ParseJSON(source.NewFile("schema.json", []byte(js)))
	if err != nil {
		t.Fatal(err)
	}
	return schema.Compile(n)
}

func doc(t *testing.T, ext string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(ext), false, &d); err != nil {
		t.Fatalf("%s: %v", ext, err)
	}
	return d
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		schema, doc, want string
	}{
		{`{"bsonType": "object"}`, `{}`, ``},
		{`{"properties": {"a": {"bsonType": "string"}}}`, `{"a": "x"}`, ``},
		{`{"properties": {"a": {"bsonType": "string"}}}`, `{"a": 1}`, `schema: /a: want bsonType "string", got int (bsonType)`},
		{`{"properties": {"a": {"bsonType": "string"}}}`, `{}`, ``},
		{`{"properties": {"a": {"bsonType": "string"}}}`, `{"a": null}`, `schema: /a: want bsonType "string", got null (bsonType)`},
		{`{"properties": {"a": {"bsonType": ["string", "null"]}}}`, `{"a": null}`, ``},
		{`{"properties": {"a": {"bsonType": "number"}}}`, `{"a": {"$numberLong": "1"}}`, ``},
		{`{"properties": {"a": {"bsonType": "number"}}}`, `{"a": {"$numberDecimal": "1.5"}}`, ``},
		{`{"properties": {"a": {"bsonType": "number"}}}`, `{"a": "1"}`, `schema: /a: want bsonType "number", got string (bsonType)`},
		{`{"properties": {"a": {"bsonType": "int"}}}`, `{"a": 1.0}`, `schema: /a: want bsonType "int", got double (bsonType)`},
		{`{"properties": {"a": {"bsonType": "long"}}}`, `{"a": 1}`, `schema: /a: want bsonType "long", got int (bsonType)`},
		{`{"properties": {"a": {"bsonType": "uuid"}}}`, `{"a": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}}`, ``},
		{`{"properties": {"a": {"bsonType": "uuid"}}}`, `{"a": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "00"}}}`, `schema: /a: want bsonType "uuid", got binData (bsonType)`},
		{`{"properties": {"a": {"bsonType": "mixed"}}}`, `{"a": [1]}`, ``},
		{`{"properties": {"a": {"bsonType": "boolean"}}}`, `{"a": true}`, ``},
		{`{"properties": {"a": {"type": "number"}}}`, `{"a": 2}`, ``},
		{`{"properties": {"a": {"type": "boolean"}}}`, `{"a": 2}`, `schema: /a: want type "boolean", got int (type)`},
		{`{"required": ["a", "b"]}`, `{"a": null}`, `schema: (document): the required field "b" is missing (required)`},
		{`{"properties": {"a": {"enum": [1, "x"]}}}`, `{"a": 1.0}`, ``},
		{`{"properties": {"a": {"enum": [1, "x"]}}}`, `{"a": "y"}`, `schema: /a: "y" is not one of the enum values (enum)`},
		{`{"properties": {"a": {"bsonType": "object", "required": ["b"], "properties": {"b": {"bsonType": "date"}}}}}`, `{"a": {"b": 1}}`, `schema: /a/b: want bsonType "date", got int (bsonType)`},
		{`{"properties": {"a": {"bsonType": "object", "required": ["b"]}}}`, `{"a": {}}`, `schema: /a: the required field "b" is missing (required)`},
		{`{"properties": {"a": {"bsonType": "array", "items": {"bsonType": "string"}}}}`, `{"a": ["x", 2]}`, `schema: /a/1: want bsonType "string", got int (bsonType)`},
		{`{"properties": {"a": {"bsonType": "array", "items": [{"bsonType": "string"}], "additionalItems": false}}}`, `{"a": ["x", "y"]}`, `schema: /a/1: the array has more items than the 1 schemas of items (additionalItems)`},
		{`{"properties": {"a": {"bsonType": "array", "minItems": 2}}}`, `{"a": [1]}`, `schema: /a: the array has 1 items, fewer than 2 (minItems)`},
		{`{"properties": {"a": {"bsonType": "array", "uniqueItems": true}}}`, `{"a": [1, 2, 1.0]}`, `schema: /a/2: the item equals item 0 (uniqueItems)`},
		{`{"properties": {"a": {"maxLength": 2}}}`, `{"a": "héé"}`, `schema: /a: the string has 3 characters, more than 2 (maxLength)`},
		{`{"properties": {"a": {"minimum": 13, "exclusiveMinimum": true}}}`, `{"a": 13}`, `schema: /a: 13 is below the minimum 13 (minimum)`},
		{`{"properties": {"a": {"minimum": 13}}}`, `{"a": 13}`, ``},
		{`{"properties": {"a": {"minimum": 13}}}`, `{"a": "12"}`, ``},
		{`{"properties": {"a.b": {"bsonType": "int"}}}`, `{"a.b": "x"}`, `schema: /a.b: want bsonType "int", got string (bsonType)`},
		{`{"properties": {"a": {}}, "additionalProperties": false}`, `{"a": 1, "b/c": 2}`, `schema: /b~1c: the field "b/c" is not in the schema's properties (additionalProperties)`},
		{`{"additionalProperties": {"bsonType": "string"}}`, `{"a": "x", "b": 2}`, `schema: /b: want bsonType "string", got int (bsonType)`},
		{`{"maxProperties": 1}`, `{"a": 1, "b": 2}`, `schema: (document): the object has 2 fields, more than 1 (maxProperties)`},
	} {
		s, diags := compile(t, tc.schema)
		if len(diags.Errors()) > 0 {
			t.Errorf("%s: %v", tc.schema, diags)
			continue
		}
		got := ""
		if err := s.Validate(doc(t, tc.doc)); err != nil {
			got = err.Error()
			if !errors.Is(err, schema.ErrInvalid) {
				t.Errorf("%s %s: %v is not ErrInvalid", tc.schema, tc.doc, err)
			}
		}
		if got != tc.want {
			t.Errorf("%s on %s:\n got %q\nwant %q", tc.schema, tc.doc, got, tc.want)
		}
	}
}

func TestCompileDiagnostics(t *testing.T) {
	for _, tc := range []struct{ schema, want string }{
		{`{"bsonType": "integer"}`, `schema.json:1:14: /bsonType: unknown bsonType "integer"`},
		{`{"type": "integer"}`, `schema.json:1:10: /type: unknown type "integer"`},
		{`{"bsonType": "object", "type": "object"}`, `/type: bsonType and type cannot be used together (schema/type)`},
		{`{"bsonType": "string"}`, `/bsonType: the root schema must describe an object (a document), not string (schema/root)`},
		{`{"properties": {"a": {"pattern": "^x"}}}`, `schema.json:1:23: /properties/a/pattern: warning: rulegate does not enforce "pattern": every write to the collection is refused (fail closed) (schema/unsupported)`},
		{`{"requried": ["a"]}`, `/requried: warning: "requried" is not a keyword of the schema language; it constrains nothing (did you mean "required"?) (schema/unknown-key)`},
		{`{"properties": {"a": {"bsonType": "boolean"}}}`, `(schema/spelling)`},
		{`{"properties": {"a": {"validate": {"$foo": 1}}}}`, `(rules/unknown-operator)`},
		{`{"properties": {"a": {"bsonType": "array", "items": {"validate": {"%%this": 1}}}}}`, `(schema/unsupported)`},
		{`{"required": "a"}`, `/required: required must be an array of field names, got a string (schema/type)`},
		{`{"properties": {"a": {"minItems": -1}}}`, `want a non-negative integer, got -1 (schema/type)`},
		{`[]`, `a schema must be an object, got an array (schema/type)`},
	} {
		_, diags := compile(t, tc.schema)
		if !strings.Contains(diags.Error(), tc.want) {
			t.Errorf("%s:\n got %s\nwant %s", tc.schema, diags.Error(), tc.want)
		}
	}
}

func TestBlindValidateRefusesWrites(t *testing.T) {
	s, diags := compile(t, `{"properties": {"a": {"items": {"validate": {"%%this": 1}}}}}`)
	if s == nil || len(diags.Warnings()) != 1 {
		t.Fatalf("want a schema with one warning, got %v", diags)
	}
	if err := s.Validate(doc(t, `{}`)); !errors.Is(err, schema.ErrInvalid) {
		t.Fatalf("want every write refused, got %v", err)
	}
}

// TestUnenforcedKeywordRefusesWrites: a keyword rulegate does not enforce
// ("not", "pattern", "anyOf", ...) refuses every write to the collection
// (fail closed): {"not": {"enum": ["admin"]}} left unchecked would let a
// user write role "admin".
func TestUnenforcedKeywordRefusesWrites(t *testing.T) {
	for _, kw := range []string{`"not": {"enum": ["admin"]}`, `"pattern": "^u"`, `"anyOf": [{"bsonType": "string"}]`, `"allOf": []`, `"oneOf": []`, `"multipleOf": 2`} {
		s, diags := compile(t, `{"properties": {"role": {`+kw+`}}}`)
		if s == nil || len(diags.Warnings()) != 1 || !strings.Contains(diags.Error(), "every write to the collection is refused") {
			t.Fatalf("%s: want a schema with one warning saying writes are refused, got %v", kw, diags)
		}
		for _, d := range []string{`{"role": "admin"}`, `{"role": "user"}`, `{}`} {
			if err := s.Validate(doc(t, d)); !errors.Is(err, schema.ErrInvalid) {
				t.Errorf("%s: Validate(%s) = %v, want every write refused", kw, d, err)
			}
		}
	}
}

func TestExpressionsPaths(t *testing.T) {
	s, _ := compile(t, `{"validate": true, "properties": {"a": {"properties": {"b": {"validate": {"%%prev": "%%this"}}}}}}`)
	var got []string
	for _, e := range s.Expressions() {
		got = append(got, "/"+strings.Join(e.Path, "/")+" "+string(e.Expr.Loc().Ptr))
	}
	want := "/ /validate; /a/b /properties/a/properties/b/validate/%%prev"
	if strings.Join(got, "; ") != want {
		t.Fatalf("got %q, want %q", strings.Join(got, "; "), want)
	}
}

// TestRealWorldSchemas compiles every schema of the real exports under
// ../shared/realworld (schema.json, and the inline "schema" of old-layout
// rule files) and reports the keywords they use and which are not
// enforced; none may have an error.
func TestRealWorldSchemas(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "realworld")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("SKIPPING the real-export schemas: %s is absent (%v)", root, err)
	}
	used := map[string]int{}
	warned := map[string]int{}
	files := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		old := strings.Contains(filepath.ToSlash(p), "/services/") && strings.Contains(filepath.ToSlash(p), "/rules/")
		if d.Name() != "schema.json" && !(old && strings.HasSuffix(p, ".json")) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n, err := source.ParseJSON(source.NewFile(p, data))
		if err != nil {
			t.Errorf("%v", err)
			return nil
		}
		if old {
			if n = n.Get("schema"); n == nil {
				return nil
			}
		}
		files++
		keywords(n, used)
		_, diags := schema.Compile(n)
		if errs := diags.Errors(); len(errs) > 0 {
			t.Errorf("%v", errs)
		}
		for _, w := range diags.Warnings() {
			warned[w.Code]++
			t.Logf("%v", w)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var kws []string
	for k, c := range used {
		kws = append(kws, k+"="+strconv.Itoa(c))
	}
	sort.Strings(kws)
	t.Logf("%d schemas; keywords used: %s; warnings by code: %v", files, strings.Join(kws, " "), warned)
	if files < 50 {
		t.Errorf("found %d schemas, want at least the 50 schema.json files", files)
	}
}

func keywords(n *source.Node, used map[string]int) {
	if n.Kind != source.Object {
		return
	}
	for _, m := range n.Members {
		used[m.Key]++
		switch m.Key {
		case "properties":
			for _, p := range m.Value.Members {
				keywords(p.Value, used)
			}
		case "items", "additionalProperties", "additionalItems":
			keywords(m.Value, used)
			for _, e := range m.Value.Elems {
				keywords(e, used)
			}
		}
	}
}

// TestCheckApp: Check reports the diagnostics of every schema.json that
// LoadApp read.
func TestCheckApp(t *testing.T) {
	app, err := rules.LoadApp(mapFS(map[string]string{
		"data_sources/mongodb-atlas/db/coll/schema.json": `{"properties": {"a": {"pattern": "x"}}}`,
	}))
	if err != nil {
		t.Fatal(err)
	}
	got := schema.Check(app).Error()
	want := `data_sources/mongodb-atlas/db/coll/schema.json:1:23: /properties/a/pattern: warning: rulegate does not enforce "pattern": every write to the collection is refused (fail closed) (schema/unsupported)`
	if got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}
