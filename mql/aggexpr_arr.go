package mql

import (
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// This file holds the array, set and object operators.

var arrayOps = map[string]opFunc{
	"$size": opSize, "$arrayElemAt": opArrayElemAt, "$first": firstLast("$first"), "$last": firstLast("$last"),
	"$in": opIn, "$isArray": opIsArray, "$concatArrays": opConcatArrays, "$filter": opFilter,
	"$map": opMap, "$reduce": opReduce, "$slice": opSlice, "$reverseArray": opReverseArray,
	"$indexOfArray": opIndexOfArray, "$range": opRange, "$arrayToObject": opArrayToObject,
	"$objectToArray": opObjectToArray, "$mergeObjects": opMergeObjects,
	"$setUnion": setOp("$setUnion"), "$setIntersection": setOp("$setIntersection"),
	"$setDifference": setOp("$setDifference"), "$setEquals": setOp("$setEquals"),
	"$setIsSubset": setOp("$setIsSubset"), "$anyElementTrue": elementsTrue("$anyElementTrue"),
	"$allElementsTrue": elementsTrue("$allElementsTrue"), "$zip": opZip, "$sortArray": opSortArray,
	"$getField": opGetField,
}

// elems is an array's elements.
func arrayElems(v value.Value) []value.Value {
	var out []value.Value
	v.Each(func(_ int, e value.Value) bool {
		out = append(out, e)
		return false
	})
	return out
}

// one compiles a one-argument operator and evaluates its argument.
func one(c *compiler, op string, arg bson.RawValue, ptr source.Pointer, f func(v value.Value) (value.Value, error)) (expr, error) {
	es, err := c.nargs(op, arg, ptr, 1, 1)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := es[0].eval(s)
		if err != nil {
			return v, err
		}
		return f(v)
	}), nil
}

func opSize(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	return one(c, "$size", arg, ptr, func(v value.Value) (value.Value, error) {
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "the argument to $size must be an array, but was of type: %s", aggTypeName(v))
		}
		return value.Int32(int32(v.Len())), nil
	})
}

func opIsArray(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	return one(c, "$isArray", arg, ptr, func(v value.Value) (value.Value, error) { return value.Bool(v.IsArray()), nil })
}

func opReverseArray(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	return one(c, "$reverseArray", arg, ptr, func(v value.Value) (value.Value, error) {
		if nullish(v) {
			return value.Null(), nil
		}
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "$reverseArray's argument must be an array, but was of type: %s", aggTypeName(v))
		}
		es := arrayElems(v)
		for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
			es[i], es[j] = es[j], es[i]
		}
		return arrOf(es), nil
	})
}

func firstLast(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		return one(c, op, arg, ptr, func(v value.Value) (value.Value, error) {
			if nullish(v) {
				return value.Null(), nil
			}
			if !v.IsArray() {
				return value.Missing(), evalErr(ptr, "%s's argument must be an array, but is %s", op, aggTypeName(v))
			}
			n := v.Len()
			if n == 0 {
				return value.Missing(), nil
			}
			if op == "$first" {
				return v.Index(0), nil
			}
			return v.Index(n - 1), nil
		})
	}
}

func opArrayElemAt(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$arrayElemAt", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		vs, err := evalAll(s, es)
		if err != nil {
			return value.Missing(), err
		}
		if nullish(vs[0]) || nullish(vs[1]) {
			return value.Null(), nil
		}
		if !vs[0].IsArray() {
			return value.Missing(), evalErr(ptr, "$arrayElemAt's first argument must be an array, but is %s", aggTypeName(vs[0]))
		}
		i, ok := vs[1].IntOK()
		if !ok || !vs[1].IsNumber() || i != int64(int32(i)) {
			return value.Missing(), evalErr(ptr, "$arrayElemAt's second argument must be a 32-bit integer, but is %s", vs[1])
		}
		if i < 0 {
			i += int64(vs[0].Len())
		}
		return vs[0].Index(int(i)), nil
	}), nil
}

