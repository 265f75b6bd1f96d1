package jsfunc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/dop251/goja"
	"github.com/dop251/goja/parser"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// CodeSyntax is the stable code of a function whose source does not
// compile.
const CodeSyntax = "jsfunc/syntax"

// The errors of a call. Each error of a call from a rule (Call) also
// wraps evaluator.ErrFunctionCall.
var (
	// ErrNotBound: the function used context.services before Bind.
	ErrNotBound = errors.New("jsfunc: no Data bound (Functions.Bind)")
	// ErrAlreadyBound: a second Bind.
	ErrAlreadyBound = errors.New("jsfunc: Data already bound")
	// ErrThrown: the function threw, or its promise was rejected.
	ErrThrown = errors.New("jsfunc: function threw")
	// ErrNeverSettled: the function's promise was still pending when
	// nothing was left to run.
	ErrNeverSettled = errors.New("jsfunc: promise never settled")
	// ErrTimeout: the call ran past its deadline (the context's, or the
	// timeout of WithTimeout / WithRuleTimeout).
	ErrTimeout = errors.New("jsfunc: function timed out")
	// ErrLimit: the call went past a bound: memory (WithMemoryLimit),
	// result size (WithMaxResultBytes), call stack, or the nesting depth of
	// calls (WithMaxDepth).
	ErrLimit = errors.New("jsfunc: function exceeded a limit")
	// ErrResult: the function returned (or passed to the database) a
	// value that has no BSON form: a function, a Symbol, a BigInt, a
	// cyclic object.
	ErrResult = errors.New("jsfunc: value has no BSON form")
	// ErrUnavailable: the function used what rulegate does not provide:
	// require, context.http, a service that is not a MongoDB data source.
	ErrUnavailable = errors.New("jsfunc: not available in rulegate")
)

// The default bounds (see the package documentation for the pages they
// follow).
const (
	// DefaultTimeout is the time limit of a direct call: App Services
	// caps functions at 300 seconds of runtime per request.
	DefaultTimeout = 300 * time.Second
	// DefaultRuleTimeout is the time limit of a %function call from a
	// rule: every request's decision waits on it, so it is far shorter.
	DefaultRuleTimeout = 3 * time.Second
	// DefaultMemoryLimit is the heap growth a call may cause: App
	// Services functions "may use up to 350MB of memory at any time".
	DefaultMemoryLimit = 350 << 20
	// DefaultMaxResultBytes bounds the BSON size of a result, an
	// argument, and every document a function passes to the database:
	// 16 MiB, the BSON document limit.
	DefaultMaxResultBytes = 16 << 20
	// DefaultMaxDepth bounds the nesting of calls: a function that calls
	// a function (context.functions.execute), or reads a collection whose
	// rules call a function, is one level deeper.
	DefaultMaxDepth = 8
)

// maxCallStack is the JavaScript call stack depth of a call
// (goja.Runtime.SetMaxCallStackSize).
const maxCallStack = 1000

// Option configures Load.
type Option func(*config)

type config struct {
	timeout, ruleTimeout time.Duration
	memory               int64
	maxResult            int
	maxDepth             int
	logger               *slog.Logger
}

// WithTimeout sets the time limit of a direct call (Run); d <= 0 means
// DefaultTimeout. The context's deadline, when earlier, wins.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithRuleTimeout sets the time limit of a %function call from a rule
// (Call), and of can_evaluate's; d <= 0 means DefaultRuleTimeout.
func WithRuleTimeout(d time.Duration) Option { return func(c *config) { c.ruleTimeout = d } }

// WithMemoryLimit sets the heap growth a call may cause before it is
// interrupted (ErrLimit); n <= 0 means DefaultMemoryLimit. What this
// bounds, and how tightly, is in the package documentation.
func WithMemoryLimit(n int64) Option { return func(c *config) { c.memory = n } }

