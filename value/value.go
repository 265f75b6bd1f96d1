package value

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Value is one BSON value in its element encoding: Data holds the bytes
// that follow the type byte and the key of a BSON element. The zero Value
// (Type 0, no Data) is Missing: the absence of a value, distinct from null.
//
// A Value does not own its Data; values taken from a document alias the
// document's bytes.
type Value struct {
	// Type is the BSON type byte, or 0 for Missing.
	Type bson.Type
	// Data is the element encoding of the value.
	Data []byte
}

// Missing returns the zero Value: no value at all, distinct from Null.
func Missing() Value { return Value{} }

// IsMissing reports whether v is Missing (the zero Value).
func (v Value) IsMissing() bool { return v.Type == 0 }

// IsNull reports whether v is BSON null. Missing is not null.
func (v Value) IsNull() bool { return v.Type == bson.TypeNull }

// IsArray reports whether v is a BSON array.
func (v Value) IsArray() bool { return v.Type == bson.TypeArray }

// IsDocument reports whether v is an embedded document.
func (v Value) IsDocument() bool { return v.Type == bson.TypeEmbeddedDocument }

// IsNumber reports whether v is an int32, int64, double or decimal128.
func (v Value) IsNumber() bool {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return true
	}
	return false
}

// FromRaw returns the Value of a driver RawValue. The zero RawValue becomes
// Missing. Data is shared, not copied.
func FromRaw(rv bson.RawValue) Value { return Value{Type: rv.Type, Data: rv.Value} }

// RawValue returns v as a driver RawValue (the zero RawValue for Missing).
// Data is shared, not copied.
func (v Value) RawValue() bson.RawValue { return bson.RawValue{Type: v.Type, Value: v.Data} }

// String returns a BSON string value.
func String(s string) Value {
	b := make([]byte, 4, 4+len(s)+1)
	binary.LittleEndian.PutUint32(b, uint32(len(s)+1))
	b = append(b, s...)
	b = append(b, 0)
	return Value{Type: bson.TypeString, Data: b}
}

// Int32 returns a BSON int32 value.
func Int32(i int32) Value {
	return Value{Type: bson.TypeInt32, Data: binary.LittleEndian.AppendUint32(nil, uint32(i))}
}

// Int64 returns a BSON int64 value.
func Int64(i int64) Value {
	return Value{Type: bson.TypeInt64, Data: binary.LittleEndian.AppendUint64(nil, uint64(i))}
}

// Double returns a BSON double value.
func Double(f float64) Value {
	return Value{Type: bson.TypeDouble, Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(f))}
}

// Bool returns a BSON boolean value.
func Bool(b bool) Value {
	if b {
		return Value{Type: bson.TypeBoolean, Data: []byte{1}}
	}
	return Value{Type: bson.TypeBoolean, Data: []byte{0}}
}

// Null returns BSON null.
func Null() Value { return Value{Type: bson.TypeNull, Data: []byte{}} }

// ObjectID returns a BSON ObjectId value.
func ObjectID(id bson.ObjectID) Value {
	return Value{Type: bson.TypeObjectID, Data: append([]byte(nil), id[:]...)}
}

// Time returns a BSON date for t, truncated to milliseconds (a date is
// milliseconds since the Unix epoch).
func Time(t time.Time) Value {
	return Value{Type: bson.TypeDateTime, Data: binary.LittleEndian.AppendUint64(nil, uint64(t.UnixMilli()))}
}

// Regex returns a BSON regular expression value. Options are stored as
// given; MongoDB expects them sorted.
func Regex(pattern, options string) Value {
	b := make([]byte, 0, len(pattern)+len(options)+2)
	b = append(b, pattern...)
	b = append(b, 0)
	b = append(b, options...)
	return Value{Type: bson.TypeRegex, Data: append(b, 0)}
}

// FromDocument returns an embedded-document Value over doc (not copied).
func FromDocument(doc bson.Raw) Value { return Value{Type: bson.TypeEmbeddedDocument, Data: doc} }

// FromArray returns an array Value over arr (not copied).
func FromArray(arr bson.RawArray) Value { return Value{Type: bson.TypeArray, Data: arr} }

// ErrInvalid is wrapped by the errors of FromGo and FromExtJSON.
var ErrInvalid = errors.New("value: invalid value")

