package mql

import (
	"errors"
	"testing"
	"time"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

func TestExprStrings(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$concat": ["$s", " ", "world"]}`, `"Hello world"`},
		{`{"$concat": ["$s", "$nope"]}`, `null`},
		{`{"$toLower": "$s"}`, `"hello"`},
		{`{"$toUpper": "$s"}`, `"HELLO"`},
		{`{"$toUpper": "$nope"}`, `""`},
		{`{"$toLower": 12}`, `"12"`},
		{`{"$substr": ["$s", 1, 3]}`, `"ell"`},
		{`{"$substrBytes": ["$s", 1, -1]}`, `"ello"`},
		{`{"$substrBytes": ["$s", -1, 2]}`, `""`},
		{`{"$substrCP": ["héllo", 1, 2]}`, `"él"`},
		{`{"$strLenBytes": "héllo"}`, `6`},
		{`{"$strLenCP": "héllo"}`, `5`},
		{`{"$split": ["June-15-2013", "-"]}`, `["June", "15", "2013"]`},
		{`{"$split": ["$nope", "-"]}`, `null`},
		{`{"$trim": {"input": "  a b  "}}`, `"a b"`},
		{`{"$ltrim": {"input": "xxaxx", "chars": "x"}}`, `"axx"`},
		{`{"$rtrim": {"input": "xxaxx", "chars": "x"}}`, `"xxa"`},
		{`{"$indexOfBytes": ["cafeteria", "e"]}`, `3`},
		{`{"$indexOfBytes": ["cafeteria", "e", 5]}`, `5`},
		{`{"$indexOfBytes": ["cafeteria", "x"]}`, `-1`},
		{`{"$indexOfBytes": ["$nope", "x"]}`, `null`},
		{`{"$indexOfCP": ["héllo", "l"]}`, `2`},
		{`{"$strcasecmp": ["Hello", "hello"]}`, `0`},
		{`{"$strcasecmp": ["a", "B"]}`, `-1`},
		{`{"$regexMatch": {"input": "$s", "regex": "^h", "options": "i"}}`, `true`},
		{`{"$regexMatch": {"input": "$s", "regex": {"$regularExpression": {"pattern": "l+o$", "options": ""}}}}`, `true`},
		{`{"$regexMatch": {"input": "$nope", "regex": "a"}}`, `false`},
		{`{"$replaceOne": {"input": "a.b.c", "find": ".", "replacement": "-"}}`, `"a-b.c"`},
		{`{"$replaceAll": {"input": "a.b.c", "find": ".", "replacement": "-"}}`, `"a-b-c"`},
		{`{"$replaceAll": {"input": "$nope", "find": ".", "replacement": "-"}}`, `null`},
	})
}

