package mql

import (
	"encoding/hex"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file holds the type operators: $type, $isNumber and the
// conversions ($convert and its shorthands).

var typeOps = map[string]opFunc{
	"$type": func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		return one(c, "$type", arg, ptr, func(v value.Value) (value.Value, error) { return value.String(aggTypeName(v)), nil })
	},
	"$isNumber": func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		return one(c, "$isNumber", arg, ptr, func(v value.Value) (value.Value, error) { return value.Bool(v.IsNumber()), nil })
	},
	"$toString": convertTo(bson.TypeString), "$toInt": convertTo(bson.TypeInt32),
	"$toLong": convertTo(bson.TypeInt64), "$toDouble": convertTo(bson.TypeDouble),
	"$toBool": convertTo(bson.TypeBoolean), "$toObjectId": convertTo(bson.TypeObjectID),
	"$toDate": convertTo(bson.TypeDateTime), "$convert": opConvert,
}

// convertTo compiles a shorthand of $convert ({$toInt: <expr>}).
func convertTo(t bson.Type) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		return one(c, "$convert", arg, ptr, func(v value.Value) (value.Value, error) {
			if nullish(v) {
				return value.Null(), nil
			}
			return convert(ptr, v, t)
		})
	}
}

// convertTypes are the types $convert's 'to' names, by name and number.
var convertTypes = map[string]bson.Type{
	"double": bson.TypeDouble, "string": bson.TypeString, "objectId": bson.TypeObjectID,
	"bool": bson.TypeBoolean, "date": bson.TypeDateTime, "int": bson.TypeInt32, "long": bson.TypeInt64,
}

func opConvert(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$convert", arg, ptr, []string{"input", "to"}, []string{"onError", "onNull"})
	if err != nil {
		return nil, err
	}
	in, err := c.compile(m["input"], ptr.Key("input"))
	if err != nil {
		return nil, err
	}
	to, err := c.compile(m["to"], ptr.Key("to"))
	if err != nil {
		return nil, err
	}
	onError, err := c.optional(m, "onError", ptr)
	if err != nil {
		return nil, err
	}
	onNull, err := c.optional(m, "onNull", ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		tv, err := to.eval(s)
		if err != nil {
			return tv, err
		}
		if nullish(tv) {
			return value.Null(), nil
		}
		var t bson.Type
		if name, ok := tv.StringOK(); ok {
			var known bool
			if t, known = convertTypes[name]; !known {
				if name == "decimal" || name == "binData" {
					return value.Missing(), unsupportedErr(ptr, "$convert to %s is not supported in memory", name)
				}
				return value.Missing(), evalErr(ptr, "$convert: unknown type name: %s", name)
			}
		} else if n, ok := tv.IntOK(); ok && tv.IsNumber() {
			t = bson.Type(n)
			if _, ok := value.TypeAlias(t); !ok || n != int64(byte(n)) || convertTypes[aggTypeName(value.Value{Type: t})] != t {
				return value.Missing(), unsupportedErr(ptr, "$convert to type %d is not supported in memory", n)
			}
		} else {
			return value.Missing(), evalErr(ptr, "$convert's 'to' argument must be a string or number, but is %s", aggTypeName(tv))
		}
		v, err := in.eval(s)
		if err != nil {
			return v, err
		}
		if nullish(v) {
			if onNull != nil {
				return onNull.eval(s)
			}
			return value.Null(), nil
		}
		r, err := convert(ptr, v, t)
		if err != nil && onError != nil && !isUnsupported(err) {
			return onError.eval(s)
		}
		return r, err
	}), nil
}

func isUnsupported(err error) bool {
	ce, ok := err.(*codedError)
	return ok && ce.kind == ErrUnsupportedPipeline
}

func convErr(ptr source.Pointer, v value.Value, t bson.Type) error {
	return evalErr(ptr, "unsupported conversion from %s to %s in $convert with no onError value", aggTypeName(v), aggTypeName(value.Value{Type: t}))
}

// decimalText is the decimal notation of a number that $convert reads as
// a double; other strings the server may read ("Infinity", "NaN") are
// refused.
var decimalText = regexp.MustCompile(`^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$`)

