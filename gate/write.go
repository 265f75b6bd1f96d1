package gate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// InsertOne checks the document against the rules' insert permission (and
// the field-level write permission of every field it holds) and inserts it.
// A document without _id gets a new ObjectID first, so that the rules see
// the document as it will be stored.
func (c *Collection) InsertOne(ctx context.Context, document any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error) {
	io := &options.InsertOneOptions{}
	if err := apply(io, opts); err != nil {
		return nil, err
	}
	if r := c.checkOptions("InsertOne", serverOptions{bypass: io.BypassDocumentValidation, internal: io.Internal != (options.InsertOneOptions{}).Internal}); r != nil {
		return nil, r
	}
	b, err := c.bind(ctx)
	if err != nil {
		return nil, c.evalErr(ctx, "InsertOne", evaluator.ActionInsert, err)
	}
	doc, err := c.checkInsert(ctx, b, "InsertOne", document, "")
	if err != nil {
		return nil, err
	}
	o := options.InsertOne()
	if io.Comment != nil {
		o.SetComment(io.Comment)
	}
	res, err := c.coll.InsertOne(ctx, doc, o)
	return res, withholdKeys(err)
}

// InsertMany checks every document like InsertOne before sending any: one
// denied document denies the whole call and nothing is inserted.
func (c *Collection) InsertMany(ctx context.Context, documents any, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error) {
	im := &options.InsertManyOptions{}
	if err := apply(im, opts); err != nil {
		return nil, err
	}
	if r := c.checkOptions("InsertMany", serverOptions{bypass: im.BypassDocumentValidation, internal: im.Internal != (options.InsertManyOptions{}).Internal}); r != nil {
		return nil, r
	}
	docs, err := toDocsAny(documents)
	if err != nil {
		return nil, c.refused("InsertMany", CodeInvalid, err.Error(), err)
	}
	if len(docs) == 0 {
		return nil, c.refused("InsertMany", CodeInvalid, "no documents to insert", nil)
	}
	b, err := c.bind(ctx)
	if err != nil {
		return nil, c.evalErr(ctx, "InsertMany", evaluator.ActionInsert, err)
	}
	out := make([]any, len(docs))
	for i, d := range docs {
		doc, err := c.checkInsert(ctx, b, "InsertMany", d, source.Pointer("").Index(i))
		if err != nil {
			return nil, err
		}
		out[i] = doc
	}
	o := options.InsertMany()
	if im.Comment != nil {
		o.SetComment(im.Comment)
	}
	if im.Ordered != nil {
		o.SetOrdered(*im.Ordered)
	}
	res, err := c.coll.InsertMany(ctx, out, o)
	return res, withholdKeys(err)
}

func (c *Collection) checkInsert(ctx context.Context, b *evaluator.Bound, op string, document any, ptr source.Pointer) (bson.Raw, error) {
	raw, err := toRaw(document)
	if err != nil {
		r := c.refused(op, CodeInvalid, fmt.Sprintf("document must be a document, got %T", document), err)
		r.Ptr = ptr
		return nil, r
	}
	if err := mql.ValidateDocument(raw); err != nil {
		return nil, c.refusedFrom(op, CodeInvalid, ptr, err)
	}
	if _, err := raw.LookupErr("_id"); err != nil {
		d := bson.D{{Key: "_id", Value: bson.NewObjectID()}}
		elems, _ := raw.Elements()
		for _, e := range elems {
			d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
		}
		if raw, err = bson.Marshal(d); err != nil {
			return nil, err
		}
	}
	d, err := c.decide(ctx, b, evaluator.ActionInsert, raw, nil, nil)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionInsert, err)
	}
	if !d.Allowed {
		return nil, c.denied(ctx, op, evaluator.ActionInsert, d, raw)
	}
	c.event(ctx, op, d, raw)
	return raw, nil
}

// toDocsAny accepts the []any, []bson.D, []bson.M, ... that the driver's
// InsertMany accepts.
func toDocsAny(documents any) ([]any, error) {
	raws, err := toDocs(documents)
	if err != nil {
		return nil, err
	}
	out := make([]any, len(raws))
	for i, r := range raws {
		out[i] = r
	}
	return out, nil
}

// update is a parsed client update or replacement, with what its
// positional paths need: the client filter ($) and the arrayFilters
// option ($[<identifier>]), and the field paths of the stored document
// the arrayFilters read (filterRefs).
type update struct {
	raw          bson.Raw
	info         mql.UpdateInfo
	query        bson.Raw
	arrayFilters []bson.Raw
	filterRefs   []string
}

// options returns what mql needs to apply the update to a stored
// document: the client filter decides $, the arrayFilters $[<identifier>]
// (never the rule filter, which the server would AND in).
func (u *update) options() mql.ApplyOptions {
	return mql.ApplyOptions{Query: u.query, ArrayFilters: u.arrayFilters}
}

// apply returns the stored document prev after the update.
func (u *update) apply(prev bson.Raw) (bson.Raw, error) {
	return mql.ApplyUpdateWith(prev, u.raw, u.options())
}

// forServer returns the update the server is sent for prev: positional
// paths as the array indexes they stand for in prev (mql.ResolveUpdate),
// so that the server, which ANDs the rule filter and the pin into the
// query and may not run positional paths at all, writes exactly the
// document the gate checked. The pin makes the write land only on prev
// unchanged.
func (u *update) forServer(prev bson.Raw) (bson.Raw, error) {
	if u.info.Replacement {
		return u.raw, nil
	}
	return mql.ResolveUpdate(prev, u.raw, u.options())
}

