package value

import (
	"encoding/binary"
	"math"
	"testing"
	"testing/quick"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// genValue builds a value from fuzz input: a small grammar over numbers of
// every type, strings, null, arrays and documents, biased toward values
// that collide under Equal.
func genValue(b []byte, depth int) (Value, []byte) {
	if len(b) == 0 {
		return Int32(0), b
	}
	c, b := b[0], b[1:]
	arg := func() int64 {
		if len(b) == 0 {
			return 0
		}
		x := int64(int8(b[0]))
		b = b[1:]
		return x
	}
	switch c % 12 {
	case 0:
		return Int32(int32(arg())), b
	case 1:
		return Int64(arg() << (uint(arg()) % 56)), b
	case 2:
		return Double(float64(arg()) / 4), b
	case 3:
		switch arg() % 4 {
		case 0:
			return Double(math.NaN()), b
		case 1:
			return Double(math.Copysign(0, -1)), b
		case 2:
			return Double(math.Inf(1)), b
		}
		return Double(0x1p63), b
	case 4:
		d, _ := bson.ParseDecimal128FromBigInt(bigOf(arg()), int(arg()%4))
		return decimal128(d), b
	case 5:
		return String(string(rune('a' + arg()%3))), b
	case 6:
		return Null(), b
	case 7:
		return Bool(arg()%2 == 0), b
	case 8, 9:
		if depth > 2 {
			return Int32(int32(arg())), b
		}
		n := int(arg()&3) + 0
		doc := c%12 == 8
		out := make([]byte, 4)
		for i := 0; i < n; i++ {
			var e Value
			e, b = genValue(b, depth+1)
			out = append(out, byte(e.Type))
			if doc {
				out = append(out, byte('x'+arg()%2))
			} else {
				out = append(out, byte('0'+i))
			}
			out = append(out, 0)
			out = append(out, e.Data...)
		}
		out = append(out, 0)
		binary.LittleEndian.PutUint32(out, uint32(len(out)))
		if doc {
			return Value{Type: bson.TypeEmbeddedDocument, Data: out}, b
		}
		return Value{Type: bson.TypeArray, Data: out}, b
	case 10:
		return dateTime(arg()), b
	}
	return Double(float64(arg()) * 1e300), b
}

func checkKey(t *testing.T, a, b Value) {
	eq := Equal(a, b)
	ka, kb := Key(nil, a), Key(nil, b)
	if eq != (string(ka) == string(kb)) {
		t.Fatalf("Equal(%v, %v) = %v but keys %x, %x", a, b, eq, ka, kb)
	}
	if c, d := Compare(a, b), Compare(b, a); c != -d {
		t.Fatalf("Compare(%v, %v) = %d but reversed %d", a, b, c, d)
	}
	if !Equal(a, a) {
		t.Fatalf("%v != itself", a)
	}
}

func FuzzKey(f *testing.F) {
	f.Add([]byte{0, 1, 2, 4})
	f.Add([]byte{4, 1, 0, 0, 1})
	f.Add([]byte{2, 8, 4, 0, 16})
	f.Add([]byte{9, 2, 0, 5, 2, 5, 9, 2, 4, 5, 0})
	f.Add([]byte{3, 1, 0, 0, 3, 0, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		a, rest := genValue(data, 0)
		b, _ := genValue(rest, 0)
		checkKey(t, a, b)
	})
}

func TestKeyQuick(t *testing.T) {
	err := quick.Check(func(x, y []byte) bool {
		a, _ := genValue(x, 0)
		b, _ := genValue(y, 0)
		checkKey(t, a, b)
		return true
	}, &quick.Config{MaxCount: 20000})
	if err != nil {
		t.Fatal(err)
	}
}

// TestKeyNumbers checks Key against Equal on a dense grid of numbers of all
// four types, where collisions are common.
func TestKeyNumbers(t *testing.T) {
	var vals []Value
	for _, f := range []float64{0, 1, -1, 0.5, 0.1, 1e20, 0x1p63, -0x1p63, 0x1p53, 0x1p53 + 2, 1e-300, math.NaN(), math.Inf(1)} {
		vals = append(vals, Double(f))
		if f == math.Trunc(f) && math.Abs(f) < 0x1p63 {
			vals = append(vals, Int64(int64(f)))
		}
		d, err := bson.ParseDecimal128(formatG(f))
		if err == nil {
			vals = append(vals, decimal128(d))
		}
	}
	vals = append(vals, Int64(math.MaxInt64), Int64(math.MinInt64), Int64(1<<53+1), Int32(math.MaxInt32))
	for _, a := range vals {
		for _, b := range vals {
			checkKey(t, a, b)
		}
	}
}
