package jsfunc

// The globals a function sees (source/functions/context.txt,
// source/functions/globals.txt): context, BSON, EJSON, console, require,
// exports and module.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"

	"github.com/dop251/goja"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
)

// call is the state of one call: its runtime, whom it runs as, and the
// objects the bridge made.
type call struct {
	fs  *Functions
	f   *function
	ctx context.Context
	rt  *goja.Runtime
	br  *bridge
	as  As
	ops int
	// abortMu guards aborted, the error that ended the call (set by the
	// watchdog's goroutine too).
	abortMu sync.Mutex
	aborted error
	// cursors are the cursors find and aggregate returned, which a
	// function cannot return.
	cursors map[*goja.Object]bool
	// bson is the BSON global, once built (bsonGlobal).
	bson *goja.Object
	// errorCtor is the Error constructor as the runtime began (a function
	// may replace the global), and goErrs the Go error of each Error
	// jsError made.
	errorCtor *goja.Object
	goErrs    map[*goja.Object]error
}

// bsonGlobal returns the BSON global, building it (and the methods of the
// bridge's box prototypes) the first time.
func (cl *call) bsonGlobal() *goja.Object {
	if cl.bson == nil {
		cl.br.prepared = true
		cl.bson = cl.named(cl.bsonObject())
	}
	return cl.bson
}

// throw ends the current Go callback with err as a JavaScript exception
// (a plain Error the function may catch, jsError; uncaught, the call
// fails with err).
func (cl *call) throw(err error) {
	panic(cl.jsError(err))
}

// abort ends the call with err, uncatchable: a bound exceeded, an
// expired deadline, or a Functions used before Bind.
func (cl *call) abort(err error) goja.Value {
	cl.interrupt(err)
	panic(cl.jsError(err))
}

// abortErr is the error that ended the call, nil when none did.
func (cl *call) abortErr() error {
	cl.abortMu.Lock()
	defer cl.abortMu.Unlock()
	return cl.aborted
}

// interrupt ends the call with err at the runtime's next instruction;
// the first error wins.
func (cl *call) interrupt(err error) {
	cl.abortMu.Lock()
	if cl.aborted == nil {
		cl.aborted = err
	}
	cl.abortMu.Unlock()
	cl.rt.Interrupt(err)
}

// fail throws err, or aborts the call when err is one of the errors
// no function may catch.
func (cl *call) fail(err error) {
	if cl.uncatchable(err) {
		if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
			err = fmt.Errorf("%w: %w", ErrTimeout, err)
		}
		cl.abort(err)
	}
	cl.throw(err)
}