func opIn(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$in", arg, ptr, 2, 2)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		vs, err := evalAll(s, es)
		if err != nil {
			return value.Missing(), err
		}
		if !vs[1].IsArray() {
			return value.Missing(), evalErr(ptr, "$in requires an array as a second argument, found: %s", aggTypeName(vs[1]))
		}
		found := false
		vs[1].Each(func(_ int, e value.Value) bool {
			found = value.Compare(vs[0], e) == 0
			return found
		})
		return value.Bool(found), nil
	}), nil
}

func opConcatArrays(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		out := []value.Value{}
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if nullish(v) {
				return value.Null(), nil
			}
			if !v.IsArray() {
				return value.Missing(), evalErr(ptr, "$concatArrays only supports arrays, not %s", aggTypeName(v))
			}
			out = append(out, arrayElems(v)...)
		}
		return arrOf(out), nil
	}), nil
}

// asName reads the optional 'as' of $filter and $map.
func asName(op string, m map[string]bson.RawValue, ptr source.Pointer) (string, error) {
	as, ok := m["as"]
	if !ok {
		return "this", nil
	}
	name, isStr := as.StringValueOK()
	if !isStr {
		return "", operandErr(ptr.Key("as"), "%s: 'as' must be a string", op)
	}
	return name, checkVarName(name, ptr.Key("as"))
}

func opFilter(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$filter", arg, ptr, []string{"input", "cond"}, []string{"as", "limit"})
	if err != nil {
		return nil, err
	}
	name, err := asName("$filter", m, ptr)
	if err != nil {
		return nil, err
	}
	in, err := c.compile(m["input"], ptr.Key("input"))
	if err != nil {
		return nil, err
	}
	cond, err := c.with(name).compile(m["cond"], ptr.Key("cond"))
	if err != nil {
		return nil, err
	}
	limit, err := c.optional(m, "limit", ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := in.eval(s)
		if err != nil || nullish(v) {
			return value.Null(), err
		}
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "input to $filter must be an array not %s", aggTypeName(v))
		}
		n := int64(-1)
		if limit != nil {
			lv, err := limit.eval(s)
			if err != nil {
				return lv, err
			}
			if !nullish(lv) {
				l, ok := lv.IntOK()
				if !ok || !lv.IsNumber() || l <= 0 || l != int64(int32(l)) {
					return value.Missing(), evalErr(ptr, "$filter: limit must be a positive 32-bit integer, found %s", lv)
				}
				n = l
			}
		}
		out := []value.Value{}
		for _, e := range arrayElems(v) {
			if n >= 0 && int64(len(out)) >= n {
				break
			}
			if err := s.charge(1); err != nil {
				return value.Missing(), err
			}
			r, err := cond.eval(s.with(name, e))
			if err != nil {
				return r, err
			}
			if truthy(r) {
				out = append(out, e)
			}
		}
		return arrOf(out), nil
	}), nil
}

func opMap(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$map", arg, ptr, []string{"input", "in"}, []string{"as"})
	if err != nil {
		return nil, err
	}
	name, err := asName("$map", m, ptr)
	if err != nil {
		return nil, err
	}
	in, err := c.compile(m["input"], ptr.Key("input"))
	if err != nil {
		return nil, err
	}
	each, err := c.with(name).compile(m["in"], ptr.Key("in"))
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := in.eval(s)
		if err != nil || nullish(v) {
			return value.Null(), err
		}
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "input to $map must be an array not %s", aggTypeName(v))
		}
		es := arrayElems(v)
		out := make([]value.Value, len(es))
		for i, e := range es {
			if err := s.charge(1); err != nil {
				return value.Missing(), err
			}
			if out[i], err = each.eval(s.with(name, e)); err != nil {
				return value.Missing(), err
			}
		}
		return arrOf(out), nil
	}), nil
}

func opReduce(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$reduce", arg, ptr, []string{"input", "initialValue", "in"}, nil)
	if err != nil {
		return nil, err
	}
	in, err := c.compile(m["input"], ptr.Key("input"))
	if err != nil {
		return nil, err
	}
	init, err := c.compile(m["initialValue"], ptr.Key("initialValue"))
	if err != nil {
		return nil, err
	}
	each, err := c.with("this", "value").compile(m["in"], ptr.Key("in"))
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := in.eval(s)
		if err != nil || nullish(v) {
			return value.Null(), err
		}
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "$reduce requires that 'input' be an array, found: %s", aggTypeName(v))
		}
		acc, err := init.eval(s)
		if err != nil {
			return acc, err
		}
		for _, e := range arrayElems(v) {
			if err := s.charge(1); err != nil {
				return value.Missing(), err
			}
			if acc, err = each.eval(s.with("value", acc).with("this", e)); err != nil {
				return acc, err
			}
		}
		return acc, nil
	}), nil
}

