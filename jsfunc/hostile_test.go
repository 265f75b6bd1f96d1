package jsfunc_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/value"
)

// hostile is the hostile corpus: one behaviour per case, each ending
// with a clear error and the process alive.
var hostile = []struct {
	name, src string
	bind      bool // bind a Data first
	slow      bool // allocates for a while: a longer timeout
	want      error
	msg       string
}{
	{"infinite loop", `exports = function() { while (true) {} }`, false, false, jsfunc.ErrTimeout, "timed out"},
	{"infinite loop in async", `exports = async function() { while (true) {} }`, false, false, jsfunc.ErrTimeout, "timed out"},
	{"timeout cannot be caught", `exports = function() { for (;;) { try { while (true) {} } catch (e) {} } }`, false, false, jsfunc.ErrTimeout, "timed out"},
	{"endless microtasks", `exports = function() { const f = () => Promise.resolve().then(f); f(); return 1 }`, false, false, jsfunc.ErrTimeout, "timed out"},
	{"allocating arrays", `exports = function() { const a = []; for (;;) a.push(new Array(1000).fill(1)) }`, false, true, jsfunc.ErrLimit, "heap"},
	{"doubling a string", `exports = function() { let s = "x"; for (;;) s += s }`, false, true, jsfunc.ErrLimit, "heap"},
	{"repeat", `exports = function() { return 'x'.repeat(2**30) }`, false, false, jsfunc.ErrLimit, "String.prototype.repeat"},
	{"padEnd", `exports = function() { return ''.padEnd(2**30) }`, false, false, jsfunc.ErrLimit, "String.prototype.padEnd"},
	{"join", `exports = function() { return new Array(2**30).join('x') }`, false, false, jsfunc.ErrLimit, "Array.prototype.join"},
	{"fill", `exports = function() { return new Array(2**28).fill(0).length }`, false, false, jsfunc.ErrLimit, "Array.prototype.fill"},
	{"typed array", `exports = function() { return new Uint8Array(2**31).length }`, false, false, jsfunc.ErrThrown, "ReferenceError: Uint8Array is not defined"},
	{"limit cannot be caught", `exports = function() { try { 'x'.repeat(2**30) } catch (e) { return "caught" } }`, false, false, jsfunc.ErrLimit, "repeat"},
	{"a bounded builtin still throws", `exports = function() { try { "x".repeat(-1) } catch (e) { throw new Error("caught " + e.name) } }`, false, false, jsfunc.ErrThrown, "caught RangeError"},
	{"apply with a huge array", `exports = function() { return Math.max.apply(null, new Array(2**28)) }`, false, false, jsfunc.ErrLimit, "Function.prototype.apply"},
	{"Array.from a huge length", `exports = function() { return Array.from({length: 2**28}).length }`, false, false, jsfunc.ErrLimit, "Array.from"},
	{"deep recursion", `function f(n) { return f(n + 1) + 1 } exports = function() { return f(0) }`, false, false, jsfunc.ErrLimit, "call stack"},
	{"throw 42", `exports = function() { throw 42 }`, false, false, jsfunc.ErrThrown, "thrown value 42"},
	{"throw null", `exports = function() { throw null }`, false, false, jsfunc.ErrThrown, "thrown value null"},
	{"throw {}", `exports = function() { throw {} }`, false, false, jsfunc.ErrThrown, "thrown value {}"},
	{"throw an Error", `exports = function() { throw new TypeError("bad input") }`, false, false, jsfunc.ErrThrown, "TypeError: bad input at exports (functions/f.js:1:30"},
	{"throw at load", `throw new Error("at load"); exports = function() {}`, false, false, jsfunc.ErrThrown, "at load"},
	{"throwing getter", `exports = function() { return {get x() { throw new Error("boom") }} }`, false, false, jsfunc.ErrThrown, "boom"},
	{"thrown object with throwing getter", `exports = function() { throw {get x() { throw 1 }} }`, false, false, jsfunc.ErrThrown, "thrown value"},
	{"rejected with a non-Error", `exports = function() { return Promise.reject(7) }`, false, false, jsfunc.ErrThrown, "promise rejected: thrown value 7"},
	{"async throw", `exports = async function() { throw "nope" }`, false, false, jsfunc.ErrThrown, `promise rejected: thrown value "nope"`},
	{"never settled", `exports = function() { return new Promise(() => {}) }`, false, false, jsfunc.ErrNeverSettled, "still pending"},
	{"awaits forever", `exports = async function() { await new Promise(() => {}); return 1 }`, false, false, jsfunc.ErrNeverSettled, "still pending"},
	{"returns a function", `exports = function() { return () => 1 }`, false, false, jsfunc.ErrResult, "a function has no BSON form"},
	{"returns a nested function", `exports = function() { return {a: [1, () => 1]} }`, false, false, jsfunc.ErrResult, "/a/1: a function has no BSON form"},
	{"returns a Symbol", `exports = function() { return Symbol("s") }`, false, false, jsfunc.ErrResult, "a Symbol has no BSON form"},
	{"returns a BigInt", `exports = function() { return 10n }`, false, false, jsfunc.ErrResult, "a BigInt has no BSON form"},
	{"returns a cycle", `exports = function() { const o = {}; o.self = o; return o }`, false, false, jsfunc.ErrResult, "/self: a cyclic value"},
	{"returns undefined inside", `exports = function() { return {a: undefined} }`, false, false, jsfunc.ErrResult, "/a: undefined has no BSON form"},
	{"returns a cursor", `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").find({}) }`, true, false, jsfunc.ErrResult, "cursor"},
	{"services before Bind", `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").findOne({}) }`, false, false, jsfunc.ErrNotBound, "Bind"},
	{"services before Bind cannot be caught", `exports = function() { try { context.services.get("mongodb-atlas") } catch (e) { return 1 } }`, false, false, jsfunc.ErrNotBound, "Bind"},
	{"third-party service", `exports = function() { return context.services.get("myHttp").get({url: "http://x"}) }`, true, false, jsfunc.ErrUnavailable, "third-party"},
	{"context.http", `exports = function() { return context.http.get({url: "http://x"}) }`, false, false, jsfunc.ErrUnavailable, "context.http"},
	{"require", `exports = function() { return require("fs").readFileSync("/etc/passwd") }`, false, false, jsfunc.ErrUnavailable, `require("fs")`},
	{"utils.jwt", `exports = function() { return utils.jwt.encode("HS256", {}, "s") }`, false, false, jsfunc.ErrUnavailable, "utils.jwt"},
	{"infinite execute recursion", `exports = function() { return context.functions.execute("f") }`, false, false, jsfunc.ErrLimit, "nested deeper than 8"},
	{"depth limit cannot be caught", `exports = function() { try { return context.functions.execute("f") } catch (e) { return "caught" } }`, false, false, jsfunc.ErrLimit, "nested deeper"},
	{"exports no function", `exports = 42`, false, false, jsfunc.ErrNotFound, "assigns no function to exports"},
	{"too many operations", `exports = async function() { const c = context.services.get("mongodb-atlas").db("d").collection("c"); for (;;) await c.findOne({}) }`, true, false, jsfunc.ErrLimit, "1000 database operations"},
	{"huge result", `exports = function() { const a = []; for (let i = 0; i < 20000; i++) a.push("x".repeat(100)); return a }`, false, true, jsfunc.ErrLimit, "larger than 1048576 bytes"},
	{"deep result", `exports = function() { let o = {}; for (let i = 0; i < 200; i++) o = {o}; return o }`, false, false, jsfunc.ErrLimit, "nested deeper than 100"},
}

