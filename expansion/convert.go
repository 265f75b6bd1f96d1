package expansion

import (
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/rulegate/rulegate/value"
)

// jsonValue converts a gjson result to a BSON type and element bytes,
// appending the bytes to dst. Plain JSON is converted directly, without
// the driver's extended JSON reader (which costs microseconds per element
// and was most of the cost of binding a request whose claims hold arrays);
// an object with a "$"-key ({"$oid": ...}, {"$date": ...}) is read as
// relaxed extended JSON, so claims keep their BSON types.
func jsonValue(dst []byte, r gjson.Result) ([]byte, bson.Type, error) {
	switch r.Type {
	case gjson.Null:
		return dst, bson.TypeNull, nil
	case gjson.False:
		return bsoncore.AppendBoolean(dst, false), bson.TypeBoolean, nil
	case gjson.True:
		return bsoncore.AppendBoolean(dst, true), bson.TypeBoolean, nil
	case gjson.String:
		return bsoncore.AppendString(dst, r.Str), bson.TypeString, nil
	case gjson.Number:
		if !strings.ContainsAny(r.Raw, ".eE") {
			if n, err := strconv.ParseInt(r.Raw, 10, 64); err == nil {
				if n >= -1<<31 && n < 1<<31 {
					return bsoncore.AppendInt32(dst, int32(n)), bson.TypeInt32, nil
				}
				return bsoncore.AppendInt64(dst, n), bson.TypeInt64, nil
			}
		}
		return bsoncore.AppendDouble(dst, r.Num), bson.TypeDouble, nil
	}
	if r.IsArray() {
		idx, out := bsoncore.ReserveLength(dst)
		i := 0
		var err error
		r.ForEach(func(_, v gjson.Result) bool {
			out, err = appendElem(out, strconv.Itoa(i), v)
			i++
			return err == nil
		})
		if err != nil {
			return dst, 0, err
		}
		out = append(out, 0)
		return bsoncore.UpdateLength(out, idx, int32(len(out)-int(idx))), bson.TypeArray, nil
	}
	if r.IsObject() {
		ext := false
		r.ForEach(func(k, _ gjson.Result) bool {
			ext = strings.HasPrefix(k.Str, "$")
			return !ext
		})
		if ext {
			v, err := value.FromExtJSON([]byte(r.Raw))
			if err != nil {
				return dst, 0, err
			}
			return append(dst, v.Data...), v.Type, nil
		}
		idx, out := bsoncore.ReserveLength(dst)
		var err error
		r.ForEach(func(k, v gjson.Result) bool {
			out, err = appendElem(out, k.Str, v)
			return err == nil
		})
		if err != nil {
			return dst, 0, err
		}
		out = append(out, 0)
		return bsoncore.UpdateLength(out, idx, int32(len(out)-int(idx))), bson.TypeEmbeddedDocument, nil
	}
	return dst, 0, value.ErrInvalid
}

// appendElem appends the BSON element key: v to dst.
func appendElem(dst []byte, key string, v gjson.Result) ([]byte, error) {
	if strings.IndexByte(key, 0) >= 0 {
		return dst, value.ErrInvalid
	}
	tpos := len(dst)
	dst = append(dst, 0)
	dst = append(dst, key...)
	dst = append(dst, 0)
	out, t, err := jsonValue(dst, v)
	if err != nil {
		return dst, err
	}
	out[tpos] = byte(t)
	return out, nil
}
