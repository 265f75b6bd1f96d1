package value_test

import (
	"fmt"

	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleCompare() {
	fmt.Println(value.Compare(value.Int32(1), value.Double(1.0)))
	fmt.Println(value.Compare(value.Int64(1<<53+1), value.Double(1<<53)))
	fmt.Println(value.Compare(value.Null(), value.Int32(0)))
	fmt.Println(value.Compare(value.String("10"), value.Int32(99)))
	// Output:
	// 0
	// 1
	// -1
	// 1
}

func ExampleEach() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"items":[{"tags":["a","b"]},{"tags":"c"},{"other":1}]}`), false, &doc)
	value.Each(value.FromDocument(doc), value.ParsePath("items.tags"), func(v value.Value) bool {
		fmt.Println(v.ExtJSON())
		return false // keep going
	})
	// Output:
	// "a"
	// "b"
	// ["a","b"]
	// "c"
	// missing
}

func ExampleMatchEq() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"owner":"u1","roles":["admin","editor"]}`), false, &doc)
	d := value.FromDocument(doc)
	fmt.Println(value.MatchEq(d, value.ParsePath("roles"), value.String("admin")))
	fmt.Println(value.MatchEq(d, value.ParsePath("owner"), value.String("u2")))
	fmt.Println(value.MatchEq(d, value.ParsePath("deleted"), value.Null()))
	// Output:
	// true
	// false
	// true
}

// A plain value, with the empty path: {"%%user.custom_data.roles":
// "admin"} holds when the claim is "admin" or an array holding it.
func ExampleMatchEq_value() {
	roles, _ := value.FromExtJSON([]byte(`["admin","editor"]`))
	fmt.Println(value.MatchEq(roles, nil, value.String("admin")))
	// Output: true
}

func ExampleNewSet() {
	s := value.NewSet(value.Int32(1), value.String("a"))
	fmt.Println(s.Has(value.Double(1.0)), s.Has(value.String("b")), s.HasNull())
	// Output: true false false
}

func ExampleKey() {
	a := value.Key(nil, value.Int32(1))
	b := value.Key(nil, value.Double(1))
	fmt.Println(string(a) == string(b))
	// Output: true
}

func ExampleFromExtJSON() {
	v, _ := value.FromExtJSON([]byte(`{"$oid":"650102030405060708090a0b"}`))
	fmt.Println(v.Type, v.ExtJSON())
	// Output: objectID {"$oid":"650102030405060708090a0b"}
}

func ExampleMatchIn() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"team":"t2","tags":["x","y"]}`), false, &doc)
	d := value.FromDocument(doc)
	teams := value.NewSet(value.String("t1"), value.String("t2"))
	fmt.Println(value.MatchIn(d, value.ParsePath("team"), teams, teams.HasNull()))
	fmt.Println(value.MatchIn(d, value.ParsePath("tags"), teams, teams.HasNull()))
	// Output:
	// true
	// false
}

func ExampleMatchExists() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"a":null,"items":[{"b":1},{"c":2}]}`), false, &doc)
	d := value.FromDocument(doc)
	fmt.Println(value.MatchExists(d, value.ParsePath("a"), true))
	fmt.Println(value.MatchExists(d, value.ParsePath("items.b"), true))
	fmt.Println(value.MatchExists(d, value.ParsePath("items.d"), true))
	// Output:
	// true
	// true
	// false
}

func ExampleMatchCmp() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"age":30,"name":"zed","scores":[4,9]}`), false, &doc)
	d := value.FromDocument(doc)
	fmt.Println(value.MatchCmp(d, value.ParsePath("age"), value.Gte, value.Int32(18)))
	fmt.Println(value.MatchCmp(d, value.ParsePath("name"), value.Gt, value.Int32(18))) // type bracketing
	fmt.Println(value.MatchCmp(d, value.ParsePath("scores"), value.Gt, value.Int32(8)))
	// Output:
	// true
	// false
	// true
}

func ExampleCmpOp_Flip() {
	// {"%%user.custom_data.level": {"$gt": "%%root.min"}} seen from the
	// document: {"min": {"$lt": level}}.
	fmt.Println(value.Gt.Flip(), value.Lte.Flip())
	// Output: $lt $gte
}

func ExampleResolve() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"a":{"b":[{"c":1},{"c":2}]}}`), false, &doc)
	d := value.FromDocument(doc)
	fmt.Println(value.Resolve(d, value.ParsePath("a.b.1.c")))
	fmt.Println(value.Resolve(d, value.ParsePath("a.b.c")))
	// Output:
	// 2
	// missing
}

func ExampleCheckOperand() {
	op, _ := value.FromExtJSON([]byte(`{"$regex":"^a"}`))
	ref, _ := value.FromExtJSON([]byte(`{"$ref":"users","$id":1}`))
	fmt.Println(value.CheckOperand(op), value.CheckOperand(ref), value.CheckOperand(value.Regex("^a", "")))
	// Output: operator comparable regex
}

func ExampleArrayIndex() {
	for _, c := range []string{"0", "12", "01", "-1"} {
		i, ok := value.ArrayIndex(c)
		fmt.Println(c, i, ok)
	}
	// Output:
	// 0 0 true
	// 12 12 true
	// 01 0 false
	// -1 0 false
}