func TestExprArraysAndSets(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$size": "$arr"}`, `3`},
		{`{"$arrayElemAt": ["$arr", -1]}`, `3`},
		{`{"$arrayElemAt": ["$arr", 5]}`, `missing`},
		{`{"$first": "$arr"}`, `1`},
		{`{"$last": "$arr"}`, `3`},
		{`{"$first": [[]]}`, `missing`},
		{`{"$in": [2, "$arr"]}`, `true`},
		{`{"$in": ["2", "$arr"]}`, `false`},
		{`{"$isArray": ["$arr"]}`, `true`},
		{`{"$isArray": "$s"}`, `false`},
		{`{"$concatArrays": ["$arr", [4]]}`, `[1, 2, 3, 4]`},
		{`{"$concatArrays": ["$arr", "$nope"]}`, `null`},
		{`{"$filter": {"input": "$arr", "as": "x", "cond": {"$gte": ["$$x", 2]}}}`, `[2, 3]`},
		{`{"$filter": {"input": "$arr", "cond": {"$gte": ["$$this", 2]}, "limit": 1}}`, `[2]`},
		{`{"$map": {"input": "$arr", "as": "x", "in": {"$multiply": ["$$x", 10]}}}`, `[10, 20, 30]`},
		{`{"$map": {"input": "$nope", "in": 1}}`, `null`},
		{`{"$reduce": {"input": "$arr", "initialValue": 0, "in": {"$add": ["$$value", "$$this"]}}}`, `6`},
		{`{"$reduce": {"input": ["a", "b"], "initialValue": "", "in": {"$concat": ["$$value", "$$this"]}}}`, `"ab"`},
		{`{"$slice": ["$arr", 2]}`, `[1, 2]`},
		{`{"$slice": ["$arr", -2]}`, `[2, 3]`},
		{`{"$slice": ["$arr", 1, 1]}`, `[2]`},
		{`{"$slice": ["$arr", -5, 2]}`, `[1, 2]`},
		{`{"$reverseArray": "$arr"}`, `[3, 2, 1]`},
		{`{"$indexOfArray": ["$arr", 2]}`, `1`},
		{`{"$indexOfArray": ["$arr", 9]}`, `-1`},
		{`{"$range": [0, 10, 3]}`, `[0, 3, 6, 9]`},
		{`{"$range": [5, 0, -2]}`, `[5, 3, 1]`},
		{`{"$arrayToObject": [[["a", 1], ["b", 2]]]}`, `{"a": 1, "b": 2}`},
		{`{"$arrayToObject": {"$literal": [{"k": "a", "v": 1}, {"k": "a", "v": 2}]}}`, `{"a": 2}`},
		{`{"$objectToArray": "$a"}`, `[{"k": "b", "v": 2}]`},
		{`{"$mergeObjects": ["$a", {"c": 1}, null, {"b": 3}]}`, `{"b": 3, "c": 1}`},
		{`{"$setUnion": ["$tags", ["c"]]}`, `["a", "b", "c"]`},
		{`{"$setIntersection": ["$tags", ["a", "z"]]}`, `["a"]`},
		{`{"$setDifference": ["$tags", ["a"]]}`, `["b"]`},
		{`{"$setEquals": ["$tags", ["a", "b"]]}`, `true`},
		{`{"$setIsSubset": [["a"], "$tags"]}`, `true`},
		{`{"$anyElementTrue": [[0, null, 1]]}`, `true`},
		{`{"$allElementsTrue": [[1, 0]]}`, `false`},
		{`{"$allElementsTrue": [[]]}`, `true`},
	})
}

func TestExprTypes(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$type": "$n"}`, `"int"`},
		{`{"$type": "$nope"}`, `"missing"`},
		{`{"$type": "$big"}`, `"long"`},
		{`{"$type": "$d"}`, `"date"`},
		{`{"$type": "$arr"}`, `"array"`},
		{`{"$type": "$_id"}`, `"int"`},
		{`{"$isNumber": "$x"}`, `true`},
		{`{"$isNumber": "$s"}`, `false`},
		{`{"$toString": "$n"}`, `"5"`},
		{`{"$toString": true}`, `"true"`},
		{`{"$toString": "$d"}`, `"2014-01-01T08:15:39.736Z"`},
		{`{"$toInt": "$x"}`, `2`},
		{`{"$toInt": "42"}`, `42`},
		{`{"$toInt": true}`, `1`},
		{`{"$toLong": "$d"}`, `{"$numberLong": "1388564139736"}`},
		{`{"$toDouble": "2.5"}`, `2.5`},
		{`{"$toDouble": "$n"}`, `5.0`},
		{`{"$toBool": 0}`, `false`},
		{`{"$toBool": "false"}`, `true`},
		{`{"$toObjectId": "5ab9cbfa31c2ab715d42129e"}`, `{"$oid": "5ab9cbfa31c2ab715d42129e"}`},
		{`{"$toDate": {"$numberLong": "0"}}`, `{"$date": "1970-01-01T00:00:00Z"}`},
		{`{"$toDate": "2018-03-03T00:00:00Z"}`, `{"$date": "2018-03-03T00:00:00Z"}`},
		{`{"$toInt": "$nope"}`, `null`},
		{`{"$convert": {"input": "abc", "to": "int", "onError": -1}}`, `-1`},
		{`{"$convert": {"input": "$nope", "to": "int", "onNull": 0}}`, `0`},
		{`{"$convert": {"input": "7", "to": 16}}`, `7`},
	})
}

