package value

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestMatchAgreesWithReference checks the matchers on random documents,
// paths and operands (arrays, nulls, MinKey, MaxKey and NaN included)
// against a straightforward reference: collect the candidates of Each,
// then test each one as the manual states. In particular an array
// candidate is compared whole, which only an array, MinKey or MaxKey
// operand can match: the rule the evaluator's copy of MatchCmp (cmpCand)
// spelled out, which this test checked against MatchCmp before the copy
// went.
func TestMatchAgreesWithReference(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ops := []CmpOp{Gt, Gte, Lt, Lte}
	for i := 0; i < 50000; i++ {
		d := FromDocument(refDoc(r, 0))
		p := refPath(r)
		x := refValue(r, 1)
		var cands []Value
		Each(d, p, func(c Value) bool { cands = append(cands, c); return false })
		some := func(f func(c Value) bool) bool {
			for _, c := range cands {
				if f(c) {
					return true
				}
			}
			return false
		}
		eq := x.Type != 0 && some(func(c Value) bool { return Equal(c, x) || x.IsNull() && c.IsMissing() })
		if MatchEq(d, p, x) != eq {
			t.Fatalf("MatchEq(%v, %v, %v) = %v", d, p, x, !eq)
		}
		for _, op := range ops {
			want := x.Type != 0 && some(func(c Value) bool { return refCmp(c, op, x) })
			if MatchCmp(d, p, op, x) != want {
				t.Fatalf("MatchCmp(%v, %v, %v, %v) = %v", d, p, op, x, !want)
			}
		}
		exists := some(func(c Value) bool { return !c.IsMissing() })
		if MatchExists(d, p, true) != exists || MatchExists(d, p, false) == exists {
			t.Fatalf("MatchExists(%v, %v) != %v", d, p, exists)
		}
		if x.IsArray() {
			var vals []Value
			x.Each(func(_ int, e Value) bool { vals = append(vals, e); return false })
			s := NewSet(vals...)
			for _, hasNull := range []bool{true, false} {
				want := some(func(c Value) bool {
					if c.IsMissing() {
						return hasNull
					}
					for _, e := range vals {
						if Equal(c, e) {
							return true
						}
					}
					return false
				})
				if MatchIn(d, p, s, hasNull) != want {
					t.Fatalf("MatchIn(%v, %v, %v, %v) = %v", d, p, x, hasNull, !want)
				}
			}
		}
	}
}

// refCmp is {c: {op: x}} for one candidate c that is not an array
// element of itself, as the manual states it.
func refCmp(c Value, op CmpOp, x Value) bool {
	holds := func(r int) bool {
		switch op {
		case Gt:
			return r > 0
		case Gte:
			return r >= 0
		case Lt:
			return r < 0
		}
		return r <= 0
	}
	switch {
	case x.IsNull():
		// {$gte: null} and {$lte: null} are {$eq: null}; $gt and $lt
		// match nothing.
		return (op == Gte || op == Lte) && (c.IsNull() || c.IsMissing())
	case c.IsMissing():
		return false
	case x.Type == bson.TypeMinKey && c.Type != bson.TypeMinKey:
		return op == Gt || op == Gte
	case x.Type == bson.TypeMaxKey && c.Type != bson.TypeMaxKey:
		return op == Lt || op == Lte
	case c.IsArray():
		// The whole array, against an array only (its elements are
		// candidates of their own).
		return x.IsArray() && holds(Compare(c, x))
	case c.IsNumber() != x.IsNumber() || !c.IsNumber() && c.Type != x.Type && !(isStr(c) && isStr(x)):
		return false // type bracketing
	}
	if cn, xn := isNaNRef(c), isNaNRef(x); cn || xn {
		return cn && xn && (op == Gte || op == Lte)
	}
	return holds(Compare(c, x))
}

func isStr(v Value) bool { return v.Type == bson.TypeString || v.Type == bson.TypeSymbol }

func isNaNRef(v Value) bool {
	if f, ok := v.DoubleOK(); ok {
		return math.IsNaN(f)
	}
	if v.Type == bson.TypeDecimal128 {
		return bson.NewDecimal128(binary.LittleEndian.Uint64(v.Data[8:]), binary.LittleEndian.Uint64(v.Data)).IsNaN()
	}
	return false
}

var refKeys = []string{"a", "b", "0", "1"}

func refPath(r *rand.Rand) Path {
	p := make(Path, 1+r.Intn(3))
	for i := range p {
		p[i] = refKeys[r.Intn(len(refKeys))]
		if r.Intn(20) == 0 {
			p[i] = "01"
		}
	}
	return p
}

func refDoc(r *rand.Rand, depth int) bson.Raw {
	d := bson.D{}
	for i := r.Intn(4); i > 0; i-- {
		d = append(d, bson.E{Key: refKeys[r.Intn(len(refKeys))], Value: refValue(r, depth+1).RawValue()})
	}
	b, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

func refValue(r *rand.Rand, depth int) Value {
	scalars := []Value{Int32(1), Int32(2), Int64(2), Double(1.5), Double(math.NaN()),
		decimal128(bson.NewDecimal128(0x3040000000000000, 2)), String("a"), String("b"), Null(),
		minKey(), maxKey(), Bool(true), dateTime(1)}
	n := len(scalars)
	if depth < 3 {
		n += 4
	}
	switch k := r.Intn(n); {
	case k < len(scalars):
		return scalars[k]
	case k < len(scalars)+2:
		return FromDocument(refDoc(r, depth))
	default:
		a := bson.A{}
		for i := r.Intn(4); i > 0; i-- {
			a = append(a, refValue(r, depth+1).RawValue())
		}
		v, err := FromGo(a)
		if err != nil {
			panic(err)
		}
		return v
	}
}

// FuzzLookup checks the field lookup of Field, which compares the key in
// place while scanning, against the element iterator, malformed documents
// included.
func FuzzLookup(f *testing.F) {
	f.Add([]byte{0x16, 0, 0, 0, 2, 'a', 0, 2, 0, 0, 0, 'x', 0, 0x10, 'b', 0, 1, 0, 0, 0, 0}, "b")
	f.Add([]byte{5, 0, 0, 0, 0}, "a")
	f.Fuzz(func(t *testing.T, doc []byte, name string) {
		got := lookup(doc, name)
		var want Value
		it := newIter(doc)
		for {
			k, v, ok := it.next()
			if !ok {
				break
			}
			if string(k) == name {
				want = v
				break
			}
		}
		if got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("lookup(%x, %q) = %v, want %v", doc, name, got, want)
		}
	})
}
