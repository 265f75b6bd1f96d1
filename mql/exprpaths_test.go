package mql

import (
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestExprPaths: the field paths an aggregation expression reads, AllFields
// where a plain string names a field ($getField and its siblings) or the
// whole document is read.
func TestExprPaths(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`"$a.b"`, []string{"a.b"}},
		{`{"$add": ["$n", "$m"]}`, []string{"m", "n"}},
		{`{"$literal": "$secret"}`, nil},
		{`"$$ROOT"`, []string{AllFields}},
		{`"$$CURRENT.x"`, []string{"x"}},
		{`{"$getField": "secret"}`, []string{AllFields}},
		{`{"$getField": {"field": "secret", "input": "$sub"}}`, []string{AllFields, "sub"}},
		{`{"$setField": {"field": "s", "input": "$$ROOT", "value": 1}}`, []string{AllFields}},
		{`{"$unsetField": {"field": "s", "input": "$d"}}`, []string{AllFields, "d"}},
		{`{"$cond": [{"$gt": [{"$getField": "secret"}, 1]}, 1, 0]}`, []string{AllFields}},
	} {
		var v bson.RawValue
		doc := []byte(`{"v": ` + tc.expr + `}`)
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(doc, false, &raw); err != nil {
			t.Fatal(err)
		}
		v = raw.Lookup("v")
		out := map[string]bool{}
		ExprPaths(v, out)
		var got []string
		for k := range out {
			got = append(got, k)
		}
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ExprPaths(%s) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}