func TestExprDates(t *testing.T) {
	// The manual's example: 2014-01-01T08:15:39.736Z.
	runExprCases(t, []exprCase{
		{`{"$year": "$d"}`, `2014`},
		{`{"$month": "$d"}`, `1`},
		{`{"$dayOfMonth": "$d"}`, `1`},
		{`{"$hour": "$d"}`, `8`},
		{`{"$minute": "$d"}`, `15`},
		{`{"$second": "$d"}`, `39`},
		{`{"$millisecond": "$d"}`, `736`},
		{`{"$dayOfYear": "$d"}`, `1`},
		{`{"$dayOfWeek": "$d"}`, `4`},
		{`{"$week": "$d"}`, `0`},
		{`{"$isoWeek": {"date": "$d", "timezone": "UTC"}}`, `1`},
		{`{"$isoWeekYear": "$d"}`, `2014`},
		{`{"$isoDayOfWeek": "$d"}`, `3`},
		{`{"$year": "$nope"}`, `null`},
		{`{"$dateToString": {"format": "%Y-%m-%d", "date": "$d"}}`, `"2014-01-01"`},
		{`{"$dateToString": {"format": "%H:%M:%S:%L%z", "date": "$d"}}`, `"08:15:39:736+0000"`},
		{`{"$dateToString": {"format": "%j %w %u %U %V %G %Z %%", "date": "$d"}}`, `"001 4 3 00 01 2014 +0 %"`},
		{`{"$dateToString": {"date": "$d"}}`, `"2014-01-01T08:15:39.736Z"`},
		{`{"$dateToString": {"date": "$nope", "onNull": "none"}}`, `"none"`},
		{`{"$dateFromString": {"dateString": "2017-02-08T12:10:40.787Z"}}`, `{"$date": "2017-02-08T12:10:40.787Z"}`},
		{`{"$dateFromString": {"dateString": "2017-02-08"}}`, `{"$date": "2017-02-08T00:00:00Z"}`},
		{`{"$dateFromString": {"dateString": "2017-02-08T12:10:40+02:00"}}`, `{"$date": "2017-02-08T10:10:40Z"}`},
		{`{"$dateFromString": {"dateString": "nope", "onError": "bad"}}`, `"bad"`},
	})
}

