package value

import (
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
