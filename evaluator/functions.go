package evaluator

// %function support: the functions an app's rules can call, written in Go
// (WithFunction) or as functions/<name>.expr files in the expr language
// (github.com/expr-lang/expr). App Services functions are JavaScript
// (mongodb/docs-app-services source/rules/expressions.txt, "Call a
// Function"); rulegate runs expr instead: no I/O, no globals, a node limit
// at compile time and a memory budget at run time.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Stable codes of function diagnostics.
const (
	CodeFunctionCompile  = "function/compile"  // a functions/<name>.expr file does not compile
	CodeFunctionName     = "function/name"     // a Go function has an empty name or is nil
	CodeFunctionUnknown  = "function/unknown"  // a call names no function
	CodeFunctionRuntime  = "function/runtime"  // an expr function failed while running
	CodeFunctionBudget   = "function/budget"   // an expr function exceeded its memory budget
	CodeFunctionArgument = "function/argument" // an argument cannot be given to an expr function
	CodeFunctionResult   = "function/result"   // a result cannot be converted to a BSON value
	CodeFunctionCanceled = "function/canceled" // the context was done before the call
)

// Default limits of expr functions.
const (
	// DefaultFuncMaxNodes bounds the syntax tree of a function at compile
	// time (expr.MaxNodes).
	DefaultFuncMaxNodes = 10_000
	// DefaultFuncMemoryBudget bounds what one call may allocate in the expr
	// VM (ranges, built arrays and maps, repeat, sort).
	DefaultFuncMemoryBudget = 1_000_000
	// DefaultFuncMaxSteps bounds the closure evaluations of one call (each
	// element that all, any, filter, map, count, reduce, ... visits), so
	// nested loops over large arguments cannot run for long.
	DefaultFuncMaxSteps = 100_000
)

// FuncLimits bound the expr functions of a Functions. Zero fields mean the
// defaults.
type FuncLimits struct {
	// MaxNodes is the largest syntax tree a function may have.
	MaxNodes uint
	// MemoryBudget is the expr VM's memory budget of one call.
	MemoryBudget uint
	// MaxSteps is the number of closure evaluations one call may make.
	// The context is checked every 1024 steps, so a canceled context stops
	// a long call.
	MaxSteps int
}

// ErrFunctionCall is wrapped by the errors of (*Functions).Call; errors.As
// finds the *source.Error with the code and, for expr functions, the
// position in the .expr file.
var ErrFunctionCall = errors.New("evaluator: function call failed")

// Functions is the registry of the functions %function can call: Go
// functions and the app's functions/<name>.expr files, compiled once. It
// is immutable and safe for concurrent use.
//
// An expr function sees these variables, and nothing else:
//
//	| name        | type             | value                                                        |
//	|-------------|------------------|--------------------------------------------------------------|
//	| arguments   | []any            | the evaluated %function arguments                            |
//	| user        | map[string]any   | the caller: id, type, data, custom_data, identities (%%user) |
//	| values      | map[string]any   | the app's values (%%values)                                  |
//	| request     | map[string]any   | the request fields (%%request)                               |
//	| environment | map[string]any   | tag and values (%%environment)                               |
//	| namespace   | string           | "db.coll" of the request                                     |
//
// A missing input leaves its map nil (absent keys read as nil; use ?. to
// follow paths that may be missing). Functions do not see %%root or
// %%prevRoot: pass them as arguments ({"%function": {"name": "f",
// "arguments": ["%%root.owner"]}}).
//
// BSON values become Go values as follows: documents map[string]any,
// arrays []any, int32 and int64 int, doubles float64, strings string,
// booleans bool, null and Missing nil, dates time.Time (UTC), ObjectIds
// bson.ObjectID (compare with ==, or call .Hex()), decimals bson.Decimal128
// and any other type the driver's Go type. Results go back through
// value.FromGo, maps with their keys sorted so results are deterministic;
// a result that has no BSON form is an error (function/result).
//
// Every expr builtin is available (none does I/O; now() reads the clock).
// A call is bounded by FuncLimits: MemoryBudget bounds what it builds, and
// MaxSteps bounds its loops (every closure body is counted, and the
// context is checked while it runs). Without loops, a call's work is
// bounded by the size of its syntax tree (MaxNodes) and of its inputs.
type Functions struct {
	goFuncs  map[string]Func
	exprs    map[string]*exprFunc
	names    []string
	shadowed []string
	budget   uint
	steps    int
	vms      sync.Pool
}

