package jsfunc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// ErrMemoryUnsupported is wrapped by the error of an operation the
// in-memory collections (MemoryData) cannot do exactly as MongoDB would:
// an aggregation stage other than $match, $project, $sort, $skip, $limit
// and $count, an upsert, a sort on an array-valued field.
var ErrMemoryUnsupported = errors.New("jsfunc: not supported by the in-memory collections")

// MemoryData is the Data of functions run without a database (rulegate
// test): its collections hold the documents of docs ("<db>.<coll>" to the
// documents; copied, the caller's slices are never changed), and a write
// changes only this Data's copy, so that one test never sees another's
// writes. The service must be one of app's data sources (ErrNoDataSource
// otherwise).
//
// A function that runs as system sees and writes every document. For a
// user, prog decides each document as package gate does: a namespace no
// rule governs denies every method (ReasonNoRules); documents the caller
// may not read are left out and the others redacted to the fields the
// role reads (evaluator Decision.Fields.Read, mql.Paths.Redact); a
// document in which a field the filter or sort reads (mql.QueryPaths) is
// hidden is left out; an insert is decided as an insert, an update or
// replacement on the document after it (mql.ApplyUpdateWith) with the
// leaving-scope check (evaluator.WithLeavingScopeDenied, the gate's
// default), a delete as a delete; a denial is a *gate.DeniedError. Queries
// match with mql.Match, projections are mql.ParseProjection's, sorts
// compare with value.Compare (a missing field as null), Distinct takes
// value.DistinctValues.
//
// Where the gate's answer needs more than this, MemoryData fails closed:
// a hidden path the filter reads leaves the document out even when the
// document lacks it (the gate probes whether it would be readable); and
// it refuses (ErrMemoryUnsupported) what it cannot do exactly: upserts,
// arrayFilters as a user, a sort on an array-valued field, and the
// aggregation stages and operators mql.CompilePipeline does not run.
// Aggregate runs as the gate runs a pipeline itself: over the documents
// the caller reads, redacted (gate.CheckPipeline first). Duplicate
// _id values are refused as the server refuses them; no other index is
// known. TestData runs every method on MongoData over the embedded server
// and on MemoryData over the same documents, and compares the answers and
// the collection after each call.
func MemoryData(app *rules.App, prog *evaluator.Program, docs map[string][]bson.Raw) Data {
	d := &memoryData{prog: prog, services: dataSources(app), colls: map[string][]bson.Raw{}}
	for ns, list := range docs {
		d.colls[ns] = append([]bson.Raw(nil), list...)
	}
	return d
}

type memoryData struct {
	prog     *evaluator.Program
	services []string

	mu    sync.Mutex
	colls map[string][]bson.Raw
}

func (d *memoryData) Collection(ctx context.Context, as As, service, db, coll string) (Collection, error) {
	if err := checkService(d.services, service); err != nil {
		return nil, err
	}
	return d.collection(ctx, as, db, coll)
}

// collection is Collection of a checked service.
func (d *memoryData) collection(ctx context.Context, as As, db, coll string) (*memoryCollection, error) {
	c := &memoryCollection{d: d, ns: db + "." + coll, as: as}
	if as.System {
		return c, nil
	}
	b, err := d.prog.Bind(ctx, evaluator.Caller{Namespace: c.ns, Inputs: asInputs(as)})
	if err != nil {
		return nil, err
	}
	c.b = b
	c.noRules = !d.governs(c.ns)
	return c, nil
}

// governs reports whether some rule governs ns, as the evaluator and the
// gate decide it: its own rules, else the default rule unless ns is
// reserved (rules.Reserved).
func (d *memoryData) governs(ns string) bool {
	for _, n := range d.prog.Namespaces() {
		if n == ns {
			return true
		}
	}
	return d.prog.HasDefaultRule() && !rules.Reserved(ns)
}

// memoryCollection is one in-memory collection; b is nil for the system
// user.
type memoryCollection struct {
	d       *memoryData
	ns      string
	as      As
	b       *evaluator.Bound
	noRules bool
}

// snapshot returns the collection's documents now.
func (c *memoryCollection) snapshot() []bson.Raw {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	return append([]bson.Raw(nil), c.d.colls[c.ns]...)
}

func (c *memoryCollection) denied(op string, a evaluator.Action, dec evaluator.Decision) *gate.DeniedError {
	r := dec.Reason
	if r == "" || r == evaluator.ReasonAllowed {
		r = evaluator.ReasonNoRole
	}
	return &gate.DeniedError{Namespace: c.ns, Op: op, Action: a, Reason: r, Role: dec.Role, Field: dec.Field}
}

