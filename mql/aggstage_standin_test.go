package mql

// A stand-in for the expression side (branch h-aggexpr) so that the
// stage tests run before it is merged: field paths, $$ROOT, $$CURRENT,
// $$REMOVE and user variables, literals, $literal, expression objects and
// arrays; accumulators $sum, $push, $first and $count. Delete this file
// when merging h-aggexpr: its compileExpr and compileAccumulator replace
// these.

import (
	"errors"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

type standinExpr func(s *scope) (value.Value, error)

func (f standinExpr) eval(s *scope) (value.Value, error) { return f(s) }

func compileExpr(rv bson.RawValue, ptr source.Pointer, vars []string) (expr, error) {
	v := value.FromRaw(rv)
	if str, ok := v.StringOK(); ok && strings.HasPrefix(str, "$") {
		var base func(s *scope) value.Value
		var path []string
		if strings.HasPrefix(str, "$$") {
			parts := strings.Split(str[2:], ".")
			name := parts[0]
			path = parts[1:]
			switch name {
			case "ROOT":
				base = func(s *scope) value.Value { return s.root }
			case "CURRENT":
				base = func(s *scope) value.Value { return s.current }
			case "REMOVE":
				base = func(*scope) value.Value { return value.Missing() }
			default:
				found := false
				for _, n := range vars {
					found = found || n == name
				}
				if !found {
					return nil, pipeErr(ptr, CodePipelineVariable, "Use of undefined variable: "+name)
				}
				base = func(s *scope) value.Value { x, _ := s.lookupVar(name); return x }
			}
		} else {
			path = strings.Split(str[1:], ".")
			base = func(s *scope) value.Value { return s.current }
		}
		return standinExpr(func(s *scope) (value.Value, error) {
			x := base(s)
			for _, c := range path {
				switch {
				case x.IsDocument():
					x = x.Field(c)
				case x.IsArray():
					var out []value.Value
					x.Each(func(_ int, e value.Value) bool {
						if e.IsDocument() {
							if f := e.Field(c); !f.IsMissing() {
								out = append(out, f)
							}
						}
						return false
					})
					x = arrOf(out)
				default:
					return value.Missing(), nil
				}
			}
			return x, nil
		}), nil
	}
	if v.IsDocument() {
		fs := mustElems(v)
		if len(fs) == 1 && fs[0].name == "$literal" {
			lit := fs[0].val
			return standinExpr(func(*scope) (value.Value, error) { return lit, nil }), nil
		}
		if len(fs) > 0 && strings.HasPrefix(fs[0].name, "$") {
			return nil, pipeErr(ptr.Key(fs[0].name), CodePipelineOperator, "the stand-in does not evaluate "+fs[0].name)
		}
		var names []string
		var es []expr
		for _, f := range fs {
			e, err := compileExpr(f.val.RawValue(), ptr.Key(f.name), vars)
			if err != nil {
				return nil, err
			}
			names, es = append(names, f.name), append(es, e)
		}
		return standinExpr(func(s *scope) (value.Value, error) {
			out := make([]field, len(es))
			for i, e := range es {
				x, err := e.eval(s)
				if err != nil {
					return value.Value{}, err
				}
				out[i] = field{names[i], x}
			}
			return docOf(out), nil
		}), nil
	}
	if v.IsArray() {
		var es []expr
		var err error
		v.Each(func(i int, e value.Value) bool {
			var x expr
			x, err = compileExpr(e.RawValue(), ptr.Index(i), vars)
			es = append(es, x)
			return err != nil
		})
		if err != nil {
			return nil, err
		}
		return standinExpr(func(s *scope) (value.Value, error) {
			out := make([]value.Value, len(es))
			for i, e := range es {
				x, err := e.eval(s)
				if err != nil {
					return value.Value{}, err
				}
				out[i] = x
			}
			return arrOf(out), nil
		}), nil
	}
	return standinExpr(func(*scope) (value.Value, error) { return v, nil }), nil
}

type standinAcc struct {
	op   string
	sum  int64
	vals []value.Value
	set  bool
}

func (a *standinAcc) add(v value.Value) error {
	switch a.op {
	case "$sum", "$count":
		if a.op == "$count" {
			v = value.Int32(1)
		}
		if n, ok := v.IntOK(); ok && v.IsNumber() {
			a.sum += n
		} else if v.IsNumber() {
			return errors.New("the stand-in sums whole numbers only")
		}
	case "$push":
		if !v.IsMissing() {
			a.vals = append(a.vals, v)
		}
	case "$first":
		if !a.set {
			a.vals, a.set = []value.Value{v}, true
		}
	}
	return nil
}

func (a *standinAcc) result() (value.Value, error) {
	switch a.op {
	case "$sum", "$count":
		return countValue(a.sum), nil
	case "$push":
		return arrOf(a.vals), nil
	}
	if len(a.vals) == 0 || a.vals[0].IsMissing() {
		return value.Null(), nil
	}
	return a.vals[0], nil
}

func (a *standinAcc) size() int64 {
	n := int64(16)
	for _, v := range a.vals {
		n += int64(len(v.Data))
	}
	return n
}

func compileAccumulator(op string, arg bson.RawValue, ptr source.Pointer, vars []string) (expr, func() accumulator, error) {
	switch op {
	case "$sum", "$push", "$first", "$count":
	default:
		return nil, nil, pipeErr(ptr, CodePipelineOperator, "the stand-in does not accumulate "+op)
	}
	e, err := compileExpr(arg, ptr, vars)
	if err != nil {
		return nil, nil, err
	}
	return e, func() accumulator { return &standinAcc{op: op} }, nil
}
