package evaluator

import (
	"bytes"
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// TestValueAgreesWithOldCopies compares value's matchers over a document
// Value with the hot-path copies the evaluator kept of them (below,
// verbatim but for value.EachValue, value.CmpValue and value.ResolveValue,
// which are value.Each, value.MatchCmp and value.Resolve with the same
// bodies), before the copies go: random documents, paths and operands,
// arrays, nulls, MinKey, MaxKey and NaN included.
func TestValueAgreesWithOldCopies(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	ops := []value.CmpOp{value.Gt, value.Gte, value.Lt, value.Lte}
	for i := 0; i < 200000; i++ {
		doc := genDoc(r, 0)
		d := value.FromDocument(doc)
		p := genPath(r)
		x := genVal(r, 1)
		if value.MatchEq(d, p, x) != docEq(d, p, x) {
			t.Fatalf("MatchEq(%v, %v, %v) = %v", d, p, x, !docEq(d, p, x))
		}
		for _, op := range ops {
			if value.MatchCmp(d, p, op, x) != docCmp(d, p, op, x) {
				t.Fatalf("MatchCmp(%v, %v, %v, %v) = %v", d, p, op, x, !docCmp(d, p, op, x))
			}
			if op.Flip() != flip(op) {
				t.Fatalf("%v.Flip() = %v", op, op.Flip())
			}
		}
		for _, want := range []bool{true, false} {
			if value.MatchExists(d, p, want) != docExists(d, p, want) {
				t.Fatalf("MatchExists(%v, %v, %v)", d, p, want)
			}
		}
		if x.IsArray() {
			var vals []value.Value
			x.Each(func(_ int, e value.Value) bool { vals = append(vals, e); return false })
			s := value.NewSet(vals...)
			for _, hn := range []bool{true, false} {
				if value.MatchIn(d, p, s, hn) != docIn(d, p, s, hn) {
					t.Fatalf("MatchIn(%v, %v, %v, %v)", d, p, x, hn)
				}
			}
		}
		if got, want := value.Resolve(d, p), resolve(d, p); got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("Resolve(%v, %v) = %v, want %v", d, p, got, want)
		}
		if got, want := d.Field(p[0]), fieldOf(d, p[0]); got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("Field(%v, %q) = %v, want %v", d, p[0], got, want)
		}
	}
}

var genKeys = []string{"a", "b", "0", "1"}

func genPath(r *rand.Rand) value.Path {
	p := make(value.Path, 1+r.Intn(3))
	for i := range p {
		p[i] = genKeys[r.Intn(len(genKeys))]
		if r.Intn(20) == 0 {
			p[i] = "01"
		}
	}
	return p
}

