package gate

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Watch opens a gated change stream on the collection: each event the
// server reports is decided for the caller in Go, as Find decides a
// document, and reaches the caller redacted or not at all (see the
// package documentation, Change streams). The gate asks the server for
// fullDocument updateLookup (an update is decided on the document as it
// is now) and fullDocumentBeforeChange whenAvailable (a delete is decided
// on the document as it was), so the deployment must be MongoDB 6.0 or
// later, a replica set or a sharded cluster.
//
// pipeline may hold $match stages only: they are applied by the gate to
// each event after redaction, never sent to the server, so that they
// never match on a value the caller cannot read. Other stages are
// refused (CodeUnsupported), naming the stage. Accepted options:
// batchSize, maxAwaitTime, comment, resumeAfter, startAfter,
// startAtOperationTime, fullDocument updateLookup, whenAvailable or
// required (post-images), fullDocumentBeforeChange whenAvailable or
// required. Refused (CodeUnsupported): collation, showExpandedEvents,
// fullDocument and fullDocumentBeforeChange off or default, and the
// driver's custom options.
func (c *Collection) Watch(ctx context.Context, pipeline any, opts ...options.Lister[options.ChangeStreamOptions]) (*ChangeStream, error) {
	const op = "Watch"
	wo := &options.ChangeStreamOptions{}
	if err := apply(wo, opts); err != nil {
		return nil, err
	}
	b, err := c.bindRead(ctx, op)
	if err != nil {
		return nil, err
	}
	so, r := c.watchOptions(op, wo)
	if r != nil {
		return nil, r
	}
	match, err := c.watchPipeline(op, pipeline)
	if err != nil {
		return nil, err
	}
	w, err := c.newWatcher(ctx, b, op, match)
	if err != nil {
		return nil, err
	}
	cs, err := c.coll.Watch(ctx, mongo.Pipeline{}, so)
	if err != nil {
		return nil, err
	}
	return &ChangeStream{w: w, cs: driverStream{cs}, sess: mongo.SessionFromContext(ctx)}, nil
}

// eventSource is what a ChangeStream reads events from: the driver's
// change stream (driverStream), or in tests a list of constructed events,
// since the embedded test server has no change streams.
type eventSource interface {
	Next(ctx context.Context) bool
	TryNext(ctx context.Context) bool
	RemainingBatchLength() int
	// current is the event the last Next or TryNext moved to.
	current() bson.Raw
	Err() error
	ResumeToken() bson.Raw
	ID() int64
	Close(ctx context.Context) error
}

// driverStream is the driver's change stream as an eventSource.
type driverStream struct{ *mongo.ChangeStream }

func (d driverStream) current() bson.Raw { return d.Current }

// watchOptions copies the change stream options the gate honours into
// the options it sends, with fullDocument and fullDocumentBeforeChange
// set as the gate needs them.
func (c *Collection) watchOptions(op string, wo *options.ChangeStreamOptions) (*options.ChangeStreamOptionsBuilder, *RefusedError) {
	switch {
	case wo.Collation != nil:
		return nil, c.noCollation(op)
	case wo.Custom != nil, wo.CustomPipeline != nil:
		return nil, c.refused(op, CodeUnsupported, "the custom and customPipeline options are not supported through the gate: they can add any field to the command or the $changeStream stage", nil)
	case wo.ShowExpandedEvents != nil && *wo.ShowExpandedEvents:
		return nil, c.refused(op, CodeUnsupported, "the showExpandedEvents option is not supported through the gate: its events (createIndexes, modify, ...) describe the collection's indexes and options, which the rules do not govern", nil)
	}
	fd := options.UpdateLookup
	if wo.FullDocument != nil {
		switch *wo.FullDocument {
		case options.UpdateLookup, options.WhenAvailable, options.Required:
			fd = *wo.FullDocument
		default:
			return nil, c.refused(op, CodeUnsupported, "fullDocument "+quote(string(*wo.FullDocument))+" is not supported through the gate: each event is decided on its document (updateLookup, whenAvailable or required)", nil)
		}
	}
	before := options.WhenAvailable
	if wo.FullDocumentBeforeChange != nil {
		switch *wo.FullDocumentBeforeChange {
		case options.WhenAvailable, options.Required:
			before = *wo.FullDocumentBeforeChange
		default:
			return nil, c.refused(op, CodeUnsupported, "fullDocumentBeforeChange "+quote(string(*wo.FullDocumentBeforeChange))+" is not supported through the gate: a delete is decided on the document before it (whenAvailable or required)", nil)
		}
	}
	so := options.ChangeStream().SetFullDocument(fd).SetFullDocumentBeforeChange(before)
	if wo.BatchSize != nil {
		so.SetBatchSize(*wo.BatchSize)
	}
	if wo.MaxAwaitTime != nil {
		so.SetMaxAwaitTime(*wo.MaxAwaitTime)
	}
	if wo.Comment != nil {
		so.SetComment(wo.Comment)
	}
	if wo.ResumeAfter != nil {
		so.SetResumeAfter(wo.ResumeAfter)
	}
	if wo.StartAfter != nil {
		so.SetStartAfter(wo.StartAfter)
	}
	if wo.StartAtOperationTime != nil {
		so.SetStartAtOperationTime(wo.StartAtOperationTime)
	}
	return so, nil
}

