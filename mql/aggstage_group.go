package mql

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// sortKey is one field of a $sort.
type sortKey struct {
	path []string
	desc bool
}

// compileSort compiles {$sort: {field: 1 | -1, ...}}; {$meta} is refused.
func compileSort(arg value.Value, ptr source.Pointer) (stage, error) {
	if !arg.IsDocument() || len(mustElems(arg)) == 0 {
		return nil, pipeErr(ptr, CodePipelineMalformed, "$sort key specification must be a non-empty object")
	}
	st := &sortStage{ptr: ptr}
	for _, f := range mustElems(arg) {
		at := ptr.Key(f.name)
		if f.val.IsDocument() {
			return nil, unsupportedAt(at, "$sort by {$meta} is not supported in memory")
		}
		n, ok := f.val.IntOK()
		if !ok || !f.val.IsNumber() || n != 1 && n != -1 {
			return nil, pipeErr(at, CodePipelineMalformed, "$sort key ordering must be 1 (for ascending) or -1 (for descending)")
		}
		parts := strings.Split(f.name, ".")
		for _, c := range parts {
			if c == "" || c[0] == '$' {
				return nil, pipeErr(at, CodePipelineMalformed, "FieldPath field names may not be empty or start with '$': "+strconv.Quote(f.name))
			}
		}
		st.keys = append(st.keys, sortKey{path: parts, desc: n == -1})
	}
	return st, nil
}

type sortStage struct {
	keys []sortKey
	top  int64 // a $limit that follows: only the top k are kept
	ptr  source.Pointer
}

// sortValue is the value a document sorts by on one key: the manual's
// "ascending/descending sort of arrays" (the smallest element of an
// array ascending, its largest descending; through arrays of documents
// every value the path reaches), a missing field as null, and an empty
// array below null (as the server's sort key, undefined).
func sortValue(doc value.Value, path []string, desc bool) value.Value {
	var best value.Value
	found := false
	n := 0
	consider := func(v value.Value) {
		n++
		if !found || (value.Compare(v, best) < 0) != desc && value.Compare(v, best) != 0 {
			best, found = v, true
		}
	}
	var walk func(v value.Value, p []string, inArray bool)
	walk = func(v value.Value, p []string, inArray bool) {
		if len(p) == 0 {
			switch {
			case v.IsArray() && !inArray:
				if v.Len() == 0 {
					consider(value.Value{Type: bson.TypeUndefined, Data: []byte{}})
					return
				}
				v.Each(func(_ int, e value.Value) bool { consider(e); return false })
			case v.IsMissing():
				consider(value.Null())
			default:
				consider(v)
			}
			return
		}
		switch {
		case v.IsDocument():
			walk(v.Field(p[0]), p[1:], false)
		case v.IsArray() && !inArray:
			// The documents of the array (a missing field null), and
			// for "a.0" its element too; scalars are skipped; nothing
			// found is null.
			before := n
			if i, ok := value.ArrayIndex(p[0]); ok && i < v.Len() {
				walk(v.Index(i), p[1:], false)
			}
			v.Each(func(_ int, e value.Value) bool {
				if e.IsDocument() {
					walk(e, p, true)
				}
				return false
			})
			if n == before {
				consider(value.Null())
			}
		default:
			consider(value.Null())
		}
	}
	walk(doc, path, false)
	return best
}

type sortRow struct {
	doc  bson.Raw
	keys []value.Value
}

