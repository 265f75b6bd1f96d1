package gate_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestNonInterference runs generated seeds 1..N with a fixed N; the flags
// run more, replay one, or ignore the list of known holes:
//
//	go test ./gate -run '^TestNonInterference$' -gate.seeds 500
//	go test ./gate -run '^TestNonInterference$' -gate.seed 42 -v
//	go test ./gate -run '^TestNonInterference$' -gate.strict
var (
	niSeeds  = flag.Uint64("gate.seeds", 0, "TestNonInterference: how many generated seeds to run (0: the default; with -gate.seed: from that seed)")
	niSeed   = flag.Uint64("gate.seed", 0, "TestNonInterference: the first seed to run (alone, unless -gate.seeds is given); replays a failure")
	niStrict = flag.Bool("gate.strict", false, "TestNonInterference: report the known holes too (ignore knownHoles)")
)

// niDefaultSeeds is how many seeds go test ./... runs (about 35 s on the
// embedded server; fewer under the race detector). Seeds 1..150 hit every
// class of knownHoles with the generator as it is (go test -v lists the
// seeds of each class; a generator change moves them).
func niDefaultSeeds() uint64 {
	if niRace {
		return 50
	}
	return 150
}

// knownHoles are the failure classes of holes listed in issue 11 whose
// fixes are made elsewhere: a failure the classifier puts in one of these
// classes is counted and logged, not reported, unless -gate.strict. Each
// class names its hole in the issue (0: found by this test, not listed in
// the issue). Delete an entry once its fix is merged; the test then
// reports that class again.
var knownHoles = map[string]int{
	// Empty: every class this test found (issue 11 holes 1, 2, 3, 6, 10
	// and the siblings aggregate-presence, modified-hidden,
	// rename-hidden-source, replace-hidden-presence) is fixed. A class
	// listed here is reported only with -gate.strict; list one only with
	// its issue and hole, never to make a failing run pass.
}

// TestNonInterference: for generated rules (roles with apply_when on
// %%user claims, document_filters, read/write conditions, field-level
// fields and additional_fields with embedded documents, filters with
// projections), generated documents and generated client operations,
// nothing a caller gets back from a gate method depends on a value the
// caller cannot read.
//
// Each seed stores a dataset D in one collection and its twin D' in
// another: D' differs from D only in hidden values (values of fields the
// caller's decided role may not read, fields that an applied filter's
// projection removes, whole documents the caller cannot read), never in
// the fields the rules' conditions read, and every document's decisions
// (read, write, delete) are the same in both. The same operation then runs
// through the gate on both, as the same caller, and everything observable
// must be equal: documents, counts, distinct values, errors (their text),
// the write's result counts, which documents the write changed (read back
// without rules) and the caller's view of the collection after it. A
// second property: every document Find or FindOne returns is the stored
// document redacted to its Decision.Fields.Read, nothing more.
func TestNonInterference(t *testing.T) {
	db := rulegatetest.Database(t)
	first, n := uint64(1), niDefaultSeeds()
	if *niSeed != 0 {
		first, n = *niSeed, 1
	}
	if *niSeeds != 0 {
		n = *niSeeds
	}
	known := map[string][]uint64{}
	stats := map[string]int{}
	for seed := first; seed < first+n; seed++ {
		r := niRun{t: t, db: db, seed: seed, known: known, stats: stats}
		r.run()
	}
	var keys []string
	for k := range stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%d", k, stats[k])
	}
	t.Logf("outcomes on D:%s", b.String())
	var classes []string
	for c := range known {
		classes = append(classes, c)
	}
	sort.Strings(classes)
	for _, c := range classes {
		seeds := known[c]
		t.Logf("known hole %d (%s): %d failures, seeds %v (-gate.strict reports them)", knownHoles[c], c, len(seeds), uniqSeeds(seeds))
	}
}

func uniqSeeds(s []uint64) []uint64 {
	var out []uint64
	for i, x := range s {
		if i == 0 || s[i-1] != x {
			out = append(out, x)
		}
	}
	if len(out) > 20 {
		out = out[:20]
	}
	return out
}

func niReplay(seed uint64) string {
	return fmt.Sprintf("replay: go test ./gate -run '^TestNonInterference$' -gate.seed %d -v\n", seed)
}

