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

// guard is one bounded builtin: the size it would allocate, given this
// and its arguments, in characters or elements.
type guard struct {
	ctor, method string
	chars        bool // the size is in characters, else in elements
	size         func(this goja.Value, args []goja.Value) float64
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

var guards = []guard{
	{"String", "repeat", true, func(this goja.Value, a []goja.Value) float64 {
		return float64(len(this.String())) * argNum(a, 0)
	}},
	{"String", "padStart", true, func(_ goja.Value, a []goja.Value) float64 { return argNum(a, 0) }},
	{"String", "padEnd", true, func(_ goja.Value, a []goja.Value) float64 { return argNum(a, 0) }},
	{"Array", "join", true, func(this goja.Value, a []goja.Value) float64 {
		sep := 1.0
		if len(a) > 0 && !goja.IsUndefined(a[0]) {
			sep = math.Max(1, float64(len(a[0].String())))
		}
		return lengthOf(this) * sep
	}},
	{"Array", "fill", false, func(this goja.Value, _ []goja.Value) float64 { return lengthOf(this) }},
	{"", "Array.from", false, func(_ goja.Value, a []goja.Value) float64 {
		if len(a) == 0 {
			return 0
		}
		return lengthOf(a[0])
	}},
	{"Function", "apply", false, func(_ goja.Value, a []goja.Value) float64 {
		if len(a) < 2 {
			return 0
		}
		return lengthOf(a[1])
	}},
}

// installBounds removes removedGlobals and bounds the guarded builtins of
// the call's runtime.
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
	for _, g := range guards {
		var obj *goja.Object
		name := g.method
		if g.ctor == "" {
			obj, name = rt.Get("Array").(*goja.Object), "from"
		} else {
			obj = rt.Get(g.ctor).(*goja.Object).Get("prototype").(*goja.Object)
		}
		orig, ok := goja.AssertFunction(obj.Get(name))
		if !ok {
			return fmt.Errorf("jsfunc: no builtin %s.%s", g.ctor, name)
		}
		what := g.ctor + ".prototype." + name
		if g.ctor == "" {
			what = g.method
		}
		limit := maxElems
		if g.chars {
			limit = maxChars
		}
		size := g.size
		bounded := rt.ToValue(func(c goja.FunctionCall) goja.Value {
			if n := size(c.This, c.Arguments); n > limit {
				cl.abort(fmt.Errorf("%w: %s would allocate more than the memory limit of %d bytes (WithMemoryLimit)", ErrLimit, what, cl.fs.cfg.memory))
			}
			v, err := orig(c.This, c.Arguments...)
			if err != nil {
				panic(err)
			}
			return v
		})
		if err := obj.DefineDataProperty(name, bounded, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_FALSE); err != nil {
			return err
		}
	}
	return nil
}
