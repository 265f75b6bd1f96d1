package mql

import (
	"fmt"
	"math"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file holds the accumulators of $group
// (https://www.mongodb.com/docs/manual/reference/operator/aggregation/group/#accumulator-operator)
// and the array/n-ary expression forms of $sum, $avg, $min, $max,
// $stdDevPop and $stdDevSamp, which run the same accumulators over an
// array's elements or over the operands.

// valueSize is the bytes a held value counts for the memory limit.
func valueSize(v value.Value) int64 { return int64(len(v.Data)) + 1 }

// sumAcc is $sum: numbers only, the type promotion of $add (int32, then
// int64, then double), doubles summed with compensation as the server's
// double-double summation.
type sumAcc struct {
	ptr      source.Pointer
	t        bson.Type // widest type seen: int32, int64, double
	i        int64     // the exact sum of the integers, while it fits
	overflow bool      // the integers' sum left the int64 range: all in f
	f, comp  float64   // the doubles' sum and its compensation
	n        int64     // numbers seen
}

func newSum(ptr source.Pointer) *sumAcc { return &sumAcc{ptr: ptr, t: bson.TypeInt32} }

// addFloat adds x with Neumaier's compensation.
func (a *sumAcc) addFloat(x float64) {
	s := a.f + x
	if math.Abs(a.f) >= math.Abs(x) {
		a.comp += (a.f - s) + x
	} else {
		a.comp += (x - s) + a.f
	}
	a.f = s
}

func (a *sumAcc) add(v value.Value) error {
	switch v.Type {
	case bson.TypeDecimal128:
		return decimalErr(a.ptr, "$sum")
	case bson.TypeInt32, bson.TypeInt64:
		i, _ := v.IntOK()
		if v.Type == bson.TypeInt64 && a.t == bson.TypeInt32 {
			a.t = bson.TypeInt64
		}
		if a.overflow {
			a.addFloat(float64(i))
		} else if s := a.i + i; (s > a.i) == (i > 0) || i == 0 {
			a.i = s
		} else {
			a.overflow = true
			a.addFloat(float64(a.i))
			a.addFloat(float64(i))
		}
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		a.t = bson.TypeDouble
		a.addFloat(f)
	default:
		return nil
	}
	a.n++
	return nil
}

func (a *sumAcc) total() float64 {
	if a.overflow {
		return a.f + a.comp
	}
	f, comp := a.f, a.comp
	b := sumAcc{f: f, comp: comp}
	b.addFloat(float64(a.i))
	return b.f + b.comp
}

func (a *sumAcc) result() (value.Value, error) {
	switch {
	case a.t == bson.TypeDouble || a.overflow:
		return value.Double(a.total()), nil
	case a.t == bson.TypeInt32 && a.i == int64(int32(a.i)):
		return value.Int32(int32(a.i)), nil
	}
	return value.Int64(a.i), nil
}

func (a *sumAcc) size() int64 { return 64 }

// avgAcc is $avg: a double, null without numbers.
type avgAcc struct{ sumAcc }

func (a *avgAcc) result() (value.Value, error) {
	if a.n == 0 {
		return value.Null(), nil
	}
	return value.Double(a.total() / float64(a.n)), nil
}

// minMaxAcc is $min or $max: value.Compare over the values that are not
// null or Missing; null when there are none.
type minMaxAcc struct {
	max bool
	v   value.Value
}

func (a *minMaxAcc) add(v value.Value) error {
	if nullish(v) {
		return nil
	}
	if a.v.IsMissing() || (value.Compare(v, a.v) > 0) == a.max && value.Compare(v, a.v) != 0 {
		a.v = v
	}
	return nil
}

func (a *minMaxAcc) result() (value.Value, error) {
	if a.v.IsMissing() {
		return value.Null(), nil
	}
	return a.v, nil
}

func (a *minMaxAcc) size() int64 { return valueSize(a.v) }

// firstLastAcc is $first or $last; Missing becomes null, as the server's.
type firstLastAcc struct {
	last, seen bool
	v          value.Value
}

func (a *firstLastAcc) add(v value.Value) error {
	if !a.seen || a.last {
		a.v, a.seen = v, true
	}
	return nil
}

func (a *firstLastAcc) result() (value.Value, error) {
	if a.v.IsMissing() {
		return value.Null(), nil
	}
	return a.v, nil
}

func (a *firstLastAcc) size() int64 { return valueSize(a.v) }

// pushAcc is $push (Missing values skipped) or $addToSet (distinct by
// value.Key, kept in first-seen order: the manual leaves the order
// unspecified).
type pushAcc struct {
	set   *set
	vals  []value.Value
	bytes int64
}

func (a *pushAcc) add(v value.Value) error {
	if v.IsMissing() {
		return nil
	}
	if a.set != nil {
		if a.set.has(v) {
			return nil
		}
		a.set.add(v)
		a.bytes += valueSize(v)
	}
	a.vals = append(a.vals, v)
	a.bytes += valueSize(v)
	return nil
}

func (a *pushAcc) result() (value.Value, error) {
	return arrOf(append([]value.Value{}, a.vals...)), nil
}

func (a *pushAcc) size() int64 { return a.bytes }

// mergeAcc is $mergeObjects: null and Missing ignored, other
// non-documents an error.
type mergeAcc struct {
	ptr    source.Pointer
	fields []field
	idx    map[string]int
	bytes  int64
}

func (a *mergeAcc) add(v value.Value) error {
	if nullish(v) {
		return nil
	}
	if !v.IsDocument() {
		return evalErr(a.ptr, "$mergeObjects requires object inputs, but input %s is of type %s", v, aggTypeName(v))
	}
	if a.idx == nil {
		a.idx = map[string]int{}
	}
	a.fields = mergeInto(a.fields, a.idx, v)
	a.bytes += valueSize(v)
	return nil
}

func (a *mergeAcc) result() (value.Value, error) { return docOf(a.fields), nil }

func (a *mergeAcc) size() int64 { return a.bytes }

// stdDevAcc is $stdDevPop or $stdDevSamp over the numbers (Welford's
// method); null without numbers, and for a sample of one.
type stdDevAcc struct {
	ptr     source.Pointer
	samp    bool
	n       float64
	mean, m float64
}

func (a *stdDevAcc) add(v value.Value) error {
	if v.Type == bson.TypeDecimal128 {
		return decimalErr(a.ptr, "$stdDev")
	}
	n, ok := numOf(v)
	if !ok {
		return nil
	}
	x := n.float()
	a.n++
	d := x - a.mean
	a.mean += d / a.n
	a.m += d * (x - a.mean)
	return nil
}

func (a *stdDevAcc) result() (value.Value, error) {
	if a.n == 0 || a.samp && a.n == 1 {
		return value.Null(), nil
	}
	if a.samp {
		return value.Double(math.Sqrt(a.m / (a.n - 1))), nil
	}
	return value.Double(math.Sqrt(a.m / a.n)), nil
}

func (a *stdDevAcc) size() int64 { return 64 }

// newAccumulator returns the constructor of op's accumulator, or nil.
func newAccumulator(op string, ptr source.Pointer) func() accumulator {
	switch op {
	case "$sum", "$count":
		return func() accumulator { return newSum(ptr) }
	case "$avg":
		return func() accumulator { return &avgAcc{*newSum(ptr)} }
	case "$min", "$max":
		return func() accumulator { return &minMaxAcc{max: op == "$max"} }
	case "$first", "$last":
		return func() accumulator { return &firstLastAcc{last: op == "$last"} }
	case "$push":
		return func() accumulator { return &pushAcc{} }
	case "$addToSet":
		return func() accumulator { return &pushAcc{set: newSet()} }
	case "$mergeObjects":
		return func() accumulator { return &mergeAcc{ptr: ptr} }
	case "$stdDevPop", "$stdDevSamp":
		return func() accumulator { return &stdDevAcc{ptr: ptr, samp: op == "$stdDevSamp"} }
	}
	return nil
}

// knownAccumulators are MongoDB $group accumulators the engine does not
// run.
var knownAccumulators = map[string]bool{
	"$accumulator": true, "$bottom": true, "$bottomN": true, "$firstN": true, "$lastN": true,
	"$maxN": true, "$minN": true, "$median": true, "$percentile": true, "$top": true, "$topN": true,
}

// compileAccumulator compiles one accumulator of $group ({op: arg} at
// ptr): the expression evaluated on each document and the constructor
// of one group's state.
func compileAccumulator(op string, arg bson.RawValue, ptr source.Pointer, vars []string) (expr, func() accumulator, error) {
	newAcc := newAccumulator(op, ptr)
	if newAcc == nil {
		if knownAccumulators[op] {
			return nil, nil, pipeErr(ptr, CodePipelineOperator, fmt.Sprintf("accumulator %q is not supported in memory", op))
		}
		return nil, nil, pipeErr(ptr, CodePipelineOperator, fmt.Sprintf("unknown or unsupported group accumulator %q", op))
	}
	if op == "$count" {
		if arg.Type != bson.TypeEmbeddedDocument || len(arg.Document()) != 5 {
			return nil, nil, operandErr(ptr, "$count takes no arguments, i.e. $count:{}")
		}
		return lit{value.Int32(1)}, newAcc, nil
	}
	if arg.Type == bson.TypeArray {
		return nil, nil, operandErr(ptr, "the %s accumulator is a unary operator", op)
	}
	e, err := compileExpr(arg, ptr, vars)
	if err != nil {
		return nil, nil, err
	}
	return e, newAcc, nil
}

// groupExprOps are the expression forms of the accumulators: one array
// operand is read as its elements, several operands as themselves.
var groupExprOps = map[string]opFunc{
	"$sum": groupExpr("$sum"), "$avg": groupExpr("$avg"), "$min": groupExpr("$min"),
	"$max": groupExpr("$max"), "$stdDevPop": groupExpr("$stdDevPop"), "$stdDevSamp": groupExpr("$stdDevSamp"),
}

func groupExpr(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.args(arg, ptr)
		if err != nil {
			return nil, err
		}
		newAcc := newAccumulator(op, ptr)
		return efn(func(s *scope) (value.Value, error) {
			vs, err := evalAll(s, es)
			if err != nil {
				return value.Missing(), err
			}
			if len(vs) == 1 && vs[0].IsArray() {
				vs = arrayElems(vs[0])
			}
			a := newAcc()
			for _, v := range vs {
				if err := a.add(v); err != nil {
					return value.Missing(), err
				}
			}
			return a.result()
		}), nil
	}
}