func ExampleMatchAll() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"tags":["x","y"],"nested":[[1,2]]}`), false, &doc)
	d := value.FromDocument(doc)
	xs := func(s string) value.Value {
		v, _ := value.FromExtJSON([]byte(s))
		return v
	}
	fmt.Println(value.MatchAll(d, value.ParsePath("tags"), xs(`["y","x"]`)))
	fmt.Println(value.MatchAll(d, value.ParsePath("tags"), xs(`["x","z"]`)))
	fmt.Println(value.MatchAll(d, value.ParsePath("tags"), xs(`[]`)))
	fmt.Println(value.MatchAll(d, value.ParsePath("nested"), xs(`[[1,2]]`)))
	// Output:
	// true
	// false
	// false
	// true
}

func ExampleMatchSize() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"tags":["x","y"],"nested":[[1,2]]}`), false, &doc)
	d := value.FromDocument(doc)
	fmt.Println(value.MatchSize(d, value.ParsePath("tags"), 2))
	fmt.Println(value.MatchSize(d, value.ParsePath("nested"), 2))
	fmt.Println(value.MatchSize(d, value.ParsePath("missing"), 0))
	// Output:
	// true
	// false
	// false
}

func ExampleSizeOK() {
	n, ok := value.SizeOK(value.Double(2))
	fmt.Println(n, ok)
	_, ok = value.SizeOK(value.Double(1.5))
	fmt.Println(ok)
	_, ok = value.SizeOK(value.String("2"))
	fmt.Println(ok)
	// Output:
	// 2 true
	// false
	// false
}

func ExampleEachWhole() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"a":[[1,2]]}`), false, &doc)
	value.EachWhole(value.FromDocument(doc), value.ParsePath("a"), func(c value.Value) bool {
		fmt.Println(c.ExtJSON())
		return false
	})
	// Output:
	// [[1,2]]
}

func ExampleMatchType() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"tags":[1,"a"],"nil":null}`), false, &doc)
	d := value.FromDocument(doc)
	ts, _ := value.TypesOK(value.String("int"))
	fmt.Println(value.MatchType(d, value.ParsePath("tags"), ts))
	ts, _ = value.TypesOK(value.String("null"))
	fmt.Println(value.MatchType(d, value.ParsePath("nil"), ts))
	fmt.Println(value.MatchType(d, value.ParsePath("missing"), ts))
	// Output:
	// true
	// true
	// false
}

func ExampleTypesOK() {
	_, ok := value.TypesOK(value.String("number"))
	fmt.Println(ok)
	_, ok = value.TypesOK(value.Double(2))
	fmt.Println(ok)
	_, ok = value.TypesOK(value.String("integer"))
	fmt.Println(ok)
	// Output:
	// true
	// true
	// false
}

func ExampleStringToUUID() {
	u := value.StringToUUID(value.String("3B241101-e2bb-4255-8caf-4136c566a962"))
	fmt.Println(u.ExtJSON())
	fmt.Println(value.UUIDToString(u).ExtJSON())
	fmt.Println(value.StringToUUID(value.String("3b241101e2bb42558caf4136c566a962")).IsMissing())
	// Output:
	// {"$binary":{"base64":"OyQRAeK7QlWMr0E2xWapYg==","subType":"04"}}
	// "3b241101-e2bb-4255-8caf-4136c566a962"
	// true
}

func ExampleUUIDToString() {
	u, _ := value.FromExtJSON([]byte(`{"$uuid": "3b241101-e2bb-4255-8caf-4136c566a962"}`))
	fmt.Println(value.UUIDToString(u).ExtJSON())
	fmt.Println(value.UUIDToString(value.Int32(1)).IsMissing())
	// Output:
	// "3b241101-e2bb-4255-8caf-4136c566a962"
	// true
}

func ExampleMatchMod() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"qty":5.9}`), false, &doc)
	op, _ := value.FromExtJSON([]byte(`[4, 1]`))
	d, r, ok := value.ModOK(op)
	fmt.Println(d, r, ok)
	fmt.Println(value.MatchMod(value.FromDocument(doc), value.ParsePath("qty"), d, r))
	// Output:
	// 4 1 true
	// true
}

func ExampleModOK() {
	op, _ := value.FromExtJSON([]byte(`[0, 1]`))
	_, _, ok := value.ModOK(op)
	fmt.Println(ok)
	// Output:
	// false
}

func ExampleCompileRegex() {
	re, err := value.CompileRegex(`^al`, "i")
	fmt.Println(re.Source, re.Options, err)
	_, err = value.CompileRegex(`(a)\1`, "")
	fmt.Println(err)
	// Output:
	// ^al i <nil>
	// value: regular expression not supported: the escape \1 at offset 3 of "(a)\\1"
}

func ExampleMatchRegex() {
	var doc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"tags":[1, "Blue"]}`), false, &doc)
	re, _ := value.CompileRegex(`^bl`, "i")
	fmt.Println(value.MatchRegex(value.FromDocument(doc), value.ParsePath("tags"), re))
	// Output:
	// true
}

func ExampleDistinctValues() {
	doc, _ := bson.Marshal(bson.D{{Key: "items", Value: bson.A{
		bson.D{{Key: "tags", Value: bson.A{"a", "b"}}},
		bson.D{{Key: "tags", Value: "c"}},
		"not a document",
	}}})
	for _, v := range value.DistinctValues(value.FromDocument(doc), value.ParsePath("items.tags")) {
		fmt.Print(v.RawValue().StringValue(), " ")
	}
	fmt.Println()
	// Output:
	// a b c
}
