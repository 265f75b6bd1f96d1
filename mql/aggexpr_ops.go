package mql

import (
	"math"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file holds the boolean, comparison, conditional, variable and
// arithmetic operators.

func init() {
	ops = map[string]opFunc{}
	for name, f := range map[string]opFunc{
		"$and": opAnd, "$or": opOr, "$not": opNot,
		"$cmp": cmpOp("$cmp"), "$eq": cmpOp("$eq"), "$ne": cmpOp("$ne"),
		"$gt": cmpOp("$gt"), "$gte": cmpOp("$gte"), "$lt": cmpOp("$lt"), "$lte": cmpOp("$lte"),
		"$cond": opCond, "$ifNull": opIfNull, "$switch": opSwitch, "$let": opLet,
		"$add": opAdd, "$subtract": opSubtract, "$multiply": opMultiply, "$divide": opDivide,
		"$mod": opMod, "$abs": mathOp1("$abs"), "$ceil": mathOp1("$ceil"), "$floor": mathOp1("$floor"),
		"$sqrt": mathOp1("$sqrt"), "$exp": mathOp1("$exp"), "$ln": mathOp1("$ln"), "$log10": mathOp1("$log10"),
		"$pow": opPow, "$log": opLog, "$round": roundOp("$round"), "$trunc": roundOp("$trunc"),
	} {
		ops[name] = f
	}
	for _, m := range []map[string]opFunc{stringOps, arrayOps, typeOps, dateOps, groupExprOps} {
		for name, f := range m {
			ops[name] = f
		}
	}
}

func opAnd(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if !truthy(v) {
				return value.Bool(false), nil
			}
		}
		return value.Bool(true), nil
	}), nil
}

func opOr(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if truthy(v) {
				return value.Bool(true), nil
			}
		}
		return value.Bool(false), nil
	}), nil
}

func opNot(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$not", arg, ptr, 1, 1)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := es[0].eval(s)
		return value.Bool(!truthy(v)), err
	}), nil
}

// cmpOp compiles a comparison: value.Compare, the BSON order across
// types (no coercion between numbers and strings).
func cmpOp(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 2, 2)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			a, err := es[0].eval(s)
			if err != nil {
				return a, err
			}
			b, err := es[1].eval(s)
			if err != nil {
				return b, err
			}
			r := value.Compare(a, b)
			switch op {
			case "$cmp":
				return value.Int32(int32(r)), nil
			case "$eq":
				return value.Bool(r == 0), nil
			case "$ne":
				return value.Bool(r != 0), nil
			case "$gt":
				return value.Bool(r > 0), nil
			case "$gte":
				return value.Bool(r >= 0), nil
			case "$lt":
				return value.Bool(r < 0), nil
			}
			return value.Bool(r <= 0), nil
		}), nil
	}
}

func opCond(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	var es []expr
	if arg.Type == bson.TypeEmbeddedDocument {
		m, err := named("$cond", arg, ptr, []string{"if", "then", "else"}, nil)
		if err != nil {
			return nil, err
		}
		for _, k := range []string{"if", "then", "else"} {
			e, err := c.compile(m[k], ptr.Key(k))
			if err != nil {
				return nil, err
			}
			es = append(es, e)
		}
	} else {
		var err error
		if es, err = c.nargs("$cond", arg, ptr, 3, 3); err != nil {
			return nil, err
		}
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := es[0].eval(s)
		if err != nil {
			return v, err
		}
		if truthy(v) {
			return es[1].eval(s)
		}
		return es[2].eval(s)
	}), nil
}

func opIfNull(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$ifNull", arg, ptr, 2, -1)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		for _, e := range es[:len(es)-1] {
			v, err := e.eval(s)
			if err != nil || !nullish(v) {
				return v, err
			}
		}
		return es[len(es)-1].eval(s)
	}), nil
}

