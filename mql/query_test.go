package mql

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestValidateQueryAccepts(t *testing.T) {
	for _, q := range []string{
		`{}`,
		`{"owner": "%%user.id", "team": "%%user.custom_data.team"}`,
		`{"a": 1, "b.c": {"$gt": 1, "$lte": 5}, "d": null}`,
		`{"$or": [{"a": 1}, {"b": {"$in": [1, 2]}}], "$and": [{"c": {"$nin": []}}], "$nor": [{"d": {"$ne": 3}}]}`,
		`{"tags": {"$all": ["x", "y"]}, "n": {"$size": 2}, "m": {"$size": 3.0}}`,
		`{"items": {"$elemMatch": {"qty": {"$gt": 5}, "$or": [{"sku": "a"}, {"sku": "b"}]}}}`,
		`{"scores": {"$elemMatch": {"$gte": 80, "$lt": 85}}}`,
		`{"a": {"$not": {"$gt": 5, "$in": [9]}}}`,
		`{"a": {"$type": ["string", 16, "number"]}, "b": {"$exists": false}, "c": {"$mod": [4, 0]}, "d": {"$type": -1}}`,
		`{"a": {"b": 1, "c": [1, {"d": "e"}]}}`,
		`{"a": {"$all": [{"$elemMatch": {"x": 1}}, {"$elemMatch": {"y": {"$gt": 2}}}]}}`,
		`{"a": {"$eq": {"b": [1, 2]}}, "_id": {"$oid": "5f0000000000000000000001"}, "at": {"$date": "2026-01-01T00:00:00Z"}}`,
		`{"a": {}}`,
	} {
		if err := ValidateQuery(utDoc(t, q)); err != nil {
			t.Errorf("ValidateQuery(%s): %v", q, err)
		}
	}
}

func TestValidateQueryRejects(t *testing.T) {
	tests := []struct{ q, want string }{
		{`{"$where": "this.a > 1"}`, `/$where: $where is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"$expr": {"$eq": ["$a", "$b"]}}`, `/$expr: $expr is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"$and": [{"a": {"$function": {"body": "x"}}}]}`, `/$and/0/a/$function: $function is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"a": {"$accumulator": {}}}`, `/a/$accumulator: $accumulator is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"a": {"$regex": "^x", "$options": "i"}}`, `/a/$regex: $regex is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`, `/a: regular expressions ($regex) are not available to application users (App Services allows them in system functions only) (query/forbidden-operator)`},
		{`{"a": {"$in": [1, {"$regularExpression": {"pattern": "x", "options": ""}}]}}`, `/a/$in/1: regular expressions ($regex) are not available to application users (App Services allows them in system functions only) (query/forbidden-operator)`},
		{`{"a": {"$not": {"$regularExpression": {"pattern": "x", "options": ""}}}}`, `/a/$not: regular expressions ($regex) are not available to application users (App Services allows them in system functions only) (query/forbidden-operator)`},
		{`{"$text": {"$search": "x"}}`, `/$text: $text is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"loc": {"$geoWithin": {"$center": [[0, 0], 1]}}}`, `/loc/$geoWithin: $geoWithin is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"loc": {"$near": [0, 0]}}`, `/loc/$near: $near is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"n": {"$bitsAllSet": 5}}`, `/n/$bitsAllSet: $bitsAllSet is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"$jsonSchema": {}}`, `/$jsonSchema: $jsonSchema is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"$comment": "x"}`, `/$comment: $comment is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"$foo": 1}`, `/$foo: unknown query operator "$foo" (query/unknown-operator)`},
		{`{"a": {"$foo": 1}}`, `/a/$foo: unknown query operator "$foo" (query/unknown-operator)`},
		{`{"$gt": 1}`, `/$gt: $gt is not a top-level query operator; use {<field>: {$gt: ...}} (query/unknown-operator)`},
		{`{"a": {"$or": [{"b": 1}]}}`, `/a/$or: $or is a top-level operator; it cannot be applied to a field (query/unknown-operator)`},
		{`{"a": {"$gt": 1, "b": 2}}`, `/a/b: unknown operator "b": an operator document holds only operators (query/unknown-operator)`},
		{`{"$and": []}`, `/$and: $and expects a non-empty array of query documents, got an empty array (query/operand)`},
		{`{"$or": {"a": 1}}`, `/$or: $or expects a non-empty array of query documents, got a document (query/operand)`},
		{`{"$or": [1]}`, `/$or/0: $or expects query documents, got 32-bit integer 1 (query/operand)`},
		{`{"a": {"$in": 1}}`, `/a/$in: $in expects an array, got 32-bit integer 1 (query/operand)`},
		{`{"a": {"$all": "x"}}`, `/a/$all: $all expects an array, got string "x" (query/operand)`},
		{`{"a": {"$all": [{"$gt": 1}]}}`, `/a/$all/0/$gt: $all accepts values and {$elemMatch: ...} documents, got the operator "$gt" (query/operand)`},
		{`{"a": {"$size": -1}}`, `/a/$size: $size expects a non-negative integer, got 32-bit integer -1 (query/operand)`},
		{`{"a": {"$size": 1.5}}`, `/a/$size: $size expects a non-negative integer, got double 1.5 (query/operand)`},
		{`{"a": {"$type": "str"}}`, `/a/$type: $type expects a BSON type alias or number, or an array of them, got string "str" (query/operand)`},
		{`{"a": {"$type": []}}`, `/a/$type: $type expects a BSON type alias or number, or an array of them, got an empty array (query/operand)`},
		{`{"a": {"$mod": [0, 1]}}`, `/a/$mod: $mod divisor cannot be 0 (query/operand)`},
		{`{"a": {"$mod": [1]}}`, `/a/$mod: $mod expects [divisor, remainder], got an array (query/operand)`},
		{`{"a": {"$not": 5}}`, `/a/$not: $not expects a document of operators, got 32-bit integer 5 (query/operand)`},
		{`{"a": {"$not": {"b": 1}}}`, `/a/$not: $not expects a document of operators, got a document (query/operand)`},
		{`{"a": {"$elemMatch": [1]}}`, `/a/$elemMatch: $elemMatch expects a document, got an array (query/operand)`},
		{`{"a": {"$elemMatch": {"b": {"$where": "x"}}}}`, `/a/$elemMatch/b/$where: $where is not available to application users (App Services allows it in system functions only) (query/forbidden-operator)`},
		{`{"a": {"$elemMatch": {"$foo": 1}}}`, `/a/$elemMatch/$foo: unknown query operator "$foo" (query/unknown-operator)`},
		{`{"a": {"$eq": {"$where": "x"}}}`, `/a/$eq/$where: a literal document cannot hold the key "$where" (operators are not allowed here) (query/dollar-field)`},
		{`{"a": {"b": {"$gt": 1}}}`, `/a/b/$gt: a literal document cannot hold the key "$gt" (operators are not allowed here) (query/dollar-field)`},
		{`{"a": [{"x/y": {"$ne": 1}}]}`, `/a/0/x~1y/$ne: a literal document cannot hold the key "$ne" (operators are not allowed here) (query/dollar-field)`},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			err := ValidateQuery(utDoc(t, tt.q))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got  %s\n want %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidQuery) {
				t.Error("error does not wrap ErrInvalidQuery")
			}
			var se *source.Error
			if !errors.As(err, &se) {
				t.Fatal("no *source.Error")
			}
			if _, perr := se.Ptr.Tokens(); perr != nil {
				t.Errorf("bad pointer %q", se.Ptr)
			}
		})
	}
}

