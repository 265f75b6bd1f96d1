package jsfunc

// The bridge between BSON (value.Value) and JavaScript values, both
// directions. The choices, and the pages they follow, are in doc.go
// ("Values").

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/rulegate/rulegate/value"
)

// maxNesting is the deepest nesting of documents and arrays the bridge
// converts, either way: the MongoDB server's limit on BSON nesting.
const maxNesting = 100

// maxSafeInteger is 2^53, beyond which a JavaScript number no longer
// holds every integer.
const maxSafeInteger = 1 << 53

// boxKind is the BSON type a box object (BSON.ObjectId, ...) holds.
type boxKind uint8

const (
	boxObjectID boxKind = iota + 1
	boxDecimal
	boxLong
	boxInt32
	boxDouble
	boxBinary
	boxTimestamp
	boxRegex
	boxMinKey
	boxMaxKey
	boxOther // a deprecated type, or a date a JavaScript Date cannot hold
	numBoxKinds
)

// boxNames are the class names of the boxes, as BSON.<name>.
var boxNames = [numBoxKinds]string{
	boxObjectID:  "ObjectId",
	boxDecimal:   "Decimal128",
	boxLong:      "Long",
	boxInt32:     "Int32",
	boxDouble:    "Double",
	boxBinary:    "Binary",
	boxTimestamp: "Timestamp",
	boxRegex:     "BSONRegExp",
	boxMinKey:    "MinKey",
	boxMaxKey:    "MaxKey",
	boxOther:     "BSONValue",
}

// box is the BSON value a box object holds.
type box struct {
	kind boxKind
	rv   bson.RawValue
}

// bridge converts values for one runtime. Box objects are recorded in
// boxes, so only the objects the bridge made are read back as BSON
// values: a plain object that looks like one is a document.
type bridge struct {
	rt      *goja.Runtime
	protos  [numBoxKinds]*goja.Object
	boxes   map[*goja.Object]box
	dateCtr goja.Value
	// maxBytes bounds the BSON size of a value the bridge builds.
	maxBytes int
	// prepare gives the prototypes their methods (the BSON global is
	// built when first needed); called once, before the first box.
	prepare  func()
	prepared bool
}

func newBridge(rt *goja.Runtime, maxBytes int) *bridge {
	b := &bridge{rt: rt, boxes: map[*goja.Object]box{}, dateCtr: rt.Get("Date"), maxBytes: maxBytes}
	for k := boxKind(1); k < numBoxKinds; k++ {
		b.protos[k] = rt.NewObject()
	}
	return b
}

// newBox makes a box object holding rv.
func (b *bridge) newBox(k boxKind, rv bson.RawValue) *goja.Object {
	if !b.prepared {
		b.prepared = true
		if b.prepare != nil {
			b.prepare()
		}
	}
	o := b.rt.CreateObject(b.protos[k])
	b.boxes[o] = box{kind: k, rv: rv}
	return o
}

// boxOf returns the box v is, if it is one.
func (b *bridge) boxOf(v goja.Value) (box, bool) {
	o, ok := v.(*goja.Object)
	if !ok {
		return box{}, false
	}
	bx, ok := b.boxes[o]
	return bx, ok
}

// toJS converts a BSON value to JavaScript. A missing value is
// undefined.
func (b *bridge) toJS(v value.Value) goja.Value {
	return b.rawToJS(v.RawValue(), 0)
}

