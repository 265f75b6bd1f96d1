package gate

import (
	"context"
	"fmt"
	"strings"

	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BulkWriteException is the error of a gated BulkWrite in which some
// models failed. It mirrors mongo.BulkWriteException, whose write errors
// can only hold server errors, while a model of a gated BulkWrite also
// fails with a *DeniedError or a *RefusedError. errors.Is and errors.As
// see every model's error (errors.Is(err, ErrDenied),
// mongo.IsDuplicateKeyError(err)).
type BulkWriteException struct {
	// Namespace is "<database>.<collection>".
	Namespace string
	// WriteErrors are the failed models, in the order of their index.
	// An ordered BulkWrite stops at the first: it has one.
	WriteErrors []BulkWriteError
}

// BulkWriteError is the failure of one model of a BulkWrite.
type BulkWriteError struct {
	// Index is the model's index in the models given to BulkWrite.
	Index int
	// Model is the model that failed.
	Model mongo.WriteModel
	// Err is the error of the model's method (InsertOne, UpdateOne,
	// ...): a *DeniedError, a *RefusedError or the driver's error.
	Err error
}

// Error renders "model <index>: <error>".
func (e BulkWriteError) Error() string { return fmt.Sprintf("model %d: %v", e.Index, e.Err) }

// Unwrap returns the model's error.
func (e BulkWriteError) Unwrap() error { return e.Err }

// Error renders "gate: <ns>: BulkWrite: model <i>: <error>; model <j>: ...".
func (e *BulkWriteException) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "gate: %s: BulkWrite: ", e.Namespace)
	for i, we := range e.WriteErrors {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(we.Error())
	}
	return b.String()
}

// Unwrap returns the models' errors, for errors.Is and errors.As.
func (e *BulkWriteException) Unwrap() []error {
	out := make([]error, len(e.WriteErrors))
	for i, we := range e.WriteErrors {
		out[i] = we.Err
	}
	return out
}

// BulkWrite runs each model as its own gated method, in order: an
// InsertOneModel as InsertOne, an UpdateOneModel as UpdateOne, an
// UpdateManyModel as UpdateMany, a ReplaceOneModel as ReplaceOne, a
// DeleteOneModel as DeleteOne and a DeleteManyModel as DeleteMany, with
// the model's fields as that method's options (upsert, arrayFilters,
// sort; collation and hint as the method takes them) and the call's
// comment. Each model is checked against the rules, and answers, exactly
// as its method would: a model whose filter matches only documents the
// caller cannot read counts zero, an upsert inserts as the method's
// upsert does.
//
// Ordered (the default, as the driver's): the call stops at the first
// model that fails. Unordered (options.BulkWrite().SetOrdered(false)):
// every model runs, and each failure is reported; a ctx that is canceled
// or past its deadline stops the call at the model it fails. Models that
// fail are returned in a *BulkWriteException, with the result of the
// models that ran (UpsertedIDs keyed by the model's index), a failed
// model's documents written before it failed included (an UpdateMany
// stopped at its second document counts the first).
//
// Nothing is atomic beyond what each method is: the models are separate
// gated writes, and the models before a failed one stay written. Run
// BulkWrite inside a transaction (mongo.Session.WithTransaction, on a
// server that has them) for all or nothing. No models, or a nil model,
// are refused with CodeInvalid before any model runs, as the driver
// refuses them; bypassDocumentValidation, let and the driver's internal
// options are refused with CodeUnsupported.
func (c *Collection) BulkWrite(ctx context.Context, models []mongo.WriteModel, opts ...options.Lister[options.BulkWriteOptions]) (*mongo.BulkWriteResult, error) {
	const op = "BulkWrite"
	bo := &options.BulkWriteOptions{}
	if err := apply(bo, opts); err != nil {
		return nil, err
	}
	if r := c.checkOptions(op, serverOptions{bypass: bo.BypassDocumentValidation,
		internal: bo.Internal != (options.BulkWriteOptions{}).Internal, let: bo.Let}); r != nil {
		return nil, r
	}
	if len(models) == 0 {
		return nil, c.refused(op, CodeInvalid, "no models to write", mongo.ErrEmptySlice)
	}
	runs := make([]func(context.Context, *mongo.BulkWriteResult) error, len(models))
	for i, m := range models {
		if runs[i] = c.modelRun(m, bo.Comment, int64(i)); runs[i] == nil {
			r := c.refused(op, CodeInvalid, fmt.Sprintf("not a write model of the driver: %T", m), nil)
			if isNilModel(m) {
				r.Msg, r.Err = "nil model", mongo.ErrNilDocument
			}
			r.Ptr = source.Pointer("").Index(i)
			return nil, r
		}
	}
	ordered := bo.Ordered == nil || *bo.Ordered
	res := &mongo.BulkWriteResult{UpsertedIDs: map[int64]any{}, Acknowledged: true}
	var failed []BulkWriteError
	for i, run := range runs {
		if err := run(ctx, res); err != nil {
			failed = append(failed, BulkWriteError{Index: i, Model: models[i], Err: err})
			if ordered || ctx.Err() != nil {
				break
			}
		}
	}
	if failed != nil {
		return res, &BulkWriteException{Namespace: c.ns, WriteErrors: failed}
	}
	return res, nil
}

