package gate

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Aggregate runs a client pipeline over the documents the caller may read,
// as the caller may read them: no stage ever sees a document or a field
// the rules withhold. The stages must be among the whitelisted ones
// ($match, $project, $addFields, $set, $unset, $sort, $limit, $skip,
// $count, $group, $unwind, $sortByCount, $replaceRoot, $replaceWith,
// $bucket, $bucketAuto, $sample, $lookup, $unionWith). Stages App Services
// does not offer application users are refused ($facet, $graphLookup,
// $merge, $out, $geoNear, $collStats, $currentOp, $indexStats:
// mongodb/docs-app-services source/mongodb/crud-and-aggregation-apis.txt,
// "Aggregation Pipeline Stage Availability"), as are $function (ibid.,
// "Aggregation Pipeline Operator Availability"), $accumulator and $where
// anywhere. Client $match bodies, in sub-pipelines too, are validated
// like Find filters (mql.ValidateQuery: $expr is for system functions
// only); {$meta: "indexKey"} and {$meta: "recordId"} are refused anywhere
// (see metaAllowed). The collation option is refused, as in App Services'
// user context ("Query Option Availability"), and so are hint,
// allowDiskUse, bypassDocumentValidation and let (see checkOptions).
//
// It runs in one of two ways, with the same answer:
//
//   - On the server, when the read rules are a query, no stage reads
//     another collection, and either every role the caller may get reads
//     every document whole (evaluator.Bound.ReadsWhole) or the pipeline
//     summarizes the documents ($group, $count, ...) after reading only
//     fields every such role reads in every document (see
//     summaryReadable): the pipeline is
//     {$match: ruleFilter} followed by the client's stages, and the result
//     is the server's cursor. Where the server answers that it does not
//     implement an operator, the gate runs the pipeline itself, as below;
//     on FerretDB (the embedded test server), whose aggregation lacks
//     most operators and is wrong in places, it always does (see
//     Gate.serverAggregates), so that tests there see the manual's
//     answers.
//   - In the gate otherwise (the owner + teammate case, where the role
//     and the readable fields vary by document; read rules that are not
//     a query): the documents come from a gated Find, decided and
//     redacted one by one as Find returns them, and the stages run in
//     memory (mql.CompilePipeline), each seeing only what the caller may
//     read. A leading $match on fields every role of the caller reads in
//     every document, and a $sort, $skip and $limit after it, go to the
//     server with the Find. $lookup (from) and $unionWith (coll) read the
//     other collection of the same database through its own gated
//     Collection: its rule filter and redaction apply, and its documents
//     are matched as the caller sees them (a collection without rules is
//     denied with ReasonNoRules, as its own Find would be). A stage or an
//     expression operator the engine does not compute is refused
//     (CodeUnsupported) with the stage's pointer and the operator's name;
//     a pipeline that fails on the documents ($divide by zero, a blocking
//     stage over the memory limit, see WithPipelineMemoryLimit) fails
//     with CodePipelineFailed, as the server fails an aggregation. The
//     result is held in memory (within the same limit) and returned as a
//     *mongo.Cursor over it.
//
// After a $group or $project the documents are the pipeline's own, not
// stored documents.
func (c *Collection) Aggregate(ctx context.Context, pipeline any, opts ...options.Lister[options.AggregateOptions]) (*mongo.Cursor, error) {
	const op = "Aggregate"
	ao := &options.AggregateOptions{}
	if err := apply(ao, opts); err != nil {
		return nil, err
	}
	if r := c.checkOptions(op, serverOptions{hint: ao.Hint, bypass: ao.BypassDocumentValidation, allowDiskUse: ao.AllowDiskUse,
		internal: ao.Internal != (options.AggregateOptions{}).Internal, let: ao.Let}); r != nil {
		return nil, r
	}
	switch {
	case ao.Collation != nil:
		return nil, c.noCollation(op)
	case ao.Custom != nil:
		return nil, c.refused(op, CodeUnsupported, "custom aggregate options are not supported through the gate", nil)
	}
	stages, err := toDocs(pipeline)
	if err != nil {
		return nil, c.refused(op, CodeInvalid, err.Error(), err)
	}
	foreign, r := checkPipeline(stages, "", 0, c.validateMatch(op))
	if r != nil {
		r.Namespace, r.Op = c.ns, op
		return nil, r
	}
	b, err := c.bindRead(ctx, op)
	if err != nil {
		return nil, err
	}
	if !foreign && (b.ReadsWhole(ctx) || c.summaryReadable(ctx, b, stages)) && c.s.g.serverAggregates(ctx) {
		rf, _, exact, err := readScope(ctx, b)
		if err != nil {
			return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
		}
		if exact {
			cur, err := c.aggregateOnServer(ctx, rf, stages, ao)
			if !notImplemented(err) {
				return cur, err
			}
		}
	}
	return c.aggregateInGate(ctx, b, op, stages, ao)
}