// niRun is one seed.
type niRun struct {
	t     *testing.T
	db    *mongo.Database
	seed  uint64
	known map[string][]uint64
	stats map[string]int

	g      niGen
	c      niCase
	prog   *evaluator.Program
	gt     *gate.Gate
	user   expansion.User
	team   string
	twin   []bson.D
	a, b   *mongo.Collection // D and D', without rules
	ga, gb *gate.Collection  // D and D', through the gate
	nsA    string
	fails  int
}

const (
	niReadsPerSeed  = 8
	niWritesPerSeed = 6
)

func (r *niRun) run() {
	t := r.t
	ctx := context.Background()
	r.g = niGen{rand.New(rand.NewPCG(r.seed, 11))}
	r.c = r.g.genCase()
	ca, cb := fmt.Sprintf("s%da", r.seed), fmt.Sprintf("s%db", r.seed)
	fs := fstest.MapFS{}
	for _, coll := range []string{ca, cb} {
		js := fmt.Sprintf(`{"database": %q, "collection": %q, %s}`, r.db.Name(), coll, r.c.rules)
		fs["data_sources/mongodb-atlas/"+r.db.Name()+"/"+coll+"/rules.json"] = &fstest.MapFile{Data: []byte(js)}
	}
	app, err := rules.LoadApp(fs)
	if err == nil {
		if errs := rules.Validate(app, rules.ValidateOptions{}).Errors(); len(errs) > 0 {
			err = errs
		}
	}
	if err == nil {
		r.prog, err = evaluator.Compile(app)
	}
	if err != nil {
		t.Fatalf(niReplay(r.seed)+"seed %d: the generator wrote rules that do not load: %v\nrules: %s", r.seed, err, r.c.rules)
	}
	if r.gt, err = gate.New(r.db.Client(), r.prog); err != nil {
		t.Fatal(err)
	}
	r.user = user(t, niUsers[r.c.caller])
	r.team = niTeams[r.c.caller]
	r.nsA = r.db.Name() + "." + ca
	r.twin = r.perturb()
	r.a, r.b = r.db.Collection(ca), r.db.Collection(cb)
	sess := r.gt.For(r.user).Database(r.db.Name())
	r.ga, r.gb = sess.Collection(ca), sess.Collection(cb)
	r.reset(ctx)
	defer func() {
		_ = r.a.Drop(ctx)
		_ = r.b.Drop(ctx)
	}()
	for i := 0; i < niReadsPerSeed; i++ {
		op := r.g.op(r.c, niReads[r.g.n(len(niReads))])
		oa := r.observe(ctx, r.ga, r.a, op)
		ob := r.observe(ctx, r.gb, r.b, op)
		r.compare(op, oa, ob)
		if (op.method == "Find" || op.method == "FindOne") && op.projection == nil {
			r.checkRedaction(ctx, op, oa, r.c.docs)
			r.checkRedaction(ctx, op, ob, r.twin)
		}
	}
	for i := 0; i < niWritesPerSeed; i++ {
		op := r.g.op(r.c, niWrites[r.g.n(len(niWrites))])
		r.reset(ctx)
		oa := r.observe(ctx, r.ga, r.a, op)
		ob := r.observe(ctx, r.gb, r.b, op)
		r.compare(op, oa, ob)
		// The same write as an upsert (ReplaceOne as FindOneAndReplace),
		// derived without drawing from the generator, so that the seeds
		// keep the operations they had.
		if up, ok := op.upserting(); ok {
			r.reset(ctx)
			oa := r.observe(ctx, r.ga, r.a, up)
			ob := r.observe(ctx, r.gb, r.b, up)
			r.compare(up, oa, ob)
		}
	}
}

// reset stores D and D' again.
func (r *niRun) reset(ctx context.Context) { r.store(ctx, r.c.docs, r.twin) }

// store replaces the contents of the two collections.
func (r *niRun) store(ctx context.Context, da, db []bson.D) {
	for _, x := range []struct {
		c    *mongo.Collection
		docs []bson.D
	}{{r.a, da}, {r.b, db}} {
		if _, err := x.c.DeleteMany(ctx, bson.D{}); err != nil {
			r.t.Fatal(err)
		}
		if len(x.docs) == 0 {
			continue
		}
		docs := make([]any, len(x.docs))
		for i, d := range x.docs {
			docs[i] = d
		}
		if _, err := x.c.InsertMany(ctx, docs); err != nil {
			r.t.Fatal(err)
		}
	}
}

// decisions are the evaluator's decisions of one document for the caller.
type niDecision struct {
	read        evaluator.Decision
	write, dele evaluator.Decision
}

