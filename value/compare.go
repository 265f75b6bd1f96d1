package value

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/bits"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Canonical type classes, in BSON comparison order. Values of different
// classes compare by class alone; values of one class compare by value.
const (
	classMissing = iota
	classMinKey
	classUndefined
	classNull
	classNumber
	classString
	classObject
	classArray
	classBinary
	classObjectID
	classBool
	classDate
	classTimestamp
	classRegex
	classDBPointer
	classCode
	classCodeWithScope
	classMaxKey
	classUnknown
)

func class(t bson.Type) int {
	switch t {
	case 0:
		return classMissing
	case bson.TypeMinKey:
		return classMinKey
	case bson.TypeUndefined:
		return classUndefined
	case bson.TypeNull:
		return classNull
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return classNumber
	case bson.TypeString, bson.TypeSymbol:
		return classString
	case bson.TypeEmbeddedDocument:
		return classObject
	case bson.TypeArray:
		return classArray
	case bson.TypeBinary:
		return classBinary
	case bson.TypeObjectID:
		return classObjectID
	case bson.TypeBoolean:
		return classBool
	case bson.TypeDateTime:
		return classDate
	case bson.TypeTimestamp:
		return classTimestamp
	case bson.TypeRegex:
		return classRegex
	case bson.TypeDBPointer:
		return classDBPointer
	case bson.TypeJavaScript:
		return classCode
	case bson.TypeCodeWithScope:
		return classCodeWithScope
	case bson.TypeMaxKey:
		return classMaxKey
	}
	return classUnknown
}

// Compare returns -1, 0 or +1 as a sorts before, equal to, or after b in the
// BSON comparison order:
//
//	MinKey < Undefined < Null < Numbers < String/Symbol < Object < Array <
//	BinData < ObjectId < Boolean < Date < Timestamp < Regex < DBPointer <
//	JavaScript < JavaScript with scope < MaxKey
//
// Numbers compare exactly by value across int32, int64, double and
// decimal128 (a double compares with a decimal128 after rounding the double
// to 34 significant digits, as the server does); NaN sorts below all other
// numbers and equals NaN; -0 equals 0. Strings compare by bytes (simple
// binary collation). Documents compare field by field: type class, then
// name, then value; a document that is a prefix of another sorts first.
// Arrays compare element by element. BinData compares by length, then
// subtype, then bytes. Missing sorts before everything and Compare(Missing,
// Missing) is 0, although Equal never holds for Missing.
//
// Compare does not allocate.
func Compare(a, b Value) int {
	ca, cb := class(a.Type), class(b.Type)
	if ca != cb {
		return cmpInt(ca, cb)
	}
	switch ca {
	case classMissing, classMinKey, classMaxKey, classNull, classUndefined:
		return 0
	case classNumber:
		return compareNumbers(a, b)
	case classString, classCode:
		sa, _ := strBytes(a.Data)
		sb, _ := strBytes(b.Data)
		return bytes.Compare(sa, sb)
	case classObject:
		return compareDocs(a.Data, b.Data, true)
	case classArray:
		return compareDocs(a.Data, b.Data, false)
	case classBinary:
		if len(a.Data) != len(b.Data) || len(a.Data) < 5 {
			return cmpInt(len(a.Data), len(b.Data))
		}
		return bytes.Compare(a.Data[4:], b.Data[4:])
	case classObjectID, classBool:
		return bytes.Compare(a.Data, b.Data)
	case classDate:
		return cmpInt(int64(u64(a.Data)), int64(u64(b.Data)))
	case classTimestamp:
		return cmpInt(u64(a.Data), u64(b.Data))
	case classRegex:
		// pattern NUL options NUL: comparing the encodings compares the
		// patterns, then the options.
		return bytes.Compare(a.Data, b.Data)
	case classDBPointer:
		if len(a.Data) != len(b.Data) {
			return cmpInt(len(a.Data), len(b.Data))
		}
		return bytes.Compare(a.Data, b.Data)
	case classCodeWithScope:
		ca, sa := codeWithScope(a.Data)
		cb, sb := codeWithScope(b.Data)
		if c := bytes.Compare(ca, cb); c != 0 {
			return c
		}
		return compareDocs(sa, sb, true)
	}
	return bytes.Compare(a.Data, b.Data)
}

