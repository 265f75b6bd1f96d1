package mql

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// The stage side of the aggregation engine: CompilePipeline, Pipeline,
// Run and the stages (see aggregate.go for the contract).

// maxSubPipelines bounds the nesting of $lookup and $unionWith
// sub-pipelines, as the server does ("Maximum number of nested
// sub-pipelines exceeded. Limit is 20").
const maxSubPipelines = 20

// Pipeline is a compiled aggregation pipeline. It is immutable and safe
// for concurrent Runs.
type Pipeline struct {
	stages []stage
	opts   PipelineOptions
}

// stage is one compiled stage: open wraps the documents coming in. vars
// holds the user variables in scope (a $lookup's let), nil at the top
// level.
type stage interface {
	open(rc *runCtx, vars *scope, in Docs) Docs
}

// CompilePipeline compiles an aggregation pipeline, one document per
// stage, for Run. It supports $match, $project, $addFields, $set,
// $unset, $replaceRoot, $replaceWith, $sort, $skip, $limit, $count,
// $sortByCount, $sample, $unwind, $group, $bucket, $bucketAuto, $lookup
// and $unionWith, with the MongoDB manual's semantics; any other stage is
// an error wrapping ErrUnsupportedPipeline (CodePipelineStage). Malformed
// stages wrap ErrInvalidPipeline. Errors are *source.Error with a JSON
// pointer into the pipeline ("/0/$group/total/$sum").
func CompilePipeline(stages []bson.Raw, opts PipelineOptions) (*Pipeline, error) {
	c := &pcompiler{opts: opts}
	st, err := c.pipeline(stages, "", nil, 0)
	if err != nil {
		return nil, err
	}
	return &Pipeline{stages: st, opts: opts}, nil
}

// Run runs the pipeline over in. The documents come out lazily as the
// returned Docs is read: streaming stages pull from in one document at a
// time, blocking ones ($group, $sort, ...) read it all on the first Next.
// Once ctx is done, Next returns ctx.Err(). A stage that fails returns an
// error wrapping ErrPipelineFailed (CodePipelineEval, CodePipelineMemory)
// with the stage's pointer; an expression the engine cannot compute on a
// document wraps ErrUnsupportedPipeline instead (CodePipelineOperator).
// The errors of in and of PipelineOptions.Foreign are returned as they
// are.
func (p *Pipeline) Run(ctx context.Context, in Docs) (Docs, error) {
	now := time.Now
	if p.opts.Now != nil {
		now = p.opts.Now
	}
	limit := p.opts.MemoryLimit
	if limit <= 0 {
		limit = DefaultMemoryLimit
	}
	rc := &runCtx{ctx: ctx, now: now(), limit: limit, foreign: p.opts.Foreign}
	// Both ends check ctx: the output, and the input a blocking stage
	// reads to its end.
	return &ctxDocs{run: ctx, in: runStages(rc, nil, p.stages, &ctxDocs{run: ctx, in: in})}, nil
}

func runStages(rc *runCtx, vars *scope, stages []stage, in Docs) Docs {
	for _, s := range stages {
		in = s.open(rc, vars, in)
	}
	return in
}

// ctxDocs ends the stream with the error of Run's context or of Next's
// once either is done.
type ctxDocs struct {
	run context.Context
	in  Docs
}

