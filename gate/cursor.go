package gate

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Cursor iterates over the documents of a gated Find. It mirrors
// *mongo.Cursor (Next, Decode, All, Err, Close, Current; TryNext and
// tailable cursors are not offered) but is its own type, because each document the server returns
// is checked against the rules before the caller sees it: documents the
// caller may not read are skipped and unreadable fields removed. A Cursor is
// not safe for concurrent use, like the driver's.
type Cursor struct {
	// Current is the document the last successful Next moved to, with
	// only the fields the caller may read.
	Current bson.Raw

	c   *Collection
	b   *evaluator.Bound
	cur *mongo.Cursor
	// sess is the session of the ctx Find was called with, nil for
	// none: the server cursors the gate opens after the first, and the
	// rules' function calls, run in it whatever ctx Next is given, as a
	// driver cursor's getMore runs in its session.
	sess *mongo.Session
	spec *findSpec
	seen int64 // readable documents passed (skip included)
	out  int64 // documents returned
	err  error
	done bool

	// When documents may be left out and there is a limit, the gate first
	// asks the server for skip + limit documents (first: the common case,
	// one round trip, the server closes its cursor). When that is not
	// enough because some were left out, it opens one more server cursor
	// past them, without a limit, starting with a batch twice as large and
	// doubling the batch size at each getMore (up to maxBatch), and closes
	// it at the limit. The cost is linear in the documents scanned, in
	// O(log n) round trips.
	first    bool
	fromThis int64 // documents read from the first server cursor
	grow     bool
	batch    int32
}

// errPagedLeftOut stops a Find the server pages when the gate leaves out
// a document the server returned. find lets the server page only when
// that cannot happen (findSpec.serverPages); should it happen all the
// same, the skip and limit the server applied counted a document the
// caller may not see, and the request fails rather than return a wrong
// page. The error says nothing of the document.
var errPagedLeftOut = errors.New("internal error: the server paged the results and the gate left out a document it returned (please report this bug)")

// maxBatch bounds the batch size of a growing cursor.
const maxBatch = 4096

// open opens the server cursor. When no document can be left out
// (spec.serverPages), the server takes skip and limit itself.
func (cu *Cursor) open(ctx context.Context) error {
	o := options.Find()
	o.Opts = append(o.Opts, cu.spec.serverOpts.Opts...)
	switch {
	case cu.spec.serverPages:
		if cu.spec.skip > 0 {
			o.SetSkip(cu.spec.skip)
		}
		if cu.spec.limit > 0 {
			o.SetLimit(cu.spec.limit)
		}
	case cu.spec.limit > 0 && !cu.spec.batchSize:
		cu.first = true
		o.SetLimit(cu.spec.skip + cu.spec.limit)
	}
	cur, err := cu.c.coll.Find(ctx, cu.spec.filter, o)
	if err != nil {
		return err
	}
	cu.cur = cur
	cu.sess = mongo.SessionFromContext(ctx)
	return nil
}

// inSession returns ctx carrying the session Find was called with.
func (cu *Cursor) inSession(ctx context.Context) context.Context {
	if cu.sess == nil || mongo.SessionFromContext(ctx) == cu.sess {
		return ctx
	}
	return mongo.NewSessionContext(ctx, cu.sess)
}

// more opens the growing server cursor past the documents the first one
// read.
func (cu *Cursor) more(ctx context.Context) error {
	o := options.Find()
	o.Opts = append(o.Opts, cu.spec.serverOpts.Opts...)
	o.SetSkip(cu.fromThis)
	cu.first, cu.grow = false, true
	cu.batch = int32(min(2*cu.fromThis, maxBatch))
	o.SetBatchSize(cu.batch)
	cur, err := cu.c.coll.Find(ctx, cu.spec.filter, o)
	if err != nil {
		return err
	}
	cu.cur = cur
	return nil
}

