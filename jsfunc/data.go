package jsfunc

import (
	"context"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/expansion"
)

// Data gives functions their collections: what
// context.services.get(service).db(db).collection(coll) returns inside a
// function. As says whom the function runs as: a function that runs as the
// application user gets collections on which the caller's rules apply; a
// function with run_as_system (or a call with no user) gets collections no
// rule applies to.
type Data interface {
	Collection(ctx context.Context, as As, service, db, coll string) (Collection, error)
}

// As is whom a function runs as.
type As struct {
	// User is the application user (context.user); the zero User is no
	// user.
	User expansion.User
	// Inputs are the request-phase inputs of the call (%%request,
	// %%values, %%environment), where there are any; User above wins over
	// Inputs.User.
	Inputs *expansion.Inputs
	// System is true for a function that runs as the system user: no rule
	// applies to its collections.
	System bool
}

// Collection is one MongoDB collection as a function uses it, in BSON. A
// method that finds nothing returns a nil document and no error. The
// JavaScript methods of context.services…collection(…) (findOne, find,
// count, insertOne, …) are built on it; results are shaped for
// JavaScript by the caller of these methods, not here.
type Collection interface {
	FindOne(ctx context.Context, filter bson.Raw, o FindOptions) (bson.Raw, error)
	Find(ctx context.Context, filter bson.Raw, o FindOptions) ([]bson.Raw, error)
	Count(ctx context.Context, filter bson.Raw, o CountOptions) (int64, error)
	Distinct(ctx context.Context, field string, filter bson.Raw) ([]bson.RawValue, error)
	Aggregate(ctx context.Context, pipeline []bson.Raw) ([]bson.Raw, error)
	InsertOne(ctx context.Context, doc bson.Raw) (bson.RawValue, error)
	InsertMany(ctx context.Context, docs []bson.Raw) ([]bson.RawValue, error)
	UpdateOne(ctx context.Context, filter, update bson.Raw, o UpdateOptions) (UpdateResult, error)
	UpdateMany(ctx context.Context, filter, update bson.Raw, o UpdateOptions) (UpdateResult, error)
	DeleteOne(ctx context.Context, filter bson.Raw) (int64, error)
	DeleteMany(ctx context.Context, filter bson.Raw) (int64, error)
	FindOneAndUpdate(ctx context.Context, filter, update bson.Raw, o FindOneAndOptions) (bson.Raw, error)
	FindOneAndReplace(ctx context.Context, filter, replacement bson.Raw, o FindOneAndOptions) (bson.Raw, error)
	FindOneAndDelete(ctx context.Context, filter bson.Raw, o FindOneAndOptions) (bson.Raw, error)
}

// FindOptions are the options of FindOne and Find. A nil document is
// absent; Limit and Skip 0 are none.
type FindOptions struct {
	Projection bson.Raw
	Sort       bson.Raw
	Limit      int64
	Skip       int64
}

// CountOptions are the options of Count.
type CountOptions struct {
	Limit int64
	Skip  int64
}

// UpdateOptions are the options of UpdateOne and UpdateMany.
type UpdateOptions struct {
	Upsert       bool
	ArrayFilters []bson.Raw
}

// FindOneAndOptions are the options of the FindOneAnd methods.
type FindOneAndOptions struct {
	Projection        bson.Raw
	Sort              bson.Raw
	Upsert            bool
	ReturnNewDocument bool
}

// UpdateResult is the outcome of UpdateOne and UpdateMany. UpsertedID is
// the zero RawValue when nothing was inserted.
type UpdateResult struct {
	MatchedCount  int64
	ModifiedCount int64
	UpsertedID    bson.RawValue
}
