package jsfunc_test

import (
	"context"
	"regexp"
	"testing"

	"github.com/rulegate/rulegate/jsfunc"
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