func genDoc(r *rand.Rand, depth int) bson.Raw {
	d := bson.D{}
	for i := r.Intn(4); i > 0; i-- {
		d = append(d, bson.E{Key: genKeys[r.Intn(len(genKeys))], Value: genVal(r, depth+1).RawValue()})
	}
	b, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

func genVal(r *rand.Rand, depth int) value.Value {
	ext := []string{`1`, `2`, `{"$numberLong":"2"}`, `1.5`, `{"$numberDouble":"NaN"}`, `{"$numberDecimal":"2"}`,
		`"a"`, `"b"`, `null`, `{"$minKey":1}`, `{"$maxKey":1}`, `true`, `{"$date":{"$numberLong":"1"}}`}
	n := len(ext)
	if depth < 3 {
		n += 4
	}
	switch k := r.Intn(n); {
	case k < len(ext):
		v, err := value.FromExtJSON([]byte(ext[k]))
		if err != nil {
			panic(err)
		}
		return v
	case k < len(ext)+2:
		return value.FromDocument(genDoc(r, depth))
	default:
		a := bson.A{}
		for i := r.Intn(4); i > 0; i-- {
			a = append(a, genVal(r, depth+1).RawValue())
		}
		v, err := value.FromGo(a)
		if err != nil {
			panic(err)
		}
		return v
	}
}

// The helpers below apply MongoDB query semantics (value.MatchEq and
// friends) to a document held as a value.Value, through value.EachValue:
// unlike value.Raw, they never box the document in an interface, so the
// per-document path does not allocate.

func isNullish(c value.Value) bool { return c.Type == 0 || c.Type == bson.TypeNull }

// each is value.Each over a document value, with the first path
// component found by fieldOf.
func each(d value.Value, p value.Path, fn func(value.Value) bool) bool {
	if len(p) == 0 {
		return false
	}
	return value.Each(fieldOf(d, p[0]), p[1:], fn)
}

// docEq is value.MatchEq over a document value.
func docEq(d value.Value, p value.Path, v value.Value) bool {
	if v.IsMissing() {
		return false
	}
	if v.IsNull() {
		return each(d, p, isNullish)
	}
	return each(d, p, func(c value.Value) bool { return value.Equal(c, v) })
}

// docIn is value.MatchIn over a document value.
func docIn(d value.Value, p value.Path, s value.Set, hasNull bool) bool {
	return each(d, p, func(c value.Value) bool {
		if c.IsMissing() {
			return hasNull
		}
		return s.Has(c)
	})
}

// docExists is value.MatchExists over a document value.
func docExists(d value.Value, p value.Path, want bool) bool {
	return each(d, p, func(c value.Value) bool { return !c.IsMissing() }) == want
}

// docCmp is value.MatchCmp over a document value.
func docCmp(d value.Value, p value.Path, op value.CmpOp, v value.Value) bool {
	if v.IsMissing() {
		return false
	}
	return each(d, p, func(c value.Value) bool { return cmpCand(c, op, v) })
}

// cmpCand compares one candidate as the server does: an array candidate is
// compared as a whole (its elements are candidates of their own).
func cmpCand(c value.Value, op value.CmpOp, v value.Value) bool {
	if !c.IsArray() {
		return value.MatchCmp(c, nil, op, v)
	}
	switch v.Type {
	case bson.TypeNull:
		return false
	case bson.TypeMinKey:
		return op == value.Gt || op == value.Gte
	case bson.TypeMaxKey:
		return op == value.Lt || op == value.Lte
	case bson.TypeArray:
		r := value.Compare(c, v)
		switch op {
		case value.Gt:
			return r > 0
		case value.Gte:
			return r >= 0
		case value.Lt:
			return r < 0
		case value.Lte:
			return r <= 0
		}
	}
	return false
}

// flip returns the operator that holds for (b, a) when op holds for (a, b).
func flip(op value.CmpOp) value.CmpOp {
	switch op {
	case value.Gt:
		return value.Lt
	case value.Gte:
		return value.Lte
	case value.Lt:
		return value.Gt
	case value.Lte:
		return value.Gte
	}
	return op
}

// resolve returns the plain value at path p of d (no array traversal but
// numeric indexes), Missing when absent: value.ResolveValue.
func resolve(d value.Value, p value.Path) value.Value { return value.Resolve(d, p) }

// fieldOf returns the top-level field name of the document value d, or
// Missing: value.Value.Field with the key compared in place while
// scanning (the per-document hot path). Malformed bytes read as Missing.
func fieldOf(d value.Value, name string) value.Value {
	if d.Type != bson.TypeEmbeddedDocument || len(d.Data) < 5 {
		return value.Value{}
	}
	b := d.Data
	n := int(binary.LittleEndian.Uint32(b))
	if n < 5 || n > len(b) {
		return value.Value{}
	}
	b = b[4 : n-1]
	for len(b) > 1 {
		t := bson.Type(b[0])
		b = b[1:]
		match := len(b) > len(name) && b[len(name)] == 0 && string(b[:len(name)]) == name
		if match {
			b = b[len(name)+1:]
		} else {
			k := 0
			for k < len(b) && b[k] != 0 {
				k++
			}
			if k == len(b) {
				return value.Value{}
			}
			b = b[k+1:]
		}
		sz := valueLen(t, b)
		if sz < 0 || sz > len(b) {
			return value.Value{}
		}
		if match {
			return value.Value{Type: t, Data: b[:sz:sz]}
		}
		b = b[sz:]
	}
	return value.Value{}
}

// valueLen is the length of the value of type t at the start of b, or -1
// (as the value package computes it).
func valueLen(t bson.Type, b []byte) int {
	switch t {
	case bson.TypeDouble, bson.TypeDateTime, bson.TypeInt64, bson.TypeTimestamp:
		return 8
	case bson.TypeString, bson.TypeJavaScript, bson.TypeSymbol:
		if len(b) >= 4 {
			if n := 4 + int(int32(binary.LittleEndian.Uint32(b))); n >= 5 {
				return n
			}
		}
	case bson.TypeEmbeddedDocument, bson.TypeArray, bson.TypeCodeWithScope:
		if len(b) >= 4 {
			if n := int(int32(binary.LittleEndian.Uint32(b))); n >= 5 {
				return n
			}
		}
	case bson.TypeBinary:
		if len(b) >= 4 {
			if n := 5 + int(int32(binary.LittleEndian.Uint32(b))); n >= 5 {
				return n
			}
		}
	case bson.TypeUndefined, bson.TypeNull, bson.TypeMinKey, bson.TypeMaxKey:
		return 0
	case bson.TypeObjectID:
		return 12
	case bson.TypeBoolean:
		return 1
	case bson.TypeRegex:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			if j := bytes.IndexByte(b[i+1:], 0); j >= 0 {
				return i + j + 2
			}
		}
	case bson.TypeDBPointer:
		if len(b) >= 4 {
			if n := 4 + int(int32(binary.LittleEndian.Uint32(b))) + 12; n >= 17 {
				return n
			}
		}
	case bson.TypeInt32:
		return 4
	case bson.TypeDecimal128:
		return 16
	}
	return -1
}