// convert is $convert of a non-null value to t, as the manual's
// conversion tables say.
func convert(ptr source.Pointer, v value.Value, t bson.Type) (value.Value, error) {
	if v.Type == t {
		return v, nil
	}
	if v.Type == bson.TypeDecimal128 {
		return value.Missing(), decimalErr(ptr, "$convert")
	}
	switch t {
	case bson.TypeBoolean:
		switch v.Type {
		case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble:
			return value.Bool(truthy(v)), nil
		case bson.TypeString, bson.TypeObjectID, bson.TypeDateTime, bson.TypeTimestamp:
			return value.Bool(true), nil
		}
		return value.Missing(), convErr(ptr, v, t)
	case bson.TypeString:
		switch v.Type {
		case bson.TypeBoolean:
			b, _ := v.BoolOK()
			return value.String(strconv.FormatBool(b)), nil
		case bson.TypeObjectID:
			id, _ := v.ObjectIDOK()
			return value.String(id.Hex()), nil
		case bson.TypeInt32, bson.TypeInt64, bson.TypeDateTime:
			s, err := coerceString(ptr, "$convert", v)
			return value.String(s), err
		case bson.TypeDouble:
			return value.Missing(), unsupportedErr(ptr, "$convert of a double to string is not supported in memory: the server's text of it is not reproduced")
		}
		return value.Missing(), convErr(ptr, v, t)
	case bson.TypeObjectID:
		if s, ok := v.StringOK(); ok {
			if b, err := hex.DecodeString(s); err == nil && len(b) == 12 {
				var id bson.ObjectID
				copy(id[:], b)
				return value.ObjectID(id), nil
			}
			return value.Missing(), evalErr(ptr, "failed to parse objectId '%s' in $convert with no onError value", s)
		}
		return value.Missing(), convErr(ptr, v, t)
	case bson.TypeDateTime:
		switch v.Type {
		case bson.TypeInt64:
			ms, _ := v.Int64OK()
			return dateOf(ms), nil
		case bson.TypeDouble:
			f, _ := v.DoubleOK()
			if math.IsNaN(f) || math.IsInf(f, 0) || f >= 0x1p63 || f < -0x1p63 {
				return value.Missing(), evalErr(ptr, "conversion of %v to date overflows", f)
			}
			return dateOf(int64(f)), nil
		case bson.TypeString:
			ms, ok := parseISODate(string(strData(v)))
			if !ok {
				return value.Missing(), evalErr(ptr, "error parsing date string '%s'", strData(v))
			}
			return dateOf(ms), nil
		case bson.TypeObjectID:
			id, _ := v.ObjectIDOK()
			return dateOf(id.Timestamp().UnixMilli()), nil
		case bson.TypeTimestamp:
			sec, _ := v.RawValue().Timestamp()
			return dateOf(int64(sec) * 1000), nil
		}
		return value.Missing(), convErr(ptr, v, t)
	}
	// numbers
	var f float64
	var i int64
	isInt := true
	switch v.Type {
	case bson.TypeBoolean:
		if b, _ := v.BoolOK(); b {
			i = 1
		}
	case bson.TypeInt32, bson.TypeInt64:
		i, _ = v.IntOK()
	case bson.TypeDouble:
		f, _ = v.DoubleOK()
		isInt = false
	case bson.TypeDateTime:
		if t == bson.TypeInt32 {
			return value.Missing(), convErr(ptr, v, t)
		}
		i, _ = v.DateTimeOK()
	case bson.TypeString:
		s := string(strData(v))
		if t == bson.TypeDouble {
			if !decimalText.MatchString(s) {
				if strings.ContainsAny(strings.ToLower(s), "in") {
					return value.Missing(), unsupportedErr(ptr, "$convert of the string %q to double is not supported in memory", s)
				}
				return value.Missing(), evalErr(ptr, "failed to parse number '%s' in $convert with no onError value", s)
			}
			x, _ := strconv.ParseFloat(s, 64)
			return value.Double(x), nil
		}
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil || t == bson.TypeInt32 && x != int64(int32(x)) {
			return value.Missing(), evalErr(ptr, "failed to parse number '%s' in $convert with no onError value", s)
		}
		i = x
	default:
		return value.Missing(), convErr(ptr, v, t)
	}
	switch t {
	case bson.TypeDouble:
		if isInt {
			return value.Double(float64(i)), nil
		}
		return value.Double(f), nil
	case bson.TypeInt32, bson.TypeInt64:
		if !isInt {
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return value.Missing(), evalErr(ptr, "attempt to convert NaN or infinity value to integer type in $convert with no onError value")
			}
			tr := math.Trunc(f)
			if t == bson.TypeInt32 && (tr > math.MaxInt32 || tr < math.MinInt32) || tr >= 0x1p63 || tr < -0x1p63 {
				return value.Missing(), evalErr(ptr, "conversion would overflow target type in $convert with no onError value")
			}
			i = int64(tr)
		}
		if t == bson.TypeInt32 {
			if i != int64(int32(i)) {
				return value.Missing(), evalErr(ptr, "conversion would overflow target type in $convert with no onError value")
			}
			return value.Int32(int32(i)), nil
		}
		return value.Int64(i), nil
	}
	return value.Missing(), convErr(ptr, v, t)
}