func (b *bridge) rawToJS(rv bson.RawValue, depth int) goja.Value {
	rt := b.rt
	switch rv.Type {
	case 0, bson.TypeUndefined:
		return goja.Undefined()
	case bson.TypeNull:
		return goja.Null()
	case bson.TypeBoolean:
		return rt.ToValue(rv.Boolean())
	case bson.TypeString:
		return rt.ToValue(rv.StringValue())
	case bson.TypeDouble:
		return rt.ToValue(rv.Double())
	case bson.TypeInt32:
		return rt.ToValue(rv.Int32())
	case bson.TypeInt64:
		if n := rv.Int64(); n >= -maxSafeInteger && n <= maxSafeInteger {
			return rt.ToValue(n)
		}
		return b.newBox(boxLong, rv)
	case bson.TypeDecimal128:
		return b.newBox(boxDecimal, rv)
	case bson.TypeObjectID:
		return b.newBox(boxObjectID, rv)
	case bson.TypeBinary:
		return b.newBox(boxBinary, rv)
	case bson.TypeTimestamp:
		return b.newBox(boxTimestamp, rv)
	case bson.TypeRegex:
		return b.newBox(boxRegex, rv)
	case bson.TypeMinKey:
		return b.newBox(boxMinKey, rv)
	case bson.TypeMaxKey:
		return b.newBox(boxMaxKey, rv)
	case bson.TypeDateTime:
		ms := rv.DateTime()
		// A JavaScript Date holds ±8.64e15 ms: beyond, the value stays
		// a BSON value.
		if ms < -8.64e15 || ms > 8.64e15 {
			return b.newBox(boxOther, rv)
		}
		d, err := rt.New(b.dateCtr, rt.ToValue(ms))
		if err != nil {
			return b.newBox(boxOther, rv)
		}
		return d
	case bson.TypeEmbeddedDocument:
		o := rt.NewObject()
		if depth >= maxNesting {
			panic(rt.NewTypeError("jsfunc: document nested deeper than %d levels", maxNesting))
		}
		elems, err := bson.Raw(rv.Value).Elements()
		if err != nil {
			panic(rt.NewTypeError("jsfunc: invalid BSON document: %v", err))
		}
		for _, e := range elems {
			// DefineDataProperty, not Set: a key "__proto__" is an own
			// field, never the prototype.
			_ = o.DefineDataProperty(e.Key(), b.rawToJS(e.Value(), depth+1), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
		return o
	case bson.TypeArray:
		if depth >= maxNesting {
			panic(rt.NewTypeError("jsfunc: array nested deeper than %d levels", maxNesting))
		}
		vals, err := bson.RawArray(rv.Value).Values()
		if err != nil {
			panic(rt.NewTypeError("jsfunc: invalid BSON array: %v", err))
		}
		items := make([]any, len(vals))
		for i, e := range vals {
			items[i] = b.rawToJS(e, depth+1)
		}
		return rt.NewArray(items...)
	}
	// JavaScript code, symbols, DB pointers: deprecated types kept as
	// they are.
	return b.newBox(boxOther, rv)
}

// encoder builds the BSON of one JavaScript value.
type encoder struct {
	b    *bridge
	buf  []byte
	seen map[*goja.Object]bool
	path []string
}

// bridgeError is a value without BSON form, or a bound exceeded; its
// path is the JSON pointer of the value within what was converted.
type bridgeError struct {
	limit bool
	path  string
	msg   string
}

func (e *bridgeError) Error() string {
	if e.path == "" {
		return e.msg
	}
	return e.path + ": " + e.msg
}

func (e *bridgeError) Unwrap() error {
	if e.limit {
		return ErrLimit
	}
	return ErrResult
}

func (e *encoder) fail(limit bool, format string, args ...any) {
	p := ""
	if len(e.path) > 0 {
		var sb strings.Builder
		for _, s := range e.path {
			sb.WriteByte('/')
			sb.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(s))
		}
		p = sb.String()
	}
	panic(&bridgeError{limit: limit, path: p, msg: fmt.Sprintf(format, args...)})
}

// fromJS converts a JavaScript value to BSON. undefined at the top is
// the missing value (a function that returns nothing); anywhere else,
// and functions, symbols, BigInts and cycles, are errors (ErrResult). A
// getter that throws is the exception it throws.
func (b *bridge) fromJS(v goja.Value) (out value.Value, err error) {
	if v == nil || goja.IsUndefined(v) {
		return value.Missing(), nil
	}
	e := &encoder{b: b, seen: map[*goja.Object]bool{}}
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(*bridgeError)
			if !ok {
				panic(r)
			}
			err = be
		}
	}()
	t := e.value(v, 0)
	e.grow()
	return value.Value{Type: t, Data: e.buf}, nil
}

// fromJSDocument converts a JavaScript object to a BSON document (a
// filter, an update, a document to insert); what describes it in errors.
func (b *bridge) fromJSDocument(v goja.Value, what string) (bson.Raw, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return bson.Raw(bsoncore.NewDocumentBuilder().Build()), nil
	}
	out, err := b.fromJS(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if out.Type != bson.TypeEmbeddedDocument {
		return nil, fmt.Errorf("%w: %s must be a document, got %s", ErrResult, what, jsType(v))
	}
	return bson.Raw(out.Data), nil
}

func (e *encoder) grow() {
	if len(e.buf) > e.b.maxBytes {
		e.fail(true, "the value is larger than %d bytes of BSON", e.b.maxBytes)
	}
}

