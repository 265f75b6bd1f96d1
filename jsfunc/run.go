package jsfunc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"runtime"
	"runtime/metrics"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
)

// maxAsyncOps is the number of database operations one call may make:
// "Functions are limited to 1000 async operations"
// (source/functions.txt, Constraints).
const maxAsyncOps = 1000

// memoryCheckEvery is how often the watchdog of a call samples the heap,
// and gcEvery how often at most it collects garbage before deciding.
const (
	memoryCheckEvery = time.Millisecond
	gcEvery          = 50 * time.Millisecond
)

// depthKey is the context key of the nesting depth of calls.
type depthKey struct{}

// depthOf returns the nesting depth of the call ctx belongs to: 0 outside
// any call.
func depthOf(ctx context.Context) int {
	d, _ := ctx.Value(depthKey{}).(int)
	return d
}

// run runs one call with its time limit: the checks of Run and Call, then
// the function in a fresh runtime.
func (fs *Functions) run(ctx context.Context, c Call, timeout time.Duration) (value.Value, error) {
	v, _, err := fs.runAs(ctx, c, timeout, false)
	return v, err
}

// runAs is run for a call that inherits the system user from its caller
// (system), and says whether the function returned a promise.
func (fs *Functions) runAs(ctx context.Context, c Call, timeout time.Duration, system bool) (value.Value, bool, error) {
	f, ok := fs.fns[c.Name]
	if !ok {
		return value.Value{}, false, fmt.Errorf("%w: %q: the export has no such function", ErrNotFound, c.Name)
	}
	if f.prog == nil {
		return value.Value{}, false, fmt.Errorf("%w: %q: the export has no source for it (%s)", ErrNotFound, c.Name, f.js.File)
	}
	if c.FromClient && f.js.Private {
		return value.Value{}, false, fmt.Errorf("%w: %q cannot be called by a client", ErrPrivate, c.Name)
	}
	if !f.js.RunAsSystem && (f.js.RunAsUserID != "" || f.js.RunAsUserIDScriptSource != "") {
		// rulegate cannot become the chosen user; as the caller (or as
		// system, for a trigger) the function would get access its
		// configuration withholds.
		return value.Value{}, false, fmt.Errorf("%w: %q runs as a chosen user (run_as_user_id or run_as_user_id_script_source), which rulegate does not do", ErrUnavailable, c.Name)
	}
	depth := depthOf(ctx) + 1
	if depth > fs.cfg.maxDepth {
		return value.Value{}, false, fmt.Errorf("%w: %q: calls nested deeper than %d (WithMaxDepth)", ErrLimit, c.Name, fs.cfg.maxDepth)
	}
	ctx = context.WithValue(ctx, depthKey{}, depth)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	in := fs.inputs(c)
	if f.canEval != nil {
		ok, err := f.canEval.Eval(ctx, &in)
		if err != nil {
			return value.Value{}, false, fmt.Errorf("%w: %q: %w", ErrCannotEvaluate, c.Name, err)
		}
		if !ok {
			return value.Value{}, false, fmt.Errorf("%w: %q", ErrCannotEvaluate, c.Name)
		}
	}
	// A call without a user is not made system here: whether it may
	// bypass the rules (a trigger's may) is the Data's to decide, and a
	// caller without claims stays under them.
	as := As{User: c.User, Inputs: &in, System: f.js.RunAsSystem || system}
	v, promise, err := fs.execute(ctx, f, as, c.Args)
	fs.logCall(ctx, f, c.Args, err)
	if err != nil && depth == 1 {
		err = fmt.Errorf("%q: %w", c.Name, err)
	}
	return v, promise, err
}

// logCall logs one call at Debug level, as App Services logs each
// execution: with its arguments unless the function disables argument
// logs (disable_arg_logs), and its error.
func (fs *Functions) logCall(ctx context.Context, f *function, args []value.Value, err error) {
	log := fs.cfg.logger
	if !log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []any{"function", f.js.Name}
	if !f.js.DisableArgLogs {
		parts := make([]string, len(args))
		for i, a := range args {
			parts[i] = a.ExtJSON()
		}
		attrs = append(attrs, "args", "["+strings.Join(parts, ",")+"]")
	}
	if err != nil {
		attrs = append(attrs, "error", err.Error())
	}
	log.DebugContext(ctx, "function call", attrs...)
}