// TestExprErrors pins the pointer and code of compile and evaluation errors.
func TestExprErrors(t *testing.T) {
	cases := []struct {
		expr string
		ptr  source.Pointer
		code string
		kind error
	}{
		{`{"$frobnicate": 1}`, "/e/$frobnicate", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$dateAdd": {}}`, "/e/$dateAdd", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$sortArray": {"input": [], "sortBy": {"a": 1}}}`, "/e/$sortArray/sortBy", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$zip": {"inputs": [], "defaults": []}}`, "/e/$zip/defaults", CodePipelineOperand, ErrInvalidPipeline},
		{`{"$function": {}}`, "/e/$function", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"a": {"$where": "x"}}`, "/e/a/$where", CodePipelineOperator, ErrUnsupportedPipeline},
		{`"$$undefinedVar"`, "/e", CodePipelineVariable, ErrInvalidPipeline},
		{`"$$CLUSTER_TIME"`, "/e", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$add": 1, "$sub": 2}`, "/e", CodePipelineOperand, ErrInvalidPipeline},
		{`{"a.b": 1}`, "/e/a.b", CodePipelineOperand, ErrInvalidPipeline},
		{`{"a": {"b": {"$eq": [1]}}}`, "/e/a/b/$eq", CodePipelineOperand, ErrInvalidPipeline},
		{`{"$cond": {"if": 1, "then": 2}}`, "/e/$cond", CodePipelineOperand, ErrInvalidPipeline},
		{`{"$map": {"input": [], "as": "X", "in": 1}}`, "/e/$map/as", CodePipelineVariable, ErrInvalidPipeline},
		{`{"$map": {"input": [], "in": "$$y"}}`, "/e/$map/in", CodePipelineVariable, ErrInvalidPipeline},
		{`{"$year": {"date": "$d", "timezone": "Europe/Paris"}}`, "/e/$year/timezone", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$let": {"vars": {"CURRENT": "$a"}, "in": "$b"}}`, "/e/$let/vars/CURRENT", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$let": {"vars": {"Bad": 1}, "in": 1}}`, "/e/$let/vars/Bad", CodePipelineVariable, ErrInvalidPipeline},
		{`"$a..b"`, "/e", CodePipelineOperand, ErrInvalidPipeline},
		// evaluation
		{`{"$divide": [1, 0]}`, "/e/$divide", CodePipelineEval, ErrPipelineFailed},
		{`{"$mod": [1, 0]}`, "/e/$mod", CodePipelineEval, ErrPipelineFailed},
		{`{"$size": "$s"}`, "/e/$size", CodePipelineEval, ErrPipelineFailed},
		{`{"$in": [1, "$s"]}`, "/e/$in", CodePipelineEval, ErrPipelineFailed},
		{`{"$add": ["$s", 1]}`, "/e/$add", CodePipelineEval, ErrPipelineFailed},
		{`{"$add": ["$d", "$d"]}`, "/e/$add", CodePipelineEval, ErrPipelineFailed},
		{`{"$concat": ["$s", 1]}`, "/e/$concat", CodePipelineEval, ErrPipelineFailed},
		{`{"$switch": {"branches": [{"case": false, "then": 1}]}}`, "/e/$switch", CodePipelineEval, ErrPipelineFailed},
		{`{"$toInt": "x"}`, "/e/$toInt", CodePipelineEval, ErrPipelineFailed},
		{`{"$add": ["$dec", 1]}`, "/e/$add", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$toString": 1.5}`, "/e/$toString", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$round": [1.25, 1]}`, "/e/$round", CodePipelineOperator, ErrUnsupportedPipeline},
		{`{"$round": ["$i32", -1]}`, "/e/$round", CodePipelineOperator, ErrUnsupportedPipeline},
	}
	for _, c := range cases {
		_, err := evalJSON(t, c.expr)
		var se *source.Error
		if !errors.As(err, &se) {
			t.Errorf("%s: error %v, want a *source.Error", c.expr, err)
			continue
		}
		if se.Ptr != c.ptr || se.Code != c.code || !errors.Is(err, c.kind) {
			t.Errorf("%s: %s (%s) %v, want %s (%s) wrapping %v", c.expr, se.Ptr, se.Code, err, c.ptr, c.code, c.kind)
		}
	}
}

func TestExprDepth(t *testing.T) {
	js := `1`
	for i := 0; i < MaxDepth+1; i++ {
		js = `{"$not": [` + js + `]}`
	}
	_, err := evalJSON(t, js)
	if !errors.Is(err, ErrInvalidPipeline) || len(source.Codes(err)) == 0 || source.Codes(err)[0] != CodePipelineDepth {
		t.Fatalf("err = %v, want %s", err, CodePipelineDepth)
	}
}

func TestExprUserVariables(t *testing.T) {
	got, err := evalJSON(t, `{"$add": ["$$v.k", 1]}`, "v")
	if err != nil || !got.IsNull() {
		t.Fatalf("unbound v: %s, %v; want null (Missing operand)", got, err)
	}
	e, err := compileExpr(rawOf(t, `{"$add": ["$$v.k", 1]}`), "/e", []string{"v"})
	if err != nil {
		t.Fatal(err)
	}
	rc := &runCtx{now: time.Now()}
	s := rc.docScope(value.FromDocument(rawOf(t, `{}`).Document())).with("v", value.FromRaw(rawOf(t, `{"k": 41}`)))
	if got, err := e.eval(s); err != nil || !value.Equal(got, value.Int32(42)) {
		t.Fatalf("$$v.k + 1 = %s, %v", got, err)
	}
}

func TestTruthy(t *testing.T) {
	for js, want := range map[string]bool{
		`0`: false, `0.0`: false, `{"$numberLong": "0"}`: false, `{"$numberDecimal": "0"}`: false,
		`null`: false, `false`: false, `{"$undefined": true}`: false,
		`1`: true, `""`: true, `[]`: true, `{}`: true, `{"$numberDouble": "NaN"}`: true, `[false]`: true,
	} {
		if got := truthy(value.FromRaw(rawOf(t, js))); got != want {
			t.Errorf("truthy(%s) = %v", js, got)
		}
	}
	if truthy(value.Missing()) {
		t.Error("truthy(Missing) = true")
	}
}