// precheck denies every operation of a user on a namespace no rule
// governs, as the gate does, and validates the client filter.
func (c *memoryCollection) precheck(op string, a evaluator.Action, filter bson.Raw) error {
	if c.b == nil {
		return nil
	}
	if c.noRules {
		return &gate.DeniedError{Namespace: c.ns, Op: op, Action: a, Reason: evaluator.ReasonNoRules}
	}
	if filter != nil {
		if err := mql.ValidateQuery(filter); err != nil {
			return err
		}
	}
	return nil
}

// hit is a stored document the caller sees: stored is the document as
// held, seen as the caller reads it (redacted).
type hit struct {
	stored, seen bson.Raw
}

// find returns the documents matching filter that the caller sees, in
// stored order: as a user, documents it may not read are left out, and so
// are those where a field the filter or sort reads (refs) is hidden; seen
// is redacted to the fields the role reads.
func (c *memoryCollection) find(ctx context.Context, filter bson.Raw, refs []string) ([]hit, error) {
	filter = orEmpty(filter)
	var out []hit
	for _, doc := range c.snapshot() {
		seen := doc
		if c.b != nil {
			var ok bool
			var err error
			if seen, ok, err = c.readable(ctx, doc, refs); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
		}
		m, err := mql.Match(filter, doc)
		if err != nil {
			return nil, err
		}
		if m {
			out = append(out, hit{stored: doc, seen: seen})
		}
	}
	return out, nil
}

// readable decides whether the user reads doc, and returns it redacted.
// A path of refs that is not readable leaves the document out, whether
// or not doc holds it (the gate probes an absent path instead: fail
// closed, see the package documentation).
func (c *memoryCollection) readable(ctx context.Context, doc bson.Raw, refs []string) (bson.Raw, bool, error) {
	dec, err := c.b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc}, evaluator.WithFields())
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, ctx.Err()
		}
		// A read that cannot be decided leaves the document out, as in
		// the gate.
		return nil, false, nil
	}
	if !dec.Allowed {
		return nil, false, nil
	}
	paths := mql.NewPaths(dec.Fields.Read)
	for _, r := range refs {
		if r == mql.AllFields || !paths.Covers(r) {
			return nil, false, nil
		}
	}
	out, err := bson.Marshal(paths.Redact(doc))
	if err != nil {
		return nil, false, err
	}
	return out, true, nil
}

// refs returns the paths filter and the sort keys read.
func refs(filter bson.Raw, sortKeys []sortKey) []string {
	m := map[string]bool{}
	if filter != nil {
		mql.QueryPaths(filter, m)
	}
	for _, k := range sortKeys {
		m[k.path] = true
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type sortKey struct {
	path string
	p    value.Path
	desc bool
}

// parseSort reads a sort document: field paths with 1 or -1.
func parseSort(s bson.Raw) ([]sortKey, error) {
	if s == nil {
		return nil, nil
	}
	elems, err := s.Elements()
	if err != nil {
		return nil, fmt.Errorf("sort is not a document: %w", err)
	}
	var out []sortKey
	for _, e := range elems {
		n, ok := e.Value().AsInt64OK()
		if !ok || (n != 1 && n != -1) {
			return nil, fmt.Errorf("sort by %q: the direction must be 1 or -1", e.Key())
		}
		out = append(out, sortKey{path: e.Key(), p: value.ParsePath(e.Key()), desc: n == -1})
	}
	return out, nil
}

// sortHits orders hits by keys with value's comparison (a missing field
// sorts as null); equal documents keep their stored order. A key that
// holds an array in some document is refused: MongoDB sorts by its
// smallest or largest element, which value does not compute.
func sortHits(hits []hit, keys []sortKey) error {
	if len(keys) == 0 {
		return nil
	}
	vals := make([][]value.Value, len(hits))
	for i, h := range hits {
		vals[i] = make([]value.Value, len(keys))
		for j, k := range keys {
			v := value.Resolve(value.FromDocument(h.stored), k.p)
			if v.IsArray() {
				return fmt.Errorf("%w: sort by %q, an array in some document", ErrMemoryUnsupported, k.path)
			}
			if v.IsMissing() {
				v = value.Null()
			}
			vals[i][j] = v
		}
	}
	idx := make([]int, len(hits))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		for j, k := range keys {
			c := value.Compare(vals[idx[a]][j], vals[idx[b]][j])
			if c != 0 {
				return (c < 0) != k.desc
			}
		}
		return false
	})
	sorted := make([]hit, len(hits))
	for i, j := range idx {
		sorted[i] = hits[j]
	}
	copy(hits, sorted)
	return nil
}

