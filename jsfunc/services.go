package jsfunc

// context.services.get(<data source>).db(<db>).collection(<coll>): the
// collection methods of source/functions/mongodb/api.txt, on the
// Collection of the bound Data. Every method but find and aggregate
// returns a promise, settled before the method returns (the database
// call is made synchronously); find and aggregate return a cursor.

import (
	"errors"
	"fmt"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/gate"
)

// service is context.services.get(name).
func (cl *call) service(c goja.FunctionCall) goja.Value {
	name := c.Argument(0).String()
	if !cl.fs.services[name] {
		cl.throw(fmt.Errorf("%w: context.services.get(%q): not a MongoDB data source of the export (data_sources/); rulegate runs no third-party services (HTTP, AWS, Twilio, ...)", ErrUnavailable, name))
	}
	data, err := cl.fs.boundData()
	if err != nil {
		cl.fail(fmt.Errorf("context.services.get(%q): %w", name, err))
	}
	rt := cl.rt
	svc := rt.NewObject()
	_ = cl.setFn(svc, "db", func(c goja.FunctionCall) goja.Value {
		dbName := c.Argument(0).String()
		db := rt.NewObject()
		_ = cl.setFn(db, "collection", func(c goja.FunctionCall) goja.Value {
			collName := c.Argument(0).String()
			coll, err := data.Collection(cl.ctx, cl.as, name, dbName, collName)
			if err != nil {
				cl.fail(fmt.Errorf("collection %s.%s: %w", dbName, collName, err))
			}
			return cl.collection(coll, dbName+"."+collName)
		})
		_ = db.Set("getCollection", db.Get("collection"))
		return db
	})
	return svc
}

// op counts one database operation of the call and checks its context.
func (cl *call) op(what string) {
	cl.ops++
	if cl.ops > maxAsyncOps {
		cl.abort(fmt.Errorf("%w: more than %d database operations in one call", ErrLimit, maxAsyncOps))
	}
	if err := cl.ctx.Err(); err != nil {
		cl.abort(timeoutErr(fmt.Errorf("%s: %w", what, err)))
	}
}

// settle returns a promise of v, or rejected with err: a bound exceeded
// or a deadline ends the call instead.
func (cl *call) settle(what string, v func() goja.Value, err error) goja.Value {
	p, resolve, reject := cl.rt.NewPromise()
	if err != nil {
		err = fmt.Errorf("%s: %w", what, err)
		if cl.uncatchable(err) || cl.ctx.Err() != nil {
			cl.fail(timeoutErr(err))
		}
		msg := err.Error()
		var de *gate.DeniedError
		if errors.As(err, &de) {
			// A denial says only the denial: the evaluation error a
			// denial of a rule that could not be evaluated keeps (which
			// may hold what a rule's system function read) stays the
			// Go error's.
			msg = what + ": " + de.Error()
		}
		_ = reject(cl.jsErrorMsg(err, msg))
	} else {
		_ = resolve(v())
	}
	return cl.rt.ToValue(p)
}

// doc converts an argument to a BSON document; what names it in errors.
func (cl *call) doc(v goja.Value, what string) bson.Raw {
	d, err := cl.br.fromJSDocument(v, what)
	if err != nil {
		cl.fail(err)
	}
	return d
}

// optDoc is the document option name of an options object, nil when
// absent.
func (cl *call) optDoc(opts goja.Value, name, what string) bson.Raw {
	o, ok := opts.(*goja.Object)
	if !ok {
		return nil
	}
	v := o.Get(name)
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return nil
	}
	return cl.doc(v, what+": options."+name)
}

// optBool is the boolean option name of an options object.
func optBool(opts goja.Value, name string) bool {
	o, ok := opts.(*goja.Object)
	if !ok {
		return false
	}
	v := o.Get(name)
	return v != nil && v.ToBoolean()
}

// optInt is the integer option name of an options object, 0 when absent.
func optInt(opts goja.Value, name string) int64 {
	o, ok := opts.(*goja.Object)
	if !ok {
		return 0
	}
	v := o.Get(name)
	if v == nil || goja.IsUndefined(v) {
		return 0
	}
	return v.ToInteger()
}

// docOrNull is a document found, or null.
func (cl *call) docOrNull(d bson.Raw) goja.Value {
	if d == nil {
		return goja.Null()
	}
	return cl.br.rawToJS(bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: d}, 0)
}

// docs is an array of documents.
func (cl *call) docs(ds []bson.Raw) goja.Value {
	items := make([]any, len(ds))
	for i, d := range ds {
		items[i] = cl.docOrNull(d)
	}
	return cl.rt.NewArray(items...)
}

