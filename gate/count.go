package gate

import (
	"context"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// CountDocuments counts the documents matching filter that the caller may
// read: exactly the documents Find would return. With an empty filter the
// server counts the rule filter's documents (the rule filter selects
// exactly the readable documents). Otherwise the gate counts them itself,
// deciding each document like Find, so that a filter on a field the caller
// cannot read in a document leaves that document out instead of revealing
// the field through the count; that costs a scan of the documents the rule
// filter and the client filter admit. Rules no filter can express are
// counted document by document too.
func (c *Collection) CountDocuments(ctx context.Context, filter any, opts ...options.Lister[options.CountOptions]) (int64, error) {
	const op = "CountDocuments"
	co := &options.CountOptions{}
	if err := apply(co, opts); err != nil {
		return 0, err
	}
	if co.Collation != nil {
		return 0, c.noCollation(op)
	}
	if r := c.checkOptions(op, serverOptions{hint: co.Hint, internal: co.Internal != (options.CountOptions{}).Internal}); r != nil {
		return 0, r
	}
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return 0, err
	}
	if len(clientRefs(client)) == 0 {
		b, err := c.bindRead(ctx, op)
		if err != nil {
			return 0, err
		}
		rf, _, exact, err := readScope(ctx, b)
		if err != nil {
			return 0, c.evalErr(ctx, op, evaluator.ActionRead, err)
		}
		if exact {
			o := options.Count()
			if co.Skip != nil {
				o.SetSkip(*co.Skip)
			}
			if co.Limit != nil {
				o.SetLimit(*co.Limit)
			}
			if co.Comment != nil {
				o.SetComment(co.Comment)
			}
			return c.coll.CountDocuments(ctx, combine(client, rf), o)
		}
	}
	fo := &options.FindOptions{Comment: co.Comment, Skip: co.Skip, Limit: co.Limit}
	cur, err := c.openCursor(ctx, op, filter, fo)
	if err != nil {
		return 0, err
	}
	defer cur.Close(ctx)
	var n int64
	for cur.Next(ctx) {
		n++
	}
	return n, cur.Err()
}