// isNilModel reports a nil model, or a nil pointer to one.
func isNilModel(m mongo.WriteModel) bool {
	switch m := m.(type) {
	case *mongo.InsertOneModel:
		return m == nil
	case *mongo.UpdateOneModel:
		return m == nil
	case *mongo.UpdateManyModel:
		return m == nil
	case *mongo.ReplaceOneModel:
		return m == nil
	case *mongo.DeleteOneModel:
		return m == nil
	case *mongo.DeleteManyModel:
		return m == nil
	}
	return m == nil
}

// modelRun returns the run of model i through its gated method, adding
// its result to res; nil for a nil model or a type that is not one of the
// driver's six models (a type embedding one, say).
func (c *Collection) modelRun(model mongo.WriteModel, comment any, i int64) func(context.Context, *mongo.BulkWriteResult) error {
	if isNilModel(model) {
		return nil
	}
	// A method that fails after writing some documents (UpdateMany,
	// DeleteMany) returns what it wrote with its error: counted too.
	updated := func(res *mongo.BulkWriteResult, u *mongo.UpdateResult, err error) error {
		if u == nil {
			return err
		}
		res.MatchedCount += u.MatchedCount
		res.ModifiedCount += u.ModifiedCount
		if u.UpsertedCount > 0 {
			res.UpsertedCount += u.UpsertedCount
			res.UpsertedIDs[i] = u.UpsertedID
		}
		return err
	}
	deleted := func(res *mongo.BulkWriteResult, d *mongo.DeleteResult, err error) error {
		if d == nil {
			return err
		}
		res.DeletedCount += d.DeletedCount
		return err
	}
	switch m := model.(type) {
	case *mongo.InsertOneModel:
		o := options.InsertOne()
		if comment != nil {
			o.SetComment(comment)
		}
		return func(ctx context.Context, res *mongo.BulkWriteResult) error {
			if _, err := c.InsertOne(ctx, m.Document, o); err != nil {
				return err
			}
			res.InsertedCount++
			return nil
		}
	case *mongo.UpdateOneModel:
		o := options.UpdateOne()
		if m.Upsert != nil {
			o.SetUpsert(*m.Upsert)
		}
		if m.ArrayFilters != nil {
			o.SetArrayFilters(m.ArrayFilters)
		}
		if m.Collation != nil {
			o.SetCollation(m.Collation)
		}
		if m.Hint != nil {
			o.SetHint(m.Hint)
		}
		if m.Sort != nil {
			o.SetSort(m.Sort)
		}
		if comment != nil {
			o.SetComment(comment)
		}
		return func(ctx context.Context, res *mongo.BulkWriteResult) error {
			u, err := c.UpdateOne(ctx, m.Filter, m.Update, o)
			return updated(res, u, err)
		}
	case *mongo.UpdateManyModel:
		o := options.UpdateMany()
		if m.Upsert != nil {
			o.SetUpsert(*m.Upsert)
		}
		if m.ArrayFilters != nil {
			o.SetArrayFilters(m.ArrayFilters)
		}
		if m.Collation != nil {
			o.SetCollation(m.Collation)
		}
		if m.Hint != nil {
			o.SetHint(m.Hint)
		}
		if comment != nil {
			o.SetComment(comment)
		}
		return func(ctx context.Context, res *mongo.BulkWriteResult) error {
			u, err := c.UpdateMany(ctx, m.Filter, m.Update, o)
			return updated(res, u, err)
		}
	case *mongo.ReplaceOneModel:
		o := options.Replace()
		if m.Upsert != nil {
			o.SetUpsert(*m.Upsert)
		}
		if m.Collation != nil {
			o.SetCollation(m.Collation)
		}
		if m.Hint != nil {
			o.SetHint(m.Hint)
		}
		if m.Sort != nil {
			o.SetSort(m.Sort)
		}
		if comment != nil {
			o.SetComment(comment)
		}
		return func(ctx context.Context, res *mongo.BulkWriteResult) error {
			u, err := c.ReplaceOne(ctx, m.Filter, m.Replacement, o)
			return updated(res, u, err)
		}
	case *mongo.DeleteOneModel:
		o := options.DeleteOne()
		if m.Collation != nil {
			o.SetCollation(m.Collation)
		}
		if m.Hint != nil {
			o.SetHint(m.Hint)
		}
		if comment != nil {
			o.SetComment(comment)
		}
		return func(ctx context.Context, res *mongo.BulkWriteResult) error {
			d, err := c.DeleteOne(ctx, m.Filter, o)
			return deleted(res, d, err)
		}
	case *mongo.DeleteManyModel:
		o := options.DeleteMany()
		if m.Collation != nil {
			o.SetCollation(m.Collation)
		}
		if m.Hint != nil {
			o.SetHint(m.Hint)
		}
		if comment != nil {
			o.SetComment(comment)
		}
		return func(ctx context.Context, res *mongo.BulkWriteResult) error {
			d, err := c.DeleteMany(ctx, m.Filter, o)
			return deleted(res, d, err)
		}
	}
	return nil
}