func (d *ctxDocs) Next(ctx context.Context) (bson.Raw, error) {
	if err := d.run.Err(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return d.in.Next(ctx)
}

// docsFunc is a Docs of a function.
type docsFunc func(ctx context.Context) (bson.Raw, error)

func (f docsFunc) Next(ctx context.Context) (bson.Raw, error) { return f(ctx) }

// sliceOut serves documents a blocking stage computed on the first Next.
type sliceOut struct {
	fill func(ctx context.Context) ([]bson.Raw, error)
	docs []bson.Raw
	done bool
	err  error
}

func (s *sliceOut) Next(ctx context.Context) (bson.Raw, error) {
	if !s.done {
		s.done = true
		s.docs, s.err = s.fill(ctx)
	}
	if s.err != nil {
		return nil, s.err
	}
	if len(s.docs) == 0 {
		return nil, io.EOF
	}
	d := s.docs[0]
	s.docs = s.docs[1:]
	return d, nil
}

// pipeErr is an error of the pipeline at ptr (of CompilePipeline or of
// Run, the expressions' too), wrapping the sentinel its code belongs to.
func pipeErr(ptr source.Pointer, code, msg string) error {
	kind := ErrInvalidPipeline
	switch code {
	case CodePipelineStage, CodePipelineOperator, CodePipelineForeign:
		kind = ErrUnsupportedPipeline
	case CodePipelineEval, CodePipelineMemory:
		kind = ErrPipelineFailed
	}
	return &codedError{err: &source.Error{Ptr: ptr, Code: code, Msg: msg}, kind: kind}
}

// unsupportedAt is a compile error for a valid stage argument the engine
// does not compute.
func unsupportedAt(ptr source.Pointer, msg string) error {
	return &codedError{err: &source.Error{Ptr: ptr, Code: CodePipelineStage, Msg: msg}, kind: ErrUnsupportedPipeline}
}

// failAt is a Run error of the stage at ptr.
func failAt(ptr source.Pointer, code, msg string) error {
	return &codedError{err: &source.Error{Ptr: ptr, Code: code, Msg: msg}, kind: ErrPipelineFailed}
}

// evalFailed returns an expression's error at Run: as it is when it
// already carries a code and a pointer, else CodePipelineEval at ptr.
func evalFailed(ptr source.Pointer, err error) error {
	if errors.Is(err, errBuilt) {
		return failAt(ptr, CodePipelineMemory, "Exceeded memory limit: the expressions built more bytes for one document than the pipeline's memory limit")
	}
	var ce *codedError
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return failAt(ptr, CodePipelineEval, err.Error())
}

// memoryFailed is the error of a blocking stage that holds too much, as
// the server words it.
func memoryFailed(ptr source.Pointer, stage string, limit int64) error {
	return failAt(ptr, CodePipelineMemory, "Exceeded memory limit for "+stage+" ("+strconv.FormatInt(limit, 10)+" bytes), but didn't allow external sort. Pass allowDiskUse:true to opt in.")
}

// pcompiler compiles pipelines and sub-pipelines.
type pcompiler struct {
	opts PipelineOptions
}

// notForUsers are the stages App Services keeps to system functions
// (source/mongodb/crud-and-aggregation-apis.txt, "Aggregation Pipeline
// Stage Availability").
var notForUsers = map[string]bool{
	"$collStats": true, "$currentOp": true, "$indexStats": true, "$listLocalSessions": true,
	"$listSessions": true, "$merge": true, "$out": true, "$planCacheStats": true,
}

func (c *pcompiler) pipeline(stages []bson.Raw, base source.Pointer, vars []string, depth int) ([]stage, error) {
	if depth > maxSubPipelines {
		return nil, pipeErr(base, CodePipelineDepth, "Maximum number of nested sub-pipelines exceeded. Limit is 20")
	}
	var out []stage
	for i, raw := range stages {
		ptr := base.Index(i)
		if err := bsoncore.Document(raw).Validate(); err != nil {
			return nil, pipeErr(ptr, CodePipelineMalformed, "a pipeline stage is not a BSON document: "+err.Error())
		}
		if tooDeep(raw, MaxDepth) {
			return nil, pipeErr(ptr, CodePipelineDepth, "the stage nests deeper than "+strconv.Itoa(MaxDepth)+" levels")
		}
		el, err := raw.Elements()
		if err != nil || len(el) != 1 {
			return nil, pipeErr(ptr, CodePipelineMalformed, "A pipeline stage specification object must contain exactly one field.")
		}
		name := el[0].Key()
		arg := value.FromRaw(el[0].Value())
		at := ptr.Key(name)
		s, err := c.stage(name, arg, at, vars, depth)
		if err != nil {
			return nil, err
		}
		// $sort followed by $limit keeps only the top k.
		if srt, ok := s.(*sortStage); ok && i+1 < len(stages) {
			if next, err := stages[i+1].Elements(); err == nil && len(next) == 1 && next[0].Key() == "$limit" {
				if k, ok := value.FromRaw(next[0].Value()).IntOK(); ok && k > 0 {
					srt.top = k
				}
			}
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *pcompiler) stage(name string, arg value.Value, ptr source.Pointer, vars []string, depth int) (stage, error) {
	switch name {
	case "$match":
		return compileMatch(arg, ptr, vars)
	case "$project":
		return compileProject(arg, ptr, vars)
	case "$addFields", "$set":
		return compileAddFields(name, arg, ptr, vars)
	case "$unset":
		return compileUnset(arg, ptr)
	case "$replaceRoot":
		if !arg.IsDocument() {
			return nil, pipeErr(ptr, CodePipelineMalformed, "$replaceRoot expects a document, got "+typeName(arg.Type))
		}
		fs := mustElems(arg)
		if len(fs) != 1 || fs[0].name != "newRoot" {
			return nil, pipeErr(ptr, CodePipelineMalformed, "$replaceRoot expects exactly one field, newRoot")
		}
		return compileReplace("'newRoot' expression", fs[0].val, ptr.Key("newRoot"), ptr, vars)
	case "$replaceWith":
		return compileReplace("'replacement document'", arg, ptr, ptr, vars)
	case "$sort":
		return compileSort(arg, ptr)
	case "$skip", "$limit":
		return compileSkipLimit(name, arg, ptr)
	case "$count":
		return compileCount(arg, ptr)
	case "$sortByCount":
		return compileSortByCount(arg, ptr, vars)
	case "$sample":
		return compileSample(arg, ptr)
	case "$unwind":
		return compileUnwind(arg, ptr)
	case "$group":
		return compileGroup(arg, ptr, vars)
	case "$bucket":
		return compileBucket(arg, ptr, vars)
	case "$bucketAuto":
		return compileBucketAuto(arg, ptr, vars)
	case "$lookup":
		return c.lookup(arg, ptr, vars, depth)
	case "$unionWith":
		return c.unionWith(arg, ptr, vars, depth)
	}
	if notForUsers[name] {
		return nil, pipeErr(ptr, CodePipelineStage, "stage "+strconv.Quote(name)+" is not available to application users")
	}
	if !strings.HasPrefix(name, "$") {
		return nil, pipeErr(ptr, CodePipelineStage, "stage "+strconv.Quote(name)+" is not supported in memory: a stage name starts with $")
	}
	return nil, pipeErr(ptr, CodePipelineStage, "stage "+strconv.Quote(name)+" is not supported in memory")
}

// mustElems returns the fields of a validated document value.
func mustElems(v value.Value) []field {
	var out []field
	_ = elems(v.Data, func(k []byte, e value.Value) error {
		out = append(out, field{name: string(k), val: e})
		return nil
	})
	return out
}

// rawDoc returns the bytes of a document value.
func rawDoc(v value.Value) bson.Raw { return bson.Raw(v.Data) }

// streamStage is a stage that maps each document to zero or more.
type streamStage struct {
	fn func(s *scope, doc value.Value, emit func(value.Value)) error
}

func (st *streamStage) open(rc *runCtx, vars *scope, in Docs) Docs {
	var queue []bson.Raw
	return docsFunc(func(ctx context.Context) (bson.Raw, error) {
		for len(queue) == 0 {
			raw, err := in.Next(ctx)
			if err != nil {
				return nil, err
			}
			doc := value.FromDocument(raw)
			s := rc.scopeOf(doc, vars)
			if err := st.fn(s, doc, func(v value.Value) { queue = append(queue, bson.Raw(v.Data)) }); err != nil {
				return nil, err
			}
		}
		d := queue[0]
		queue = queue[1:]
		return d, nil
	})
}

// compileReplace compiles $replaceRoot's newRoot and $replaceWith.
func compileReplace(what string, arg value.Value, exprPtr, ptr source.Pointer, vars []string) (stage, error) {
	e, err := compileExpr(arg.RawValue(), exprPtr, vars)
	if err != nil {
		return nil, err
	}
	return &streamStage{fn: func(s *scope, doc value.Value, emit func(value.Value)) error {
		v, err := e.eval(s)
		if err != nil {
			return evalFailed(exprPtr, err)
		}
		if !v.IsDocument() {
			t := "missing"
			if !v.IsMissing() {
				t = typeName(v.Type)
			}
			shown := v.ExtJSON()
			if v.IsMissing() {
				shown = "MISSING"
			}
			return failAt(ptr, CodePipelineEval, what+" must evaluate to an object, but resulting value was: "+shown+". Type of resulting value: '"+t+"'. Input document: "+doc.ExtJSON())
		}
		emit(v)
		return nil
	}}, nil
}

func compileSkipLimit(name string, arg value.Value, ptr source.Pointer) (stage, error) {
	n, ok := arg.IntOK()
	if !ok || !arg.IsNumber() {
		return nil, pipeErr(ptr, CodePipelineMalformed, name+" expects a whole number, got "+describe(arg))
	}
	if name == "$limit" {
		if n <= 0 {
			return nil, pipeErr(ptr, CodePipelineMalformed, "the limit must be positive")
		}
		return &limitStage{n: n}, nil
	}
	if n < 0 {
		return nil, pipeErr(ptr, CodePipelineMalformed, "invalid argument to $skip stage: Expected a non-negative number in: $skip: "+arg.ExtJSON())
	}
	return &skipStage{n: n}, nil
}

type skipStage struct{ n int64 }

func (st *skipStage) open(_ *runCtx, _ *scope, in Docs) Docs {
	skipped := int64(0)
	return docsFunc(func(ctx context.Context) (bson.Raw, error) {
		for skipped < st.n {
			if _, err := in.Next(ctx); err != nil {
				return nil, err
			}
			skipped++
		}
		return in.Next(ctx)
	})
}

type limitStage struct{ n int64 }

func (st *limitStage) open(_ *runCtx, _ *scope, in Docs) Docs {
	seen := int64(0)
	return docsFunc(func(ctx context.Context) (bson.Raw, error) {
		if seen >= st.n {
			return nil, io.EOF
		}
		seen++
		return in.Next(ctx)
	})
}

// compileCount compiles {$count: name}: the manual's name rules (a
// non-empty string, not starting with $, without a dot). "_id" is refused:
// the server's desugaring ($group {_id: null, <name>: {$sum: 1}}) cannot
// hold it.
func compileCount(arg value.Value, ptr source.Pointer) (stage, error) {
	name, ok := arg.StringOK()
	switch {
	case !ok || name == "":
		return nil, pipeErr(ptr, CodePipelineMalformed, "the count field must be a non-empty string")
	case name[0] == '$':
		return nil, pipeErr(ptr, CodePipelineMalformed, "the count field cannot be a $-prefixed path")
	case strings.Contains(name, "."):
		return nil, pipeErr(ptr, CodePipelineMalformed, "the count field cannot contain '.'")
	case strings.ContainsRune(name, 0):
		return nil, pipeErr(ptr, CodePipelineMalformed, "the count field cannot contain a null byte")
	case name == "_id":
		return nil, unsupportedAt(ptr, "$count into _id is not supported in memory")
	}
	return &countStage{name: name}, nil
}

type countStage struct{ name string }

func (st *countStage) open(_ *runCtx, _ *scope, in Docs) Docs {
	return &sliceOut{fill: func(ctx context.Context) ([]bson.Raw, error) {
		n := int64(0)
		for {
			_, err := in.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			n++
		}
		if n == 0 {
			return nil, nil
		}
		return []bson.Raw{rawDoc(docOf([]field{{st.name, countValue(n)}}))}, nil
	}}
}

// countValue is $sum: 1 over n documents: an int, a long past 2^31-1.
func countValue(n int64) value.Value {
	if n <= 1<<31-1 {
		return value.Int32(int32(n))
	}
	return value.Int64(n)
}

// compileUnwind compiles $unwind: a "$path" or {path,
// includeArrayIndex, preserveNullAndEmptyArrays}.
func compileUnwind(arg value.Value, ptr source.Pointer) (stage, error) {
	st := &unwindStage{}
	pathV, pathPtr := arg, ptr
	if arg.IsDocument() {
		for _, f := range mustElems(arg) {
			at := ptr.Key(f.name)
			switch f.name {
			case "path":
				pathV, pathPtr = f.val, at
			case "includeArrayIndex":
				s, ok := f.val.StringOK()
				if !ok || s == "" || s[0] == '$' {
					return nil, pipeErr(at, CodePipelineMalformed, "includeArrayIndex must be a non-empty string that does not start with $")
				}
				st.index = strings.Split(s, ".")
			case "preserveNullAndEmptyArrays":
				b, ok := f.val.BoolOK()
				if !ok {
					return nil, pipeErr(at, CodePipelineMalformed, "preserveNullAndEmptyArrays must be a boolean, got "+typeName(f.val.Type))
				}
				st.preserve = b
			default:
				return nil, pipeErr(at, CodePipelineMalformed, "unrecognized option to $unwind: "+strconv.Quote(f.name))
			}
		}
		if pathV.IsDocument() {
			return nil, pipeErr(ptr, CodePipelineMalformed, "no path specified to $unwind stage")
		}
	}
	s, ok := pathV.StringOK()
	if !ok || len(s) < 2 || s[0] != '$' || s[1] == '$' {
		return nil, pipeErr(pathPtr, CodePipelineMalformed, "$unwind's path must be a field path prefixed by $, got "+describe(pathV))
	}
	st.path = strings.Split(s[1:], ".")
	for _, c := range st.path {
		if c == "" || c[0] == '$' {
			return nil, pipeErr(pathPtr, CodePipelineMalformed, "invalid field path "+strconv.Quote(s))
		}
	}
	return &streamStage{fn: st.unwind}, nil
}

type unwindStage struct {
	path     []string
	index    []string
	preserve bool
}

// unwind follows the server (document_source_unwind.cpp): the path is
// read through embedded documents only; an array yields one document per
// element; an empty array, null or a missing field yields the document
// itself only with preserveNullAndEmptyArrays (an empty array's field
// removed, the index null); any other value is a one-element array whose
// index is null.
func (st *unwindStage) unwind(_ *scope, doc value.Value, emit func(value.Value)) error {
	v := resolveDocs(doc, st.path)
	if v.IsArray() && v.Len() > 0 {
		v.Each(func(i int, e value.Value) bool {
			out := setPath(doc, st.path, e)
			if st.index != nil {
				out = setPath(out, st.index, value.Int64(int64(i)))
			}
			emit(out)
			return false
		})
		return nil
	}
	if v.IsMissing() || v.IsNull() || v.IsArray() {
		if !st.preserve {
			return nil
		}
		out := doc
		if v.IsArray() {
			out = setPath(doc, st.path, value.Missing())
		}
		if st.index != nil {
			out = setPath(out, st.index, value.Null())
		}
		emit(out)
		return nil
	}
	out := doc
	if st.index != nil {
		out = setPath(out, st.index, value.Null())
	}
	emit(out)
	return nil
}

// resolveDocs reads a dotted path through embedded documents only, as the
// server's Document::getNestedField: anything else on the way is Missing.
func resolveDocs(v value.Value, path []string) value.Value {
	for _, c := range path {
		if !v.IsDocument() {
			return value.Missing()
		}
		v = v.Field(c)
	}
	return v
}

// setPath returns doc with the embedded field at path set to v (Missing:
// removed), creating documents on the way and replacing what is not a
// document there, as the server's MutableDocument::setNestedField.
func setPath(doc value.Value, path []string, v value.Value) value.Value {
	fs := mustElems(doc)
	for i := range fs {
		if fs[i].name != path[0] {
			continue
		}
		if len(path) == 1 {
			fs[i].val = v
		} else {
			sub := fs[i].val
			if !sub.IsDocument() {
				sub = value.FromDocument(emptyDoc)
			}
			fs[i].val = setPath(sub, path[1:], v)
		}
		return docOf(fs)
	}
	if len(path) == 1 {
		return docOf(append(fs, field{path[0], v}))
	}
	return docOf(append(fs, field{path[0], setPath(value.FromDocument(emptyDoc), path[1:], v)}))
}

// compileSample compiles {$sample: {size: n}}.
func compileSample(arg value.Value, ptr source.Pointer) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the $sample stage specification must be an object")
	}
	var size int64 = -1
	for _, f := range mustElems(arg) {
		if f.name != "size" {
			return nil, pipeErr(ptr.Key(f.name), CodePipelineMalformed, "unrecognized option to $sample: "+f.name)
		}
		n, ok := f.val.IntOK()
		if !ok || !f.val.IsNumber() || n < 0 {
			return nil, pipeErr(ptr.Key("size"), CodePipelineMalformed, "size argument to $sample must not be negative")
		}
		size = n
	}
	if size < 0 {
		return nil, pipeErr(ptr, CodePipelineMalformed, "$sample stage must specify a size")
	}
	return &sampleStage{size: size, ptr: ptr}, nil
}