// EstimatedDocumentCount returns the server's estimate of the number of
// documents in the collection (the count command, from its metadata)
// only when the caller may read every document of the collection: the
// rule filter (evaluator ReadFilter) is {} and exact, so no document is
// left out, whatever the documents hold (field rules hide fields, never
// documents). For any other caller it is CountDocuments(ctx, {}): the
// documents the caller may read, counted by the server with the rule
// filter, or by the gate when the rules cannot be written as a query.
// An estimate of documents the caller cannot read would tell it how
// many there are. comment is honoured; the driver's internal options
// are refused (CodeUnsupported).
func (c *Collection) EstimatedDocumentCount(ctx context.Context, opts ...options.Lister[options.EstimatedDocumentCountOptions]) (int64, error) {
	const op = "EstimatedDocumentCount"
	eo := &options.EstimatedDocumentCountOptions{}
	if err := apply(eo, opts); err != nil {
		return 0, err
	}
	if r := c.checkOptions(op, serverOptions{internal: eo.Internal != (options.EstimatedDocumentCountOptions{}).Internal}); r != nil {
		return 0, r
	}
	b, err := c.bind(ctx)
	if err != nil {
		return 0, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	rf, _, exact, err := readScope(ctx, b)
	if err != nil {
		return 0, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	if exact && len(rf) == 0 {
		o := options.EstimatedDocumentCount()
		if eo.Comment != nil {
			o.SetComment(eo.Comment)
		}
		return c.coll.EstimatedDocumentCount(ctx, o)
	}
	co := options.Count()
	if eo.Comment != nil {
		co.SetComment(eo.Comment)
	}
	return c.CountDocuments(ctx, bson.D{}, co)
}

// DistinctResult is the result of a gated Distinct. It mirrors
// *mongo.DistinctResult, which the driver gives no way to construct.
type DistinctResult struct {
	arr bson.RawArray
	err error
}

// Err returns the error of the Distinct call, if any.
func (r *DistinctResult) Err() error { return r.err }

// Raw returns the distinct values as a BSON array.
func (r *DistinctResult) Raw() (bson.RawArray, error) { return r.arr, r.err }

// Decode unmarshals the distinct values into v, a pointer to a slice, as
// *mongo.DistinctResult.Decode does.
func (r *DistinctResult) Decode(v any) error {
	if r.err != nil {
		return r.err
	}
	doc, err := bson.Marshal(bson.D{{Key: "arr", Value: bson.RawValue{Type: bson.TypeArray, Value: r.arr}}})
	if err != nil {
		return err
	}
	return bson.Unmarshal(doc, &struct {
		Arr any `bson:"arr"`
	}{Arr: v})
}

// Distinct returns the distinct values of fieldName over the documents
// Find would return for filter, as Find returns them (arrays contribute
// their elements, as with the server's distinct): documents the caller
// may not read, or in which the filter reads a hidden field, are left out,
// and values the caller may not read are left out as Find leaves them out
// (a partly readable embedded document contributes its readable part).
// Neither an error nor an empty result depends on a hidden value. Like
// CountDocuments, the gate computes the values itself.
func (c *Collection) Distinct(ctx context.Context, fieldName string, filter any, opts ...options.Lister[options.DistinctOptions]) *DistinctResult {
	const op = "Distinct"
	do := &options.DistinctOptions{}
	if err := apply(do, opts); err != nil {
		return &DistinctResult{err: err}
	}
	if do.Collation != nil {
		return &DistinctResult{err: c.noCollation(op)}
	}
	if r := c.checkOptions(op, serverOptions{hint: do.Hint, internal: do.Internal != (options.DistinctOptions{}).Internal}); r != nil {
		return &DistinctResult{err: r}
	}
	if fieldName == "" || strings.HasPrefix(fieldName, "$") {
		return &DistinctResult{err: c.refused(op, CodeInvalid, "invalid field name "+quote(fieldName), nil)}
	}
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return &DistinctResult{err: err}
	}
	b, err := c.bindRead(ctx, op)
	if err != nil {
		return &DistinctResult{err: err}
	}
	rf, _, _, err := readScope(ctx, b)
	if err != nil {
		return &DistinctResult{err: c.evalErr(ctx, op, evaluator.ActionRead, err)}
	}
	fo := options.Find()
	if do.Comment != nil {
		fo.SetComment(do.Comment)
	}
	cur, err := c.coll.Find(ctx, combine(client, rf), fo)
	if err != nil {
		return &DistinctResult{err: err}
	}
	defer cur.Close(ctx)
	refs := map[string]bool{}
	queryPaths(client, refs)
	refList := sortedKeys(refs)
	path := value.ParsePath(fieldName)
	seen := map[string]bool{}
	arr := bson.A{}
	var key []byte
	for cur.Next(ctx) {
		// The document as Find returns it: left out when unreadable or
		// when the client filter reads a field hidden in it, redacted
		// otherwise; only its visible values count.
		doc, ok, err := c.readable(ctx, b, op, cur.Current, refList)
		if err != nil {
			return &DistinctResult{err: err}
		}
		if !ok {
			continue
		}
		vals := value.DistinctValues(value.FromDocument(doc), path)
		for _, v := range vals {
			key = value.Key(key[:0], v)
			if seen[string(key)] {
				continue
			}
			seen[string(key)] = true
			arr = append(arr, v.RawValue())
		}
	}
	if err := cur.Err(); err != nil {
		return &DistinctResult{err: err}
	}
	doc, err := bson.Marshal(bson.D{{Key: "a", Value: arr}})
	if err != nil {
		return &DistinctResult{err: err}
	}
	return &DistinctResult{arr: bson.Raw(doc).Lookup("a").Array()}
}