// WithMaxResultBytes bounds the BSON size of results, arguments and
// documents (ErrLimit); n <= 0 means DefaultMaxResultBytes.
func WithMaxResultBytes(n int) Option { return func(c *config) { c.maxResult = n } }

// WithMaxDepth bounds the nesting of function calls (ErrLimit); n <= 0
// means DefaultMaxDepth.
func WithMaxDepth(n int) Option { return func(c *config) { c.maxDepth = n } }

// WithLogger receives console.log, info, debug, warn and error (as Info,
// Info, Debug, Warn and Error records, with the function's name), and a
// Debug record of each call (its arguments unless disable_arg_logs, its
// error); nil, the default, discards them.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// Functions are the JavaScript functions of an export, compiled once. It
// is the evaluator.FunctionSet that runs them for %function, and runs
// direct calls (Run). Every call gets a fresh JavaScript runtime: nothing
// a call does is seen by another. Functions is safe for concurrent use;
// Bind is its only mutable step.
type Functions struct {
	app   *rules.App
	cfg   config
	fns   map[string]*function
	names []string
	// defaults are the inputs of a call that carries none: the app's
	// values and environment (rules.App.Inputs).
	defaults expansion.Inputs
	// services are the MongoDB data sources the export names.
	services map[string]bool

	bindMu sync.Mutex
	data   Data
	bound  bool
}

// function is one function of the export.
type function struct {
	js      *rules.JSFunction
	prog    *goja.Program // nil: the export has no source
	canEval *evaluator.Condition
}