func (r *niRun) decide(d bson.D) niDecision {
	raw, err := bson.Marshal(d)
	if err != nil {
		r.t.Fatal(err)
	}
	ctx := context.Background()
	caller := evaluator.Caller{Namespace: r.nsA, Inputs: expansion.Inputs{User: r.user}}
	var out niDecision
	out.read, _ = r.prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: raw}, evaluator.WithFields())
	out.write, _ = r.prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionWrite, Document: raw, PrevDocument: raw})
	out.dele, _ = r.prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionDelete, Document: raw})
	return out
}

func (x niDecision) same(y niDecision) bool {
	eq := func(a, b evaluator.Decision) bool {
		return a.Allowed == b.Allowed && a.Role == b.Role && a.Reason == b.Reason
	}
	return eq(x.read, y.read) && eq(x.write, y.write) && eq(x.dele, y.dele) &&
		strings.Join(x.read.Fields.Read, ",") == strings.Join(y.read.Fields.Read, ",")
}

// hidden reports whether the value at path (a leaf of a document whose
// read decision is dec) is hidden from the caller: the document is not
// readable, its role does not read the path, or an applied filter's
// projection removes it.
func (r *niRun) hidden(dec evaluator.Decision, path string) bool {
	if !dec.Allowed {
		return true
	}
	covered := false
	for _, f := range dec.Fields.Read {
		if f == path || strings.HasPrefix(path, f+".") {
			covered = true
		}
	}
	return !covered || r.projHides(path)
}

// projHides reports whether an applied filter's projection removes path,
// with MongoDB's projection semantics (filters.txt: "projections follow
// MongoDB's syntax"), decided here independently of the evaluator.
func (r *niRun) projHides(path string) bool {
	under := func(p, k string) bool { return p == k || strings.HasPrefix(p, k+".") }
	for _, f := range r.c.filters {
		if !f.applies(r.team) || f.proj == nil {
			continue
		}
		inclusive := false
		for _, e := range f.proj {
			if e.Key != "_id" && fmt.Sprint(e.Value) == "1" {
				inclusive = true
			}
		}
		kept := !inclusive
		for _, e := range f.proj {
			if !under(path, e.Key) {
				continue
			}
			kept = fmt.Sprint(e.Value) == "1"
		}
		if inclusive && path == "_id" {
			kept = true
		}
		if !kept {
			return true
		}
	}
	return false
}

// niLeaves calls fn with the path and value of every leaf of d (embedded
// documents are descended into; arrays are leaves).
func niLeaves(d bson.D, prefix string, fn func(path string, v any)) {
	for _, e := range d {
		p := prefix + e.Key
		if sub, ok := e.Value.(bson.D); ok && len(sub) > 0 {
			niLeaves(sub, p+".", fn)
			continue
		}
		fn(p, e.Value)
	}
}

// niCandidates are the leaves the twin may add to a document lacking them.
var niCandidates = []string{"title", "n", "secret", "tags", "profile.name", "profile.ssn", "a.2024.b", "a.b"}

// perturb builds D' from D: in each document, hidden values change, hidden
// fields disappear or appear; a change that alters a decision is undone.
func (r *niRun) perturb() []bson.D {
	g := niGen{rand.New(rand.NewPCG(r.seed, 13))}
	// mode 0 perturbs at random; mode 1 removes every hidden value and
	// mode 2 adds every hidden field it can, so that a presence oracle
	// (an answer that depends on whether any document holds a hidden
	// field) shows too.
	mode := g.n(4) % 3
	var out []bson.D
	for _, d := range r.c.docs {
		dec := r.decide(d)
		cur := niClone(d)
		var paths []string
		niLeaves(d, "", func(p string, _ any) { paths = append(paths, p) })
		for _, p := range paths {
			top, _, _ := strings.Cut(p, ".")
			if niCondFields[top] || !r.hidden(dec.read, p) {
				continue
			}
			v, _ := niGet(cur, p)
			var next bson.D
			// 0 keeps, 1 changes, 2 removes.
			choice := []int{0, 1, 1, 1, 2}[g.n(5)]
			switch mode {
			case 1:
				choice = 2
			case 2:
				choice = 1
			}
			switch choice {
			case 0:
				continue
			case 1:
				if niValues[p] == nil {
					continue
				}
				next = niSet(cur, p, g.other(p, v))
			case 2:
				next = niUnset(cur, p)
			}
			if r.decide(next).same(dec) {
				cur = next
			}
		}
		for _, p := range niCandidates {
			if _, ok := niGet(cur, p); ok || mode == 1 || (mode == 0 && g.n(2) == 0) {
				continue
			}
			next := niSet(cur, p, g.val(p))
			nd := r.decide(next)
			if nd.same(dec) && r.hidden(nd.read, p) {
				cur = next
			}
		}
		out = append(out, cur)
	}
	// Sometimes D' holds one more document, which the caller can neither
	// read, update nor delete: its existence is a hidden value too.
	if g.n(3) == 0 {
		for try := 0; try < 5; try++ {
			ghost := niGen{g.r}.document(50)
			d := r.decide(ghost)
			if !d.read.Allowed && !d.write.Allowed && !d.dele.Allowed {
				out = append(out, ghost)
				break
			}
		}
	}
	return out
}

