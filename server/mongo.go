package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/mql"
)

// call is one MongoDB service method with its arguments, as the client API
// (functions/call with a service) and the Data API send them, each under
// its own field names, read into one shape.
type call struct {
	method     string
	database   string
	collection string

	filter       bson.Raw // query / filter
	projection   bson.Raw // project / projection
	sort         bson.Raw
	limit, skip  int64
	hasLimit     bool
	update       bson.Raw // update; the replacement for a replace
	hasUpdate    bool
	document     bson.Raw
	documents    []bson.Raw
	pipeline     []bson.Raw
	upsert       bool
	returnNew    bool
	arrayFilters []any
}

// argSpec names, per method, the client API's argument fields
// (appservices-protocol.md §5; realm-web 2.0.1 and the Node SDK send the
// same): query/project for find, findOne, count, delete* and update*,
// filter/projection for findOneAnd*.
var argSpec = map[string][]string{
	"find":              {"query", "project", "sort", "limit"},
	"findOne":           {"query", "project", "sort"},
	"findOneAndUpdate":  {"filter", "update", "sort", "projection", "upsert", "returnNewDocument"},
	"findOneAndReplace": {"filter", "update", "sort", "projection", "upsert", "returnNewDocument"},
	"findOneAndDelete":  {"filter", "sort", "projection"},
	"aggregate":         {"pipeline"},
	"count":             {"query", "limit"},
	"insertOne":         {"document"},
	"insertMany":        {"documents"},
	"deleteOne":         {"query"},
	"deleteMany":        {"query"},
	"updateOne":         {"query", "update", "upsert", "arrayFilters"},
	"updateMany":        {"query", "update", "upsert", "arrayFilters"},
}

// readArgs reads a method's single argument document, refusing a field the
// method does not take (it would be ignored: a client that sends "skip"
// expecting it to work must learn that it does not).
func readArgs(method string, arg bson.Raw, fields []string) (*call, *apiError) {
	c := &call{method: method}
	elems, err := arg.Elements()
	if err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "%s: invalid argument document", method)
	}
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		bad := func(want string) *apiError {
			return errorf(http.StatusBadRequest, codeInvalidParameter, "%s: argument %q must be %s, got %s", method, k, want, typeName(v.Type))
		}
		switch k {
		case "dataSource":
			continue // the Data API's; its caller checks it
		case "database", "collection":
			s, ok := v.StringValueOK()
			if !ok || s == "" {
				return nil, bad("a non-empty string")
			}
			if k == "database" {
				c.database = s
			} else {
				c.collection = s
			}
			continue
		}
		if !slices.Contains(fields, k) {
			return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "%s: unknown argument %q (it takes %s)", method, k, strings.Join(append([]string{"database", "collection"}, fields...), ", "))
		}
		// optDoc reads an optional document argument (null is absent);
		// docs an array of documents.
		optDoc := func(dst *bson.Raw) *apiError {
			if v.Type == bson.TypeNull {
				return nil
			}
			d, ok := v.DocumentOK()
			if !ok {
				return bad("a document")
			}
			*dst = d
			return nil
		}
		docs := func() ([]bson.Raw, *apiError) {
			a, ok := v.ArrayOK()
			if !ok {
				return nil, bad("an array of documents")
			}
			vals, err := a.Values()
			if err != nil {
				return nil, bad("an array of documents")
			}
			out := make([]bson.Raw, 0, len(vals))
			for _, x := range vals {
				d, ok := x.DocumentOK()
				if !ok {
					return nil, bad("an array of documents")
				}
				out = append(out, d)
			}
			return out, nil
		}
		var ae *apiError
		switch k {
		case "query", "filter":
			ae = optDoc(&c.filter)
		case "project", "projection":
			ae = optDoc(&c.projection)
		case "sort":
			ae = optDoc(&c.sort)
		case "update", "replacement", "document":
			d, ok := v.DocumentOK()
			switch {
			case !ok:
				ae = bad("a document")
			case k == "document":
				c.document = d
			default:
				c.update, c.hasUpdate = d, true
			}
		case "documents":
			c.documents, ae = docs()
		case "pipeline":
			c.pipeline, ae = docs()
		case "arrayFilters":
			var afs []bson.Raw
			afs, ae = docs()
			for _, d := range afs {
				c.arrayFilters = append(c.arrayFilters, d)
			}
		case "limit", "skip":
			// Int32, Int64, or a Double with no fraction (a relaxed
			// JSON number); AsInt64OK would truncate 1.5 to 1.
			var n int64
			ok := true
			switch v.Type {
			case bson.TypeInt32:
				n = int64(v.Int32())
			case bson.TypeInt64:
				n = v.Int64()
			case bson.TypeDouble:
				f := v.Double()
				ok = f >= 0 && f < 1<<63 && f == math.Trunc(f)
				n = int64(f)
			default:
				ok = false
			}
			if !ok || n < 0 {
				return nil, bad("a non-negative integer")
			}
			if k == "limit" {
				c.limit, c.hasLimit = n, true
			} else {
				c.skip = n
			}
		case "upsert", "returnNewDocument":
			b, ok := v.BooleanOK()
			if !ok {
				return nil, bad("a boolean")
			}
			if k == "upsert" {
				c.upsert = b
			} else {
				c.returnNew = b
			}
		}
		if ae != nil {
			return nil, ae
		}
	}
	if c.database == "" || c.collection == "" {
		return nil, errorf(http.StatusBadRequest, codeMissingParameter, "%s: arguments \"database\" and \"collection\" are required", method)
	}
	return c, nil
}

