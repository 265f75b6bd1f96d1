package jsfunc

// The BSON and EJSON globals (source/functions/globals.txt).

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/rulegate/rulegate/value"
)

// extJSON renders v as Extended JSON, canonical or relaxed.
func extJSON(v value.Value, canonical bool) (string, error) {
	doc := make([]byte, 4, 9+len(v.Data))
	doc = append(doc, byte(v.Type), 'v', 0)
	doc = append(doc, v.Data...)
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))
	out, err := bson.MarshalExtJSON(bson.Raw(doc), canonical, false)
	if err != nil {
		return "", err
	}
	out = bytes.TrimPrefix(out, []byte(`{"v":`))
	out = bytes.TrimSuffix(out, []byte(`}`))
	return string(out), nil
}

// thisBox returns the box a method is called on, of kind k.
func (cl *call) thisBox(c goja.FunctionCall, k boxKind) box {
	bx, ok := cl.br.boxOf(c.This)
	if !ok || bx.kind != k {
		panic(cl.rt.NewTypeError("BSON.%s method called on something else", boxNames[k]))
	}
	return bx
}

// class defines BSON.<name>: a function that makes a box with or without
// new, and its prototype's methods; the prototype is the bridge's, so the
// boxes the bridge makes are instances too.
func (cl *call) class(bsonObj *goja.Object, k boxKind, mk func(c goja.FunctionCall) bson.RawValue, methods map[string]func(goja.FunctionCall) goja.Value) *goja.Object {
	rt := cl.rt
	ctor := rt.ToValue(func(c goja.ConstructorCall) *goja.Object {
		return cl.br.newBox(k, mk(goja.FunctionCall{This: c.This, Arguments: c.Arguments}))
	}).(*goja.Object)
	proto := cl.br.protos[k]
	_ = proto.DefineDataProperty("constructor", ctor, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
	_ = ctor.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE)
	_ = proto.Set("_bsontype", boxNames[k])
	toEJSON := func(c goja.FunctionCall) goja.Value {
		bx := cl.thisBox(c, k)
		s, err := extJSON(value.FromRaw(bx.rv), true)
		if err != nil {
			panic(rt.NewTypeError(err.Error()))
		}
		return rt.ToValue(s)
	}
	_ = proto.Set("toString", toEJSON)
	_ = proto.Set("inspect", toEJSON)
	_ = cl.setFn(proto, "toJSON", func(c goja.FunctionCall) goja.Value {
		return cl.jsonParse(toEJSON(c).String())
	})
	_ = cl.setFn(proto, "equals", func(c goja.FunctionCall) goja.Value {
		a := cl.thisBox(c, k)
		b, ok := cl.br.boxOf(c.Argument(0))
		return rt.ToValue(ok && a.rv.Type == b.rv.Type && bytes.Equal(a.rv.Value, b.rv.Value))
	})
	for name, m := range methods {
		_ = proto.Set(name, m)
	}
	_ = bsonObj.Set(boxNames[k], ctor)
	return ctor
}

// number is the JavaScript number of a box holding one.
func (cl *call) number(bx box) goja.Value {
	switch bx.rv.Type {
	case bson.TypeInt32:
		return cl.rt.ToValue(bx.rv.Int32())
	case bson.TypeInt64:
		return cl.rt.ToValue(float64(bx.rv.Int64()))
	}
	return cl.rt.ToValue(bx.rv.Double())
}