// withFilters sets the client filter and the arrayFilters option of an
// update with operators: each filter a query document, validated like a
// client filter (a pointer /arrayFilters/<i> in the refusal); the paths
// they read become filterRefs.
func (c *Collection) withFilters(op string, upd *update, client bson.Raw, arrayFilters []any) error {
	upd.query = client
	if upd.info.Replacement {
		return nil
	}
	upd.arrayFilters = []bson.Raw{}
	for i, f := range arrayFilters {
		ptr := source.Pointer("/arrayFilters").Index(i)
		raw, err := toRaw(f)
		if err != nil {
			r := c.refused(op, CodeInvalid, fmt.Sprintf("an array filter must be a document, got %T", f), err)
			r.Ptr = ptr
			return r
		}
		if err := mql.ValidateQuery(raw); err != nil {
			return c.refusedFrom(op, CodeInvalid, ptr, err)
		}
		upd.arrayFilters = append(upd.arrayFilters, raw)
	}
	upd.filterRefs = arrayFilterRefs(upd.raw, upd.arrayFilters)
	return nil
}

func (c *Collection) parseUpdate(op string, u any, replacement bool) (*update, error) {
	raw, err := mql.MarshalUpdate(u)
	if err == nil {
		var info mql.UpdateInfo
		info, err = mql.UpdatePaths(raw)
		if err == nil {
			// The values an update writes are checked like inserted
			// documents: no "$"-prefixed or dotted field names.
			if err := mql.ValidateUpdate(raw); err != nil {
				return nil, c.refusedFrom(op, CodeInvalid, "", err)
			}
			switch {
			case replacement && !info.Replacement:
				return nil, c.refused(op, CodeInvalid, "replacement document contains update operators", nil)
			case !replacement && info.Replacement:
				return nil, c.refused(op, CodeInvalid, "update document must contain only update operators", nil)
			}
			return &update{raw: raw, info: info}, nil
		}
	}
	r := c.refusedFrom(op, CodeInvalid, "", err)
	var se *source.Error
	errors.As(err, &se)
	if errors.Is(err, mql.ErrUnsupportedUpdate) || (se != nil && se.Code == mql.CodeUpdatePipeline) {
		r.Code = CodeUnsupported
	}
	return nil, r
}

// writeOpts are the options of the update methods that the gate honours.
type writeOpts struct {
	arrayFilters []any
	sort         any
	comment      any
	upsert       bool
}

func isTrue(b *bool) bool { return b != nil && *b }

// pin returns the filter of the document prev exactly as read: its _id and
// the value of every top-level field. A write with it AND the rule's write
// filter succeeds only if nobody changed the document since the gate read
// it and checked the result of the write; otherwise the gate reads again.
func pin(prev bson.Raw) bson.D {
	elems, _ := prev.Elements()
	out := make(bson.D, 0, len(elems))
	for _, e := range elems {
		out = append(out, bson.E{Key: e.Key(), Value: bson.D{{Key: "$eq", Value: e.Value()}}})
	}
	return out
}

// guardedWrite is one write of one document: check the document after the
// write, then write it with the optimistic filter. do performs the write
// with the given filter and update (upd as the server is sent it for the
// document read: update.forServer) and reports whether it matched.
type guardedWrite struct {
	op     string
	upd    *update
	scope  bson.D
	retry  int
	reread func(ctx context.Context) (bson.Raw, error) // the document in scope now, nil when none
	do     func(ctx context.Context, filter bson.D, update bson.Raw) (matched bool, err error)
}

// run performs w: read the document in scope, compute it after the update
// (mql.ApplyUpdate), evaluate the write with %%root the new document
// and %%prevRoot the old, and write it only if unchanged since. It returns
// found=false when no document is in scope.
func (c *Collection) run(ctx context.Context, b *evaluator.Bound, w guardedWrite) (found bool, err error) {
	var sent bson.Raw
	for attempt := 0; attempt <= w.retry; attempt++ {
		prev, err := w.reread(ctx)
		if err != nil || prev == nil {
			return false, err
		}
		post, err := w.upd.apply(prev)
		if err == nil {
			var send bson.Raw
			if send, err = w.upd.forServer(prev); err == nil {
				sent = send
			}
		}
		if err != nil {
			return true, c.applyFailed(ctx, b, w.op, prev, w.upd, err)
		}
		d, err := c.decideWrite(ctx, b, prev, post, w.upd.raw)
		if err != nil {
			return true, c.evalErr(ctx, w.op, evaluator.ActionWrite, err)
		}
		if !d.Allowed {
			return true, c.denied(ctx, w.op, evaluator.ActionWrite, d, prev)
		}
		matched, err := w.do(ctx, mql.And(w.scope, pin(prev)), sent)
		if err == nil && matched {
			c.event(ctx, w.op, d, prev)
		}
		if err != nil || matched {
			return true, err
		}
		// Lost a race: back off a little and read again.
		backoff(ctx, attempt)
	}
	return true, &RefusedError{Namespace: c.ns, Op: w.op, Code: CodeConflict,
		Msg: fmt.Sprintf("the document kept changing during %d attempts", w.retry+1), Err: ErrConflict}
}

// applyFailed explains an update that mql.ApplyUpdate cannot apply
// to prev (aerr). The message of aerr speaks of the values the update
// touches ("cannot apply $inc to a value of type string"), so it is given
// only when the caller may write them: the write is first decided on prev
// (the paths the update touches, with %%root the document as stored), and
// a denial is returned when the rules refuse it, whatever the values.
func (c *Collection) applyFailed(ctx context.Context, b *evaluator.Bound, op string, prev bson.Raw, upd *update, aerr error) error {
	d, err := c.decide(ctx, b, evaluator.ActionWrite, prev, prev, upd.raw)
	if err != nil {
		return c.evalErr(ctx, op, evaluator.ActionWrite, err)
	}
	if !d.Allowed {
		return c.denied(ctx, op, evaluator.ActionWrite, d, prev)
	}
	r := c.refused(op, CodeUnsupported, "the document after the update cannot be computed, so the rules cannot be checked: "+aerr.Error(), aerr)
	if !errors.Is(aerr, mql.ErrUnsupportedUpdate) {
		r.Code = CodeInvalid
	}
	return r
}

