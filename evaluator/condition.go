package evaluator

import (
	"context"
	"fmt"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// Condition is one rule expression compiled on its own, outside any
// collection's rules: a function's can_evaluate
// (source/reference/config/functions.txt) or the Data API's. It sees the
// request-phase expansions (%%user, %%request, %%values, %%environment,
// %%args) and calls functions as the rules do; there is no document, so
// %%root and %%prevRoot are missing. A Condition is immutable and safe for
// concurrent use.
type Condition struct {
	p *Program
	c *ccoll
	n *node
}

// CompileCondition compiles e as the expressions of app's rules are
// compiled, with the Go functions and the FunctionSet of opts. A nil e is
// the condition that always holds. The errors are a source.ErrorList.
func CompileCondition(app *rules.App, e rules.Expr, opts ...Option) (*Condition, error) {
	if app == nil {
		return nil, fmt.Errorf("evaluator: nil app")
	}
	cfg := newConfig(opts)
	fns, ferrs := newFunctions(app, cfg.funcs, cfg.funcSet)
	if len(ferrs) > 0 {
		return nil, ferrs
	}
	cp := newCompiler(app, cfg, fns)
	c := &ccoll{}
	cp.c = c
	n := cp.exprOr(e, true, false, nil, "can_evaluate")
	cp.c = nil
	if cp.nodes > cfg.maxNodes {
		cp.errorf(rules.At{}, CodeTooLarge, "the condition has %d nodes, more than the limit of %d (WithMaxNodes)", cp.nodes, cfg.maxNodes)
	}
	if err := cp.errs.Err(); err != nil {
		return nil, err
	}
	return &Condition{p: &Program{colls: map[string]*ccoll{}, fns: fns, nodes: cp.nodes}, c: c, n: n}, nil
}

// Eval decides the condition for the request in. An error (a failing
// function, a value the request does not carry: ErrNotProvided) comes
// with false: the condition fails closed.
func (c *Condition) Eval(ctx context.Context, in *expansion.Inputs) (bool, error) {
	var inputs expansion.Inputs
	if in != nil {
		inputs = *in
	}
	if err := inputs.Validate(); err != nil {
		return false, err
	}
	b := &Bound{p: c.p, c: c.c, in: inputs}
	b.bind(ctx)
	ec := evalCtx{ctx: ctx, b: b}
	ok := ec.node(c.n)
	if ec.err != nil {
		return false, ec.err
	}
	return ok, nil
}
