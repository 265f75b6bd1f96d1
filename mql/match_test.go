package mql

import (
	"errors"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func TestMatch(t *testing.T) {
	doc := `{"_id": 1, "team": "red", "n": 5, "tags": ["a", "b"], "sub": {"x": true}, "nil": null,
		"items": [{"q": 1}, {"q": 7}], "nested": [[1, 2]], "owner": {"org": "o1", "id": "u1"},
		"l": {"$numberLong": "3"}, "d": 2.5}`
	for _, tc := range []struct {
		filter string
		want   bool
	}{
		{`{}`, true},
		{`{"team": "red"}`, true},
		{`{"team": "blue"}`, false},
		{`{"team": {"$eq": "red"}, "n": {"$gt": 4, "$lte": 5}}`, true},
		{`{"n": {"$lt": 5}}`, false},
		{`{"n": {"$gte": 5.0}}`, true},
		{`{"n": {"$gt": "a"}}`, false},
		{`{"team": {"$in": ["blue", "red"]}}`, true},
		{`{"team": {"$nin": ["blue", "red"]}}`, false},
		{`{"team": {"$ne": "red"}}`, false},
		{`{"tags": "b"}`, true},
		{`{"tags": ["a", "b"]}`, true},
		{`{"tags.1": "b"}`, true},
		{`{"sub.x": true}`, true},
		{`{"items.q": {"$gt": 6}}`, true},
		{`{"items.1.q": 1}`, false},
		{`{"owner": {"org": "o1", "id": "u1"}}`, true},
		{`{"owner": {"id": "u1", "org": "o1"}}`, false},
		{`{"owner": {}}`, false},
		{`{"missing": {"$exists": false}}`, true},
		{`{"missing": {"$exists": true}}`, false},
		{`{"team": {"$exists": 1}}`, true},
		{`{"team": {"$exists": 0}}`, false},
		{`{"team": {"$exists": null}}`, false},
		{`{"missing": null}`, true},
		{`{"nil": {"$in": [null]}}`, true},
		{`{"missing": {"$in": [null]}}`, true},
		{`{"missing": {"$nin": [null]}}`, false},
		{`{"missing": {"$ne": 1}}`, true},
		{`{"$or": [{"team": "blue"}, {"n": 5}]}`, true},
		{`{"$or": [{"team": "blue"}, {"n": 6}]}`, false},
		{`{"$and": [{"team": "red"}, {"n": 6}]}`, false},
		{`{"$and": [{"team": "red"}, {"n": 5}]}`, true},
		{`{"$nor": [{"team": "blue"}]}`, true},
		{`{"$nor": [{"team": "red"}]}`, false},
		{`{"n": {"$not": {"$gt": 6}}}`, true},
		{`{"n": {"$not": {"$gt": 4, "$lt": 6}}}`, false},
		{`{"missing": {"$not": {"$eq": 1}}}`, true},
		{`{"_id": {"$in": []}}`, false},
		{`{"_id": {"$nin": []}}`, true},
		{`{"team": {"$in": [{"$ref": "c", "$id": 1}]}}`, false},
		// $type, as WriteFilter emits it for numeric path components.
		{`{"tags": {"$type": "array"}}`, true},
		{`{"sub": {"$type": "array"}}`, false},
		{`{"missing": {"$type": "array"}}`, false},
		{`{"sub": {"$not": {"$type": "array"}}}`, true},
		{`{"missing": {"$not": {"$type": "array"}}}`, true},
		{`{"tags": {"$not": {"$type": "array"}}}`, false},
		{`{"nested": {"$type": "array"}}`, true},
		{`{"tags": {"$type": "string"}}`, true},
		{`{"items.q": {"$type": "int"}}`, true},
		{`{"sub": {"$type": "object"}}`, true},
		{`{"sub": {"$type": 3}}`, true},
		{`{"l": {"$type": "long"}}`, true},
		{`{"l": {"$type": "number"}, "d": {"$type": "number"}, "n": {"$type": "number"}}`, true},
		{`{"team": {"$type": "number"}}`, false},
		{`{"nil": {"$type": "null"}}`, true},
		{`{"missing": {"$type": "null"}}`, false},
		{`{"team": {"$type": ["int", "string"]}}`, true},
		{`{"team": {"$type": [2.0]}}`, true},
		{`{"team": {"$type": ["int", "bool"]}}`, false},
		// $all and $size (the MongoDB manual's pages and jstests/core/query/all, /size).
		{`{"tags": {"$all": ["b", "a"]}}`, true},
		{`{"tags": {"$all": ["a", "c"]}}`, false},
		{`{"tags": {"$all": []}}`, false},
		{`{"team": {"$all": ["red"]}}`, true},
		{`{"tags": {"$all": [["a", "b"]]}}`, true},
		{`{"nested": {"$all": [[1, 2]]}}`, true},
		{`{"nested": {"$all": [1]}}`, false},
		{`{"items.q": {"$all": [7, 1]}}`, true},
		{`{"missing": {"$all": [null]}}`, true},
		{`{"tags": {"$size": 2}}`, true},
		{`{"tags": {"$size": {"$numberLong": "2"}}}`, true},
		{`{"tags": {"$size": 2.0}}`, true},
		{`{"tags": {"$size": 1}}`, false},
		{`{"nested": {"$size": 1}}`, true},
		{`{"nested": {"$size": 2}}`, false},
		{`{"team": {"$size": 1}}`, false},
		{`{"missing": {"$size": 0}}`, false},
		{`{"tags": {"$not": {"$size": 3}}}`, true},
		// $mod (the MongoDB manual, $mod: truncation toward zero, negative dividends).
		{`{"n": {"$mod": [4, 1]}}`, true},
		{`{"n": {"$mod": [4.5, 1]}}`, true},
		{`{"d": {"$mod": [2, 0]}}`, true},
		{`{"d": {"$mod": [2, 1]}}`, false},
		{`{"l": {"$mod": [-2, 1]}}`, true},
		{`{"team": {"$mod": [1, 0]}}`, false},
		{`{"missing": {"$mod": [1, 0]}}`, false},
		{`{"items.q": {"$mod": [3, 1]}}`, true},
		// $regex (the MongoDB manual, $regex: a string or an array
		// element; other types never match).
		{`{"team": {"$regex": "^r"}}`, true},
		{`{"team": {"$regex": "^R"}}`, false},
		{`{"team": {"$options": "i", "$regex": "^R"}}`, true},
		{`{"tags": {"$regex": "b$"}}`, true},
		{`{"n": {"$regex": "5"}}`, false},
		{`{"missing": {"$regex": ""}}`, false},
		{`{"missing": {"$not": {"$regex": "x"}}}`, true},
		{`{"owner.org": {"$regex": "^o\\d$"}}`, true},
	} {
		got, err := Match(utDoc(t, tc.filter), utDoc(t, doc))
		if err != nil {
			t.Errorf("%s: %v", tc.filter, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.filter, got, tc.want)
		}
	}
}

// TestMatchErrors: what Match cannot decide exactly is an error, never a
// guess, whatever the document; the error names the place.
func TestMatchErrors(t *testing.T) {
	doc := `{"_id": 1, "team": "red", "tags": ["a", "b"]}`
	for _, tc := range []struct {
		filter, want string
	}{
		{`{"$expr": {"$eq": ["$a", "$b"]}}`, `/$expr: operator $expr is not supported by Match`},
		{`{"tags": {"$bitsAllSet": 2}}`, `/tags/$bitsAllSet: operator $bitsAllSet is not supported by Match`},
		{`{"tags": {"$size": 1.5}}`, `/tags/$size: $size expects a non-negative integer, got double 1.5`},
		// The server refuses a negative $size or one beyond 32 bits.
		{`{"tags": {"$size": -1}}`, `/tags/$size: $size expects a non-negative integer, got 32-bit integer -1`},
		{`{"tags": {"$size": {"$numberLong": "2147483648"}}}`, `/tags/$size: $size expects a non-negative integer, got 64-bit integer 2147483648`},
		{`{"tags": {"$all": "a"}}`, `/tags/$all: $all expects an array, got string`},
		{`{"tags": {"$eq": 1, "b": 2}}`, `/tags/b: "b" is not an operator: an operator document holds only operators`},
		// A regex operand is a pattern on the server: not decided here.
		{`{"team": {"$regularExpression": {"pattern": "e", "options": ""}}}`, `/team: a regular expression operand is a pattern on the server, which Match does not implement`},
		{`{"team": {"$nin": [{"$regularExpression": {"pattern": "e", "options": ""}}]}}`, `/team/$nin: a regular expression operand is a pattern on the server, which Match does not implement`},
		{`{"team": {"$not": {"$in": [{"$regularExpression": {"pattern": "e", "options": ""}}]}}}`, `/team/$not/$in: a regular expression operand is a pattern on the server, which Match does not implement`},
		{`{"team": {"$not": {"$regularExpression": {"pattern": "e", "options": ""}}}}`, `/team/$not: $not expects a document of operators, got regex`},
		// Nor is an operand the server reads as operators or refuses.
		{`{"team": {"$nin": [{"$regex": "e", "$options": ""}]}}`, `/team/$nin: the server does not compare the operand as a value (operator)`},
		{`{"team": {"$eq": {"$undefined": true}}}`, `/team/$eq: the server does not compare the operand as a value (undefined)`},
		{`{"team": {"$in": "red"}}`, `/team/$in: $in expects an array, got string`},
		{`{"team": {"$not": {}}}`, `/team/$not: $not expects a document of operators, got embedded document`},
		{`{"team": {"$type": "text"}}`, `/team/$type: $type expects a BSON type alias or number, or an array of them`},
		{`{"team": {"$type": []}}`, `/team/$type: $type expects a BSON type alias or number, or an array of them`},
		{`{"$or": []}`, `/$or: $or expects a non-empty array of documents`},
		{`{"$and": {"a": 1}}`, `/$and: $and expects a non-empty array of documents`},
		{`{"$nor": [1]}`, `/$nor/0: $nor expects a non-empty array of documents`},
		// Not short-circuited: the error does not depend on the document.
		{`{"team": "blue", "tags": {"$bitsAllSet": 2}}`, `/tags/$bitsAllSet: operator $bitsAllSet is not supported by Match`},
		{`{"$or": [{"team": "red"}, {"x": {"$bitsAnySet": 2}}]}`, `/$or/1/x/$bitsAnySet: operator $bitsAnySet is not supported by Match`},
		{`{"n": {"$mod": [0, 1]}}`, `/n/$mod: $mod expects [divisor, remainder], two numbers and a divisor other than 0`},
		{`{"team": {"$regex": "(r)\\1"}}`, `/team/$regex: value: regular expression not supported: the escape \1 at offset 3 of "(r)\\1"`},
		{`{"team": {"$options": "i"}}`, `/team/$options: $options without $regex`},
		{`{"team": {"$regex": 1}}`, `/team/$regex: $regex expects a string, got 32-bit integer`},
		{`{"n": {"$mod": [2]}}`, `/n/$mod: $mod expects [divisor, remainder], two numbers and a divisor other than 0`},
	} {
		_, err := Match(utDoc(t, tc.filter), utDoc(t, doc))
		if err == nil || err.Error() != tc.want || !errors.Is(err, ErrUnsupportedFilter) {
			t.Errorf("%s:\n got  %v\n want %s (ErrUnsupportedFilter)", tc.filter, err, tc.want)
		}
	}
	if _, err := Match(bson.Raw{1, 2}, utDoc(t, doc)); !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("malformed filter: %v, want ErrInvalidQuery", err)
	}
}