// value appends the BSON data of v (no type byte, no key) and returns its
// type.
func (e *encoder) value(v goja.Value, depth int) bson.Type {
	e.grow()
	switch {
	case v == nil || goja.IsUndefined(v):
		e.fail(false, "undefined has no BSON form")
	case goja.IsNull(v):
		return bson.TypeNull
	case goja.IsBigInt(v):
		e.fail(false, "a BigInt has no BSON form (use BSON.Long)")
	}
	if _, ok := v.(*goja.Symbol); ok {
		e.fail(false, "a Symbol has no BSON form")
	}
	o, ok := v.(*goja.Object)
	if !ok {
		switch x := v.Export().(type) {
		case bool:
			e.buf = bsoncore.AppendBoolean(e.buf, x)
			return bson.TypeBoolean
		case string:
			e.buf = bsoncore.AppendString(e.buf, x)
			return bson.TypeString
		case int64:
			if x >= -maxSafeInteger && x <= maxSafeInteger {
				e.buf = bsoncore.AppendInt64(e.buf, x)
				return bson.TypeInt64
			}
			e.buf = bsoncore.AppendDouble(e.buf, float64(x))
			return bson.TypeDouble
		case float64:
			if x == math.Trunc(x) && math.Abs(x) <= maxSafeInteger && !(x == 0 && math.Signbit(x)) {
				e.buf = bsoncore.AppendInt64(e.buf, int64(x))
				return bson.TypeInt64
			}
			e.buf = bsoncore.AppendDouble(e.buf, x)
			return bson.TypeDouble
		}
		// A Symbol, or a primitive Export does not know.
		e.fail(false, "%s has no BSON form", jsType(v))
	}
	if bx, ok := e.b.boxes[o]; ok {
		e.buf = append(e.buf, bx.rv.Value...)
		return bx.rv.Type
	}
	if _, ok := goja.AssertFunction(o); ok {
		e.fail(false, "a function has no BSON form")
	}
	switch o.ClassName() {
	case "Date":
		t, ok := o.Export().(time.Time)
		if !ok || math.IsNaN(o.ToFloat()) {
			e.fail(false, "an invalid Date has no BSON form")
		}
		e.buf = bsoncore.AppendDateTime(e.buf, t.UnixMilli())
		return bson.TypeDateTime
	case "RegExp":
		e.buf = bsoncore.AppendRegex(e.buf, o.Get("source").String(), regexOptions(o.Get("flags").String()))
		return bson.TypeRegex
	case "Number", "String", "Boolean":
		// new Number(1), new String("a"), new Boolean(true): their
		// primitive value.
		valueOf, ok := goja.AssertFunction(o.Get("valueOf"))
		if !ok {
			e.fail(false, "%s object without valueOf has no BSON form", o.ClassName())
		}
		prim, err := valueOf(o)
		if err != nil {
			panic(err)
		}
		if _, isObj := prim.(*goja.Object); isObj {
			e.fail(false, "%s object whose valueOf is an object has no BSON form", o.ClassName())
		}
		return e.value(prim, depth)
	}
	// A Map, a Set, a Promise, ... would be a document of no fields.
	if tag := o.GetSymbol(goja.SymToStringTag); tag != nil && !goja.IsUndefined(tag) {
		switch t := tag.String(); t {
		case "Map", "Set", "WeakMap", "WeakSet", "Promise", "WeakRef":
			e.fail(false, "a %s has no BSON form", t)
		}
	}
	if e.seen[o] {
		e.fail(false, "a cyclic value has no BSON form")
	}
	if depth >= maxNesting {
		e.fail(true, "the value is nested deeper than %d levels", maxNesting)
	}
	e.seen[o] = true
	defer delete(e.seen, o)
	if o.ClassName() == "Array" {
		n := o.Get("length").ToInteger()
		idx, buf := bsoncore.AppendArrayStart(e.buf)
		e.buf = buf
		for i := int64(0); i < n; i++ {
			k := strconv.FormatInt(i, 10)
			e.path = append(e.path, k)
			e.element(k, o.Get(k), depth+1)
			e.path = e.path[:len(e.path)-1]
		}
		e.buf, _ = bsoncore.AppendArrayEnd(e.buf, idx)
		return bson.TypeArray
	}
	idx, buf := bsoncore.AppendDocumentStart(e.buf)
	e.buf = buf
	for _, k := range o.Keys() {
		e.path = append(e.path, k)
		if strings.IndexByte(k, 0) >= 0 {
			e.fail(false, "a key with a NUL character has no BSON form")
		}
		e.element(k, o.Get(k), depth+1)
		e.path = e.path[:len(e.path)-1]
	}
	e.buf, _ = bsoncore.AppendDocumentEnd(e.buf, idx)
	return bson.TypeEmbeddedDocument
}

// element appends one element of a document or array.
func (e *encoder) element(key string, v goja.Value, depth int) {
	at := len(e.buf)
	e.buf = append(e.buf, 0)
	e.buf = append(e.buf, key...)
	e.buf = append(e.buf, 0)
	t := e.value(v, depth)
	e.buf[at] = byte(t)
	e.grow()
}

// regexOptions maps JavaScript RegExp flags to BSON regex options, sorted
// as BSON requires: g and y have no BSON meaning and are dropped; u is
// how the server reads every pattern.
func regexOptions(flags string) string {
	var opts []byte
	for _, c := range flags {
		switch c {
		case 'i', 'm', 's':
			opts = append(opts, byte(c))
		}
	}
	sort.Slice(opts, func(i, j int) bool { return opts[i] < opts[j] })
	return string(opts)
}

// jsType names the type of a JavaScript value in messages.
func jsType(v goja.Value) string {
	switch {
	case v == nil || goja.IsUndefined(v):
		return "undefined"
	case goja.IsNull(v):
		return "null"
	case goja.IsBigInt(v):
		return "a BigInt"
	}
	if _, ok := v.(*goja.Symbol); ok {
		return "a Symbol"
	}
	if o, ok := v.(*goja.Object); ok {
		if _, ok := goja.AssertFunction(o); ok {
			return "a function"
		}
		if o.ClassName() == "Array" {
			return "an array"
		}
		return "an object"
	}
	switch v.Export().(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	}
	return v.String()
}
