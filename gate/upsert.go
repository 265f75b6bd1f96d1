package gate

import (
	"context"
	"errors"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// The insert of an upsert that matched nothing. The gate never sends an
// upsert to the server: a server-side upsert matches the stored documents
// itself, hidden ones included, and would update a document the caller
// cannot read or report that one exists. The gate computes the document
// MongoDB would insert, decides it as InsertOne decides a document, and
// inserts it with InsertOne, an operation that cannot touch a stored
// document.

// insertUpserted decides and inserts the document an upsert with the
// client filter and upd inserts when nothing in the caller's scope
// matches it. It returns the document inserted and its _id as the driver
// decodes it. A denial, a schema refusal and a duplicate key (withheld as
// InsertOne withholds it) are those of InsertOne of that document.
func (c *Collection) insertUpserted(ctx context.Context, b *evaluator.Bound, op string, client bson.Raw, upd *update, comment any) (bson.Raw, any, error) {
	doc, err := c.upsertDocument(op, client, upd)
	if err != nil {
		return nil, nil, err
	}
	if doc, err = c.checkInsert(ctx, b, op, doc, ""); err != nil {
		return nil, nil, err
	}
	o := options.InsertOne()
	if comment != nil {
		o.SetComment(comment)
	}
	res, err := c.coll.InsertOne(ctx, doc, o)
	if err != nil {
		return nil, nil, withholdKeys(err)
	}
	return doc, res.InsertedID, nil
}

// upsertDocument returns the document an upsert that matches nothing
// inserts, by MongoDB's rules (the manual's "Upsert with Operator
// Expressions" and "Upsert with Replacement Document"): for an update,
// the equality fields of the filter (see equalityFields), then the update
// applied with $setOnInsert; for a replacement, the replacement with the
// filter's _id when the replacement has none. The _id, when neither gives
// one, is added by checkInsert. It reads no stored document: it depends
// on the caller's filter and update alone.
func (c *Collection) upsertDocument(op string, client bson.Raw, upd *update) (bson.Raw, error) {
	fields, err := equalityFields(client)
	if err != nil {
		return nil, c.refused(op, CodeInvalid, err.Error(), err)
	}
	if upd.info.Replacement {
		var id bson.D
		for _, f := range fields {
			if f.Key == "_id" {
				id = bson.D{f}
			}
		}
		fields = id
	}
	var seed bson.Raw
	if len(fields) > 0 {
		set, err := bson.Marshal(bson.D{{Key: "$set", Value: fields}})
		if err == nil {
			seed, err = mql.ApplyUpdateWith(nil, set, mql.ApplyOptions{Insert: true})
		}
		if err != nil {
			return nil, c.refused(op, CodeInvalid, "the filter's equality fields do not make a document to upsert: "+err.Error(), err)
		}
	}
	opt := upd.options()
	opt.Insert = true
	doc, err := mql.ApplyUpdateWith(seed, upd.raw, opt)
	if err != nil {
		r := c.refused(op, CodeUnsupported, "the document the upsert would insert cannot be computed, so the rules cannot be checked: "+err.Error(), err)
		if !errors.Is(err, mql.ErrUnsupportedUpdate) {
			r.Code = CodeInvalid
		}
		return nil, r
	}
	return doc, nil
}

// equalityFields returns the equality clauses of a validated client
// filter, which MongoDB copies into the document an upsert inserts: a
// field compared with a plain value (not a regular expression, not an
// operator document) or with $eq, at the top level or inside $and. Other
// clauses (comparisons, $in, $or, $nor, $exists, ...) add nothing, as in
// MongoDB. Two clauses on the same path, or on a path and one inside it,
// are refused, as MongoDB refuses them.
func equalityFields(q bson.Raw) ([]bson.E, error) {
	var out []bson.E
	collectEqualities(q, &out)
	for i, a := range out {
		for _, b := range out[:i] {
			if a.Key == b.Key || strings.HasPrefix(a.Key, b.Key+".") || strings.HasPrefix(b.Key, a.Key+".") {
				return nil, errors.New("the upsert's filter matches both " + quote(b.Key) + " and " + quote(a.Key) + ": MongoDB cannot make the document to insert")
			}
		}
	}
	return out, nil
}

func collectEqualities(q bson.Raw, out *[]bson.E) {
	elems, _ := q.Elements()
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		switch {
		case k == "$and":
			vals, _ := v.Array().Values()
			for _, x := range vals {
				if d, ok := x.DocumentOK(); ok {
					collectEqualities(d, out)
				}
			}
		case strings.HasPrefix(k, "$"):
			// $or, $nor, $expr, $comment, ...: no equality MongoDB uses.
		case v.Type == bson.TypeRegex:
			// A pattern, not a value.
		case isOperatorDoc(v):
			if eq, err := v.Document().LookupErr("$eq"); err == nil {
				*out = append(*out, bson.E{Key: k, Value: eq})
			}
		default:
			*out = append(*out, bson.E{Key: k, Value: v})
		}
	}
}

// isOperatorDoc reports whether v is a document of query operators
// ({"$gt": 1}), as opposed to a document value.
func isOperatorDoc(v bson.RawValue) bool {
	d, ok := v.DocumentOK()
	if !ok {
		return false
	}
	elems, err := d.Elements()
	return err == nil && len(elems) > 0 && strings.HasPrefix(elems[0].Key(), "$")
}
