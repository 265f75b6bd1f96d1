package value

import (
	"bytes"
	"encoding/binary"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// iter walks the elements of a document or array encoding without
// allocating. Malformed input ends the iteration.
type iter struct{ b []byte }

func newIter(doc []byte) iter {
	if len(doc) < 5 {
		return iter{}
	}
	n := int(binary.LittleEndian.Uint32(doc))
	if n < 5 || n > len(doc) {
		return iter{}
	}
	return iter{b: doc[4 : n-1]}
}

// next returns the next element's key and value.
func (it *iter) next() (key []byte, v Value, ok bool) {
	b := it.b
	if len(b) < 2 {
		it.b = nil
		return nil, Value{}, false
	}
	t := bson.Type(b[0])
	k := bytes.IndexByte(b[1:], 0)
	if k < 0 {
		it.b = nil
		return nil, Value{}, false
	}
	key = b[1 : 1+k]
	b = b[2+k:]
	n := valueLen(t, b)
	if n < 0 {
		it.b = nil
		return nil, Value{}, false
	}
	it.b = b[n:]
	return key, Value{Type: t, Data: b[:n:n]}, true
}

// valueLen returns the length of the value of type t at the start of b,
// or -1 when b is too short or t is unknown.
func valueLen(t bson.Type, b []byte) int {
	n := -1
	switch t {
	case bson.TypeDouble, bson.TypeDateTime, bson.TypeInt64, bson.TypeTimestamp:
		n = 8
	case bson.TypeString, bson.TypeJavaScript, bson.TypeSymbol:
		if len(b) >= 4 {
			n = 4 + int(int32(binary.LittleEndian.Uint32(b)))
			if n < 5 {
				n = -1
			}
		}
	case bson.TypeEmbeddedDocument, bson.TypeArray, bson.TypeCodeWithScope:
		if len(b) >= 4 {
			n = int(int32(binary.LittleEndian.Uint32(b)))
			if n < 5 {
				n = -1
			}
		}
	case bson.TypeBinary:
		if len(b) >= 4 {
			n = 5 + int(int32(binary.LittleEndian.Uint32(b)))
			if n < 5 {
				n = -1
			}
		}
	case bson.TypeUndefined, bson.TypeNull, bson.TypeMinKey, bson.TypeMaxKey:
		n = 0
	case bson.TypeObjectID:
		n = 12
	case bson.TypeBoolean:
		n = 1
	case bson.TypeRegex:
		i := bytes.IndexByte(b, 0)
		if i >= 0 {
			j := bytes.IndexByte(b[i+1:], 0)
			if j >= 0 {
				n = i + j + 2
			}
		}
	case bson.TypeDBPointer:
		if len(b) >= 4 {
			n = 4 + int(int32(binary.LittleEndian.Uint32(b))) + 12
			if n < 17 {
				n = -1
			}
		}
	case bson.TypeInt32:
		n = 4
	case bson.TypeDecimal128:
		n = 16
	}
	if n > len(b) {
		return -1
	}
	return n
}

// lookup finds the top-level field name in a document encoding, as the
// elements of iter but comparing each key with name in place while
// scanning, before searching for its end (the per-document hot path: most
// keys differ from name). Malformed bytes read as Missing.
func lookup(doc []byte, name string) Value {
	if len(doc) < 5 || strings.IndexByte(name, 0) >= 0 {
		// A BSON key ends at its first NUL: no key holds one, and the
		// in-place compare below would read a key "" followed by a
		// value starting with NUL as the key "\x00".
		return Value{}
	}
	n := int(binary.LittleEndian.Uint32(doc))
	if n < 5 || n > len(doc) {
		return Value{}
	}
	b := doc[4 : n-1]
	for len(b) > 1 {
		t := bson.Type(b[0])
		b = b[1:]
		match := len(b) > len(name) && b[len(name)] == 0 && string(b[:len(name)]) == name
		if match {
			b = b[len(name)+1:]
		} else {
			// Keys are short: a loop beats bytes.IndexByte's call.
			k := 0
			for k < len(b) && b[k] != 0 {
				k++
			}
			if k == len(b) {
				return Value{}
			}
			b = b[k+1:]
		}
		sz := valueLen(t, b)
		if sz < 0 {
			return Value{}
		}
		if match {
			return Value{Type: t, Data: b[:sz:sz]}
		}
		b = b[sz:]
	}
	return Value{}
}

// strBytes returns the bytes of a string-encoded value (int32 length,
// bytes, NUL) without the terminating NUL.
func strBytes(d []byte) ([]byte, bool) {
	if len(d) < 5 {
		return nil, false
	}
	n := int(int32(binary.LittleEndian.Uint32(d)))
	if n < 1 || 4+n > len(d) {
		return nil, false
	}
	return d[4 : 4+n-1], true
}

func intOf(v Value) (int64, bool) {
	switch v.Type {
	case bson.TypeInt32:
		if len(v.Data) >= 4 {
			return int64(int32(binary.LittleEndian.Uint32(v.Data))), true
		}
	case bson.TypeInt64:
		if len(v.Data) >= 8 {
			return int64(binary.LittleEndian.Uint64(v.Data)), true
		}
	}
	return 0, false
}

func u64(d []byte) uint64 {
	if len(d) < 8 {
		return 0
	}
	return binary.LittleEndian.Uint64(d)
}