// decideWrite decides the write of update on prev, giving post: the rules
// evaluated with %%root = post and %%prevRoot = prev; then, unless the Gate
// was made with WithLeavingScopeAllowed, post as a stored document must
// still be one the caller may write (evaluator.WithLeavingScopeDenied,
// which fixtures apply too): an update or replacement that moves a
// document out of the caller's write scope, such as changing its owner,
// is denied with evaluator.ReasonLeavingScope and the role that allowed
// the write.
func (c *Collection) decideWrite(ctx context.Context, b *evaluator.Bound, prev, post, update bson.Raw) (evaluator.Decision, error) {
	if c.s.g.leaveScope {
		return c.decide(ctx, b, evaluator.ActionWrite, post, prev, update)
	}
	return c.decide(ctx, b, evaluator.ActionWrite, post, prev, update, evaluator.WithLeavingScopeDenied())
}

func backoff(ctx context.Context, attempt int) {
	d := time.Duration(rand.IntN(1<<min(attempt, 6)+1)) * time.Millisecond
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// notWritten explains a write that found no document in the caller's
// write scope. When the client filter alone matches a document the caller
// may not write (or delete), the rules refused the write, and a
// *DeniedError says why (its Reason from evaluating that document; nothing
// of its content is returned). Otherwise there was nothing to write and
// err is nil. The check runs after the write and only for error reporting:
// the write itself never touches a document outside the scope.
//
// A readable document whose hidden fields the client filter reads does not
// count (it does not match, as with Find). A document the caller cannot
// read at all does not count either, unless the Gate was made with
// WithInvisibleMatchesRevealed: the denial then tells the caller that some
// document matches its filter.
func (c *Collection) notWritten(ctx context.Context, b *evaluator.Bound, op string, a evaluator.Action, client bson.Raw, upd *update) error {
	refs := writeRefs(client, upd)
	cur, err := c.coll.Find(ctx, client)
	if err != nil {
		return err
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		doc := cur.Current
		rd, err := c.decide(ctx, b, evaluator.ActionRead, doc, nil, nil)
		if err != nil {
			return c.evalErr(ctx, op, evaluator.ActionRead, err)
		}
		if rd.Allowed {
			if ok, err := c.refsOK(ctx, b, op, doc, rd.Fields.Read, refs); err != nil || !ok {
				if err != nil {
					return err
				}
				continue
			}
		} else if !c.s.g.revealInvisible {
			continue
		}
		var d evaluator.Decision
		if a == evaluator.ActionDelete {
			d, err = c.decide(ctx, b, a, doc, nil, nil)
		} else {
			post := doc
			if p, e := upd.apply(doc); e == nil {
				post = p
			}
			d, err = c.decide(ctx, b, a, post, doc, upd.raw)
		}
		if err != nil {
			return c.evalErr(ctx, op, a, err)
		}
		if d.Allowed {
			continue
		}
		return c.denied(ctx, op, a, d, doc)
	}
	return cur.Err()
}

// UpdateOne updates one document the caller may write. The rule's write
// filter for the fields the update touches is folded into the filter, and
// the document after the update is checked against the rules before it is
// written: an update that would move the document out of the caller's
// write scope (changing the owner field, say) is denied. The write itself
// is conditioned on the document being unchanged since it was checked; a
// concurrent change makes the gate check again (WithRetries).
//
// With upsert, when no document in the caller's write scope matches (and
// none the caller can read matches and may not be written: that is
// denied), the document MongoDB would insert is decided as InsertOne
// decides it and inserted (see the package documentation, Upserts). An
// update whose result the gate cannot compute (mql.ErrUnsupportedUpdate:
// $push with $sort, a positional $ whose element the filter does not
// define, ...) is refused: the rules could not be checked. Positional
// paths and arrayFilters are decided on the stored document (see the
// package documentation, Positional updates).
func (c *Collection) UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error) {
	uo := &options.UpdateOneOptions{}
	if err := apply(uo, opts); err != nil {
		return nil, err
	}
	if uo.Collation != nil {
		return nil, c.noCollation("UpdateOne")
	}
	if r := c.checkOptions("UpdateOne", serverOptions{hint: uo.Hint, bypass: uo.BypassDocumentValidation,
		internal: uo.Internal != (options.UpdateOneOptions{}).Internal, let: uo.Let}); r != nil {
		return nil, r
	}
	wo := writeOpts{arrayFilters: uo.ArrayFilters, sort: uo.Sort, comment: uo.Comment, upsert: isTrue(uo.Upsert)}
	return c.updateOne(ctx, "UpdateOne", filter, update, false, wo)
}

// UpdateByID is UpdateOne with the filter {_id: id}.
func (c *Collection) UpdateByID(ctx context.Context, id, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error) {
	if id == nil {
		return nil, mongo.ErrNilValue
	}
	return c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, update, opts...)
}

// ReplaceOne replaces one document the caller may write, checked like
// UpdateOne: the replacement is the new document, every field it sets or
// drops must be writable, and the result must stay in the caller's write
// scope. With upsert, a replacement that matches nothing inserts the
// replacement (with the filter's _id when it has none), decided as
// InsertOne decides it.
func (c *Collection) ReplaceOne(ctx context.Context, filter, replacement any, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error) {
	ro := &options.ReplaceOptions{}
	if err := apply(ro, opts); err != nil {
		return nil, err
	}
	if ro.Collation != nil {
		return nil, c.noCollation("ReplaceOne")
	}
	if r := c.checkOptions("ReplaceOne", serverOptions{hint: ro.Hint, bypass: ro.BypassDocumentValidation,
		internal: ro.Internal != (options.ReplaceOptions{}).Internal, let: ro.Let}); r != nil {
		return nil, r
	}
	wo := writeOpts{sort: ro.Sort, comment: ro.Comment, upsert: isTrue(ro.Upsert)}
	return c.updateOne(ctx, "ReplaceOne", filter, replacement, true, wo)
}

