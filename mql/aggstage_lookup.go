package mql

import (
	"context"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// foreignColl reads $lookup's from or $unionWith's coll: a collection name
// of the same database (a {db, coll} document is refused: other databases
// are not served).
func foreignColl(v value.Value, ptr source.Pointer, what string) (string, error) {
	if v.IsDocument() {
		return "", pipeErr(ptr, CodePipelineForeign, what+" of another database ({db, coll}) is not supported: only the collections of the same database are served")
	}
	s, ok := v.StringOK()
	if !ok || s == "" {
		return "", pipeErr(ptr, CodePipelineForeign, what+" must be a collection name, got "+describe(v))
	}
	return s, nil
}

// subPipeline reads a sub-pipeline's array of stages.
func subPipeline(v value.Value, ptr source.Pointer) ([]bson.Raw, error) {
	if !v.IsArray() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the pipeline must be an array of stages, got "+typeName(v.Type))
	}
	var out []bson.Raw
	var err error
	v.Each(func(i int, e value.Value) bool {
		if !e.IsDocument() {
			err = pipeErr(ptr.Index(i), CodePipelineMalformed, "each element of the pipeline must be an object")
			return true
		}
		out = append(out, rawDoc(e))
		return false
	})
	return out, err
}

// validVarName is the server's rule for user variable names
// (variables.cpp, validateNameForUserWrite): a lowercase ASCII letter or
// a non-ASCII character first, then letters, digits and _.
func validVarName(s string) bool {
	if s == "" {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s)
	if !(r >= 'a' && r <= 'z') && r < utf8.RuneSelf {
		return false
	}
	for _, c := range s {
		if c < utf8.RuneSelf && !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == '_') {
			return false
		}
	}
	return true
}

// compileLookup compiles $lookup: localField/foreignField, let/pipeline,
// or both (MongoDB 5.0).
func (c *pcompiler) lookup(arg value.Value, ptr source.Pointer, vars []string, depth int) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the $lookup specification must be an object")
	}
	st := &lookupStage{ptr: ptr}
	var pipe value.Value
	var letV value.Value
	hasLocal, hasForeign := false, false
	for _, f := range mustElems(arg) {
		at := ptr.Key(f.name)
		switch f.name {
		case "from":
			name, err := foreignColl(f.val, at, "$lookup's from")
			if err != nil {
				return nil, err
			}
			st.from = name
		case "as", "localField", "foreignField":
			s, ok := f.val.StringOK()
			if !ok || s == "" || s[0] == '$' {
				return nil, pipeErr(at, CodePipelineMalformed, "$lookup's "+f.name+" must be a field path that does not start with $")
			}
			if slices.Contains(strings.Split(s, "."), "") {
				return nil, pipeErr(at, CodePipelineMalformed, "FieldPath field names may not be empty strings")
			}
			switch f.name {
			case "as":
				st.as = strings.Split(s, ".")
			case "localField":
				st.local, hasLocal = value.ParsePath(s), true
			default:
				st.foreign, hasForeign = s, true
			}
		case "let":
			if !f.val.IsDocument() {
				return nil, pipeErr(at, CodePipelineMalformed, "$lookup's let must be an object")
			}
			letV = f.val
		case "pipeline":
			pipe = f.val
		default:
			return nil, pipeErr(at, CodePipelineMalformed, "unknown argument to $lookup: "+f.name)
		}
	}
	switch {
	case st.from == "":
		return nil, pipeErr(ptr, CodePipelineForeign, "$lookup requires a 'from' collection")
	case st.as == nil:
		return nil, pipeErr(ptr, CodePipelineMalformed, "must specify 'as' field for a $lookup")
	case hasLocal != hasForeign:
		return nil, pipeErr(ptr, CodePipelineMalformed, "$lookup requires both or neither of 'localField' and 'foreignField' to be specified")
	case !hasLocal && pipe.IsMissing():
		return nil, pipeErr(ptr, CodePipelineMalformed, "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified")
	case pipe.IsMissing() && !letV.IsMissing():
		return nil, pipeErr(ptr, CodePipelineMalformed, "$lookup with 'let' must also specify 'pipeline'")
	}
	st.equality = hasLocal
	subVars := vars
	for _, f := range mustElems(letV) {
		at := ptr.Key("let").Key(f.name)
		if !validVarName(f.name) {
			return nil, pipeErr(at, CodePipelineVariable, "'"+f.name+"' starts with an invalid character for a user variable name")
		}
		e, err := compileExpr(f.val.RawValue(), at, vars)
		if err != nil {
			return nil, err
		}
		st.letNames = append(st.letNames, f.name)
		st.letExprs = append(st.letExprs, e)
		subVars = append(append([]string(nil), subVars...), f.name)
	}
	if !pipe.IsMissing() {
		stages, err := subPipeline(pipe, ptr.Key("pipeline"))
		if err != nil {
			return nil, err
		}
		if st.sub, err = c.pipeline(stages, ptr.Key("pipeline"), subVars, depth+1); err != nil {
			return nil, err
		}
		st.hasSub = true
	}
	if c.opts.Foreign == nil {
		return nil, pipeErr(ptr, CodePipelineForeign, "$lookup needs PipelineOptions.Foreign to read collection "+strconv.Quote(st.from))
	}
	return st, nil
}

