package value

import "testing"

// TestEachMongoDBPathTests replays the server's own path iterator tests:
// mongodb/mongo src/mongo/db/matcher/path_test.cpp, the TEST(Path, ...)
// cases with leaf and non-leaf arrays traversed (the behaviour of
// queries), each with the candidates in the order the server yields them.
func TestEachMongoDBPathTests(t *testing.T) {
	for _, c := range []struct{ test, doc, path, want string }{
		{"Root1", `{"x":4,"a":5}`, "a", `5`},
		{"RootArray1", `{"x":4,"a":[5,6]}`, "a", `5 6 [5,6]`},
		{"Nested1", `{"a":[{"b":5},3,{},{"b":[9,11]},{"b":7}]}`, "a.b", `5 missing 9 11 [9,11] 7`},
		{"NestedPartialMatchScalar", `{"a":4}`, "a.b", `missing`},
		{"NestedPartialMatchArray", `{"a":[4]}`, "a.b", ``},
		{"NestedEmptyArray", `{"a":{"b":[]}}`, "a.b", `[]`},
		{"ArrayIndex1", `{"a":[5,7,3]}`, "a.1", `7`},
		{"ArrayIndex2", `{"a":[5,[2,4],3]}`, "a.1", `[2,4]`},
		{"ArrayIndex3", `{"a":[5,{"1":4},3]}`, "a.1", `4 {"1":4}`},
		{"ArrayIndexNested1", `{"a":[5,{"b":4},3]}`, "a.1.b", `missing 4`},
		{"ArrayIndexNested2", `{"a":[5,[{"b":4}],3]}`, "a.1.b", `4`},
		{"NonMatchingLongArrayOfSubdocumentsWithNestedArrays", `{"a":[{"b":[]},{"b":[]},{"b":[]}]}`, "a.b.x", ``},
		{"NestedArrayImplicitTraversal", `{"a":[{"b":[2,3]},{"b":[4,5]}]}`, "a.b", `2 3 [2,3] 4 5 [4,5]`},
		{"ArrayOffsetWithImplicitAndExplicitTraversal", `{"a":[{"b":[2,3]},{"b":[4,5]}]}`, "a.0.b", `missing 2 3 [2,3] missing`},
	} {
		if got := candidates(t, FromDocument(rawDoc(t, c.doc)), c.path); got != c.want {
			t.Errorf("path_test.cpp Path.%s: Each(%s, %q) = %s, want %s", c.test, c.doc, c.path, got, c.want)
		}
	}
}

// TestEachPositional covers numeric path components beyond the server's
// tests, derived from BSONElementIterator (src/mongo/db/matcher/path.cpp):
// an element reached by its index is never expanded, an array element is
// not traversed by a field name, and a document element lacking the
// field "N" yields Missing.
func TestEachPositional(t *testing.T) {
	for _, c := range []struct{ doc, path, want string }{
		{`{"a":[[5]]}`, "a.0", `[5]`},
		{`{"a":[[5]]}`, "a.0.0", `5`},
		{`{"a":[[[5]]]}`, "a.0.0", `[5]`},
		{`{"i":[[6,5],[6,5]]}`, "i.1", `[6,5]`},
		{`{"a":[[1,2],3]}`, "a.0", `[1,2]`},
		{`{"a":[{"0":"x"},{"0":"y"}]}`, "a.0", `"x" {"0":"x"} "y"`},
		{`{"a":[{"0":[5]}]}`, "a.0", `5 [5] {"0":[5]}`},
		{`{"a":[{"x":1}]}`, "a.5", `missing`},
		{`{"a":[{"x":1}]}`, "a.0", `missing {"x":1}`},
		{`{"a":[1,2]}`, "a.5", ``},
		{`{"a":[5]}`, "a.0.b", ``},
		{`{"a":[{"b":1},{"b":2}]}`, "a.1.b", `missing missing 2`},
		{`{"a":[[{"b":1}]]}`, "a.0.b", `1`},
		{`{"a":[[{"b":1}]]}`, "a.b", ``},
		{`{"a":[[1,[2]]]}`, "a.0.1", `[2]`},
		{`{"a":[5,6]}`, "a.01", ``},
		{`{"a":[{"01":5}]}`, "a.01", `5`},
		{`{"a":{"0":[5]}}`, "a.0", `5 [5]`},
		{`{"a":[{"b":[[7]]}]}`, "a.b", `[7] [[7]]`},
		{`{"a":[{"b":[[7]]}]}`, "a.b.0", `[7]`},
	} {
		if got := candidates(t, FromDocument(rawDoc(t, c.doc)), c.path); got != c.want {
			t.Errorf("Each(%s, %q) = %s, want %s", c.doc, c.path, got, c.want)
		}
	}
}