// summaryStages reduce their input to values of expressions: nothing of
// a document passes them but what their expressions read.
var summaryStages = map[string]bool{"$group": true, "$count": true, "$sortByCount": true, "$bucket": true, "$bucketAuto": true}

// summaryReadable reports whether the pipeline reads only fields every
// role the caller may get reads in every document, so that running it
// over the stored documents gives what running it over the redacted ones
// gives: $match, $sort, $skip, $limit and $sample stages, then a stage
// that summarizes its input ($group, $count, $sortByCount, $bucket,
// $bucketAuto), then anything (the summary's output holds no stored
// field); the paths the $match queries, the sort keys and the summary's
// expressions read (mql.QueryPaths, mql.ExprPaths; none that reads
// every field) must be readable (Bound.ReadsPaths), and the whole
// pipeline must compile in the gate's engine (mql.CompilePipeline), whose
// operators read fields only as ExprPaths sees them. The notes API's
// count by status for an owner who also reads teammates' notes is such a
// pipeline: the server runs it.
func (c *Collection) summaryReadable(ctx context.Context, b *evaluator.Bound, stages []bson.Raw) bool {
	paths := map[string]bool{}
	for _, st := range stages {
		name, body := stageOf(st)
		switch {
		case name == "$match":
			doc, ok := body.DocumentOK()
			if !ok {
				return false
			}
			mql.QueryPaths(doc, paths)
		case name == "$sort":
			doc, ok := body.DocumentOK()
			if !ok {
				return false
			}
			keys, ok := c.sortPaths("Aggregate", doc)
			if !ok {
				return false
			}
			for _, k := range keys {
				paths[k] = true
			}
		case name == "$skip", name == "$limit", name == "$sample":
		case summaryStages[name]:
			if name != "$count" {
				mql.ExprPaths(body, paths)
			}
			if paths[mql.AllFields] {
				return false
			}
			// Only operators the gate's engine knows, whose field reads
			// ExprPaths sees: an operator naming fields by keys ($top's
			// sortBy) or one it does not know could read a hidden field.
			if _, err := mql.CompilePipeline(stages, mql.PipelineOptions{}); err != nil {
				return false
			}
			return b.ReadsPaths(ctx, sortedKeys(paths))
		default:
			return false
		}
	}
	return false
}

// aggregateOnServer runs {$match: rf} and the client's stages on the
// server.
func (c *Collection) aggregateOnServer(ctx context.Context, rf bson.D, stages []bson.Raw, ao *options.AggregateOptions) (*mongo.Cursor, error) {
	full := make(bson.A, 0, 1+len(stages))
	full = append(full, bson.D{{Key: "$match", Value: rf}})
	for _, s := range stages {
		full = append(full, s)
	}
	o := options.Aggregate()
	if ao.BatchSize != nil {
		o.SetBatchSize(*ao.BatchSize)
	}
	if ao.MaxAwaitTime != nil {
		o.SetMaxAwaitTime(*ao.MaxAwaitTime)
	}
	if ao.Comment != nil {
		o.SetComment(ao.Comment)
	}
	return c.coll.Aggregate(ctx, full, o)
}