// arrayOf converts a JavaScript array argument element by element.
func (cl *call) arrayOf(v goja.Value, what string) []bson.Raw {
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		cl.throw(fmt.Errorf("%w: %s must be an array", ErrResult, what))
	}
	n := o.Get("length").ToInteger()
	out := make([]bson.Raw, 0, n)
	for i := int64(0); i < n; i++ {
		out = append(out, cl.doc(o.Get(fmt.Sprint(i)), fmt.Sprintf("%s[%d]", what, i)))
	}
	return out
}

// updateResult is {matchedCount, modifiedCount, upsertedId}, upsertedId
// only when the update inserted a document.
func (cl *call) updateResult(r UpdateResult) goja.Value {
	o := cl.rt.NewObject()
	_ = o.Set("matchedCount", r.MatchedCount)
	_ = o.Set("modifiedCount", r.ModifiedCount)
	if r.UpsertedID.Type != 0 {
		_ = o.Set("upsertedId", cl.br.rawToJS(r.UpsertedID, 0))
	}
	return o
}

// collection is the JavaScript object of one collection.
func (cl *call) collection(coll Collection, ns string) goja.Value {
	rt := cl.rt
	ctx := cl.ctx
	o := rt.NewObject()
	method := func(name string, f func(c goja.FunctionCall) goja.Value) { _ = cl.setFn(o, name, f) }
	what := func(m string) string { return ns + "." + m }
	method("findOne", func(c goja.FunctionCall) goja.Value {
		w := what("findOne")
		filter := cl.doc(c.Argument(0), w+": the query")
		opts := FindOptions{Projection: cl.optDoc(c.Argument(2), "projection", w), Sort: cl.optDoc(c.Argument(2), "sort", w)}
		if p := c.Argument(1); !goja.IsUndefined(p) && !goja.IsNull(p) {
			opts.Projection = cl.doc(p, w+": the projection")
		}
		cl.op(w)
		d, err := coll.FindOne(ctx, filter, opts)
		return cl.settle(w, func() goja.Value { return cl.docOrNull(d) }, err)
	})
	method("find", func(c goja.FunctionCall) goja.Value {
		w := what("find")
		filter := cl.doc(c.Argument(0), w+": the query")
		var opts FindOptions
		if p := c.Argument(1); !goja.IsUndefined(p) && !goja.IsNull(p) {
			opts.Projection = cl.doc(p, w+": the projection")
		}
		return cl.cursor(w, true, func(skip, limit int64, sort bson.Raw) ([]bson.Raw, error) {
			o := opts
			o.Skip, o.Limit, o.Sort = skip, limit, sort
			return coll.Find(ctx, filter, o)
		})
	})
	count := func(c goja.FunctionCall) goja.Value {
		w := what("count")
		filter := cl.doc(c.Argument(0), w+": the query")
		opts := CountOptions{Limit: optInt(c.Argument(1), "limit"), Skip: optInt(c.Argument(1), "skip")}
		cl.op(w)
		n, err := coll.Count(ctx, filter, opts)
		return cl.settle(w, func() goja.Value { return rt.ToValue(n) }, err)
	}
	method("count", count)
	method("countDocuments", count)
	method("distinct", func(c goja.FunctionCall) goja.Value {
		w := what("distinct")
		field := c.Argument(0).String()
		filter := cl.doc(c.Argument(1), w+": the query")
		cl.op(w)
		vals, err := coll.Distinct(ctx, field, filter)
		return cl.settle(w, func() goja.Value {
			items := make([]any, len(vals))
			for i, v := range vals {
				items[i] = cl.br.rawToJS(v, 0)
			}
			return rt.NewArray(items...)
		}, err)
	})
	method("aggregate", func(c goja.FunctionCall) goja.Value {
		w := what("aggregate")
		pipeline := cl.arrayOf(c.Argument(0), w+": the pipeline")
		return cl.cursor(w, false, func(skip, _ int64, _ bson.Raw) ([]bson.Raw, error) {
			p := pipeline
			if skip > 0 {
				p = append(append([]bson.Raw(nil), pipeline...), bson.Raw(mustMarshal(bson.D{{Key: "$skip", Value: skip}})))
			}
			return coll.Aggregate(ctx, p)
		})
	})
	method("insertOne", func(c goja.FunctionCall) goja.Value {
		w := what("insertOne")
		d := cl.doc(c.Argument(0), w+": the document")
		cl.op(w)
		id, err := coll.InsertOne(ctx, d)
		return cl.settle(w, func() goja.Value {
			r := rt.NewObject()
			_ = r.Set("insertedId", cl.br.rawToJS(id, 0))
			return r
		}, err)
	})
	method("insertMany", func(c goja.FunctionCall) goja.Value {
		w := what("insertMany")
		ds := cl.arrayOf(c.Argument(0), w+": the documents")
		cl.op(w)
		ids, err := coll.InsertMany(ctx, ds)
		return cl.settle(w, func() goja.Value {
			items := make([]any, len(ids))
			for i, id := range ids {
				items[i] = cl.br.rawToJS(id, 0)
			}
			r := rt.NewObject()
			_ = r.Set("insertedIds", rt.NewArray(items...))
			return r
		}, err)
	})
	update := func(name string, f func(filter, update bson.Raw, o UpdateOptions) (UpdateResult, error)) {
		method(name, func(c goja.FunctionCall) goja.Value {
			w := what(name)
			filter := cl.doc(c.Argument(0), w+": the query")
			upd := cl.doc(c.Argument(1), w+": the update")
			opts := UpdateOptions{Upsert: optBool(c.Argument(2), "upsert")}
			if o, ok := c.Argument(2).(*goja.Object); ok {
				if af := o.Get("arrayFilters"); af != nil && !goja.IsUndefined(af) {
					opts.ArrayFilters = cl.arrayOf(af, w+": options.arrayFilters")
				}
			}
			cl.op(w)
			r, err := f(filter, upd, opts)
			return cl.settle(w, func() goja.Value { return cl.updateResult(r) }, err)
		})
	}
	update("updateOne", func(f, u bson.Raw, o UpdateOptions) (UpdateResult, error) { return coll.UpdateOne(ctx, f, u, o) })
	update("updateMany", func(f, u bson.Raw, o UpdateOptions) (UpdateResult, error) { return coll.UpdateMany(ctx, f, u, o) })
	del := func(name string, f func(filter bson.Raw) (int64, error)) {
		method(name, func(c goja.FunctionCall) goja.Value {
			w := what(name)
			filter := cl.doc(c.Argument(0), w+": the query")
			cl.op(w)
			n, err := f(filter)
			return cl.settle(w, func() goja.Value {
				r := rt.NewObject()
				_ = r.Set("deletedCount", n)
				return r
			}, err)
		})
	}
	del("deleteOne", func(f bson.Raw) (int64, error) { return coll.DeleteOne(ctx, f) })
	del("deleteMany", func(f bson.Raw) (int64, error) { return coll.DeleteMany(ctx, f) })
	findOneAnd := func(c goja.FunctionCall, optsAt int, w string) FindOneAndOptions {
		o := c.Argument(optsAt)
		return FindOneAndOptions{
			Projection:        cl.optDoc(o, "projection", w),
			Sort:              cl.optDoc(o, "sort", w),
			Upsert:            optBool(o, "upsert"),
			ReturnNewDocument: optBool(o, "returnNewDocument"),
		}
	}
	method("findOneAndUpdate", func(c goja.FunctionCall) goja.Value {
		w := what("findOneAndUpdate")
		filter := cl.doc(c.Argument(0), w+": the query")
		upd := cl.doc(c.Argument(1), w+": the update")
		opts := findOneAnd(c, 2, w)
		cl.op(w)
		d, err := coll.FindOneAndUpdate(ctx, filter, upd, opts)
		return cl.settle(w, func() goja.Value { return cl.docOrNull(d) }, err)
	})
	method("findOneAndReplace", func(c goja.FunctionCall) goja.Value {
		w := what("findOneAndReplace")
		filter := cl.doc(c.Argument(0), w+": the query")
		repl := cl.doc(c.Argument(1), w+": the replacement")
		opts := findOneAnd(c, 2, w)
		cl.op(w)
		d, err := coll.FindOneAndReplace(ctx, filter, repl, opts)
		return cl.settle(w, func() goja.Value { return cl.docOrNull(d) }, err)
	})
	method("findOneAndDelete", func(c goja.FunctionCall) goja.Value {
		w := what("findOneAndDelete")
		filter := cl.doc(c.Argument(0), w+": the query")
		opts := findOneAnd(c, 1, w)
		cl.op(w)
		d, err := coll.FindOneAndDelete(ctx, filter, opts)
		return cl.settle(w, func() goja.Value { return cl.docOrNull(d) }, err)
	})
	method("bulkWrite", func(c goja.FunctionCall) goja.Value {
		w := what("bulkWrite")
		ops := cl.bulkOps(c.Argument(0), w)
		ordered := true
		if opts, ok := c.Argument(1).(*goja.Object); ok {
			if v := opts.Get("ordered"); v != nil && !goja.IsUndefined(v) {
				ordered = v.ToBoolean()
			}
		}
		var first error
		for _, op := range ops {
			cl.op(w)
			if err := op(coll); err != nil && first == nil {
				first = err
				if ordered {
					break
				}
			}
		}
		return cl.settle(w, func() goja.Value { return goja.Null() }, first)
	})
	method("watch", func(goja.FunctionCall) goja.Value {
		cl.throw(fmt.Errorf("%w: %s: change streams", ErrUnavailable, what("watch")))
		return nil
	})
	return o
}