// FromGo converts a Go value with bson.MarshalValue: map[string]any and
// bson.D become documents, slices become arrays, nil becomes null, int
// becomes int32 or int64 depending on its size, and driver types
// (bson.ObjectID, bson.DateTime, bson.Decimal128, ...) keep their BSON type.
func FromGo(x any) (Value, error) {
	if x == nil {
		return Null(), nil
	}
	t, b, err := bson.MarshalValue(x)
	if err != nil {
		return Value{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return Value{Type: t, Data: b}, nil
}

// FromExtJSON parses one JSON value, in relaxed or canonical MongoDB
// extended JSON: {"$oid": "..."} is an ObjectId, {"$date": ...} a date,
// {"$numberLong": "..."} an int64, and so on. Plain JSON integers become
// int32 when they fit, otherwise int64; other numbers become doubles.
func FromExtJSON(b []byte) (Value, error) {
	w := make([]byte, 0, len(b)+6)
	w = append(w, `{"v":`...)
	w = append(w, b...)
	w = append(w, '}')
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(w, false, &raw); err != nil {
		return Value{}, fmt.Errorf("%w: extended JSON: %v", ErrInvalid, err)
	}
	v := FromDocument(raw).Field("v")
	if v.IsMissing() {
		return Value{}, fmt.Errorf("%w: extended JSON: no value", ErrInvalid)
	}
	return v, nil
}

// ExtJSON returns v as relaxed extended JSON, deterministic and on one
// line, for traces and CLI output. Missing is rendered as the bare word
// "missing" (not JSON) so that it can never be confused with null.
func (v Value) ExtJSON() string {
	if v.IsMissing() {
		return "missing"
	}
	doc := make([]byte, 4, 9+len(v.Data))
	doc = append(doc, byte(v.Type), 'v', 0)
	doc = append(doc, v.Data...)
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))
	out, err := bson.MarshalExtJSON(bson.Raw(doc), false, false)
	if err != nil {
		return fmt.Sprintf("<invalid %s: %v>", v.Type, err)
	}
	out = bytes.TrimPrefix(out, []byte(`{"v":`))
	out = bytes.TrimSuffix(out, []byte(`}`))
	return string(out)
}

// String returns ExtJSON(), so that Values print readably with %v.
func (v Value) String() string { return v.ExtJSON() }

// StringOK returns the string, and true, when v is a BSON string.
func (v Value) StringOK() (string, bool) {
	if v.Type != bson.TypeString {
		return "", false
	}
	s, ok := strBytes(v.Data)
	return string(s), ok
}

// Int32OK returns the int32, and true, when v is a BSON int32.
func (v Value) Int32OK() (int32, bool) {
	if v.Type != bson.TypeInt32 || len(v.Data) < 4 {
		return 0, false
	}
	return int32(binary.LittleEndian.Uint32(v.Data)), true
}

// Int64OK returns the int64, and true, when v is a BSON int64.
func (v Value) Int64OK() (int64, bool) {
	if v.Type != bson.TypeInt64 || len(v.Data) < 8 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(v.Data)), true
}

// DoubleOK returns the float64, and true, when v is a BSON double.
func (v Value) DoubleOK() (float64, bool) {
	if v.Type != bson.TypeDouble || len(v.Data) < 8 {
		return 0, false
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(v.Data)), true
}

// IntOK returns v as an int64, and true, when v is a number with an exact
// integer value in the int64 range (int32, int64, or an integral double or
// decimal128).
func (v Value) IntOK() (int64, bool) {
	switch v.Type {
	case bson.TypeInt32, bson.TypeInt64:
		return intOf(v)
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		if f == math.Trunc(f) && f >= -0x1p63 && f < 0x1p63 {
			return int64(f), true
		}
	case bson.TypeDecimal128:
		var d dec
		if !d.set(v) || d.kind != decFinite && d.kind != decZero {
			return 0, false
		}
		if d.kind == decZero {
			return 0, true
		}
		if d.exp >= 0 && d.n+d.exp <= 19 {
			var u uint64
			for k := 0; k < d.n+d.exp; k++ {
				u *= 10
				if k < d.n {
					u += uint64(d.digits[k] - '0')
				}
			}
			if d.neg && u <= 1<<63 {
				return int64(-u), true
			}
			if !d.neg && u < 1<<63 {
				return int64(u), true
			}
		}
	}
	return 0, false
}

// BoolOK returns the boolean, and true, when v is a BSON boolean.
func (v Value) BoolOK() (bool, bool) {
	if v.Type != bson.TypeBoolean || len(v.Data) < 1 {
		return false, false
	}
	return v.Data[0] != 0, true
}

