package mql

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file is the expression side's compiler: field paths, variables,
// literals, expression objects and arrays, and the dispatch to the
// operators of aggexpr_*.go
// (https://www.mongodb.com/docs/manual/reference/operator/aggregation/).
// Operands are parsed as the server's ExpressionNary does: an array is
// the list of arguments, any other value is the one argument.

// evalErr is an expression's failure on a document (CodePipelineEval).
func evalErr(ptr source.Pointer, format string, args ...any) error {
	return pipeErr(ptr, CodePipelineEval, fmt.Sprintf(format, args...))
}

// unsupportedErr refuses, at run time, what the engine cannot compute
// exactly (decimal arithmetic, a double's text): CodePipelineOperator,
// wrapping ErrUnsupportedPipeline.
func unsupportedErr(ptr source.Pointer, format string, args ...any) error {
	return pipeErr(ptr, CodePipelineOperator, fmt.Sprintf(format, args...))
}

func operandErr(ptr source.Pointer, format string, args ...any) error {
	return pipeErr(ptr, CodePipelineOperand, fmt.Sprintf(format, args...))
}

// efn is an expression given as a function.
type efn func(s *scope) (value.Value, error)

// eval counts the bytes of each value an operator, an expression object
// or an array of expressions builds against the Run's memory limit, for
// one document at one stage: an expression that builds huge values in a
// loop ($reduce doubling a string, $map of $range) fails with
// CodePipelineMemory (see errBuilt) instead of taking the memory a
// blocking stage is denied. A value passed through ($ifNull, an array
// element) counts too: the bound errs on the side of failing.
func (f efn) eval(s *scope) (value.Value, error) {
	v, err := f(s)
	if err == nil && s.rc != nil && s.rc.limit > 0 {
		if s.rc.built += int64(len(v.Data)); s.rc.built > s.rc.limit {
			return value.Missing(), errBuilt
		}
	}
	return v, err
}

// errBuilt is an expression's failure when the values it built for one
// document exceed the memory limit; the stage reports it with its
// pointer as CodePipelineMemory (see evalFailed). The count stays over
// the limit until the next document, so that an operator catching its
// operand's error ($convert's onError) cannot hide it.
var errBuilt = errors.New("mql: expressions built more bytes for one document than the memory limit")

// lit is a constant.
type lit struct{ v value.Value }

func (l lit) eval(*scope) (value.Value, error) { return l.v, nil }

// compiler compiles the expressions of one place of a pipeline.
type compiler struct {
	vars  []string
	depth int
}

// compileExpr compiles the aggregation expression v found at ptr; vars
// are the user variables in scope ($let, $lookup's let, ...).
func compileExpr(v bson.RawValue, ptr source.Pointer, vars []string) (expr, error) {
	c := &compiler{vars: vars}
	return c.compile(v, ptr)
}

// with returns a compiler that also sees the variables names.
func (c *compiler) with(names ...string) *compiler {
	vars := append(append([]string(nil), c.vars...), names...)
	return &compiler{vars: vars, depth: c.depth}
}

func (c *compiler) compile(v bson.RawValue, ptr source.Pointer) (expr, error) {
	c.depth++
	defer func() { c.depth-- }()
	if c.depth > MaxDepth {
		return nil, pipeErr(ptr, CodePipelineDepth, fmt.Sprintf("expression is nested more than %d levels deep", MaxDepth))
	}
	switch v.Type {
	case bson.TypeString:
		s := v.StringValue()
		if strings.HasPrefix(s, "$") {
			return c.compilePath(s, ptr)
		}
	case bson.TypeEmbeddedDocument:
		return c.compileObject(v.Document(), ptr)
	case bson.TypeArray:
		return c.compileArray(v.Array(), ptr)
	}
	return lit{value.FromRaw(v)}, nil
}

// compileArray compiles an array of expressions.
func (c *compiler) compileArray(arr bson.RawArray, ptr source.Pointer) (expr, error) {
	vals, err := arr.Values()
	if err != nil {
		return nil, pipeErr(ptr, CodePipelineMalformed, "malformed array")
	}
	es := make([]expr, len(vals))
	for i, ev := range vals {
		if es[i], err = c.compile(ev, ptr.Index(i)); err != nil {
			return nil, err
		}
	}
	return efn(func(s *scope) (value.Value, error) {
		out := make([]value.Value, len(es))
		for i, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return value.Missing(), err
			}
			out[i] = v
		}
		return arrOf(out), nil
	}), nil
}