// TestMatchPositional checks the query operators through positional paths
// against the server: expression_leaf_test.cpp
// MatchesBSONElement.ArrayIndexEquality ({"i.1": 5}), and the operators
// that read the same candidates ($in, $exists, null and Missing, and the
// negations $ne and $nin, which must not match where the server's
// positive form does).
func TestMatchPositional(t *testing.T) {
	five := Int32(5)
	for _, c := range []struct {
		doc, path string
		eq, null  bool // {path: 5}, {path: null}
		exists    bool // {path: {$exists: true}}
	}{
		// expression_leaf_test.cpp, MatchesBSONElement.ArrayIndexEquality.
		{`{"i":5}`, "i.1", false, true, false},
		{`{"i":[6,5]}`, "i.1", true, false, true},
		{`{"i":[5,6]}`, "i.1", false, false, true},
		{`{"i":{"1":5}}`, "i.1", true, false, true},
		{`{"i":{"i":5}}`, "i.1", false, true, false},
		{`{"i":[{"1":5}]}`, "i.1", true, false, true},
		{`{"i":[{"i":6},{"i":5}]}`, "i.1", false, true, true},
		{`{"i":[[6,5],[6,5]]}`, "i.1", false, false, true},
		// The case, {"a.0": 5} on {a: [[5]]}.
		{`{"a":[[5]]}`, "a.0", false, false, true},
		{`{"a":[[5]]}`, "a.0.0", true, false, true},
		{`{"a":[[null]]}`, "a.0", false, false, true},
		{`{"a":[{"x":1}]}`, "a.5", false, true, false},
		{`{"a":[1,2]}`, "a.5", false, false, false},
		{`{"a":[5]}`, "a.0.b", false, false, false},
		{`{"a":[{"b":5}]}`, "a.0.b", true, true, true},
		{`{"a":[{"b":[5]}]}`, "a.0.b", true, true, true},
	} {
		doc := FromDocument(rawDoc(t, c.doc))
		p := ParsePath(c.path)
		if got := MatchEq(doc, p, five); got != c.eq {
			t.Errorf("{%q: 5} on %s = %v, want %v", c.path, c.doc, got, c.eq)
		}
		if got := !MatchEq(doc, p, five); got == c.eq {
			t.Errorf("{%q: {$ne: 5}} on %s = %v, want %v", c.path, c.doc, got, !c.eq)
		}
		s := NewSet(five, String("x"))
		if got := MatchIn(doc, p, s, false); got != c.eq {
			t.Errorf("{%q: {$in: [5, \"x\"]}} on %s = %v, want %v", c.path, c.doc, got, c.eq)
		}
		if got := !MatchIn(doc, p, s, false); got == c.eq {
			t.Errorf("{%q: {$nin: [5, \"x\"]}} on %s = %v, want %v", c.path, c.doc, got, !c.eq)
		}
		if got := MatchEq(doc, p, Null()); got != c.null {
			t.Errorf("{%q: null} on %s = %v, want %v", c.path, c.doc, got, c.null)
		}
		if got := MatchIn(doc, p, NewSet(Null()), true); got != c.null {
			t.Errorf("{%q: {$in: [null]}} on %s = %v, want %v", c.path, c.doc, got, c.null)
		}
		if got := MatchExists(doc, p, true); got != c.exists {
			t.Errorf("{%q: {$exists: true}} on %s = %v, want %v", c.path, c.doc, got, c.exists)
		}
		if got := MatchExists(doc, p, false); got == c.exists {
			t.Errorf("{%q: {$exists: false}} on %s = %v, want %v", c.path, c.doc, got, !c.exists)
		}
		// {$gte: 5, $lte: 5}: these documents have at most one number
		// among the candidates.
		if got := MatchCmp(doc, p, Gte, five) && MatchCmp(doc, p, Lte, five); got != c.eq {
			t.Errorf("{%q: {$gte: 5, $lte: 5}} on %s = %v, want %v", c.path, c.doc, got, c.eq)
		}
	}
}