// bsonObject is the BSON global.
func (cl *call) bsonObject() *goja.Object {
	rt := cl.rt
	o := rt.NewObject()
	typeErr := func(format string, args ...any) {
		panic(rt.NewTypeError(fmt.Sprintf(format, args...)))
	}
	raw := func(t bson.Type, data []byte) bson.RawValue { return bson.RawValue{Type: t, Value: data} }

	cl.class(o, boxObjectID, func(c goja.FunctionCall) bson.RawValue {
		arg := c.Argument(0)
		if goja.IsUndefined(arg) || goja.IsNull(arg) {
			id := bson.NewObjectID()
			return raw(bson.TypeObjectID, id[:])
		}
		if bx, ok := cl.br.boxOf(arg); ok && bx.kind == boxObjectID {
			return bx.rv
		}
		s := arg.String()
		if len(s) == 12 {
			return raw(bson.TypeObjectID, []byte(s))
		}
		id, err := bson.ObjectIDFromHex(s)
		if err != nil {
			typeErr("BSON.ObjectId: %q is not 24 hexadecimal characters", s)
		}
		return raw(bson.TypeObjectID, id[:])
	}, map[string]func(goja.FunctionCall) goja.Value{
		"toHexString": func(c goja.FunctionCall) goja.Value {
			return rt.ToValue(hex.EncodeToString(cl.thisBox(c, boxObjectID).rv.Value))
		},
		"getTimestamp": func(c goja.FunctionCall) goja.Value {
			secs := binary.BigEndian.Uint32(cl.thisBox(c, boxObjectID).rv.Value[:4])
			d, err := rt.New(cl.br.dateCtr, rt.ToValue(int64(secs)*1000))
			if err != nil {
				panic(err)
			}
			return d
		},
	})
	// An ObjectId reads as its hex string, as in the driver.
	oidProto := cl.br.protos[boxObjectID]
	hexOf := func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(hex.EncodeToString(cl.thisBox(c, boxObjectID).rv.Value))
	}
	_ = oidProto.Set("toString", hexOf)
	_ = oidProto.Set("toJSON", hexOf)

	cl.class(o, boxRegex, func(c goja.FunctionCall) bson.RawValue {
		flags := ""
		if f := c.Argument(1); !goja.IsUndefined(f) {
			flags = f.String()
		}
		return raw(bson.TypeRegex, bsoncore.AppendRegex(nil, c.Argument(0).String(), regexOptions(flags)))
	}, nil)

	binCtor := cl.class(o, boxBinary, func(c goja.FunctionCall) bson.RawValue {
		if !goja.IsUndefined(c.Argument(0)) {
			typeErr("BSON.Binary: use BSON.Binary.fromHex or BSON.Binary.fromBase64")
		}
		return raw(bson.TypeBinary, bsoncore.AppendBinary(nil, 0, nil))
	}, map[string]func(goja.FunctionCall) goja.Value{
		"toHex": func(c goja.FunctionCall) goja.Value {
			_, data := binData(cl.thisBox(c, boxBinary))
			return rt.ToValue(hex.EncodeToString(data))
		},
		"toBase64": func(c goja.FunctionCall) goja.Value {
			_, data := binData(cl.thisBox(c, boxBinary))
			return rt.ToValue(base64.StdEncoding.EncodeToString(data))
		},
		"text": func(c goja.FunctionCall) goja.Value {
			_, data := binData(cl.thisBox(c, boxBinary))
			return rt.ToValue(string(data))
		},
	})
	subtype := func(v goja.Value) byte {
		if goja.IsUndefined(v) {
			return 0
		}
		n := v.ToInteger()
		if n < 0 || n > 255 {
			typeErr("BSON.Binary: subtype %d is not in 0-255", n)
		}
		return byte(n)
	}
	_ = cl.setFn(binCtor, "fromHex", func(c goja.FunctionCall) goja.Value {
		data, err := hex.DecodeString(c.Argument(0).String())
		if err != nil {
			typeErr("BSON.Binary.fromHex: %v", err)
		}
		return cl.br.newBox(boxBinary, raw(bson.TypeBinary, bsoncore.AppendBinary(nil, subtype(c.Argument(1)), data)))
	})
	_ = cl.setFn(binCtor, "fromBase64", func(c goja.FunctionCall) goja.Value {
		data, err := base64.StdEncoding.DecodeString(c.Argument(0).String())
		if err != nil {
			typeErr("BSON.Binary.fromBase64: %v", err)
		}
		return cl.br.newBox(boxBinary, raw(bson.TypeBinary, bsoncore.AppendBinary(nil, subtype(c.Argument(1)), data)))
	})

	numMethods := func(k boxKind) map[string]func(goja.FunctionCall) goja.Value {
		return map[string]func(goja.FunctionCall) goja.Value{
			"valueOf":  func(c goja.FunctionCall) goja.Value { return cl.number(cl.thisBox(c, k)) },
			"toNumber": func(c goja.FunctionCall) goja.Value { return cl.number(cl.thisBox(c, k)) },
		}
	}
	cl.class(o, boxInt32, func(c goja.FunctionCall) bson.RawValue {
		return raw(bson.TypeInt32, bsoncore.AppendInt32(nil, int32(c.Argument(0).ToInteger())))
	}, numMethods(boxInt32))
	cl.class(o, boxDouble, func(c goja.FunctionCall) bson.RawValue {
		f := c.Argument(0).ToFloat()
		if goja.IsUndefined(c.Argument(0)) {
			f = 0
		}
		return raw(bson.TypeDouble, bsoncore.AppendDouble(nil, f))
	}, numMethods(boxDouble))

	longOf := func(n int64) *goja.Object {
		return cl.br.newBox(boxLong, raw(bson.TypeInt64, bsoncore.AppendInt64(nil, n)))
	}
	longMethods := numMethods(boxLong)
	longMethods["toString"] = func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(strconv.FormatInt(cl.thisBox(c, boxLong).rv.Int64(), 10))
	}
	longMethods["toInt"] = func(c goja.FunctionCall) goja.Value {
		return rt.ToValue(int32(cl.thisBox(c, boxLong).rv.Int64()))
	}
	longCtor := cl.class(o, boxLong, func(c goja.FunctionCall) bson.RawValue {
		low, high := uint32(c.Argument(0).ToInteger()), int32(c.Argument(1).ToInteger())
		return raw(bson.TypeInt64, bsoncore.AppendInt64(nil, int64(high)<<32|int64(low)))
	}, longMethods)
	_ = cl.setFn(longCtor, "fromNumber", func(c goja.FunctionCall) goja.Value {
		f := c.Argument(0).ToFloat()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return longOf(0)
		}
		return longOf(int64(f))
	})
	_ = cl.setFn(longCtor, "fromInt", func(c goja.FunctionCall) goja.Value { return longOf(int64(int32(c.Argument(0).ToInteger()))) })
	_ = cl.setFn(longCtor, "fromBits", func(c goja.FunctionCall) goja.Value {
		low, high := uint32(c.Argument(0).ToInteger()), int32(c.Argument(1).ToInteger())
		return longOf(int64(high)<<32 | int64(low))
	})
	_ = cl.setFn(longCtor, "fromString", func(c goja.FunctionCall) goja.Value {
		radix := 10
		if r := c.Argument(1); !goja.IsUndefined(r) {
			radix = int(r.ToInteger())
		}
		n, err := strconv.ParseInt(c.Argument(0).String(), radix, 64)
		if err != nil {
			typeErr("BSON.Long.fromString: %v", err)
		}
		return longOf(n)
	})

	decOf := func(s string) bson.RawValue {
		d, err := bson.ParseDecimal128(s)
		if err != nil {
			typeErr("BSON.Decimal128: %q is not a decimal number", s)
		}
		h, l := d.GetBytes()
		return raw(bson.TypeDecimal128, bsoncore.AppendDecimal128(nil, h, l))
	}
	decCtor := cl.class(o, boxDecimal, func(c goja.FunctionCall) bson.RawValue {
		return decOf(c.Argument(0).String())
	}, nil)
	_ = cl.setFn(decCtor, "fromString", func(c goja.FunctionCall) goja.Value {
		return cl.br.newBox(boxDecimal, decOf(c.Argument(0).String()))
	})

	cl.class(o, boxTimestamp, func(c goja.FunctionCall) bson.RawValue {
		var t, i uint32
		if a, ok := c.Argument(0).(*goja.Object); ok && goja.IsUndefined(c.Argument(1)) {
			t, i = uint32(a.Get("t").ToInteger()), uint32(a.Get("i").ToInteger())
		} else {
			// new Timestamp(low, high): the increment, then the time.
			i, t = uint32(c.Argument(0).ToInteger()), uint32(c.Argument(1).ToInteger())
		}
		return raw(bson.TypeTimestamp, bsoncore.AppendTimestamp(nil, t, i))
	}, map[string]func(goja.FunctionCall) goja.Value{
		"getHighBits": func(c goja.FunctionCall) goja.Value {
			t, _ := cl.thisBox(c, boxTimestamp).rv.Timestamp()
			return rt.ToValue(t)
		},
		"getLowBits": func(c goja.FunctionCall) goja.Value {
			_, i := cl.thisBox(c, boxTimestamp).rv.Timestamp()
			return rt.ToValue(i)
		},
	})

	// MinKey and MaxKey are values (BSON.MaxKey compares above all).
	for _, k := range []boxKind{boxMinKey, boxMaxKey} {
		t := bson.TypeMinKey
		if k == boxMaxKey {
			t = bson.TypeMaxKey
		}
		cl.class(o, k, func(goja.FunctionCall) bson.RawValue { return raw(t, nil) }, nil)
		_ = o.Set(boxNames[k], cl.br.newBox(k, raw(t, nil)))
	}
	cl.class(o, boxOther, func(goja.FunctionCall) bson.RawValue {
		typeErr("BSON.BSONValue cannot be constructed")
		return bson.RawValue{}
	}, nil)
	_ = o.Delete(boxNames[boxOther])
	return o
}