func (st *sortStage) less(a, b *sortRow) int {
	for i, k := range st.keys {
		c := value.Compare(a.keys[i], b.keys[i])
		if k.desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func (st *sortStage) open(rc *runCtx, _ *scope, in Docs) Docs {
	return &sliceOut{fill: func(ctx context.Context) ([]bson.Raw, error) {
		var rows []*sortRow
		var held int64
		for {
			raw, err := in.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			doc := value.FromDocument(raw)
			r := &sortRow{doc: raw}
			for _, k := range st.keys {
				r.keys = append(r.keys, sortValue(doc, k.path, k.desc))
			}
			if st.top > 0 {
				// Insert after its equals (stable); drop the k+1th.
				i, _ := slices.BinarySearchFunc(rows, r, func(x, y *sortRow) int {
					if st.less(x, y) <= 0 {
						return -1
					}
					return 1
				})
				if int64(i) >= st.top {
					continue
				}
				rows = slices.Insert(rows, i, r)
				held += docSize(raw)
				if int64(len(rows)) > st.top {
					held -= docSize(rows[len(rows)-1].doc)
					rows = rows[:len(rows)-1]
				}
			} else {
				rows = append(rows, r)
				held += docSize(raw)
			}
			if held > rc.limit {
				return nil, failAt(st.ptr, CodePipelineMemory, "Sort exceeded memory limit of "+strconv.FormatInt(rc.limit, 10)+" bytes, but did not opt in to external sorting.")
			}
		}
		if st.top == 0 {
			slices.SortStableFunc(rows, st.less)
		}
		out := make([]bson.Raw, len(rows))
		for i, r := range rows {
			out[i] = r.doc
		}
		return out, nil
	}}
}

type sampleStage struct {
	size int64
	ptr  source.Pointer
}

// open keeps a uniform reservoir of size documents and returns them in a
// random order (math/rand/v2).
func (st *sampleStage) open(rc *runCtx, _ *scope, in Docs) Docs {
	return &sliceOut{fill: func(ctx context.Context) ([]bson.Raw, error) {
		var res []bson.Raw
		var held, seen int64
		for {
			raw, err := in.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			seen++
			if int64(len(res)) < st.size {
				res = append(res, raw)
				held += docSize(raw)
			} else if j := rand.Int64N(seen); j < st.size {
				held += docSize(raw) - docSize(res[j])
				res[j] = raw
			}
			if held > rc.limit {
				return nil, memoryFailed(st.ptr, "$sample", rc.limit)
			}
		}
		rand.Shuffle(len(res), func(i, j int) { res[i], res[j] = res[j], res[i] })
		return res, nil
	}}
}

// accSpec is one output field of $group, $bucket or $bucketAuto.
type accSpec struct {
	name   string
	arg    expr
	newAcc func() accumulator
	ptr    source.Pointer
}

// compileAccs compiles the accumulator fields of spec but skip.
func compileAccs(spec value.Value, ptr source.Pointer, vars []string, skip string) ([]accSpec, error) {
	var out []accSpec
	for _, f := range mustElems(spec) {
		if f.name == skip {
			continue
		}
		at := ptr.Key(f.name)
		if f.name == "" || f.name[0] == '$' || strings.Contains(f.name, ".") {
			return nil, pipeErr(at, CodePipelineMalformed, "the group aggregate field name "+strconv.Quote(f.name)+" cannot be an operator name or contain a '.'")
		}
		fs := mustElems(f.val)
		if !f.val.IsDocument() || len(fs) != 1 || !strings.HasPrefix(fs[0].name, "$") {
			return nil, pipeErr(at, CodePipelineMalformed, "The field "+strconv.Quote(f.name)+" must be an accumulator object")
		}
		argPtr := at.Key(fs[0].name)
		arg, newAcc, err := compileAccumulator(fs[0].name, fs[0].val.RawValue(), argPtr, vars)
		if err != nil {
			return nil, err
		}
		out = append(out, accSpec{name: f.name, arg: arg, newAcc: newAcc, ptr: argPtr})
	}
	return out, nil
}

// groups holds the groups of a $group (or a bucket stage) in first-seen
// order, keyed by value.Key, and the bytes they hold.
type groups struct {
	accs  []accSpec
	index map[string]int
	keys  []value.Value
	state [][]accumulator
	held  int64
	limit int64
}

func newGroups(accs []accSpec, limit int64) *groups {
	return &groups{accs: accs, index: map[string]int{}, limit: limit}
}

// add feeds doc (in scope s) to the group of key; false when over the
// memory limit.
func (g *groups) add(s *scope, key value.Value) (bool, error) {
	k := string(value.Key(nil, key))
	i, ok := g.index[k]
	if !ok {
		i = len(g.keys)
		g.index[k] = i
		g.keys = append(g.keys, key)
		accs := make([]accumulator, len(g.accs))
		for j, a := range g.accs {
			accs[j] = a.newAcc()
			g.held += accs[j].size()
		}
		g.state = append(g.state, accs)
		g.held += int64(len(k) + len(key.Data))
	}
	for j, a := range g.accs {
		v, err := a.arg.eval(s)
		if err != nil {
			return false, evalFailed(a.ptr, err)
		}
		acc := g.state[i][j]
		before := acc.size()
		if err := acc.add(v); err != nil {
			return false, evalFailed(a.ptr, err)
		}
		g.held += acc.size() - before
	}
	return g.held <= g.limit, nil
}

// result is group i's document {_id: id, <field>: <result>, ...}.
func (g *groups) result(i int, id value.Value) (bson.Raw, error) {
	fs := []field{{"_id", id}}
	for j, a := range g.accs {
		v, err := g.state[i][j].result()
		if err != nil {
			return nil, evalFailed(a.ptr, err)
		}
		if v.IsMissing() {
			v = value.Null()
		}
		fs = append(fs, field{a.name, v})
	}
	return rawDoc(docOf(fs)), nil
}

// compileGroup compiles {$group: {_id: <expr>, <field>: {<acc>: <expr>}}}.
func compileGroup(arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "a group's fields must be specified in an object")
	}
	idV := arg.Field("_id")
	if idV.IsMissing() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "a group specification must include an _id")
	}
	id, err := compileExpr(idV.RawValue(), ptr.Key("_id"), vars)
	if err != nil {
		return nil, err
	}
	accs, err := compileAccs(arg, ptr, vars, "_id")
	if err != nil {
		return nil, err
	}
	return &groupStage{id: id, accs: accs, ptr: ptr, name: "$group"}, nil
}