type lookupStage struct {
	from     string
	as       []string
	equality bool
	local    value.Path
	foreign  string
	letNames []string
	letExprs []expr
	sub      []stage
	hasSub   bool
	ptr      source.Pointer
}

// localValues are the values of localField the foreign documents are
// matched against: every value the path reaches, the elements of an
// array at its end (the server's extractAllElementsAlongPath), null when
// there is none (a missing field matches a null or missing foreignField).
func localValues(doc value.Value, p value.Path) []value.Value {
	var vals []value.Value
	var walk func(v value.Value, p value.Path)
	walk = func(v value.Value, p value.Path) {
		if len(p) == 0 {
			if v.IsArray() {
				v.Each(func(_ int, e value.Value) bool { vals = append(vals, e); return false })
			} else if !v.IsMissing() {
				vals = append(vals, v)
			}
			return
		}
		switch {
		case v.IsDocument():
			walk(v.Field(p[0]), p[1:])
		case v.IsArray():
			v.Each(func(_ int, e value.Value) bool {
				if e.IsDocument() {
					walk(e, p)
				}
				return false
			})
		}
	}
	walk(doc, p)
	if len(vals) == 0 {
		vals = []value.Value{value.Null()}
	}
	return vals
}

func (st *lookupStage) open(rc *runCtx, vars *scope, in Docs) Docs {
	var cache []bson.Raw // the foreign collection of a pipeline-only $lookup
	cached := false
	return &mapDocs{in: in, fn: func(ctx context.Context, raw bson.Raw) (bson.Raw, error) {
		doc := value.FromDocument(raw)
		var joined []bson.Raw
		var err error
		if st.equality {
			joined, err = st.byEquality(ctx, rc, doc)
		} else {
			if !cached {
				if cache, err = readForeign(ctx, rc, st.from, nil, st.ptr); err != nil {
					return nil, err
				}
				cached = true
			}
			joined = cache
		}
		if err != nil {
			return nil, err
		}
		if st.hasSub {
			s := rc.scopeOf(doc, vars)
			sv := vars
			for i, e := range st.letExprs {
				v, err := e.eval(s)
				if err != nil {
					return nil, evalFailed(st.ptr.Key("let").Key(st.letNames[i]), err)
				}
				if v.IsMissing() {
					v = value.Null()
				}
				sv = &scope{rc: rc, parent: sv, name: st.letNames[i], val: v}
			}
			if joined, err = ReadAllDocs(ctx, runStages(rc, sv, st.sub, DocsOf(joined...))); err != nil {
				return nil, err
			}
		}
		var held int64
		vals := make([]value.Value, len(joined))
		for i, d := range joined {
			held += docSize(d)
			vals[i] = value.FromDocument(d)
		}
		if held > rc.limit {
			return nil, memoryFailed(st.ptr, "$lookup", rc.limit)
		}
		return rawDoc(setPath(doc, st.as, arrOf(vals))), nil
	}}
}

