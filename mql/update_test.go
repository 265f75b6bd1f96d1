package mql

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// utDoc parses a relaxed or canonical extended JSON document.
func utDoc(t testing.TB, s string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("bad test document %s: %v", s, err)
	}
	return d
}

// utJSON renders a document as relaxed extended JSON.
func utJSON(t testing.TB, d bson.Raw) string {
	t.Helper()
	b, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatalf("cannot render %v: %v", d, err)
	}
	return string(b)
}

func TestUpdatePaths(t *testing.T) {
	tests := []struct {
		name, update string
		paths        []string
		ops          []string
		repl, pos    bool
	}{
		{"set", `{"$set": {"b.c": 2, "a": 1}}`, []string{"a", "b.c"}, []string{"$set"}, false, false},
		{"every operator", `{"$set": {"a": 1}, "$unset": {"b": ""}, "$inc": {"c": 1}, "$mul": {"d": 2}, "$min": {"e": 1}, "$max": {"f": 1},
			"$push": {"g": 1}, "$pull": {"h": 1}, "$pullAll": {"i": [1]}, "$addToSet": {"j": 1}, "$pop": {"k": -1},
			"$rename": {"l": "m"}, "$setOnInsert": {"n": 1}, "$currentDate": {"o": true}, "$bit": {"p": {"and": 1}}}`,
			[]string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p"},
			[]string{"$addToSet", "$bit", "$currentDate", "$inc", "$max", "$min", "$mul", "$pop", "$pull", "$pullAll", "$push", "$rename", "$set", "$setOnInsert", "$unset"}, false, false},
		{"positional $", `{"$set": {"items.$.qty": 1}}`, []string{"items.qty"}, []string{"$set"}, false, true},
		{"all positional and filtered", `{"$inc": {"items.$[].qty": 1, "x.$[el].y.$[k2]": 2}}`, []string{"items.qty", "x.y"}, []string{"$inc"}, false, true},
		// Without the stored document a numeric component is an index or a
		// field name: both readings are listed (fail closed).
		{"numeric index", `{"$set": {"items.3.qty": 1, "tags.0": "x"}}`, []string{"items.3.qty", "items.qty", "tags", "tags.0"}, []string{"$set"}, false, false},
		{"numeric first component is a field name", `{"$set": {"0.a": 1}}`, []string{"0.a"}, []string{"$set"}, false, false},
		{"duplicates after normalisation", `{"$set": {"a.0.b": 1, "a.1.b": 2}}`, []string{"a.0.b", "a.1.b", "a.b"}, []string{"$set"}, false, false},
		{"leading zero and sign are field names", `{"$set": {"a.01": 1, "a.-1": 2, "a.+1": 3}}`, []string{"a.+1", "a.-1", "a.01"}, []string{"$set"}, false, false},
		{"rename touches both", `{"$rename": {"old.name": "new"}}`, []string{"new", "old.name"}, []string{"$rename"}, false, false},
		{"empty operator", `{"$set": {}}`, nil, []string{"$set"}, false, false},
		{"push with modifiers", `{"$push": {"a": {"$each": [1, 2], "$position": 0, "$slice": -5, "$sort": 1}}}`, []string{"a"}, []string{"$push"}, false, false},
		{"replacement", `{"name": "x", "_id": 1, "a": {"$b": 1}}`, []string{"_id", "a", "name"}, nil, true, false},
		{"empty replacement", `{}`, nil, nil, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := UpdatePaths(utDoc(t, tt.update))
			if err != nil {
				t.Fatalf("UpdatePaths: %v", err)
			}
			want := UpdateInfo{Paths: tt.paths, Replacement: tt.repl, Operators: tt.ops, Positional: tt.pos}
			if !reflect.DeepEqual(info, want) {
				t.Errorf("got  %+v\nwant %+v", info, want)
			}
		})
	}
}