func TestHasRegex(t *testing.T) {
	for _, c := range []struct {
		v    string
		want bool
	}{
		{`{"$regularExpression": {"pattern": "o", "options": ""}}`, true},
		{`["a", {"$regularExpression": {"pattern": "o", "options": "i"}}]`, true},
		// Deeper, the server compares a regex as a value.
		{`{"x": [{"y": {"$regularExpression": {"pattern": "o", "options": ""}}}]}`, false},
		{`[[{"$regularExpression": {"pattern": "o", "options": ""}}]]`, false},
		{`"/o/"`, false},
		{`{"$regex": "o"}`, false}, // a document with a "$regex" key, as a claim reads it
		{`["a", {"b": 1}, [2]]`, false},
		{`null`, false},
	} {
		if got := HasRegex(j(t, c.v)); got != c.want {
			t.Errorf("HasRegex(%s) = %v, want %v", c.v, got, c.want)
		}
	}
	if HasRegex(Value{}) {
		t.Error("HasRegex(Missing)")
	}
}

func TestCheckOperand(t *testing.T) {
	for _, c := range []struct {
		v    string
		want Refusal
	}{
		{`"a"`, Comparable},
		{`{"$regularExpression": {"pattern": "o", "options": ""}}`, RefuseRegex},
		{`["a", {"$regularExpression": {"pattern": "o", "options": "i"}}]`, RefuseRegex},
		{`[[{"$regularExpression": {"pattern": "o", "options": ""}}]]`, Comparable},
		// The legacy form is a document with "$regex" first (the v2
		// driver's FromExtJSON): the server reads it as operators.
		{`{"$regex": "o", "$options": ""}`, RefuseOperator},
		{`["a", {"$gt": 1}]`, RefuseOperator},
		{`{"$foo": 1, "a": 2}`, RefuseOperator},
		// The first field decides (isExpressionDocument).
		{`{"a": 1, "$gt": 2}`, Comparable},
		// DBRefs are values: $ref and $id, in any order, $db allowed.
		{`{"$ref": "c", "$id": 1}`, Comparable},
		{`{"$id": 1, "$ref": "c", "$db": "d"}`, Comparable},
		{`[{"$ref": "c", "$id": 1}]`, Comparable},
		{`{"$ref": "c"}`, RefuseOperator},
		{`{"$id": 1}`, RefuseOperator},
		// Deeper, an operator document is compared as a value.
		{`{"a": {"$gt": 1}}`, Comparable},
		{`[[{"$gt": 1}]]`, Comparable},
		{`[{"a": {"$gt": 1}}]`, Comparable},
		{`{}`, Comparable},
		{`[]`, Comparable},
		// Undefined, at any depth.
		{`{"$undefined": true}`, RefuseUndefined},
		{`[1, {"$undefined": true}]`, RefuseUndefined},
		{`{"a": [{"b": {"$undefined": true}}]}`, RefuseUndefined},
		{`[[{"$undefined": true}]]`, RefuseUndefined},
		{`null`, Comparable},
	} {
		if got := CheckOperand(j(t, c.v)); got != c.want {
			t.Errorf("CheckOperand(%s) = %s, want %s", c.v, got, c.want)
		}
	}
	if CheckOperand(Value{}) != Comparable {
		t.Error("CheckOperand(Missing)")
	}
	v := j(t, `["a", {"b": [1, {"c": 2}]}, {"$ref": "c", "$id": 1}]`)
	if n := testing.AllocsPerRun(100, func() { CheckOperand(v) }); n != 0 {
		t.Errorf("CheckOperand allocates %v times", n)
	}
}

// TestParsePathEmptyKey: the key "" names the field "", not the value
// itself (the empty Path): {"": 1} matches a document with the field "",
// and never a document compared whole.
func TestParsePathEmptyKey(t *testing.T) {
	if p := ParsePath(""); len(p) != 1 || p[0] != "" {
		t.Fatalf(`ParsePath("") = %q, want [""]`, p)
	}
	withEmpty, _ := FromExtJSON([]byte(`{"": 1}`))
	without, _ := FromExtJSON([]byte(`{"a": 1}`))
	if !MatchEq(withEmpty, ParsePath(""), Int32(1)) {
		t.Error(`{"": 1} does not match {"": 1}`)
	}
	if MatchExists(without, ParsePath(""), true) {
		t.Error(`{"": {"$exists": true}} matches a document without the field ""`)
	}
}
