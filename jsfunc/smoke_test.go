package jsfunc_test

import (
	"context"
	"testing"

	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/value"
)

func TestSmoke(t *testing.T) {
	app := testApp(map[string]string{
		"sum":   `exports = function(a, b) { return a + b }`,
		"async": `exports = async function(a) { const x = await Promise.resolve(a); return {x, d: new Date(0), o: new BSON.ObjectId("5e58667d902d38559c802b13")} }`,
		"find":  `exports = async function(email){ const u = await context.services.get("mongodb-atlas").db("wildaid").collection("User").findOne({email}); return !!(u && u.global && u.global.admin) }`,
	})
	fs := load(t, app)
	d := newSliceData(map[string][]any{"wildaid.User": {map[string]any{"email": "a@x", "global": map[string]any{"admin": true}}}})
	if err := fs.Bind(d); err != nil {
		t.Fatal(err)
	}
	for _, c := range []jsfunc.Call{
		{Name: "sum", Args: []value.Value{value.Int32(1), value.Int32(2)}},
		{Name: "async", Args: []value.Value{value.String("hi")}},
		{Name: "find", Args: []value.Value{value.String("a@x")}},
		{Name: "find", Args: []value.Value{value.String("b@x")}},
	} {
		v, err := fs.Run(context.Background(), c)
		t.Logf("%s: %v %v", c.Name, v, err)
	}
}