// Equal reports whether a and b are equal in the BSON comparison order:
// Compare(a, b) == 0 for values that are not Missing. Missing equals
// nothing, not even Missing. Equal does not allocate.
func Equal(a, b Value) bool {
	if a.Type == 0 || b.Type == 0 {
		return false
	}
	if a.Type == b.Type && bytes.Equal(a.Data, b.Data) {
		return true
	}
	return Compare(a, b) == 0
}

func cmpInt[T int | int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func codeWithScope(d []byte) (code, scope []byte) {
	if len(d) < 8 {
		return nil, nil
	}
	code, _ = strBytes(d[4:])
	n := 4 + 4 + len(code) + 1
	if n > len(d) {
		return code, nil
	}
	return code, d[n:]
}

func compareDocs(a, b []byte, names bool) int {
	ia, ib := newIter(a), newIter(b)
	for {
		ka, va, oka := ia.next()
		kb, vb, okb := ib.next()
		switch {
		case !oka && !okb:
			return 0
		case !oka:
			return -1
		case !okb:
			return 1
		}
		if c := cmpInt(class(va.Type), class(vb.Type)); c != 0 {
			return c
		}
		if names {
			if c := bytes.Compare(ka, kb); c != 0 {
				return c
			}
		}
		if c := Compare(va, vb); c != 0 {
			return c
		}
	}
}

// numeric kinds for compareNumbers
const (
	numInt = iota
	numDouble
	numDecimal
)

func numKind(t bson.Type) int {
	switch t {
	case bson.TypeDouble:
		return numDouble
	case bson.TypeDecimal128:
		return numDecimal
	}
	return numInt
}

func compareNumbers(a, b Value) int {
	ka, kb := numKind(a.Type), numKind(b.Type)
	switch {
	case ka == numInt && kb == numInt:
		x, _ := intOf(a)
		y, _ := intOf(b)
		return cmpInt(x, y)
	case ka == numDouble && kb == numDouble:
		x, _ := a.DoubleOK()
		y, _ := b.DoubleOK()
		return cmpFloat(x, y)
	case ka == numInt && kb == numDouble:
		x, _ := intOf(a)
		y, _ := b.DoubleOK()
		return cmpIntFloat(x, y)
	case ka == numDouble && kb == numInt:
		x, _ := a.DoubleOK()
		y, _ := intOf(b)
		return -cmpIntFloat(y, x)
	}
	var x, y dec
	x.set(a)
	y.set(b)
	return x.cmp(&y)
}

func cmpFloat(x, y float64) int {
	xn, yn := x != x, y != y
	switch {
	case xn && yn:
		return 0
	case xn:
		return -1
	case yn:
		return 1
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// cmpIntFloat compares an int64 with a double exactly.
func cmpIntFloat(i int64, f float64) int {
	switch {
	case f != f:
		return 1
	case f >= 0x1p63:
		return -1
	case f < -0x1p63:
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c
	}
	switch frac := f - t; {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}

// dec is a number in normalised decimal form: (-1)^neg × 0.d1d2…dn × 10^(exp+n)
// with digits d1…dn (no leading or trailing zeros) as ASCII.
type dec struct {
	kind   int8
	neg    bool
	n      int
	exp    int // value = digits × 10^exp
	digits [40]byte
}

const (
	decNaN int8 = iota
	decNegInf
	decNeg // finite negative, kind only used for ordering in cmp
	decZero
	decFinite
	decPosInf
)

// set loads a number; it reports false when v is not a number.
func (d *dec) set(v Value) bool {
	*d = dec{}
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		i, _ := intOf(v)
		d.setInt(i)
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		d.setFloat(f)
	case bson.TypeDecimal128:
		if len(v.Data) < 16 {
			d.kind = decNaN
			return true
		}
		d.setDecimal(binary.LittleEndian.Uint64(v.Data[8:]), binary.LittleEndian.Uint64(v.Data))
	default:
		return false
	}
	return true
}

func (d *dec) setInt(i int64) {
	if i == 0 {
		d.kind = decZero
		return
	}
	d.kind = decFinite
	u := uint64(i)
	if i < 0 {
		d.neg = true
		u = -u
	}
	b := strconv.AppendUint(d.digits[:0], u, 10)
	d.n = len(b)
	d.trim()
}

func (d *dec) setFloat(f float64) {
	switch {
	case f != f:
		d.kind = decNaN
		return
	case math.IsInf(f, 1):
		d.kind = decPosInf
		return
	case math.IsInf(f, -1):
		d.kind = decNegInf
		return
	case f == 0:
		d.kind = decZero
		return
	case f == math.Trunc(f) && f > -0x1p63 && f < 0x1p63:
		d.setInt(int64(f))
		return
	}
	d.kind = decFinite
	if f < 0 {
		d.neg = true
		f = -f
	}
	// 34 significant digits, as the server rounds a double to decimal128
	// before comparing the two.
	var buf [48]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', 33, 64)
	// b is "d.ddd…de±xx"
	d.digits[0] = b[0]
	n := 1
	i := 2
	for ; i < len(b) && b[i] != 'e'; i++ {
		d.digits[n] = b[i]
		n++
	}
	e, _ := strconv.Atoi(string(b[i+1:]))
	d.n = n
	d.exp = e - (n - 1)
	d.trim()
}

func (d *dec) setDecimal(h, l uint64) {
	d.neg = h>>63 == 1
	comb := (h >> 58) & 0x1f
	switch {
	case comb == 0x1f:
		d.kind = decNaN
		d.neg = false
		return
	case comb == 0x1e:
		if d.neg {
			d.kind = decNegInf
		} else {
			d.kind = decPosInf
		}
		return
	}
	var exp int
	var hi uint64
	if (h>>61)&3 == 3 {
		// Coefficient would exceed 10^34: non-canonical, treated as zero.
		d.kind = decZero
		return
	}
	exp = int((h>>49)&0x3fff) - 6176
	hi = h & (1<<49 - 1)
	if hi == 0 && l == 0 {
		d.kind = decZero
		d.neg = false
		return
	}
	d.kind = decFinite
	// Convert the 113-bit coefficient to decimal digits, 19 at a time.
	var chunks [3]uint64
	nc := 0
	for hi != 0 || l != 0 {
		var r uint64
		hi, r = bits.Div64(0, hi, 1e19)
		l, r = bits.Div64(r, l, 1e19)
		chunks[nc] = r
		nc++
	}
	b := strconv.AppendUint(d.digits[:0], chunks[nc-1], 10)
	for k := nc - 2; k >= 0; k-- {
		var tmp [20]byte
		s := strconv.AppendUint(tmp[:0], chunks[k], 10)
		for z := len(s); z < 19; z++ {
			b = append(b, '0')
		}
		b = append(b, s...)
	}
	d.n = len(b)
	d.exp = exp
	d.trim()
	if d.n > len(d.digits) {
		d.kind = decZero // cannot happen for canonical input
	}
}

// trim strips trailing zero digits into the exponent.
func (d *dec) trim() {
	for d.n > 1 && d.digits[d.n-1] == '0' {
		d.n--
		d.exp++
	}
}

// order maps kinds to their order for comparisons.
func (d *dec) order() int8 {
	if d.kind == decFinite && d.neg {
		return decNeg
	}
	return d.kind
}

func (d *dec) cmp(e *dec) int {
	oa, ob := d.order(), e.order()
	if oa != ob {
		return cmpInt(int(oa), int(ob))
	}
	if oa != decFinite && oa != decNeg {
		return 0
	}
	c := d.cmpAbs(e)
	if d.neg {
		return -c
	}
	return c
}

func (d *dec) cmpAbs(e *dec) int {
	// Scientific exponents first, then digits.
	if c := cmpInt(d.exp+d.n, e.exp+e.n); c != 0 {
		return c
	}
	return bytes.Compare(d.digits[:d.n], e.digits[:e.n])
}