// watchPipeline validates a client change stream pipeline: $match stages
// only, each a query mql.Match decides (it is applied to redacted events
// in Go).
func (c *Collection) watchPipeline(op string, pipeline any) ([]bson.Raw, error) {
	stages, err := toDocs(pipeline)
	if err != nil {
		return nil, c.refused(op, CodeInvalid, err.Error(), err)
	}
	match := make([]bson.Raw, 0, len(stages))
	for i, st := range stages {
		sp := source.Pointer("").Index(i)
		elems, err := st.Elements()
		if err != nil || len(elems) != 1 {
			return nil, &RefusedError{Namespace: c.ns, Op: op, Ptr: sp, Code: CodeInvalid, Msg: "a pipeline stage must be a document with exactly one key"}
		}
		name := elems[0].Key()
		bp := sp.Key(name)
		if name != "$match" {
			return nil, &RefusedError{Namespace: c.ns, Op: op, Ptr: bp, Code: CodeUnsupported,
				Msg: "stage " + name + " is not supported in a gated Watch: only $match, which the gate applies to each event after redaction"}
		}
		q, ok := elems[0].Value().DocumentOK()
		if !ok {
			return nil, &RefusedError{Namespace: c.ns, Op: op, Ptr: bp, Code: CodeInvalid, Msg: "$match takes a document"}
		}
		if r := scanForbidden(elems[0].Value(), bp, 0); r != nil {
			r.Namespace, r.Op = c.ns, op
			return nil, r
		}
		if err := mql.ValidateQuery(q); err != nil {
			return nil, c.refusedFrom(op, CodeUnsupported, bp, err)
		}
		// Match checks the whole filter whatever the document holds.
		if _, err := mql.Match(q, nil); err != nil {
			return nil, c.refusedFrom(op, CodeUnsupported, bp, err)
		}
		match = append(match, q)
	}
	return match, nil
}

// ChangeStream iterates over the events of a gated Watch. It mirrors
// *mongo.ChangeStream (Next, TryNext, Decode, Current, ResumeToken, Err,
// Close, ID) but is its own type: each event the server reports is
// decided for the caller first, dropped events are skipped inside Next
// and TryNext, and Current is the event as the caller may see it. A
// ChangeStream is not safe for concurrent use, like the driver's.
type ChangeStream struct {
	// Current is the event the last successful Next or TryNext moved to,
	// redacted for the caller.
	Current bson.Raw

	w    *watcher
	cs   eventSource
	sess *mongo.Session
	err  error
	// token is the _id of the last event returned; dropped the _id of
	// the last event dropped since (see ResumeToken).
	token, dropped bson.Raw
}

