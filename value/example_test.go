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
	fmt.Println(s.Has(value.Double(1.0)), s.Has(value.String("b")), s.Len())
	// Output: true false 2
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