// query runs a find: filter, sort, skip and limit (0: none).
func (c *memoryCollection) query(ctx context.Context, op string, filter, sortDoc bson.Raw, skip, limit int64) ([]hit, error) {
	if err := c.precheck(op, evaluator.ActionRead, filter); err != nil {
		return nil, err
	}
	keys, err := parseSort(sortDoc)
	if err != nil {
		return nil, err
	}
	hits, err := c.find(ctx, filter, refs(filter, keys))
	if err != nil {
		return nil, err
	}
	if err := sortHits(hits, keys); err != nil {
		return nil, err
	}
	return page(hits, skip, limit), nil
}

func page[T any](xs []T, skip, limit int64) []T {
	if skip > 0 {
		if skip >= int64(len(xs)) {
			return xs[:0]
		}
		xs = xs[skip:]
	}
	if limit > 0 && limit < int64(len(xs)) {
		xs = xs[:limit]
	}
	return xs
}

// project applies a client projection (nil: none) to seen documents.
func project(proj bson.Raw, docs []bson.Raw) ([]bson.Raw, error) {
	if proj == nil {
		return docs, nil
	}
	p, err := mql.ParseProjection(proj)
	if err != nil || p == nil {
		return docs, err
	}
	out := make([]bson.Raw, len(docs))
	for i, d := range docs {
		if out[i], err = bson.Marshal(p.Apply(d)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func seen(hits []hit) []bson.Raw {
	out := make([]bson.Raw, len(hits))
	for i, h := range hits {
		out[i] = h.seen
	}
	return out
}

func (c *memoryCollection) Find(ctx context.Context, filter bson.Raw, o FindOptions) ([]bson.Raw, error) {
	hits, err := c.query(ctx, "Find", filter, o.Sort, o.Skip, o.Limit)
	if err != nil {
		return nil, err
	}
	return project(o.Projection, seen(hits))
}

func (c *memoryCollection) FindOne(ctx context.Context, filter bson.Raw, o FindOptions) (bson.Raw, error) {
	hits, err := c.query(ctx, "FindOne", filter, o.Sort, o.Skip, 1)
	if err != nil || len(hits) == 0 {
		return nil, err
	}
	docs, err := project(o.Projection, seen(hits))
	if err != nil {
		return nil, err
	}
	return docs[0], nil
}

func (c *memoryCollection) Count(ctx context.Context, filter bson.Raw, o CountOptions) (int64, error) {
	hits, err := c.query(ctx, "CountDocuments", filter, nil, o.Skip, o.Limit)
	return int64(len(hits)), err
}

func (c *memoryCollection) Distinct(ctx context.Context, field string, filter bson.Raw) ([]bson.RawValue, error) {
	hits, err := c.query(ctx, "Distinct", filter, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	p := value.ParsePath(field)
	keys := map[string]bool{}
	var key []byte
	out := []bson.RawValue{}
	for _, h := range hits {
		for _, v := range value.DistinctValues(value.FromDocument(h.seen), p) {
			key = value.Key(key[:0], v)
			if keys[string(key)] {
				continue
			}
			keys[string(key)] = true
			out = append(out, v.RawValue())
		}
	}
	return out, nil
}

// Aggregate runs pipeline as the gate runs a pipeline itself
// (gate.Collection.Aggregate): a user's pipeline is checked as the gate
// checks it (gate.CheckPipeline), then runs in memory (mql.CompilePipeline)
// over the documents the caller reads, redacted; $lookup and $unionWith
// read the other collection of the same database through its own rules,
// matched on what the caller sees of it. The system user's runs over the
// stored documents. What the engine does not run wraps
// ErrMemoryUnsupported.
func (c *memoryCollection) Aggregate(ctx context.Context, pipeline []bson.Raw) ([]bson.Raw, error) {
	if c.b != nil {
		if err := c.precheck("Aggregate", evaluator.ActionRead, nil); err != nil {
			return nil, err
		}
		if err := gate.CheckPipeline(pipeline); err != nil {
			return nil, err
		}
	}
	p, err := mql.CompilePipeline(pipeline, mql.PipelineOptions{Foreign: c.foreign})
	if err != nil {
		if errors.Is(err, mql.ErrUnsupportedPipeline) {
			return nil, fmt.Errorf("%w: aggregate: %w", ErrMemoryUnsupported, err)
		}
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	hits, err := c.query(ctx, "Aggregate", nil, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	out, err := p.Run(ctx, mql.DocsOf(seen(hits)...))
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	docs, err := mql.ReadAllDocs(ctx, out)
	if err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	if docs == nil {
		docs = []bson.Raw{}
	}
	return docs, nil
}

// foreign is mql.Foreign for c's pipelines: coll of c's database, as the
// same caller reads it, the documents matching filter as seen.
func (c *memoryCollection) foreign(ctx context.Context, coll string, filter bson.Raw) (mql.Docs, error) {
	db, _, _ := strings.Cut(c.ns, ".")
	fc, err := c.d.collection(ctx, c.as, db, coll)
	if err != nil {
		return nil, err
	}
	hits, err := fc.query(ctx, "Aggregate", nil, nil, 0, 0)
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	for _, d := range seen(hits) {
		if filter != nil {
			ok, err := mql.Match(filter, d)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		out = append(out, d)
	}
	return mql.DocsOf(out...), nil
}

// withID returns doc with an _id, a new ObjectID first when it has none.
func withID(doc bson.Raw) (bson.Raw, bson.RawValue, error) {
	if id, err := doc.LookupErr("_id"); err == nil {
		return doc, id, nil
	}
	id := bson.NewObjectID()
	d := bson.D{{Key: "_id", Value: id}}
	elems, err := doc.Elements()
	if err != nil {
		return nil, bson.RawValue{}, err
	}
	for _, e := range elems {
		d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
	}
	out, err := bson.Marshal(d)
	if err != nil {
		return nil, bson.RawValue{}, err
	}
	return out, bson.Raw(out).Lookup("_id"), nil
}

// errDuplicateKey is the error of an insert whose _id is taken.
var errDuplicateKey = errors.New("E11000 duplicate key error: _id")

func (c *memoryCollection) insert(ctx context.Context, op string, docs []bson.Raw) ([]bson.RawValue, error) {
	if err := c.precheck(op, evaluator.ActionInsert, nil); err != nil {
		return nil, err
	}
	ready := make([]bson.Raw, len(docs))
	ids := make([]bson.RawValue, len(docs))
	for i, doc := range docs {
		if c.b != nil {
			if err := mql.ValidateDocument(doc); err != nil {
				return nil, err
			}
		}
		d, id, err := withID(doc)
		if err != nil {
			return nil, err
		}
		if c.b != nil {
			dec, err := c.b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionInsert, Document: d})
			if err != nil {
				return nil, fmt.Errorf("%w: %w", c.denied(op, evaluator.ActionInsert, dec), err)
			}
			if !dec.Allowed {
				return nil, c.denied(op, evaluator.ActionInsert, dec)
			}
		}
		ready[i], ids[i] = d, id
	}
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	stored := c.d.colls[c.ns]
	for i := range ready {
		for _, o := range append(stored[:len(stored):len(stored)], ready[:i]...) {
			if value.Equal(value.FromRaw(o.Lookup("_id")), value.FromRaw(ids[i])) {
				return nil, errDuplicateKey
			}
		}
	}
	c.d.colls[c.ns] = append(stored, ready...)
	return ids, nil
}

func (c *memoryCollection) InsertOne(ctx context.Context, doc bson.Raw) (bson.RawValue, error) {
	ids, err := c.insert(ctx, "InsertOne", []bson.Raw{doc})
	if err != nil {
		return bson.RawValue{}, err
	}
	return ids[0], nil
}

func (c *memoryCollection) InsertMany(ctx context.Context, docs []bson.Raw) ([]bson.RawValue, error) {
	if len(docs) == 0 {
		return nil, errors.New("insertMany: no documents to insert")
	}
	return c.insert(ctx, "InsertMany", docs)
}

// change is one write decided: the stored document and what replaces it
// (nil: a delete).
type change struct {
	prev, post bson.Raw
}

// modify writes changes: each replaces or removes its stored document (by
// _id).
func (c *memoryCollection) modify(changes []change) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	stored := c.d.colls[c.ns]
	out := make([]bson.Raw, 0, len(stored))
	for _, d := range stored {
		id := value.FromRaw(d.Lookup("_id"))
		keep := d
		for _, ch := range changes {
			if value.Equal(id, value.FromRaw(ch.prev.Lookup("_id"))) {
				keep = ch.post
				break
			}
		}
		if keep != nil {
			out = append(out, keep)
		}
	}
	c.d.colls[c.ns] = out
}

// updateSpec is one update call.
type updateSpec struct {
	op           string
	filter       bson.Raw
	update       bson.Raw
	replace      bool
	sort         bson.Raw
	arrayFilters []bson.Raw
	upsert       bool
	many         bool
}

// update decides and applies u; it returns the documents before and after
// (in the caller's view: stored, for the FindOneAnd methods to redact).
func (c *memoryCollection) update(ctx context.Context, u updateSpec) ([]change, error) {
	if u.upsert {
		return nil, fmt.Errorf("%w: %s with upsert", ErrMemoryUnsupported, u.op)
	}
	if err := c.precheck(u.op, evaluator.ActionWrite, u.filter); err != nil {
		return nil, err
	}
	if c.b != nil {
		var err error
		if u.replace {
			err = mql.ValidateDocument(u.update)
		} else {
			err = mql.ValidateUpdate(u.update)
		}
		if err != nil {
			return nil, err
		}
	}
	keys, err := parseSort(u.sort)
	if err != nil {
		return nil, err
	}
	var r []string
	if c.b != nil {
		if len(u.arrayFilters) > 0 {
			// An array filter reads the array's element fields: where
			// one is hidden the gate leaves the document out, which
			// these collections do not decide (fail closed).
			return nil, fmt.Errorf("%w: %s with arrayFilters as a user", ErrMemoryUnsupported, u.op)
		}
		r = refs(u.filter, keys)
	}
	hits, err := c.find(ctx, u.filter, r)
	if err != nil {
		return nil, err
	}
	if err := sortHits(hits, keys); err != nil {
		return nil, err
	}
	if !u.many && len(hits) > 1 {
		hits = hits[:1]
	}
	var changes []change
	for _, h := range hits {
		var post bson.Raw
		if u.replace {
			if post, err = replaced(h.stored, u.update); err != nil {
				return nil, fmt.Errorf("%s: %w", u.op, err)
			}
		} else {
			post, err = mql.ApplyUpdateWith(h.stored, u.update, mql.ApplyOptions{Query: orEmpty(u.filter), ArrayFilters: u.arrayFilters})
			if err != nil {
				return nil, err
			}
		}
		if c.b != nil {
			dec, err := c.b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionWrite, Document: post, PrevDocument: h.stored, Update: u.update}, evaluator.WithLeavingScopeDenied())
			if err != nil {
				return nil, fmt.Errorf("%w: %w", c.denied(u.op, evaluator.ActionWrite, dec), err)
			}
			if !dec.Allowed {
				return nil, c.denied(u.op, evaluator.ActionWrite, dec)
			}
		}
		changes = append(changes, change{prev: h.stored, post: post})
	}
	c.modify(changes)
	return changes, nil
}

// replaced is the document replacement makes of prev: prev's _id, then
// the replacement's other fields; a replacement with another _id is an
// error (MongoDB's _id is immutable).
func replaced(prev, replacement bson.Raw) (bson.Raw, error) {
	id := prev.Lookup("_id")
	if rid, err := replacement.LookupErr("_id"); err == nil && !value.Equal(value.FromRaw(id), value.FromRaw(rid)) {
		return nil, errors.New("the replacement may not change _id")
	}
	d := bson.D{{Key: "_id", Value: id}}
	elems, err := replacement.Elements()
	if err != nil {
		return nil, err
	}
	for _, e := range elems {
		if e.Key() != "_id" {
			d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	return bson.Marshal(d)
}

func updateCounts(changes []change) UpdateResult {
	r := UpdateResult{MatchedCount: int64(len(changes))}
	for _, ch := range changes {
		if !bytes.Equal(ch.prev, ch.post) {
			r.ModifiedCount++
		}
	}
	return r
}

func (c *memoryCollection) UpdateOne(ctx context.Context, filter, update bson.Raw, o UpdateOptions) (UpdateResult, error) {
	replace := mql.IsReplacement(update)
	if replace && len(o.ArrayFilters) > 0 {
		return UpdateResult{}, errors.New("updateOne: arrayFilters need an update with operators")
	}
	op := "UpdateOne"
	if replace {
		op = "ReplaceOne"
	}
	changes, err := c.update(ctx, updateSpec{op: op, filter: filter, update: update, replace: replace, arrayFilters: o.ArrayFilters, upsert: o.Upsert})
	if err != nil {
		return UpdateResult{}, err
	}
	return updateCounts(changes), nil
}

func (c *memoryCollection) UpdateMany(ctx context.Context, filter, update bson.Raw, o UpdateOptions) (UpdateResult, error) {
	if mql.IsReplacement(update) {
		return UpdateResult{}, errReplacementMany
	}
	changes, err := c.update(ctx, updateSpec{op: "UpdateMany", filter: filter, update: update, arrayFilters: o.ArrayFilters, upsert: o.Upsert, many: true})
	if err != nil {
		return UpdateResult{}, err
	}
	return updateCounts(changes), nil
}

// remove decides and removes the matching documents (the first by sort
// unless many).
func (c *memoryCollection) remove(ctx context.Context, op string, filter, sortDoc bson.Raw, many bool) ([]change, error) {
	if err := c.precheck(op, evaluator.ActionDelete, filter); err != nil {
		return nil, err
	}
	keys, err := parseSort(sortDoc)
	if err != nil {
		return nil, err
	}
	var r []string
	if c.b != nil {
		r = refs(filter, keys)
	}
	hits, err := c.find(ctx, filter, r)
	if err != nil {
		return nil, err
	}
	if err := sortHits(hits, keys); err != nil {
		return nil, err
	}
	if !many && len(hits) > 1 {
		hits = hits[:1]
	}
	var changes []change
	for _, h := range hits {
		if c.b != nil {
			dec, err := c.b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionDelete, Document: h.stored})
			if err != nil {
				return nil, fmt.Errorf("%w: %w", c.denied(op, evaluator.ActionDelete, dec), err)
			}
			if !dec.Allowed {
				return nil, c.denied(op, evaluator.ActionDelete, dec)
			}
		}
		changes = append(changes, change{prev: h.stored})
	}
	c.modify(changes)
	return changes, nil
}

func (c *memoryCollection) DeleteOne(ctx context.Context, filter bson.Raw) (int64, error) {
	changes, err := c.remove(ctx, "DeleteOne", filter, nil, false)
	return int64(len(changes)), err
}

func (c *memoryCollection) DeleteMany(ctx context.Context, filter bson.Raw) (int64, error) {
	changes, err := c.remove(ctx, "DeleteMany", filter, nil, true)
	return int64(len(changes)), err
}

// returned is a document a FindOneAnd method returns: redacted for the
// user as a read of it, then projected.
func (c *memoryCollection) returned(ctx context.Context, doc, proj bson.Raw) (bson.Raw, error) {
	if doc == nil {
		return nil, nil
	}
	if c.b != nil {
		r, ok, err := c.readable(ctx, doc, nil)
		if err != nil || !ok {
			return nil, err
		}
		doc = r
	}
	docs, err := project(proj, []bson.Raw{doc})
	if err != nil {
		return nil, err
	}
	return docs[0], nil
}

func (c *memoryCollection) findOneAnd(ctx context.Context, op string, filter, update bson.Raw, replace bool, o FindOneAndOptions) (bson.Raw, error) {
	if o.Projection != nil {
		if _, err := mql.ParseProjection(o.Projection); err != nil {
			return nil, err
		}
	}
	changes, err := c.update(ctx, updateSpec{op: op, filter: filter, update: update, replace: replace, sort: o.Sort, upsert: o.Upsert})
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	doc := changes[0].prev
	if o.ReturnNewDocument {
		doc = changes[0].post
	}
	return c.returned(ctx, doc, o.Projection)
}

func (c *memoryCollection) FindOneAndUpdate(ctx context.Context, filter, update bson.Raw, o FindOneAndOptions) (bson.Raw, error) {
	if mql.IsReplacement(update) {
		return c.FindOneAndReplace(ctx, filter, update, o)
	}
	return c.findOneAnd(ctx, "FindOneAndUpdate", filter, update, false, o)
}

func (c *memoryCollection) FindOneAndReplace(ctx context.Context, filter, replacement bson.Raw, o FindOneAndOptions) (bson.Raw, error) {
	return c.findOneAnd(ctx, "FindOneAndReplace", filter, replacement, true, o)
}

func (c *memoryCollection) FindOneAndDelete(ctx context.Context, filter bson.Raw, o FindOneAndOptions) (bson.Raw, error) {
	if o.Projection != nil {
		if _, err := mql.ParseProjection(o.Projection); err != nil {
			return nil, err
		}
	}
	changes, err := c.remove(ctx, "FindOneAndDelete", filter, o.Sort, false)
	if err != nil || len(changes) == 0 {
		return nil, err
	}
	return c.returned(ctx, changes[0].prev, o.Projection)
}
