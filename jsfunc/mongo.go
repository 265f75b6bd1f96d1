package jsfunc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
)

// ErrNoDataSource is wrapped by the error of Data.Collection for a service
// name that is not one of the app's MongoDB data sources
// (rules.App.DataSources): context.services.get("<name>") of an HTTP,
// AWS or other service, or a mistyped name.
var ErrNoDataSource = errors.New("jsfunc: no MongoDB data source of that name")

// MongoData is the Data of functions that run against g's deployment. A
// function that runs as system (As.System) gets the driver's own
// collection, g.System().Database(db).Collection(coll): no rule applies,
// and the gate's database mapping does. Otherwise the collection is
// gated for As (g.ForInputs): every method is the gate's, decided by the
// caller's rules, and a denial is the gate's *gate.DeniedError. The service
// must be one of app's data sources (ErrNoDataSource otherwise).
//
// Only As.System bypasses the rules: an As with the zero User and System
// false is a caller with no claims, on whom the rules fail closed, never
// the system user. A call that runs as system for having no user (an
// authentication trigger's) says so with System, where the call is made.
func MongoData(g *gate.Gate, app *rules.App) Data {
	return &mongoData{g: g, services: dataSources(app)}
}

type mongoData struct {
	g        *gate.Gate
	services []string
}

// dataSources returns the names of app's MongoDB data sources.
func dataSources(app *rules.App) []string {
	var out []string
	for _, ds := range app.DataSources {
		out = append(out, ds.Name)
	}
	return out
}

// checkService reports a service that is not one of services.
func checkService(services []string, service string) error {
	for _, s := range services {
		if s == service {
			return nil
		}
	}
	have := "the app has none"
	if len(services) > 0 {
		have = "the app's are " + strings.Join(services, ", ")
	}
	return fmt.Errorf("%w: %q (%s)", ErrNoDataSource, service, have)
}

// asInputs returns the request-phase inputs of as: As.User wins over
// As.Inputs.User, a zero User included (it is whom the function runs as).
func asInputs(as As) expansion.Inputs {
	var in expansion.Inputs
	if as.Inputs != nil {
		in = *as.Inputs
	}
	in.User = as.User
	return in
}

func (d *mongoData) Collection(_ context.Context, as As, service, db, coll string) (Collection, error) {
	if err := checkService(d.services, service); err != nil {
		return nil, err
	}
	if as.System {
		return &mongoCollection[*mongo.Cursor, *mongo.DistinctResult]{c: d.g.System().Database(db).Collection(coll)}, nil
	}
	s, err := d.g.ForInputs(asInputs(as))
	if err != nil {
		return nil, err
	}
	return &mongoCollection[*gate.Cursor, *gate.DistinctResult]{c: s.Database(db).Collection(coll)}, nil
}

// driverCollection is what the gated *gate.Collection and the driver's
// *mongo.Collection have in common (the gate keeps the driver's method
// names and result types, but for its own Cursor and DistinctResult): the
// one mapping of the Collection methods onto either.
type driverCollection[Cur allCursor, Dist rawArray] interface {
	Find(ctx context.Context, filter any, opts ...options.Lister[options.FindOptions]) (Cur, error)
	FindOne(ctx context.Context, filter any, opts ...options.Lister[options.FindOneOptions]) *mongo.SingleResult
	CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error)
	Distinct(ctx context.Context, fieldName string, filter any, opts ...options.Lister[options.DistinctOptions]) Dist
	Aggregate(ctx context.Context, pipeline any, opts ...options.Lister[options.AggregateOptions]) (*mongo.Cursor, error)
	InsertOne(ctx context.Context, document any, opts ...options.Lister[options.InsertOneOptions]) (*mongo.InsertOneResult, error)
	InsertMany(ctx context.Context, documents any, opts ...options.Lister[options.InsertManyOptions]) (*mongo.InsertManyResult, error)
	UpdateOne(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateOneOptions]) (*mongo.UpdateResult, error)
	UpdateMany(ctx context.Context, filter, update any, opts ...options.Lister[options.UpdateManyOptions]) (*mongo.UpdateResult, error)
	ReplaceOne(ctx context.Context, filter, replacement any, opts ...options.Lister[options.ReplaceOptions]) (*mongo.UpdateResult, error)
	DeleteOne(ctx context.Context, filter any, opts ...options.Lister[options.DeleteOneOptions]) (*mongo.DeleteResult, error)
	DeleteMany(ctx context.Context, filter any, opts ...options.Lister[options.DeleteManyOptions]) (*mongo.DeleteResult, error)
	FindOneAndDelete(ctx context.Context, filter any, opts ...options.Lister[options.FindOneAndDeleteOptions]) *mongo.SingleResult
	FindOneAndReplace(ctx context.Context, filter, replacement any, opts ...options.Lister[options.FindOneAndReplaceOptions]) *mongo.SingleResult
	FindOneAndUpdate(ctx context.Context, filter, update any, opts ...options.Lister[options.FindOneAndUpdateOptions]) *mongo.SingleResult
}