// uncatchable reports whether err is one no function may catch.
func (cl *call) uncatchable(err error) bool {
	return errors.Is(err, ErrLimit) || errors.Is(err, ErrTimeout) || errors.Is(err, ErrNotBound) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// set defines a global.
func (cl *call) set(name string, v any) error { return cl.rt.Set(name, v) }

// install defines the globals of the call.
func (cl *call) install() error {
	rt := cl.rt
	cl.cursors = map[*goja.Object]bool{}
	cl.errorCtor, _ = rt.Get("Error").(*goja.Object)
	cl.br.prepare = func() { cl.bsonGlobal() }
	if err := cl.installBounds(); err != nil {
		return err
	}
	module := rt.NewObject()
	if err := module.Set("exports", rt.NewObject()); err != nil {
		return err
	}
	for name, v := range map[string]any{
		"exports": goja.Undefined(),
		"module":  module,
		"require": func(c goja.FunctionCall) goja.Value {
			cl.throw(fmt.Errorf("%w: require(%q): rulegate runs a function without modules: no file system, no network, no external dependencies", ErrUnavailable, c.Argument(0).String()))
			return nil
		},
	} {
		if err := cl.set(name, v); err != nil {
			return err
		}
	}
	if f, ok := rt.Get("require").(*goja.Object); ok {
		cl.name(f, "require")
	}
	// The other globals are built when the function first reads them:
	// most functions use a few.
	for name, build := range map[string]func() *goja.Object{
		"context": cl.contextObject,
		"BSON":    cl.bsonGlobal,
		"EJSON":   cl.ejsonObject,
		"console": cl.consoleObject,
		"utils":   cl.utilsObject,
	} {
		if err := cl.lazy(rt.GlobalObject(), name, build); err != nil {
			return err
		}
	}
	return nil
}

// lazy defines o[name] as the object build returns, built at the first
// read (or replaced by the first write).
func (cl *call) lazy(o *goja.Object, name string, build func() *goja.Object) error {
	rt := cl.rt
	define := func(v goja.Value) {
		_ = o.DefineDataProperty(name, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
	}
	get := rt.ToValue(func(goja.FunctionCall) goja.Value {
		v := build()
		define(v)
		return v
	}).(*goja.Object)
	set := rt.ToValue(func(c goja.FunctionCall) goja.Value {
		define(c.Argument(0))
		return goja.Undefined()
	}).(*goja.Object)
	cl.name(get, "get "+name)
	cl.name(set, "set "+name)
	return o.DefineAccessorProperty(name, get, set, goja.FLAG_TRUE, goja.FLAG_TRUE)
}

// unavailableObject is an object whose properties throw ErrUnavailable.
func (cl *call) unavailableObject(name string, props ...string) *goja.Object {
	o := cl.rt.NewObject()
	for _, p := range props {
		what := name + "." + p
		getter := cl.rt.ToValue(func(goja.FunctionCall) goja.Value {
			cl.throw(fmt.Errorf("%w: %s", ErrUnavailable, what))
			return nil
		}).(*goja.Object)
		cl.name(getter, "get "+p)
		_ = o.DefineAccessorProperty(p, getter, nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	}
	return o
}

// fn wraps a Go function as a JavaScript one named name.
func (cl *call) fn(name string, f func(goja.FunctionCall) goja.Value) goja.Value {
	return cl.nativeFn(name, cl.rt.ToValue(f))
}

// contextObject is the context global.
func (cl *call) contextObject() *goja.Object {
	rt := cl.rt
	in := cl.as.Inputs
	ctx := rt.NewObject()
	_ = ctx.Set("user", cl.userObject())
	_ = ctx.Set("runningAsSystem", cl.fn("runningAsSystem", func(goja.FunctionCall) goja.Value { return rt.ToValue(cl.as.System) }))
	values := rt.NewObject()
	_ = values.Set("get", cl.fn("get", func(c goja.FunctionCall) goja.Value {
		return cl.valueNamed(c.Argument(0).String())
	}))
	_ = ctx.Set("values", values)
	env := rt.NewObject()
	_ = env.Set("tag", "")
	_ = env.Set("values", rt.NewObject())
	if v := resolve(in, expansion.RootEnvironment); v.IsDocument() {
		if tag, ok := v.Field("tag").StringOK(); ok {
			_ = env.Set("tag", tag)
		}
		if vals := v.Field("values"); vals.IsDocument() {
			_ = env.Set("values", cl.br.toJS(vals))
		}
	}
	_ = ctx.Set("environment", env)
	if v := resolve(in, expansion.RootRequest); v.IsDocument() {
		_ = ctx.Set("request", cl.br.toJS(v))
	}
	app := rt.NewObject()
	_ = app.Set("id", cl.fs.app.ID)
	_ = app.Set("clientAppId", cl.fs.app.ID)
	_ = app.Set("name", cl.fs.app.Name)
	_ = ctx.Set("app", app)
	functions := rt.NewObject()
	_ = functions.Set("execute", cl.fn("execute", cl.execute))
	_ = ctx.Set("functions", functions)
	services := rt.NewObject()
	_ = services.Set("get", cl.fn("get", cl.service))
	_ = ctx.Set("services", services)
	_ = ctx.DefineAccessorProperty("http", cl.fn("get http", func(goja.FunctionCall) goja.Value {
		cl.throw(fmt.Errorf("%w: context.http: rulegate gives functions no network", ErrUnavailable))
		return nil
	}), nil, goja.FLAG_FALSE, goja.FLAG_TRUE)
	return ctx
}

// resolve returns the whole of an input (%%request, %%environment), or
// the missing value.
func resolve(in *expansion.Inputs, root expansion.Root) value.Value {
	if in == nil {
		return value.Missing()
	}
	v, err := expansion.Compile(expansion.Ref{Root: root}).Resolve(in)
	if err != nil {
		return value.Missing()
	}
	return v
}

// userFields are the fields of a user object (source/functions/context.txt,
// context.user).
var userFields = []string{"id", "type", "data", "custom_data", "identities"}

// userObject is context.user: the caller's user object, or, without one,
// the system user, which "has no id or other associated data" ({} when
// the call does not run as system).
func (cl *call) userObject() *goja.Object {
	u := cl.as.User
	o := cl.rt.NewObject()
	if u.IsZero() {
		if cl.as.System {
			_ = o.Set("type", "system")
		}
		return o
	}
	for _, f := range userFields {
		v, err := u.Lookup(f)
		if err != nil || v.IsMissing() {
			continue
		}
		_ = o.Set(f, cl.br.toJS(v))
	}
	return o
}

// valueNamed is context.values.get(name): the value, undefined when the
// app has none of that name, and an error for a secret's value the call
// does not carry (an export holds no secret).
func (cl *call) valueNamed(name string) goja.Value {
	in := cl.as.Inputs
	if in != nil && in.Values != nil {
		v, err := expansion.Compile(expansion.Ref{Root: expansion.RootValues, Path: []string{name}}).Resolve(in)
		if err == nil && !v.IsMissing() {
			return cl.br.toJS(v)
		}
	}
	for _, v := range cl.fs.app.Values {
		if v.Name == name && v.Secret != "" {
			cl.throw(fmt.Errorf("%w: context.values.get(%q) exposes the secret %q, which an export does not hold; provide its value (expansion.Inputs.Values)", ErrUnavailable, name, v.Secret))
		}
	}
	return goja.Undefined()
}

// execute is context.functions.execute(name, ...args): the function runs
// with its own configuration, as the caller's user; a private function
// may be called. It returns what the function returns: a promise when the
// function returned one.
func (cl *call) execute(c goja.FunctionCall) goja.Value {
	name := c.Argument(0).String()
	args := make([]value.Value, 0, len(c.Arguments))
	for i := 1; i < len(c.Arguments); i++ {
		v, err := cl.br.fromJS(c.Arguments[i])
		if err != nil {
			cl.fail(fmt.Errorf("context.functions.execute(%q): argument %d: %w", name, i, err))
		}
		args = append(args, v)
	}
	in := cl.as.Inputs
	nested := Call{Name: name, Args: args, User: cl.as.User, Inputs: in}
	// "If the function was called from another function then it
	// inherits the execution user from that function"
	// (source/functions.txt): a caller that runs as system passes it on.
	v, promise, err := cl.fs.runAs(cl.ctx, nested, cl.fs.cfg.timeout, cl.as.System)
	switch {
	case err != nil && cl.uncatchable(err):
		cl.fail(err)
	case err != nil:
		cl.fail(fmt.Errorf("context.functions.execute(%q): %w", name, err))
	}
	res := cl.br.toJS(v)
	if !promise {
		return res
	}
	p, resolve, _ := cl.rt.NewPromise()
	_ = resolve(res)
	return cl.rt.ToValue(p)
}

// consoleObject is the console global: log and info are Info records,
// warn Warn, error Error, each with the function's name.
func (cl *call) consoleObject() *goja.Object {
	o := cl.rt.NewObject()
	for name, level := range map[string]slog.Level{"log": slog.LevelInfo, "info": slog.LevelInfo, "debug": slog.LevelDebug, "warn": slog.LevelWarn, "error": slog.LevelError} {
		_ = o.Set(name, cl.fn(name, func(c goja.FunctionCall) goja.Value {
			parts := make([]string, len(c.Arguments))
			for i, a := range c.Arguments {
				parts[i] = cl.format(a)
			}
			cl.fs.cfg.logger.Log(cl.ctx, level, strings.Join(parts, " "), "function", cl.f.js.Name)
			return goja.Undefined()
		}))
	}
	return o
}

// format renders a console argument: a string as it is, anything else as
// its Extended JSON, or its JavaScript string when it has none.
func (cl *call) format(v goja.Value) string {
	if goja.IsString(v) {
		return v.String()
	}
	if goja.IsUndefined(v) {
		return "undefined"
	}
	if jv, err := cl.br.fromJS(v); err == nil {
		return jv.ExtJSON()
	}
	return v.String()
}