type groupStage struct {
	id   expr
	accs []accSpec
	ptr  source.Pointer
	name string
	// sortByCount: the groups sorted by count, descending.
	byCount bool
}

// open groups the documents in first-seen group order: the manual leaves
// $group's output order unspecified.
func (st *groupStage) open(rc *runCtx, vars *scope, in Docs) Docs {
	return &sliceOut{fill: func(ctx context.Context) ([]bson.Raw, error) {
		g := newGroups(st.accs, rc.limit)
		for {
			raw, err := in.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			doc := value.FromDocument(raw)
			s := rc.scopeOf(doc, vars)
			key, err := st.id.eval(s)
			if err != nil {
				return nil, evalFailed(st.ptr.Key("_id"), err)
			}
			if key.IsMissing() {
				key = value.Null()
			}
			ok, err := g.add(s, key)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, memoryFailed(st.ptr, st.name, rc.limit)
			}
		}
		out := make([]bson.Raw, len(g.keys))
		for i, k := range g.keys {
			d, err := g.result(i, k)
			if err != nil {
				return nil, err
			}
			out[i] = d
		}
		if st.byCount {
			slices.SortStableFunc(out, func(a, b bson.Raw) int {
				return -value.Compare(value.FromRaw(a.Lookup("count")), value.FromRaw(b.Lookup("count")))
			})
		}
		return out, nil
	}}
}

// compileSortByCount compiles {$sortByCount: <expr>}: $group by the
// expression with count: {$sum: 1}, then $sort {count: -1} (stable over
// first-seen order for equal counts). The manual requires a field path or
// an expression object.
func compileSortByCount(arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	s, isStr := arg.StringOK()
	if !(isStr && strings.HasPrefix(s, "$")) && !(arg.IsDocument() && firstKeyIsOperator(arg.Data)) {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the argument to $sortByCount must be a $-prefixed path or an operator expression")
	}
	id, err := compileExpr(arg.RawValue(), ptr, vars)
	if err != nil {
		return nil, err
	}
	one := value.Int32(1)
	sumArg, newAcc, err := compileAccumulator("$sum", one.RawValue(), ptr, vars)
	if err != nil {
		return nil, err
	}
	accs := []accSpec{{name: "count", arg: sumArg, newAcc: newAcc, ptr: ptr}}
	return &groupStage{id: id, accs: accs, ptr: ptr, name: "$sortByCount", byCount: true}, nil
}

// countAcc is the default output of the bucket stages, {count: {$sum: 1}}.
func countAcc(ptr source.Pointer, vars []string) ([]accSpec, error) {
	one := value.Int32(1)
	arg, newAcc, err := compileAccumulator("$sum", one.RawValue(), ptr, vars)
	if err != nil {
		return nil, err
	}
	return []accSpec{{name: "count", arg: arg, newAcc: newAcc, ptr: ptr}}, nil
}