// compileObject compiles an operator ({$op: args}) or an expression
// object ({a: <expr>, ...}).
func (c *compiler) compileObject(doc bson.Raw, ptr source.Pointer) (expr, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, pipeErr(ptr, CodePipelineMalformed, "malformed document")
	}
	if len(elems) > 0 && strings.HasPrefix(elems[0].Key(), "$") {
		if len(elems) > 1 {
			return nil, operandErr(ptr, "an expression specification must contain exactly one field, the name of the expression; found %d fields", len(elems))
		}
		return c.compileOperator(elems[0].Key(), elems[0].Value(), ptr.Key(elems[0].Key()))
	}
	type fe struct {
		name string
		e    expr
	}
	fields := make([]fe, len(elems))
	for i, el := range elems {
		k := el.Key()
		p := ptr.Key(k)
		switch {
		case k == "":
			return nil, operandErr(p, "a field name of an expression object may not be empty")
		case strings.HasPrefix(k, "$"):
			return nil, operandErr(p, "field name %q of an expression object may not start with \"$\"", k)
		case strings.Contains(k, "."):
			return nil, operandErr(p, "field name %q of an expression object may not contain \".\"", k)
		}
		e, err := c.compile(el.Value(), p)
		if err != nil {
			return nil, err
		}
		fields[i] = fe{k, e}
	}
	return efn(func(s *scope) (value.Value, error) {
		out := make([]field, len(fields))
		for i, f := range fields {
			v, err := f.e.eval(s)
			if err != nil {
				return value.Missing(), err
			}
			out[i] = field{f.name, v}
		}
		return docOf(out), nil
	}), nil
}

// compilePath compiles "$a.b", "$$ROOT", "$$v.a.b".
func (c *compiler) compilePath(s string, ptr source.Pointer) (expr, error) {
	if strings.HasPrefix(s, "$$") {
		name, rest, _ := strings.Cut(s[2:], ".")
		path, err := fieldPathOf(rest, s, ptr, rest != "" || strings.Contains(s[2:], "."))
		if err != nil {
			return nil, err
		}
		switch name {
		case "CURRENT":
			return pathExpr(func(sc *scope) value.Value { return sc.current }, path), nil
		case "ROOT":
			return pathExpr(func(sc *scope) value.Value { return sc.root }, path), nil
		case "REMOVE":
			return lit{value.Missing()}, nil
		case "NOW":
			return pathExpr(func(sc *scope) value.Value { return value.Time(sc.rc.now) }, path), nil
		case "CLUSTER_TIME":
			return nil, pipeErr(ptr, CodePipelineOperator, "$$CLUSTER_TIME is not supported in memory: it is the cluster's timestamp")
		}
		if err := checkVarName(name, ptr); err != nil {
			return nil, err
		}
		if !c.hasVar(name) {
			return nil, pipeErr(ptr, CodePipelineVariable, fmt.Sprintf("Use of undefined variable: %s", name))
		}
		return pathExpr(func(sc *scope) value.Value {
			v, _ := sc.lookupVar(name)
			return v
		}, path), nil
	}
	path, err := fieldPathOf(s[1:], s, ptr, true)
	if err != nil {
		return nil, err
	}
	return pathExpr(func(sc *scope) value.Value { return sc.current }, path), nil
}

// fieldPathOf splits a field path; each component must be non-empty and
// not start with "$".
func fieldPathOf(p, whole string, ptr source.Pointer, need bool) ([]string, error) {
	if !need {
		return nil, nil
	}
	parts := strings.Split(p, ".")
	for _, part := range parts {
		if part == "" {
			return nil, operandErr(ptr, "field path %q has an empty component", whole)
		}
		if strings.HasPrefix(part, "$") {
			return nil, operandErr(ptr, "field path %q has a component starting with \"$\"", whole)
		}
	}
	return parts, nil
}

