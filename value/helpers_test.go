package value

import (
	"encoding/binary"
	"math/big"
	"strconv"

	"go.mongodb.org/mongo-driver/v2/bson"
)

func unmarshalExt(s string, m *map[string]any) error {
	var d bson.M
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		return err
	}
	*m = toMap(d)
	return nil
}

func toMap(d bson.M) map[string]any {
	m := make(map[string]any, len(d))
	for k, v := range d {
		m[k] = v
	}
	return m
}

func bigOf(x int64) *big.Int { return big.NewInt(x) }

func formatG(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// Constructors of the values that only the tests build.

func decimal128(d bson.Decimal128) Value {
	h, l := d.GetBytes()
	b := binary.LittleEndian.AppendUint64(make([]byte, 0, 16), l)
	return Value{Type: bson.TypeDecimal128, Data: binary.LittleEndian.AppendUint64(b, h)}
}

func minKey() Value { return Value{Type: bson.TypeMinKey, Data: []byte{}} }

func maxKey() Value { return Value{Type: bson.TypeMaxKey, Data: []byte{}} }

func dateTime(ms int64) Value {
	return Value{Type: bson.TypeDateTime, Data: binary.LittleEndian.AppendUint64(nil, uint64(ms))}
}

func timestamp(t, i uint32) Value {
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, 8), i)
	return Value{Type: bson.TypeTimestamp, Data: binary.LittleEndian.AppendUint32(b, t)}
}

func binData(subtype byte, data []byte) Value {
	b := binary.LittleEndian.AppendUint32(make([]byte, 0, 5+len(data)), uint32(len(data)))
	b = append(b, subtype)
	return Value{Type: bson.TypeBinary, Data: append(b, data...)}
}
