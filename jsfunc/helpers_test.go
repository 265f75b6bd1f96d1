package jsfunc_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// testApp is an app with one data source, mongodb-atlas, and the
// functions of srcs (name -> source), each configured by cfg when it
// names it.
func testApp(srcs map[string]string, cfg ...func(*rules.JSFunction)) *rules.App {
	app := &rules.App{DataSources: []*rules.DataSource{{Name: "mongodb-atlas"}}}
	for name, src := range srcs {
		f := &rules.JSFunction{Name: name, File: "functions/" + name + ".js", Source: src, SourceFile: "functions/" + name + ".js"}
		for _, c := range cfg {
			c(f)
		}
		app.JSFunctions = append(app.JSFunctions, f)
	}
	return app
}

// load loads app's functions or fails the test.
func load(t testing.TB, app *rules.App, opts ...jsfunc.Option) *jsfunc.Functions {
	t.Helper()
	fs, err := jsfunc.Load(app, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// sliceData is a Data over Go slices: every namespace is a slice of
// documents, matched with mql.Match. It records whom each collection was
// asked for.
type sliceData struct {
	mu   sync.Mutex
	docs map[string][]bson.Raw
	as   []jsfunc.As
}

func newSliceData(docs map[string][]any) *sliceData {
	d := &sliceData{docs: map[string][]bson.Raw{}}
	for ns, ds := range docs {
		for _, x := range ds {
			b, err := bson.Marshal(x)
			if err != nil {
				panic(err)
			}
			d.docs[ns] = append(d.docs[ns], b)
		}
	}
	return d
}

func (d *sliceData) Collection(_ context.Context, as jsfunc.As, service, db, coll string) (jsfunc.Collection, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.as = append(d.as, as)
	if service != "mongodb-atlas" {
		return nil, fmt.Errorf("no service %q", service)
	}
	return &sliceColl{d: d, ns: db + "." + coll}, nil
}

type sliceColl struct {
	d  *sliceData
	ns string
}

func (c *sliceColl) matching(filter bson.Raw) ([]int, error) {
	var out []int
	for i, doc := range c.d.docs[c.ns] {
		ok, err := mql.Match(filter, doc)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, i)
		}
	}
	return out, nil
}

func (c *sliceColl) FindOne(ctx context.Context, filter bson.Raw, o jsfunc.FindOptions) (bson.Raw, error) {
	o.Limit = 1
	ds, err := c.Find(ctx, filter, o)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	return ds[0], nil
}

func (c *sliceColl) Find(_ context.Context, filter bson.Raw, o jsfunc.FindOptions) ([]bson.Raw, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	idx, err := c.matching(filter)
	if err != nil {
		return nil, err
	}
	var out []bson.Raw
	for n, i := range idx {
		if int64(n) < o.Skip {
			continue
		}
		if o.Limit > 0 && int64(len(out)) >= o.Limit {
			break
		}
		out = append(out, c.d.docs[c.ns][i])
	}
	return out, nil
}

func (c *sliceColl) Count(ctx context.Context, filter bson.Raw, o jsfunc.CountOptions) (int64, error) {
	ds, err := c.Find(ctx, filter, jsfunc.FindOptions{Limit: o.Limit, Skip: o.Skip})
	return int64(len(ds)), err
}

func (c *sliceColl) Distinct(ctx context.Context, field string, filter bson.Raw) ([]bson.RawValue, error) {
	ds, err := c.Find(ctx, filter, jsfunc.FindOptions{})
	if err != nil {
		return nil, err
	}
	var out []bson.RawValue
	seen := map[string]bool{}
	for _, d := range ds {
		v, err := d.LookupErr(field)
		if err != nil {
			continue
		}
		k := value.FromRaw(v).ExtJSON()
		if !seen[k] {
			seen[k] = true
			out = append(out, v)
		}
	}
	return out, nil
}

func (c *sliceColl) Aggregate(ctx context.Context, pipeline []bson.Raw) ([]bson.Raw, error) {
	// Only {$match} stages: enough for the tests.
	ds, err := c.Find(ctx, bson.Raw(emptyDoc()), jsfunc.FindOptions{})
	if err != nil {
		return nil, err
	}
	for _, st := range pipeline {
		m, err := st.LookupErr("$match")
		if err != nil {
			return nil, fmt.Errorf("sliceColl: only $match stages")
		}
		var kept []bson.Raw
		for _, d := range ds {
			if ok, _ := mql.Match(m.Document(), d); ok {
				kept = append(kept, d)
			}
		}
		ds = kept
	}
	return ds, nil
}