func (c *Collection) updateOne(ctx context.Context, op string, filter, u any, replacement bool, wo writeOpts) (*mongo.UpdateResult, error) {
	var res *mongo.UpdateResult
	r, err := c.writeOne(ctx, op, filter, u, replacement, wo, func(ctx context.Context, f bson.D, upd bson.Raw) (bool, error) {
		var err error
		if replacement {
			ro := options.Replace()
			if wo.comment != nil {
				ro.SetComment(wo.comment)
			}
			res, err = c.coll.ReplaceOne(ctx, f, upd, ro)
		} else {
			uo := options.UpdateOne()
			if wo.comment != nil {
				uo.SetComment(wo.comment)
			}
			res, err = c.coll.UpdateOne(ctx, f, upd, uo)
		}
		err = withholdKeys(err)
		return err == nil && res.MatchedCount > 0, err
	})
	switch {
	case err != nil:
		return nil, err
	case r.found:
		return res, nil
	case r.inserted != nil:
		return &mongo.UpdateResult{UpsertedCount: 1, UpsertedID: r.id, Acknowledged: true}, nil
	}
	return &mongo.UpdateResult{Acknowledged: true}, nil
}

// oneResult is what writeOne did.
type oneResult struct {
	b        *evaluator.Bound
	found    bool     // a document in the caller's write scope was written
	inserted bson.Raw // the document an upsert inserted, when none was found
	id       any      // the inserted document's _id, as the driver decodes it
}

// writeOne is the one home of the single-document updates and
// replacements (UpdateOne, ReplaceOne, FindOneAndUpdate,
// FindOneAndReplace): it picks the first document in the caller's write
// scope that the client filter matches (firstInScope, wo.sort), checks
// the write on it and writes it with do (run: the post-image decided, the
// optimistic write, the retries). When none is found, notWritten explains
// it (a matching document the caller can read but may not write denies),
// and with wo.upsert, insertUpserted inserts the document MongoDB would
// create.
func (c *Collection) writeOne(ctx context.Context, op string, filter, u any, replacement bool, wo writeOpts,
	do func(ctx context.Context, f bson.D, upd bson.Raw) (bool, error)) (oneResult, error) {
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return oneResult{}, err
	}
	refs, err := c.readRefs(op, client, wo.sort)
	if err != nil {
		return oneResult{}, err
	}
	upd, err := c.parseUpdate(op, u, replacement)
	if err != nil {
		return oneResult{}, err
	}
	if err := c.withFilters(op, upd, client, wo.arrayFilters); err != nil {
		return oneResult{}, err
	}
	refs = mergeRefs(refs, upd.filterRefs)
	b, err := c.bind(ctx)
	if err != nil {
		return oneResult{}, c.evalErr(ctx, op, evaluator.ActionWrite, err)
	}
	// When the rules cannot be written as a query, scope is empty and
	// run's per-document check decides alone.
	scope, exact, err := writeScope(ctx, b, evaluator.ActionWrite, upd.raw)
	if err != nil {
		return oneResult{}, c.evalErr(ctx, op, evaluator.ActionWrite, err)
	}
	found, err := c.run(ctx, b, guardedWrite{
		op: op, upd: upd, scope: scope, retry: c.s.g.retries,
		reread: c.firstInScope(b, op, combine(client, scope), refs, exact, wo),
		do:     do,
	})
	r := oneResult{b: b, found: found}
	if err != nil || found {
		return r, err
	}
	if err := c.notWritten(ctx, b, op, evaluator.ActionWrite, client, upd); err != nil || !wo.upsert {
		return r, err
	}
	r.inserted, r.id, err = c.insertUpserted(ctx, b, op, client, upd, wo.comment)
	return r, err
}

// firstInScope returns a reader of the first document matching filter (in
// wo's sort order) that the caller may read, and whose fields read by the
// client filter or sort (refs, see readRefs) the caller may read: a
// document that hides one of them does not match, so that which document
// a write picks reveals nothing about hidden values, and a document the
// caller cannot read at all is never picked. Only when filter is the exact
// scope (exact) and nothing is read from the document (no refs, hence no
// sort) does the server pick the document alone.
func (c *Collection) firstInScope(b *evaluator.Bound, op string, filter bson.D, refs []string, exact bool, wo writeOpts) func(context.Context) (bson.Raw, error) {
	return func(ctx context.Context) (bson.Raw, error) {
		if exact && len(refs) == 0 {
			var doc bson.Raw
			err := c.coll.FindOne(ctx, filter).Decode(&doc)
			if errors.Is(err, mongo.ErrNoDocuments) {
				return nil, nil
			}
			return doc, err
		}
		fo := options.Find()
		if wo.sort != nil {
			fo.SetSort(wo.sort)
		}
		cur, err := c.coll.Find(ctx, filter, fo)
		if err != nil {
			return nil, err
		}
		defer cur.Close(ctx)
		for cur.Next(ctx) {
			d, err := c.decide(ctx, b, evaluator.ActionRead, cur.Current, nil, nil)
			if err != nil {
				return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
			}
			if !d.Allowed {
				continue
			}
			ok, err := c.refsOK(ctx, b, op, cur.Current, d.Fields.Read, refs)
			if err != nil || ok {
				return cur.Current, err
			}
		}
		return nil, cur.Err()
	}
}

