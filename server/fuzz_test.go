package server

import (
	"fmt"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzFunctionsCallBody feeds client bytes through everything functions/call
// does before the gate: the depth check, the extended JSON decoder and the
// argument reader of every method. Nothing panics, and every refusal is a
// 4xx the client can read.
func FuzzFunctionsCallBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"updateOne","arguments":[{"database":"d","collection":"c","query":{"userId":"65a000000000000000000001"},"update":{"$set":{"favoriteColor":"pink"}}}],"service":"mongodb-atlas"}`,
		`{"name":"find","arguments":[{"database":"d","collection":"c","query":{"n":{"$gt":{"$numberInt":"1"}}},"project":{"n":{"$numberInt":"1"}},"sort":{"n":{"$numberInt":"1"}},"limit":{"$numberInt":"10"}}],"service":"mongodb-atlas"}`,
		`{"name":"insertOne","arguments":[{"database":"d","collection":"c","document":{"_id":{"$oid":"65a0000000000000000000b2"},"d":{"$date":{"$numberLong":"0"}},"dec":{"$numberDecimal":"1.10"}}}],"service":"mongodb-atlas"}`,
		`{"name":"aggregate","arguments":[{"database":"d","collection":"c","pipeline":[{"$match":{}}]}],"service":"s"}`,
		`{"name":"count","arguments":[{"database":"d","collection":"c","limit":{"$numberDouble":"-1"}}]}`,
		`{"name":"findOneAndReplace","arguments":[{"database":"d","collection":"c","filter":{},"upsert":"yes"}]}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`, `{"a":{"$numberInt":"99999999999"}}`, `{"name":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, ae := parseDocument(body)
		if ae != nil {
			if ae.status != http.StatusBadRequest {
				t.Fatalf("parse refusal status %d", ae.status)
			}
			return
		}
		for name, fields := range argSpec {
			args, _ := doc.Lookup("arguments").ArrayOK()
			vals, _ := args.Values()
			for _, v := range vals {
				d, ok := v.DocumentOK()
				if !ok {
					continue
				}
				if _, ae := readArgs(name, d, fields); ae != nil && ae.status/100 != 4 {
					t.Fatalf("%s: refusal status %d", name, ae.status)
				}
			}
		}
		if _, err := canonical(doc); err != nil {
			t.Fatalf("a decoded body does not encode back: %v", err)
		}
		if _, err := plainJSON(doc); err != nil {
			t.Fatalf("plain JSON of a decoded body: %v", err)
		}
	})
}

func TestPlainJSON(t *testing.T) {
	oid, _ := bson.ObjectIDFromHex("6193504e1be4ab27791c8133")
	dec, _ := bson.ParseDecimal128("1.10")
	v := bson.D{
		{Key: "id", Value: oid}, {Key: "d", Value: bson.DateTime(1642124003067)}, {Key: "dec", Value: dec},
		{Key: "i", Value: int32(1)}, {Key: "l", Value: int64(2)}, {Key: "f", Value: 2.5},
		{Key: "b", Value: bson.Binary{Subtype: 5, Data: []byte("hi")}}, {Key: "re", Value: bson.Regex{Pattern: "^a", Options: "i"}},
		{Key: "ts", Value: bson.Timestamp{T: 1, I: 2}}, {Key: "min", Value: bson.MinKey{}}, {Key: "a", Value: bson.A{"x", nil, true}},
	}
	got, err := plainJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"6193504e1be4ab27791c8133","d":"2022-01-14T01:33:23.067Z","dec":"1.10","i":1,"l":2,"f":2.5,"b":{"Subtype":5,"Data":"aGk="},"re":{"Pattern":"^a","Options":"i"},"ts":{"T":1,"I":2},"min":{},"a":["x",null,true]}`
	if string(got) != want {
		t.Fatalf("plainJSON:\n got %s\nwant %s", got, want)
	}
	c, err := canonical(bson.A{int32(1), int64(2)})
	if err != nil || string(c) != `[{"$numberInt":"1"},{"$numberLong":"2"}]` {
		t.Fatalf("canonical array: %s %v", c, err)
	}
	if c, _ := canonical(nil); string(c) != "null" {
		t.Fatalf("canonical nil: %s", c)
	}
}

func TestCheckDepth(t *testing.T) {
	deep := make([]byte, 0, 300)
	for range 101 {
		deep = append(deep, '[')
	}
	if checkDepth(deep) == nil {
		t.Fatal("101 levels accepted")
	}
	if err := checkDepth([]byte(`{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"["}`)); err != nil {
		t.Fatalf("brackets inside a string counted: %v", err)
	}
}

func TestCheckMembers(t *testing.T) {
	obj := func(n int) []byte {
		b := []byte(`{"f":{`)
		for i := range n {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `"k%d":1`, i)
		}
		return append(b, `},"arr":[1,2,3]}`...)
	}
	if err := checkDepth(obj(maxMembers)); err != nil {
		t.Fatalf("%d members refused: %v", maxMembers, err)
	}
	if err := checkDepth(obj(maxMembers + 1)); err == nil {
		t.Fatalf("%d members accepted", maxMembers+1)
	}
	long := []byte("[")
	for i := range 5 * maxMembers {
		if i > 0 {
			long = append(long, ',')
		}
		long = append(long, '1')
	}
	if err := checkDepth(append(long, ']')); err != nil {
		t.Fatalf("a long array refused: %v", err)
	}
}
