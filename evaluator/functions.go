package evaluator

// %function plumbing: the functions an app's rules call
// (mongodb/docs-app-services source/rules/expressions.txt, "Call a
// Function"), as Go functions (WithFunction) or a FunctionSet
// (WithFunctions). The evaluator runs no function language itself:
// package exprfunc implements a FunctionSet for the functions/<name>.expr
// files of an app.

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// CodeFunctionName: a Go function (WithFunction) has an empty name or a
// nil Func.
const CodeFunctionName = "function/name"

// ErrFunctionCall is wrapped by every error of a %function call, so
// errors.Is finds it in the error Evaluate, ReadFilter and WriteFilter
// return. A FunctionSet's errors may wrap it themselves (and carry a
// *source.Error, as exprfunc's do); those that do not are wrapped as Go
// functions' errors are: "evaluator: function call failed: <name>: <err>".
var ErrFunctionCall = errors.New("evaluator: function call failed")

// ErrFunctionThrew is wrapped by the error of a function that ran and
// failed as App Services' functions throw (a thrown error, a rejected
// promise, a time or memory limit): the expression that calls it
// evaluates to false, as source/functions.txt says ("If the function
// throws an error, the expression evaluates to false"). Its value is
// missing, which no comparison matches and which makes a filter's
// apply_when unknown, so the filter applies (a failure never widens a
// filter away). A function error that does not wrap it (a function that
// could not be run at all: not provided, unknown, not allowed) denies the
// decision instead (fail closed). A FunctionSet or Go function wraps it to
// say its function threw.
var ErrFunctionThrew = errors.New("evaluator: the function threw")

// ErrJSFunction is wrapped by the error of a call to a function the
// export implements in JavaScript (rules.App.JSFunctions) that no Go
// function or FunctionSet provides: the call fails and access is denied.
// A function with its source runs when package jsfunc's FunctionSet is
// given (WithFunctions); one the export configures without a source
// (rules/js-function warns of it) runs only as a Go function.
var ErrJSFunction = errors.New("evaluator: JavaScript function not provided")

// Func is a Go function that rule expressions call with %function. It
// receives the evaluated arguments and returns one value; an error denies
// access (fail closed). Funcs must be safe for concurrent use and should
// be pure: a call whose arguments are all per-request values is made once
// per request.
type Func func(ctx context.Context, args []value.Value, env FuncEnv) (value.Value, error)

// FuncEnv is what a function sees of the request that calls it.
type FuncEnv struct {
	// Namespace is "db.coll" of the request.
	Namespace string
	// Inputs are the request-phase inputs (%%user, %%request, ...).
	Inputs *expansion.Inputs
}

// FunctionSet is a set of named functions that %function can call, such
// as an app's function files compiled by package exprfunc. It must be
// immutable and safe for concurrent use.
type FunctionSet interface {
	// Names returns the names of the functions of the set.
	Names() []string
	// Call calls the function name, one of Names, as a Func is called.
	Call(ctx context.Context, name string, args []value.Value, env FuncEnv) (value.Value, error)
}

// functions are what a Program calls: the Go functions of WithFunction,
// which take precedence, then the FunctionSet of WithFunctions.
type functions struct {
	goFuncs  map[string]Func
	set      FunctionSet
	inSet    map[string]bool              // the set's names that no Go function shadows
	shadowed []string                     // the set's names that a Go function shadows, sorted
	files    map[string]bool              // the names of the app's function files
	js       map[string]*rules.JSFunction // the app's JavaScript functions nothing provides
}

// newFunctions registers the Go functions and the set of a Compile; a Go
// function with an empty name or a nil Func is an error (function/name).
func newFunctions(app *rules.App, goFuncs map[string]Func, set FunctionSet) (*functions, source.ErrorList) {
	fs := &functions{goFuncs: map[string]Func{}, set: set, inSet: map[string]bool{}, files: map[string]bool{}}
	var errs source.ErrorList
	for name, f := range goFuncs {
		if name == "" || f == nil {
			errs.Add(&source.Error{Code: CodeFunctionName, Msg: fmt.Sprintf("Go function %q: a function needs a name and a non-nil Func", name)})
			continue
		}
		fs.goFuncs[name] = f
	}
	if set != nil {
		for _, name := range set.Names() {
			if _, ok := fs.goFuncs[name]; ok {
				fs.shadowed = append(fs.shadowed, name)
			} else {
				fs.inSet[name] = true
			}
		}
		sort.Strings(fs.shadowed)
	}
	for _, fn := range app.Functions {
		fs.files[fn.Name] = true
	}
	// The export's JavaScript functions that nothing provides compile,
	// and each call fails (rules/js-function warns of them).
	fs.js = map[string]*rules.JSFunction{}
	for _, js := range app.JSFunctions {
		if !fs.has(js.Name) {
			fs.js[js.Name] = js
		}
	}
	errs.Sort()
	return fs, errs
}

// names returns the name of every function, for rules.Validate.
func (fs *functions) names() []string {
	out := make([]string, 0, len(fs.goFuncs)+len(fs.inSet))
	for name := range fs.goFuncs {
		out = append(out, name)
	}
	for name := range fs.inSet {
		out = append(out, name)
	}
	return out
}

func (fs *functions) has(name string) bool {
	_, ok := fs.goFuncs[name]
	_, js := fs.js[name]
	return ok || fs.inSet[name] || js
}

// unknown is the message of a call to a function that is not registered:
// rules.Validate accepts a call to an app's function file, which only a
// set runs.
func (fs *functions) unknown(name string) string {
	msg := fmt.Sprintf("unknown function %q", name)
	if fs.files[name] {
		msg += fmt.Sprintf(": functions/%s.expr is not loaded (install the app's functions with WithFunctions)", name)
	}
	return msg
}

func (fs *functions) call(ctx context.Context, name string, args []value.Value, env FuncEnv) (value.Value, error) {
	var v value.Value
	var err error
	if f, ok := fs.goFuncs[name]; ok {
		v, err = f(ctx, args, env)
	} else if js, ok := fs.js[name]; ok {
		if js.SourceFile == "" {
			err = fmt.Errorf("%w: %s is JavaScript (%s) and the export has no source for it: provide it with WithFunction", ErrJSFunction, name, js.File)
		} else {
			err = fmt.Errorf("%w: %s is JavaScript (%s), which no FunctionSet of the program runs: run it with WithFunctions (package jsfunc) or provide it with WithFunction", ErrJSFunction, name, js.File)
		}
	} else {
		v, err = fs.set.Call(ctx, name, args, env)
	}
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, ErrFunctionCall):
		return value.Value{}, err
	}
	return value.Value{}, fmt.Errorf("%w: %s: %w", ErrFunctionCall, name, err)
}

// ShadowedFunctions returns the names of the functions of the
// WithFunctions set that a WithFunction Go function of the same name
// replaces, sorted.
func (p *Program) ShadowedFunctions() []string {
	return append([]string(nil), p.fns.shadowed...)
}
