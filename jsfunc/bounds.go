package jsfunc

// The bounds of the builtins that allocate in one step: a native builtin
// (String.prototype.repeat, Array.prototype.join, ...) runs to its end
// before the runtime sees an interrupt, so the watchdog cannot stop it.
// Each is replaced, before the function's source runs, by a check of the
// size it is asked for against the call's memory limit, then the builtin.

import (
	"fmt"
	"math"

	"github.com/dop251/goja"
)

// removedGlobals are the builtins a function does not get: each
// allocates the length it is given at once, and App Services functions
// reach binary data through BSON.Binary.
var removedGlobals = []string{"ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array",
	"Uint16Array", "Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"}

// guard is one bounded builtin, obj.method or obj.prototype.method: the
// size it would allocate, given this and its arguments, in characters or
// elements.
type guard struct {
	obj    string
	proto  bool
	method string
	chars  bool // the size is in characters, else in elements
	size   func(this goja.Value, args []goja.Value) float64
}

func argNum(args []goja.Value, i int) float64 {
	if i >= len(args) {
		return 0
	}
	return args[i].ToFloat()
}

// lengthOf is the length property of v, 0 when it has none.
func lengthOf(v goja.Value) float64 {
	o, ok := v.(*goja.Object)
	if !ok {
		return 0
	}
	l := o.Get("length")
	if l == nil {
		return 0
	}
	return l.ToFloat()
}

// argLength is the length of argument i.
func argLength(i int) func(goja.Value, []goja.Value) float64 {
	return func(_ goja.Value, a []goja.Value) float64 {
		if i >= len(a) {
			return 0
		}
		return lengthOf(a[i])
	}
}

// thisLength is the length of this.
func thisLength(this goja.Value, _ []goja.Value) float64 { return lengthOf(this) }

var guards = []guard{
	{"String", true, "repeat", true, func(this goja.Value, a []goja.Value) float64 {
		return float64(len(this.String())) * argNum(a, 0)
	}},
	{"String", true, "padStart", true, func(_ goja.Value, a []goja.Value) float64 { return argNum(a, 0) }},
	{"String", true, "padEnd", true, func(_ goja.Value, a []goja.Value) float64 { return argNum(a, 0) }},
	{"Array", true, "join", true, func(this goja.Value, a []goja.Value) float64 {
		sep := 1.0
		if len(a) > 0 && !goja.IsUndefined(a[0]) {
			sep = math.Max(1, float64(len(a[0].String())))
		}
		return lengthOf(this) * sep
	}},
	{"Array", true, "concat", false, func(this goja.Value, a []goja.Value) float64 {
		n := lengthOf(this)
		for _, x := range a {
			n += lengthOf(x)
		}
		return n
	}},
	{"Array", true, "fill", false, thisLength},
	{"Array", true, "slice", false, thisLength},
	{"Array", true, "splice", false, thisLength},
	{"Array", true, "sort", false, thisLength},
	{"Array", true, "reverse", false, thisLength},
	{"Array", true, "flat", false, thisLength},
	{"Array", true, "flatMap", false, thisLength},
	{"Array", true, "copyWithin", false, thisLength},
	{"Array", false, "from", false, argLength(0)},
	{"Function", true, "apply", false, argLength(1)},
	{"Reflect", false, "apply", false, argLength(2)},
	{"Reflect", false, "construct", false, argLength(1)},
	{"JSON", false, "stringify", false, argLength(0)},
}

// installBounds removes removedGlobals, bounds the guarded builtins of the
// call's runtime, and bounds the length Array(n) and new Array(n) give.
func (cl *call) installBounds() error {
	rt := cl.rt
	global := rt.GlobalObject()
	for _, name := range removedGlobals {
		if err := global.Delete(name); err != nil {
			return err
		}
	}
	mem := float64(cl.fs.cfg.memory)
	maxChars, maxElems := mem/2, mem/16
	over := func(what string) {
		cl.abort(fmt.Errorf("%w: %s would allocate more than the memory limit of %d bytes (WithMemoryLimit)", ErrLimit, what, cl.fs.cfg.memory))
	}
	for _, g := range guards {
		obj := rt.Get(g.obj).(*goja.Object)
		what := g.obj + "." + g.method
		if g.proto {
			obj = obj.Get("prototype").(*goja.Object)
			what = g.obj + ".prototype." + g.method
		}
		orig, ok := goja.AssertFunction(obj.Get(g.method))
		if !ok {
			return fmt.Errorf("jsfunc: no builtin %s", what)
		}
		limit := maxElems
		if g.chars {
			limit = maxChars
		}
		size := g.size
		bounded := rt.ToValue(func(c goja.FunctionCall) goja.Value {
			if size(c.This, c.Arguments) > limit {
				over(what)
			}
			v, err := orig(c.This, c.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		})
		cl.nativeFn(g.method, bounded)
		if err := obj.DefineDataProperty(g.method, bounded, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	// Spread ([...a], f(...a)) and for-of take an array's iterator, which
	// the runtime then runs natively: its length is checked first.
	arrayProto := rt.Get("Array").(*goja.Object).Get("prototype").(*goja.Object)
	values, _ := goja.AssertFunction(arrayProto.Get("values"))
	iter := rt.ToValue(func(c goja.FunctionCall) goja.Value {
		if lengthOf(c.This) > maxElems {
			over("Array.prototype[Symbol.iterator]")
		}
		v, err := values(c.This)
		if err != nil {
			panic(err)
		}
		return v
	})
	cl.nativeFn("values", iter)
	if err := arrayProto.DefineDataProperty("values", iter, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return err
	}
	if err := arrayProto.DefineDataPropertySymbol(goja.SymIterator, iter, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return err
	}
	// Array(n) and new Array(n), also through [].constructor and the
	// species of map, filter, ...: a length past the bound is refused.
	array := rt.Get("Array").(*goja.Object)
	checkLen := func(args []goja.Value) {
		if len(args) == 1 && goja.IsNumber(args[0]) && args[0].ToFloat() > maxElems {
			over("Array(n)")
		}
	}
	// A function in Array's place (a Proxy would fail instanceof in
	// goja): its prototype is Array.prototype, and it has Array's own
	// functions.
	construct, _ := goja.AssertConstructor(array)
	bounded := rt.ToValue(func(c goja.ConstructorCall) *goja.Object {
		checkLen(c.Arguments)
		// new.target is kept, so that a class extending Array makes
		// instances of itself.
		o, err := construct(c.NewTarget, c.Arguments...)
		if err != nil {
			panic(err)
		}
		return o
	}).(*goja.Object)
	cl.nativeFn("Array", bounded)
	proto := array.Get("prototype")
	if err := bounded.DefineDataProperty("prototype", proto, goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_FALSE); err != nil {
		return err
	}
	for _, name := range []string{"isArray", "of", "from"} {
		if err := bounded.DefineDataProperty(name, array.Get(name), goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
			return err
		}
	}
	species := cl.nativeFn("get [Symbol.species]", rt.ToValue(func(c goja.FunctionCall) goja.Value { return c.This }))
	if err := bounded.DefineAccessorPropertySymbol(goja.SymSpecies, species, nil, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
		return err
	}
	if err := global.DefineDataProperty("Array", bounded, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE); err != nil {
		return err
	}
	return proto.(*goja.Object).DefineDataProperty("constructor", bounded, goja.FLAG_TRUE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}