// exprFunc is one compiled functions/<name>.expr.
type exprFunc struct {
	fn      *rules.Function
	program *vm.Program
	// inputs says which parts of each input map the program reads, so a
	// call converts only those.
	inputs [numInputs]inputUse
}

// The input maps of the environment.
const (
	inUser = iota
	inValues
	inRequest
	inEnvironment
	numInputs
)

var inputNames = [numInputs]string{"user", "values", "request", "environment"}

// inputUse says what of one input map a program reads: nothing, some
// top-level keys (every use is name.key or name?.key), or all of it.
type inputUse struct {
	idents  int // uses of the name
	members int // uses as name.<constant key>
	keys    []string
}

func (u *inputUse) needed() bool { return u.idents > 0 }
func (u *inputUse) all() bool    { return u.idents > u.members }

func (u *inputUse) wants(key string) bool {
	if u.all() {
		return true
	}
	for _, k := range u.keys {
		if k == key {
			return true
		}
	}
	return false
}

// identCollector records how a program reads the input maps.
type identCollector struct{ uses [numInputs]inputUse }

func inputIndex(name string) int {
	for i, n := range inputNames {
		if n == name {
			return i
		}
	}
	return -1
}

func (c *identCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if i := inputIndex(n.Value); i >= 0 {
			c.uses[i].idents++
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok {
			return
		}
		key, ok := n.Property.(*ast.StringNode)
		if !ok {
			return
		}
		if i := inputIndex(id.Value); i >= 0 {
			u := &c.uses[i]
			u.members++
			for _, k := range u.keys {
				if k == key.Value {
					return
				}
			}
			u.keys = append(u.keys, key.Value)
		}
	}
}

// exprEnv is the declared environment of expr functions.
type exprEnv struct {
	Arguments   []any          `expr:"arguments"`
	User        map[string]any `expr:"user"`
	Values      map[string]any `expr:"values"`
	Request     map[string]any `expr:"request"`
	Environment map[string]any `expr:"environment"`
	Namespace   string         `expr:"namespace"`

	ctx   context.Context
	steps int // left
}

// errStepBudget is returned when a call exceeds FuncLimits.MaxSteps.
var errStepBudget = errors.New("step budget exceeded (too many loop iterations)")

// RulegateStep counts one closure evaluation and returns x. The compiler
// wraps every closure body in a call to it (stepPatcher).
func (e *exprEnv) RulegateStep(x any) (any, error) {
	e.steps--
	if e.steps < 0 {
		return nil, errStepBudget
	}
	if e.steps&1023 == 0 && e.ctx != nil {
		if err := e.ctx.Err(); err != nil {
			return nil, err
		}
	}
	return x, nil
}

// stepPatcher wraps the body of every predicate (closure) in RulegateStep(...).
type stepPatcher struct{}

func (stepPatcher) Visit(node *ast.Node) {
	if c, ok := (*node).(*ast.PredicateNode); ok {
		if call, ok := c.Node.(*ast.CallNode); ok {
			if id, ok := call.Callee.(*ast.IdentifierNode); ok && id.Value == "RulegateStep" {
				return
			}
		}
		body := c.Node
		call := &ast.CallNode{Callee: &ast.IdentifierNode{Value: "RulegateStep"}, Arguments: []ast.Node{body}}
		call.SetLocation(body.Location())
		call.Callee.SetLocation(body.Location())
		c.Node = call
	}
}

