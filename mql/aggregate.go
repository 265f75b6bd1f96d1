package mql

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// This file is the aggregation engine's contract: the exported API
// (CompilePipeline, Pipeline.Run, Docs, Foreign, PipelineOptions, the
// pipeline codes and sentinels) and the internal types the stages
// (aggstage*.go) and the expressions (aggexpr*.go) share (expr, scope,
// runCtx, accumulator, docOf, arrOf).
//
// The engine runs a pipeline in memory over documents the caller has
// already been given (the gate feeds it redacted documents), so a stage
// can only ever see what the caller may read. It follows the MongoDB
// manual's aggregation reference
// (https://www.mongodb.com/docs/manual/reference/operator/aggregation-pipeline/
// and .../reference/operator/aggregation/), which App Services follows
// (source/mongodb/crud-and-aggregation-apis.txt, "Aggregation"). It never
// guesses: a stage or an operator it cannot compute exactly is a compile
// error wrapping ErrUnsupportedPipeline naming the stage and the operator.

// Pipeline codes. The codes are a contract, as the others in this package.
const (
	CodePipelineMalformed = "pipeline/malformed"        // not an array of one-field documents, or a stage's argument has the wrong shape
	CodePipelineStage     = "pipeline/unknown-stage"    // a stage the engine does not run
	CodePipelineOperator  = "pipeline/unknown-operator" // an expression or accumulator operator the engine does not evaluate
	CodePipelineOperand   = "pipeline/operand"          // an operator's argument has the wrong shape (at compile time)
	CodePipelineVariable  = "pipeline/variable"         // $$name not defined where it is used, or a user variable defined with a reserved name
	CodePipelineForeign   = "pipeline/foreign"          // $lookup or $unionWith without PipelineOptions.Foreign, or a malformed from/coll
	CodePipelineMemory    = "pipeline/memory"           // a blocking stage held more than PipelineOptions.MemoryLimit bytes
	CodePipelineEval      = "pipeline/eval"             // an expression failed on a document ($divide by zero, $toInt of "x", ...), as the server fails the aggregation
	CodePipelineDepth     = "pipeline/depth"            // nested deeper than MaxDepth
)

// ErrInvalidPipeline is wrapped by CompilePipeline's errors for pipelines
// the server rejects too (CodePipelineMalformed, CodePipelineOperand,
// CodePipelineVariable, CodePipelineDepth).
var ErrInvalidPipeline = errors.New("mql: invalid aggregation pipeline")

// ErrUnsupportedPipeline is wrapped by CompilePipeline's errors for valid
// pipelines the engine does not run (CodePipelineStage,
// CodePipelineOperator, CodePipelineForeign, decimal arithmetic).
var ErrUnsupportedPipeline = errors.New("mql: aggregation pipeline not supported in memory")

// ErrPipelineFailed is wrapped by Run's errors when a stage or an
// expression fails on the documents (CodePipelineEval, CodePipelineMemory),
// as the server fails the whole aggregation.
var ErrPipelineFailed = errors.New("mql: aggregation failed")

// DefaultMemoryLimit is the bytes a blocking stage may hold when
// PipelineOptions.MemoryLimit is 0: MongoDB's per-stage limit without
// allowDiskUse (100 MiB).
const DefaultMemoryLimit = 100 << 20

// Docs is a stream of documents.
type Docs interface {
	// Next returns the next document, or io.EOF after the last one.
	Next(ctx context.Context) (bson.Raw, error)
}

// Foreign reads another collection of the same database for $lookup
// (from) and $unionWith (coll): the documents of coll as the caller may
// read them, those that match filter (nil: all) evaluated on the document
// as the caller sees it. The gate provides it with the other collection's
// own rules.
type Foreign func(ctx context.Context, coll string, filter bson.Raw) (Docs, error)

// PipelineOptions configures CompilePipeline.
type PipelineOptions struct {
	// Foreign serves $lookup and $unionWith; nil refuses them
	// (CodePipelineForeign).
	Foreign Foreign
	// MemoryLimit bounds the bytes of documents a blocking stage ($group,
	// $sort, $bucket, $bucketAuto, $sample, $sortByCount, $count's input is
	// not held) or a $lookup's joined array holds, and the bytes of the
	// values the expressions build for one document at one stage (a
	// $reduce doubling a string fails, where the server would spend its
	// memory); 0 is DefaultMemoryLimit.
	MemoryLimit int64
	// Now is $$NOW and $$CLUSTER_TIME, read once per Run; nil is time.Now.
	Now func() time.Time
}

// sliceDocs serves a slice.
type sliceDocs struct {
	docs []bson.Raw
	i    int
}

func (s *sliceDocs) Next(context.Context) (bson.Raw, error) {
	if s.i >= len(s.docs) {
		return nil, io.EOF
	}
	s.i++
	return s.docs[s.i-1], nil
}

// DocsOf returns docs as a Docs stream.
func DocsOf(docs ...bson.Raw) Docs { return &sliceDocs{docs: docs} }

// ReadAllDocs reads d to its end.
func ReadAllDocs(ctx context.Context, d Docs) ([]bson.Raw, error) {
	var out []bson.Raw
	for {
		doc, err := d.Next(ctx)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, doc)
	}
}