// Next moves to the next document the caller may read and reports whether
// there is one. At the end, or on an error, it returns false; see Err.
// It runs in the session of the ctx given to Find, whatever ctx carries.
func (cu *Cursor) Next(ctx context.Context) bool {
	if cu.done || cu.err != nil {
		return false
	}
	ctx = cu.inSession(ctx)
	for {
		if cu.spec.limit > 0 && cu.out >= cu.spec.limit {
			cu.finish(ctx)
			return false
		}
		if cu.grow && cu.cur.RemainingBatchLength() == 0 && cu.batch < maxBatch {
			cu.batch = min(2*cu.batch, maxBatch)
			cu.cur.SetBatchSize(cu.batch)
		}
		if !cu.cur.Next(ctx) {
			cu.err = cu.cur.Err()
			if cu.err == nil && cu.first && cu.fromThis == cu.spec.skip+cu.spec.limit {
				// The server stopped at the limit, but some documents
				// were left out: read on past them in one cursor.
				_ = cu.cur.Close(ctx)
				if cu.err = cu.more(ctx); cu.err == nil {
					continue
				}
			}
			cu.finish(ctx)
			return false
		}
		if cu.first {
			cu.fromThis++
		}
		var doc bson.Raw
		var ok bool
		var err error
		if cu.spec.whole {
			doc, ok, err = cu.c.readWhole(ctx, cu.b, cu.spec.op, cu.cur.Current)
		} else {
			doc, ok, err = cu.c.readable(ctx, cu.b, cu.spec.op, cu.cur.Current, cu.spec.refs)
		}
		if err != nil {
			cu.err = err
			cu.finish(ctx)
			return false
		}
		if !ok {
			if cu.spec.serverPages {
				// The server counted it in skip and limit: the page
				// would be shifted or short.
				cu.err = fmt.Errorf("gate: %s: %s: %w", cu.c.ns, cu.spec.op, errPagedLeftOut)
				cu.finish(ctx)
				return false
			}
			continue
		}
		cu.seen++
		if !cu.spec.serverPages && cu.seen <= cu.spec.skip {
			continue
		}
		if cu.spec.proj != nil {
			b, err := bson.Marshal(cu.spec.proj.Apply(doc))
			if err != nil {
				cu.err = err
				cu.finish(ctx)
				return false
			}
			doc = b
		}
		cu.Current = doc
		cu.out++
		return true
	}
}

func (cu *Cursor) finish(ctx context.Context) {
	cu.done = true
	cu.Current = nil
	if err := cu.cur.Close(ctx); err != nil && cu.err == nil {
		cu.err = err
	}
}

// Decode unmarshals Current into v.
func (cu *Cursor) Decode(v any) error {
	if cu.Current == nil {
		return errors.New("gate: Decode called without a current document")
	}
	return bson.Unmarshal(cu.Current, v)
}

// Err returns the error that stopped the iteration, if any.
func (cu *Cursor) Err() error { return cu.err }

// Close closes the server cursor. It may be called more than once.
func (cu *Cursor) Close(ctx context.Context) error {
	if cu.done {
		return nil
	}
	cu.done = true
	return cu.cur.Close(ctx)
}

// All iterates the cursor to its end, decodes every document into results
// (a pointer to a slice, as with *mongo.Cursor.All: elements the slice
// already holds are decoded into, from the first) and closes the cursor.
// Each document is decoded as it comes, with bson.Unmarshal.
func (cu *Cursor) All(ctx context.Context, results any) error {
	resultsVal := reflect.ValueOf(results)
	if resultsVal.Kind() != reflect.Pointer {
		_ = cu.Close(ctx)
		return fmt.Errorf("results argument must be a pointer to a slice, but was a %s", resultsVal.Kind())
	}
	sliceVal := resultsVal.Elem()
	if sliceVal.Kind() == reflect.Interface {
		sliceVal = sliceVal.Elem()
	}
	if sliceVal.Kind() != reflect.Slice {
		_ = cu.Close(ctx)
		return fmt.Errorf("results argument must be a pointer to a slice, but was a pointer to %s", sliceVal.Kind())
	}
	elemType := sliceVal.Type().Elem()
	index := 0
	for cu.Next(ctx) {
		if sliceVal.Len() == index {
			sliceVal = reflect.Append(sliceVal, reflect.New(elemType).Elem())
			sliceVal = sliceVal.Slice(0, sliceVal.Cap())
		}
		if err := bson.Unmarshal(cu.Current, sliceVal.Index(index).Addr().Interface()); err != nil {
			_ = cu.Close(ctx)
			return err
		}
		index++
	}
	if err := cu.Err(); err != nil {
		return err
	}
	resultsVal.Elem().Set(sliceVal.Slice(0, index))
	return nil
}