// compileBucket compiles {$bucket: {groupBy, boundaries, default, output}}.
func compileBucket(arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the argument to $bucket must be an object")
	}
	st := &bucketStage{ptr: ptr}
	var err error
	var groupBy, output value.Value
	for _, f := range mustElems(arg) {
		at := ptr.Key(f.name)
		switch f.name {
		case "groupBy":
			groupBy = f.val
			s, isStr := f.val.StringOK()
			if !(isStr && strings.HasPrefix(s, "$")) && !(f.val.IsDocument() && firstKeyIsOperator(f.val.Data)) {
				return nil, pipeErr(at, CodePipelineMalformed, "the $bucket 'groupBy' field must be defined as a $-prefixed path or an expression")
			}
			if st.groupBy, err = compileExpr(f.val.RawValue(), at, vars); err != nil {
				return nil, err
			}
		case "boundaries":
			if !f.val.IsArray() || f.val.Len() < 2 {
				return nil, pipeErr(at, CodePipelineMalformed, "the $bucket 'boundaries' field must be an array of at least 2 values")
			}
			f.val.Each(func(_ int, e value.Value) bool { st.bounds = append(st.bounds, e); return false })
		case "default":
			st.def, st.hasDef = f.val, true
		case "output":
			if !f.val.IsDocument() {
				return nil, pipeErr(at, CodePipelineMalformed, "the $bucket 'output' field must be an object")
			}
			output = f.val
		default:
			return nil, pipeErr(at, CodePipelineMalformed, "unrecognized option to $bucket: "+f.name)
		}
	}
	if groupBy.IsMissing() || st.bounds == nil {
		return nil, pipeErr(ptr, CodePipelineMalformed, "$bucket requires 'groupBy' and 'boundaries' to be specified")
	}
	for i, b := range st.bounds {
		if i > 0 {
			if !sameCanonicalType(b, st.bounds[0]) {
				return nil, pipeErr(ptr.Key("boundaries"), CodePipelineMalformed, "all values in the 'boundaries' option to $bucket must have the same type")
			}
			if value.Compare(st.bounds[i-1], b) >= 0 {
				return nil, pipeErr(ptr.Key("boundaries"), CodePipelineMalformed, "the 'boundaries' option to $bucket must be sorted in ascending order")
			}
		}
	}
	if st.hasDef && sameCanonicalType(st.def, st.bounds[0]) &&
		value.Compare(st.def, st.bounds[0]) >= 0 && value.Compare(st.def, st.bounds[len(st.bounds)-1]) < 0 {
		return nil, pipeErr(ptr.Key("default"), CodePipelineMalformed, "the $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary")
	}
	if output.IsMissing() {
		st.accs, err = countAcc(ptr, vars)
	} else {
		st.accs, err = compileAccs(output, ptr.Key("output"), vars, "")
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// sameCanonicalType reports whether a and b are of one BSON type class
// (every number one).
func sameCanonicalType(a, b value.Value) bool {
	if a.IsNumber() && b.IsNumber() {
		return true
	}
	return a.Type == b.Type || a.Type == bson.TypeSymbol && b.Type == bson.TypeString || a.Type == bson.TypeString && b.Type == bson.TypeSymbol
}

type bucketStage struct {
	groupBy expr
	bounds  []value.Value
	def     value.Value
	hasDef  bool
	accs    []accSpec
	ptr     source.Pointer
}

// open puts each document in the bucket [bounds[i], bounds[i+1]) of its
// groupBy value, else the default bucket; the buckets come out in
// boundary order, the default last, empty ones left out. A value outside
// the boundaries without a default fails the aggregation as the server.
func (st *bucketStage) open(rc *runCtx, vars *scope, in Docs) Docs {
	return &sliceOut{fill: func(ctx context.Context) ([]bson.Raw, error) {
		g := newGroups(st.accs, rc.limit)
		for {
			raw, err := in.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			doc := value.FromDocument(raw)
			s := rc.scopeOf(doc, vars)
			v, err := st.groupBy.eval(s)
			if err != nil {
				return nil, evalFailed(st.ptr.Key("groupBy"), err)
			}
			if v.IsMissing() {
				v = value.Null()
			}
			key, found := value.Value{}, false
			for i := 0; i+1 < len(st.bounds); i++ {
				if value.Compare(v, st.bounds[i]) >= 0 && value.Compare(v, st.bounds[i+1]) < 0 {
					key, found = st.bounds[i], true
					break
				}
			}
			if !found {
				if !st.hasDef {
					return nil, failAt(st.ptr, CodePipelineEval, "$switch could not find a matching branch for an input, and no default was specified.")
				}
				key = st.def
			}
			ok, err := g.add(s, key)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, memoryFailed(st.ptr, "$bucket", rc.limit)
			}
		}
		var out []bson.Raw
		emit := func(key value.Value) error {
			if i, ok := g.index[string(value.Key(nil, key))]; ok {
				d, err := g.result(i, key)
				if err != nil {
					return err
				}
				out = append(out, d)
			}
			return nil
		}
		for _, b := range st.bounds[:len(st.bounds)-1] {
			if err := emit(b); err != nil {
				return nil, err
			}
		}
		if st.hasDef {
			if err := emit(st.def); err != nil {
				return nil, err
			}
		}
		return out, nil
	}}
}