func opSlice(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$slice", arg, ptr, 2, 3)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		vs, err := evalAll(s, es)
		if err != nil {
			return value.Missing(), err
		}
		for _, v := range vs {
			if nullish(v) {
				return value.Null(), nil
			}
		}
		if !vs[0].IsArray() {
			return value.Missing(), evalErr(ptr, "first argument to $slice must be an array, but is of type: %s", aggTypeName(vs[0]))
		}
		arr := arrayElems(vs[0])
		n := int64(len(arr))
		var ints []int64
		for _, v := range vs[1:] {
			i, ok := v.IntOK()
			if !ok || !v.IsNumber() || i != int64(int32(i)) {
				return value.Missing(), evalErr(ptr, "$slice: arguments must be 32-bit integers, found %s", v)
			}
			ints = append(ints, i)
		}
		var start, end int64
		if len(ints) == 1 {
			if ints[0] >= 0 {
				start, end = 0, min(ints[0], n)
			} else {
				start, end = max(n+ints[0], 0), n
			}
		} else {
			if ints[1] <= 0 {
				return value.Missing(), evalErr(ptr, "third argument to $slice must be positive: %d", ints[1])
			}
			start = ints[0]
			if start < 0 {
				start = max(n+start, 0)
			}
			start = min(start, n)
			end = min(start+ints[1], n)
		}
		return arrOf(arr[start:end]), nil
	}), nil
}

func opIndexOfArray(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$indexOfArray", arg, ptr, 2, 4)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		vs, err := evalAll(s, es)
		if err != nil {
			return value.Missing(), err
		}
		if nullish(vs[0]) {
			return value.Null(), nil
		}
		if !vs[0].IsArray() {
			return value.Missing(), evalErr(ptr, "$indexOfArray requires an array as a first argument, found: %s", aggTypeName(vs[0]))
		}
		arr := arrayElems(vs[0])
		start, end := int64(0), int64(len(arr))
		for k, v := range vs[2:] {
			i, ok := v.IntOK()
			if !ok || !v.IsNumber() || i < 0 || i != int64(int32(i)) {
				return value.Missing(), evalErr(ptr, "$indexOfArray requires a nonnegative 32-bit integer index, found: %s", v)
			}
			if k == 0 {
				start = i
			} else if i < end {
				end = i
			}
		}
		for i := start; i < end; i++ {
			if value.Compare(arr[i], vs[1]) == 0 {
				return value.Int32(int32(i)), nil
			}
		}
		return value.Int32(-1), nil
	}), nil
}

func opRange(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.nargs("$range", arg, ptr, 2, 3)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		vs, err := evalAll(s, es)
		if err != nil {
			return value.Missing(), err
		}
		ints := []int64{0, 0, 1}
		for k, v := range vs {
			i, ok := v.IntOK()
			if !ok || !v.IsNumber() || i != int64(int32(i)) {
				return value.Missing(), evalErr(ptr, "$range requires 32-bit integer arguments, found %s", v)
			}
			ints[k] = i
		}
		if ints[2] == 0 {
			return value.Missing(), evalErr(ptr, "$range requires a non-zero step value")
		}
		// Each element takes at least 7 bytes (type, key, NUL, int32).
		var n int64
		switch {
		case ints[2] > 0 && ints[1] > ints[0]:
			n = (ints[1] - ints[0] + ints[2] - 1) / ints[2]
		case ints[2] < 0 && ints[0] > ints[1]:
			n = (ints[0] - ints[1] - ints[2] - 1) / -ints[2]
		}
		if err := s.reserve(7 * n); err != nil {
			return value.Missing(), err
		}
		var out []value.Value
		for i := ints[0]; ints[2] > 0 && i < ints[1] || ints[2] < 0 && i > ints[1]; i += ints[2] {
			if len(out) >= 1<<22 {
				return value.Missing(), evalErr(ptr, "$range would produce more than %d elements", 1<<22)
			}
			out = append(out, value.Int32(int32(i)))
		}
		return arrOf(out), nil
	}), nil
}

