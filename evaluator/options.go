package evaluator

import (
	"context"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
)

// Func is a Go function that rule expressions call with %function
// (mongodb/docs-app-services source/rules/expressions.txt, "Call a
// Function"). It receives the evaluated arguments and returns one value; an
// error denies access (fail closed). Funcs must be safe for concurrent use
// and should be pure: a call whose arguments are all per-request values is
// made once per request.
type Func func(ctx context.Context, args []value.Value, env FuncEnv) (value.Value, error)

// FuncEnv is what a function sees of the request that calls it.
type FuncEnv struct {
	// Namespace is "db.coll" of the request.
	Namespace string
	// Inputs are the request-phase inputs (%%user, %%request, ...).
	Inputs *expansion.Inputs
}

// Option configures Compile.
type Option func(*config)

type config struct {
	maxNodes   int
	funcs      map[string]Func
	funcLimits FuncLimits
	dataSource string
}

// DefaultMaxNodes is the node limit of a Program unless WithMaxNodes says
// otherwise.
const DefaultMaxNodes = 100_000

// WithMaxNodes bounds the size of the compiled program: the number of
// expression nodes and operands over every rule. Compile fails with code
// "evaluator/too-large" beyond it. n <= 0 means DefaultMaxNodes.
func WithMaxNodes(n int) Option { return func(c *config) { c.maxNodes = n } }

// WithFunction registers a Go function that %function can call by name. It
// takes precedence over a functions/<name>.expr file of the same name.
func WithFunction(name string, f Func) Option {
	return func(c *config) {
		if c.funcs == nil {
			c.funcs = map[string]Func{}
		}
		c.funcs[name] = f
	}
}

// WithFuncLimits bounds the app's expr functions (functions/<name>.expr):
// syntax tree size, memory and steps of one call.
func WithFuncLimits(l FuncLimits) Option { return func(c *config) { c.funcLimits = l } }

// WithDataSource selects the data source (data_sources/<name>) whose rules
// the Program enforces. By default the first data source, by name, that has
// a rules.json for the namespace is used, and the default rule is the first
// data source's default_rule.json.
func WithDataSource(name string) Option { return func(c *config) { c.dataSource = name } }

// EvalOption configures one evaluation.
type EvalOption func(*evalConfig)

type evalConfig struct {
	trace  *Trace
	fields bool
}

// WithTrace records every step of the evaluation in t, keyed by file and
// JSON pointer, with the concrete values compared. Steps are appended.
func WithTrace(t *Trace) EvalOption { return func(c *evalConfig) { c.trace = t } }

// WithFields asks Evaluate to fill Decision.Fields.
func WithFields() EvalOption { return func(c *evalConfig) { c.fields = true } }
