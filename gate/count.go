package gate

import (
	"bytes"
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
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return 0, err
	}
	if len(clientRefs(client)) == 0 {
		b, err := c.bind(ctx)
		if err != nil {
			return 0, c.evalErr(op, evaluator.ActionRead, err)
		}
		rf, _, exact, err := readScope(ctx, b)
		if err != nil {
			return 0, c.evalErr(op, evaluator.ActionRead, err)
		}
		if exact {
			o := options.Count()
			if co.Skip != nil {
				o.SetSkip(*co.Skip)
			}
			if co.Limit != nil {
				o.SetLimit(*co.Limit)
			}
			if co.Hint != nil {
				o.SetHint(co.Hint)
			}
			if co.Comment != nil {
				o.SetComment(co.Comment)
			}
			return c.coll.CountDocuments(ctx, combine(client, rf), o)
		}
	}
	fo := &options.FindOptions{Comment: co.Comment, Hint: co.Hint, Skip: co.Skip, Limit: co.Limit}
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
// matching filter that the caller may read (arrays contribute their
// elements, as with the server's distinct). When fieldName is present but
// not readable in such a document, the call is denied with
// ReasonFieldNotReadable: the rules hide that field from the caller. Like
// CountDocuments, the gate computes the values itself from the documents
// Find would return.
func (c *Collection) Distinct(ctx context.Context, fieldName string, filter any, opts ...options.Lister[options.DistinctOptions]) *DistinctResult {
	const op = "Distinct"
	do := &options.DistinctOptions{}
	if err := apply(do, opts); err != nil {
		return &DistinctResult{err: err}
	}
	if do.Collation != nil {
		return &DistinctResult{err: c.noCollation(op)}
	}
	if fieldName == "" || strings.HasPrefix(fieldName, "$") {
		return &DistinctResult{err: c.refused(op, CodeInvalid, "invalid field name "+quote(fieldName), nil)}
	}
	client, err := c.clientFilter(op, filter)
	if err != nil {
		return &DistinctResult{err: err}
	}
	b, err := c.bind(ctx)
	if err != nil {
		return &DistinctResult{err: c.evalErr(op, evaluator.ActionRead, err)}
	}
	rf, _, _, err := readScope(ctx, b)
	if err != nil {
		return &DistinctResult{err: c.evalErr(op, evaluator.ActionRead, err)}
	}
	fo := options.Find()
	if do.Hint != nil {
		fo.SetHint(do.Hint)
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
		raw := cur.Current
		d, err := decide(ctx, b, evaluator.ActionRead, raw, nil, nil)
		if err != nil {
			return &DistinctResult{err: c.evalErr(op, evaluator.ActionRead, err)}
		}
		if !d.Allowed {
			continue
		}
		if ok, err := c.refsOK(ctx, b, op, raw, d.Fields.Read, refList); err != nil {
			return &DistinctResult{err: err}
		} else if !ok {
			continue
		}
		t := newTrie(d.Fields.Read)
		vals := distinctValues(value.FromDocument(raw), path)
		if len(vals) == 0 {
			continue
		}
		if !t.covers(fieldName) {
			// Only what the redacted document shows may be returned;
			// when it shows less than the stored values, the field
			// (or part of it) is hidden from the caller.
			visible := distinctValues(value.FromDocument(mustMarshal(t.keep(raw))), path)
			if !sameValues(visible, vals) {
				return &DistinctResult{err: &DeniedError{Namespace: c.ns, Op: op, Action: evaluator.ActionRead,
					Reason: evaluator.ReasonFieldNotReadable, Role: d.Role, Field: fieldName}}
			}
			vals = visible
		}
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

// distinctValues returns the values at path p in v as the server's
// distinct sees them: arrays on the way are traversed, an array at the end
// contributes its elements.
func distinctValues(v value.Value, p value.Path) []value.Value {
	var out []value.Value
	var walk func(v value.Value, rest value.Path)
	walk = func(v value.Value, rest value.Path) {
		if len(rest) == 0 {
			switch {
			case v.IsMissing():
			case v.IsArray():
				v.Each(func(_ int, e value.Value) bool {
					out = append(out, e)
					return false
				})
			default:
				out = append(out, v)
			}
			return
		}
		switch {
		case v.IsDocument():
			walk(v.Field(rest[0]), rest[1:])
		case v.IsArray():
			v.Each(func(_ int, e value.Value) bool {
				if e.IsDocument() {
					walk(e.Field(rest[0]), rest[1:])
				}
				return false
			})
		}
	}
	walk(v, p)
	return out
}

func mustMarshal(d bson.D) bson.Raw {
	b, err := bson.Marshal(d)
	if err != nil {
		return bson.Raw(emptyDoc)
	}
	return b
}

// sameValues reports whether a and b hold the same values in the same
// order (value.Equal per element, same BSON types).
func sameValues(a, b []value.Value) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Type != b[i].Type || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}
