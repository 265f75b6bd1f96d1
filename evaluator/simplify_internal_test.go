package evaluator

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestFilterSimplification checks that fand, forr and fnor drop duplicate
// clauses, flatten single clauses and apply absorption
// (A ∧ (A ∨ B) = A, A ∨ (A ∧ B) = A), without changing what matches.
func TestFilterSimplification(t *testing.T) {
	a := fq("a", "$eq", 1)
	a2 := fq("a", "$eq", 1) // equal bytes, distinct value
	b := fq("b", "$eq", 2)
	c := fq("c", "$in", bson.A{"x"})
	tests := []struct {
		name string
		got  flt
		want string
	}{
		{"and of duplicates is the clause", fand(a, a2), `{"a":{"$eq":1}}`},
		{"or of duplicates is the clause", forr(a, a2), `{"a":{"$eq":1}}`},
		{"and keeps distinct clauses in order", fand(b, a, a2), `{"$and":[{"b":{"$eq":2}},{"a":{"$eq":1}}]}`},
		{"nor drops duplicates", fnor(a, a2, b), `{"$nor":[{"a":{"$eq":1}},{"b":{"$eq":2}}]}`},
		{"and absorbs an or that repeats a clause", fand(a, forr(a2, b)), `{"a":{"$eq":1}}`},
		{"and absorbs, keeping the rest", fand(c, forr(b, a), a2), `{"$and":[{"c":{"$in":["x"]}},{"a":{"$eq":1}}]}`},
		{"or absorbs an and that repeats a branch", forr(fand(a, b), a2), `{"a":{"$eq":1}}`},
		{"and keeps an or without a common clause", fand(c, forr(a, b)), `{"$and":[{"c":{"$in":["x"]}},{"$or":[{"a":{"$eq":1}},{"b":{"$eq":2}}]}]}`},
		{"nested duplicates flatten", fand(fand(a, b), fand(b, a2)), `{"$and":[{"a":{"$eq":1}},{"b":{"$eq":2}}]}`},
		{"constants still fold", fand(a, tTrue, a2), `{"a":{"$eq":1}}`},
	}
	for _, tt := range tests {
		got, err := bson.MarshalExtJSON(tt.got.doc(), false, false)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
}