// NewFunctions compiles every function of app (app.Functions, the
// functions/<name>.expr files; app may be nil) with github.com/expr-lang/expr
// against the declared environment described at Functions, and registers
// goFuncs beside them. A Go function takes precedence over an expr
// function of the same name (as WithFunction documents); Shadowed lists
// such names. Every compile error is reported, as a source.ErrorList of
// *source.Error at file:line:col of the .expr file with code
// function/compile; a Go function with an empty name or a nil Func is
// function/name.
func NewFunctions(app *rules.App, goFuncs map[string]Func, limits FuncLimits) (*Functions, error) {
	if limits.MaxNodes == 0 {
		limits.MaxNodes = DefaultFuncMaxNodes
	}
	if limits.MemoryBudget == 0 {
		limits.MemoryBudget = DefaultFuncMemoryBudget
	}
	if limits.MaxSteps <= 0 {
		limits.MaxSteps = DefaultFuncMaxSteps
	}
	fs := &Functions{goFuncs: map[string]Func{}, exprs: map[string]*exprFunc{}, budget: limits.MemoryBudget, steps: limits.MaxSteps}
	fs.vms.New = func() any { return &vm.VM{} }
	var errs source.ErrorList
	for name, f := range goFuncs {
		if name == "" || f == nil {
			errs.Add(&source.Error{Code: CodeFunctionName, Msg: fmt.Sprintf("Go function %q: a function needs a name and a non-nil Func", name)})
			continue
		}
		fs.goFuncs[name] = f
	}
	if app != nil {
		for _, fn := range app.Functions {
			if _, ok := fs.goFuncs[fn.Name]; ok {
				fs.shadowed = append(fs.shadowed, fn.Name)
				continue
			}
			ef, err := compileExprFunc(fn, limits)
			if err != nil {
				errs.Add(err)
				continue
			}
			fs.exprs[fn.Name] = ef
		}
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	for name := range fs.goFuncs {
		fs.names = append(fs.names, name)
	}
	for name := range fs.exprs {
		fs.names = append(fs.names, name)
	}
	sort.Strings(fs.names)
	sort.Strings(fs.shadowed)
	return fs, nil
}

func compileExprFunc(fn *rules.Function, limits FuncLimits) (*exprFunc, *source.Error) {
	ids := &identCollector{}
	prog, err := expr.Compile(fn.Source,
		expr.Env(&exprEnv{}),
		expr.MaxNodes(limits.MaxNodes),
		expr.Patch(ids),
		expr.Patch(stepPatcher{}),
	)
	if err != nil {
		return nil, funcError(fn, err, CodeFunctionCompile, "function "+fn.Name+" does not compile")
	}
	return &exprFunc{fn: fn, program: prog, inputs: ids.uses}, nil
}

// funcError turns an expr error into a *source.Error positioned in the
// function's file.
func funcError(fn *rules.Function, err error, code, what string) *source.Error {
	msg := err.Error()
	off := fn.Offset
	var fe *file.Error
	if errors.As(err, &fe) {
		msg = fe.Message
		off += runeOffset(fn.Source, fe.From)
	}
	e := &source.Error{File: fn.FileName(), Ptr: fn.Ptr, Code: code, Msg: what + ": " + msg}
	if fn.File != nil {
		p := fn.File.Position(off)
		e.Line, e.Col = p.Line, p.Col
	}
	return e
}

// runeOffset returns the byte offset of the n-th rune of s.
func runeOffset(s string, n int) int {
	if n <= 0 {
		return 0
	}
	i := 0
	for off := range s {
		if i == n {
			return off
		}
		i++
	}
	return len(s)
}

// Has reports whether name is a registered function.
func (fs *Functions) Has(name string) bool {
	if fs == nil {
		return false
	}
	if _, ok := fs.goFuncs[name]; ok {
		return true
	}
	_, ok := fs.exprs[name]
	return ok
}

// Names returns the names of every function, sorted.
func (fs *Functions) Names() []string {
	if fs == nil {
		return nil
	}
	return append([]string(nil), fs.names...)
}

// Shadowed returns the names of the expr functions that a Go function of
// the same name replaces, sorted.
func (fs *Functions) Shadowed() []string {
	if fs == nil {
		return nil
	}
	return append([]string(nil), fs.shadowed...)
}

// Call calls the function name with args. Errors wrap ErrFunctionCall and
// carry a *source.Error: function/unknown for a name that is not
// registered, function/canceled when ctx is done, function/runtime (at the
// failing node's file:line:col) or function/budget for an expr function
// that fails or runs out of its memory budget, function/argument and
// function/result for values that cannot cross between BSON and expr.
// Errors of Go functions are wrapped as they are. Callers deny access on
// any error.
func (fs *Functions) Call(ctx context.Context, name string, args []value.Value, env FuncEnv) (value.Value, error) {
	if fs != nil {
		if f, ok := fs.goFuncs[name]; ok {
			v, err := f(ctx, args, env)
			if err != nil {
				return value.Value{}, fmt.Errorf("%w: %s: %w", ErrFunctionCall, name, err)
			}
			return v, nil
		}
	}
	var ef *exprFunc
	if fs != nil {
		ef = fs.exprs[name]
	}
	if ef == nil {
		return value.Value{}, callErr(&source.Error{Code: CodeFunctionUnknown, Msg: fmt.Sprintf("unknown function %q", name)})
	}
	if err := ctx.Err(); err != nil {
		return value.Value{}, callErr(&source.Error{File: ef.fn.FileName(), Code: CodeFunctionCanceled, Msg: "function " + name + ": " + err.Error()})
	}
	in := &exprEnv{Arguments: make([]any, len(args)), Namespace: env.Namespace, ctx: ctx, steps: fs.steps}
	for i, a := range args {
		x, err := toGo(a, 0)
		if err != nil {
			return value.Value{}, callErr(&source.Error{File: ef.fn.FileName(), Code: CodeFunctionArgument, Msg: fmt.Sprintf("function %s: argument %d: %v", name, i, err)})
		}
		in.Arguments[i] = x
	}
	if env.Inputs != nil {
		var err error
		if u := &ef.inputs[inUser]; u.needed() {
			in.User, err = userMap(env.Inputs.User, u)
		}
		for i, b := range [...][]byte{inValues: env.Inputs.Values, inRequest: env.Inputs.Request, inEnvironment: env.Inputs.Environment} {
			if u := &ef.inputs[i]; err == nil && i != inUser && u.needed() {
				var m map[string]any
				m, err = jsonMap(b, u)
				switch i {
				case inValues:
					in.Values = m
				case inRequest:
					in.Request = m
				case inEnvironment:
					in.Environment = m
				}
			}
		}
		if err != nil {
			return value.Value{}, callErr(&source.Error{File: ef.fn.FileName(), Code: CodeFunctionArgument, Msg: fmt.Sprintf("function %s: %v", name, err)})
		}
	}
	machine := fs.vms.Get().(*vm.VM)
	machine.MemoryBudget = fs.budget
	out, err := machine.Run(ef.program, in)
	fs.vms.Put(machine)
	if err != nil {
		code := CodeFunctionRuntime
		switch {
		case strings.Contains(err.Error(), "memory budget exceeded"), errors.Is(err, errStepBudget):
			code = CodeFunctionBudget
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			code = CodeFunctionCanceled
		}
		return value.Value{}, callErr(funcError(ef.fn, err, code, "function "+name))
	}
	v, err := fromGo(out)
	if err != nil {
		return value.Value{}, callErr(&source.Error{File: ef.fn.FileName(), Code: CodeFunctionResult, Msg: fmt.Sprintf("function %s: result: %v", name, err)})
	}
	return v, nil
}

// callError is the *source.Error of a failed call that also matches
// ErrFunctionCall with errors.Is.
type callError struct{ err *source.Error }

func (e *callError) Error() string   { return e.err.Error() }
func (e *callError) Unwrap() []error { return []error{e.err, ErrFunctionCall} }

func callErr(e *source.Error) error { return &callError{err: e} }

// maxConvertDepth bounds the nesting of values converted between BSON and
// Go.
const maxConvertDepth = 200

// toGo converts a BSON value to the Go value an expr function sees.
func toGo(v value.Value, depth int) (any, error) {
	if depth > maxConvertDepth {
		return nil, errors.New("value nested too deeply")
	}
	switch v.Type {
	case 0, bson.TypeNull, bson.TypeUndefined:
		return nil, nil
	case bson.TypeBoolean:
		b, _ := v.BoolOK()
		return b, nil
	case bson.TypeString:
		s, _ := v.StringOK()
		return s, nil
	case bson.TypeInt32:
		n, _ := v.Int32OK()
		return int(n), nil
	case bson.TypeInt64:
		n, _ := v.Int64OK()
		return int(n), nil
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		return f, nil
	case bson.TypeObjectID:
		id, _ := v.ObjectIDOK()
		return id, nil
	case bson.TypeDateTime:
		ms, _ := v.DateTimeOK()
		return time.UnixMilli(ms).UTC(), nil
	case bson.TypeEmbeddedDocument:
		m := map[string]any{}
		var err error
		doc, _ := v.DocumentOK()
		elems, eerr := doc.Elements()
		if eerr != nil {
			return nil, eerr
		}
		for _, e := range elems {
			if m[e.Key()], err = toGo(value.FromRaw(e.Value()), depth+1); err != nil {
				return nil, err
			}
		}
		return m, nil
	case bson.TypeArray:
		out := make([]any, 0, v.Len())
		var err error
		v.Each(func(_ int, e value.Value) bool {
			var x any
			x, err = toGo(e, depth+1)
			out = append(out, x)
			return err != nil
		})
		return out, err
	}
	var x any
	if err := v.RawValue().Unmarshal(&x); err != nil {
		return nil, err
	}
	return x, nil
}

// fromGo converts an expr result to a BSON value: maps become documents
// with sorted keys, slices arrays, and the rest goes through value.FromGo.
func fromGo(x any) (value.Value, error) {
	n, err := normalizeGo(reflect.ValueOf(x), 0)
	if err != nil {
		return value.Value{}, err
	}
	return value.FromGo(n)
}

func normalizeGo(rv reflect.Value, depth int) (any, error) {
	if depth > maxConvertDepth {
		return nil, errors.New("value nested too deeply")
	}
	if !rv.IsValid() {
		return nil, nil
	}
	switch x := rv.Interface().(type) {
	case time.Time, bson.ObjectID, bson.Decimal128, bson.DateTime, bson.Binary, bson.Regex, bson.Timestamp, bson.D, bson.Raw, []byte:
		return x, nil
	}
	switch rv.Kind() {
	case reflect.Interface, reflect.Pointer:
		if rv.IsNil() {
			return nil, nil
		}
		return normalizeGo(rv.Elem(), depth+1)
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return nil, fmt.Errorf("a map with %s keys has no BSON form", rv.Type().Key())
		}
		keys := rv.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		d := make(bson.D, 0, len(keys))
		for _, k := range keys {
			if strings.IndexByte(k.String(), 0) >= 0 || !utf8.ValidString(k.String()) {
				return nil, fmt.Errorf("key %q has no BSON form", k.String())
			}
			e, err := normalizeGo(rv.MapIndex(k), depth+1)
			if err != nil {
				return nil, err
			}
			d = append(d, bson.E{Key: k.String(), Value: e})
		}
		return d, nil
	case reflect.Slice, reflect.Array:
		a := make(bson.A, rv.Len())
		for i := range a {
			e, err := normalizeGo(rv.Index(i), depth+1)
			if err != nil {
				return nil, err
			}
			a[i] = e
		}
		return a, nil
	case reflect.Bool, reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Float32, reflect.Float64:
		return rv.Interface(), nil
	case reflect.Uint, reflect.Uint64:
		u := rv.Uint()
		if u > math.MaxInt64 {
			return nil, fmt.Errorf("%d does not fit in a BSON long", u)
		}
		return int64(u), nil
	}
	return nil, fmt.Errorf("a %s has no BSON form", rv.Type())
}