// nestedAnd returns a query of n nested $and clauses.
func nestedAnd(n int) bson.D {
	q := bson.D{{Key: "a", Value: 1}}
	for range n {
		q = bson.D{{Key: "$and", Value: bson.A{q}}}
	}
	return q
}

func TestValidateQueryDepth(t *testing.T) {
	if err := ValidateQuery(utMarshal(t, nestedAnd(30))); err != nil {
		t.Errorf("30 levels: %v", err)
	}
	err := ValidateQuery(utMarshal(t, nestedAnd(200)))
	if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeQueryDepth}) {
		t.Errorf("200 levels: %v", err)
	}
	deep := bson.D{{Key: "x", Value: 1}}
	for range 150 {
		deep = bson.D{{Key: "x", Value: deep}}
	}
	err = ValidateQuery(utMarshal(t, bson.D{{Key: "a", Value: deep}}))
	if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeQueryDepth}) {
		t.Errorf("deep literal: %v", err)
	}
}

func TestValidateQueryMalformed(t *testing.T) {
	for _, b := range []bson.Raw{nil, {1, 2}, {6, 0, 0, 0, 8, 0}} {
		err := ValidateQuery(b)
		if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeQueryMalformed}) || !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("ValidateQuery(%v) = %v", []byte(b), err)
		}
	}
}

