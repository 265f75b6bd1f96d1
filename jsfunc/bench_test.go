package jsfunc_test

import (
	"context"
	"testing"

	"github.com/dop251/goja"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/value"
)

const benchSrc = `exports = function(email) {
	return context.services.get("mongodb-atlas").db("wildaid").collection("User").findOne({email}).then(u => !!(u && u.global && u.global.admin)) }`

func benchData() *sliceData {
	return newSliceData(map[string][]any{"wildaid.User": {map[string]any{"email": "a@x", "global": map[string]any{"admin": true}}}})
}

// BenchmarkWarmCall: a function that does a findOne, compiled once.
func BenchmarkWarmCall(b *testing.B) {
	fs := load(b, testApp(map[string]string{"isGlobalAdmin": benchSrc}))
	if err := fs.Bind(benchData()); err != nil {
		b.Fatal(err)
	}
	call := jsfunc.Call{Name: "isGlobalAdmin", Args: []value.Value{value.String("a@x")}}
	b.ReportAllocs()
	for b.Loop() {
		if v, err := fs.Run(context.Background(), call); err != nil || v.ExtJSON() != "true" {
			b.Fatal(v, err)
		}
	}
}

// BenchmarkColdCall: Load, Bind and one call.
func BenchmarkColdCall(b *testing.B) {
	app := testApp(map[string]string{"isGlobalAdmin": benchSrc})
	call := jsfunc.Call{Name: "isGlobalAdmin", Args: []value.Value{value.String("a@x")}}
	d := benchData()
	b.ReportAllocs()
	for b.Loop() {
		fs := load(b, app)
		if err := fs.Bind(d); err != nil {
			b.Fatal(err)
		}
		if _, err := fs.Run(context.Background(), call); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEmptyCall: the per-call overhead alone, a function that
// returns its argument.
func BenchmarkEmptyCall(b *testing.B) {
	fs := load(b, testApp(map[string]string{"id": `exports = function(x) { return x }`}))
	call := jsfunc.Call{Name: "id", Args: []value.Value{value.Int32(1)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fs.Run(context.Background(), call); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGojaNew: a bare goja runtime, the floor of a fresh runtime
// per call.
func BenchmarkGojaNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = goja.New()
	}
}

// BenchmarkRuleDecision: a rule whose apply_when calls the JavaScript
// function, decided with a warm Functions.
func BenchmarkRuleDecision(b *testing.B) {
	app := loadAppFS(b, map[string]string{
		"data_sources/mongodb-atlas/wildaid/Boat/rules.json": `{"roles": [{"name": "admin", "read": true,
			"apply_when": {"%%true": {"%function": {"name": "isGlobalAdmin", "arguments": ["%%user.data.email"]}}}}]}`,
		"functions/isGlobalAdmin.js": benchSrc,
	})
	fs := load(b, app)
	if err := fs.Bind(benchData()); err != nil {
		b.Fatal(err)
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fs))
	if err != nil {
		b.Fatal(err)
	}
	u := user(b, `{"id": "u", "data": {"email": "a@x"}}`)
	caller := evaluator.Caller{Namespace: "wildaid.Boat", Inputs: expansion.Inputs{User: u}}
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: []byte{5, 0, 0, 0, 0}}
	b.ReportAllocs()
	for b.Loop() {
		if d, err := prog.Evaluate(context.Background(), caller, doc); err != nil || !d.Allowed {
			b.Fatal(d, err)
		}
	}
}
