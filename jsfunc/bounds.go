package jsfunc

// The bounds of the builtins that allocate in one step: a native builtin
// (String.prototype.repeat, Array.prototype.join, new Uint8Array(n), ...)
// runs to its end before the runtime sees an interrupt, so the watchdog
// cannot stop it. Each is wrapped, before the function's source runs, by
// a check of the size it is asked for against the call's memory limit.

import (
	"fmt"

	"github.com/dop251/goja"
)

// boundsSource wraps the allocating builtins. Its argument is
// (maxChars, maxElems, maxBytes, over), over(what) ending the call.
const boundsSource = `(function (maxChars, maxElems, maxBytes, over) {
	"use strict";
	const guard = (obj, name, check) => {
		const orig = obj[name];
		const wrapped = {[name](...args) { check(this, args); return Reflect.apply(orig, this, args); }}[name];
		Object.defineProperty(obj, name, {value: wrapped, writable: true, configurable: true, enumerable: false});
	};
	const len = (a) => { const n = Number(a && a.length); return n > 0 ? n : 0; };
	guard(String.prototype, "repeat", (s, [n]) => { if (String(s).length * Number(n) > maxChars) over("String.prototype.repeat"); });
	guard(String.prototype, "padStart", (s, [n]) => { if (Number(n) > maxChars) over("String.prototype.padStart"); });
	guard(String.prototype, "padEnd", (s, [n]) => { if (Number(n) > maxChars) over("String.prototype.padEnd"); });
	guard(Array.prototype, "join", (a, [sep]) => {
		const n = len(a);
		if (n > maxElems || n * (sep === undefined ? 1 : String(sep).length) > maxChars) over("Array.prototype.join");
	});
	guard(Array.prototype, "fill", (a) => { if (len(a) > maxElems) over("Array.prototype.fill"); });
	guard(Array, "from", (_, [src]) => { if (len(src) > maxElems) over("Array.from"); });
	guard(Function.prototype, "apply", (_, [, args]) => { if (len(args) > maxElems) over("Function.prototype.apply"); });
	for (const name of ["ArrayBuffer", "SharedArrayBuffer", "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array",
			"Int32Array", "Uint32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"]) {
		const C = globalThis[name];
		if (typeof C !== "function") continue;
		const per = C.BYTES_PER_ELEMENT || 1;
		globalThis[name] = new Proxy(C, {construct(t, args, nt) {
			const n = typeof args[0] === "number" ? args[0] : len(args[0]);
			if (n * per > maxBytes) over(name);
			return Reflect.construct(t, args, nt);
		}});
	}
})`

// installBounds wraps the allocating builtins of the call's runtime.
func (cl *call) installBounds() error {
	v, err := cl.rt.RunProgram(cl.fs.bounds)
	if err != nil {
		return err
	}
	fn, _ := goja.AssertFunction(v)
	mem := cl.fs.cfg.memory
	over := cl.fn(func(c goja.FunctionCall) goja.Value {
		return cl.abort(fmt.Errorf("%w: %s would allocate more than the memory limit of %d bytes (WithMemoryLimit)", ErrLimit, c.Argument(0).String(), mem))
	})
	_, err = fn(goja.Undefined(), cl.rt.ToValue(mem/2), cl.rt.ToValue(mem/16), cl.rt.ToValue(mem), over)
	return err
}
