package gate

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// clientFilter encodes and validates a client query: it must be a document
// of known query operators (mql.ValidateQuery), with no
// server-side JavaScript. It is never expanded: %% strings in it are plain
// strings.
func (c *Collection) clientFilter(op string, filter any) (bson.Raw, error) {
	raw, err := toRaw(filter)
	if err != nil {
		return nil, c.refused(op, CodeInvalid, fmt.Sprintf("filter must be a document, got %T", filter), err)
	}
	if r := scanForbidden(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: raw}, "", 0); r != nil {
		r.Namespace, r.Op = c.ns, op
		return nil, r
	}
	if err := mql.ValidateQuery(raw); err != nil {
		return nil, c.refusedFrom(op, CodeUnsupported, "", err)
	}
	return raw, nil
}

// validateMatch is checkPipeline's hook for client $match stages.
func (c *Collection) validateMatch(op string) func(bson.Raw, source.Pointer) *RefusedError {
	return func(q bson.Raw, ptr source.Pointer) *RefusedError {
		if err := mql.ValidateQuery(q); err != nil {
			return c.refusedFrom(op, CodeUnsupported, ptr, err)
		}
		return nil
	}
}

// sortKeys validates a client sort and returns the field paths it reads.
// Every method that takes a sort reads those fields: a document hiding one
// of them from the caller does not match (see refsOK), so that the order,
// and which document a single-document write picks, never depends on a
// hidden value. Only 1 and -1 are accepted: {$meta: ...} sorts ("indexKey",
// "textScore", ...) are refused.
func (c *Collection) sortKeys(op string, sort any) ([]string, error) {
	sraw, err := toRaw(sort)
	if err != nil {
		return nil, c.refused(op, CodeInvalid, "sort is not a document", err)
	}
	elems, _ := sraw.Elements()
	keys := make([]string, 0, len(elems))
	for _, e := range elems {
		k := e.Key()
		if _, ok := e.Value().DocumentOK(); ok {
			// {$meta: "textScore"} and the like.
			return nil, c.refused(op, CodeUnsupported, "sort by "+quote(k)+": only 1 and -1 are supported through the gate", nil)
		}
		if f, ok := e.Value().AsFloat64OK(); !ok || (f != 1 && f != -1) {
			return nil, c.refused(op, CodeInvalid, "sort by "+quote(k)+": the direction must be 1 or -1", nil)
		}
		if k == "" || strings.HasPrefix(k, "$") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") || strings.Contains(k, "..") {
			// $natural and the like, and paths the server cannot read.
			return nil, c.refused(op, CodeInvalid, "sort by "+quote(k)+": not a field path", nil)
		}
		for _, seen := range keys {
			if seen == k {
				// MongoDB and the embedded server refuse or choke on it.
				return nil, c.refused(op, CodeInvalid, "sort by "+quote(k)+" twice", nil)
			}
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// findSpec is what Find sends to the server and what the Cursor applies
// itself.
type findSpec struct {
	op          string
	filter      bson.D
	serverOpts  *options.FindOptionsBuilder
	skip, limit int64
	proj        *projection
	// refs are the field paths the client filter and sort read; a document
	// in which one of them is not readable is left out of the results, so
	// that filtering or sorting on a hidden field reveals nothing.
	refs []string
	// whole: every ref is inside _id (or there is none) and every role
	// the caller may get reads whole documents (Bound.ReadsWhole). Every
	// stored document holds _id, so refsOK holds for each readable one
	// without probing an absent path (a probe could change the
	// document's role), and nothing is redacted: the Cursor decides each
	// document without its fields and returns it as the server sent it.
	// Refs on other fields are checked document by document: a document
	// lacking one is probed.
	whole bool
	// serverPages: no document the server returns can be left out, so
	// the server takes skip and limit; otherwise the Cursor counts them
	// over readable documents. The rule filter must be exact (the server
	// returns exactly the documents some role may read), and refs empty
	// (a readable document is returned, redacted), whole, or each
	// readable in every document the caller may read, whether the
	// document holds it or not (Bound.ReadsPaths: refsOK then holds for
	// each readable document).
	serverPages bool
	// batchSize: the client chose the batch size.
	batchSize bool
}

// find prepares a gated find. The rules' projection is not sent to the
// server: roles are decided on whole documents (a role's apply_when may
// read a field no role may read), and Decision.Fields then says what to
// keep, filter projections included.
func (c *Collection) find(ctx context.Context, b *evaluator.Bound, op string, filter any, fo *options.FindOptions) (*findSpec, error) {
	if r := c.checkOptions(op, serverOptions{hint: fo.Hint, noCursorTimeout: fo.NoCursorTimeout, allowPartial: fo.AllowPartialResults,
		oplogReplay: fo.OplogReplay, internal: fo.Internal != (options.FindOptions{}).Internal, let: fo.Let}); r != nil {
		return nil, r
	}
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return nil, err
	}
	rf, _, exact, err := readScope(ctx, b)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	spec := &findSpec{op: op, filter: combine(client, rf), serverOpts: options.Find()}
	if spec.proj, err = c.clientProjection(op, fo.Projection); err != nil {
		return nil, err
	}
	if spec.refs, err = c.readRefs(op, client, fo.Sort); err != nil {
		return nil, err
	}
	if fo.Sort != nil {
		spec.serverOpts.SetSort(fo.Sort)
	}
	spec.whole = idOnly(spec.refs) && b.ReadsWhole(ctx)
	spec.serverPages = exact && (len(spec.refs) == 0 || spec.whole || b.ReadsPaths(ctx, spec.refs))
	if fo.Skip != nil {
		spec.skip = *fo.Skip
	}
	if fo.Limit != nil {
		spec.limit = *fo.Limit
		if spec.limit < 0 {
			spec.limit = -spec.limit
		}
	}
	if fo.BatchSize != nil {
		spec.serverOpts.SetBatchSize(*fo.BatchSize)
		spec.batchSize = true
	}
	if fo.Comment != nil {
		spec.serverOpts.SetComment(fo.Comment)
	}
	if fo.AllowDiskUse != nil {
		spec.serverOpts.SetAllowDiskUse(*fo.AllowDiskUse)
	}
	if fo.MaxAwaitTime != nil {
		spec.serverOpts.SetMaxAwaitTime(*fo.MaxAwaitTime)
	}
	switch {
	case fo.Collation != nil:
		return nil, c.noCollation(op)
	case fo.Max != nil, fo.Min != nil:
		return nil, c.refused(op, CodeUnsupported, "the min and max options are not supported through the gate", nil)
	case fo.ReturnKey != nil && *fo.ReturnKey, fo.ShowRecordID != nil && *fo.ShowRecordID:
		return nil, c.refused(op, CodeUnsupported, "returnKey and showRecordId are not supported through the gate", nil)
	case fo.CursorType != nil && *fo.CursorType != options.NonTailable:
		return nil, c.refused(op, CodeUnsupported, "tailable cursors are not supported through the gate", nil)
	}
	return spec, nil
}

// idOnly reports whether every path in refs is _id or inside it.
func idOnly(refs []string) bool {
	for _, r := range refs {
		if r != "_id" && !strings.HasPrefix(r, "_id.") {
			return false
		}
	}
	return true
}

// clientProjection parses a client projection (nil for none); the gate
// applies it itself, after the rules' redaction (see parseProjection).
func (c *Collection) clientProjection(op string, proj any) (*projection, error) {
	if proj == nil {
		return nil, nil
	}
	praw, err := toRaw(proj)
	if err != nil {
		return nil, c.refused(op, CodeInvalid, "projection is not a document", err)
	}
	p, msg := parseProjection(praw)
	if msg != "" {
		return nil, c.refused(op, CodeUnsupported, msg, nil)
	}
	return p, nil
}

// evalErr wraps an evaluation failure: the operation is denied (fail
// closed) with ReasonError, and the cause kept for errors.As.
func (c *Collection) evalErr(ctx context.Context, op string, a evaluator.Action, err error) error {
	var de *DeniedError
	if errors.As(err, &de) {
		return err
	}
	if err == errNoRules {
		de := &DeniedError{Namespace: c.ns, Op: op, Action: a, Reason: evaluator.ReasonNoRules}
		c.deniedEvent(ctx, de, nil)
		return de
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	e := &evalError{DeniedError: DeniedError{Namespace: c.ns, Op: op, Action: a, Reason: evaluator.ReasonError}, err: err}
	c.deniedEvent(ctx, &e.DeniedError, nil)
	return e
}

// evalError is a DeniedError with ReasonError that keeps the evaluation
// error it came from.
type evalError struct {
	DeniedError
	err error
}

func (e *evalError) Error() string { return e.DeniedError.Error() + ": " + e.err.Error() }
func (e *evalError) Unwrap() error { return e.err }
func (e *evalError) Is(target error) bool {
	return target == ErrDenied
}

// As makes an evalError a *DeniedError for errors.As, as every other
// denial is; the DeniedError's message is the denial's alone, without the
// evaluation error, which Error and Unwrap keep for Go callers.
func (e *evalError) As(target any) bool {
	if p, ok := target.(**DeniedError); ok {
		*p = &e.DeniedError
		return true
	}
	return false
}

// Find runs a gated find: the client filter AND-ed with the rule filter,
// the rules' projection applied by the server, then, for each document, the
// role decided and the fields that role cannot read removed; documents no
// role may read are left out, as in App Services. The options the driver
// accepts for Find are honoured except min, max, returnKey, showRecordId,
// tailable cursors and those checkOptions lists (hint, noCursorTimeout,
// allowPartialResults, oplogReplay, let: refused); skip and limit count the documents
// the caller may read; a projection may only include or exclude fields, and
// it is applied after the rules.
func (c *Collection) Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (*Cursor, error) {
	fo, err := listFind(opts)
	if err != nil {
		return nil, err
	}
	return c.openCursor(ctx, "Find", filter, fo)
}

func (c *Collection) openCursor(ctx context.Context, op string, filter any, fo *options.FindOptions) (*Cursor, error) {
	b, err := c.bindRead(ctx, op)
	if err != nil {
		return nil, err
	}
	return c.openBound(ctx, b, op, filter, fo)
}

// openBound is openCursor for a caller already bound (Aggregate, and the
// foreign reads of its pipelines, which decide on b before they read).
func (c *Collection) openBound(ctx context.Context, b *evaluator.Bound, op string, filter any, fo *options.FindOptions) (*Cursor, error) {
	spec, err := c.find(ctx, b, op, filter, fo)
	if err != nil {
		return nil, err
	}
	cu := &Cursor{c: c, b: b, spec: spec}
	if err := cu.open(ctx); err != nil {
		return nil, err
	}
	return cu, nil
}

func listFind(opts []options.Lister[options.FindOptions]) (*options.FindOptions, error) {
	fo := &options.FindOptions{}
	for _, o := range opts {
		if o == nil {
			continue
		}
		for _, set := range o.List() {
			if err := set(fo); err != nil {
				return nil, err
			}
		}
	}
	return fo, nil
}

// FindOne is Find with a limit of one, returning the driver's
// *mongo.SingleResult (mongo.ErrNoDocuments when the caller may read no
// matching document).
func (c *Collection) FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) *mongo.SingleResult {
	one := &options.FindOneOptions{}
	for _, o := range opts {
		if o == nil {
			continue
		}
		for _, set := range o.List() {
			if err := set(one); err != nil {
				return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
			}
		}
	}
	limit := int64(1)
	fo := &options.FindOptions{
		AllowPartialResults: one.AllowPartialResults, Collation: one.Collation, Comment: one.Comment,
		Hint: one.Hint, Max: one.Max, Min: one.Min, Projection: one.Projection, ReturnKey: one.ReturnKey,
		ShowRecordID: one.ShowRecordID, Skip: one.Skip, Sort: one.Sort, Limit: &limit,
		OplogReplay: one.OplogReplay, Internal: one.Internal,
	}
	cur, err := c.openCursor(ctx, "FindOne", filter, fo)
	if err != nil {
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	defer cur.Close(ctx)
	if !cur.Next(ctx) {
		err := cur.Err()
		if err == nil {
			err = mongo.ErrNoDocuments
		}
		return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
	}
	return mongo.NewSingleResultFromDocument(cur.Current, nil, nil)
}