// checkVarName checks a user variable's name as the server does: it
// starts with a lowercase ASCII letter or a non-ASCII character, and has
// only letters, digits, _ and non-ASCII characters.
func checkVarName(name string, ptr source.Pointer) error {
	if name == "" {
		return pipeErr(ptr, CodePipelineVariable, "empty variable name")
	}
	r, _ := utf8.DecodeRuneInString(name)
	if !(r >= 'a' && r <= 'z' || r >= utf8.RuneSelf) {
		return pipeErr(ptr, CodePipelineVariable, fmt.Sprintf("variable name %q must start with a lowercase letter or a non-ASCII character", name))
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r >= utf8.RuneSelf) {
			return pipeErr(ptr, CodePipelineVariable, fmt.Sprintf("variable name %q may only hold letters, digits, _ and non-ASCII characters", name))
		}
	}
	return nil
}

func (c *compiler) hasVar(name string) bool {
	for _, v := range c.vars {
		if v == name {
			return true
		}
	}
	return false
}

// pathExpr reads path from the value base gives.
func pathExpr(base func(*scope) value.Value, path []string) expr {
	return efn(func(s *scope) (value.Value, error) { return fieldPath(base(s), path), nil })
}

// fieldPath is a field path's value as the server's ExpressionFieldPath
// computes it: through an array, the values found in its documents (and,
// for nested arrays, the nested arrays of them), numeric components being
// field names, never indexes.
func fieldPath(v value.Value, path []string) value.Value {
	for i, name := range path {
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			v = v.Field(name)
		case bson.TypeArray:
			return arrOf(pathArray(v, path[i:]))
		default:
			return value.Missing()
		}
	}
	return v
}

func pathArray(arr value.Value, path []string) []value.Value {
	out := []value.Value{}
	arr.Each(func(_ int, e value.Value) bool {
		switch e.Type {
		case bson.TypeEmbeddedDocument:
			if r := fieldPath(e, path); !r.IsMissing() {
				out = append(out, r)
			}
		case bson.TypeArray:
			out = append(out, arrOf(pathArray(e, path)))
		}
		return false
	})
	return out
}

// truthy is MongoDB's boolean reading of a value (the server's
// BSONElement::trueValue and Value::coerceToBool; $exists' operand too):
// false, null, Missing,
// undefined and numeric zeros are false; everything else (NaN, "", [],
// {}) is true.
func truthy(v value.Value) bool {
	switch v.Type {
	case 0, bson.TypeNull, bson.TypeUndefined:
		return false
	case bson.TypeBoolean:
		b, _ := v.BoolOK()
		return b
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return value.Compare(v, value.Int32(0)) != 0
	}
	return true
}

// nullish reports whether v is null, undefined or Missing.
func nullish(v value.Value) bool {
	return v.Type == 0 || v.Type == bson.TypeNull || v.Type == bson.TypeUndefined
}

// dateOf returns a date value of ms milliseconds since the epoch.
func dateOf(ms int64) value.Value {
	return value.Value{Type: bson.TypeDateTime, Data: binary.LittleEndian.AppendUint64(nil, uint64(ms))}
}

// opFunc compiles the argument of one operator found at ptr.
type opFunc func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error)

// ops are the operators compileExpr evaluates; init fills it, since the
// operators that compile nested expressions refer to it.
var ops map[string]opFunc

// knownOps are MongoDB expression operators the engine does not evaluate.
var knownOps = map[string]bool{
	"$bitAnd": true, "$bitOr": true, "$bitXor": true, "$bitNot": true,
	"$binarySize": true, "$bsonSize": true, "$dateAdd": true, "$dateDiff": true,
	"$dateFromParts": true, "$dateSubtract": true, "$dateToParts": true, "$dateTrunc": true,
	"$setField": true, "$unsetField": true, "$rand": true,
	"$sampleRate": true, "$tsIncrement": true, "$tsSecond": true, "$toDecimal": true,
	"$meta": true, "$firstN": true, "$lastN": true,
	"$maxN": true, "$minN": true, "$median": true, "$percentile": true,
	"$sin": true, "$cos": true, "$tan": true, "$asin": true, "$acos": true, "$atan": true,
	"$atan2": true, "$asinh": true, "$acosh": true, "$atanh": true, "$sinh": true,
	"$cosh": true, "$tanh": true, "$degreesToRadians": true, "$radiansToDegrees": true,
	"$toUUID": true, "$regexFind": true, "$regexFindAll": true, "$toHashedIndexKey": true,
	"$top": true, "$topN": true, "$bottom": true, "$bottomN": true, "$denseRank": true,
	"$rank": true, "$documentNumber": true, "$shift": true, "$expMovingAvg": true,
	"$derivative": true, "$integral": true, "$covariancePop": true, "$covarianceSamp": true,
	"$locf": true, "$linearFill": true,
}