// binData returns the subtype and bytes of a Binary box.
func binData(bx box) (byte, []byte) {
	st, data := bx.rv.Binary()
	return st, data
}

// ejsonObject is the EJSON global: stringify writes canonical Extended
// JSON unless {relaxed: true}, as the example of
// source/functions/globals.txt shows ({"answer": 42} is
// {"answer":{"$numberLong":"42"}}).
func (cl *call) ejsonObject() *goja.Object {
	rt := cl.rt
	o := rt.NewObject()
	stringify := func(v goja.Value, opts goja.Value) string {
		jv, err := cl.br.fromJS(v)
		if err != nil {
			cl.fail(fmt.Errorf("EJSON.stringify: %w", err))
		}
		if jv.IsMissing() {
			cl.fail(fmt.Errorf("%w: EJSON.stringify: undefined has no Extended JSON form", ErrResult))
		}
		relaxed := false
		if oo, ok := opts.(*goja.Object); ok {
			relaxed = oo.Get("relaxed") != nil && oo.Get("relaxed").ToBoolean()
		}
		s, err := extJSON(jv, !relaxed)
		if err != nil {
			cl.throw(fmt.Errorf("EJSON.stringify: %w", err))
		}
		return s
	}
	parse := func(s string) goja.Value {
		v, err := value.FromExtJSON([]byte(s))
		if err != nil {
			panic(rt.NewTypeError(fmt.Sprintf("EJSON.parse: %v", err)))
		}
		return cl.br.toJS(v)
	}
	_ = cl.setFn(o, "stringify", func(c goja.FunctionCall) goja.Value {
		// EJSON.stringify(value, replacer, space, options): the options
		// are the last object argument.
		return rt.ToValue(stringify(c.Argument(0), c.Argument(len(c.Arguments)-1)))
	})
	_ = cl.setFn(o, "parse", func(c goja.FunctionCall) goja.Value { return parse(c.Argument(0).String()) })
	_ = cl.setFn(o, "serialize", func(c goja.FunctionCall) goja.Value {
		return cl.jsonParse(stringify(c.Argument(0), c.Argument(1)))
	})
	_ = cl.setFn(o, "deserialize", func(c goja.FunctionCall) goja.Value {
		return parse(cl.jsonCall("stringify", c.Argument(0)).String())
	})
	return o
}

// jsonCall calls the runtime's JSON.<method>(arg).
func (cl *call) jsonCall(method string, arg goja.Value) goja.Value {
	jsonObj := cl.rt.Get("JSON").(*goja.Object)
	f, _ := goja.AssertFunction(jsonObj.Get(method))
	v, err := f(jsonObj, arg)
	if err != nil {
		panic(err)
	}
	return v
}

// jsonParse is the runtime's JSON.parse(s).
func (cl *call) jsonParse(s string) goja.Value { return cl.jsonCall("parse", cl.rt.ToValue(s)) }
