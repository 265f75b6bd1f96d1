package mql

import (
	"testing"
	"time"

	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// exprDoc is the document the expression tests evaluate against.
const exprDoc = `{"_id": 1, "a": {"b": 2}, "n": 5, "x": 2.5, "s": "Hello", "arr": [1, 2, 3],
	"items": [{"price": 1, "q": 2}, {"price": 2}, {"q": 3}, 7, [{"price": 9}]],
	"d": {"$date": "2014-01-01T08:15:39.736Z"}, "nul": null, "big": {"$numberLong": "9223372036854775807"},
	"i32": 2147483647, "dec": {"$numberDecimal": "1.5"}, "tags": ["b", "a", "b"]}`

// rawOf reads an extended JSON value.
func rawOf(t testing.TB, js string) bson.RawValue {
	t.Helper()
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"v": `+js+`}`), false, &doc); err != nil {
		t.Fatalf("extjson %s: %v", js, err)
	}
	return doc.Lookup("v")
}

// evalJSON compiles and evaluates an expression against exprDoc.
func evalJSON(t testing.TB, js string, vars ...string) (value.Value, error) {
	t.Helper()
	e, err := compileExpr(rawOf(t, js), "/e", vars)
	if err != nil {
		return value.Missing(), err
	}
	rc := &runCtx{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	doc := value.FromDocument(rawOf(t, exprDoc).Document())
	return e.eval(rc.docScope(doc))
}

type exprCase struct {
	expr, want string
}

func runExprCases(t *testing.T, cases []exprCase) {
	t.Helper()
	for _, c := range cases {
		got, err := evalJSON(t, c.expr)
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		var w value.Value
		if c.want == "missing" {
			w = value.Missing()
		} else {
			w = value.FromRaw(rawOf(t, c.want))
		}
		if got.Type != w.Type || !w.IsMissing() && !value.Equal(got, w) {
			t.Errorf("%s = %s (%s), want %s", c.expr, got, aggTypeName(got), c.want)
		}
	}
}

func TestExprPathsAndVariables(t *testing.T) {
	runExprCases(t, []exprCase{
		{`"$a.b"`, `2`},
		{`"$a.c"`, `missing`},
		{`"$items.price"`, `[1, 2, [9]]`},
		{`"$arr.x"`, `[]`},
		{`"$$CURRENT.a.b"`, `2`},
		{`"$$ROOT.n"`, `5`},
		{`"$$REMOVE"`, `missing`},
		{`"$$NOW"`, `{"$date": "2026-01-02T03:04:05Z"}`},
		{`"plain"`, `"plain"`},
		{`{"$literal": "$a"}`, `"$a"`},
		{`{"k": "$a.b", "m": "$nope", "o": {"p": "$n"}}`, `{"k": 2, "o": {"p": 5}}`},
		{`["$n", "$nope"]`, `[5, null]`},
		{`{"$let": {"vars": {"z": "$n"}, "in": {"$add": ["$$z", 1]}}}`, `6`},
	})
}

func TestExprBooleanComparisonConditional(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$and": [1, "a", true]}`, `true`},
		{`{"$and": [1, 0]}`, `false`},
		{`{"$and": []}`, `true`},
		{`{"$or": [null, false, "$nope"]}`, `false`},
		{`{"$or": [null, [0]]}`, `true`},
		{`{"$not": [0]}`, `true`},
		{`{"$not": "$nope"}`, `true`},
		{`{"$eq": ["$n", 5.0]}`, `true`},
		{`{"$eq": ["$nope", null]}`, `false`},
		{`{"$gt": ["a", 5]}`, `true`},
		{`{"$lt": [null, 0]}`, `true`},
		{`{"$cmp": ["$n", 7]}`, `-1`},
		{`{"$ne": ["$s", "Hello"]}`, `false`},
		{`{"$cond": [{"$gte": ["$n", 5]}, "hi", "lo"]}`, `"hi"`},
		{`{"$cond": {"if": "$nul", "then": 1, "else": 2}}`, `2`},
		{`{"$ifNull": ["$nope", "$nul", "d"]}`, `"d"`},
		{`{"$ifNull": ["$n", "d"]}`, `5`},
		{`{"$switch": {"branches": [{"case": {"$eq": ["$n", 1]}, "then": "one"}, {"case": {"$eq": ["$n", 5]}, "then": "five"}], "default": "x"}}`, `"five"`},
		{`{"$switch": {"branches": [{"case": false, "then": 1}], "default": "x"}}`, `"x"`},
	})
}