// Next moves to the next event the caller may see, blocking until there
// is one, and reports whether there is. It returns false on an error
// (see Err), when the stream ends (after an invalidate event) or when
// ctx is done. It runs in the session of the ctx given to Watch.
func (s *ChangeStream) Next(ctx context.Context) bool { return s.next(ctx, false) }

// TryNext is Next without blocking: it returns false when no event the
// caller may see is available yet, as *mongo.ChangeStream.TryNext does
// (it asks the server at most once: when the events it got are all
// dropped, it returns false); call it again later unless Err is set or
// ID is 0.
func (s *ChangeStream) TryNext(ctx context.Context) bool { return s.next(ctx, true) }

func (s *ChangeStream) next(ctx context.Context, try bool) bool {
	if s.err != nil {
		return false
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if s.sess != nil && mongo.SessionFromContext(ctx) != s.sess {
		ctx = mongo.NewSessionContext(ctx, s.sess)
	}
	for asked := false; ; asked = true {
		var ok bool
		switch {
		case !try:
			ok = s.cs.Next(ctx)
		case asked && s.cs.RemainingBatchLength() == 0:
			// Every event since the server was asked was dropped.
			return false
		default:
			ok = s.cs.TryNext(ctx)
		}
		if !ok {
			s.err = s.cs.Err()
			return false
		}
		cur := s.cs.current()
		ev, keep, err := s.w.event(ctx, cur)
		if err != nil {
			s.err = err
			return false
		}
		id, _ := cur.Lookup("_id").DocumentOK()
		if keep {
			s.Current, s.token, s.dropped = ev, bytes.Clone(id), nil
			return true
		}
		// Dropped: read on.
		s.dropped = bytes.Clone(id)
	}
}

// Decode unmarshals Current into v.
func (s *ChangeStream) Decode(v any) error {
	if s.Current == nil {
		return errors.New("gate: Decode called without a current event")
	}
	return bson.Unmarshal(s.Current, v)
}

// ResumeToken returns the token to resume the stream after the last event
// returned (resumeAfter or startAfter), or nil when there is none yet.
// It is the driver's cached token (a later one when the server reports
// its progress), except where that would be the _id of an event the gate
// dropped: an event's _id encodes its document's key, so the gate then
// returns the _id of the last event it returned. Resuming from it
// decides the dropped events again.
func (s *ChangeStream) ResumeToken() bson.Raw {
	t := s.cs.ResumeToken()
	if s.dropped != nil && bytes.Equal(t, s.dropped) {
		return s.token
	}
	return t
}

// Err returns the error that stopped the stream, if any: the server's,
// the driver's, or the gate's when an event could not be decided.
func (s *ChangeStream) Err() error { return s.err }

// ID returns the server cursor's ID, 0 once it is closed or exhausted.
func (s *ChangeStream) ID() int64 { return s.cs.ID() }

// Close closes the server cursor. It may be called more than once.
func (s *ChangeStream) Close(ctx context.Context) error { return s.cs.Close(ctx) }

// watcher decides the events of one Watch for its caller.
type watcher struct {
	c  *Collection
	b  *evaluator.Bound
	op string
	// all: the caller reads every document whole (rule filter {} and
	// exact, Bound.ReadsWhole), so a delete without its pre-image can be
	// passed.
	all   bool
	match []bson.Raw
}

// newWatcher returns the watcher of a Watch by the caller b binds, with
// the client's $match stages.
func (c *Collection) newWatcher(ctx context.Context, b *evaluator.Bound, op string, match []bson.Raw) (*watcher, error) {
	rf, _, exact, err := readScope(ctx, b)
	if err != nil {
		return nil, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	return &watcher{c: c, b: b, op: op, all: exact && len(rf) == 0 && b.ReadsWhole(ctx), match: match}, nil
}

// event decides one change event: the event as the caller may see it,
// keep false when it is dropped. Document events are decided on their
// document with the read decision Find makes; fields outside those the
// package documentation lists are removed.
func (w *watcher) event(ctx context.Context, ev bson.Raw) (bson.Raw, bool, error) {
	out, keep, err := w.decideEvent(ctx, ev)
	if err != nil || !keep {
		return nil, false, err
	}
	raw, err := bson.Marshal(out)
	if err != nil {
		return nil, false, err
	}
	for _, q := range w.match {
		ok, err := mql.Match(q, raw)
		if err != nil {
			return nil, false, w.c.refusedFrom(w.op, CodeUnsupported, "", err)
		}
		if !ok {
			return nil, false, nil
		}
	}
	return raw, true, nil
}

func (w *watcher) decideEvent(ctx context.Context, ev bson.Raw) (bson.D, bool, error) {
	opType, _ := ev.Lookup("operationType").StringValueOK()
	switch opType {
	case "insert", "replace", "update":
		full, ok := ev.Lookup("fullDocument").DocumentOK()
		if !ok {
			// An update whose document is gone (updateLookup found none),
			// or a post-image not available: nothing to decide on.
			return nil, false, nil
		}
		return w.documentEvent(ctx, ev, opType, full, "fullDocument")
	case "delete":
		before, ok := ev.Lookup("fullDocumentBeforeChange").DocumentOK()
		if ok {
			return w.documentEvent(ctx, ev, opType, before, "fullDocumentBeforeChange")
		}
		if !w.all {
			return nil, false, nil
		}
		return w.keep(ev, func(k string) bool { return k == "documentKey" }), true, nil
	case "drop", "rename", "dropDatabase", "invalidate":
		// They concern the collection, not a document. keep leaves out
		// rename's to: the new namespace has rules of its own.
		return w.keep(ev, nil), true, nil
	}
	// showExpandedEvents is refused; an operation type this code does not
	// know is dropped (fail closed).
	return nil, false, nil
}

// eventFields are the fields of every event the gate passes as they are
// (ns renamed to the rules' database); other fields (lsid, txnNumber,
// rename's to, fields a later server adds) are left out, except those a
// document event's decision handles.
var eventFields = map[string]bool{"_id": true, "operationType": true, "clusterTime": true, "wallTime": true, "ns": true, "collectionUUID": true}

// keep returns ev with eventFields, and the fields more accepts, as they
// are; ns names the rules' database.
func (w *watcher) keep(ev bson.Raw, more func(string) bool) bson.D {
	elems, _ := ev.Elements()
	out := make(bson.D, 0, len(elems))
	for _, e := range elems {
		k := e.Key()
		switch {
		case k == "ns":
			out = append(out, bson.E{Key: k, Value: w.ns(e.Value())})
		case eventFields[k], more != nil && more(k):
			out = append(out, bson.E{Key: k, Value: e.Value()})
		}
	}
	return out
}

// ns returns an event's ns with the rules' database name.
func (w *watcher) ns(v bson.RawValue) any {
	d, ok := v.DocumentOK()
	if !ok {
		return v
	}
	rulesDB, _, _ := strings.Cut(w.c.ns, ".")
	elems, _ := d.Elements()
	out := make(bson.D, 0, len(elems))
	for _, e := range elems {
		if e.Key() == "db" {
			out = append(out, bson.E{Key: "db", Value: rulesDB})
			continue
		}
		out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
	}
	return out
}

// documentEvent decides an insert, replace, update or delete event on
// doc, the document in field key (fullDocument, or for a delete
// fullDocumentBeforeChange).
func (w *watcher) documentEvent(ctx context.Context, ev bson.Raw, opType string, doc bson.Raw, key string) (bson.D, bool, error) {
	red, d, ok, err := w.c.readDecided(ctx, w.b, w.op, doc, nil)
	if err != nil || !ok {
		return nil, false, err
	}
	// The event's _id (its resume token) encodes the document key: the
	// caller must be able to read all of it.
	dk, ok := ev.Lookup("documentKey").DocumentOK()
	if !ok || !keyReadable(dk, d.Fields.Read) {
		return nil, false, nil
	}
	out := w.keep(ev, func(k string) bool { return k == "documentKey" })
	out = append(out, bson.E{Key: key, Value: red})
	if key == "fullDocument" {
		if before, ok := ev.Lookup("fullDocumentBeforeChange").DocumentOK(); ok {
			bred, _, bok, err := w.c.readDecided(ctx, w.b, w.op, before, nil)
			if err != nil {
				return nil, false, err
			}
			if bok {
				out = append(out, bson.E{Key: "fullDocumentBeforeChange", Value: bred})
			}
		}
	}
	if opType != "update" {
		return out, true, nil
	}
	ud, ok := ev.Lookup("updateDescription").DocumentOK()
	if !ok {
		return nil, false, nil
	}
	before, _ := ev.Lookup("fullDocumentBeforeChange").DocumentOK()
	desc, left, err := w.updateDescription(ctx, doc, before, d.Fields.Read, ud)
	if err != nil || !left {
		// An update that changed nothing the caller may read is dropped:
		// passing it would tell that a hidden field changed.
		return nil, false, err
	}
	return append(out, bson.E{Key: "updateDescription", Value: desc}), true, nil
}

// keyReadable reports whether every field of the document key is readable
// whole under read (Decision.Fields.Read).
func keyReadable(key bson.Raw, read []string) bool {
	elems, err := key.Elements()
	if err != nil || len(elems) == 0 {
		return false
	}
	for _, e := range elems {
		if !pathReadable(read, e.Key()) {
			return false
		}
	}
	return true
}

// seg is one component of an update path: a field name, or an array
// index.
type seg struct {
	name  string
	index bool
}

// fieldPath is the path field rules are keyed by: the field names, array
// indexes left out (as mql.UpdatePathsIn checks items.1.qty as
// items.qty).
func fieldPath(segs []seg) string {
	names := make([]string, 0, len(segs))
	for _, s := range segs {
		if !s.index {
			names = append(names, s.name)
		}
	}
	return strings.Join(names, ".")
}

// updateDescription returns the updateDescription of an update event with
// only what the caller may read of doc, the document the event was
// decided on (read its Decision.Fields.Read), and whether anything is
// left. before is the event's pre-image, nil when it has none.
func (w *watcher) updateDescription(ctx context.Context, doc, before bson.Raw, read []string, ud bson.Raw) (bson.D, bool, error) {
	dis, _ := ud.Lookup("disambiguatedPaths").DocumentOK()
	paths := func(p string) []seg {
		if _, err := dis.LookupErr(p); err != nil && (ambiguousPath(p, doc) || ambiguousPath(p, before)) {
			// p may name a field whose name holds a dot: no reading of
			// it is sure (fail closed).
			return nil
		}
		return resolvePath(p, dis, doc)
	}
	readable := func(segs []seg) (bool, error) {
		if segs == nil {
			return false, nil
		}
		return w.c.refsOK(ctx, w.b, w.op, doc, read, []string{fieldPath(segs)})
	}
	kept := map[string]bool{}
	n := 0
	var out bson.D
	elems, _ := ud.Elements()
	for _, e := range elems {
		switch e.Key() {
		case "updatedFields":
			upd := bson.D{}
			fields, _ := e.Value().Document().Elements()
			for _, f := range fields {
				segs := paths(f.Key())
				if cur, found := valueAt(doc, segs); found && !sameValue(cur, f.Value()) {
					// The document was decided as it is now (updateLookup),
					// and this value was overwritten since: the caller may
					// never have been allowed to read it. The later update's
					// event carries the value that replaced it.
					continue
				}
				ok, err := readable(segs)
				if err != nil {
					return nil, false, err
				}
				v := any(f.Value())
				if !ok && segs == nil {
					continue
				}
				if !ok {
					// A document or array partly readable keeps its
					// readable fields.
					if v, ok = redactAt(segs, f.Value(), read); !ok {
						continue
					}
				}
				upd = append(upd, bson.E{Key: f.Key(), Value: v})
				kept[f.Key()] = true
			}
			n += len(upd)
			out = append(out, bson.E{Key: "updatedFields", Value: upd})
		case "removedFields":
			rem := bson.A{}
			vals, _ := e.Value().Array().Values()
			for _, v := range vals {
				p, isStr := v.StringValueOK()
				if !isStr {
					continue
				}
				if _, err := dis.LookupErr(p); err != nil && before == nil && strings.Contains(p, ".") {
					// A removed field is in neither image: without a
					// pre-image or disambiguatedPaths, "a.b" may be a's
					// field b or a top-level field named "a.b", whose
					// name and removal would be told. It is kept only
					// for a caller who would read such a field too: one
					// who reads fields the rules do not name (fail
					// closed).
					ok, err := w.c.refsOK(ctx, w.b, w.op, doc, read, []string{probeField})
					if err != nil {
						return nil, false, err
					}
					if !ok {
						continue
					}
				}
				ok, err := readable(paths(p))
				if err != nil {
					return nil, false, err
				}
				if ok {
					rem = append(rem, p)
					kept[p] = true
				}
			}
			n += len(rem)
			out = append(out, bson.E{Key: "removedFields", Value: rem})
		case "truncatedArrays":
			tr := bson.A{}
			vals, _ := e.Value().Array().Values()
			for _, v := range vals {
				t, isDoc := v.DocumentOK()
				if !isDoc {
					continue
				}
				p, _ := t.Lookup("field").StringValueOK()
				if p == "" {
					continue
				}
				// The new length of an array is readable only with the
				// whole array.
				ok, err := readable(paths(p))
				if err != nil {
					return nil, false, err
				}
				if ok {
					tr = append(tr, t)
				}
			}
			n += len(tr)
			out = append(out, bson.E{Key: "truncatedArrays", Value: tr})
		}
	}
	if dis != nil {
		dd := bson.D{}
		elems, _ := dis.Elements()
		for _, e := range elems {
			if kept[e.Key()] {
				dd = append(dd, bson.E{Key: e.Key(), Value: e.Value()})
			}
		}
		if len(dd) > 0 {
			out = append(out, bson.E{Key: "disambiguatedPaths", Value: dd})
		}
	}
	return out, n > 0, nil
}

// resolvePath splits an update path into field names and array indexes:
// as disambiguatedPaths says (its components are strings for field names,
// integers for indexes), else by the shape of doc (a numeric component
// into an array is an index). A numeric component the document does not
// resolve is a field name: field rules keyed by it grant nothing (fail
// closed).
func resolvePath(p string, dis, doc bson.Raw) []seg {
	if dis != nil {
		if v, err := dis.LookupErr(p); err == nil {
			if arr, ok := v.ArrayOK(); ok {
				vals, _ := arr.Values()
				segs := make([]seg, 0, len(vals))
				for _, c := range vals {
					if s, ok := c.StringValueOK(); ok {
						segs = append(segs, seg{name: s})
						continue
					}
					if i, ok := c.AsInt64OK(); ok {
						segs = append(segs, seg{name: strconv.FormatInt(i, 10), index: true})
						continue
					}
					// Neither: fail closed on a name no rule grants.
					segs = append(segs, seg{name: c.String()})
				}
				return segs
			}
		}
	}
	comps := strings.Split(p, ".")
	segs := make([]seg, 0, len(comps))
	cur := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
	for _, c := range comps {
		switch cur.Type {
		case bson.TypeEmbeddedDocument:
			segs = append(segs, seg{name: c})
			cur, _ = cur.Document().LookupErr(c)
		case bson.TypeArray:
			if i, ok := arrayIndex(c); ok {
				segs = append(segs, seg{name: c, index: true})
				cur, _ = cur.Array().IndexErr(i)
				continue
			}
			segs = append(segs, seg{name: c})
			cur = bson.RawValue{}
		default:
			segs = append(segs, seg{name: c})
			cur = bson.RawValue{}
		}
	}
	return segs
}

// valueAt returns the value at the path segs in doc, found false when doc
// holds none there.
func valueAt(doc bson.Raw, segs []seg) (bson.RawValue, bool) {
	if segs == nil {
		return bson.RawValue{}, false
	}
	cur := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
	var err error
	for _, s := range segs {
		switch {
		case !s.index && cur.Type == bson.TypeEmbeddedDocument:
			cur, err = cur.Document().LookupErr(s.name)
		case s.index && cur.Type == bson.TypeArray:
			i, ok := arrayIndex(s.name)
			if !ok {
				return bson.RawValue{}, false
			}
			cur, err = cur.Array().IndexErr(i)
		default:
			return bson.RawValue{}, false
		}
		if err != nil {
			return bson.RawValue{}, false
		}
	}
	return cur, true
}

// sameValue reports whether a and b are the same BSON value, byte for
// byte.
func sameValue(a, b bson.RawValue) bool {
	return a.Type == b.Type && bytes.Equal(a.Value, b.Value)
}

// ambiguousPath reports whether the update path p, read component by
// component through doc, meets a document holding a field whose name has
// a dot and is p's components from there on joined ("meta.tag" in
// {"meta.tag": 1} or {"a": {"meta.tag": 1}}): MongoDB (5.0 and later)
// stores such names, and an update path does not tell them from a path
// into embedded documents (disambiguatedPaths would, but the server sends
// it only with showExpandedEvents).
func ambiguousPath(p string, doc bson.Raw) bool {
	if doc == nil || !strings.Contains(p, ".") {
		return false
	}
	comps := strings.Split(p, ".")
	cur := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: doc}
	for i, c := range comps {
		switch cur.Type {
		case bson.TypeEmbeddedDocument:
			elems, _ := cur.Document().Elements()
			for _, e := range elems {
				k := e.Key()
				if strings.Contains(k, ".") && strings.HasPrefix(strings.Join(comps[i:], ".")+".", k+".") {
					return true
				}
			}
			cur, _ = cur.Document().LookupErr(c)
		case bson.TypeArray:
			// An element's document may hold such a name too.
			vals, _ := cur.Array().Values()
			rest := strings.Join(comps[i:], ".")
			if j, ok := arrayIndex(c); ok {
				if v, err := cur.Array().IndexErr(j); err == nil && v.Type == bson.TypeEmbeddedDocument && i+1 < len(comps) && ambiguousPath(strings.Join(comps[i+1:], "."), v.Document()) {
					return true
				}
			}
			for _, v := range vals {
				if v.Type == bson.TypeEmbeddedDocument && ambiguousPath(rest, v.Document()) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// arrayIndex reads a path component as an array index: decimal digits
// only, as MongoDB reads them.
func arrayIndex(c string) (uint, bool) {
	if c == "" || strings.TrimLeft(c, "0123456789") != "" {
		return 0, false
	}
	i, err := strconv.ParseUint(c, 10, 31)
	return uint(i), err == nil
}

// redactAt returns what the caller may read of v, the value an update set
// at the path segs, by the readable fields read: v placed at its path
// (an index as a one-element array) and redacted as a document is. ok is
// false when nothing of it is readable.
func redactAt(segs []seg, v bson.RawValue, read []string) (bson.RawValue, bool) {
	if v.Type != bson.TypeEmbeddedDocument && v.Type != bson.TypeArray {
		return bson.RawValue{}, false
	}
	var x any = v
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].index {
			x = bson.A{x}
		} else {
			x = bson.D{{Key: segs[i].name, Value: x}}
		}
	}
	nested, err := bson.Marshal(x)
	if err != nil {
		return bson.RawValue{}, false
	}
	red, err := bson.Marshal(mql.NewPaths(read).Redact(nested))
	if err != nil {
		return bson.RawValue{}, false
	}
	cur := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: red}
	for _, s := range segs {
		switch {
		case !s.index && cur.Type == bson.TypeEmbeddedDocument:
			cur, err = cur.Document().LookupErr(s.name)
		case s.index && cur.Type == bson.TypeArray:
			cur, err = cur.Array().IndexErr(0)
		default:
			return bson.RawValue{}, false
		}
		if err != nil {
			return bson.RawValue{}, false
		}
	}
	return cur, true
}
