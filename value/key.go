package value

import (
	"encoding/binary"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Key appends to dst a canonical key of v such that, for values that are
// not Missing, Equal(a, b) holds exactly when their keys are equal: numbers
// are normalised (1, int64(1), 1.0 and decimal 1 share a key, -0 and 0
// share a key, every NaN shares a key), strings and symbols share keys,
// documents keep their field order. Keys are for equality only; their byte
// order is not the BSON order. Missing appends nothing. Key does not
// allocate when dst has room.
func Key(dst []byte, v Value) []byte {
	switch c := class(v.Type); c {
	case classObject, classArray:
		dst = append(dst, byte(c))
		return docKey(dst, v.Data, c == classObject)
	case classCodeWithScope:
		dst = append(dst, byte(c))
		code, scope := codeWithScope(v.Data)
		dst = binary.AppendUvarint(dst, uint64(len(code)))
		dst = append(dst, code...)
		return docKey(dst, scope, true)
	}
	return scalarKey(dst, v)
}

// composite reports whether Key would recurse for v.
func composite(t bson.Type) bool {
	return t == bson.TypeEmbeddedDocument || t == bson.TypeArray || t == bson.TypeCodeWithScope
}

// scalarKey is Key for values that are not documents, arrays or code with
// scope. Being non-recursive, it lets callers keep dst on the stack.
func scalarKey(dst []byte, v Value) []byte {
	c := class(v.Type)
	if c == classMissing {
		return dst
	}
	dst = append(dst, byte(c))
	switch c {
	case classMinKey, classMaxKey, classNull, classUndefined:
		return dst
	case classNumber:
		return numberKey(dst, v)
	case classString, classCode:
		s, _ := strBytes(v.Data)
		dst = binary.AppendUvarint(dst, uint64(len(s)))
		return append(dst, s...)
	}
	// Fixed-size or self-delimiting encodings compared by bytes: the
	// length prefix keeps concatenated keys unambiguous.
	dst = binary.AppendUvarint(dst, uint64(len(v.Data)))
	return append(dst, v.Data...)
}

func docKey(dst []byte, data []byte, names bool) []byte {
	it := newIter(data)
	for {
		k, e, ok := it.next()
		if !ok {
			return append(dst, 0)
		}
		dst = append(dst, 1)
		if names {
			dst = binary.AppendUvarint(dst, uint64(len(k)))
			dst = append(dst, k...)
		}
		dst = Key(dst, e)
	}
}

func numberKey(dst []byte, v Value) []byte {
	if i, ok := intOf(v); ok {
		if i == 0 {
			return append(dst, byte(decZero))
		}
		var d dec
		d.setInt(i)
		return d.key(dst)
	}
	var d dec
	d.set(v)
	return d.key(dst)
}

func (d *dec) key(dst []byte) []byte {
	switch d.kind {
	case decFinite:
		if d.neg {
			dst = append(dst, byte(decNeg))
		} else {
			dst = append(dst, byte(decFinite))
		}
		dst = binary.AppendVarint(dst, int64(d.exp))
		dst = append(dst, byte(d.n))
		return append(dst, d.digits[:d.n]...)
	}
	return append(dst, byte(d.kind))
}

// Set is an immutable set of values under Equal, for $in and $nin. The
// zero Set is empty. A Set is safe for concurrent use.
type Set struct {
	m       map[string]struct{}
	hasNull bool
}

// NewSet returns the set of vals. Missing values are ignored (Missing equals
// nothing).
func NewSet(vals ...Value) Set {
	s := Set{m: make(map[string]struct{}, len(vals))}
	var buf [64]byte
	for _, v := range vals {
		if v.IsMissing() {
			continue
		}
		if v.Type == bson.TypeNull {
			s.hasNull = true
		}
		s.m[string(Key(buf[:0], v))] = struct{}{}
	}
	return s
}

// Has reports whether the set holds a value equal to v. It does not
// allocate when v is not a document or array and its key fits in 64 bytes
// (strings up to ~60 bytes, every number, ObjectIds, dates, ...).
func (s Set) Has(v Value) bool {
	if len(s.m) == 0 || v.IsMissing() {
		return false
	}
	if composite(v.Type) {
		var buf [128]byte // escapes: Key recurses
		_, ok := s.m[string(Key(buf[:0], v))]
		return ok
	}
	var buf [64]byte
	_, ok := s.m[string(scalarKey(buf[:0], v))]
	return ok
}

// HasNull reports whether the set holds null.
func (s Set) HasNull() bool { return s.hasNull }