func opSwitch(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$switch", arg, ptr, []string{"branches"}, []string{"default"})
	if err != nil {
		return nil, err
	}
	bp := ptr.Key("branches")
	if m["branches"].Type != bson.TypeArray {
		return nil, operandErr(bp, "$switch expected an array for 'branches'")
	}
	vals, _ := m["branches"].Array().Values()
	type branch struct{ when, then expr }
	var branches []branch
	for i, v := range vals {
		b, err := named("$switch", v, bp.Index(i), []string{"case", "then"}, nil)
		if err != nil {
			return nil, err
		}
		w, err := c.compile(b["case"], bp.Index(i).Key("case"))
		if err != nil {
			return nil, err
		}
		t, err := c.compile(b["then"], bp.Index(i).Key("then"))
		if err != nil {
			return nil, err
		}
		branches = append(branches, branch{w, t})
	}
	if len(branches) == 0 {
		return nil, operandErr(bp, "$switch requires at least one branch")
	}
	def, err := c.optional(m, "default", ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		for _, b := range branches {
			v, err := b.when.eval(s)
			if err != nil {
				return v, err
			}
			if truthy(v) {
				return b.then.eval(s)
			}
		}
		if def == nil {
			return value.Missing(), evalErr(ptr, "$switch could not find a matching branch for an input, and no default was specified.")
		}
		return def.eval(s)
	}), nil
}

func opLet(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$let", arg, ptr, []string{"vars", "in"}, nil)
	if err != nil {
		return nil, err
	}
	vp := ptr.Key("vars")
	if m["vars"].Type != bson.TypeEmbeddedDocument {
		return nil, operandErr(vp, "invalid parameter: expected an object (vars)")
	}
	elems, _ := m["vars"].Document().Elements()
	names := make([]string, len(elems))
	es := make([]expr, len(elems))
	for i, el := range elems {
		if el.Key() == "CURRENT" {
			return nil, pipeErr(vp.Key("CURRENT"), CodePipelineOperator, "$let rebinding CURRENT is not supported in memory")
		}
		if err := checkVarName(el.Key(), vp.Key(el.Key())); err != nil {
			return nil, err
		}
		names[i] = el.Key()
		if es[i], err = c.compile(el.Value(), vp.Key(el.Key())); err != nil {
			return nil, err
		}
	}
	in, err := c.with(names...).compile(m["in"], ptr.Key("in"))
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		inner := s
		for i, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			inner = inner.with(names[i], v)
		}
		return in.eval(inner)
	}), nil
}

// num is an int32, int64 or double operand.
type num struct {
	t bson.Type // bson.TypeInt32, TypeInt64 or TypeDouble
	i int64
	f float64
}

// numOf reads a number; ok is false for any other value, decimal128
// included (see numArgs).
func numOf(v value.Value) (num, bool) {
	switch v.Type {
	case bson.TypeInt32:
		i, _ := v.Int32OK()
		return num{t: bson.TypeInt32, i: int64(i)}, true
	case bson.TypeInt64:
		i, _ := v.Int64OK()
		return num{t: bson.TypeInt64, i: i}, true
	case bson.TypeDouble:
		f, _ := v.DoubleOK()
		return num{t: bson.TypeDouble, f: f}, true
	}
	return num{}, false
}

func (n num) float() float64 {
	if n.t == bson.TypeDouble {
		return n.f
	}
	return float64(n.i)
}

func (n num) val() value.Value {
	switch n.t {
	case bson.TypeInt32:
		return value.Int32(int32(n.i))
	case bson.TypeInt64:
		return value.Int64(n.i)
	}
	return value.Double(n.f)
}

// intNum is an integer result of the wider of a's and b's types: int32
// when both are and it fits, else int64.
func intNum(a, b num, i int64) num {
	if a.t == bson.TypeInt32 && b.t == bson.TypeInt32 && i == int64(int32(i)) {
		return num{t: bson.TypeInt32, i: i}
	}
	return num{t: bson.TypeInt64, i: i}
}

// addNum is a+b with the server's promotion: int32 op int32 is int32
// unless it overflows (then int64), an int64 overflow is a double, any
// double makes a double.
func addNum(a, b num) num {
	if a.t == bson.TypeDouble || b.t == bson.TypeDouble {
		return num{t: bson.TypeDouble, f: a.float() + b.float()}
	}
	s := a.i + b.i
	if (s > a.i) != (b.i > 0) {
		return num{t: bson.TypeDouble, f: a.float() + b.float()}
	}
	return intNum(a, b, s)
}

