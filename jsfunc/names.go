package jsfunc

import (
	"strings"

	"github.com/dop251/goja"
)

// A function sees no Go name: goja names a native function after the Go
// function behind it (runtime.FuncForPC: "github.com/rulegate/rulegate/
// jsfunc.(*call).collection.func8"), and that name is its "name", its
// source (String(fn)) and its frames in a stack. named gives each native
// function of a host object the name of the property that holds it
// (findOne, ObjectId, log, ...), as the App Services runtime's have,
// through the object's own properties and the prototypes of its
// constructors.

// named renames the native functions of o (and below, a few levels) and
// returns o. o must have no accessor property (reading one would run
// it): it is used for the BSON global, whose classes and prototypes are
// many; the other host functions are named where they are made (fn,
// setFn, nativeFn).
func (cl *call) named(o *goja.Object) *goja.Object {
	cl.nameIn(o, 0)
	return o
}

func (cl *call) nameIn(o *goja.Object, depth int) {
	if o == nil || depth > 3 {
		return
	}
	for _, k := range o.Keys() {
		v, ok := o.Get(k).(*goja.Object)
		if !ok {
			continue
		}
		if _, isFn := goja.AssertFunction(v); isFn {
			cl.name(v, k)
			if p, ok := v.Get("prototype").(*goja.Object); ok {
				cl.nameIn(p, depth+1)
			}
			continue
		}
		cl.nameIn(v, depth+1)
	}
}

// name gives f the name n when its name is a Go one.
func (cl *call) name(f *goja.Object, n string) {
	if cur := f.Get("name"); cur == nil || !goName(cur.String()) {
		return
	}
	_ = f.DefineDataProperty("name", cl.rt.ToValue(n), goja.FLAG_FALSE, goja.FLAG_FALSE, goja.FLAG_TRUE)
}

// goName reports whether s is a name goja took from Go: a package path or
// a method value ("pkg.(*T).m-fm"), which no JavaScript name holds.
func goName(s string) bool { return strings.ContainsAny(s, "/.(") }

// jsError is err as a JavaScript Error the function may catch: err's
// message, and nothing of Go (a goja GoError's value is the Go error,
// whose methods and the fields of what it wraps a function could call and
// read). The call keeps err, so an Error the function does not catch ends
// the call with err itself (classify).
func (cl *call) jsError(err error) *goja.Object { return cl.jsErrorMsg(err, err.Error()) }

// jsErrorMsg is jsError with the message msg.
func (cl *call) jsErrorMsg(err error, msg string) *goja.Object {
	o, e := cl.rt.New(cl.errorCtor, cl.rt.ToValue(msg))
	if e != nil {
		o = cl.rt.NewTypeError(msg)
	}
	if cl.goErrs == nil {
		cl.goErrs = map[*goja.Object]error{}
	}
	cl.goErrs[o] = err
	return o
}

// nativeFn names the native function v n and returns it.
func (cl *call) nativeFn(n string, v goja.Value) goja.Value {
	if o, ok := v.(*goja.Object); ok {
		cl.name(o, n)
	}
	return v
}

// setFn sets o[n] to f, a native function named n.
func (cl *call) setFn(o *goja.Object, n string, f func(goja.FunctionCall) goja.Value) error {
	return o.Set(n, cl.fn(n, f))
}