// TestClientQueryIsNeverExpanded proves that a "%%user" string in a
// client query is data: it passes validation unchanged, And keeps it
// verbatim, and it matches only documents holding that literal string.
func TestClientQueryIsNeverExpanded(t *testing.T) {
	q := utDoc(t, `{"owner": "%%user.id"}`)
	if err := ValidateQuery(q); err != nil {
		t.Fatal(err)
	}
	var client bson.D
	if err := bson.Unmarshal(q, &client); err != nil {
		t.Fatal(err)
	}
	rule := bson.D{{Key: "team", Value: "red"}}
	got := And(client, rule)
	want := bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "owner", Value: "%%user.id"}}, rule}}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("And = %v, want %v", got, want)
	}
	cond := value.FromDocument(q).Field("owner")
	path := value.ParsePath("owner")
	if !value.MatchEq(value.FromDocument(utDoc(t, `{"owner": "%%user.id"}`)), path, cond) {
		t.Error("the literal string does not match itself")
	}
	if value.MatchEq(value.FromDocument(utDoc(t, `{"owner": "u1"}`)), path, cond) {
		t.Error("the client's %%user.id matched a user id: it was expanded")
	}
}

func TestAnd(t *testing.T) {
	a := bson.D{{Key: "a", Value: 1}}
	r := bson.D{{Key: "a", Value: 2}, {Key: "owner", Value: "u1"}}
	p := bson.D{{Key: "_id", Value: bson.D{{Key: "$eq", Value: 7}}}}
	tests := []struct {
		name    string
		filters []bson.D
		want    bson.D
	}{
		{"both", []bson.D{a, r}, bson.D{{Key: "$and", Value: bson.A{a, r}}}},
		{"no client query", []bson.D{nil, r}, r},
		{"no rule filter", []bson.D{a, {}}, a},
		{"neither", []bson.D{nil, nil}, bson.D{}},
		{"none", nil, bson.D{}},
		{"three, in order", []bson.D{a, r, p}, bson.D{{Key: "$and", Value: bson.A{a, r, p}}}},
		{"empty ones left out", []bson.D{nil, a, {}, p}, bson.D{{Key: "$and", Value: bson.A{a, p}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := And(tt.filters...); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidateDocument(t *testing.T) {
	for _, d := range []string{
		`{}`,
		`{"_id": 1, "owner": "%%user.id", "a": {"b": [1, {"c": 2}]}, "": 1}`,
		`{"_id": {"x": 1}, "tags": []}`,
	} {
		if err := ValidateDocument(utDoc(t, d)); err != nil {
			t.Errorf("ValidateDocument(%s): %v", d, err)
		}
	}
	tests := []struct{ d, want string }{
		{`{"$set": {"a": 1}}`, `/$set: field name "$set" starts with "$" (document/dollar-field)`},
		{`{"a": {"b": [{"$where": 1}]}}`, `/a/b/0/$where: field name "$where" starts with "$" (document/dollar-field)`},
		{`{"a.b": 1}`, `/a.b: field name "a.b" holds a "." (document/dotted-field)`},
		{`{"a": {"x.y": 1}}`, `/a/x.y: field name "x.y" holds a "." (document/dotted-field)`},
		{`{"_id": [1]}`, `/_id: _id cannot be array (document/id)`},
		{`{"_id": {"$regularExpression": {"pattern": "x", "options": ""}}}`, `/_id: _id cannot be regex (document/id)`},
	}
	for _, tt := range tests {
		err := ValidateDocument(utDoc(t, tt.d))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ValidateDocument(%s)\n got  %v\n want %s", tt.d, err, tt.want)
		}
		if !errors.Is(err, ErrInvalidDocument) {
			t.Errorf("%s: error does not wrap ErrInvalidDocument", tt.d)
		}
	}
	deep := bson.D{{Key: "x", Value: 1}}
	for range 60 { // 120 levels: a document and an array each time
		deep = bson.D{{Key: "x", Value: bson.A{deep}}}
	}
	for range 200 {
		deep = bson.D{{Key: "x", Value: bson.A{deep}}}
	}
	if err := ValidateDocument(utMarshal(t, deep)); !reflect.DeepEqual(source.Codes(err), []string{CodeDocumentDepth}) {
		t.Errorf("very deep document: %v", err)
	}
	deep = bson.D{{Key: "x", Value: 1}}
	for range 60 {
		deep = bson.D{{Key: "x", Value: bson.A{deep}}}
	}
	err := ValidateDocument(utMarshal(t, deep))
	if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeDocumentDepth}) {
		t.Errorf("deep document: %v", err)
	}
	if !strings.HasPrefix(err.Error(), "/x/0/x/0/") {
		t.Errorf("deep document pointer: %v", err)
	}
	if got := source.Codes(ValidateDocument(bson.Raw{1})); !reflect.DeepEqual(got, []string{CodeDocumentMalformed}) {
		t.Errorf("malformed: %v", got)
	}
}

func FuzzValidateQuery(f *testing.F) {
	for _, s := range []string{
		`{"owner": "%%user.id", "a": {"$gt": 1, "$lt": [1, {"b": 2}]}}`,
		`{"$or": [{"a": {"$in": [1, 2]}}, {"b": {"$elemMatch": {"c": {"$exists": true}}}}]}`,
		`{"a": {"$all": [{"$elemMatch": {"$gte": 1}}]}, "b": {"$not": {"$size": 2}}, "c": {"$type": ["int"]}, "d": {"$mod": [2, 1]}}`,
		`{"$where": "1"}`,
		`{"a": {"$regularExpression": {"pattern": "x", "options": ""}}}`,
	} {
		f.Add([]byte(utDoc(f, s)))
	}
	f.Add([]byte(utMarshal(f, nestedAnd(120))))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, err := range []error{ValidateQuery(b), ValidateDocument(b)} {
			if err == nil {
				continue
			}
			var se *source.Error
			if !errors.As(err, &se) || se.Code == "" {
				t.Fatalf("error without a code: %v", err)
			}
			if _, perr := se.Ptr.Tokens(); perr != nil {
				t.Fatalf("bad pointer in %v", err)
			}
			if !errors.Is(err, ErrInvalidQuery) && !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
		}
	})
}

