package jsfunc_test

import (
	"context"
	"errors"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// goInternals matches what of rulegate's Go code a value might carry: a
// package path, a Go method value's name, a reflect frame.
var goInternals = regexp.MustCompile(`github\.com/|\(\*[a-z]+\)|reflect\.|func\d+|-fm\b`)

// A function sees no Go object and no Go name: the error a collection
// method throws is a plain Error (no .value holding the Go error, whose
// methods Error, Unwrap and the fields of the errors it wraps a function
// could call and read, and set), the host functions' names and sources
// are not Go method names, and a stack has no native frame named after
// Go code. Found by calling e.value.Unwrap() on a caught insertOne
// error: it threw the wrapped Go error, whose exported fields (a
// *gate.DeniedError's Namespace, Role, Reason; a mongo.WriteException's
// Raw server reply) came out one by one.
func TestReviewNoGoObjectsInJavaScript(t *testing.T) {
	c := `context.services.get("mongodb-atlas").db("d").collection("c")`
	for name, src := range map[string]string{
		"error value":   `exports = async function() { try { await ` + c + `.insertOne(5) } catch (e) { return e.value === undefined ? "none" : "Go object: " + typeof e.value.Unwrap + " " + typeof e.value.Error + " " + Object.keys(e.value).join(",") } }`,
		"error stack":   `exports = async function() { try { await ` + c + `.insertOne(5) } catch (e) { return e.stack } }`,
		"names":         `exports = function() { return [` + c + `.insertOne.name, context.services.get.name, BSON.ObjectId.name, EJSON.stringify.name, context.functions.execute.name, console.log.name, require.name, context.values.get.name].join(" ") }`,
		"sources":       `exports = function() { return String(` + c + `.findOne) + String(context.functions.execute) + String(BSON.ObjectId) }`,
		"bson error":    `exports = function() { try { new BSON.ObjectId("zz") } catch (e) { return e.stack } }`,
		"ejson error":   `exports = function() { try { EJSON.parse('[' .repeat(200) + ']'.repeat(200)) } catch (e) { return e.stack } }`,
		"execute error": `exports = function() { try { context.functions.execute("nope") } catch (e) { return [e.stack, e.value === undefined] } }`,
	} {
		t.Run(name, func(t *testing.T) {
			fs := load(t, testApp(map[string]string{"f": src}))
			if err := fs.Bind(newSliceData(nil)); err != nil {
				t.Fatal(err)
			}
			v, err := fs.Run(context.Background(), jsfunc.Call{Name: "f"})
			if err != nil {
				t.Fatal(err)
			}
			if s := v.ExtJSON(); goInternals.MatchString(s) || regexp.MustCompile(`Go object|"function"`).MatchString(s) {
				t.Errorf("got %s, want no Go object or name", s)
			}
		})
	}
}

// A function configured to run as a chosen user (run_as_user_id, or
// run_as_user_id_script_source), which rulegate does not do, fails every
// call, as rules/function-config warns ("each call fails and denies"):
// never run as the caller, whose rules are not the chosen user's. Found
// in makesitgo's pushpull export (utils/eggcorn has run_as_user_id):
// the call ran as the caller. (Failing; for h-jsrt.)
func TestReviewRunAsUserIDFails(t *testing.T) {
	for name, cfg := range map[string]func(*rules.JSFunction){
		"run_as_user_id": func(f *rules.JSFunction) { f.RunAsUserID = "624475eca51828cf7fd6bc64" },
		"run_as_user_id_script_source": func(f *rules.JSFunction) {
			f.RunAsUserIDScriptSource = `exports = function() { return "624475eca51828cf7fd6bc64" }`
		},
	} {
		t.Run(name, func(t *testing.T) {
			fs := load(t, testApp(map[string]string{"f": `exports = function() { return context.user.id || "no id" }`, "g": `exports = function() { return context.functions.execute("f") }`}, func(f *rules.JSFunction) {
				if f.Name == "f" {
					cfg(f)
				}
			}))
			for _, c := range []jsfunc.Call{{Name: "f", User: user(t, `{"id": "caller"}`), FromClient: true}, {Name: "g", User: user(t, `{"id": "caller"}`)}} {
				if v, err := fs.Run(context.Background(), c); err == nil {
					t.Errorf("%s: got %s, want an error (rulegate does not run a function as a chosen user)", c.Name, v.ExtJSON())
				}
			}
			if _, err := fs.Call(context.Background(), "f", nil, evaluator.FuncEnv{}); err == nil {
				t.Errorf("rule call: no error")
			}
		})
	}
}

// A call that timed out in a native builtin leaves nothing running: a
// backtracking regular expression (a lookahead makes goja use regexp2,
// whose matches have no time limit by default) went on in the background
// after the caller got ErrTimeout, for as long as the match takes (here
// seconds, with a longer input years), and every client call of a
// function that builds a RegExp from its argument started one more.
// Found with /^(a|aa)+(?=c)/ on 34 a's. (Failing; for h-jsrt.)
func TestReviewNoBuiltinOutlivesItsCall(t *testing.T) {
	fs := load(t, testApp(map[string]string{"f": `exports = function(p, s) { return new RegExp(p).test(s) }`}), jsfunc.WithTimeout(100*time.Millisecond))
	args := []value.Value{value.String(`^(a|aa)+(?=c)`), value.String(strings.Repeat("a", 34))}
	if _, err := fs.Run(context.Background(), jsfunc.Call{Name: "f", Args: args}); !errors.Is(err, jsfunc.ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	matching := func() bool {
		buf := make([]byte, 1<<20)
		return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "regexp2/v2.(*Runner)") // (a match, not regexp2's clock goroutine)
	}
	deadline := time.Now().Add(time.Second)
	for matching() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if matching() {
		t.Errorf("a second after the call timed out, the match still runs")
	}
}

// A Map is not silently an empty document: js-bson, App Services'
// serializer, writes a Map as the document of its entries, and rulegate
// wrote {} for a Map result or a Map in a document inserted, losing its
// entries without an error. Either its entries or an error (fail closed)
// will do. Found returning new Map([["a", 1]]). (Failing; for h-jsrt.)
func TestReviewMapIsNotEmpty(t *testing.T) {
	fs := load(t, testApp(map[string]string{
		"result": `exports = function() { return {m: new Map([["a", 1]])} }`,
		"insert": `exports = async function() { const c = context.services.get("mongodb-atlas").db("d").collection("c"); await c.insertOne({m: new Map([["a", 1]])}); return {m: (await c.findOne({})).m} }`,
	}))
	if err := fs.Bind(newSliceData(nil)); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"result", "insert"} {
		v, err := fs.Run(context.Background(), jsfunc.Call{Name: name})
		if err == nil && v.ExtJSON() == `{"m":{}}` {
			t.Errorf("%s: got %s, want the Map's entries or an error", name, v.ExtJSON())
		}
	}
}