// notImplemented reports a server's refusal of an operator or stage it
// does not implement (code 238, NotImplemented: FerretDB's answer for
// the aggregation operators it lacks).
func notImplemented(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 238
}

// aggregateInGate runs the pipeline in memory over the gated Find's
// documents (see Aggregate).
func (c *Collection) aggregateInGate(ctx context.Context, b *evaluator.Bound, op string, stages []bson.Raw, ao *options.AggregateOptions) (*mongo.Cursor, error) {
	limit := c.s.g.pipelineMemory
	var ferr error // the first gate error a foreign read met
	reads := &foreignReads{docs: map[string][]bson.Raw{}, room: limit}
	// A foreign read the pipeline stopped short of its end ($limit after
	// a $unionWith) would leave its cursor open on the server.
	defer reads.close(context.WithoutCancel(ctx))
	po := mql.PipelineOptions{Foreign: c.foreignReader(op, reads, &ferr), MemoryLimit: limit}
	// The whole pipeline compiles first, so that errors point into it as
	// the client sent it.
	if _, err := mql.CompilePipeline(stages, po); err != nil {
		return nil, c.pipelineErr(op, err)
	}
	filter, fo, n := c.pushdown(ctx, b, stages)
	p, err := mql.CompilePipeline(stages[n:], po)
	if err != nil {
		return nil, c.pipelineErr(op, err)
	}
	if ao.Comment != nil {
		fo.Comment = ao.Comment
	}
	cur, err := c.openBound(ctx, b, op, filter, fo)
	if err != nil {
		return nil, err
	}
	defer cur.Close(context.WithoutCancel(ctx))
	out, err := p.Run(ctx, &cursorDocs{cur: cur})
	if err != nil {
		return nil, c.runErr(op, n, ferr, err)
	}
	var docs []any
	var held int64
	for {
		d, err := out.Next(ctx)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, c.runErr(op, n, ferr, err)
		}
		if held += int64(len(d)); held > limit {
			return nil, c.refused(op, CodePipelineFailed, "the aggregation's result exceeds the gate's memory limit for pipelines it runs itself; add a $limit or read with Find", nil)
		}
		docs = append(docs, d)
	}
	return mongo.NewCursorFromDocuments(docs, nil, nil)
}

// pipelineErr maps a compile error of the engine to a RefusedError.
func (c *Collection) pipelineErr(op string, err error) error {
	code := CodeUnsupported
	if errors.Is(err, mql.ErrInvalidPipeline) {
		code = CodeInvalid
	}
	return c.refusedFrom(op, code, "", err)
}

// runErr maps a Run error: a gate error of a foreign read as it is (a
// denial of the other collection, its refusal), a pipeline failure as
// CodePipelineFailed with the stage's pointer shifted past the n stages
// the Find ran, the rest as they are (the server's, the context's).
func (c *Collection) runErr(op string, n int, ferr, err error) error {
	if ferr != nil {
		return ferr
	}
	code := CodePipelineFailed
	switch {
	case errors.Is(err, mql.ErrUnsupportedPipeline):
		// An operand the engine meets at run time and cannot compute
		// exactly (decimal arithmetic).
		code = CodeUnsupported
	case !errors.Is(err, mql.ErrPipelineFailed):
		return err
	}
	r := c.refusedFrom(op, code, "", err)
	r.Ptr = shiftPointer(r.Ptr, n)
	return r
}

// shiftPointer adds n to the stage index a pointer into a pipeline starts
// with.
func shiftPointer(p source.Pointer, n int) source.Pointer {
	if n == 0 {
		return p
	}
	toks, err := p.Tokens()
	if err != nil || len(toks) == 0 {
		return p
	}
	i := 0
	for _, ch := range toks[0] {
		if ch < '0' || ch > '9' {
			return p
		}
		i = i*10 + int(ch-'0')
	}
	q := source.Pointer("").Index(i + n)
	for _, t := range toks[1:] {
		q = q.Key(t)
	}
	return q
}