func BenchmarkValidateQuery(b *testing.B) {
	q := utDoc(b, `{"status": "open", "owner": {"$in": ["u1", "u2"]}, "$or": [{"n": {"$gte": 1, "$lt": 10}}, {"tags": {"$all": ["a", "b"]}}], "items": {"$elemMatch": {"qty": {"$gt": 5}}}}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateQuery(q); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateDocument(b *testing.B) {
	d := utDoc(b, `{"_id": 1, "owner": "u1", "title": "x", "meta": {"tags": ["a", "b"], "n": 3}, "items": [{"sku": "a", "qty": 1}, {"sku": "b", "qty": 2}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := ValidateDocument(d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestValidateUpdate: the values an update writes are checked like
// inserted documents, with a pointer into the update; operands that are
// compared or are operator syntax ($pull conditions, $currentDate's
// $type, $push's $sort) are not.
func TestValidateUpdate(t *testing.T) {
	for _, d := range []string{
		`{"$set": {"a": {"b": [1, {"c": 2}]}, "s": "%%user.id"}}`,
		`{"$pull": {"a": {"$gte": 5}}, "$pullAll": {"b": [{"c": 1}]}, "$currentDate": {"d": {"$type": "date"}}}`,
		`{"$push": {"a": {"$each": [{"k": 1}], "$sort": {"k.x": 1}, "$slice": 3}}, "$bit": {"n": {"and": 1}}}`,
		`{"$inc": {"a.b": 1}, "$rename": {"x": "y.z"}, "$unset": {"q": ""}}`,
		`{"a": 1}`,
		`{"$nope": 1}`, // UpdatePaths reports it
	} {
		if err := ValidateUpdate(utDoc(t, d)); err != nil {
			t.Errorf("ValidateUpdate(%s): %v", d, err)
		}
	}
	dollar := bson.D{{Key: "$set", Value: bson.D{{Key: "role", Value: bson.D{{Key: "$maxKey", Value: 1}}}}}}
	raw, _ := bson.Marshal(dollar)
	if err := ValidateUpdate(raw); err == nil || err.Error() != `/$set/role/$maxKey: field name "$maxKey" starts with "$" (document/dollar-field)` || !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("$maxKey document: %v", err)
	}
	tests := []struct{ d, want string }{
		{`{"$set": {"a": {"x.y": 1}}}`, `/$set/a/x.y: field name "x.y" holds a "." (document/dotted-field)`},
		{`{"$setOnInsert": {"a": [[{"$x": 1}]]}}`, `/$setOnInsert/a/0/0/$x: field name "$x" starts with "$" (document/dollar-field)`},
		{`{"$push": {"a": {"$each": [1, {"b": {"$y": 1}}]}}}`, `/$push/a/$each/1/b/$y: field name "$y" starts with "$" (document/dollar-field)`},
		{`{"$addToSet": {"a": {"c.d": 1}}}`, `/$addToSet/a/c.d: field name "c.d" holds a "." (document/dotted-field)`},
		{`{"$min": {"a": {"e.f": 1}}}`, `/$min/a/e.f: field name "e.f" holds a "." (document/dotted-field)`},
		{`{"$max": {"a~b/c": {"e.f": 1}}}`, `/$max/a~0b~1c/e.f: field name "e.f" holds a "." (document/dotted-field)`},
		{`{"a": [{"$x": 1}]}`, `/a/0/$x: field name "$x" starts with "$" (document/dollar-field)`},
	}
	for _, tt := range tests {
		err := ValidateUpdate(utDoc(t, tt.d))
		if err == nil || err.Error() != tt.want {
			t.Errorf("ValidateUpdate(%s)\n got  %v\n want %s", tt.d, err, tt.want)
		}
	}
}