func TestExprArithmetic(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$add": [1, 2]}`, `3`},
		{`{"$add": ["$i32", 1]}`, `{"$numberLong": "2147483648"}`},
		{`{"$add": ["$big", 1]}`, `9.223372036854775807e18`},
		{`{"$add": [1, 2.5]}`, `3.5`},
		{`{"$add": [1, null]}`, `null`},
		{`{"$add": [1, "$nope"]}`, `null`},
		{`{"$add": ["$d", 1000]}`, `{"$date": "2014-01-01T08:15:40.736Z"}`},
		{`{"$subtract": ["$d", {"$date": "2014-01-01T08:15:38.736Z"}]}`, `{"$numberLong": "1000"}`},
		{`{"$subtract": ["$d", 736]}`, `{"$date": "2014-01-01T08:15:39Z"}`},
		{`{"$subtract": [5, {"$numberLong": "2"}]}`, `{"$numberLong": "3"}`},
		{`{"$multiply": [2, 3, 4]}`, `24`},
		{`{"$multiply": ["$i32", 2]}`, `{"$numberLong": "4294967294"}`},
		{`{"$multiply": ["$big", 2]}`, `1.8446744073709552e19`},
		{`{"$divide": [1, 2]}`, `0.5`},
		{`{"$divide": [4, 2]}`, `2.0`},
		{`{"$mod": [7, 3]}`, `1`},
		{`{"$mod": [-7, 3]}`, `-1`},
		{`{"$mod": [7.5, 2]}`, `1.5`},
		{`{"$abs": -5}`, `5`},
		{`{"$abs": -2147483648}`, `{"$numberLong": "2147483648"}`},
		{`{"$ceil": 1.2}`, `2.0`},
		{`{"$floor": -1.2}`, `-2.0`},
		{`{"$floor": 3}`, `3`},
		{`{"$round": [10.5, 0]}`, `10.0`},
		{`{"$round": [11.5]}`, `12.0`},
		{`{"$round": [1234, -2]}`, `1200`},
		{`{"$round": [1250, -2]}`, `1200`},
		{`{"$round": [1350, -2]}`, `1400`},
		{`{"$trunc": [1299, -2]}`, `1200`},
		{`{"$trunc": [-7.9]}`, `-7.0`},
		{`{"$sqrt": 25}`, `5.0`},
		{`{"$pow": [5, 2]}`, `25`},
		{`{"$pow": [5, -2]}`, `0.04`},
		{`{"$pow": [-1, -3]}`, `-1`},
		{`{"$pow": [2, 62]}`, `{"$numberLong": "4611686018427387904"}`},
		{`{"$pow": [-1, 1000000001]}`, `-1`},
		{`{"$pow": [2, 1000000001]}`, `{"$numberDouble": "Infinity"}`},
		{`{"$pow": [0, 0]}`, `1`},
		{`{"$exp": 0}`, `1.0`},
		{`{"$ln": 1}`, `0.0`},
		{`{"$log": [100, 10]}`, `2.0`},
		{`{"$log10": 1000}`, `3.0`},
		{`{"$sum": "$arr"}`, `6`},
		{`{"$sum": [1, "a", 2.5]}`, `3.5`},
		{`{"$sum": "$s"}`, `0`},
		{`{"$avg": "$arr"}`, `2.0`},
		{`{"$avg": ["a"]}`, `null`},
		{`{"$max": "$arr"}`, `3`},
		{`{"$min": [5, null, "a"]}`, `5`},
		{`{"$max": [5, null, "a"]}`, `"a"`},
		{`{"$stdDevPop": [1, 2, 3, 4]}`, `1.118033988749895`},
		{`{"$stdDevSamp": [1]}`, `null`},
	})
}

// tryRaw reads an extended JSON value, or reports false.
func tryRaw(js string) (bson.RawValue, bool) {
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"v": `+js+`}`), false, &doc); err != nil {
		return bson.RawValue{}, false
	}
	return doc.Lookup("v"), true
}