// Load compiles the JavaScript functions of app (rules.App.JSFunctions)
// that have a source. Syntax errors are a source.ErrorList
// (file:line:col, code jsfunc/syntax); a function without source is
// listed by Names and each call fails (ErrNotFound). The Functions cannot
// reach a database until Bind.
func Load(app *rules.App, opts ...Option) (*Functions, error) {
	if app == nil {
		return nil, fmt.Errorf("jsfunc: nil app")
	}
	fs := &Functions{app: app, fns: map[string]*function{}, services: map[string]bool{}}
	for _, o := range opts {
		o(&fs.cfg)
	}
	fs.cfg.defaults()
	for _, ds := range app.DataSources {
		fs.services[ds.Name] = true
	}
	var errs source.ErrorList
	for _, js := range app.JSFunctions {
		f := &function{js: js}
		fs.fns[js.Name] = f
		fs.names = append(fs.names, js.Name)
		if js.SourceFile == "" {
			continue
		}
		prog, err := compile(js)
		if err != nil {
			errs.Add(err)
			continue
		}
		f.prog = prog
	}
	sort.Strings(fs.names)
	// can_evaluate may itself call a function: its conditions are
	// compiled over this set.
	for _, name := range fs.names {
		f := fs.fns[name]
		if f.js.CanEvaluate == nil {
			continue
		}
		c, err := evaluator.CompileCondition(app, f.js.CanEvaluate, evaluator.WithFunctions(fs))
		if err != nil {
			var l source.ErrorList
			if errors.As(err, &l) {
				errs = append(errs, l...)
				continue
			}
			return nil, err
		}
		f.canEval = c
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	in, err := app.Inputs(expansion.Inputs{}, app.Environment)
	if err != nil {
		return nil, fmt.Errorf("jsfunc: the app's values: %w", err)
	}
	fs.defaults = in
	return fs, nil
}

func (c *config) defaults() {
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.ruleTimeout <= 0 {
		c.ruleTimeout = DefaultRuleTimeout
	}
	if c.memory <= 0 {
		c.memory = DefaultMemoryLimit
	}
	if c.maxResult <= 0 {
		c.maxResult = DefaultMaxResultBytes
	}
	if c.maxDepth <= 0 {
		c.maxDepth = DefaultMaxDepth
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
}

// compile compiles one function's source; a syntax error is positioned in
// its file. Only the first error of a file is reported: the parser's
// later ones follow from it.
func compile(js *rules.JSFunction) (*goja.Program, *source.Error) {
	ast, err := parser.ParseFile(nil, js.SourceFile, js.Source, 0)
	if err != nil {
		var list parser.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			return nil, &source.Error{File: js.SourceFile, Line: list[0].Position.Line, Col: list[0].Position.Column, Code: CodeSyntax, Msg: list[0].Message}
		}
		return nil, &source.Error{File: js.SourceFile, Code: CodeSyntax, Msg: err.Error()}
	}
	prog, err := goja.CompileAST(ast, false)
	if err != nil {
		e := &source.Error{File: js.SourceFile, Code: CodeSyntax, Msg: err.Error()}
		var se *goja.CompilerSyntaxError
		var re *goja.CompilerReferenceError
		var ce *goja.CompilerError
		switch {
		case errors.As(err, &se):
			ce = &se.CompilerError
		case errors.As(err, &re):
			ce = &re.CompilerError
		}
		if ce != nil {
			e.Msg = ce.Message
			if ce.File != nil {
				p := ce.File.Position(ce.Offset)
				e.Line, e.Col = p.Line, p.Column
			}
		}
		return nil, e
	}
	return prog, nil
}

// Bind sets the Data through which functions reach their collections
// (context.services). It is the only mutable step of a Functions, and it
// happens once: a gate's Program needs the Functions (to call them from
// rules) before the gate exists, and the Functions need the gate (the
// Data of calls that run as a user) once it does. A second Bind is
// ErrAlreadyBound; a function that uses context.services before Bind
// fails with ErrNotBound.
func (fs *Functions) Bind(d Data) error {
	if d == nil {
		return fmt.Errorf("jsfunc: Bind: nil Data")
	}
	fs.bindMu.Lock()
	defer fs.bindMu.Unlock()
	if fs.bound {
		return ErrAlreadyBound
	}
	fs.data, fs.bound = d, true
	return nil
}

// boundData returns the Data of Bind, or ErrNotBound.
func (fs *Functions) boundData() (Data, error) {
	fs.bindMu.Lock()
	defer fs.bindMu.Unlock()
	if !fs.bound {
		return nil, ErrNotBound
	}
	return fs.data, nil
}

// Names returns the name of every function of the export, sorted
// (evaluator.FunctionSet).
func (fs *Functions) Names() []string { return append([]string(nil), fs.names...) }

// Config returns the configuration of the function name (private,
// run_as_system, can_evaluate, disable_arg_logs) as the export gives it,
// and whether the export has such a function.
func (fs *Functions) Config(name string) (rules.JSFunction, bool) {
	f, ok := fs.fns[name]
	if !ok {
		return rules.JSFunction{}, false
	}
	return *f.js, true
}

// Call runs the function name for a %function of a rule
// (evaluator.FunctionSet): as the system user when it runs as system,
// else as the request's user with the request's inputs; its can_evaluate
// is decided first. Every error wraps evaluator.ErrFunctionCall, so the
// rule denies and its trace says why.
func (fs *Functions) Call(ctx context.Context, name string, args []value.Value, env evaluator.FuncEnv) (value.Value, error) {
	c := Call{Name: name, Args: args, Inputs: env.Inputs}
	if env.Inputs != nil {
		c.User = env.Inputs.User
	}
	v, err := fs.run(ctx, c, fs.cfg.ruleTimeout)
	if err != nil {
		return value.Value{}, fmt.Errorf("%w: %w", evaluator.ErrFunctionCall, err)
	}
	return v, nil
}

// Run makes a direct call: a client's, the user-creation function's, a
// trigger's, or Go code's. A call from a client (Call.FromClient) is
// refused for a private function (ErrPrivate) and when can_evaluate does
// not hold (ErrCannotEvaluate); any other call decides can_evaluate too.
func (fs *Functions) Run(ctx context.Context, c Call) (value.Value, error) {
	return fs.run(ctx, c, fs.cfg.timeout)
}