// userFields are the fields of the user object functions see, and
// userFieldAccessors their %%user accessors, compiled once (an Accessor
// is immutable and safe for concurrent use).
var (
	userFields         = [...]string{"id", "type", "data", "custom_data", "identities"}
	userFieldAccessors = func() (a [len(userFields)]*expansion.Accessor) {
		for i, f := range userFields {
			a[i] = expansion.Compile(expansion.Ref{Root: expansion.RootUser, Path: []string{f}})
		}
		return a
	}()
)

// userMap returns the caller as the user object of App Services: id, type,
// data, custom_data and identities, each present when the user has it and
// the program reads it.
func userMap(u expansion.User, use *inputUse) (map[string]any, error) {
	if u.IsZero() {
		return nil, nil
	}
	m := map[string]any{}
	in := expansion.Inputs{User: u}
	for i, f := range userFields {
		if !use.wants(f) {
			continue
		}
		v, err := userFieldAccessors[i].Resolve(&in)
		if err != nil {
			return nil, fmt.Errorf("user.%s: %w", f, err)
		}
		if v.IsMissing() {
			continue
		}
		if m[f], err = toGo(v, 0); err != nil {
			return nil, fmt.Errorf("user.%s: %w", f, err)
		}
	}
	return m, nil
}

// jsonMap converts the keys of a JSON object input (relaxed extended
// JSON) that the program reads to a map; nil for an absent input.
func jsonMap(b []byte, use *inputUse) (map[string]any, error) {
	if len(b) == 0 {
		return nil, nil
	}
	v, err := expansion.JSONValue(b)
	if err != nil {
		return nil, err
	}
	doc, ok := v.DocumentOK()
	if !ok {
		return nil, errors.New("input is not a JSON object")
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, err
	}
	m := map[string]any{}
	for _, e := range elems {
		k := e.Key()
		if _, seen := m[k]; seen || !use.wants(k) {
			continue // a repeated key: the first, as %%values.<k> reads it
		}
		if m[k], err = toGo(value.FromRaw(e.Value()), 0); err != nil {
			return nil, err
		}
	}
	return m, nil
}