// inputs are the inputs a call's function sees: the call's, with the
// app's values and environment where the call carries none, and the
// call's user.
func (fs *Functions) inputs(c Call) expansion.Inputs {
	in := fs.defaults
	if c.Inputs != nil {
		in = *c.Inputs
		if in.Values == nil {
			in.Values = fs.defaults.Values
		}
		if in.Environment == nil {
			in.Environment = fs.defaults.Environment
		}
	}
	in.User = c.User
	return in
}

// abandonAfter is how long a call whose deadline passed is waited for: a
// native builtin (a regular expression that backtracks, say) sees the
// interrupt only when it returns.
const abandonAfter = 100 * time.Millisecond

// execute runs f in a fresh runtime and returns its result, and whether
// the function returned a promise. The runtime runs on a goroutine of its
// own, so that the caller gets the timeout at the deadline even when a
// native builtin is still running; that goroutine ends when the builtin
// returns.
func (fs *Functions) execute(ctx context.Context, f *function, as As, args []value.Value) (value.Value, bool, error) {
	type result struct {
		v       value.Value
		promise bool
		err     error
	}
	done := make(chan result, 1)
	go func() {
		cl := &call{fs: fs, f: f, ctx: ctx, as: as}
		v, p, err := cl.executeIn(args)
		if aborted := cl.abortErr(); aborted != nil {
			// The call was ended by an error no function may catch,
			// whatever it did after.
			v, err = value.Value{}, aborted
		}
		done <- result{v, p, err}
	}()
	select {
	case r := <-done:
		return r.v, r.promise, r.err
	case <-ctx.Done():
	}
	select {
	case r := <-done:
		return r.v, r.promise, r.err
	case <-time.After(abandonAfter):
		return value.Value{}, false, fmt.Errorf("%w (a native builtin was still running; it was left to end in the background)", timeoutErr(ctx.Err()))
	}
}

// executeIn is execute on the runtime's goroutine.
func (cl *call) executeIn(args []value.Value) (out value.Value, promise bool, err error) {
	if err := cl.ctx.Err(); err != nil {
		return value.Value{}, false, timeoutErr(err)
	}
	rt := goja.New()
	rt.SetMaxCallStackSize(maxCallStack)
	cl.rt, cl.br = rt, newBridge(rt, cl.fs.cfg.maxResult)
	f := cl.f
	stop := cl.watch()
	defer stop()
	defer func() {
		// A panic of a Go callback (or of goja) ends this call only.
		if r := recover(); r != nil {
			out, promise, err = value.Value{}, false, fmt.Errorf("jsfunc: internal error: %v", r)
		}
	}()
	if err := cl.install(); err != nil {
		return value.Value{}, false, cl.classify(err)
	}
	if _, err := rt.RunProgram(f.prog); err != nil {
		return value.Value{}, false, cl.classify(err)
	}
	fn, err := cl.entry()
	if err != nil {
		return value.Value{}, false, err
	}
	jsArgs := make([]goja.Value, len(args))
	for i, a := range args {
		jsArgs[i] = cl.br.toJS(a)
	}
	ret, err := fn(goja.Undefined(), jsArgs...)
	if err != nil {
		return value.Value{}, false, cl.classify(err)
	}
	// The job queue ran when the call returned: a promise still pending
	// waits on nothing that can happen.
	if o, ok := ret.(*goja.Object); ok && o.ExportType() == promiseType {
		if p, ok := o.Export().(*goja.Promise); ok {
			promise = true
			switch p.State() {
			case goja.PromiseStatePending:
				return value.Value{}, true, fmt.Errorf("%w: the function's promise was still pending when nothing was left to run", ErrNeverSettled)
			case goja.PromiseStateRejected:
				return value.Value{}, true, fmt.Errorf("%w: promise rejected: %s", ErrThrown, cl.describe(p.Result()))
			}
			ret = p.Result()
		}
	}
	if cl.cursors[asObject(ret)] {
		return value.Value{}, promise, fmt.Errorf("%w: a cursor cannot be returned: call toArray() or next() and return the result", ErrResult)
	}
	var cerr error
	if ex := rt.Try(func() { out, cerr = cl.br.fromJS(ret) }); ex != nil {
		return value.Value{}, promise, cl.classify(ex)
	}
	if cerr != nil {
		return value.Value{}, promise, fmt.Errorf("the result: %w", cerr)
	}
	return out, promise, nil
}