func niClone(d bson.D) bson.D {
	out := make(bson.D, len(d))
	for i, e := range d {
		if sub, ok := e.Value.(bson.D); ok {
			e.Value = niClone(sub)
		}
		out[i] = e
	}
	return out
}

func niGet(d bson.D, path string) (any, bool) {
	head, rest, more := strings.Cut(path, ".")
	for _, e := range d {
		if e.Key != head {
			continue
		}
		if !more {
			return e.Value, true
		}
		sub, ok := e.Value.(bson.D)
		if !ok {
			return nil, false
		}
		return niGet(sub, rest)
	}
	return nil, false
}

// niSet returns a copy of d with path set to v (appended when new).
func niSet(d bson.D, path string, v any) bson.D {
	d = niClone(d)
	head, rest, more := strings.Cut(path, ".")
	for i, e := range d {
		if e.Key != head {
			continue
		}
		if !more {
			d[i].Value = v
			return d
		}
		sub, _ := e.Value.(bson.D)
		d[i].Value = niSet(sub, rest, v)
		return d
	}
	if !more {
		return append(d, bson.E{Key: head, Value: v})
	}
	return append(d, bson.E{Key: head, Value: niSet(bson.D{}, rest, v)})
}

// niUnset returns a copy of d without path; an embedded document left
// empty goes too.
func niUnset(d bson.D, path string) bson.D {
	head, rest, more := strings.Cut(path, ".")
	var out bson.D
	for _, e := range d {
		if e.Key == head {
			if !more {
				continue
			}
			if sub, ok := e.Value.(bson.D); ok {
				sub = niUnset(sub, rest)
				if len(sub) == 0 {
					continue
				}
				e.Value = sub
			}
		}
		if sub, ok := e.Value.(bson.D); ok {
			e.Value = niClone(sub)
		}
		out = append(out, e)
	}
	return out
}

// stripHole1 removes from the documents of o the paths an embedded filter
// projection should have removed (issue 11, hole 1), counting the hole when
// there were some, so that the rest of the observation is still compared.
func (r *niRun) stripHole1(o *niObs) {
	hit := false
	strip := func(js []string) []string {
		var out []string
		for _, j := range js {
			var d bson.D
			if err := bson.UnmarshalExtJSON([]byte(j), false, &d); err != nil {
				out = append(out, j)
				continue
			}
			s, ok := r.strip(d)
			hit = hit || ok
			out = append(out, niJSON(s))
		}
		return out
	}
	if o.Docs != nil {
		o.Docs = strip(o.Docs)
	}
	if o.After != nil {
		o.After = strip(o.After)
	}
	for i, raw := range o.raw {
		var d bson.D
		if err := bson.Unmarshal(raw, &d); err == nil {
			if s, ok := r.strip(d); ok {
				o.raw[i], _ = bson.Marshal(s)
			}
		}
	}
	if hit {
		r.known["embedded-projection"] = append(r.known["embedded-projection"], r.seed)
	}
}

// strip returns d without the leaves hole1 hides.
func (r *niRun) strip(d bson.D) (bson.D, bool) {
	var gone []string
	niLeaves(d, "", func(p string, _ any) {
		if r.hole1(p) {
			gone = append(gone, p)
		}
	})
	for _, p := range gone {
		d = niUnset(d, p)
	}
	return d, len(gone) > 0
}

// niObs is everything a caller observes of one operation.
type niObs struct {
	Err     string
	Docs    []string
	N       int64
	Result  string
	Changed []string
	After   []string
	raw     []bson.Raw // the documents returned, for checkRedaction
}