// bulkOps converts the operations of bulkWrite, each {insertOne:
// {document}}, {updateOne: {filter, update, upsert}}, {updateMany: ...},
// {deleteOne: {filter}}, {deleteMany: {filter}} or {replaceOne: {filter,
// replacement, upsert}}, before any runs.
func (cl *call) bulkOps(v goja.Value, what string) []func(Collection) error {
	ctx := cl.ctx
	o, ok := v.(*goja.Object)
	if !ok || o.ClassName() != "Array" {
		cl.throw(fmt.Errorf("%w: %s: the operations must be an array", ErrResult, what))
	}
	n := o.Get("length").ToInteger()
	ops := make([]func(Collection) error, 0, n)
	for i := int64(0); i < n; i++ {
		at := fmt.Sprintf("%s: operation %d", what, i)
		op, ok := o.Get(fmt.Sprint(i)).(*goja.Object)
		if !ok || len(op.Keys()) != 1 {
			cl.throw(fmt.Errorf("%w: %s must be an object with one operation", ErrResult, at))
		}
		kind := op.Keys()[0]
		spec, ok := op.Get(kind).(*goja.Object)
		if !ok {
			cl.throw(fmt.Errorf("%w: %s: %s must be an object", ErrResult, at, kind))
		}
		get := func(name string) bson.Raw { return cl.doc(spec.Get(name), at+": "+kind+"."+name) }
		upsert := optBool(spec, "upsert")
		switch kind {
		case "insertOne":
			d := get("document")
			ops = append(ops, func(c Collection) error { _, err := c.InsertOne(ctx, d); return err })
		case "updateOne", "updateMany":
			f, u := get("filter"), get("update")
			many := kind == "updateMany"
			ops = append(ops, func(c Collection) error {
				var err error
				if many {
					_, err = c.UpdateMany(ctx, f, u, UpdateOptions{Upsert: upsert})
				} else {
					_, err = c.UpdateOne(ctx, f, u, UpdateOptions{Upsert: upsert})
				}
				return err
			})
		case "deleteOne", "deleteMany":
			f := get("filter")
			many := kind == "deleteMany"
			ops = append(ops, func(c Collection) error {
				var err error
				if many {
					_, err = c.DeleteMany(ctx, f)
				} else {
					_, err = c.DeleteOne(ctx, f)
				}
				return err
			})
		case "replaceOne":
			f, r := get("filter"), get("replacement")
			ops = append(ops, func(c Collection) error {
				_, err := c.FindOneAndReplace(ctx, f, r, FindOneAndOptions{Upsert: upsert})
				return err
			})
		default:
			cl.throw(fmt.Errorf("%w: %s: unknown operation %q", ErrResult, at, kind))
		}
	}
	return ops
}