func subNum(a, b num) num {
	if a.t == bson.TypeDouble || b.t == bson.TypeDouble {
		return num{t: bson.TypeDouble, f: a.float() - b.float()}
	}
	d := a.i - b.i
	if (d < a.i) != (b.i > 0) {
		return num{t: bson.TypeDouble, f: a.float() - b.float()}
	}
	return intNum(a, b, d)
}

func mulNum(a, b num) num {
	if a.t == bson.TypeDouble || b.t == bson.TypeDouble {
		return num{t: bson.TypeDouble, f: a.float() * b.float()}
	}
	p := a.i * b.i
	if a.i != 0 && (p/a.i != b.i || a.i == -1 && b.i == math.MinInt64 || b.i == -1 && a.i == math.MinInt64) {
		return num{t: bson.TypeDouble, f: a.float() * b.float()}
	}
	return intNum(a, b, p)
}

func abs64(i int64) int64 {
	if i < 0 {
		return -i
	}
	return i
}

func decimalErr(ptr source.Pointer, op string) error {
	return unsupportedErr(ptr, "%s of a decimal128 is not supported in memory: no exact decimal arithmetic", op)
}

func opAdd(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		acc := num{t: bson.TypeInt32}
		var date bool
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if nullish(v) {
				return value.Null(), nil
			}
			switch v.Type {
			case bson.TypeDateTime:
				if date {
					return value.Missing(), evalErr(ptr, "only one date allowed in an $add expression")
				}
				date = true
				ms, _ := v.DateTimeOK()
				acc = addNum(acc, num{t: bson.TypeInt64, i: ms})
				continue
			case bson.TypeDecimal128:
				return value.Missing(), decimalErr(ptr, "$add")
			}
			n, ok := numOf(v)
			if !ok {
				return value.Missing(), evalErr(ptr, "$add only supports numeric or date types, not %s", aggTypeName(v))
			}
			acc = addNum(acc, n)
		}
		if date {
			return dateOf(msOf(acc)), nil
		}
		return acc.val(), nil
	}), nil
}

// msOf rounds a number of milliseconds to an int64 as the server does
// for date arithmetic (llround).
func msOf(n num) int64 {
	if n.t != bson.TypeDouble {
		return n.i
	}
	f := math.Round(n.f)
	if f >= 0x1p63 || f < -0x1p63 || math.IsNaN(f) {
		return math.MinInt64
	}
	return int64(f)
}

// twoNums evaluates two operands: null when either is nullish, else
// both as numbers (or an error naming op).
func twoNums(s *scope, ptr source.Pointer, op string, es []expr) (a, b num, null bool, err error) {
	x, err := es[0].eval(s)
	if err != nil {
		return a, b, false, err
	}
	y, err := es[1].eval(s)
	if err != nil {
		return a, b, false, err
	}
	if nullish(x) || nullish(y) {
		return a, b, true, nil
	}
	if x.Type == bson.TypeDecimal128 || y.Type == bson.TypeDecimal128 {
		return a, b, false, decimalErr(ptr, op)
	}
	var ok1, ok2 bool
	a, ok1 = numOf(x)
	b, ok2 = numOf(y)
	if !ok1 || !ok2 {
		return a, b, false, evalErr(ptr, "%s only supports numeric types, not %s and %s", op, aggTypeName(x), aggTypeName(y))
	}
	return a, b, false, nil
}

func opSubtract(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$subtract", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		x, err := es[0].eval(s)
		if err != nil {
			return x, err
		}
		y, err := es[1].eval(s)
		if err != nil {
			return y, err
		}
		if nullish(x) || nullish(y) {
			return value.Null(), nil
		}
		if x.Type == bson.TypeDecimal128 || y.Type == bson.TypeDecimal128 {
			return value.Missing(), decimalErr(ptr, "$subtract")
		}
		if x.Type == bson.TypeDateTime {
			a, _ := x.DateTimeOK()
			if y.Type == bson.TypeDateTime {
				b, _ := y.DateTimeOK()
				return value.Int64(a - b), nil
			}
			if n, ok := numOf(y); ok {
				return dateOf(a - msOf(n)), nil
			}
		} else if a, ok := numOf(x); ok {
			if b, ok := numOf(y); ok {
				return subNum(a, b).val(), nil
			}
		}
		return value.Missing(), evalErr(ptr, "can't $subtract %s from %s", aggTypeName(y), aggTypeName(x))
	}), nil
}

