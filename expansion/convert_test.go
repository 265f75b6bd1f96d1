package expansion

import (
	"bytes"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/rulegate/rulegate/value"
)

// The direct conversion must give the same BSON as the driver's relaxed
// extended JSON reader, which it replaces on the hot path.
var convertCases = []string{
	`[]`, `{}`, `[1, 2.5, -3, 2147483648, -2147483649, 1e3, "x", true, false, null]`,
	`{"a": {"b": [{"c": 1}, []]}, "d": "é\u00e9\n"}`,
	`{"_id": {"$oid": "65a000000000000000000001"}, "when": {"$date": "2024-01-01T00:00:00Z"}, "n": {"$numberLong": "5"}}`,
	`[{"$oid": "65a000000000000000000001"}, {"x": {"$numberDecimal": "1.5"}}]`,
	`{"teamIds": ["a", "b", "c"], "admin": false, "level": 3}`,
	`[9007199254740993, 0.1, -0.0]`,
}

func TestJSONValueMatchesExtJSON(t *testing.T) {
	for _, in := range convertCases {
		checkConvert(t, in)
	}
}

func checkConvert(t *testing.T, in string) {
	t.Helper()
	want, wantErr := value.FromExtJSON([]byte(in))
	got, gotErr := fromGJSON(gjson.Parse(in))
	if (wantErr != nil) != (gotErr != nil) {
		t.Fatalf("%s: fromGJSON err %v, FromExtJSON err %v", in, gotErr, wantErr)
	}
	if wantErr != nil {
		return
	}
	if got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
		t.Fatalf("%s:\n got %v %s\nwant %v %s", in, got.Type, got.ExtJSON(), want.Type, want.ExtJSON())
	}
}

func FuzzJSONValue(f *testing.F) {
	for _, c := range convertCases {
		f.Add(c)
	}
	f.Fuzz(func(t *testing.T, in string) {
		r := gjson.Parse(in)
		if !gjson.Valid(in) || !(r.IsArray() || r.IsObject()) {
			return
		}
		// Only compare where the driver accepts the input as a document or
		// array; fromGJSON must never panic either way.
		v, err := fromGJSON(r)
		want, wantErr := value.FromExtJSON([]byte(in))
		if err == nil && wantErr == nil && (v.Type != want.Type || !bytes.Equal(v.Data, want.Data)) {
			t.Fatalf("%s:\n got %s\nwant %s", in, v.ExtJSON(), want.ExtJSON())
		}
	})
}

func BenchmarkFromGJSONArray(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString(`[`)
	for i := 0; i < 20; i++ {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString(`"team-0000000000000000000`)
		buf.WriteByte('a' + byte(i))
		buf.WriteString(`"`)
	}
	buf.WriteString(`]`)
	r := gjson.ParseBytes(buf.Bytes())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fromGJSON(r); err != nil {
			b.Fatal(err)
		}
	}
}