// byEquality reads the foreign documents whose foreignField equals a
// local value, with the filter {foreignField: {$in: [values]}} (the
// server's makeMatchStageFromInput, whose $eq for a single value is the
// same match). A local value the filter would not compare as a value
// (value.CheckOperand: a regular expression, which the server compares by
// equality but $in reads as a pattern; undefined, which fails on the
// server too; an operator-like document) fails the aggregation.
func (st *lookupStage) byEquality(ctx context.Context, rc *runCtx, doc value.Value) ([]bson.Raw, error) {
	vals := localValues(doc, st.local)
	for _, v := range vals {
		if r := value.CheckOperand(v); r != value.Comparable {
			return nil, failAt(st.ptr.Key("localField"), CodePipelineEval, "the localField value "+v.ExtJSON()+" cannot be joined in memory ("+r.String()+")")
		}
	}
	filter := docOf([]field{{st.foreign, docOf([]field{{"$in", arrOf(vals)}})}})
	return readForeign(ctx, rc, st.from, rawDoc(filter), st.ptr)
}

// readForeign reads a foreign collection into memory, under the limit.
func readForeign(ctx context.Context, rc *runCtx, coll string, filter bson.Raw, ptr source.Pointer) ([]bson.Raw, error) {
	f, err := rc.foreign(ctx, coll, filter)
	if err != nil {
		return nil, err
	}
	d := &ctxDocs{run: rc.ctx, in: f}
	var out []bson.Raw
	var held int64
	for {
		doc, err := d.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		held += docSize(doc)
		if held > rc.limit {
			return nil, memoryFailed(ptr, "$lookup", rc.limit)
		}
		out = append(out, doc)
	}
}

// mapDocs maps each document of in.
type mapDocs struct {
	in Docs
	fn func(ctx context.Context, doc bson.Raw) (bson.Raw, error)
}

func (m *mapDocs) Next(ctx context.Context) (bson.Raw, error) {
	d, err := m.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	return m.fn(ctx, d)
}

// unionWith compiles {$unionWith: coll} and {$unionWith: {coll, pipeline}}.
func (c *pcompiler) unionWith(arg value.Value, ptr source.Pointer, vars []string, depth int) (stage, error) {
	st := &unionStage{ptr: ptr}
	if arg.IsDocument() {
		for _, f := range mustElems(arg) {
			at := ptr.Key(f.name)
			switch f.name {
			case "coll":
				name, err := foreignColl(f.val, at, "$unionWith's coll")
				if err != nil {
					return nil, err
				}
				st.coll = name
			case "pipeline":
				stages, err := subPipeline(f.val, at)
				if err != nil {
					return nil, err
				}
				if st.sub, err = c.pipeline(stages, at, vars, depth+1); err != nil {
					return nil, err
				}
			default:
				return nil, pipeErr(at, CodePipelineMalformed, "unknown argument to $unionWith: "+f.name)
			}
		}
		if st.coll == "" {
			return nil, pipeErr(ptr, CodePipelineForeign, "$unionWith requires a 'coll' collection")
		}
	} else {
		name, err := foreignColl(arg, ptr, "$unionWith")
		if err != nil {
			return nil, err
		}
		st.coll = name
	}
	if c.opts.Foreign == nil {
		return nil, pipeErr(ptr, CodePipelineForeign, "$unionWith needs PipelineOptions.Foreign to read collection "+strconv.Quote(st.coll))
	}
	return st, nil
}

type unionStage struct {
	coll string
	sub  []stage
	ptr  source.Pointer
}

// open passes the documents of in, then those of coll through the
// sub-pipeline.
func (st *unionStage) open(rc *runCtx, vars *scope, in Docs) Docs {
	var other Docs
	return docsFunc(func(ctx context.Context) (bson.Raw, error) {
		if other == nil {
			d, err := in.Next(ctx)
			if err != io.EOF {
				return d, err
			}
			f, err := rc.foreign(ctx, st.coll, nil)
			if err != nil {
				return nil, err
			}
			other = runStages(rc, vars, st.sub, &ctxDocs{run: rc.ctx, in: f})
		}
		return other.Next(ctx)
	})
}