func opArrayToObject(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	return one(c, "$arrayToObject", arg, ptr, func(v value.Value) (value.Value, error) {
		if nullish(v) {
			return value.Null(), nil
		}
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "$arrayToObject requires an array input, found: %s", aggTypeName(v))
		}
		var fields []field
		idx := map[string]int{}
		for _, e := range arrayElems(v) {
			var k, val value.Value
			switch {
			case e.IsArray() && e.Len() == 2:
				k, val = e.Index(0), e.Index(1)
			case e.IsDocument() && e.Len() == 2 && !e.Field("k").IsMissing() && !e.Field("v").IsMissing():
				k, val = e.Field("k"), e.Field("v")
			default:
				return value.Missing(), evalErr(ptr, "$arrayToObject requires an array of [key, value] pairs or of {k, v} documents")
			}
			if k.Type != bson.TypeString {
				return value.Missing(), evalErr(ptr, "$arrayToObject requires a string key, found: %s", aggTypeName(k))
			}
			name := string(strData(k))
			if name == "" || name[0] == '$' || containsByte(name, 0) {
				return value.Missing(), evalErr(ptr, "$arrayToObject: invalid key %q", name)
			}
			if i, ok := idx[name]; ok {
				fields[i].val = val
				continue
			}
			idx[name] = len(fields)
			fields = append(fields, field{name, val})
		}
		return docOf(fields), nil
	})
}

func containsByte(s string, b byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == b {
			return true
		}
	}
	return false
}

// docFields is a document's fields in order.
func docFields(v value.Value) []field {
	var out []field
	doc, _ := v.DocumentOK()
	els, _ := doc.Elements()
	for _, el := range els {
		out = append(out, field{el.Key(), value.FromRaw(el.Value())})
	}
	return out
}

func opObjectToArray(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	return one(c, "$objectToArray", arg, ptr, func(v value.Value) (value.Value, error) {
		if nullish(v) {
			return value.Null(), nil
		}
		if !v.IsDocument() {
			return value.Missing(), evalErr(ptr, "$objectToArray requires a document input, found: %s", aggTypeName(v))
		}
		var out []value.Value
		for _, f := range docFields(v) {
			out = append(out, docOf([]field{{"k", value.String(f.name)}, {"v", f.val}}))
		}
		return arrOf(out), nil
	})
}

// mergeInto merges a document's fields into fields (later values win,
// in the place of the first).
func mergeInto(fields []field, idx map[string]int, v value.Value) []field {
	for _, f := range docFields(v) {
		if i, ok := idx[f.name]; ok {
			fields[i].val = f.val
			continue
		}
		idx[f.name] = len(fields)
		fields = append(fields, f)
	}
	return fields
}

func opMergeObjects(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	es, err := c.args(arg, ptr)
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		var fields []field
		idx := map[string]int{}
		for _, e := range es {
			v, err := e.eval(s)
			if err != nil {
				return v, err
			}
			if nullish(v) {
				continue
			}
			if !v.IsDocument() {
				return value.Missing(), evalErr(ptr, "$mergeObjects requires object inputs, but input %s is of type %s", v, aggTypeName(v))
			}
			fields = mergeInto(fields, idx, v)
		}
		return docOf(fields), nil
	}), nil
}

// set is the distinct elements of an array, in first-seen order.
type set struct {
	vals []value.Value
	keys map[string]bool
}

func newSet() *set { return &set{keys: map[string]bool{}} }

func (s *set) add(v value.Value) {
	k := string(value.Key(nil, v))
	if !s.keys[k] {
		s.keys[k] = true
		s.vals = append(s.vals, v)
	}
}

func (s *set) has(v value.Value) bool { return s.keys[string(value.Key(nil, v))] }

// sorted is the set's values in BSON order: the server returns a set
// operator's result in an unspecified order; this one is deterministic.
func (s *set) sorted() value.Value {
	out := append([]value.Value(nil), s.vals...)
	sort.SliceStable(out, func(i, j int) bool { return value.Compare(out[i], out[j]) < 0 })
	return arrOf(out)
}

