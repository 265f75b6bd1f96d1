package gate

import (
	"bytes"
	"context"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Aggregate runs a client pipeline over the documents the caller may read.
// The gate puts the rule filter first ({$match: ruleFilter}) and the rules'
// projection right after it, so no later stage ever sees a document or a
// field the caller may not read; then come the client's stages, which must
// be among the whitelisted ones ($match, $project, $addFields, $set,
// $unset, $sort, $limit, $skip, $count, $group, $unwind, $sortByCount,
// $replaceRoot, $replaceWith, $bucket, $bucketAuto, $sample). Stages App
// Services does not offer application users are refused ($facet,
// $graphLookup, $merge, $out, $geoNear, $collStats, $currentOp,
// $indexStats: mongodb/docs-app-services
// source/mongodb/crud-and-aggregation-apis.txt, "Aggregation Pipeline Stage
// Availability"), as are $function (ibid., "Aggregation Pipeline Operator
// Availability"), $accumulator and $where anywhere. $lookup and $unionWith,
// which App Services runs with the other collection's rules, are refused
// too: the gate does not rewrite sub-pipelines with another collection's
// rules; query that collection through its own gated Collection. Client
// $match bodies are validated like Find filters
// (mql.ValidateQuery); {$meta: "indexKey"} and {$meta:
// "recordId"} are refused anywhere (see metaAllowed). The collation option
// is refused, as in App Services' user context ("Query Option
// Availability"), and so are hint, allowDiskUse, bypassDocumentValidation
// and let (see checkOptions).
//
// The result is the driver's *mongo.Cursor: after a $group or $project the
// documents are the pipeline's own, not stored documents, and the gate has
// already restricted the input.
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
	if r := checkPipeline(stages, "", 0, c.validateMatch(op)); r != nil {
		r.Namespace, r.Op = c.ns, op
		return nil, r
	}
	b, err := c.bindRead(ctx, op)
	if err != nil {
		return nil, err
	}
	head, err := c.pipelineHead(ctx, b, op)
	if err != nil {
		return nil, err
	}
	full := make(bson.A, 0, len(head)+len(stages))
	for _, h := range head {
		full = append(full, h)
	}
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

// pipelineHead returns the stages the gate puts before a client pipeline:
// the rule filter, then the rules' projection.
//
// A pipeline cannot redact documents one by one, so the projection must
// leave every document with only fields its own role may read. That holds
// when all the roles that can apply to the caller read the same fields;
// otherwise the evaluator's projection removes only what none of them may
// read. The gate checks it: it reads the documents the rule filter admits,
// decides each one's role and fields, and refuses the aggregation
// (CodeUnsupported) when a document's role reads less than the projection
// keeps (also with every field the projection may keep present, see
// withProbeFields, so that the answer does not say whether a document
// holds a hidden field), or when the read rules cannot be written as a
// query at all. The check is a scan of the readable documents; a document whose role changes
// between the check and the aggregation (a concurrent, authorized write) is
// not re-checked.
func (c *Collection) pipelineHead(ctx context.Context, b *evaluator.Bound, op string) ([]bson.D, error) {
	rf, proj, exact, err := readScope(ctx, b)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	if !exact {
		return nil, c.refused(op, CodeUnsupported, "the read rules of this collection cannot be written as a query (they compare document values), so a pipeline cannot be restricted to the readable documents; use Find", nil)
	}
	var p *projection
	if len(proj) > 0 {
		praw, err := bson.Marshal(proj)
		if err != nil {
			return nil, err
		}
		var msg string
		if p, msg = parseProjection(praw); msg != "" {
			return nil, c.refused(op, CodeUnsupported, "rules projection: "+msg, nil)
		}
		for _, k := range p.Paths().Top() {
			if !p.Paths().Covers(k) {
				// {$project: {"a.x": 0}} leaves a: {} where a held only
				// a.x: the pipeline would show which documents hold the
				// hidden field. Refused whatever the documents hold.
				return nil, c.refused(op, CodeUnsupported, "a filter's projection keeps or removes fields inside "+quote(k)+", and a pipeline cannot hide which embedded documents hold them; use Find, CountDocuments or Distinct", nil)
			}
		}
	}
	named := b.NamedPaths()
	cur, err := c.coll.Find(ctx, rf)
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		// The document as stored, then as it would be with every field
		// the projection may keep present: whether the check passes must
		// not depend on whether the document holds a field hidden from
		// the caller (a presence oracle), only on its role.
		fits, err := c.projectionFits(ctx, b, op, p, cur.Current)
		if err == nil && fits {
			var probe bson.Raw
			if probe, err = withProbeFields(cur.Current, p, named); err == nil {
				fits, err = c.projectionFits(ctx, b, op, p, probe)
			}
		}
		if err != nil {
			return nil, err
		}
		if !fits {
			return nil, c.refused(op, CodeUnsupported, "the caller's roles read different fields in different documents, and a pipeline cannot redact documents one by one; use Find, CountDocuments or Distinct", nil)
		}
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	head := []bson.D{{{Key: "$match", Value: rf}}}
	if len(proj) > 0 {
		head = append(head, bson.D{{Key: "$project", Value: proj}})
	}
	return head, nil
}

// projectionFits reports whether doc's role may read doc and every field
// of it that the rules projection p (nil: none) keeps.
func (c *Collection) projectionFits(ctx context.Context, b *evaluator.Bound, op string, p *projection, doc bson.Raw) (bool, error) {
	d, err := c.decide(ctx, b, evaluator.ActionRead, doc, nil, nil)
	if err != nil {
		return false, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	if !d.Allowed {
		return false, nil
	}
	seen := doc
	if p != nil {
		if seen, err = bson.Marshal(p.Apply(doc)); err != nil {
			return false, err
		}
	}
	kept, err := bson.Marshal(mql.NewPaths(d.Fields.Read).Keep(seen))
	if err != nil {
		return false, err
	}
	return bytes.Equal(kept, seen), nil
}

// probeField names a field no document is expected to hold: a role that
// cannot read it reads a closed set of fields.
const probeField = "__rulegate_probe__"

// withProbeFields returns doc as it would be with every field the
// projection p may keep present: null for each top-level field it lacks
// that p keeps (those of an inclusion projection; for none or an exclusion
// projection, which keep any other field, probeField), null for each path
// the rules name (named, evaluator.Bound.NamedPaths) that it lacks, where
// the documents on the way allow it, and, at every depth, probeField in
// each embedded document and a {probeField: null} element in each array.
// A role that reads an embedded document only in part (fields: {a:
// {fields: {b: ...}}}), or every field but a named one, then fails the
// check whether or not the stored document holds a field it hides, so
// that the refusal does not tell whether it does.
func withProbeFields(doc bson.Raw, p *projection, named []string) (bson.Raw, error) {
	d := probeInside(doc)
	for _, n := range named {
		d = setMissing(d, strings.Split(n, "."))
	}
	if p != nil && p.Inclusion() {
		for _, k := range p.Paths().Top() {
			if !hasKey(d, k) {
				d = append(d, bson.E{Key: k, Value: nil})
			}
		}
	} else {
		d = append(d, bson.E{Key: probeField, Value: nil})
	}
	return bson.Marshal(d)
}

func hasKey(d bson.D, k string) bool {
	for _, e := range d {
		if e.Key == k {
			return true
		}
	}
	return false
}

// setMissing returns d with the path segs set to null where it is
// missing: through embedded documents (created when missing) and the
// documents of arrays; a scalar on the way is left alone.
func setMissing(d bson.D, segs []string) bson.D {
	for i, e := range d {
		if e.Key != segs[0] {
			continue
		}
		if len(segs) > 1 {
			d[i].Value = setMissingValue(e.Value, segs[1:])
		}
		return d
	}
	var v any
	for j := len(segs) - 1; j > 0; j-- {
		v = bson.D{{Key: segs[j], Value: v}}
	}
	return append(d, bson.E{Key: segs[0], Value: v})
}

func setMissingValue(v any, segs []string) any {
	switch x := v.(type) {
	case bson.D:
		return setMissing(x, segs)
	case bson.A:
		for i, el := range x {
			if sub, ok := el.(bson.D); ok {
				x[i] = setMissing(sub, segs)
			}
		}
		return x
	}
	return v
}

// probeInside copies doc with probeField added inside its embedded
// documents and arrays, at every depth (see withProbeFields).
func probeInside(doc bson.Raw) bson.D {
	elems, _ := doc.Elements()
	d := make(bson.D, 0, len(elems)+1)
	for _, e := range elems {
		d = append(d, bson.E{Key: e.Key(), Value: probeValue(e.Value())})
	}
	return d
}

func probeValue(v bson.RawValue) any {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return append(probeInside(v.Document()), bson.E{Key: probeField, Value: nil})
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		a := make(bson.A, 0, len(vals)+1)
		for _, x := range vals {
			a = append(a, probeValue(x))
		}
		return append(a, bson.D{{Key: probeField, Value: nil}})
	}
	return v
}