// run executes c through the gated collection and returns the result as
// the client API shapes it (appservices-protocol.md §5 and §9.8: counts
// of writes as Int32, count as Int64, documents or null).
func run(ctx context.Context, coll *gate.Collection, c *call) (any, error) {
	filter := c.filter
	if filter == nil {
		filter = bson.Raw(emptyDoc)
	}
	switch c.method {
	case "find":
		o := options.Find()
		if c.projection != nil {
			o.SetProjection(c.projection)
		}
		if c.sort != nil {
			o.SetSort(c.sort)
		}
		if c.hasLimit && c.limit > 0 {
			o.SetLimit(c.limit)
		}
		if c.skip > 0 {
			o.SetSkip(c.skip)
		}
		cur, err := coll.Find(ctx, filter, o)
		if err != nil {
			return nil, err
		}
		return drain(ctx, cur, func() bson.Raw { return cur.Current })
	case "findOne":
		o := options.FindOne()
		if c.projection != nil {
			o.SetProjection(c.projection)
		}
		if c.sort != nil {
			o.SetSort(c.sort)
		}
		return single(coll.FindOne(ctx, filter, o))
	case "findOneAndUpdate", "findOneAndReplace":
		if !c.hasUpdate {
			if c.method == "findOneAndReplace" {
				// realm-web 2.0.1 sends findOneAndDelete as
				// findOneAndReplace without an update (§5, realm-js
				// #6497). The client asked for a delete; it is decided
				// as one, under the delete rules.
				return runFindOneAndDelete(ctx, coll, filter, c)
			}
			return nil, errorf(http.StatusBadRequest, codeMissingParameter, "%s: argument \"update\" is required", c.method)
		}
		replace := c.method == "findOneAndReplace" || mql.IsReplacement(c.update)
		rd := options.Before
		if c.returnNew {
			rd = options.After
		}
		if replace {
			o := options.FindOneAndReplace().SetReturnDocument(rd).SetUpsert(c.upsert)
			if c.projection != nil {
				o.SetProjection(c.projection)
			}
			if c.sort != nil {
				o.SetSort(c.sort)
			}
			return single(coll.FindOneAndReplace(ctx, filter, c.update, o))
		}
		o := options.FindOneAndUpdate().SetReturnDocument(rd).SetUpsert(c.upsert)
		if c.projection != nil {
			o.SetProjection(c.projection)
		}
		if c.sort != nil {
			o.SetSort(c.sort)
		}
		return single(coll.FindOneAndUpdate(ctx, filter, c.update, o))
	case "findOneAndDelete":
		return runFindOneAndDelete(ctx, coll, filter, c)
	case "aggregate":
		if c.pipeline == nil {
			return nil, errorf(http.StatusBadRequest, codeMissingParameter, "aggregate: argument \"pipeline\" is required")
		}
		pipe := make(bson.A, len(c.pipeline))
		for i, st := range c.pipeline {
			pipe[i] = st
		}
		cur, err := coll.Aggregate(ctx, pipe)
		if err != nil {
			return nil, err
		}
		return drain(ctx, cur, func() bson.Raw { return cur.Current })
	case "count":
		o := options.Count()
		if c.hasLimit && c.limit > 0 {
			o.SetLimit(c.limit)
		}
		return coll.CountDocuments(ctx, filter, o)
	case "insertOne":
		if c.document == nil {
			return nil, errorf(http.StatusBadRequest, codeMissingParameter, "insertOne: argument \"document\" is required")
		}
		res, err := coll.InsertOne(ctx, c.document)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "insertedId", Value: res.InsertedID}}, nil
	case "insertMany":
		if len(c.documents) == 0 {
			return nil, errorf(http.StatusBadRequest, codeMissingParameter, "insertMany: argument \"documents\" must be a non-empty array")
		}
		docs := make([]any, len(c.documents))
		for i, d := range c.documents {
			docs[i] = d
		}
		res, err := coll.InsertMany(ctx, docs)
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "insertedIds", Value: bson.A(res.InsertedIDs)}}, nil
	case "deleteOne", "deleteMany":
		var res *mongo.DeleteResult
		var err error
		if c.method == "deleteOne" {
			res, err = coll.DeleteOne(ctx, filter)
		} else {
			res, err = coll.DeleteMany(ctx, filter)
		}
		if err != nil {
			return nil, err
		}
		return bson.D{{Key: "deletedCount", Value: int32(res.DeletedCount)}}, nil
	case "updateOne", "updateMany", "replaceOne":
		if !c.hasUpdate {
			return nil, errorf(http.StatusBadRequest, codeMissingParameter, "%s: argument \"update\" is required", c.method)
		}
		var res *mongo.UpdateResult
		var err error
		switch {
		case c.method == "replaceOne" || (c.method == "updateOne" && mql.IsReplacement(c.update)):
			// An update without operators replaces the document, as
			// realm-web's own tests expect of updateOne (§5).
			if len(c.arrayFilters) > 0 {
				return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "%s: arrayFilters need an update with operators", c.method)
			}
			res, err = coll.ReplaceOne(ctx, filter, c.update, options.Replace().SetUpsert(c.upsert))
		case c.method == "updateOne":
			o := options.UpdateOne().SetUpsert(c.upsert)
			if c.arrayFilters != nil {
				o.SetArrayFilters(c.arrayFilters)
			}
			res, err = coll.UpdateOne(ctx, filter, c.update, o)
		default:
			if mql.IsReplacement(c.update) {
				// MongoDB refuses a multi-document update without
				// operators; so does rulegate, rather than guess.
				return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "updateMany: the update must use update operators ($set, $inc, ...)")
			}
			o := options.UpdateMany().SetUpsert(c.upsert)
			if c.arrayFilters != nil {
				o.SetArrayFilters(c.arrayFilters)
			}
			res, err = coll.UpdateMany(ctx, filter, c.update, o)
		}
		if err != nil {
			return nil, err
		}
		out := bson.D{{Key: "matchedCount", Value: int32(res.MatchedCount)}, {Key: "modifiedCount", Value: int32(res.ModifiedCount)}}
		if res.UpsertedID != nil {
			out = append(out, bson.E{Key: "upsertedId", Value: res.UpsertedID})
		}
		return out, nil
	}
	return nil, errorf(http.StatusNotFound, codeCommandNotFound, "no MongoDB method %q", c.method)
}