// pushdown returns the Find that feeds the pipeline and how many leading
// stages it runs: the leading $match stages whose paths every role of
// the caller reads in every document (on those paths the redacted
// document is the stored one, so the server's match is the pipeline's),
// then, on the same condition, a $sort, then a $skip, then a $limit.
func (c *Collection) pushdown(ctx context.Context, b *evaluator.Bound, stages []bson.Raw) (bson.D, *options.FindOptions, int) {
	fo := &options.FindOptions{}
	var filters []bson.D
	n := 0
	for ; n < len(stages); n++ {
		name, body := stageOf(stages[n])
		if name != "$match" || body.Type != bson.TypeEmbeddedDocument {
			break
		}
		paths := map[string]bool{}
		mql.QueryPaths(body.Document(), paths)
		if paths[mql.AllFields] || !b.ReadsPaths(ctx, sortedKeys(paths)) {
			break
		}
		var d bson.D
		if err := bson.Unmarshal(body.Document(), &d); err != nil {
			break
		}
		filters = append(filters, d)
	}
	if n < len(stages) {
		if name, body := stageOf(stages[n]); name == "$sort" && body.Type == bson.TypeEmbeddedDocument {
			if keys, ok := c.sortPaths("Aggregate", body.Document()); ok && b.ReadsPaths(ctx, keys) {
				fo.Sort = body.Document()
				n++
			}
		}
	}
	if n < len(stages) {
		if name, body := stageOf(stages[n]); name == "$skip" {
			if k, ok := body.AsInt64OK(); ok && k >= 0 && wholeNumber(body) {
				fo.Skip = &k
				n++
			}
		}
	}
	if n < len(stages) {
		if name, body := stageOf(stages[n]); name == "$limit" {
			if k, ok := body.AsInt64OK(); ok && k > 0 && wholeNumber(body) {
				fo.Limit = &k
				n++
			}
		}
	}
	return mql.And(filters...), fo, n
}

// wholeNumber reports whether v is an integer type: $skip and $limit take
// whole numbers, and a double is left to the engine, which applies the
// server's rules to it.
func wholeNumber(v bson.RawValue) bool {
	return v.Type == bson.TypeInt32 || v.Type == bson.TypeInt64
}

// sortPaths returns the field paths of a non-empty sort document the
// gate accepts from a client (sortKeys), or false.
func (c *Collection) sortPaths(op string, sort bson.Raw) ([]string, bool) {
	keys, err := c.sortKeys(op, sort)
	return keys, err == nil && len(keys) > 0
}

// stageOf returns a stage's name and argument.
func stageOf(st bson.Raw) (string, bson.RawValue) {
	elems, err := st.Elements()
	if err != nil || len(elems) != 1 {
		return "", bson.RawValue{}
	}
	return elems[0].Key(), elems[0].Value()
}

