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
func resolveRef(in *expansion.Inputs, b *builder) (value.Value, error) {
	r := b.ref
	if r.Root == expansion.RootUser && len(r.Path) > 0 && !in.User.IsZero() {
		var res gjson.Result
		switch in.User.Layout() {
		case expansion.LayoutObject:
			res = gjson.GetBytes(in.User.Raw(), b.userPaths[0])
		case expansion.LayoutClaims:
			res = gjson.GetBytes(in.User.Raw(), b.userPaths[1])
		default:
			res, _ = in.User.Lookup(r.Path)
		}
		if !res.Exists() {
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

// userPaths returns the gjson paths of a %%user sub-path in the two user
// layouts (expansion.LayoutObject, expansion.LayoutClaims), computed once at
// compile time; "" when the first segment is not a user field.
func userPaths(path []string) [2]string {
	var out [2]string
	if len(path) == 0 {
		return out
	}
	claim := map[string]string{
		"id": expansion.ClaimID, "type": expansion.ClaimType, "data": expansion.ClaimData,
		"custom_data": expansion.ClaimCustomData, "identities": expansion.ClaimIdentities,
	}[path[0]]
	if claim == "" {
		return out
	}
	var rest strings.Builder
	for _, s := range path[1:] {
		rest.WriteByte('.')
		rest.WriteString(escapeGJSON(s))
	}
	out[0] = escapeGJSON(path[0]) + rest.String()
	out[1] = escapeGJSON(claim) + rest.String()
	return out
}

// escapeGJSON escapes the characters gjson treats specially in a path
// component, so that a field name is looked up literally (as the
// expansion package does).
func escapeGJSON(s string) string {
	if !strings.ContainsAny(s, `.*?|#@\!=<>%"`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '.', '*', '?', '|', '#', '@', '\\', '!', '=', '<', '>', '%', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