// cursor is the cursor of find (sort, limit, skip, next, toArray) or
// aggregate (skip, next, toArray): the query runs at the first next or
// toArray, and the options cannot change after.
func (cl *call) cursor(what string, isFind bool, run func(skip, limit int64, sort bson.Raw) ([]bson.Raw, error)) goja.Value {
	rt := cl.rt
	o := rt.NewObject()
	cl.cursors[o] = true
	var (
		skip, limit int64
		sort        bson.Raw
		fetched     bool
		docs        []bson.Raw
		pos         int
		fetchErr    error
	)
	option := func(name string, set func(v goja.Value)) {
		_ = cl.setFn(o, name, func(c goja.FunctionCall) goja.Value {
			if fetched {
				cl.throw(fmt.Errorf("%s: cursor.%s after the cursor was read", what, name))
			}
			set(c.Argument(0))
			return o
		})
	}
	option("skip", func(v goja.Value) { skip = v.ToInteger() })
	if isFind {
		option("limit", func(v goja.Value) { limit = v.ToInteger() })
		option("sort", func(v goja.Value) { sort = cl.doc(v, what+": cursor.sort") })
	}
	fetch := func() {
		if fetched {
			return
		}
		fetched = true
		cl.op(what)
		docs, fetchErr = run(skip, limit, sort)
	}
	_ = cl.setFn(o, "toArray", func(goja.FunctionCall) goja.Value {
		fetch()
		rest := docs
		if pos < len(docs) {
			rest = docs[pos:]
		} else {
			rest = nil
		}
		pos = len(docs)
		return cl.settle(what, func() goja.Value { return cl.docs(rest) }, fetchErr)
	})
	_ = cl.setFn(o, "next", func(goja.FunctionCall) goja.Value {
		fetch()
		return cl.settle(what, func() goja.Value {
			if pos >= len(docs) {
				return goja.Undefined()
			}
			pos++
			return cl.docOrNull(docs[pos-1])
		}, fetchErr)
	})
	return o
}

// mustMarshal marshals a document the package builds itself.
func mustMarshal(d bson.D) []byte {
	b, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}