// foreignReader serves $lookup and $unionWith: coll of the same rules
// database, through its own gated Collection for the same caller. A
// filter on paths every role there reads in every document goes to the
// server with the Find; another is matched in memory against each
// document as the caller sees it (Find would leave out a document hiding
// a path its filter reads; the pipeline matches the redacted document,
// as its own $match does). A read with no filter for the server (a
// $unionWith, a $lookup with a pipeline only, one matched in memory) is
// kept, within the memory limit, for the rest of the Aggregate: a $lookup
// matched in memory, or a $unionWith in a $lookup's sub-pipeline, would
// otherwise scan the other collection again for every document of the
// pipeline. Every cursor it opens is in kept, for Aggregate to close.
// The first gate error is kept in *ferr, so that Aggregate returns it as
// it is.
func (c *Collection) foreignReader(op string, kept *foreignReads, ferr *error) mql.Foreign {
	db, _, _ := strings.Cut(c.ns, ".")
	return func(ctx context.Context, coll string, filter bson.Raw) (mql.Docs, error) {
		fc := c.s.Database(db).Collection(coll)
		keep := func(err error) error {
			if *ferr == nil {
				*ferr = err
			}
			return err
		}
		fb, err := fc.bindRead(ctx, op)
		if err != nil {
			return nil, keep(err)
		}
		server := bson.D{}
		var local bson.Raw
		if len(filter) > 5 {
			paths := map[string]bool{}
			mql.QueryPaths(filter, paths)
			if !paths[mql.AllFields] && fb.ReadsPaths(ctx, sortedKeys(paths)) {
				if err := bson.Unmarshal(filter, &server); err != nil {
					return nil, err
				}
			} else {
				local = filter
			}
		}
		whole := len(server) == 0
		if docs, ok := kept.docs[coll]; ok && whole {
			return &keptDocs{docs: docs, match: local}, nil
		}
		cu, err := fc.openBound(ctx, fb, op, server, &options.FindOptions{})
		if err != nil {
			return nil, keep(err)
		}
		kept.open = append(kept.open, cu)
		d := &cursorDocs{cur: cu, match: local}
		if whole {
			d.keep, d.coll = kept, coll
		}
		return d, nil
	}
}

// foreignReads holds the collections foreignReader read whole, within
// room bytes in all, and the cursors it opened.
type foreignReads struct {
	docs map[string][]bson.Raw
	room int64
	open []*Cursor
}

// close closes the cursors (those read to their end already are).
func (r *foreignReads) close(ctx context.Context) {
	for _, cu := range r.open {
		_ = cu.Close(ctx)
	}
}

// keptDocs serves a kept collection, keeping the documents that match
// match (nil: all).
type keptDocs struct {
	docs  []bson.Raw
	match bson.Raw
}

func (d *keptDocs) Next(context.Context) (bson.Raw, error) {
	for len(d.docs) > 0 {
		doc := d.docs[0]
		d.docs = d.docs[1:]
		if ok, err := matches(d.match, doc); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		return doc, nil
	}
	return nil, io.EOF
}

// matches reports whether doc, as the caller sees it, matches the foreign
// filter match kept for memory (nil: every document does).
func matches(match, doc bson.Raw) (bool, error) {
	if match == nil {
		return true, nil
	}
	return mql.Match(match, doc)
}

// cursorDocs reads a gated Cursor as mql.Docs, keeping the documents
// that match match (nil: all). It closes the cursor at its end. With
// keep, it also keeps every document it reads in keep, under coll, when
// the collection fits keep's room to its end.
type cursorDocs struct {
	cur   *Cursor
	match bson.Raw
	keep  *foreignReads
	coll  string
	read  []bson.Raw
	held  int64
}

func (d *cursorDocs) Next(ctx context.Context) (bson.Raw, error) {
	for d.cur.Next(ctx) {
		// The pipeline may hold documents ($group, $sort, a $lookup's
		// cache) past the cursor's next batch.
		doc := slices.Clone(d.cur.Current)
		if d.keep != nil {
			if d.held += int64(len(doc)); d.held > d.keep.room {
				d.keep, d.read = nil, nil
			} else {
				d.read = append(d.read, doc)
			}
		}
		if ok, err := matches(d.match, doc); err != nil || !ok {
			if err != nil {
				return nil, err
			}
			continue
		}
		return doc, nil
	}
	if err := d.cur.Err(); err != nil {
		return nil, err
	}
	if d.keep != nil {
		if d.read == nil {
			d.read = []bson.Raw{}
		}
		d.keep.docs[d.coll] = d.read
		d.keep.room -= d.held
		d.keep = nil
	}
	_ = d.cur.Close(context.WithoutCancel(ctx))
	return nil, io.EOF
}