func setOp(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		lo, hi := 0, -1
		switch op {
		case "$setDifference", "$setIsSubset":
			lo, hi = 2, 2
		case "$setEquals":
			lo = 2
		}
		es, err := c.nargs(op, arg, ptr, lo, hi)
		if err != nil {
			return nil, err
		}
		return efn(func(s *scope) (value.Value, error) {
			vs, err := evalAll(s, es)
			if err != nil {
				return value.Missing(), err
			}
			sets := make([]*set, len(vs))
			for i, v := range vs {
				if nullish(v) && (op == "$setUnion" || op == "$setIntersection" || op == "$setDifference") {
					return value.Null(), nil
				}
				if !v.IsArray() {
					return value.Missing(), evalErr(ptr, "all operands of %s must be arrays. One argument is of type: %s", op, aggTypeName(v))
				}
				sets[i] = newSet()
				for _, e := range arrayElems(v) {
					sets[i].add(e)
				}
			}
			switch op {
			case "$setUnion":
				u := newSet()
				for _, st := range sets {
					for _, e := range st.vals {
						u.add(e)
					}
				}
				return u.sorted(), nil
			case "$setIntersection":
				r := newSet()
				if len(sets) > 0 {
					for _, e := range sets[0].vals {
						in := true
						for _, st := range sets[1:] {
							in = in && st.has(e)
						}
						if in {
							r.add(e)
						}
					}
				}
				return r.sorted(), nil
			case "$setDifference":
				r := newSet()
				for _, e := range sets[0].vals {
					if !sets[1].has(e) {
						r.add(e)
					}
				}
				return r.sorted(), nil
			case "$setIsSubset":
				for _, e := range sets[0].vals {
					if !sets[1].has(e) {
						return value.Bool(false), nil
					}
				}
				return value.Bool(true), nil
			}
			for _, st := range sets[1:] {
				if len(st.vals) != len(sets[0].vals) {
					return value.Bool(false), nil
				}
				for _, e := range st.vals {
					if !sets[0].has(e) {
						return value.Bool(false), nil
					}
				}
			}
			return value.Bool(true), nil
		}), nil
	}
}

func elementsTrue(op string) opFunc {
	return func(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
		return one(c, op, arg, ptr, func(v value.Value) (value.Value, error) {
			if !v.IsArray() {
				return value.Missing(), evalErr(ptr, "%s's argument must be an array, but is %s", op, aggTypeName(v))
			}
			any, all := false, true
			for _, e := range arrayElems(v) {
				t := truthy(e)
				any, all = any || t, all && t
			}
			if op == "$anyElementTrue" {
				return value.Bool(any), nil
			}
			return value.Bool(all), nil
		})
	}
}

func opZip(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$zip", arg, ptr, []string{"inputs"}, []string{"useLongestLength", "defaults"})
	if err != nil {
		return nil, err
	}
	if m["inputs"].Type != bson.TypeArray {
		return nil, operandErr(ptr.Key("inputs"), "$zip: inputs must be an array of expressions")
	}
	inputs, err := c.compile(m["inputs"], ptr.Key("inputs"))
	if err != nil {
		return nil, err
	}
	longest := false
	if l, ok := m["useLongestLength"]; ok {
		if longest, ok = l.BooleanOK(); !ok {
			return nil, operandErr(ptr.Key("useLongestLength"), "useLongestLength must be a bool, found %s", aggTypeName(value.FromRaw(l)))
		}
	}
	defaults, err := c.optional(m, "defaults", ptr)
	if err != nil {
		return nil, err
	}
	if defaults != nil && !longest {
		return nil, operandErr(ptr.Key("defaults"), "cannot specify defaults unless useLongestLength is true")
	}
	return efn(func(s *scope) (value.Value, error) {
		in, err := inputs.eval(s)
		if err != nil || nullish(in) {
			return value.Null(), err
		}
		if !in.IsArray() {
			return value.Missing(), evalErr(ptr, "$zip: inputs must be an array of expressions, found %s", aggTypeName(in))
		}
		var arrays [][]value.Value
		for _, a := range arrayElems(in) {
			if nullish(a) {
				return value.Null(), nil
			}
			if !a.IsArray() {
				return value.Missing(), evalErr(ptr, "$zip found a non-array expression in input: %s", a)
			}
			arrays = append(arrays, arrayElems(a))
		}
		var defs []value.Value
		if defaults != nil {
			d, err := defaults.eval(s)
			if err != nil {
				return d, err
			}
			if !d.IsArray() || d.Len() != len(arrays) {
				return value.Missing(), evalErr(ptr, "$zip requires defaults to be an array of the same length as inputs")
			}
			defs = arrayElems(d)
		}
		n := -1
		for _, a := range arrays {
			if n < 0 || longest && len(a) > n || !longest && len(a) < n {
				n = len(a)
			}
		}
		out := []value.Value{}
		for i := 0; i < n; i++ {
			row := make([]value.Value, len(arrays))
			for k, a := range arrays {
				switch {
				case i < len(a):
					row[k] = a[i]
				case defs != nil:
					row[k] = defs[k]
				default:
					row[k] = value.Null()
				}
			}
			out = append(out, arrOf(row))
		}
		return arrOf(out), nil
	}), nil
}