func TestAccumulators(t *testing.T) {
	cases := []struct {
		op, arg string
		in      []string
		want    string
	}{
		{"$sum", `"$v"`, []string{`1`, `2`, `"x"`, `null`}, `3`},
		{"$sum", `1`, []string{`1`, `1`, `1`}, `3`},
		{"$sum", `"$v"`, []string{`2147483647`, `1`}, `{"$numberLong": "2147483648"}`},
		{"$sum", `"$v"`, []string{`{"$numberLong": "9223372036854775807"}`, `1`}, `9.223372036854775807e18`},
		{"$sum", `"$v"`, []string{`0.1`, `0.1`, `0.1`, `0.1`, `0.1`, `0.1`, `0.1`, `0.1`, `0.1`, `0.1`}, `1.0`},
		{"$sum", `"$v"`, nil, `0`},
		{"$avg", `"$v"`, []string{`1`, `2`, `"x"`}, `1.5`},
		{"$avg", `"$v"`, []string{`"x"`}, `null`},
		{"$min", `"$v"`, []string{`3`, `null`, `1`, `"a"`}, `1`},
		{"$max", `"$v"`, []string{`3`, `null`, `1`, `"a"`}, `"a"`},
		{"$max", `"$v"`, []string{`null`}, `null`},
		{"$first", `"$v"`, []string{`missing`, `2`}, `null`},
		{"$last", `"$v"`, []string{`1`, `2`}, `2`},
		{"$push", `"$v"`, []string{`1`, `missing`, `null`, `1`}, `[1, null, 1]`},
		{"$addToSet", `"$v"`, []string{`2`, `1`, `2.0`, `missing`}, `[2, 1]`},
		{"$count", `{}`, []string{`1`, `missing`}, `2`},
		{"$mergeObjects", `"$v"`, []string{`{"a": 1}`, `null`, `{"b": 2, "a": 3}`}, `{"a": 3, "b": 2}`},
		{"$stdDevPop", `"$v"`, []string{`1`, `2`, `3`, `4`}, `1.118033988749895`},
		{"$stdDevSamp", `"$v"`, []string{`1`, `2`, `3`, `4`}, `1.2909944487358056`},
		{"$stdDevSamp", `"$v"`, []string{`1`}, `null`},
	}
	for _, c := range cases {
		arg, newAcc, err := compileAccumulator(c.op, rawOf(t, c.arg), "/0/$group/t/"+source.Pointer(c.op[1:]), nil)
		if err != nil {
			t.Errorf("%s: %v", c.op, err)
			continue
		}
		acc := newAcc()
		rc := &runCtx{now: time.Now()}
		for _, in := range c.in {
			doc := `{}`
			if in != "missing" {
				doc = `{"v": ` + in + `}`
			}
			v, err := arg.eval(rc.docScope(value.FromDocument(rawOf(t, doc).Document())))
			if err == nil {
				err = acc.add(v)
			}
			if err != nil {
				t.Fatalf("%s add: %v", c.op, err)
			}
		}
		got, err := acc.result()
		w := value.FromRaw(rawOf(t, c.want))
		if err != nil || got.Type != w.Type || !value.Equal(got, w) {
			t.Errorf("%s %s over %v = %s, %v; want %s", c.op, c.arg, c.in, got, err, c.want)
		}
		if c.op == "$push" && acc.size() <= 0 {
			t.Errorf("$push size() = %d", acc.size())
		}
	}
}

func TestAccumulatorErrors(t *testing.T) {
	for _, c := range []struct{ op, arg, code string }{
		{"$sum", `[1, 2]`, CodePipelineOperand},
		{"$count", `{"a": 1}`, CodePipelineOperand},
		{"$topN", `{}`, CodePipelineOperator},
		{"$nope", `1`, CodePipelineOperator},
		{"$sum", `"$$undef"`, CodePipelineVariable},
	} {
		_, _, err := compileAccumulator(c.op, rawOf(t, c.arg), "/0/$group/t", nil)
		if codes := source.Codes(err); len(codes) != 1 || codes[0] != c.code {
			t.Errorf("%s %s: %v, want %s", c.op, c.arg, err, c.code)
		}
	}
	_, newAcc, _ := compileAccumulator("$sum", rawOf(t, `"$v"`), "/0/$group/t", nil)
	if err := newAcc().add(value.FromRaw(rawOf(t, `{"$numberDecimal": "1"}`))); !errors.Is(err, ErrUnsupportedPipeline) {
		t.Errorf("$sum of a decimal: %v", err)
	}
}

