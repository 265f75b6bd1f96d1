package evaluator

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
	"github.com/tidwall/gjson"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// resolve returns the value of a request-phase expansion. %%user paths are
// read straight from the claim bytes and converted to BSON without going
// through extended JSON when they hold plain JSON (the common case of a
// claim array such as teamIds); everything else goes through
// expansion.Inputs.Resolve. Both give the same value.
func resolveRef(in *expansion.Inputs, r expansion.Ref) (value.Value, error) {
	if r.Root == expansion.RootUser && len(r.Path) > 0 && !in.User.IsZero() {
		res, ok := in.User.Lookup(r.Path)
		if !ok {
			return value.Value{}, nil
		}
		if res.Type == gjson.JSON {
			if b, ok := appendJSON(make([]byte, 0, len(res.Raw)+16), res); ok {
				if res.IsArray() {
					return value.FromArray(b), nil
				}
				return value.FromDocument(b), nil
			}
		}
		return expansion.FromGJSON(res)
	}
	return in.Resolve(r)
}

// appendJSON encodes a JSON object or array as a BSON document or array.
// ok is false when the JSON holds a key starting with "$" (extended JSON,
// such as {"$oid": ...}, which expansion.FromGJSON handles).
func appendJSON(dst []byte, r gjson.Result) ([]byte, bool) {
	start := len(dst)
	dst = append(dst, 0, 0, 0, 0)
	ok := true
	i := 0
	r.ForEach(func(k, v gjson.Result) bool {
		var key string
		if r.IsArray() {
			key = strconv.Itoa(i)
			i++
		} else {
			key = k.Str
			if strings.HasPrefix(key, "$") || strings.IndexByte(key, 0) >= 0 {
				ok = false
				return false
			}
		}
		switch v.Type {
		case gjson.Null:
			dst = appendHead(dst, bson.TypeNull, key)
		case gjson.False, gjson.True:
			dst = appendHead(dst, bson.TypeBoolean, key)
			if v.Type == gjson.True {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		case gjson.String:
			if strings.IndexByte(v.Str, 0) >= 0 {
				ok = false
				return false
			}
			dst = appendHead(dst, bson.TypeString, key)
			dst = binary.LittleEndian.AppendUint32(dst, uint32(len(v.Str)+1))
			dst = append(dst, v.Str...)
			dst = append(dst, 0)
		case gjson.Number:
			n, err := expansion.FromGJSON(v)
			if err != nil {
				ok = false
				return false
			}
			dst = appendHead(dst, n.Type, key)
			dst = append(dst, n.Data...)
		case gjson.JSON:
			t := bson.TypeEmbeddedDocument
			if v.IsArray() {
				t = bson.TypeArray
			}
			dst = appendHead(dst, t, key)
			dst, ok = appendJSON(dst, v)
			if !ok {
				return false
			}
		}
		return true
	})
	if !ok {
		return nil, false
	}
	dst = append(dst, 0)
	n := len(dst) - start
	if n > math.MaxInt32 {
		return nil, false
	}
	binary.LittleEndian.PutUint32(dst[start:], uint32(n))
	return dst, true
}

func appendHead(dst []byte, t bson.Type, key string) []byte {
	dst = append(dst, byte(t))
	dst = append(dst, key...)
	return append(dst, 0)
}