func (o niObs) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "err: %s\n", o.Err)
	if o.Docs != nil {
		fmt.Fprintf(&b, "docs: %s\n", strings.Join(o.Docs, " "))
	}
	if o.N != 0 {
		fmt.Fprintf(&b, "n: %d\n", o.N)
	}
	if o.Result != "" {
		fmt.Fprintf(&b, "result: %s\n", o.Result)
	}
	if o.Changed != nil || o.After != nil {
		fmt.Fprintf(&b, "changed: %v\nafter: %s\n", o.Changed, strings.Join(o.After, " "))
	}
	return b.String()
}

func niErr(err error) string {
	if err == nil {
		return "none"
	}
	var de *gate.DeniedError
	var re *gate.RefusedError
	switch {
	case errors.As(err, &de):
		return "denied: " + de.Error()
	case errors.As(err, &re):
		return "refused: " + re.Error()
	case errors.Is(err, mongo.ErrNoDocuments):
		return "no documents"
	}
	return "error: " + err.Error()
}

func niJSON(v any) string {
	b, err := bson.MarshalExtJSON(v, false, false)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	return string(b)
}

func niRaws(docs []bson.Raw) []string {
	out := []string{}
	for _, d := range docs {
		out = append(out, niJSON(d))
	}
	return out
}