// FuzzMatch: Match never panics, gives the same answer twice, and an
// error wraps ErrUnsupportedFilter, ErrInvalidQuery or ErrInvalidDocument.
func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{`{"a": 1}`, `{"a": [1, 2]}`},
		{`{"$or": [{"a.b": {"$gt": 1}}, {"c": {"$in": [null, 2]}}], "d": {"$not": {"$type": "array"}}}`, `{"a": [{"b": 2}], "d": {"e": 1}}`},
		{`{"$nor": [{"a": {"$exists": true}}], "b": {"$ne": {"x": 1}}}`, `{"b": {"x": 1}}`},
		{`{"a": {"$type": ["number", 2, -1, 127]}, "b": {"$nin": []}}`, `{"a": {"$minKey": 1}}`},
		{`{"a": {"$regex": "x"}}`, `{"a": "x"}`},
		{`{"a": {"$regex": "^X$", "$options": "im"}}`, `{"a": ["y", "x\n"]}`},
		{`{"a": {"$elemMatch": {"b": {"$gt": 1}}}, "c": {"$elemMatch": {"$lt": 3}}}`, `{"a": [{"b": 2}], "c": [[1], 2]}`},
	} {
		f.Add([]byte(utDoc(f, s[0])), []byte(utDoc(f, s[1])))
	}
	f.Fuzz(func(t *testing.T, filter, doc []byte) {
		m, err := Match(filter, doc)
		if err != nil {
			if !errors.Is(err, ErrUnsupportedFilter) && !errors.Is(err, ErrInvalidQuery) && !errors.Is(err, ErrInvalidDocument) {
				t.Fatalf("error %v wraps no sentinel", err)
			}
			return
		}
		if again, _ := Match(filter, doc); again != m {
			t.Fatal("Match is not deterministic")
		}
	})
}