func (c *compiler) compileOperator(op string, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	switch op {
	case "$function", "$accumulator", "$where":
		return nil, pipeErr(ptr, CodePipelineOperator, fmt.Sprintf("expression operator %q is not supported in memory: it runs JavaScript", op))
	case "$literal":
		return lit{value.FromRaw(arg)}, nil
	}
	f, ok := ops[op]
	if !ok {
		if knownOps[op] {
			return nil, pipeErr(ptr, CodePipelineOperator, fmt.Sprintf("expression operator %q is not supported in memory", op))
		}
		return nil, pipeErr(ptr, CodePipelineOperator, fmt.Sprintf("unknown or unsupported expression operator %q", op))
	}
	return f(c, arg, ptr)
}

// args compiles an operator's operand as its argument list.
func (c *compiler) args(arg bson.RawValue, ptr source.Pointer) ([]expr, error) {
	if arg.Type != bson.TypeArray {
		e, err := c.compile(arg, ptr)
		if err != nil {
			return nil, err
		}
		return []expr{e}, nil
	}
	vals, err := arg.Array().Values()
	if err != nil {
		return nil, pipeErr(ptr, CodePipelineMalformed, "malformed array")
	}
	es := make([]expr, len(vals))
	for i, v := range vals {
		if es[i], err = c.compile(v, ptr.Index(i)); err != nil {
			return nil, err
		}
	}
	return es, nil
}

// nargs is args with between lo and hi arguments (hi < 0: no bound).
func (c *compiler) nargs(op string, arg bson.RawValue, ptr source.Pointer, lo, hi int) ([]expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	if len(es) < lo || hi >= 0 && len(es) > hi {
		switch {
		case lo == hi:
			return nil, operandErr(ptr, "expression %s takes exactly %d arguments. %d were passed in.", op, lo, len(es))
		case hi < 0:
			return nil, operandErr(ptr, "expression %s takes at least %d arguments. %d were passed in.", op, lo, len(es))
		}
		return nil, operandErr(ptr, "expression %s takes %d to %d arguments. %d were passed in.", op, lo, hi, len(es))
	}
	return es, nil
}

// named reads an operator's document of named arguments: required ones
// must be present, and no other than required and optional.
func named(op string, arg bson.RawValue, ptr source.Pointer, required, optional []string) (map[string]bson.RawValue, error) {
	if arg.Type != bson.TypeEmbeddedDocument {
		return nil, operandErr(ptr, "%s expects an object of named arguments", op)
	}
	elems, err := arg.Document().Elements()
	if err != nil {
		return nil, pipeErr(ptr, CodePipelineMalformed, "malformed document")
	}
	m := make(map[string]bson.RawValue, len(elems))
	for _, el := range elems {
		k := el.Key()
		if !contains(required, k) && !contains(optional, k) {
			return nil, operandErr(ptr.Key(k), "%s found an unknown argument: %s", op, k)
		}
		m[k] = el.Value()
	}
	for _, k := range required {
		if _, ok := m[k]; !ok {
			return nil, operandErr(ptr, "%s requires '%s' to be specified", op, k)
		}
	}
	return m, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// optional compiles a named argument, or returns nil when it is absent.
func (c *compiler) optional(m map[string]bson.RawValue, name string, ptr source.Pointer) (expr, error) {
	v, ok := m[name]
	if !ok {
		return nil, nil
	}
	return c.compile(v, ptr.Key(name))
}

// evalAll evaluates es in order.
func evalAll(s *scope, es []expr) ([]value.Value, error) {
	out := make([]value.Value, len(es))
	for i, e := range es {
		v, err := e.eval(s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// typeName is the name $type gives a value's BSON type.
func aggTypeName(v value.Value) string {
	if v.IsMissing() {
		return "missing"
	}
	if a, ok := value.TypeAlias(v.Type); ok {
		return a
	}
	return "unknown"
}