// view is what the caller may read of the stored documents after a write:
// each readable document redacted to its Decision.Fields.Read, less what
// an applied filter's projection removes (decided here, so that reads, not
// this view, report the gate's own redaction). A document the write moved
// to another role or other readable fields shows only what was readable
// before too: a write the rules allow may legitimately reveal what the new
// role reads.
func (r *niRun) view(before, after map[string]string) []string {
	var ids []string
	for id := range after {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	decode := func(js string) bson.D {
		var d bson.D
		if err := bson.UnmarshalExtJSON([]byte(js), false, &d); err != nil {
			r.t.Fatal(err)
		}
		return d
	}
	out := []string{}
	for _, id := range ids {
		ad := decode(after[id])
		dec := r.decide(ad).read
		if !dec.Allowed {
			continue
		}
		v := niRedact(ad, dec.Fields.Read, "")
		var was *evaluator.Decision
		if js, ok := before[id]; ok {
			bdec := r.decide(decode(js)).read
			if bdec.Role != dec.Role || strings.Join(bdec.Fields.Read, ",") != strings.Join(dec.Fields.Read, ",") {
				was = &bdec
			}
		}
		var gone []string
		niLeaves(v, "", func(p string, _ any) {
			if r.projHides(p) || (was != nil && r.hidden(*was, p)) {
				gone = append(gone, p)
			}
		})
		for _, p := range gone {
			v = niUnset(v, p)
		}
		out = append(out, id+" "+niJSON(v))
	}
	return out
}

// snapshot reads every stored document, without rules, by _id.
func (r *niRun) snapshot(ctx context.Context, c *mongo.Collection) map[string]string {
	cur, err := c.Find(ctx, bson.D{})
	if err != nil {
		r.t.Fatal(err)
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		r.t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range docs {
		m[niJSON(bson.D{{Key: "_id", Value: d.Lookup("_id")}})] = niJSON(d)
	}
	return m
}

func (r *niRun) observe(ctx context.Context, gc *gate.Collection, raw *mongo.Collection, op niOp) niObs {
	var o niObs
	write := false
	var before map[string]string
	for _, w := range niWrites {
		if w == op.method {
			write = true
		}
	}
	if write {
		before = r.snapshot(ctx, raw)
	}
	filter := op.filter
	if filter == nil {
		filter = bson.D{}
	}
	switch op.method {
	case "Find":
		fo := options.Find()
		if op.sort != nil {
			fo.SetSort(op.sort)
		}
		if op.skip != 0 {
			fo.SetSkip(op.skip)
		}
		if op.limit != 0 {
			fo.SetLimit(op.limit)
		}
		if op.projection != nil {
			fo.SetProjection(op.projection)
		}
		cur, err := gc.Find(ctx, filter, fo)
		if err == nil {
			for cur.Next(ctx) {
				o.raw = append(o.raw, append(bson.Raw(nil), cur.Current...))
			}
			err = cur.Err()
			_ = cur.Close(ctx)
		}
		o.Err, o.Docs = niErr(err), niRaws(o.raw)
	case "FindOne":
		fo := options.FindOne()
		if op.sort != nil {
			fo.SetSort(op.sort)
		}
		if op.skip != 0 {
			fo.SetSkip(op.skip)
		}
		var d bson.Raw
		err := gc.FindOne(ctx, filter, fo).Decode(&d)
		if err == nil {
			o.raw = []bson.Raw{d}
		}
		o.Err, o.Docs = niErr(err), niRaws(o.raw)
	case "CountDocuments":
		co := options.Count()
		if op.skip != 0 {
			co.SetSkip(op.skip)
		}
		if op.limit != 0 {
			co.SetLimit(op.limit)
		}
		n, err := gc.CountDocuments(ctx, filter, co)
		o.Err, o.N = niErr(err), n
	case "Distinct":
		arr, err := gc.Distinct(ctx, op.field, filter).Raw()
		o.Err = niErr(err)
		if err == nil {
			vals, _ := arr.Values()
			for _, v := range vals {
				o.Docs = append(o.Docs, v.String())
			}
			sort.Strings(o.Docs)
		}
	case "Aggregate":
		cur, err := gc.Aggregate(ctx, op.pipeline)
		if err == nil {
			var docs []bson.Raw
			err = cur.All(ctx, &docs)
			o.Docs = niRaws(docs)
			sort.Strings(o.Docs)
		}
		o.Err = niErr(err)
	case "UpdateOne", "UpdateMany", "ReplaceOne":
		var res *mongo.UpdateResult
		var err error
		switch op.method {
		case "UpdateOne":
			uo := options.UpdateOne()
			if op.sort != nil {
				uo.SetSort(op.sort)
			}
			if op.upsert {
				uo.SetUpsert(true)
			}
			res, err = gc.UpdateOne(ctx, filter, op.update, uo)
		case "UpdateMany":
			um := options.UpdateMany()
			if op.upsert {
				um.SetUpsert(true)
			}
			res, err = gc.UpdateMany(ctx, filter, op.update, um)
		default:
			ro := options.Replace()
			if op.sort != nil {
				ro.SetSort(op.sort)
			}
			res, err = gc.ReplaceOne(ctx, filter, op.replacement, ro)
		}
		o.Err = niErr(err)
		if res != nil {
			o.Result = fmt.Sprintf("matched %d modified %d", res.MatchedCount, res.ModifiedCount)
			if op.upsert {
				o.Result += fmt.Sprintf(" upserted %d %s", res.UpsertedCount, niJSON(bson.D{{Key: "id", Value: res.UpsertedID}}))
			}
		}
	case "DeleteOne", "DeleteMany":
		var res *mongo.DeleteResult
		var err error
		if op.method == "DeleteOne" {
			res, err = gc.DeleteOne(ctx, filter)
		} else {
			res, err = gc.DeleteMany(ctx, filter)
		}
		o.Err = niErr(err)
		if res != nil {
			o.Result = fmt.Sprintf("deleted %d", res.DeletedCount)
		}
	case "FindOneAndUpdate", "FindOneAndReplace", "FindOneAndDelete":
		var sr *mongo.SingleResult
		switch op.method {
		case "FindOneAndUpdate":
			fo := options.FindOneAndUpdate()
			if op.sort != nil {
				fo.SetSort(op.sort)
			}
			if op.upsert {
				fo.SetUpsert(true).SetReturnDocument(options.After)
			}
			sr = gc.FindOneAndUpdate(ctx, filter, op.update, fo)
		case "FindOneAndReplace":
			fo := options.FindOneAndReplace()
			if op.sort != nil {
				fo.SetSort(op.sort)
			}
			if op.upsert {
				fo.SetUpsert(true).SetReturnDocument(options.After)
			}
			sr = gc.FindOneAndReplace(ctx, filter, op.replacement, fo)
		default:
			fo := options.FindOneAndDelete()
			if op.sort != nil {
				fo.SetSort(op.sort)
			}
			sr = gc.FindOneAndDelete(ctx, filter, fo)
		}
		var d bson.Raw
		err := sr.Decode(&d)
		o.Err = niErr(err)
		if err == nil {
			o.Docs = []string{niJSON(d)}
		}
	case "InsertOne":
		res, err := gc.InsertOne(ctx, op.doc)
		o.Err = niErr(err)
		if res != nil {
			o.Result = "inserted " + niJSON(bson.D{{Key: "id", Value: res.InsertedID}})
		}
	default:
		r.t.Fatalf("unknown method %s", op.method)
	}
	if write {
		after := r.snapshot(ctx, raw)
		o.Changed = []string{}
		for id, d := range after {
			if before[id] != d {
				o.Changed = append(o.Changed, id)
			}
		}
		for id := range before {
			if _, ok := after[id]; !ok {
				o.Changed = append(o.Changed, id+" (deleted)")
			}
		}
		sort.Strings(o.Changed)
		o.After = r.view(before, after)
	}
	if !*niStrict {
		r.stripHole1(&o)
	}
	// Errors name the collection; D and D' live in two.
	norm := func(s string) string {
		s = strings.ReplaceAll(s, gc.Namespace(), "<ns>")
		return strings.ReplaceAll(s, "/"+gc.Name()+"/", "/<coll>/")
	}
	o.Err = norm(o.Err)
	for i := range o.After {
		o.After[i] = norm(o.After[i])
	}
	if op.upsert {
		// The _id of an inserted document is a new ObjectID on each side.
		newID := func(s string) string { return niNewID.ReplaceAllString(s, `"<new ObjectID>"`) }
		o.Result = newID(o.Result)
		for _, l := range [][]string{o.Docs, o.Changed, o.After} {
			for i := range l {
				l[i] = newID(l[i])
			}
		}
	}
	return o
}

// niNewID matches an ObjectID in relaxed extended JSON: the generated
// documents have none, so one in an upsert's observation is the inserted
// document's.
var niNewID = regexp.MustCompile(`\{"\$oid":"[0-9a-f]{24}"\}`)

// compare reports a difference between what the caller observes of op on
// D and on D', unless it is a known hole.
func (r *niRun) compare(op niOp, oa, ob niObs) {
	kind, _, _ := strings.Cut(oa.Err, ":")
	method := op.method
	if op.upsert {
		method += "+upsert"
		if strings.Contains(oa.Result, "upserted 1") || strings.Contains(strings.Join(oa.Changed, " "), "<new ObjectID>") {
			kind = "inserted"
		}
	}
	r.stats[method+"/"+kind]++
	sa, sb := oa.String(), ob.String()
	if sa == sb {
		return
	}
	r.report(r.classify(op, oa, ob), fmt.Sprintf("%s observes a hidden value\nop: %s\non D:\n%son D':\n%s", op.method, op, sa, sb))
}

func (r *niRun) report(class, msg string) {
	if class != "" && !*niStrict {
		if _, ok := knownHoles[class]; ok {
			r.known[class] = append(r.known[class], r.seed)
			if testing.Verbose() {
				r.t.Logf("seed %d: known hole %d (%s): %s", r.seed, knownHoles[class], class, strings.SplitN(msg, "\n", 3)[1])
			}
			return
		}
	}
	r.fails++
	if r.fails > 3 {
		return
	}
	r.t.Errorf(niReplay(r.seed)+"seed %d: class %q: %s\n%s", r.seed, class, msg, r.describe())
}

// describe renders the seed's rules, caller and datasets.
func (r *niRun) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rules: {%s}\ncaller: %s\n", r.c.rules, niUsers[r.c.caller])
	for i, d := range r.c.docs {
		dec := r.decide(d)
		fmt.Fprintf(&b, "D[%d]:  %s  (%s %s, read %v)\nD'[%d]: %s\n", i, niJSON(d), dec.read.Reason, dec.read.Role, dec.read.Fields.Read, i, niJSON(r.twin[i]))
	}
	for i := len(r.c.docs); i < len(r.twin); i++ {
		fmt.Fprintf(&b, "D'[%d]: %s  (only in D', invisible)\n", i, niJSON(r.twin[i]))
	}
	return b.String()
}

// checkRedaction: every document Find or FindOne returned is a stored
// document redacted to its Decision.Fields.Read (nothing more), and holds
// nothing an applied filter's projection removes.
func (r *niRun) checkRedaction(ctx context.Context, op niOp, o niObs, stored []bson.D) {
	for _, got := range o.raw {
		gj := niJSON(got)
		found, projLeak := false, false
		for _, s := range stored {
			dec := r.decide(s).read
			if !dec.Allowed {
				continue
			}
			want := niRedact(s, dec.Fields.Read, "")
			if !*niStrict {
				want, _ = r.strip(want)
			}
			if niJSON(want) != gj {
				continue
			}
			found = true
			niLeaves(want, "", func(p string, _ any) {
				if r.projHides(p) {
					projLeak = true
				}
			})
			if !projLeak {
				break
			}
		}
		switch {
		case !found:
			r.report(r.classify(op, o, o), fmt.Sprintf("%s returned a document that is no stored document redacted to Decision.Fields.Read\nop: %s\ngot: %s", op.method, op, gj))
		case projLeak:
			r.report(r.classify(op, o, o), fmt.Sprintf("%s returned a field an applied filter's projection removes\nop: %s\ngot: %s", op.method, op, gj))
		}
	}
}

// niRedact keeps the paths of d that read covers.
func niRedact(d bson.D, read []string, prefix string) bson.D {
	out := bson.D{}
	for _, e := range d {
		p := prefix + e.Key
		keep, deeper := false, false
		for _, f := range read {
			if f == p || strings.HasPrefix(p, f+".") {
				keep = true
			}
			if strings.HasPrefix(f, p+".") {
				deeper = true
			}
		}
		switch sub, isDoc := e.Value.(bson.D); {
		case keep:
			out = append(out, e)
		case deeper && isDoc:
			// An embedded document the redaction empties is left out
			// (pathTrie.redact): an empty shell would tell it exists.
			if r := niRedact(sub, read, p+"."); len(r) > 0 {
				out = append(out, bson.E{Key: e.Key, Value: r})
			}
		}
	}
	return out
}

// classify names the known hole a failure belongs to, "" when none. A
// class is recognised by what the operation uses (a path an embedded
// projection hides) and, for the others, by how the two outcomes differ;
// the first match wins.
func (r *niRun) classify(op niOp, oa, ob niObs) string {
	switch {
	case r.refsHole1(op):
		// The operation reads a path an embedded filter projection
		// hides (the evaluator's Fields.Read does not remove it).
		return "embedded-projection"
	}
	return ""
}

// hole1 reports whether an applied filter's projection on an embedded
// path (issue 11, hole 1) hides path: a dotted projection key under the
// same top-level field.
func (r *niRun) hole1(path string) bool {
	if !r.projHides(path) {
		return false
	}
	top, _, _ := strings.Cut(path, ".")
	for _, f := range r.c.filters {
		if !f.applies(r.team) {
			continue
		}
		for _, e := range f.proj {
			if k, _, dotted := strings.Cut(e.Key, "."); dotted && k == top {
				return true
			}
		}
	}
	return false
}

// refsHole1 reports whether op reads a path that hole1 hides in some
// document (the path, a parent or a child of it).
func (r *niRun) refsHole1(op niOp) bool {
	var hidden []string
	for i := range r.c.docs {
		for _, d := range []bson.D{r.c.docs[i], r.twin[i]} {
			niLeaves(d, "", func(p string, _ any) {
				if r.hole1(p) {
					hidden = append(hidden, p)
				}
			})
		}
	}
	if len(hidden) == 0 {
		return false
	}
	refs := map[string]bool{}
	niQueryPaths(op.filter, refs)
	for _, e := range op.sort {
		refs[e.Key] = true
	}
	if op.field != "" {
		refs[op.field] = true
	}
	for _, e := range op.projection {
		refs[e.Key] = true
	}
	for _, u := range op.update {
		for _, e := range u.Value.(bson.D) {
			refs[e.Key] = true
			if s, ok := e.Value.(string); ok && u.Key == "$rename" {
				refs[s] = true
			}
		}
	}
	for _, st := range op.pipeline {
		ext := niJSON(st)
		for _, h := range hidden {
			top, _, _ := strings.Cut(h, ".")
			if strings.Contains(ext, `"$`+top) || strings.Contains(ext, `"`+top) {
				return true
			}
		}
	}
	if op.method == "Aggregate" {
		return false
	}
	for q := range refs {
		for _, h := range hidden {
			if q == h || strings.HasPrefix(h, q+".") || strings.HasPrefix(q, h+".") {
				return true
			}
		}
	}
	return false
}

// niQueryPaths collects the field paths a client filter reads.
func niQueryPaths(q bson.D, into map[string]bool) {
	for _, e := range q {
		if strings.HasPrefix(e.Key, "$") {
			if arr, ok := e.Value.(bson.A); ok {
				for _, sub := range arr {
					if d, ok := sub.(bson.D); ok {
						niQueryPaths(d, into)
					}
				}
			}
			continue
		}
		into[e.Key] = true
	}
}