// readRefs returns the field paths an operation reads in a document to
// match and order it: those of the client filter and the sort keys (see
// sortKeys). Find and the single-document writes leave out a document in
// which one of them is hidden.
func (c *Collection) readRefs(op string, client bson.Raw, sort any) ([]string, error) {
	m := map[string]bool{}
	queryPaths(client, m)
	if sort != nil {
		keys, err := c.sortKeys(op, sort)
		if err != nil {
			return nil, err
		}
		for _, k := range keys {
			m[k] = true
		}
	}
	return sortedKeys(m), nil
}

// refsReadable reports whether the caller may read doc and every field
// path in refs within it.
func (c *Collection) refsReadable(ctx context.Context, b *evaluator.Bound, op string, doc bson.Raw, refs []string) (bool, error) {
	if len(refs) == 0 {
		return true, nil
	}
	d, err := c.decide(ctx, b, evaluator.ActionRead, doc, nil, nil)
	if err != nil {
		return false, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	if !d.Allowed {
		return false, nil
	}
	return c.refsOK(ctx, b, op, doc, d.Fields.Read, refs)
}

// clientRefs returns the field paths a client filter reads.
func clientRefs(client bson.Raw) []string {
	m := map[string]bool{}
	queryPaths(client, m)
	return sortedKeys(m)
}

// UpdateMany updates every document matching filter that the caller may
// write, each checked like UpdateOne (the document after the update must
// stay in the caller's write scope) and each written conditioned on being
// unchanged since its check.
//
// First every matching document the caller can read is checked; if the
// update is denied on any of them, the whole call is denied and nothing is
// written (documents the caller cannot read are invisible to it and left
// alone). As with the driver's UpdateMany, the documents are then updated
// one by one, not in one transaction: a denial found while writing (a
// document changed concurrently into one the caller may not write) stops
// the call with the earlier documents updated. With upsert, when nothing
// was updated, one document is inserted as UpdateOne's upsert inserts it.
func (c *Collection) UpdateMany(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateManyOptions]) (*mongo.UpdateResult, error) {
	const op = "UpdateMany"
	uo := &options.UpdateManyOptions{}
	if err := apply(uo, opts); err != nil {
		return nil, err
	}
	if uo.Collation != nil {
		return nil, c.noCollation(op)
	}
	if r := c.checkOptions(op, serverOptions{hint: uo.Hint, bypass: uo.BypassDocumentValidation,
		internal: uo.Internal != (options.UpdateManyOptions{}).Internal, let: uo.Let}); r != nil {
		return nil, r
	}
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return nil, err
	}
	upd, err := c.parseUpdate(op, update, false)
	if err != nil {
		return nil, err
	}
	if err := c.withFilters(op, upd, client, uo.ArrayFilters); err != nil {
		return nil, err
	}
	b, err := c.bind(ctx)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionWrite, err)
	}
	scope, exact, err := writeScope(ctx, b, evaluator.ActionWrite, upd.raw)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionWrite, err)
	}
	ids, err := c.checkEach(ctx, b, op, evaluator.ActionWrite, client, upd)
	if err != nil {
		return nil, err
	}
	res := &mongo.UpdateResult{Acknowledged: true}
	for _, id := range ids {
		one := mql.And(bson.D{{Key: "_id", Value: id}}, combine(client, scope))
		var r *mongo.UpdateResult
		found, err := c.run(ctx, b, guardedWrite{
			op: op, upd: upd, scope: scope, retry: c.s.g.retries,
			reread: c.firstInScope(b, op, one, writeRefs(client, upd), exact, writeOpts{}),
			do: func(ctx context.Context, f bson.D, sent bson.Raw) (bool, error) {
				var err error
				r, err = c.coll.UpdateOne(ctx, f, sent, options.UpdateOne())
				err = withholdKeys(err)
				return err == nil && r.MatchedCount > 0, err
			},
		})
		if err != nil {
			return res, err
		}
		if found {
			res.MatchedCount += r.MatchedCount
			res.ModifiedCount += r.ModifiedCount
		}
	}
	if res.MatchedCount == 0 {
		if err := c.notWritten(ctx, b, op, evaluator.ActionWrite, client, upd); err != nil {
			return nil, err
		}
		if isTrue(uo.Upsert) {
			_, id, err := c.insertUpserted(ctx, b, op, client, upd, uo.Comment)
			if err != nil {
				return nil, err
			}
			res.UpsertedCount, res.UpsertedID = 1, id
		}
	}
	return res, nil
}

// checkEach decides action a (write with upd, or delete) on every
// document matching client that the caller can read, and returns their
// _ids; the first document on which a is denied denies the call.
func (c *Collection) checkEach(ctx context.Context, b *evaluator.Bound, op string, a evaluator.Action, client bson.Raw, upd *update) ([]bson.RawValue, error) {
	rf, _, _, err := readScope(ctx, b)
	if err != nil {
		return nil, c.evalErr(ctx, op, a, err)
	}
	cur, err := c.coll.Find(ctx, combine(client, rf))
	if err != nil {
		return nil, err
	}
	defer cur.Close(ctx)
	refs := writeRefs(client, upd)
	var ids []bson.RawValue
	for cur.Next(ctx) {
		doc := cur.Current
		rd, err := c.decide(ctx, b, evaluator.ActionRead, doc, nil, nil)
		if err != nil {
			return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
		}
		if !rd.Allowed {
			continue // invisible to the caller
		}
		if ok, err := c.refsOK(ctx, b, op, doc, rd.Fields.Read, refs); err != nil {
			return nil, err
		} else if !ok {
			continue // the filter reads a field hidden in it: no match
		}
		d, err := c.decideOn(ctx, b, op, a, doc, upd)
		if err != nil {
			return nil, err
		}
		if !d.Allowed {
			return nil, c.denied(ctx, op, a, d, doc)
		}
		ids = append(ids, doc.Lookup("_id"))
	}
	return ids, cur.Err()
}