func TestHostile(t *testing.T) {
	for _, c := range hostile {
		t.Run(c.name, func(t *testing.T) {
			timeout := 300 * time.Millisecond
			if c.slow {
				timeout = 10 * time.Second
			}
			fs := load(t, testApp(map[string]string{"f": c.src}),
				jsfunc.WithTimeout(timeout), jsfunc.WithMemoryLimit(64<<20), jsfunc.WithMaxResultBytes(1<<20))
			if c.bind {
				if err := fs.Bind(newSliceData(nil)); err != nil {
					t.Fatal(err)
				}
			}
			start := time.Now()
			v, err := fs.Run(context.Background(), jsfunc.Call{Name: "f"})
			if err == nil {
				t.Fatalf("got %v, want an error", v)
			}
			if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
				t.Errorf("got %v, want %v with %q", err, c.want, c.msg)
			}
			if d := time.Since(start); d > timeout+time.Second {
				t.Errorf("took %v", d)
			}
			t.Logf("%v (%v)", err, time.Since(start).Round(time.Millisecond))
		})
		runtime.GC()
	}
}

// TestNoLeakBetweenCalls: what one call does to the globals, another call
// never sees, also when calls run at once.
func TestNoLeakBetweenCalls(t *testing.T) {
	src := `exports = function(i) {
		const seen = [typeof globalThis.leak, typeof Array.prototype.leak, String.prototype.trim === undefined, typeof context.leak,
			new BSON.ObjectId("5e58667d902d38559c802b13").toHexString()];
		globalThis.leak = i; Array.prototype.leak = i; String.prototype.trim = undefined; context.leak = i;
		BSON.ObjectId.prototype.toHexString = () => "pwned";
		return seen;
	}`
	fs := load(t, testApp(map[string]string{"f": src}))
	want := `["undefined","undefined",false,"undefined","5e58667d902d38559c802b13"]`
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			v, err := fs.Run(context.Background(), jsfunc.Call{Name: "f", Args: []value.Value{value.Int32(int32(i))}})
			if err != nil {
				errs <- err
				return
			}
			if v.ExtJSON() != want {
				errs <- fmt.Errorf("call %d saw %s, want %s", i, v.ExtJSON(), want)
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