func FuzzCompileExpr(f *testing.F) {
	for _, s := range []string{`"$a.b"`, `{"$add": ["$n", 1]}`, `{"$map": {"input": "$arr", "in": "$$this"}}`,
		`{"$dateToString": {"date": "$d", "format": "%Y%"}}`, `{"$substrBytes": ["$s", 1, 9]}`, `{"$range": [0, 5]}`,
		`{"$reduce": {"input": "$arr", "initialValue": [], "in": {"$concatArrays": ["$$value", ["$$this"]]}}}`,
		`{"$switch": {"branches": [{"case": "$n", "then": "$x"}]}}`, `{"$pow": ["$n", "$n"]}`, `{"$convert": {"input": "$x", "to": "long"}}`} {
		f.Add(s)
	}
	rc := &runCtx{now: time.Unix(0, 0)}
	var doc value.Value
	f.Fuzz(func(t *testing.T, js string) {
		if doc.IsMissing() {
			doc = value.FromDocument(rawOf(t, exprDoc).Document())
		}
		rv, ok := tryRaw(js)
		if !ok {
			return
		}
		e, err := compileExpr(rv, "", nil)
		if err != nil {
			return
		}
		_, _ = e.eval(rc.docScope(doc))
	})
}

func BenchmarkProjectExpr(b *testing.B) {
	e, err := compileExpr(rawOf(b, `{"total": {"$multiply": ["$n", "$x"]}, "name": {"$toUpper": "$s"},
		"big": {"$cond": [{"$gt": ["$n", 3]}, true, false]}, "first": {"$arrayElemAt": ["$arr", 0]}}`), "", nil)
	if err != nil {
		b.Fatal(err)
	}
	rc := &runCtx{now: time.Now()}
	s := rc.docScope(value.FromDocument(rawOf(b, exprDoc).Document()))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.eval(s); err != nil {
			b.Fatal(err)
		}
	}
}

func TestExprMoreCases(t *testing.T) {
	runExprCases(t, []exprCase{
		{`{"$year": {"timezone": "UTC", "date": "$d"}}`, `2014`},
		{`{"$year": {"$toDate": "2020-05-06"}}`, `2020`},
		{`{"$toDouble": "1e3"}`, `1000.0`},
		{`{"$getField": "n"}`, `5`},
		{`{"$getField": {"field": "b", "input": "$a"}}`, `2`},
		{`{"$getField": {"field": {"$literal": "$x.y"}, "input": {"$literal": {"$x.y": 7}}}}`, `7`},
		{`{"$getField": {"field": "zz", "input": "$a"}}`, `missing`},
		{`{"$getField": {"field": "b", "input": "$nope"}}`, `null`},
		{`{"$zip": {"inputs": [["a", "b"], [1, 2, 3]]}}`, `[["a", 1], ["b", 2]]`},
		{`{"$zip": {"inputs": [["a"], [1, 2]], "useLongestLength": true, "defaults": ["x", 0]}}`, `[["a", 1], ["x", 2]]`},
		{`{"$zip": {"inputs": [["a"], [1, 2]], "useLongestLength": true}}`, `[["a", 1], [null, 2]]`},
		{`{"$sortArray": {"input": [3, "a", 1, null], "sortBy": 1}}`, `[null, 1, 3, "a"]`},
		{`{"$sortArray": {"input": "$arr", "sortBy": -1}}`, `[3, 2, 1]`},
		{`{"$convert": {"input": [1], "to": "bool", "onError": "no"}}`, `"no"`},
		{`{"$convert": {"input": "1x", "to": "double", "onError": "no"}}`, `"no"`},
	})
	if _, err := evalJSON(t, `{"$toDouble": "Infinity"}`); !errors.Is(err, ErrUnsupportedPipeline) {
		t.Errorf("$toDouble of Infinity: %v", err)
	}
}