// decideOn decides a on a stored document: a delete, or the write of upd
// with the document after it as %%root. An update whose result cannot be
// computed is refused.
func (c *Collection) decideOn(ctx context.Context, b *evaluator.Bound, op string, a evaluator.Action, doc bson.Raw, upd *update) (evaluator.Decision, error) {
	if a == evaluator.ActionDelete {
		d, err := c.decide(ctx, b, a, doc, nil, nil)
		if err != nil {
			return d, c.evalErr(ctx, op, a, err)
		}
		return d, nil
	}
	post, err := upd.apply(doc)
	if err != nil {
		return evaluator.Decision{}, c.applyFailed(ctx, b, op, doc, upd, err)
	}
	d, err := c.decideWrite(ctx, b, doc, post, upd.raw)
	if err != nil {
		return d, c.evalErr(ctx, op, a, err)
	}
	return d, nil
}

// DeleteOne deletes one matching document the caller may delete. With an
// empty filter, the rule's delete filter is the filter, so the check and
// the delete are one server operation; with a client filter, the gate
// picks the first candidate in the delete scope whose filtered fields the
// caller may read (a filter on a hidden field matches nothing) and deletes
// it with the delete filter AND its pin, again one server operation. When
// the client filter matches a document but none the caller may delete, a
// *DeniedError is returned.
//
// When the delete rules cannot be written as a query
// (evaluator.ErrNotExpressible), each candidate is decided with Evaluate.
func (c *Collection) DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error) {
	const op = "DeleteOne"
	do := &options.DeleteOneOptions{}
	if err := apply(do, opts); err != nil {
		return nil, err
	}
	if do.Collation != nil {
		return nil, c.noCollation(op)
	}
	if r := c.checkOptions(op, serverOptions{hint: do.Hint, internal: do.Internal != (options.DeleteOneOptions{}).Internal, let: do.Let}); r != nil {
		return nil, r
	}
	b, client, scope, exact, err := c.deleteScope(ctx, op, filter)
	if err != nil {
		return nil, err
	}
	if !exact || len(clientRefs(client)) > 0 {
		docs, err := c.deleteEach(ctx, b, op, client, scope, 1)
		if err != nil {
			return nil, err
		}
		return &mongo.DeleteResult{DeletedCount: int64(len(docs)), Acknowledged: true}, nil
	}
	o := options.DeleteOne()
	if do.Comment != nil {
		o.SetComment(do.Comment)
	}
	res, err := c.coll.DeleteOne(ctx, combine(client, scope), o)
	if err != nil {
		return nil, err
	}
	c.filterEvent(ctx, op, evaluator.ActionDelete, res.DeletedCount)
	if res.DeletedCount == 0 {
		if err := c.notWritten(ctx, b, op, evaluator.ActionDelete, client, nil); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// DeleteMany deletes every matching document the caller may delete. When a
// matching document the caller can read may not be deleted, the call is
// denied before anything is deleted. With an empty filter the delete is
// one server operation with the rule's delete filter; with a client filter,
// the documents checked are deleted one by one, each with the delete filter
// AND its pin.
func (c *Collection) DeleteMany(ctx context.Context, filter any, opts ...options.Lister[options.DeleteManyOptions]) (*mongo.DeleteResult, error) {
	const op = "DeleteMany"
	dm := &options.DeleteManyOptions{}
	if err := apply(dm, opts); err != nil {
		return nil, err
	}
	if dm.Collation != nil {
		return nil, c.noCollation(op)
	}
	if r := c.checkOptions(op, serverOptions{hint: dm.Hint, internal: dm.Internal != (options.DeleteManyOptions{}).Internal, let: dm.Let}); r != nil {
		return nil, r
	}
	b, client, scope, exact, err := c.deleteScope(ctx, op, filter)
	if err != nil {
		return nil, err
	}
	if _, err := c.checkEach(ctx, b, op, evaluator.ActionDelete, client, nil); err != nil {
		return nil, err
	}
	if !exact || len(clientRefs(client)) > 0 {
		docs, err := c.deleteEach(ctx, b, op, client, scope, 0)
		if err != nil {
			return nil, err
		}
		return &mongo.DeleteResult{DeletedCount: int64(len(docs)), Acknowledged: true}, nil
	}
	o := options.DeleteMany()
	if dm.Comment != nil {
		o.SetComment(dm.Comment)
	}
	res, err := c.coll.DeleteMany(ctx, combine(client, scope), o)
	if err != nil {
		return nil, err
	}
	c.filterEvent(ctx, op, evaluator.ActionDelete, res.DeletedCount)
	if res.DeletedCount == 0 {
		if err := c.notWritten(ctx, b, op, evaluator.ActionDelete, client, nil); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func (c *Collection) deleteScope(ctx context.Context, op string, filter any) (*evaluator.Bound, bson.Raw, bson.D, bool, error) {
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return nil, nil, nil, false, err
	}
	b, err := c.bind(ctx)
	if err != nil {
		return nil, nil, nil, false, c.evalErr(ctx, op, evaluator.ActionDelete, err)
	}
	scope, exact, err := writeScope(ctx, b, evaluator.ActionDelete, nil)
	if err != nil {
		return nil, nil, nil, false, c.evalErr(ctx, op, evaluator.ActionDelete, err)
	}
	return b, client, scope, exact, nil
}

// deleteEach deletes, one by one, up to max (0: all) documents matching
// client in scope that the caller may delete, each decided with Evaluate
// (documents whose filtered fields are hidden from the caller do not
// match) and deleted with scope AND its pin, so only if unchanged since.
// It returns the deleted documents. When nothing was deleted, the call is
// explained by notWritten.
func (c *Collection) deleteEach(ctx context.Context, b *evaluator.Bound, op string, client bson.Raw, scope bson.D, max int) ([]bson.Raw, error) {
	refs := clientRefs(client)
	var deleted []bson.Raw
	for attempt := 0; attempt <= c.s.g.retries; attempt++ {
		cur, err := c.coll.Find(ctx, combine(client, scope))
		if err != nil {
			return deleted, err
		}
		conflict := false
		for cur.Next(ctx) {
			doc := cur.Current
			d, err := c.decide(ctx, b, evaluator.ActionDelete, doc, nil, nil)
			if err != nil {
				cur.Close(ctx)
				return deleted, c.evalErr(ctx, op, evaluator.ActionDelete, err)
			}
			if !d.Allowed {
				continue
			}
			if ok, err := c.refsReadable(ctx, b, op, doc, refs); err != nil || !ok {
				if err != nil {
					cur.Close(ctx)
					return deleted, err
				}
				continue
			}
			var gone bson.Raw
			err = c.coll.FindOneAndDelete(ctx, mql.And(scope, pin(doc))).Decode(&gone)
			if errors.Is(err, mongo.ErrNoDocuments) {
				conflict = true
				continue
			}
			if err != nil {
				cur.Close(ctx)
				return deleted, err
			}
			c.event(ctx, op, d, gone)
			deleted = append(deleted, gone)
			if max > 0 && len(deleted) >= max {
				cur.Close(ctx)
				return deleted, nil
			}
		}
		err = cur.Err()
		cur.Close(ctx)
		if err != nil {
			return deleted, err
		}
		if !conflict {
			break
		}
		backoff(ctx, attempt)
	}
	if len(deleted) == 0 {
		if err := c.notWritten(ctx, b, op, evaluator.ActionDelete, client, nil); err != nil {
			return nil, err
		}
	}
	return deleted, nil
}

// FindOneAndDelete deletes one matching document the caller may delete
// (one server operation, the delete filter folded in) and returns it with
// only the fields the caller may read.
func (c *Collection) FindOneAndDelete(ctx context.Context, filter any, opts ...options.Lister[options.FindOneAndDeleteOptions]) *mongo.SingleResult {
	const op = "FindOneAndDelete"
	fo := &options.FindOneAndDeleteOptions{}
	if err := apply(fo, opts); err != nil {
		return errResult(err)
	}
	if fo.Collation != nil {
		return errResult(c.noCollation(op))
	}
	if r := c.checkOptions(op, serverOptions{hint: fo.Hint, internal: fo.Internal != (options.FindOneAndDeleteOptions{}).Internal, let: fo.Let}); r != nil {
		return errResult(r)
	}
	proj, err := c.clientProjection(op, fo.Projection)
	if err != nil {
		return errResult(err)
	}
	b, client, scope, exact, err := c.deleteScope(ctx, op, filter)
	if err != nil {
		return errResult(err)
	}
	refs, err := c.readRefs(op, client, fo.Sort)
	if err != nil {
		return errResult(err)
	}
	if !exact || len(refs) > 0 {
		if fo.Sort != nil && !exact {
			return errResult(c.refused(op, CodeUnsupported, "sort is not supported when the delete rules cannot be written as a query", nil))
		}
		if fo.Sort != nil {
			// Pick the first candidate in the sort order among those
			// whose sorted and filtered fields the caller may read, then
			// delete it with the delete filter AND its pin; again if it
			// changed.
			pick := c.firstInScope(b, op, combine(client, scope), refs, exact, writeOpts{sort: fo.Sort})
			for attempt := 0; attempt <= c.s.g.retries; attempt++ {
				doc, err := pick(ctx)
				if err != nil {
					return errResult(err)
				}
				if doc == nil {
					if err := c.notWritten(ctx, b, op, evaluator.ActionDelete, client, nil); err != nil {
						return errResult(err)
					}
					return errResult(mongo.ErrNoDocuments)
				}
				var gone bson.Raw
				err = c.coll.FindOneAndDelete(ctx, mql.And(scope, pin(doc))).Decode(&gone)
				if errors.Is(err, mongo.ErrNoDocuments) {
					backoff(ctx, attempt)
					continue
				}
				if err != nil {
					return errResult(err)
				}
				c.deletedEvent(ctx, b, op, gone)
				return c.visible(ctx, b, op, gone, proj)
			}
			return errResult(&RefusedError{Namespace: c.ns, Op: op, Code: CodeConflict, Msg: "the document kept changing", Err: ErrConflict})
		}
		docs, err := c.deleteEach(ctx, b, op, client, scope, 1)
		if err != nil {
			return errResult(err)
		}
		if len(docs) == 0 {
			return errResult(mongo.ErrNoDocuments)
		}
		return c.visible(ctx, b, op, docs[0], proj)
	}
	// No sort here (a sort reads fields: handled above).
	var doc bson.Raw
	err = c.coll.FindOneAndDelete(ctx, combine(client, scope)).Decode(&doc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		if err := c.notWritten(ctx, b, op, evaluator.ActionDelete, client, nil); err != nil {
			return errResult(err)
		}
		return errResult(mongo.ErrNoDocuments)
	}
	if err != nil {
		return errResult(err)
	}
	c.deletedEvent(ctx, b, op, doc)
	return c.visible(ctx, b, op, doc, proj)
}

// FindOneAndUpdate updates one document like UpdateOne and returns it
// (before or after the update, options.ReturnDocument) with only the fields
// the caller may read. With upsert, an update that matches nothing inserts
// like UpdateOne; the inserted document is returned (redacted) when
// ReturnDocument is After, mongo.ErrNoDocuments otherwise, as the driver
// does.
func (c *Collection) FindOneAndUpdate(ctx context.Context, filter, update any, opts ...options.Lister[options.FindOneAndUpdateOptions]) *mongo.SingleResult {
	const op = "FindOneAndUpdate"
	fo := &options.FindOneAndUpdateOptions{}
	if err := apply(fo, opts); err != nil {
		return errResult(err)
	}
	if fo.Collation != nil {
		return errResult(c.noCollation(op))
	}
	if r := c.checkOptions(op, serverOptions{hint: fo.Hint, bypass: fo.BypassDocumentValidation,
		internal: fo.Internal != (options.FindOneAndUpdateOptions{}).Internal, let: fo.Let}); r != nil {
		return errResult(r)
	}
	proj, err := c.clientProjection(op, fo.Projection)
	if err != nil {
		return errResult(err)
	}
	wo := writeOpts{arrayFilters: fo.ArrayFilters, sort: fo.Sort, comment: fo.Comment, upsert: isTrue(fo.Upsert)}
	return c.findOneAndModify(ctx, op, filter, update, false, fo.ReturnDocument, proj, wo)
}

// FindOneAndReplace replaces one document like ReplaceOne and returns it
// (before or after the replacement, options.ReturnDocument) with only the
// fields the caller may read, as FindOneAndUpdate returns it; the
// projection option then applies to those fields, as Find applies it
// (inclusion or exclusion only). With upsert, a replacement that matches
// nothing inserts like ReplaceOne; the inserted document is returned
// (redacted and projected) when ReturnDocument is After,
// mongo.ErrNoDocuments otherwise.
func (c *Collection) FindOneAndReplace(ctx context.Context, filter, replacement any, opts ...options.Lister[options.FindOneAndReplaceOptions]) *mongo.SingleResult {
	const op = "FindOneAndReplace"
	fo := &options.FindOneAndReplaceOptions{}
	if err := apply(fo, opts); err != nil {
		return errResult(err)
	}
	if fo.Collation != nil {
		return errResult(c.noCollation(op))
	}
	if r := c.checkOptions(op, serverOptions{hint: fo.Hint, bypass: fo.BypassDocumentValidation,
		internal: fo.Internal != (options.FindOneAndReplaceOptions{}).Internal, let: fo.Let}); r != nil {
		return errResult(r)
	}
	proj, err := c.clientProjection(op, fo.Projection)
	if err != nil {
		return errResult(err)
	}
	wo := writeOpts{sort: fo.Sort, comment: fo.Comment, upsert: isTrue(fo.Upsert)}
	return c.findOneAndModify(ctx, op, filter, replacement, true, fo.ReturnDocument, proj, wo)
}

// findOneAndModify is FindOneAndUpdate and FindOneAndReplace: writeOne
// with the server's findAndModify, and the document returned redacted
// (visible), then projected with proj.
func (c *Collection) findOneAndModify(ctx context.Context, op string, filter, u any, replacement bool, ret *options.ReturnDocument, proj *projection, wo writeOpts) *mongo.SingleResult {
	var doc bson.Raw
	r, err := c.writeOne(ctx, op, filter, u, replacement, wo, func(ctx context.Context, f bson.D, upd bson.Raw) (bool, error) {
		doc = nil
		var res *mongo.SingleResult
		if replacement {
			o := options.FindOneAndReplace()
			if ret != nil {
				o.SetReturnDocument(*ret)
			}
			if wo.comment != nil {
				o.SetComment(wo.comment)
			}
			res = c.coll.FindOneAndReplace(ctx, f, upd, o)
		} else {
			o := options.FindOneAndUpdate()
			if ret != nil {
				o.SetReturnDocument(*ret)
			}
			if wo.comment != nil {
				o.SetComment(wo.comment)
			}
			res = c.coll.FindOneAndUpdate(ctx, f, upd, o)
		}
		err := withholdKeys(res.Decode(&doc))
		if errors.Is(err, mongo.ErrNoDocuments) {
			return false, nil
		}
		return err == nil, err
	})
	switch {
	case err != nil:
		return errResult(err)
	case r.found:
		return c.visible(ctx, r.b, op, doc, proj)
	case r.inserted != nil && ret != nil && *ret == options.After:
		return c.visible(ctx, r.b, op, r.inserted, proj)
	}
	return errResult(mongo.ErrNoDocuments)
}

// visible returns doc as a SingleResult with only the fields the caller may
// read, then projected with proj (nil for none). A document the caller
// changed but may not read comes back empty.
func (c *Collection) visible(ctx context.Context, b *evaluator.Bound, op string, doc bson.Raw, proj *projection) *mongo.SingleResult {
	d, err := c.decide(ctx, b, evaluator.ActionRead, doc, nil, nil)
	if err != nil {
		return errResult(c.evalErr(ctx, op, evaluator.ActionRead, err))
	}
	if !d.Allowed {
		return mongo.NewSingleResultFromDocument(bson.D{}, nil, nil)
	}
	red := mql.NewPaths(d.Fields.Read).Redact(doc)
	if proj != nil {
		raw, err := bson.Marshal(red)
		if err != nil {
			return errResult(err)
		}
		red = proj.Apply(raw)
	}
	return mongo.NewSingleResultFromDocument(red, nil, nil)
}

func errResult(err error) *mongo.SingleResult {
	return mongo.NewSingleResultFromDocument(bson.D{}, err, nil)
}

// noCollation refuses the collation option, which App Services does not let
// application users set on any CRUD operation
// (source/mongodb/crud-and-aggregation-apis.txt, "Query Option
// Availability").
func (c *Collection) noCollation(op string) *RefusedError {
	return c.refused(op, CodeUnsupported, "the collation option is not available to application users (App Services: Query Option Availability)", nil)
}

// apply runs the setters of driver option builders on dst.
func apply[T any](dst *T, opts []options.Lister[T]) error {
	for _, o := range opts {
		if o == nil {
			continue
		}
		for _, set := range o.List() {
			if err := set(dst); err != nil {
				return err
			}
		}
	}
	return nil
}