func emptyDoc() []byte { b, _ := bson.Marshal(bson.D{}); return b }

func (c *sliceColl) InsertOne(_ context.Context, doc bson.Raw) (bson.RawValue, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	id, err := doc.LookupErr("_id")
	if err != nil {
		oid := bson.NewObjectID()
		id = bson.RawValue{Type: bson.TypeObjectID, Value: oid[:]}
		var d bson.D
		if err := bson.Unmarshal(doc, &d); err != nil {
			return bson.RawValue{}, err
		}
		d = append(bson.D{{Key: "_id", Value: oid}}, d...)
		doc, _ = bson.Marshal(d)
	}
	c.d.docs[c.ns] = append(c.d.docs[c.ns], doc)
	return id, nil
}

func (c *sliceColl) InsertMany(ctx context.Context, docs []bson.Raw) ([]bson.RawValue, error) {
	var ids []bson.RawValue
	for _, d := range docs {
		id, err := c.InsertOne(ctx, d)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// set applies the $set of update to the document at i.
func (c *sliceColl) set(i int, update bson.Raw) error {
	sets, err := update.LookupErr("$set")
	if err != nil {
		return fmt.Errorf("sliceColl: only $set updates")
	}
	var d bson.D
	if err := bson.Unmarshal(c.d.docs[c.ns][i], &d); err != nil {
		return err
	}
	elems, _ := sets.Document().Elements()
	for _, e := range elems {
		found := false
		for j := range d {
			if d[j].Key == e.Key() {
				d[j].Value, found = e.Value(), true
			}
		}
		if !found {
			d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
		}
	}
	b, err := bson.Marshal(d)
	c.d.docs[c.ns][i] = b
	return err
}

func (c *sliceColl) update(filter, update bson.Raw, many bool) (jsfunc.UpdateResult, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	idx, err := c.matching(filter)
	if err != nil {
		return jsfunc.UpdateResult{}, err
	}
	var r jsfunc.UpdateResult
	for _, i := range idx {
		if err := c.set(i, update); err != nil {
			return r, err
		}
		r.MatchedCount++
		r.ModifiedCount++
		if !many {
			break
		}
	}
	return r, nil
}

func (c *sliceColl) UpdateOne(_ context.Context, filter, update bson.Raw, _ jsfunc.UpdateOptions) (jsfunc.UpdateResult, error) {
	return c.update(filter, update, false)
}

func (c *sliceColl) UpdateMany(_ context.Context, filter, update bson.Raw, _ jsfunc.UpdateOptions) (jsfunc.UpdateResult, error) {
	return c.update(filter, update, true)
}

func (c *sliceColl) del(filter bson.Raw, many bool) (int64, error) {
	c.d.mu.Lock()
	defer c.d.mu.Unlock()
	idx, err := c.matching(filter)
	if err != nil {
		return 0, err
	}
	if !many && len(idx) > 1 {
		idx = idx[:1]
	}
	for k := len(idx) - 1; k >= 0; k-- {
		i := idx[k]
		c.d.docs[c.ns] = append(c.d.docs[c.ns][:i], c.d.docs[c.ns][i+1:]...)
	}
	return int64(len(idx)), nil
}

func (c *sliceColl) DeleteOne(_ context.Context, filter bson.Raw) (int64, error) {
	return c.del(filter, false)
}

func (c *sliceColl) DeleteMany(_ context.Context, filter bson.Raw) (int64, error) {
	return c.del(filter, true)
}

func (c *sliceColl) FindOneAndUpdate(ctx context.Context, filter, update bson.Raw, o jsfunc.FindOneAndOptions) (bson.Raw, error) {
	prev, err := c.FindOne(ctx, filter, jsfunc.FindOptions{})
	if err != nil || prev == nil {
		return nil, err
	}
	if _, err := c.update(filter, update, false); err != nil {
		return nil, err
	}
	if o.ReturnNewDocument {
		return c.FindOne(ctx, filter, jsfunc.FindOptions{})
	}
	return prev, nil
}

func (c *sliceColl) FindOneAndReplace(context.Context, bson.Raw, bson.Raw, jsfunc.FindOneAndOptions) (bson.Raw, error) {
	return nil, fmt.Errorf("sliceColl: no replace")
}

func (c *sliceColl) FindOneAndDelete(ctx context.Context, filter bson.Raw, _ jsfunc.FindOneAndOptions) (bson.Raw, error) {
	prev, err := c.FindOne(ctx, filter, jsfunc.FindOptions{})
	if err != nil || prev == nil {
		return nil, err
	}
	_, err = c.del(filter, false)
	return prev, err
}