func opMultiply(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		acc := num{t: bson.TypeInt32, i: 1}
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if nullish(v) {
				return value.Null(), nil
			}
			if v.Type == bson.TypeDecimal128 {
				return value.Missing(), decimalErr(ptr, "$multiply")
			}
			n, ok := numOf(v)
			if !ok {
				return value.Missing(), evalErr(ptr, "$multiply only supports numeric types, not %s", aggTypeName(v))
			}
			acc = mulNum(acc, n)
		}
		return acc.val(), nil
	}), nil
}

func opDivide(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$divide", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		a, b, null, err := twoNums(s, ptr, "$divide", es)
		if err != nil || null {
			return value.Null(), err
		}
		if b.float() == 0 {
			return value.Missing(), evalErr(ptr, "can't $divide by zero")
		}
		return value.Double(a.float() / b.float()), nil
	}), nil
}

func opMod(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$mod", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		a, b, null, err := twoNums(s, ptr, "$mod", es)
		if err != nil || null {
			return value.Null(), err
		}
		if b.float() == 0 {
			return value.Missing(), evalErr(ptr, "can't $mod by zero")
		}
		if a.t == bson.TypeDouble || b.t == bson.TypeDouble {
			return value.Double(math.Mod(a.float(), b.float())), nil
		}
		if b.i == -1 {
			return intNum(a, b, 0).val(), nil
		}
		return intNum(a, b, a.i%b.i).val(), nil
	}), nil
}

// oneNum evaluates one operand: null when nullish, else a number.
func oneNum(s *scope, ptr source.Pointer, op string, e expr) (num, bool, error) {
	v, err := e.eval(s)
	if err != nil {
		return num{}, false, err
	}
	if nullish(v) {
		return num{}, true, nil
	}
	if v.Type == bson.TypeDecimal128 {
		return num{}, false, decimalErr(ptr, op)
	}
	n, ok := numOf(v)
	if !ok {
		return n, false, evalErr(ptr, "%s only supports numeric types, not %s", op, aggTypeName(v))
	}
	return n, false, nil
}

func mathOp1(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 1, 1)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			n, null, err := oneNum(s, ptr, op, es[0])
			if err != nil || null {
				return value.Null(), err
			}
			f := n.float()
			switch op {
			case "$abs":
				if n.t == bson.TypeDouble {
					return value.Double(math.Abs(f)), nil
				}
				if n.i == math.MinInt64 {
					return value.Missing(), evalErr(ptr, "can't take $abs of long long min")
				}
				if n.t == bson.TypeInt32 && n.i == math.MinInt32 {
					return value.Int64(-n.i), nil
				}
				return num{t: n.t, i: abs64(n.i)}.val(), nil
			case "$ceil", "$floor":
				if n.t != bson.TypeDouble {
					return n.val(), nil
				}
				if op == "$ceil" {
					return value.Double(math.Ceil(f)), nil
				}
				return value.Double(math.Floor(f)), nil
			case "$sqrt":
				if f < 0 {
					return value.Missing(), evalErr(ptr, "$sqrt's argument must be greater than or equal to 0")
				}
				return value.Double(math.Sqrt(f)), nil
			case "$exp":
				return value.Double(math.Exp(f)), nil
			case "$ln":
				if f <= 0 {
					return value.Missing(), evalErr(ptr, "$ln's argument must be a positive number, but is %v", f)
				}
				return value.Double(math.Log(f)), nil
			}
			if f <= 0 {
				return value.Missing(), evalErr(ptr, "$log10's argument must be a positive number, but is %v", f)
			}
			return value.Double(math.Log10(f)), nil
		}), nil
	}
}