// readable decides the caller's read access to one document: ok is false
// when no role may read it or when a field the client query or sort reads
// (refs) is not readable; otherwise doc is returned with only the readable
// fields.
func (c *Collection) readable(ctx context.Context, b *evaluator.Bound, op string, raw bson.Raw, refs []string) (bson.Raw, bool, error) {
	out, _, ok, err := c.readDecided(ctx, b, op, raw, refs)
	return out, ok, err
}

// readDecided is readable, also returning the decision (its Fields say
// what was kept).
func (c *Collection) readDecided(ctx context.Context, b *evaluator.Bound, op string, raw bson.Raw, refs []string) (bson.Raw, evaluator.Decision, bool, error) {
	d, err := c.decide(ctx, b, evaluator.ActionRead, raw, nil, nil)
	if err != nil {
		return nil, d, false, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	if !d.Allowed {
		c.event(ctx, op, d, raw)
		return nil, d, false, nil
	}
	if ok, err := c.refsOK(ctx, b, op, raw, d.Fields.Read, refs); err != nil || !ok {
		if err == nil {
			// Left out: the query or sort reads a field hidden in it.
			d.Allowed, d.Reason = false, evaluator.ReasonFieldNotReadable
			c.event(ctx, op, d, raw)
		}
		return nil, d, false, err
	}
	c.event(ctx, op, d, raw)
	if out, ok := keepTop(raw, d.Fields.Read); ok {
		return out, d, true, nil
	}
	t := mql.NewPaths(d.Fields.Read)
	out, err := bson.Marshal(t.Redact(raw))
	if err != nil {
		return nil, d, false, err
	}
	return out, d, true, nil
}

// readWhole is readable for a Find whose readable documents are read
// whole (findSpec.whole): the role is decided without the fields, and an
// allowed document is returned as it is.
func (c *Collection) readWhole(ctx context.Context, b *evaluator.Bound, op string, raw bson.Raw) (bson.Raw, bool, error) {
	d, err := c.decideAs(ctx, b, evaluator.ActionRead, raw, nil, nil, false)
	if err != nil {
		return nil, false, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	c.event(ctx, op, d, raw)
	if !d.Allowed {
		return nil, false, nil
	}
	return raw, true, nil
}

// keepTop is the caller's view of doc when read (sorted, as
// Decision.Fields.Read is) lists top-level fields only: the elements of
// doc whose key read lists, copied as they are and in their order (doc
// itself when it keeps them all), the bytes mql.Paths.Redact and
// bson.Marshal would give, without building a document. ok is false when
// read holds a dotted path or doc does not parse: Redact decides then.
func keepTop(doc bson.Raw, read []string) (bson.Raw, bool) {
	for _, r := range read {
		if strings.Contains(r, ".") {
			return nil, false
		}
	}
	if len(doc) < 5 {
		return nil, false
	}
	body := doc[4 : len(doc)-1]
	var out []byte // nil while every field is kept
	for off := 0; off < len(body); {
		e, _, ok := bsoncore.ReadElement(body[off:])
		if !ok {
			return nil, false
		}
		switch keep := listed(read, e.KeyBytes()); {
		case !keep && out == nil:
			out = append(make([]byte, 4, len(doc)), body[:off]...)
		case keep && out != nil:
			out = append(out, e...)
		}
		off += len(e)
	}
	if out == nil {
		return doc, true
	}
	out = append(out, 0)
	binary.LittleEndian.PutUint32(out, uint32(len(out)))
	return out, true
}

// listed reports whether key is in sorted, without allocating.
func listed(sorted []string, key []byte) bool {
	i, j := 0, len(sorted)
	for i < j {
		h := int(uint(i+j) >> 1)
		if sorted[h] < string(key) {
			i = h + 1
		} else {
			j = h
		}
	}
	return i < len(sorted) && sorted[i] == string(key)
}