func runFindOneAndDelete(ctx context.Context, coll *gate.Collection, filter bson.Raw, c *call) (any, error) {
	o := options.FindOneAndDelete()
	if c.projection != nil {
		o.SetProjection(c.projection)
	}
	if c.sort != nil {
		o.SetSort(c.sort)
	}
	return single(coll.FindOneAndDelete(ctx, filter, o))
}

var emptyDoc = []byte{5, 0, 0, 0, 0}

// cursor is what drain needs of a gate.Cursor (Find) and a *mongo.Cursor
// (Aggregate).
type cursor interface {
	Next(context.Context) bool
	Err() error
	Close(context.Context) error
}

// drain reads every document of cur (current returns the one Next moved
// to) and closes it.
func drain(ctx context.Context, cur cursor, current func() bson.Raw) (bson.A, error) {
	defer cur.Close(ctx)
	docs := bson.A{}
	for cur.Next(ctx) {
		docs = append(docs, slices.Clone(current()))
	}
	return docs, cur.Err()
}

// single turns a SingleResult into the document, or nil (JSON null) when
// none matched.
func single(sr *mongo.SingleResult) (any, error) {
	raw, err := sr.Raw()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return raw, nil
}

func typeName(t bson.Type) string {
	switch t {
	case bson.TypeEmbeddedDocument:
		return "a document"
	case bson.TypeArray:
		return "an array"
	case bson.TypeString:
		return "a string"
	case bson.TypeNull:
		return "null"
	case bson.TypeBoolean:
		return "a boolean"
	case bson.TypeInt32, bson.TypeInt64, bson.TypeDouble, bson.TypeDecimal128:
		return "a number"
	}
	return fmt.Sprintf("BSON type %s", t)
}
