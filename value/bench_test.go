package value

import (
	"fmt"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// kiloDoc is a ~1 KB document whose "owner" field comes near the end.
func kiloDoc(tb testing.TB) bson.Raw {
	d := bson.D{}
	for i := 0; i < 20; i++ {
		d = append(d, bson.E{Key: fmt.Sprintf("field%02d", i), Value: strings.Repeat("x", 30)})
	}
	d = append(d, bson.E{Key: "tags", Value: bson.A{"a", "b", "c"}})
	d = append(d, bson.E{Key: "n", Value: int64(42)})
	d = append(d, bson.E{Key: "owner", Value: "user-1234"})
	b, err := bson.Marshal(d)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 800 || len(b) > 1200 {
		tb.Fatalf("document is %d bytes", len(b))
	}
	return b
}

func inSet20() Set {
	var vals []Value
	for i := 0; i < 20; i++ {
		vals = append(vals, String(fmt.Sprintf("user-%d", 1220+i)))
	}
	return NewSet(vals...)
}

func TestZeroAllocs(t *testing.T) {
	doc := FromDocument(kiloDoc(t))
	owner, tags, n := ParsePath("owner"), ParsePath("tags"), ParsePath("n")
	want := String("user-1234")
	s := inSet20()
	i1, d1 := Int64(1<<40), Double(1<<40+0.5)
	c, b, five, ab := String("c"), String("b"), Int32(5), ParsePath("a.b")
	null := Null()
	dc := decimal128(bson.NewDecimal128(0x3040000000000000, 42))
	for name, fn := range map[string]func(){
		"MatchEq":     func() { MatchEq(doc, owner, want) },
		"MatchEqArr":  func() { MatchEq(doc, tags, c) },
		"MatchEqNull": func() { MatchEq(doc, ab, null) },
		"MatchIn":     func() { MatchIn(doc, owner, s, false) },
		"MatchCmp":    func() { MatchCmp(doc, n, Gt, five) },
		"MatchExists": func() { MatchExists(doc, tags, true) },
		"Compare":     func() { Compare(i1, d1) },
		"CompareDec":  func() { Compare(dc, d1) },
		"MatchEqNone": func() { MatchEq(doc.Field("tags"), nil, b) },
		"MatchInNone": func() { MatchIn(doc.Field("owner"), nil, s, false) },
		"KeyDouble":   func() { s.Has(d1) },
	} {
		if a := testing.AllocsPerRun(100, fn); a != 0 {
			t.Errorf("%s: %v allocs, want 0", name, a)
		}
	}
}

func BenchmarkMatchEqString1KB(b *testing.B) {
	doc := FromDocument(kiloDoc(b))
	p, v := ParsePath("owner"), String("user-1234")
	b.ReportAllocs()
	for b.Loop() {
		if !MatchEq(doc, p, v) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkMatchInSet20(b *testing.B) {
	doc := FromDocument(kiloDoc(b))
	p, s := ParsePath("owner"), inSet20()
	b.ReportAllocs()
	for b.Loop() {
		if !MatchIn(doc, p, s, false) {
			b.Fatal("no match")
		}
	}
}

func BenchmarkCompareNumbers(b *testing.B) {
	for _, c := range []struct {
		name string
		x, y Value
	}{
		{"int32-int64", Int32(7), Int64(7)},
		{"int64-double", Int64(1 << 60), Double(1 << 60)},
		{"double-double", Double(1.5), Double(2.5)},
		{"decimal-double", decimal128(bson.NewDecimal128(0x3040000000000000, 42)), Double(42.5)},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compare(c.x, c.y)
			}
		})
	}
}