// opSortArray is $sortArray with sortBy 1 or -1 (the elements in the BSON
// order); a sortBy document (by fields of the elements) is refused.
func opSortArray(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	m, err := named("$sortArray", arg, ptr, []string{"input", "sortBy"}, nil)
	if err != nil {
		return nil, err
	}
	dir, ok := value.FromRaw(m["sortBy"]).IntOK()
	if m["sortBy"].Type == bson.TypeEmbeddedDocument {
		return nil, pipeErr(ptr.Key("sortBy"), CodePipelineOperator, "$sortArray by fields is not supported in memory")
	}
	if !ok || dir != 1 && dir != -1 || !value.FromRaw(m["sortBy"]).IsNumber() {
		return nil, operandErr(ptr.Key("sortBy"), "$sortArray: sortBy must be 1, -1 or a sort specification document")
	}
	in, err := c.compile(m["input"], ptr.Key("input"))
	if err != nil {
		return nil, err
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := in.eval(s)
		if err != nil || nullish(v) {
			return value.Null(), err
		}
		if !v.IsArray() {
			return value.Missing(), evalErr(ptr, "the 'input' argument to $sortArray must be an array, but was of type: %s", aggTypeName(v))
		}
		es := arrayElems(v)
		sort.SliceStable(es, func(i, j int) bool { return value.Compare(es[i], es[j])*int(dir) < 0 })
		return arrOf(es), nil
	}), nil
}

// opGetField is $getField: {field: <string>, input: <expr>} or the
// shorthand {$getField: <string>} on $$CURRENT; the field name is taken
// whole (dots and "$" included), as the manual says.
func opGetField(c *compiler, arg bson.RawValue, ptr source.Pointer) (expr, error) {
	var fieldArg bson.RawValue
	var input expr = efn(func(s *scope) (value.Value, error) { return s.current, nil })
	if arg.Type == bson.TypeEmbeddedDocument && !isOperatorDoc(arg.Document()) {
		m, err := named("$getField", arg, ptr, []string{"field"}, []string{"input"})
		if err != nil {
			return nil, err
		}
		fieldArg = m["field"]
		if in, err := c.optional(m, "input", ptr); err != nil {
			return nil, err
		} else if in != nil {
			input = in
		}
	} else {
		fieldArg = arg
	}
	name, ok := fieldArg.StringValueOK()
	if doc, isDoc := fieldArg.DocumentOK(); isDoc {
		if els, err := doc.Elements(); err == nil && len(els) == 1 && els[0].Key() == "$literal" {
			name, ok = els[0].Value().StringValueOK()
		}
	}
	if !ok || strings.HasPrefix(name, "$") && fieldArg.Type == bson.TypeString {
		return nil, operandErr(ptr, "$getField requires 'field' to evaluate to a constant string (use {$literal: ...} for a name that starts with \"$\")")
	}
	return efn(func(s *scope) (value.Value, error) {
		v, err := input.eval(s)
		if err != nil {
			return v, err
		}
		if nullish(v) {
			return value.Null(), nil
		}
		if !v.IsDocument() {
			return value.Missing(), evalErr(ptr, "$getField requires 'input' to evaluate to type Object, but got %s", aggTypeName(v))
		}
		return v.Field(name), nil
	}), nil
}
