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

	"github.com/rulegate/rulegate/evaluator"
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
	// Each job allocates: the heap bound may end it first.
	{"endless microtasks", `exports = function() { const f = () => Promise.resolve().then(f); f(); return 1 }`, false, false, jsfunc.ErrTimeout, "timed out|heap"},
	{"allocating arrays", `exports = function() { const a = []; for (;;) a.push(new Array(1000).fill(1)) }`, false, true, jsfunc.ErrLimit, "heap"},
	{"doubling a string", `exports = function() { let s = "x"; for (;;) s += s }`, false, true, jsfunc.ErrLimit, "heap"},
	{"repeat", `exports = function() { return 'x'.repeat(2**30) }`, false, false, jsfunc.ErrLimit, "String.prototype.repeat"},
	{"padEnd", `exports = function() { return ''.padEnd(2**30) }`, false, false, jsfunc.ErrLimit, "String.prototype.padEnd"},
	{"join", `exports = function() { const a = []; a.length = 2**30; return a.join('x') }`, false, false, jsfunc.ErrLimit, "Array.prototype.join"},
	{"fill", `exports = function() { const a = []; a.length = 2**28; return a.fill(0).length }`, false, false, jsfunc.ErrLimit, "Array.prototype.fill"},
	{"typed array", `exports = function() { return new Uint8Array(2**31).length }`, false, false, jsfunc.ErrThrown, "ReferenceError: Uint8Array is not defined"},
	{"limit cannot be caught", `exports = function() { try { 'x'.repeat(2**30) } catch (e) { return "caught" } }`, false, false, jsfunc.ErrLimit, "repeat"},
	{"Array(n)", `exports = function() { return Math.max(...new Array(2**28)) }`, false, false, jsfunc.ErrLimit, "Array(n)"},
	{"Array(n) through the constructor property", `exports = function() { return [].constructor(2**28).length }`, false, false, jsfunc.ErrLimit, "Array(n)"},
	{"Array(n) through a species", `exports = function() { const a = []; a.length = 2**28; return a.map(x => x).length }`, false, false, jsfunc.ErrLimit, "Array(n)"},
	{"spread of a huge length", `exports = function() { const a = []; a.length = 2**28; return Math.max(...a) }`, false, false, jsfunc.ErrLimit, "Array.prototype[Symbol.iterator]"},
	{"spread into an array", `exports = function() { const a = []; a.length = 2**28; return [...a].length }`, false, false, jsfunc.ErrLimit, "Array.prototype[Symbol.iterator]"},
	{"concat of a huge length", `exports = function() { const a = []; a.length = 2**28; return a.concat(a).length }`, false, false, jsfunc.ErrLimit, "Array.prototype.concat"},
	{"sort of a huge length", `exports = function() { const a = []; a[2**28] = 1; return a.sort().length }`, false, false, jsfunc.ErrLimit, "Array.prototype.sort"},
	{"Reflect.apply with a huge array", `exports = function() { const a = []; a.length = 2**28; return Reflect.apply(Math.max, null, a) }`, false, false, jsfunc.ErrLimit, "Reflect.apply"},
	{"JSON.stringify of a huge array", `exports = function() { const a = []; a.length = 2**28; return JSON.stringify(a).length }`, false, false, jsfunc.ErrLimit, "JSON.stringify"},
	{"a bounded builtin still throws", `exports = function() { try { "x".repeat(-1) } catch (e) { throw new Error("caught " + e.name) } }`, false, false, jsfunc.ErrThrown, "caught RangeError"},
	{"apply with a huge array", `exports = function() { const a = []; a.length = 2**28; return Math.max.apply(null, a) }`, false, false, jsfunc.ErrLimit, "Function.prototype.apply"},
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
	{"returns a Map", `exports = function() { return {m: new Map([["a", 1]])} }`, false, false, jsfunc.ErrResult, "/m: a Map has no BSON form"},
	{"returns a nested promise", `exports = async function() { return {p: Promise.resolve(1)} }`, false, false, jsfunc.ErrResult, "/p: a Promise has no BSON form"},
	{"result getter loops", `exports = function() { return {get x() { for (;;) {} }} }`, false, false, jsfunc.ErrTimeout, "timed out"},
	{"result proxy loops", `exports = function() { return new Proxy({}, {ownKeys() { for (;;) {} }}) }`, false, false, jsfunc.ErrTimeout, "timed out"},
	{"returns undefined inside", `exports = function() { return {a: undefined} }`, false, false, jsfunc.ErrResult, "/a: undefined has no BSON form"},
	{"returns a cursor", `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").find({}) }`, true, false, jsfunc.ErrResult, "cursor"},
	{"services before Bind", `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").findOne({}) }`, false, false, jsfunc.ErrNotBound, "Bind"},
	{"services before Bind cannot be caught", `exports = function() { try { context.services.get("mongodb-atlas") } catch (e) { return 1 } }`, false, false, jsfunc.ErrNotBound, "Bind"},
	{"change streams", `exports = function() { return context.services.get("mongodb-atlas").db("d").collection("c").watch() }`, true, false, jsfunc.ErrUnavailable, "change streams"},
	{"third-party service", `exports = function() { return context.services.get("myHttp").get({url: "http://x"}) }`, true, false, jsfunc.ErrUnavailable, "third-party"},
	{"context.http", `exports = function() { return context.http.get({url: "http://x"}) }`, false, false, jsfunc.ErrUnavailable, "context.http"},
	{"require", `exports = function() { return require("fs").readFileSync("/etc/passwd") }`, false, false, jsfunc.ErrUnavailable, `require("fs")`},
	{"utils.crypto.encrypt", `exports = function() { return utils.crypto.encrypt("aes", "m", "k") }`, false, false, jsfunc.ErrUnavailable, "utils.crypto.encrypt"},
	{"utils.jwt", `exports = function() { return utils.jwt.encode("HS256", {}, "s") }`, false, false, jsfunc.ErrUnavailable, "utils.jwt"},
	{"infinite execute recursion", `exports = function() { return context.functions.execute("f") }`, false, false, jsfunc.ErrLimit, "nested deeper than 8"},
	{"depth limit cannot be caught", `exports = function() { try { return context.functions.execute("f") } catch (e) { return "caught" } }`, false, false, jsfunc.ErrLimit, "nested deeper"},
	{"exports no function", `exports = 42`, false, false, jsfunc.ErrNotFound, "assigns no function to exports"},
	{"too many operations", `exports = async function() { const c = context.services.get("mongodb-atlas").db("d").collection("c"); for (;;) await c.findOne({}) }`, true, false, jsfunc.ErrLimit, "1000 database operations"},
	{"huge result", `exports = function() { const a = []; for (let i = 0; i < 20000; i++) a.push("x".repeat(100)); return a }`, false, true, jsfunc.ErrLimit, "larger than 1048576 bytes"},
	{"one huge string in the result", `exports = function() { return {s: "x".repeat(2 << 20)} }`, false, true, jsfunc.ErrLimit, "larger than 1048576 bytes"},
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
			if !(errors.Is(err, c.want) && containsAny(err.Error(), c.msg) || strings.Contains(c.msg, "heap") && errors.Is(err, jsfunc.ErrLimit)) {
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

// containsAny reports whether s holds one of the |-separated parts of
// msg.
func containsAny(s, msg string) bool {
	for _, m := range strings.Split(msg, "|") {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
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

// reentrant is a Data whose reads run a rule that calls the function
// again, as a gate's do when a collection's rules call the function that
// reads it.
type reentrant struct {
	*sliceData
	fs *jsfunc.Functions
}

func (r reentrant) Collection(ctx context.Context, as jsfunc.As, service, db, coll string) (jsfunc.Collection, error) {
	if _, err := r.fs.Call(ctx, "f", nil, evaluator.FuncEnv{Namespace: db + "." + coll, Inputs: as.Inputs}); err != nil {
		return nil, err
	}
	return r.sliceData.Collection(ctx, as, service, db, coll)
}

// TestReentryDepth: function → collection → rule → function recursion
// ends at the depth limit, and the function cannot catch it.
func TestReentryDepth(t *testing.T) {
	fs := load(t, testApp(map[string]string{"f": `exports = function() {
		try { return context.services.get("mongodb-atlas").db("d").collection("c").findOne({}) } catch (e) { return "caught" } }`}),
		jsfunc.WithMaxDepth(4))
	if err := fs.Bind(reentrant{newSliceData(nil), fs}); err != nil {
		t.Fatal(err)
	}
	_, err := fs.Run(context.Background(), jsfunc.Call{Name: "f"})
	if !errors.Is(err, jsfunc.ErrLimit) || !strings.Contains(err.Error(), "nested deeper than 4") {
		t.Errorf("got %v", err)
	}
}

// TestRuleTimeout: a rule call has the short timeout, and denies.
func TestRuleTimeout(t *testing.T) {
	fs := load(t, testApp(map[string]string{"f": `exports = function() { for (;;) {} }`}), jsfunc.WithRuleTimeout(50*time.Millisecond))
	start := time.Now()
	_, err := fs.Call(context.Background(), "f", nil, evaluator.FuncEnv{})
	if !errors.Is(err, jsfunc.ErrTimeout) || !errors.Is(err, evaluator.ErrFunctionCall) || time.Since(start) > 2*time.Second {
		t.Errorf("got %v after %v", err, time.Since(start))
	}
}