// compileBucketAuto compiles {$bucketAuto: {groupBy, buckets, output}};
// granularity is refused.
func compileBucketAuto(arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the argument to $bucketAuto must be an object")
	}
	st := &bucketAutoStage{ptr: ptr}
	var err error
	var output value.Value
	for _, f := range mustElems(arg) {
		at := ptr.Key(f.name)
		switch f.name {
		case "groupBy":
			s, isStr := f.val.StringOK()
			if !(isStr && strings.HasPrefix(s, "$")) && !(f.val.IsDocument() && firstKeyIsOperator(f.val.Data)) {
				return nil, pipeErr(at, CodePipelineMalformed, "the $bucketAuto 'groupBy' field must be defined as a $-prefixed path or an expression object")
			}
			if st.groupBy, err = compileExpr(f.val.RawValue(), at, vars); err != nil {
				return nil, err
			}
		case "buckets":
			n, ok := f.val.IntOK()
			if !ok || !f.val.IsNumber() || n <= 0 || n > math.MaxInt32 {
				return nil, pipeErr(at, CodePipelineMalformed, "the $bucketAuto 'buckets' field must be a positive 32-bit integer")
			}
			st.buckets = n
		case "output":
			if !f.val.IsDocument() {
				return nil, pipeErr(at, CodePipelineMalformed, "the $bucketAuto 'output' field must be an object")
			}
			output = f.val
		case "granularity":
			return nil, unsupportedAt(at, "$bucketAuto with a granularity is not supported in memory")
		default:
			return nil, pipeErr(at, CodePipelineMalformed, "unrecognized option to $bucketAuto: "+f.name)
		}
	}
	if st.groupBy == nil || st.buckets == 0 {
		return nil, pipeErr(ptr, CodePipelineMalformed, "$bucketAuto requires 'groupBy' and 'buckets' to be specified")
	}
	if output.IsMissing() {
		st.accs, err = countAcc(ptr, vars)
	} else {
		st.accs, err = compileAccs(output, ptr.Key("output"), vars, "")
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

type bucketAutoStage struct {
	groupBy expr
	buckets int64
	accs    []accSpec
	ptr     source.Pointer
}

type autoRow struct {
	key value.Value
	s   *scope
}

// open follows the server (document_source_bucket_auto.cpp): the
// documents sorted by their groupBy value (missing as null), each bucket
// filled with round(n/buckets) of them (at least 1) and then with those
// equal to its last value, the last bucket with all the rest; a bucket's
// _id is {min, max}, max the next bucket's min, the last one's its own
// largest value.
func (st *bucketAutoStage) open(rc *runCtx, vars *scope, in Docs) Docs {
	return &sliceOut{fill: func(ctx context.Context) ([]bson.Raw, error) {
		var rows []autoRow
		var held int64
		for {
			raw, err := in.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			doc := value.FromDocument(raw)
			s := rc.scopeOf(doc, vars)
			v, err := st.groupBy.eval(s)
			if err != nil {
				return nil, evalFailed(st.ptr.Key("groupBy"), err)
			}
			if v.IsMissing() {
				v = value.Null()
			}
			rows = append(rows, autoRow{key: v, s: s})
			held += docSize(raw) + int64(len(v.Data))
			if held > rc.limit {
				return nil, memoryFailed(st.ptr, "$bucketAuto", rc.limit)
			}
		}
		slices.SortStableFunc(rows, func(a, b autoRow) int { return value.Compare(a.key, b.key) })
		size := int64(math.Round(float64(len(rows)) / float64(st.buckets)))
		if size < 1 {
			size = 1
		}
		var out []bson.Raw
		next := 0
		for b := int64(0); b < st.buckets && next < len(rows); b++ {
			g := newGroups(st.accs, rc.limit)
			lo := rows[next].key
			end := len(rows)
			if b < st.buckets-1 {
				end = min(next+int(size), len(rows))
				for end < len(rows) && value.Compare(rows[end].key, rows[end-1].key) == 0 {
					end++
				}
			}
			for _, r := range rows[next:end] {
				if _, err := g.add(r.s, value.Null()); err != nil {
					return nil, err
				}
			}
			hi := rows[end-1].key
			if end < len(rows) {
				hi = rows[end].key
			}
			id := docOf([]field{{"min", lo}, {"max", hi}})
			d, err := g.result(0, id)
			if err != nil {
				return nil, err
			}
			out = append(out, d)
			next = end
		}
		return out, nil
	}}
}
