package evaluator

// Option configures Compile.
type Option func(*config)

type config struct {
	maxNodes   int
	funcs      map[string]Func
	funcSet    FunctionSet
	dataSource string
}

// defaultMaxNodes is the node limit of a Program unless WithMaxNodes says
// otherwise.
const defaultMaxNodes = 100_000

// WithMaxNodes bounds the size of the compiled program: the number of
// expression nodes and operands over every rule. Compile fails with code
// "evaluator/too-large" beyond it. n <= 0 means the default, 100 000.
func WithMaxNodes(n int) Option { return func(c *config) { c.maxNodes = n } }

// WithFunction registers a Go function that %function can call by name. It
// takes precedence over a function of the same name in the WithFunctions
// set (Program.ShadowedFunctions lists such names).
func WithFunction(name string, f Func) Option {
	return func(c *config) {
		if c.funcs == nil {
			c.funcs = map[string]Func{}
		}
		c.funcs[name] = f
	}
}

// WithFunctions installs the set of functions that %function can call
// besides the Go functions of WithFunction: for an app's
// functions/<name>.expr files, the set exprfunc.Load compiles. Without
// it, a call to such a file is an unknown function. A later
// WithFunctions replaces an earlier one.
func WithFunctions(set FunctionSet) Option { return func(c *config) { c.funcSet = set } }

// WithDataSource selects the data source (data_sources/<name>) whose rules
// the Program enforces. By default the first data source, by name, that has
// a rules.json for the namespace is used, and the default rule is the first
// data source's default_rule.json.
func WithDataSource(name string) Option { return func(c *config) { c.dataSource = name } }

// EvalOption configures one evaluation.
type EvalOption func(*evalConfig)

type evalConfig struct {
	trace        *Trace
	fields       bool
	leavingScope bool
	noSchema     bool // the leaving-scope check's own evaluation
}

// WithTrace records every step of the evaluation in t, keyed by file and
// JSON pointer, with the concrete values compared. Steps are appended.
func WithTrace(t *Trace) EvalOption { return func(c *evalConfig) { c.trace = t } }

// WithFields asks Evaluate to fill Decision.Fields.
func WithFields() EvalOption { return func(c *evalConfig) { c.fields = true } }

// WithLeavingScopeDenied makes Evaluate deny, with ReasonLeavingScope, a
// write the rules allow whose result the caller could not write: the
// document after the write (Doc.Document, else Doc.Update applied to
// Doc.PrevDocument), decided as a stored document that the write leaves
// unchanged (%%root and %%prevRoot both that document, no field touched),
// must have a role whose document_filters.write holds and that may write
// some field. Such a write moves the document out of the caller's write
// scope (a changed owner, a submitted draft). App Services does not check
// it (it decides a write's role on the stored document); package gate
// does by default, and fixtures with it, so that both decide a write
// alike. Other actions are not affected.
func WithLeavingScopeDenied() EvalOption { return func(c *evalConfig) { c.leavingScope = true } }