func opLog(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$log", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		a, b, null, err := twoNums(s, ptr, "$log", es)
		if err != nil || null {
			return value.Null(), err
		}
		x, base := a.float(), b.float()
		if x <= 0 {
			return value.Missing(), evalErr(ptr, "$log's argument must be a positive number, but is %v", x)
		}
		if base <= 0 || base == 1 {
			return value.Missing(), evalErr(ptr, "$log's base must be a positive number not equal to 1, but is %v", base)
		}
		return value.Double(math.Log(x) / math.Log(base)), nil
	}), nil
}

func opPow(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$pow", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		a, b, null, err := twoNums(s, ptr, "$pow", es)
		if err != nil || null {
			return value.Null(), err
		}
		if a.float() == 0 && b.float() < 0 {
			return value.Missing(), evalErr(ptr, "$pow cannot take a base of 0 and a negative exponent")
		}
		if a.t == bson.TypeDouble || b.t == bson.TypeDouble {
			return value.Double(math.Pow(a.float(), b.float())), nil
		}
		// Integers: an integer result when exact, as the server computes it.
		switch {
		case a.i == 1 || b.i == 0:
			return intNum(a, b, 1).val(), nil
		case a.i == -1 && b.i%2 == 0:
			return intNum(a, b, 1).val(), nil
		case a.i == -1:
			return intNum(a, b, -1).val(), nil
		case a.i == 0:
			return intNum(a, b, 0).val(), nil
		case b.i < 0:
			return value.Double(math.Pow(a.float(), b.float())), nil
		}
		r := num{t: bson.TypeInt32, i: 1}
		base := num{t: a.t, i: a.i}
		for k := int64(0); k < b.i; k++ {
			r = mulNum(r, base)
			if r.t == bson.TypeDouble {
				return value.Double(math.Pow(a.float(), b.float())), nil
			}
		}
		if a.t == bson.TypeInt64 || b.t == bson.TypeInt64 {
			r.t = bson.TypeInt64
		}
		return r.val(), nil
	}), nil
}

// roundOp compiles $round and $trunc: [number, place] with place an
// integer in -20..100.
func roundOp(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		es, err := c.nargs(op, arg, ptr, 1, 2)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			n, null, err := oneNum(s, ptr, op, es[0])
			if err != nil || null {
				return value.Null(), err
			}
			place := int64(0)
			if len(es) == 2 {
				pv, err := es[1].eval(s)
				if err != nil {
					return pv, err
				}
				if nullish(pv) {
					return value.Null(), nil
				}
				p, ok := pv.IntOK()
				if !ok || p < -20 || p > 100 {
					return value.Missing(), evalErr(ptr, "%s requires \"place\" to be an integer between -20 and 100, found %s", op, pv)
				}
				place = p
			}
			if n.t == bson.TypeDouble {
				if place != 0 {
					// The server rounds a double at a place through a
					// decimal conversion this engine does not reproduce.
					return value.Missing(), unsupportedErr(ptr, "%s of a double at a non-zero place is not supported in memory", op)
				}
				if op == "$trunc" {
					return value.Double(math.Trunc(n.f)), nil
				}
				return value.Double(math.RoundToEven(n.f)), nil
			}
			if place >= 0 {
				return n.val(), nil
			}
			pow := int64(1)
			for k := int64(0); k < -place; k++ {
				if pow > math.MaxInt64/10 {
					if op == "$round" && (n.i >= 5e18 || n.i <= -5e18) {
						return value.Missing(), unsupportedErr(ptr, "%s of %d at place %d leaves the range of its type", op, n.i, place)
					}
					return num{t: n.t}.val(), nil
				}
				pow *= 10
			}
			q, r := n.i/pow, n.i%pow
			if op == "$round" && abs64(r)*2 >= pow {
				// round half to even on the quotient
				if abs64(r)*2 > pow || q%2 != 0 {
					if n.i < 0 {
						q--
					} else {
						q++
					}
				}
			}
			out := q * pow
			if out/pow != q || n.t == bson.TypeInt32 && out != int64(int32(out)) {
				// The server's result type past the input type's range is
				// not documented.
				return value.Missing(), unsupportedErr(ptr, "%s of %d at place %d leaves the range of its type", op, n.i, place)
			}
			return num{t: n.t, i: out}.val(), nil
		}), nil
	}
}