type allCursor interface {
	All(ctx context.Context, results any) error
}

type rawArray interface {
	Raw() (bson.RawArray, error)
}

// mongoCollection is a Collection over a gated or a driver collection.
type mongoCollection[Cur allCursor, Dist rawArray] struct {
	c driverCollection[Cur, Dist]
}

// orEmpty is filter, or {} for none.
func orEmpty(filter bson.Raw) bson.Raw {
	if filter == nil {
		return bson.Raw(emptyDocument)
	}
	return filter
}

var emptyDocument = []byte{5, 0, 0, 0, 0}

func (m *mongoCollection[Cur, Dist]) FindOne(ctx context.Context, filter bson.Raw, o FindOptions) (bson.Raw, error) {
	fo := options.FindOne()
	if o.Projection != nil {
		fo.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		fo.SetSort(o.Sort)
	}
	if o.Skip > 0 {
		fo.SetSkip(o.Skip)
	}
	return single(m.c.FindOne(ctx, orEmpty(filter), fo))
}

func (m *mongoCollection[Cur, Dist]) Find(ctx context.Context, filter bson.Raw, o FindOptions) ([]bson.Raw, error) {
	fo := options.Find()
	if o.Projection != nil {
		fo.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		fo.SetSort(o.Sort)
	}
	if o.Limit > 0 {
		fo.SetLimit(o.Limit)
	}
	if o.Skip > 0 {
		fo.SetSkip(o.Skip)
	}
	cur, err := m.c.Find(ctx, orEmpty(filter), fo)
	if err != nil {
		return nil, err
	}
	docs := []bson.Raw{}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

func (m *mongoCollection[Cur, Dist]) Count(ctx context.Context, filter bson.Raw, o CountOptions) (int64, error) {
	co := options.Count()
	if o.Limit > 0 {
		co.SetLimit(o.Limit)
	}
	if o.Skip > 0 {
		co.SetSkip(o.Skip)
	}
	return m.c.CountDocuments(ctx, orEmpty(filter), co)
}

func (m *mongoCollection[Cur, Dist]) Distinct(ctx context.Context, field string, filter bson.Raw) ([]bson.RawValue, error) {
	arr, err := m.c.Distinct(ctx, field, orEmpty(filter)).Raw()
	if err != nil {
		return nil, err
	}
	return arr.Values()
}

func (m *mongoCollection[Cur, Dist]) Aggregate(ctx context.Context, pipeline []bson.Raw) ([]bson.Raw, error) {
	pipe := make(bson.A, len(pipeline))
	for i, st := range pipeline {
		pipe[i] = st
	}
	cur, err := m.c.Aggregate(ctx, pipe)
	if err != nil {
		return nil, err
	}
	docs := []bson.Raw{}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

func (m *mongoCollection[Cur, Dist]) InsertOne(ctx context.Context, doc bson.Raw) (bson.RawValue, error) {
	res, err := m.c.InsertOne(ctx, doc)
	if err != nil {
		return bson.RawValue{}, err
	}
	return rawValue(res.InsertedID)
}

func (m *mongoCollection[Cur, Dist]) InsertMany(ctx context.Context, docs []bson.Raw) ([]bson.RawValue, error) {
	if len(docs) == 0 {
		return nil, errors.New("insertMany: no documents to insert")
	}
	in := make([]any, len(docs))
	for i, d := range docs {
		in[i] = d
	}
	res, err := m.c.InsertMany(ctx, in)
	if err != nil {
		return nil, err
	}
	out := make([]bson.RawValue, len(res.InsertedIDs))
	for i, id := range res.InsertedIDs {
		if out[i], err = rawValue(id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// errReplacementMany is the error of UpdateMany with a document without
// update operators, which MongoDB refuses too.
var errReplacementMany = errors.New("updateMany: the update must use update operators ($set, $inc, ...)")

func (m *mongoCollection[Cur, Dist]) UpdateOne(ctx context.Context, filter, update bson.Raw, o UpdateOptions) (UpdateResult, error) {
	var res *mongo.UpdateResult
	var err error
	if mql.IsReplacement(update) {
		// An update without operators replaces the document, as
		// updateOne of the client API does (package server).
		if len(o.ArrayFilters) > 0 {
			return UpdateResult{}, errors.New("updateOne: arrayFilters need an update with operators")
		}
		res, err = m.c.ReplaceOne(ctx, orEmpty(filter), update, options.Replace().SetUpsert(o.Upsert))
	} else {
		uo := options.UpdateOne().SetUpsert(o.Upsert)
		if len(o.ArrayFilters) > 0 {
			uo.SetArrayFilters(anys(o.ArrayFilters))
		}
		res, err = m.c.UpdateOne(ctx, orEmpty(filter), update, uo)
	}
	return updateResult(res, err)
}

func (m *mongoCollection[Cur, Dist]) UpdateMany(ctx context.Context, filter, update bson.Raw, o UpdateOptions) (UpdateResult, error) {
	if mql.IsReplacement(update) {
		return UpdateResult{}, errReplacementMany
	}
	uo := options.UpdateMany().SetUpsert(o.Upsert)
	if len(o.ArrayFilters) > 0 {
		uo.SetArrayFilters(anys(o.ArrayFilters))
	}
	return updateResult(m.c.UpdateMany(ctx, orEmpty(filter), update, uo))
}

func (m *mongoCollection[Cur, Dist]) DeleteOne(ctx context.Context, filter bson.Raw) (int64, error) {
	res, err := m.c.DeleteOne(ctx, orEmpty(filter))
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

func (m *mongoCollection[Cur, Dist]) DeleteMany(ctx context.Context, filter bson.Raw) (int64, error) {
	res, err := m.c.DeleteMany(ctx, orEmpty(filter))
	if err != nil {
		return 0, err
	}
	return res.DeletedCount, nil
}

func returnDocument(o FindOneAndOptions) options.ReturnDocument {
	if o.ReturnNewDocument {
		return options.After
	}
	return options.Before
}

func (m *mongoCollection[Cur, Dist]) FindOneAndUpdate(ctx context.Context, filter, update bson.Raw, o FindOneAndOptions) (bson.Raw, error) {
	if mql.IsReplacement(update) {
		// As updateOne: no operators is a replacement.
		return m.FindOneAndReplace(ctx, filter, update, o)
	}
	fo := options.FindOneAndUpdate().SetReturnDocument(returnDocument(o)).SetUpsert(o.Upsert)
	if o.Projection != nil {
		fo.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		fo.SetSort(o.Sort)
	}
	return single(m.c.FindOneAndUpdate(ctx, orEmpty(filter), update, fo))
}

func (m *mongoCollection[Cur, Dist]) FindOneAndReplace(ctx context.Context, filter, replacement bson.Raw, o FindOneAndOptions) (bson.Raw, error) {
	fo := options.FindOneAndReplace().SetReturnDocument(returnDocument(o)).SetUpsert(o.Upsert)
	if o.Projection != nil {
		fo.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		fo.SetSort(o.Sort)
	}
	return single(m.c.FindOneAndReplace(ctx, orEmpty(filter), replacement, fo))
}

func (m *mongoCollection[Cur, Dist]) FindOneAndDelete(ctx context.Context, filter bson.Raw, o FindOneAndOptions) (bson.Raw, error) {
	fo := options.FindOneAndDelete()
	if o.Projection != nil {
		fo.SetProjection(o.Projection)
	}
	if o.Sort != nil {
		fo.SetSort(o.Sort)
	}
	return single(m.c.FindOneAndDelete(ctx, orEmpty(filter), fo))
}

// single is the document of sr, or nil when none matched.
func single(sr *mongo.SingleResult) (bson.Raw, error) {
	raw, err := sr.Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return raw, nil
}

func updateResult(res *mongo.UpdateResult, err error) (UpdateResult, error) {
	if err != nil {
		return UpdateResult{}, err
	}
	out := UpdateResult{MatchedCount: res.MatchedCount, ModifiedCount: res.ModifiedCount}
	if res.UpsertedID != nil {
		if out.UpsertedID, err = rawValue(res.UpsertedID); err != nil {
			return UpdateResult{}, err
		}
	}
	return out, nil
}

// rawValue marshals an _id the driver returns.
func rawValue(v any) (bson.RawValue, error) {
	if rv, ok := v.(bson.RawValue); ok {
		return rv, nil
	}
	t, data, err := bson.MarshalValue(v)
	if err != nil {
		return bson.RawValue{}, err
	}
	return bson.RawValue{Type: t, Value: data}, nil
}

func anys(docs []bson.Raw) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return out
}