// ObjectIDOK returns the ObjectId, and true, when v is a BSON ObjectId.
func (v Value) ObjectIDOK() (bson.ObjectID, bool) {
	var id bson.ObjectID
	if v.Type != bson.TypeObjectID || len(v.Data) < 12 {
		return id, false
	}
	copy(id[:], v.Data)
	return id, true
}

// DateTimeOK returns the milliseconds since the Unix epoch, and true, when
// v is a BSON date.
func (v Value) DateTimeOK() (int64, bool) {
	if v.Type != bson.TypeDateTime || len(v.Data) < 8 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(v.Data)), true
}

// DocumentOK returns the embedded document, and true, when v is one.
func (v Value) DocumentOK() (bson.Raw, bool) {
	if v.Type != bson.TypeEmbeddedDocument {
		return nil, false
	}
	return bson.Raw(v.Data), true
}

// ArrayOK returns the array, and true, when v is a BSON array.
func (v Value) ArrayOK() (bson.RawArray, bool) {
	if v.Type != bson.TypeArray {
		return nil, false
	}
	return bson.RawArray(v.Data), true
}

// Len returns the number of elements of an array or fields of a document,
// and 0 for any other value.
func (v Value) Len() int {
	if v.Type != bson.TypeArray && v.Type != bson.TypeEmbeddedDocument {
		return 0
	}
	n := 0
	it := newIter(v.Data)
	for {
		if _, _, ok := it.next(); !ok {
			return n
		}
		n++
	}
}

// Each calls fn for each element of an array, in order, with its index,
// until fn returns true. It does nothing when v is not an array. It does
// not allocate.
func (v Value) Each(fn func(i int, e Value) bool) {
	if v.Type != bson.TypeArray {
		return
	}
	it := newIter(v.Data)
	for i := 0; ; i++ {
		_, e, ok := it.next()
		if !ok || fn(i, e) {
			return
		}
	}
}

// Index returns the i-th element of an array, or Missing.
func (v Value) Index(i int) Value {
	if v.Type != bson.TypeArray || i < 0 {
		return Value{}
	}
	it := newIter(v.Data)
	for k := 0; ; k++ {
		_, e, ok := it.next()
		if !ok {
			return Value{}
		}
		if k == i {
			return e
		}
	}
}

// Field returns the value of the top-level field name of an embedded
// document, or Missing when v is not a document or has no such field. It
// does not allocate.
func (v Value) Field(name string) Value {
	if v.Type != bson.TypeEmbeddedDocument {
		return Value{}
	}
	return lookup(v.Data, name)
}

// StringToUUID is the rule operator %stringToUuid
// (source/rules/expressions.txt, "Convert EJSON Values"): a UUID string in
// the canonical form, 32 hex digits in groups of 8-4-4-4-12 separated by
// hyphens (either case), becomes a UUID (binary subtype 4); a UUID is
// returned as is; anything else is Missing.
func StringToUUID(v Value) Value {
	if _, ok := uuidBytes(v); ok {
		return v
	}
	s, ok := v.StringOK()
	if !ok || len(s) != 36 {
		return Value{}
	}
	var b [16]byte
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return Value{}
			}
			continue
		}
		h, ok := hexDigit(s[i])
		if !ok {
			return Value{}
		}
		if j%2 == 0 {
			b[j/2] = h << 4
		} else {
			b[j/2] |= h
		}
		j++
	}
	data := make([]byte, 0, 21)
	data = append(data, 16, 0, 0, 0, 4)
	data = append(data, b[:]...)
	return Value{Type: bson.TypeBinary, Data: data}
}

// UUIDToString is the rule operator %uuidToString: a UUID (binary subtype
// 4, 16 bytes) becomes its canonical lowercase string; a string is
// returned as is (as %oidToString returns one); anything else is Missing.
func UUIDToString(v Value) Value {
	if v.Type == bson.TypeString {
		return v
	}
	b, ok := uuidBytes(v)
	if !ok {
		return Value{}
	}
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, digits[c>>4], digits[c&15])
	}
	return String(string(out))
}

// uuidBytes returns the 16 bytes of a UUID: a binary value of subtype 4.
func uuidBytes(v Value) ([]byte, bool) {
	if v.Type != bson.TypeBinary || len(v.Data) != 21 || v.Data[4] != 4 || v.Data[0] != 16 || v.Data[1]|v.Data[2]|v.Data[3] != 0 {
		return nil, false
	}
	return v.Data[5:], true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