var promiseType = reflect.TypeOf((*goja.Promise)(nil))

func asObject(v goja.Value) *goja.Object {
	o, _ := v.(*goja.Object)
	return o
}

// entry returns the function the source assigned to exports (or
// module.exports).
func (cl *call) entry() (goja.Callable, error) {
	exp := cl.rt.Get("exports")
	if fn, ok := goja.AssertFunction(exp); ok {
		return fn, nil
	}
	if m := cl.rt.Get("module"); m != nil {
		if mo, ok := m.(*goja.Object); ok {
			if fn, ok := goja.AssertFunction(mo.Get("exports")); ok {
				return fn, nil
			}
		}
	}
	return nil, fmt.Errorf("%w: %s assigns no function to exports", ErrNotFound, cl.f.js.SourceFile)
}

// watch interrupts the runtime when the context is done or the heap has
// grown past the memory limit since the call began; the returned func
// stops it.
func (cl *call) watch() (stop func()) {
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() int64 {
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(sample[0].Value.Uint64())
	}
	base := heap()
	limit := cl.fs.cfg.memory
	go func() {
		t := time.NewTicker(memoryCheckEvery)
		defer t.Stop()
		var collected time.Time
		for {
			select {
			case <-done:
				return
			case <-cl.ctx.Done():
				cl.interrupt(timeoutErr(cl.ctx.Err()))
				return
			case <-t.C:
				if heap()-base <= limit {
					continue
				}
				// Garbage counts until a collection: the call is ended
				// only when the heap is still past the limit right
				// after one (at most one collection every
				// gcEvery per call).
				if time.Since(collected) < gcEvery {
					continue
				}
				runtime.GC()
				collected = time.Now()
				if heap()-base <= limit {
					continue
				}
				cl.interrupt(fmt.Errorf("%w: the call grew the heap by more than %d bytes (WithMemoryLimit)", ErrLimit, limit))
				return
			}
		}
	}()
	return func() { close(done) }
}

// timeoutErr is the error of a call whose context is done.
func timeoutErr(err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// classify turns an error of the runtime into the call's error.
func (cl *call) classify(err error) error {
	var intr *goja.InterruptedError
	var so *goja.StackOverflowError
	var ex *goja.Exception
	switch {
	case errors.As(err, &intr):
		if e, ok := intr.Value().(error); ok {
			return e
		}
		return fmt.Errorf("%w: interrupted: %v", ErrLimit, intr.Value())
	case errors.As(err, &so):
		return fmt.Errorf("%w: the call stack is deeper than %d calls", ErrLimit, maxCallStack)
	case errors.As(err, &ex):
		// An error of rulegate's own (a GoError: a limit, a database
		// error, ErrUnavailable) that the function did not catch is that
		// error.
		if goErr := ex.Unwrap(); goErr != nil {
			return goErr
		}
		if o, ok := ex.Value().(*goja.Object); ok && cl.goErrs[o] != nil {
			return cl.goErrs[o]
		}
		return fmt.Errorf("%w: %s", ErrThrown, cl.describe(ex.Value()))
	}
	return err
}

// describe renders a thrown value for an error message: an Error as
// "Name: message at file:line:col", anything else as its Extended JSON,
// or as a string when it has none.
func (cl *call) describe(v goja.Value) (s string) {
	defer func() {
		if r := recover(); r != nil {
			s = "thrown value that cannot be read (reading it threw)"
		}
	}()
	if v == nil {
		return "undefined"
	}
	if o, ok := v.(*goja.Object); ok {
		if o.ClassName() == "Error" {
			if st := o.Get("stack"); st != nil && !goja.IsUndefined(st) {
				return strings.Replace(firstLines(st.String(), 2), "\n\t", " ", 1)
			}
			return o.String()
		}
	}
	if jv, err := cl.br.fromJS(v); err == nil {
		if jv.IsMissing() {
			return "undefined"
		}
		return "thrown value " + jv.ExtJSON()
	}
	return "thrown value " + v.String()
}

// firstLines returns the first n lines of s.
func firstLines(s string, n int) string {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			n--
			if n == 0 {
				return s[:i]
			}
		}
	}
	return s
}