// TestUpdatePathsIn checks that a numeric path component is an array
// index only where the stored value at that point is an array, and a
// field name elsewhere, for every operator and for $rename's source and
// target.
func TestUpdatePathsIn(t *testing.T) {
	prev := `{"_id": 1, "a": {"2024": {"b": 1}, "b": 2}, "arr": [{"b": 1}, [5, 6], {"2": {"b": 1}}], "docs": [{"0": {"b": 1}}], "s": 3}`
	tests := []struct {
		name, update string
		paths        []string
	}{
		{"set key", `{"$set": {"a.2024.b": 1}}`, []string{"a.2024.b"}},
		{"set index", `{"$set": {"arr.0.b": 1}}`, []string{"arr.b"}},
		{"nested index in array element", `{"$set": {"arr.1.0": 1}}`, []string{"arr"}},
		{"index past the end", `{"$set": {"arr.9.b": 1}}`, []string{"arr.b"}},
		{"missing parent: a key", `{"$set": {"new.0.b": 1}}`, []string{"new.0.b"}},
		{"scalar parent: a key", `{"$set": {"s.0": 1}}`, []string{"s.0"}},
		{"leading zero is a key", `{"$unset": {"a.02024.b": 1}}`, []string{"a.02024.b"}},
		{"rename reads and writes exact paths", `{"$rename": {"a.2024.b": "a.c"}}`, []string{"a.2024.b", "a.c"}},
		{"every operator", `{"$inc": {"a.2024.b": 1}, "$mul": {"a.2024.c": 1}, "$min": {"a.2024.d": 1}, "$max": {"a.2024.e": 1},
			"$currentDate": {"a.2024.f": true}, "$setOnInsert": {"a.2024.g": 1}, "$push": {"a.2024.h": 1}, "$addToSet": {"a.2024.i": 1},
			"$pull": {"a.2024.j": 1}, "$pullAll": {"a.2024.k": [1]}, "$pop": {"a.2024.l": 1}, "$bit": {"a.2024.m": {"or": 1}}}`,
			[]string{"a.2024.b", "a.2024.c", "a.2024.d", "a.2024.e", "a.2024.f", "a.2024.g", "a.2024.h", "a.2024.i", "a.2024.j", "a.2024.k", "a.2024.l", "a.2024.m"}},
		{"positional: elements decide", `{"$set": {"docs.$[].0.b": 1}}`, []string{"docs.0.b"}},
		{"positional: mixed elements give both readings", `{"$set": {"arr.$[].2.b": 1}}`, []string{"arr.2.b", "arr.b"}},
		{"positional $", `{"$set": {"docs.$.0.b": 1}}`, []string{"docs.0.b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info, err := UpdatePathsIn(utDoc(t, prev), utDoc(t, tt.update))
			if err != nil {
				t.Fatalf("UpdatePathsIn: %v", err)
			}
			if !reflect.DeepEqual(info.Paths, tt.paths) {
				t.Errorf("got  %q\nwant %q", info.Paths, tt.paths)
			}
		})
	}
	// Too many unknown readings: refused, not guessed.
	_, err := UpdatePaths(utDoc(t, `{"$set": {"a.1.2.3.4.5.b": 1}}`))
	if got, want := errString(err), `/$set/a.1.2.3.4.5.b: field path "a.1.2.3.4.5.b" has too many numeric components whose meaning (array index or field name) is not known: the fields it writes cannot be checked (update/unsupported)`; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestUpdatePathsErrors(t *testing.T) {
	tests := []struct {
		name, update, want string
	}{
		{"mixed", `{"$set": {"a": 1}, "b": 2}`,
			`/b: update mixes operators and plain fields: "b" is not an update operator (use $set, or send a replacement document) (update/mixed)`},
		{"where", `{"$where": "sleep(1000)"}`, `/$where: unknown update operator "$where" (update/unknown-operator)`},
		{"unknown", `{"$setField": {"a": 1}}`, `/$setField: unknown update operator "$setField" (update/unknown-operator)`},
		{"operand not a document", `{"$set": [1]}`, `/$set: $set expects a document of fields, got array (update/operand)`},
		{"inc not numeric", `{"$inc": {"n": "1"}}`, `/$inc/n: $inc: expects a number, got string (update/operand)`},
		{"mul not numeric", `{"$mul": {"n": null}}`, `/$mul/n: $mul: expects a number, got null (update/operand)`},
		{"pop 2", `{"$pop": {"a": 2}}`, `/$pop/a: $pop: expects 1 or -1, got 2 (update/operand)`},
		{"rename not string", `{"$rename": {"a": 1}}`, `/$rename/a: $rename: expects the new field name as a string, got 32-bit integer (update/operand)`},
		{"rename same", `{"$rename": {"a": "a"}}`, `/$rename/a: $rename: the source and target of $rename are the same field (update/operand)`},
		{"rename positional", `{"$rename": {"a.$.b": "c"}}`, `/$rename/a.$.b: $rename: the source and target of $rename cannot be array elements ("$") (update/operand)`},
		{"current date type", `{"$currentDate": {"a": {"$type": "string"}}}`, `/$currentDate/a: $currentDate: $type must be "date" or "timestamp" (update/operand)`},
		{"current date number", `{"$currentDate": {"a": 1}}`, `/$currentDate/a: $currentDate: expects true, false or {$type: "date"|"timestamp"}, got 32-bit integer (update/operand)`},
		{"bit op", `{"$bit": {"a": {"nand": 1}}}`, `/$bit/a: $bit: unknown bitwise operation "nand" (and, or, xor) (update/operand)`},
		{"bit double", `{"$bit": {"a": {"and": 1.5}}}`, `/$bit/a: $bit: the argument of and must be an int or a long, got double (update/operand)`},
		{"pullAll scalar", `{"$pullAll": {"a": 1}}`, `/$pullAll/a: $pullAll: expects an array, got 32-bit integer (update/operand)`},
		{"modifier without each", `{"$push": {"a": {"$slice": 1}}}`, `/$push/a: $push: the modifier "$slice" needs $each (update/operand)`},
		{"each not array", `{"$addToSet": {"a": {"$each": 1}}}`, `/$addToSet/a: $addToSet: $each expects an array, got 32-bit integer (update/operand)`},
		{"addToSet slice", `{"$addToSet": {"a": {"$each": [1], "$slice": 1}}}`, `/$addToSet/a: $addToSet: unknown modifier "$slice" (update/operand)`},
		{"position not integer", `{"$push": {"a": {"$each": [1], "$position": 1.5}}}`, `/$push/a: $push: $position expects an integer, got 1.5 (update/operand)`},
		{"empty component", `{"$set": {"a..b": 1}}`, `/$set/a..b: field path "a..b" has an empty component (update/path)`},
		{"nul in rename target", `{"$rename": {"a": "b\u0000c"}}`, `/$rename/a: field path "b\x00c" holds a NUL byte (update/path)`},
		{"empty path", `{"$set": {"": 1}}`, `/$set/: empty field path (update/path)`},
		{"dollar first", `{"$set": {"$x.a": 1}}`, `/$set/$x.a: field path "$x.a" starts with "$" (update/path)`},
		{"dollar field", `{"$set": {"a.$x": 1}}`, `/$set/a.$x: field path "a.$x": "$x" is neither a field name nor a positional operator ($, $[], $[<identifier>]) (update/path)`},
		{"bad identifier", `{"$set": {"a.$[Bad]": 1}}`, `/$set/a.$[Bad]: field path "a.$[Bad]": "$[Bad]" is neither a field name nor a positional operator ($, $[], $[<identifier>]) (update/path)`},
		{"conflict prefix", `{"$set": {"a": 1}, "$inc": {"a.b": 1}}`, `/$inc/a.b: updating the path "a.b" would create a conflict at "a" (update/conflict)`},
		{"conflict same", `{"$set": {"a": 1}, "$unset": {"a": ""}}`, `/$unset/a: updating the path "a" would create a conflict at "a" (update/conflict)`},
		{"conflict rename target", `{"$set": {"b": 1}, "$rename": {"a": "b"}}`, `/$rename/a: updating the path "b" would create a conflict at "b" (update/conflict)`},
		{"pointer escaping", `{"$set": {"a/b~c": 1}, "$inc": {"a/b~c.d": 1}}`, `/$inc/a~1b~0c.d: updating the path "a/b~c.d" would create a conflict at "a/b~c" (update/conflict)`},
		{"pipeline", `{"0": {"$set": {"a": 1}}, "1": {"$unset": "b"}}`,
			`update pipelines are not supported: a pipeline can compute any field from any other, so field-level rules cannot be checked (update/pipeline)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UpdatePaths(utDoc(t, tt.update))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got  %s\n want %s", err, tt.want)
			}
			if !errors.Is(err, ErrInvalidUpdate) {
				t.Errorf("error does not wrap ErrInvalidUpdate")
			}
			var se *source.Error
			if !errors.As(err, &se) || se.Code == "" {
				t.Errorf("error has no *source.Error with a code")
			}
			if _, err := se.Ptr.Tokens(); err != nil {
				t.Errorf("bad pointer %q: %v", se.Ptr, err)
			}
		})
	}
}

func TestUpdatePathsMalformed(t *testing.T) {
	for _, b := range []bson.Raw{nil, {1, 2, 3}, {5, 0, 0, 0, 1}, {10, 0, 0, 0, 2, 'a', 0, 9, 0, 0}} {
		_, err := UpdatePaths(b)
		if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeUpdateMalformed}) {
			t.Errorf("UpdatePaths(%v): codes %v, err %v", []byte(b), got, err)
		}
	}
}

func TestUpdateDepth(t *testing.T) {
	deep := bson.D{{Key: "x", Value: 1}}
	for range 250 {
		deep = bson.D{{Key: "x", Value: bson.A{deep}}}
	}
	u := utMarshal(t, bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: deep}}}})
	want := "update is nested more than 200 levels deep (update/malformed)"
	if _, err := UpdatePaths(u); err == nil || err.Error() != want {
		t.Errorf("UpdatePaths: %v", err)
	}
	if _, err := ApplyUpdate(nil, u); err == nil || err.Error() != want {
		t.Errorf("ApplyUpdate: %v", err)
	}
	if _, err := ApplyUpdate(utMarshal(t, deep), utDoc(t, `{"$set": {"a": 1}}`)); err == nil || !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("ApplyUpdate on a deep document: %v", err)
	}
	if _, err := ReplacementPaths(nil, utMarshal(t, deep)); err == nil || !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("ReplacementPaths: %v", err)
	}
	if _, err := MarshalUpdate(bson.Raw(u)); err == nil || !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("MarshalUpdate: %v", err)
	}
}

func TestUpdatePathsDuplicateOperator(t *testing.T) {
	d, err := bson.Marshal(bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}, {Key: "$set", Value: bson.D{{Key: "b", Value: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = UpdatePaths(d)
	if want := `/$set: update operator $set appears twice (update/operand)`; err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestUpdateInfoTopLevel(t *testing.T) {
	info, err := UpdatePaths(utDoc(t, `{"$set": {"b.c": 1, "a": 1, "b.d": 2}, "$rename": {"x.y": "w.z"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.TopLevel(), []string{"a", "b", "w", "x"}; !reflect.DeepEqual(got, want) {
		t.Errorf("TopLevel() = %v, want %v", got, want)
	}
}

func TestReplacementPaths(t *testing.T) {
	tests := []struct {
		name, prev, repl string
		want             []string
	}{
		{"added, kept and lost fields", `{"_id": 1, "a": 1, "b": 2, "c": 3}`, `{"a": 1, "d": 4}`, []string{"a", "b", "c", "d"}},
		{"same _id is not touched", `{"_id": 1, "a": 1}`, `{"_id": 1, "a": 2}`, []string{"a"}},
		{"other _id is touched", `{"_id": 1, "a": 1}`, `{"_id": 2, "a": 1}`, []string{"_id", "a"}},
		{"no previous document", ``, `{"a": 1}`, []string{"a"}},
		{"empty replacement", `{"_id": 1, "a": 1}`, `{}`, []string{"a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var prev bson.Raw
			if tt.prev != "" {
				prev = utDoc(t, tt.prev)
			}
			got, err := ReplacementPaths(prev, utDoc(t, tt.repl))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := ReplacementPaths(nil, utDoc(t, `{"$set": {"a": 1}}`)); !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("operator in replacement: got %v", err)
	}
}

func TestMarshalUpdate(t *testing.T) {
	for _, u := range []any{bson.A{bson.D{{Key: "$set", Value: bson.D{}}}}, []bson.D{{{Key: "$set", Value: bson.D{}}}}, []any{}} {
		if _, err := MarshalUpdate(u); !reflect.DeepEqual(source.Codes(err), []string{CodeUpdatePipeline}) {
			t.Errorf("MarshalUpdate(%T): %v, want update/pipeline", u, err)
		}
	}
	for _, u := range []any{bson.D{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, bson.M{"$set": bson.M{"a": 1}},
		map[string]any{"$set": map[string]any{"a": 1}}, []bson.E{{Key: "$set", Value: bson.D{{Key: "a", Value: 1}}}}, struct {
			Set map[string]int `bson:"$set"`
		}{map[string]int{"a": 1}}} {
		b, err := MarshalUpdate(u)
		if err != nil {
			t.Fatalf("MarshalUpdate(%T): %v", u, err)
		}
		if got := utJSON(t, b); got != `{"$set":{"a":1}}` {
			t.Errorf("MarshalUpdate(%T) = %s", u, got)
		}
	}
	if _, err := MarshalUpdate(nil); !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("nil: %v", err)
	}
	if _, err := MarshalUpdate(bson.Raw{1}); !errors.Is(err, ErrInvalidUpdate) {
		t.Errorf("bad raw: %v", err)
	}
}

func TestApplyUpdate(t *testing.T) {
	tests := []struct {
		name, prev, update, want string
	}{
		{"set new fields in path order", `{"_id": 1, "a": 1}`, `{"$set": {"z": 1, "b.c": 2, "a": 3}}`, `{"_id":1,"a":3,"b":{"c":2},"z":1}`},
		{"set embedded", `{"_id": 1, "a": {"x": 1, "y": 2}}`, `{"$set": {"a.y": 3, "a.z": 4}}`, `{"_id":1,"a":{"x":1,"y":3,"z":4}}`},
		{"set array index and pad", `{"_id": 1, "a": [1, 2]}`, `{"$set": {"a.1": 9, "a.4": 5}}`, `{"_id":1,"a":[1,9,null,null,5]}`},
		{"set inside array element", `{"_id": 1, "a": [{"b": 1}, {"b": 2}]}`, `{"$set": {"a.1.b": 3}}`, `{"_id":1,"a":[{"b":1},{"b":3}]}`},
		{"numeric component on document", `{"_id": 1, "a": {"0": 1}}`, `{"$set": {"a.0": 2, "a.1": 3}}`, `{"_id":1,"a":{"0":2,"1":3}}`},
		{"unset", `{"_id": 1, "a": 1, "b": {"c": 1, "d": 2}, "e": [1, 2]}`, `{"$unset": {"a": "", "b.c": 1, "e.0": true, "nope.x": 1}}`, `{"_id":1,"b":{"d":2},"e":[null,2]}`},
		{"inc", `{"_id": 1, "i": 1, "l": {"$numberLong": "5"}, "d": 1.5}`, `{"$inc": {"i": 2, "l": 1, "d": 1, "n": -1}}`, `{"_id":1,"i":3,"l":6,"d":2.5,"n":-1}`},
		{"inc int32 overflow becomes long", `{"_id": 1, "i": 2147483647}`, `{"$inc": {"i": 1}}`, `{"_id":1,"i":2147483648}`},
		{"mul", `{"_id": 1, "i": 3, "d": 2.0}`, `{"$mul": {"i": 2, "d": 1.5, "n": 7, "m": 1.5}}`, `{"_id":1,"i":6,"d":3.0,"m":0.0,"n":0}`},
		{"min max", `{"_id": 1, "a": 5, "b": 5, "c": "x"}`, `{"$min": {"a": 3, "c": 1}, "$max": {"b": 3, "d": 1}}`, `{"_id":1,"a":3,"b":5,"c":1,"d":1}`},
		{"rename", `{"_id": 1, "a": {"b": 1}, "c": 2}`, `{"$rename": {"a.b": "x.y", "c": "a.c", "nope": "q"}}`, `{"_id":1,"a":{"c":2},"x":{"y":1}}`},
		{"rename over existing", `{"_id": 1, "a": 1, "b": 2}`, `{"$rename": {"a": "b"}}`, `{"_id":1,"b":1}`},
		{"push", `{"_id": 1, "a": [1]}`, `{"$push": {"a": 2, "b": {"x": 1}}}`, `{"_id":1,"a":[1,2],"b":[{"x":1}]}`},
		{"push each position slice", `{"_id": 1, "a": [1, 2, 3]}`, `{"$push": {"a": {"$each": [8, 9], "$position": 1, "$slice": 4}}}`, `{"_id":1,"a":[1,8,9,2]}`},
		{"push negative position and slice", `{"_id": 1, "a": [1, 2, 3]}`, `{"$push": {"a": {"$each": [8], "$position": -1, "$slice": -2}}}`, `{"_id":1,"a":[8,3]}`},
		{"addToSet", `{"_id": 1, "a": [1, {"x": 1}]}`, `{"$addToSet": {"a": {"x": 1}, "b": {"$each": [1, 1, 2.0, 2]}}}`, `{"_id":1,"a":[1,{"x":1}],"b":[1,2.0]}`},
		{"addToSet numbers compare by value", `{"_id": 1, "a": [1]}`, `{"$addToSet": {"a": {"$each": [1.0, {"$numberLong": "1"}, 2]}}}`, `{"_id":1,"a":[1,2]}`},
		{"pull and pullAll", `{"_id": 1, "a": [1, 2, 1.0, 3], "b": [[1], [2], 1]}`, `{"$pull": {"a": 1}, "$pullAll": {"b": [[1], 1]}}`, `{"_id":1,"a":[2,3],"b":[[2]]}`},
		{"pull array value", `{"_id": 1, "a": [[1, 2], [2, 1]]}`, `{"$pull": {"a": [1, 2]}}`, `{"_id":1,"a":[[2,1]]}`},
		{"pop", `{"_id": 1, "a": [1, 2, 3], "b": [1, 2, 3], "c": []}`, `{"$pop": {"a": 1, "b": -1, "c": 1, "d": 1}}`, `{"_id":1,"a":[1,2],"b":[2,3],"c":[]}`},
		{"bit", `{"_id": 1, "a": 13, "b": {"$numberLong": "3"}}`, `{"$bit": {"a": {"and": 10, "or": 1}, "b": {"xor": 5}, "c": {"or": {"$numberLong": "4"}}}}`, `{"_id":1,"a":9,"b":6,"c":4}`},
		{"currentDate", `{"_id": 1}`, `{"$currentDate": {"at": true, "on": {"$type": "date"}}}`, `{"_id":1,"at":{"$date":"2026-01-02T03:04:05Z"},"on":{"$date":"2026-01-02T03:04:05Z"}}`},
		{"setOnInsert ignored on update", `{"_id": 1}`, `{"$setOnInsert": {"a": 1}, "$set": {"b": 1}}`, `{"_id":1,"b":1}`},
		{"set _id to same value", `{"_id": 1, "a": 1}`, `{"$set": {"_id": 1.0}}`, `{"_id":1.0,"a":1}`},
		{"replacement keeps _id first", `{"_id": 7, "a": 1, "b": 2}`, `{"c": 3}`, `{"_id":7,"c":3}`},
		{"replacement with same _id", `{"_id": 7, "a": 1}`, `{"c": 3, "_id": 7}`, `{"c":3,"_id":7}`},
		{"all positional", `{"_id": 1, "a": [1, 2], "b": [{"q": 1}, {"q": 2, "r": 0}], "c": [[1, 2], [3]]}`,
			`{"$inc": {"a.$[]": 10, "b.$[].q": 1}, "$set": {"b.$[].r": 5}, "$push": {"c.$[]": 9}}`,
			`{"_id":1,"a":[11,12],"b":[{"q":2,"r":5},{"q":3,"r":5}],"c":[[1,2,9],[3,9]]}`},
		{"all positional on empty array", `{"_id": 1, "a": []}`, `{"$set": {"a.$[].b": 1}}`, `{"_id":1,"a":[]}`},
		{"empty operator is a no-op", `{"_id": 1, "a": 1}`, `{"$set": {}}`, `{"_id":1,"a":1}`},
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyUpdateWith(utDoc(t, tt.prev), utDoc(t, tt.update), ApplyOptions{Now: now})
			if err != nil {
				t.Fatalf("ApplyUpdate: %v", err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("result is not valid BSON: %v", err)
			}
			if s := utJSON(t, got); s != tt.want {
				t.Errorf("got  %s\nwant %s", s, tt.want)
			}
		})
	}
}

func TestApplyUpdateInsert(t *testing.T) {
	got, err := ApplyUpdate(nil, utDoc(t, `{"$setOnInsert": {"owner": "u1"}, "$set": {"a": 1}, "$inc": {"n": 2}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s, want := utJSON(t, got), `{"a":1,"n":2,"owner":"u1"}`; s != want {
		t.Errorf("got %s, want %s", s, want)
	}
	got, err = ApplyUpdateWith(utDoc(t, `{"_id": 5, "team": "red"}`), utDoc(t, `{"$setOnInsert": {"owner": "u1"}}`), ApplyOptions{Insert: true})
	if err != nil {
		t.Fatal(err)
	}
	if s, want := utJSON(t, got), `{"_id":5,"team":"red","owner":"u1"}`; s != want {
		t.Errorf("seeded upsert: got %s, want %s", s, want)
	}
}

func TestApplyUpdateDoesNotModifyInputs(t *testing.T) {
	prev := utDoc(t, `{"_id": 1, "a": [1, 2], "b": {"c": 1}}`)
	upd := utDoc(t, `{"$push": {"a": 3}, "$set": {"b.c": 2}}`)
	p0, u0 := string(prev), string(upd)
	if _, err := ApplyUpdate(prev, upd); err != nil {
		t.Fatal(err)
	}
	if string(prev) != p0 || string(upd) != u0 {
		t.Error("ApplyUpdate modified its inputs")
	}
}

func TestApplyUpdateErrors(t *testing.T) {
	tests := []struct {
		name, prev, update, want string
		unsupported              bool
	}{
		{"positional", `{"_id": 1, "a": [1]}`, `{"$set": {"a.$": 2}}`, `/$set/a.$: positional operators ($) need the query and arrayFilters; the result cannot be computed here (update/unsupported)`, true},
		{"filtered positional", `{"_id": 1, "a": [1]}`, `{"$inc": {"a.$[x]": 2}}`, `/$inc/a.$[x]: positional operators ($[x]) need the query and arrayFilters; the result cannot be computed here (update/unsupported)`, true},
		{"all positional then $", `{"_id": 1, "a": [[1]]}`, `{"$inc": {"a.$[].$": 2}}`, `/$inc/a.$[].$: positional operators ($) need the query and arrayFilters; the result cannot be computed here (update/unsupported)`, true},
		{"all positional on missing", `{"_id": 1}`, `{"$set": {"a.$[].b": 2}}`, `/$set/a.$[].b: the path "a" must exist in the document to apply array updates (update/not-viable)`, false},
		{"all positional on scalar", `{"_id": 1, "a": 5}`, `{"$set": {"a.$[]": 2}}`, `/$set/a.$[]: cannot apply array updates to the non-array value at "a" (update/not-viable)`, false},
		{"push sort", `{"_id": 1}`, `{"$push": {"a": {"$each": [1], "$sort": 1}}}`, `/$push/a: $push with $sort is not supported by ApplyUpdate (update/unsupported)`, true},
		{"pull condition", `{"_id": 1, "a": [1]}`, `{"$pull": {"a": {"$gt": 0}}}`, `/$pull/a: $pull with a condition or a regular expression is not supported by ApplyUpdate; only values are (update/unsupported)`, true},
		{"pull from nested arrays", `{"_id": 1, "a": [[1], 1]}`, `{"$pull": {"a": 1}}`, `/$pull/a: $pull of a value from an array holding arrays is not supported by ApplyUpdate (update/unsupported)`, true},
		{"decimal", `{"_id": 1, "a": {"$numberDecimal": "1.5"}}`, `{"$inc": {"a": 1}}`, `/$inc/a: $inc: decimal128 arithmetic is not supported by ApplyUpdate (update/unsupported)`, true},
		{"timestamp", `{"_id": 1}`, `{"$currentDate": {"a": {"$type": "timestamp"}}}`, `/$currentDate/a: $currentDate with a timestamp is set by the server and cannot be computed here (update/unsupported)`, true},
		{"change _id", `{"_id": 1}`, `{"$set": {"_id": 2}}`, `the update would change the immutable field _id (update/immutable-field)`, false},
		{"unset _id", `{"_id": 1}`, `{"$unset": {"_id": 1}}`, `the update would change the immutable field _id (update/immutable-field)`, false},
		{"replace _id", `{"_id": 1}`, `{"_id": 2, "a": 1}`, `/_id: the replacement would change the immutable field _id (update/immutable-field)`, false},
		{"inc string", `{"_id": 1, "a": "x"}`, `{"$inc": {"a": 1}}`, `/$inc/a: cannot apply $inc to a value of type string (update/type)`, false},
		{"inc overflow", `{"_id": 1, "a": {"$numberLong": "9223372036854775807"}}`, `{"$inc": {"a": 1}}`, `/$inc/a: $inc: integer overflow (update/overflow)`, false},
		{"mul overflow", `{"_id": 1, "a": {"$numberLong": "9223372036854775807"}}`, `{"$mul": {"a": 2}}`, `/$mul/a: $mul: integer overflow (update/overflow)`, false},
		{"push to scalar", `{"_id": 1, "a": 1}`, `{"$push": {"a": 1}}`, `/$push/a: $push needs an array, the field holds a value of type 32-bit integer (update/type)`, false},
		{"bit on double", `{"_id": 1, "a": 1.5}`, `{"$bit": {"a": {"and": 1}}}`, `/$bit/a: $bit needs an int or a long, the field holds double (update/type)`, false},
		{"field in scalar", `{"_id": 1, "a": 1}`, `{"$set": {"a.b": 1}}`, `/$set/a.b: cannot create field "b" in a 32-bit integer value (path "a.b") (update/not-viable)`, false},
		{"field in null", `{"_id": 1, "a": null}`, `{"$set": {"a.b": 1}}`, `/$set/a.b: cannot create field "b" in a null value (path "a.b") (update/not-viable)`, false},
		{"field in array", `{"_id": 1, "a": [1]}`, `{"$set": {"a.b": 1}}`, `/$set/a.b: cannot create field "b" in an array (path "a.b") (update/not-viable)`, false},
		{"rename from array element", `{"_id": 1, "a": [{"b": 1}]}`, `{"$rename": {"a.0.b": "c"}}`, `/$rename/a.0.b: the source of $rename cannot be an array element (update/not-viable)`, false},
		{"rename into array", `{"_id": 1, "a": [], "c": 1}`, `{"$rename": {"c": "a.b"}}`, `/$rename/c: the target of $rename cannot be an array element (update/not-viable)`, false},
		{"leading zero on an array is a field name", `{"_id": 1, "a": [1, 2]}`, `{"$set": {"a.01": 9}}`, `/$set/a.01: cannot create field "01" in an array (path "a.01") (update/not-viable)`, false},
		{"huge pad", `{"_id": 1, "a": []}`, `{"$set": {"a.999999": 1}}`, `/$set/a.999999: array index 999999 is too far past the end of the array (update/unsupported)`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ApplyUpdate(utDoc(t, tt.prev), utDoc(t, tt.update))
			if err == nil {
				t.Fatal("no error")
			}
			if err.Error() != tt.want {
				t.Errorf("error\n got  %s\n want %s", err, tt.want)
			}
			if got := errors.Is(err, ErrUnsupportedUpdate); got != tt.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupportedUpdate) = %v", got)
			}
			if got := errors.Is(err, ErrInvalidUpdate); got == tt.unsupported {
				t.Errorf("errors.Is(err, ErrInvalidUpdate) = %v", got)
			}
		})
	}
}

// TestApplyUpdateAgreesWithUpdatePaths checks that every field that
// ApplyUpdate changes is covered by a path of UpdatePaths (the write
// permission check sees every field the write changes).
func TestApplyUpdateAgreesWithUpdatePaths(t *testing.T) {
	prev := utDoc(t, `{"_id": 1, "a": {"b": 1, "c": [1, 2]}, "d": 5, "e": [3]}`)
	for _, u := range []string{
		`{"$set": {"a.b": 2}}`, `{"$unset": {"d": 1}}`, `{"$rename": {"d": "f.g"}}`, `{"$push": {"a.c": 3}}`,
		`{"$inc": {"a.c.1": 1}}`, `{"$pop": {"e": 1}}`, `{"$max": {"x": 1}}`,
	} {
		info, err := UpdatePaths(utDoc(t, u))
		if err != nil {
			t.Fatal(err)
		}
		post, err := ApplyUpdate(prev, utDoc(t, u))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"_id", "a", "d", "e", "f", "x"} {
			before, after := prev.Lookup(f), post.Lookup(f)
			if before.Equal(after) {
				continue
			}
			covered := false
			for _, p := range info.Paths {
				if p == f || strings.HasPrefix(p, f+".") {
					covered = true
				}
			}
			if !covered {
				t.Errorf("%s changes %q but UpdatePaths gave %v", u, f, info.Paths)
			}
		}
	}
}

// TestWritePaths: one numeric component (after no positional one) gives
// the two readings decided by the stored value at ArrayAt; otherwise the
// readings are those of UpdatePaths, all required.
func TestWritePaths(t *testing.T) {
	for _, tt := range []struct {
		update string
		want   []WritePath
	}{
		{`{"$set": {"a": 1, "b.c": 2}}`, []WritePath{{Readings: [][]string{{"a"}}}, {Readings: [][]string{{"b", "c"}}}}},
		{`{"$set": {"a.1.b": 1}}`, []WritePath{{Readings: [][]string{{"a", "b"}, {"a", "1", "b"}}, ArrayAt: "a"}}},
		{`{"$set": {"a.1.$[].b": 1}}`, []WritePath{{Readings: [][]string{{"a", "b"}, {"a", "1", "b"}}, ArrayAt: "a"}}},
		{`{"$set": {"a.$[].1": 1}}`, []WritePath{{Readings: [][]string{{"a"}, {"a", "1"}}}}},
		{`{"$set": {"0.a": 1, "a.01": 2}}`, []WritePath{{Readings: [][]string{{"0", "a"}}}, {Readings: [][]string{{"a", "01"}}}}},
		{`{"$rename": {"a.2": "b"}}`, []WritePath{{Readings: [][]string{{"a"}, {"a", "2"}}, ArrayAt: "a"}, {Readings: [][]string{{"b"}}}}},
	} {
		got, err := WritePaths(utDoc(t, tt.update))
		if err != nil {
			t.Fatalf("%s: %v", tt.update, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s:\n got  %v\n want %v", tt.update, got, tt.want)
		}
	}
	repl := utDoc(t, `{"name": "x"}`)
	if got, err := WritePaths(repl); err != nil || len(got) != 1 || !bytes.Equal(got[0].Replacement, repl) || got[0].Readings != nil {
		t.Errorf("replacement: %v, %v", got, err)
	}
	for update, code := range map[string]string{
		`{"$set": {"a": 1}, "b": 2}`:               CodeUpdateMixed,
		`{"$set": {"a.1.2.3.4.5.b": 1}}`:           CodeUpdateUnsupported,
		`{"$set": {"a.b": 1}, "$unset": {"a": 1}}`: CodeUpdateConflict,
	} {
		if _, err := WritePaths(utDoc(t, update)); !reflect.DeepEqual(source.Codes(err), []string{code}) {
			t.Errorf("%s: %v, want %s", update, err, code)
		}
	}
}