// expr is a compiled aggregation expression
// (https://www.mongodb.com/docs/manual/meta/aggregation-quick-reference/#expressions):
// a field path ("$a.b"), a variable ("$$v.x"), a literal, an expression
// object ({a: <expr>, ...}), an array of expressions, or an operator
// ({$op: args}). eval returns value.Missing() for a missing field path or
// $$REMOVE.
type expr interface {
	eval(s *scope) (value.Value, error)
}

// scope is what an expression is evaluated against: the current document
// ($$CURRENT, which field paths read; $$ROOT), the user variables in
// scope ($let, $map/$filter/$reduce's as/$$this/$$value, $lookup's let),
// and the Run's state.
type scope struct {
	rc      *runCtx
	root    value.Value
	current value.Value
	parent  *scope // variables of the enclosing scopes
	name    string // this scope's variable, "" for a document scope
	val     value.Value
}

// lookupVar returns the user variable name, or false.
func (s *scope) lookupVar(name string) (value.Value, bool) {
	for ; s != nil; s = s.parent {
		if s.name == name && s.name != "" {
			return s.val, true
		}
	}
	return value.Missing(), false
}

// with returns s with variable name bound to v.
func (s *scope) with(name string, v value.Value) *scope {
	return &scope{rc: s.rc, root: s.root, current: s.current, parent: s, name: name, val: v}
}

// reserve fails with errBuilt when an operator would build n bytes more
// than the memory limit leaves the document (see efn.eval): an operator
// whose result can be far larger than its operands checks before it
// builds.
func (s *scope) reserve(n int64) error {
	if s.rc != nil && s.rc.limit > 0 && s.rc.built+n > s.rc.limit {
		return errBuilt
	}
	return nil
}

// charge counts n bytes more against the memory limit for the document
// (see efn.eval): a loop ($map, $filter, $reduce) charges a byte an
// element, so that a loop over a constant whose body builds nothing
// ({$literal: null}) is bounded too.
func (s *scope) charge(n int64) error {
	if err := s.reserve(n); err != nil {
		return err
	}
	if s.rc != nil {
		s.rc.built += n
	}
	return nil
}

// runCtx is one Run's state, shared by its stages and expressions.
type runCtx struct {
	ctx     context.Context
	now     time.Time
	limit   int64 // bytes a blocking stage may hold
	foreign Foreign
	built   int64 // bytes the expressions built for the current document (see efn.eval)
}

// docScope returns the scope of one document: $$ROOT and $$CURRENT are doc.
func (rc *runCtx) docScope(doc value.Value) *scope { return rc.scopeOf(doc, nil) }

// scopeOf returns the scope a stage evaluates its expressions in for one
// document, under the variables vars; the expressions start building
// values for it from 0 bytes.
func (rc *runCtx) scopeOf(doc value.Value, vars *scope) *scope {
	rc.built = 0
	return &scope{rc: rc, root: doc, current: doc, parent: vars}
}

// field is one field of a document built by docOf.
type field struct {
	name string
	val  value.Value
}

// docOf builds a document from fields in order; Missing values are left out.
func docOf(fields []field) value.Value {
	idx, b := bsoncore.AppendDocumentStart(nil)
	for _, f := range fields {
		if f.val.IsMissing() {
			continue
		}
		b = bsoncore.AppendValueElement(b, f.name, bsoncore.Value{Type: bsoncore.Type(f.val.Type), Data: f.val.Data})
	}
	b, _ = bsoncore.AppendDocumentEnd(b, idx)
	return value.FromDocument(bson.Raw(b))
}

// arrOf builds an array; a Missing value becomes null, as the server
// writes a missing element of an array expression.
func arrOf(vals []value.Value) value.Value {
	idx, b := bsoncore.AppendArrayStart(nil)
	for i, v := range vals {
		if v.IsMissing() {
			v = value.Null()
		}
		b = bsoncore.AppendValueElement(b, itoa(i), bsoncore.Value{Type: bsoncore.Type(v.Type), Data: v.Data})
	}
	b, _ = bsoncore.AppendArrayEnd(b, idx)
	return value.FromArray(bson.RawArray(b))
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	return string(buf[n:])
}

// accumulator is one group's running state of a $group accumulator
// ({$sum: <expr>}, $avg, $min, $max, $first, $last, $push, $addToSet,
// $count, $mergeObjects, $stdDevPop, $stdDevSamp): add is called with the
// expression's value for each document of the group in order (Missing for
// a missing field), result once at the end. size is the bytes it holds,
// for PipelineOptions.MemoryLimit.
type accumulator interface {
	add(v value.Value) error
	result() (value.Value, error)
	size() int64
}

// The expression side (aggexpr*.go) provides, for the stages:
//
//	compileExpr(v bson.RawValue, ptr source.Pointer, vars []string) (expr, error)
//	    an expression at ptr; vars are the user variables in scope
//	compileAccumulator(op string, arg bson.RawValue, ptr source.Pointer, vars []string) (arg expr, newAcc func() accumulator, err error)
//	truthy(v value.Value) bool
//	    MongoDB's boolean reading of a value ($cond, $match's $expr, $filter)
//
// and the stage side (aggstage*.go) CompilePipeline, Pipeline and
// Pipeline.Run.
