package mql

// Client-supplied queries and documents are data, never rules: they are
// validated against the operators App Services lets application users
// run, never expanded (a "%%user.id" string in them is a literal string),
// and combined with rule filters by $and only.

import (
	"errors"
	"strconv"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// Stable codes of client query and client document diagnostics.
const (
	CodeQueryMalformed   = "query/malformed"          // not a well-formed BSON document
	CodeQueryForbidden   = "query/forbidden-operator" // a MongoDB operator application users may not run
	CodeQueryUnknown     = "query/unknown-operator"   // not a MongoDB query operator
	CodeQueryOperand     = "query/operand"            // an operator's argument has the wrong shape
	CodeQueryDollarField = "query/dollar-field"       // a "$"-prefixed key inside a literal value
	CodeQueryDepth       = "query/depth"              // nested deeper than MaxDepth

	CodeDocumentMalformed   = "document/malformed"    // not a well-formed BSON document
	CodeDocumentDollarField = "document/dollar-field" // a field name that starts with "$"
	CodeDocumentDottedField = "document/dotted-field" // a field name that holds a "."
	CodeDocumentDepth       = "document/depth"        // nested deeper than MaxDepth
	CodeDocumentID          = "document/id"           // an _id the server rejects (array, regex, undefined)
)

// MaxDepth bounds the nesting of documents and arrays in client
// queries and documents, as the server bounds BSON nesting (100 levels).
const MaxDepth = 100

// ErrInvalidQuery is wrapped by the errors of ValidateQuery;
// errors.As finds the *source.Error with the code and the JSON pointer.
var ErrInvalidQuery = errors.New("mql: invalid client query")

// ErrInvalidDocument is wrapped by the errors of ValidateDocument.
var ErrInvalidDocument = errors.New("mql: invalid client document")

// queryOp classifies the $-prefixed keys of queries.
type queryOp uint8

const (
	qUnknown   queryOp = iota
	qLogical           // $and, $or, $nor: arrays of queries
	qCompare           // $eq, $ne, $gt, $gte, $lt, $lte: any value
	qSet               // $in, $nin: arrays of values
	qAll               // $all
	qExists            // $exists
	qType              // $type
	qSize              // $size
	qMod               // $mod
	qNot               // $not
	qElemMatch         // $elemMatch
	qForbidden         // known MongoDB operators application users may not run
)

// queryOperators lists the operators of client queries. The allowed ones
// are those App Services marks available in user functions
// (mongodb/docs-app-services source/mongodb/crud-and-aggregation-apis.txt,
// "Query Operators"): comparison, logical, array ($all, $elemMatch, $size),
// element ($exists, $type) and $mod. $expr, $jsonSchema, $regex, $text and
// $where, and every geospatial and bitwise operator, are "system functions
// only" there, so they are forbidden; so are $function and $accumulator
// (JavaScript, system only in aggregation) and $comment, $sampleRate and
// $natural, which the page does not offer.
var queryOperators = map[string]queryOp{
	"$and": qLogical, "$or": qLogical, "$nor": qLogical,
	"$eq": qCompare, "$ne": qCompare, "$gt": qCompare, "$gte": qCompare, "$lt": qCompare, "$lte": qCompare,
	"$in": qSet, "$nin": qSet,
	"$all": qAll, "$exists": qExists, "$type": qType, "$size": qSize, "$mod": qMod,
	"$not": qNot, "$elemMatch": qElemMatch,

	"$where": qForbidden, "$function": qForbidden, "$accumulator": qForbidden, "$expr": qForbidden,
	"$jsonSchema": qForbidden, "$regex": qForbidden, "$options": qForbidden, "$text": qForbidden,
	"$search": qForbidden, "$language": qForbidden, "$caseSensitive": qForbidden, "$diacriticSensitive": qForbidden,
	"$geoIntersects": qForbidden, "$geoWithin": qForbidden, "$near": qForbidden, "$nearSphere": qForbidden,
	"$geometry": qForbidden, "$box": qForbidden, "$center": qForbidden, "$centerSphere": qForbidden,
	"$polygon": qForbidden, "$maxDistance": qForbidden, "$minDistance": qForbidden, "$uniqueDocs": qForbidden,
	"$within":       qForbidden,
	"$bitsAllClear": qForbidden, "$bitsAllSet": qForbidden, "$bitsAnyClear": qForbidden, "$bitsAnySet": qForbidden,
	"$comment": qForbidden, "$sampleRate": qForbidden, "$natural": qForbidden, "$rand": qForbidden,
}

// seg is one step of the JSON pointer of the value being checked.
type seg struct {
	key []byte
	idx int
}

// qchecker walks a client query or document; the pointer is kept as a
// stack of segments and rendered only for an error.
type qchecker struct {
	path  []seg
	stack [16]seg
	kind  error
}

func (c *qchecker) push(key []byte) { c.path = append(c.path, seg{key: key, idx: -1}) }
func (c *qchecker) pushIndex(i int) { c.path = append(c.path, seg{idx: i}) }
func (c *qchecker) pop()            { c.path = c.path[:len(c.path)-1] }

func (c *qchecker) ptr() source.Pointer {
	var p source.Pointer
	for _, s := range c.path {
		if s.idx >= 0 {
			p = p.Index(s.idx)
		} else {
			p = p.Key(string(s.key))
		}
	}
	return p
}

func (c *qchecker) fail(code, msg string) error {
	return &codedError{err: &source.Error{Ptr: c.ptr(), Code: code, Msg: msg}, kind: c.kind}
}

func newChecker(kind error) *qchecker {
	c := &qchecker{kind: kind}
	c.path = c.stack[:0]
	return c
}

// elems calls fn for each element of a BSON document or array body
// (already validated), stopping at the first error.
func elems(doc []byte, fn func(key []byte, v value.Value) error) error {
	if len(doc) < 5 {
		return nil
	}
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		e, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return nil
		}
		rest = r
		v := e.Value()
		if err := fn(e.KeyBytes(), value.Value{Type: bson.Type(v.Type), Data: v.Data}); err != nil {
			return err
		}
	}
	return nil
}

// tooDeep reports whether a BSON document nests documents and arrays more
// than max levels deep. It reads element headers only, so it is safe on
// malformed input (which it leaves to Validate) and runs before the
// driver's recursive validation.
func tooDeep(doc []byte, max int) bool {
	if max < 0 {
		return true
	}
	if len(doc) < 5 {
		return false
	}
	rest := doc[4 : len(doc)-1]
	for len(rest) > 0 {
		e, r, ok := bsoncore.ReadElement(rest)
		if !ok {
			return false
		}
		rest = r
		if v := e.Value(); (v.Type == bsoncore.TypeEmbeddedDocument || v.Type == bsoncore.TypeArray) && tooDeep(v.Data, max-1) {
			return true
		}
	}
	return false
}

// ValidateQuery checks a query filter sent by a client. Client
// queries are data: they are never expanded, so a "%%user.id" string in
// them stays that literal string, and only the query operators App
// Services offers application users are accepted:
//
//	$eq $ne $gt $gte $lt $lte $in $nin     comparison
//	$and $or $nor $not                     logical
//	$all $elemMatch $size                  array
//	$exists $type                          element
//	$mod                                   evaluation
//
// (mongodb/docs-app-services source/mongodb/crud-and-aggregation-apis.txt).
// $expr, $jsonSchema, $regex (and BSON regular expression values, which
// the server treats as $regex), $text, $where, $function, $accumulator, the
// geospatial and the bitwise operators are rejected with
// query/forbidden-operator: App Services runs them in system functions
// only. Any other "$" key is query/unknown-operator. Operands are checked
// ($in needs an array, $size a non-negative integer, $type a known type,
// ...: query/operand); "$"-prefixed keys inside literal documents are
// rejected (query/dollar-field) so that nothing that looks like an
// operator reaches the server; nesting is bounded by MaxDepth
// (query/depth). The error wraps ErrInvalidQuery and a *source.Error with
// the JSON pointer of the offending key. An empty query is valid.
func ValidateQuery(q bson.Raw) error {
	c := newChecker(ErrInvalidQuery)
	if tooDeep(q, 2*MaxDepth) { // before the driver's recursive Validate; the walk below names the place
		return c.fail(CodeQueryDepth, "query is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	if err := bsoncore.Document(q).Validate(); err != nil {
		return c.fail(CodeQueryMalformed, "query is not a BSON document: "+err.Error())
	}
	return c.query(q, 0)
}

// query checks a query document: fields and logical operators.
func (c *qchecker) query(doc []byte, depth int) error {
	if depth > MaxDepth {
		return c.fail(CodeQueryDepth, "query is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	return elems(doc, func(key []byte, v value.Value) error {
		c.push(key)
		defer c.pop()
		if len(key) > 0 && key[0] == '$' {
			switch op := queryOperators[string(key)]; op {
			case qLogical:
				return c.logical(string(key), v, depth)
			case qForbidden:
				return c.forbidden(string(key))
			default:
				if op != qUnknown {
					return c.fail(CodeQueryUnknown, string(key)+" is not a top-level query operator; use {<field>: {"+string(key)+": ...}}")
				}
				return c.fail(CodeQueryUnknown, "unknown query operator "+strconv.Quote(string(key)))
			}
		}
		return c.condition(v, depth+1)
	})
}

func (c *qchecker) forbidden(op string) error {
	return c.fail(CodeQueryForbidden, op+" is not available to application users (App Services allows it in system functions only)")
}

// logical checks the argument of $and, $or or $nor: a non-empty array of
// query documents.
func (c *qchecker) logical(op string, v value.Value, depth int) error {
	if !v.IsArray() || v.Len() == 0 {
		return c.fail(CodeQueryOperand, op+" expects a non-empty array of query documents, got "+describe(v))
	}
	i := 0
	return elems(v.Data, func(_ []byte, e value.Value) error {
		c.pushIndex(i)
		defer c.pop()
		i++
		if !e.IsDocument() {
			return c.fail(CodeQueryOperand, op+" expects query documents, got "+describe(e))
		}
		return c.query(e.Data, depth+1)
	})
}

// condition checks the value of a field in a query: an operator document
// ({"$gt": 1, "$lt": 5}) or a literal value.
func (c *qchecker) condition(v value.Value, depth int) error {
	if v.IsDocument() && firstKeyIsOperator(v.Data) {
		return c.operators(v.Data, depth)
	}
	return c.literal(v, depth)
}

func firstKeyIsOperator(doc []byte) bool {
	if len(doc) < 5 {
		return false
	}
	e, _, ok := bsoncore.ReadElement(doc[4 : len(doc)-1])
	if !ok {
		return false
	}
	k := e.KeyBytes()
	return len(k) > 0 && k[0] == '$'
}

// operators checks an operator document such as {"$gt": 1, "$lt": 5}.
func (c *qchecker) operators(doc []byte, depth int) error {
	if depth > MaxDepth {
		return c.fail(CodeQueryDepth, "query is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	return elems(doc, func(key []byte, v value.Value) error {
		c.push(key)
		defer c.pop()
		if len(key) == 0 || key[0] != '$' {
			return c.fail(CodeQueryUnknown, "unknown operator "+strconv.Quote(string(key))+": an operator document holds only operators")
		}
		return c.operator(key, v, depth)
	})
}

// operator checks one operator of an operator document; the pointer names
// it already.
func (c *qchecker) operator(key []byte, v value.Value, depth int) error {
	op := string(key)
	switch queryOperators[op] {
	case qCompare:
		return c.literal(v, depth+1)
	case qSet:
		if !v.IsArray() {
			return c.fail(CodeQueryOperand, op+" expects an array, got "+describe(v))
		}
		return c.literal(v, depth+1)
	case qAll:
		return c.all(v, depth)
	case qExists:
		return c.literal(v, depth+1)
	case qType:
		return c.typeOperand(v)
	case qSize:
		if n, ok := v.IntOK(); !ok || n < 0 || n > 1<<31-1 {
			return c.fail(CodeQueryOperand, "$size expects a non-negative integer, got "+describe(v))
		}
		return nil
	case qMod:
		return c.mod(v)
	case qNot:
		if v.Type == bson.TypeRegex {
			return c.forbiddenRegex()
		}
		if !v.IsDocument() || v.Len() == 0 || !firstKeyIsOperator(v.Data) {
			return c.fail(CodeQueryOperand, "$not expects a document of operators, got "+describe(v))
		}
		return c.operators(v.Data, depth+1)
	case qElemMatch:
		if !v.IsDocument() {
			return c.fail(CodeQueryOperand, "$elemMatch expects a document, got "+describe(v))
		}
		return c.elemMatch(v.Data, depth+1)
	case qLogical:
		return c.fail(CodeQueryUnknown, op+" is a top-level operator; it cannot be applied to a field")
	case qForbidden:
		return c.forbidden(op)
	}
	return c.fail(CodeQueryUnknown, "unknown query operator "+strconv.Quote(op))
}

// elemMatch checks the argument of $elemMatch: operators applied to each
// element ({"$gte": 80}), or a query on document elements ({"qty":
// {"$gt": 5}}), or both forms' logical operators.
func (c *qchecker) elemMatch(doc []byte, depth int) error {
	if depth > MaxDepth {
		return c.fail(CodeQueryDepth, "query is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	return elems(doc, func(key []byte, v value.Value) error {
		if len(key) == 0 || key[0] != '$' {
			c.push(key)
			defer c.pop()
			return c.condition(v, depth+1)
		}
		c.push(key)
		defer c.pop()
		if queryOperators[string(key)] == qLogical {
			return c.logical(string(key), v, depth)
		}
		return c.operator(key, v, depth)
	})
}

// all checks the argument of $all: an array of values, or of
// {"$elemMatch": ...} documents.
func (c *qchecker) all(v value.Value, depth int) error {
	if !v.IsArray() {
		return c.fail(CodeQueryOperand, "$all expects an array, got "+describe(v))
	}
	i := 0
	return elems(v.Data, func(_ []byte, e value.Value) error {
		c.pushIndex(i)
		defer c.pop()
		i++
		if e.IsDocument() && firstKeyIsOperator(e.Data) {
			return elems(e.Data, func(key []byte, x value.Value) error {
				c.push(key)
				defer c.pop()
				if string(key) != "$elemMatch" {
					if queryOperators[string(key)] == qForbidden {
						return c.forbidden(string(key))
					}
					return c.fail(CodeQueryOperand, "$all accepts values and {$elemMatch: ...} documents, got the operator "+strconv.Quote(string(key)))
				}
				if !x.IsDocument() {
					return c.fail(CodeQueryOperand, "$elemMatch expects a document, got "+describe(x))
				}
				return c.elemMatch(x.Data, depth+2)
			})
		}
		return c.literal(e, depth+1)
	})
}

func (c *qchecker) typeOperand(v value.Value) error {
	if _, ok := value.TypesOK(v); ok {
		return nil
	}
	return c.fail(CodeQueryOperand, "$type expects a BSON type alias or number, or an array of them, got "+describe(v))
}

func (c *qchecker) mod(v value.Value) error {
	if v.IsArray() && v.Len() == 2 {
		d, r := v.Index(0), v.Index(1)
		if d.IsNumber() && r.IsNumber() {
			if n, ok := d.IntOK(); ok && n == 0 {
				return c.fail(CodeQueryOperand, "$mod divisor cannot be 0")
			}
			return nil
		}
	}
	return c.fail(CodeQueryOperand, "$mod expects [divisor, remainder], got "+describe(v))
}

func (c *qchecker) forbiddenRegex() error {
	return c.fail(CodeQueryForbidden, "regular expressions ($regex) are not available to application users (App Services allows them in system functions only)")
}

// literal checks a literal value: no regular expressions and no
// "$"-prefixed keys at any depth.
func (c *qchecker) literal(v value.Value, depth int) error {
	if depth > MaxDepth {
		return c.fail(CodeQueryDepth, "query is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	switch v.Type {
	case bson.TypeRegex:
		return c.forbiddenRegex()
	case bson.TypeEmbeddedDocument:
		return elems(v.Data, func(key []byte, e value.Value) error {
			c.push(key)
			defer c.pop()
			if len(key) > 0 && key[0] == '$' {
				return c.fail(CodeQueryDollarField, "a literal document cannot hold the key "+strconv.Quote(string(key))+" (operators are not allowed here)")
			}
			return c.literal(e, depth+1)
		})
	case bson.TypeArray:
		i := 0
		return elems(v.Data, func(_ []byte, e value.Value) error {
			c.pushIndex(i)
			defer c.pop()
			i++
			return c.literal(e, depth+1)
		})
	}
	return nil
}

// describe names a value's type for messages, with the value when short.
func describe(v value.Value) string {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return "a document"
	case bson.TypeArray:
		if v.Len() == 0 {
			return "an empty array"
		}
		return "an array"
	}
	s := v.ExtJSON()
	if len(s) > 40 {
		return typeName(v.Type)
	}
	return typeName(v.Type) + " " + s
}

// ValidateDocument checks a document a client inserts or sends as a
// replacement. It rejects, with an error wrapping ErrInvalidDocument and a
// *source.Error with the JSON pointer of the offending key:
// malformed BSON (document/malformed); field names that start with "$", at
// any depth (document/dollar-field: MongoDB 5.0 stores some, but they read
// as operators to rules and queries); field names that hold a "." at any
// depth (document/dotted-field: field-level rules and queries name fields
// by dotted paths, so such a field cannot be told from an embedded one);
// nesting deeper than MaxDepth (document/depth); and an _id that is an
// array, a regular expression or undefined, which the server rejects
// (document/id). Strings such as "%%user.id" are stored as they are: they
// are never expanded.
func ValidateDocument(doc bson.Raw) error {
	c := newChecker(ErrInvalidDocument)
	if tooDeep(doc, 2*MaxDepth) { // before the driver's recursive Validate; the walk below names the place
		return c.fail(CodeDocumentDepth, "document is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	if err := bsoncore.Document(doc).Validate(); err != nil {
		return c.fail(CodeDocumentMalformed, "document is not a BSON document: "+err.Error())
	}
	if id := value.FromDocument(doc).Field("_id"); id.Type == bson.TypeArray || id.Type == bson.TypeRegex || id.Type == bson.TypeUndefined {
		c.push([]byte("_id"))
		return c.fail(CodeDocumentID, "_id cannot be "+typeName(id.Type))
	}
	return c.document(doc, 1)
}

// ValidateUpdate checks the values a client update writes as
// ValidateDocument checks an inserted document, with the same codes
// and a JSON pointer into the update: the value of every field of $set,
// $setOnInsert, $min and $max, the value or the $each elements of $push
// and $addToSet, at any depth, inside arrays too. A replacement document
// is checked with ValidateDocument. The conditions of $pull and the
// values of $pullAll are compared, not written, and are not checked here
// (ValidateQuery-like rules do not apply to them either: they are
// update operands). Malformed updates are left to UpdatePaths: this
// returns nil for them.
//
// A "$"-prefixed or dotted field name written by an update would be
// stored by MongoDB 5.0 and later as it is; read back as relaxed extended
// JSON, {"$maxKey": 1} is a MaxKey, not a document, and it would read as
// an operator to rules and queries.
func ValidateUpdate(update bson.Raw) error {
	if tooDeep(update, maxUpdateDepth) || bsoncore.Document(update).Validate() != nil {
		return nil // UpdatePaths reports it
	}
	ops, _ := update.Elements()
	isOp := len(ops) > 0 && len(ops[0].Key()) > 0 && ops[0].Key()[0] == '$'
	if !isOp {
		return ValidateDocument(update)
	}
	c := newChecker(ErrInvalidDocument)
	for _, e := range ops {
		name := e.Key()
		kind, ok := updateOperators[name]
		if !ok || e.Value().Type != bson.TypeEmbeddedDocument {
			continue
		}
		c.push([]byte(name))
		err := elems(e.Value().Document(), func(key []byte, v value.Value) error {
			c.push(key)
			defer c.pop()
			switch kind {
			case opSet, opSetOnInsert, opMin, opMax:
				return c.documentValue(v, 2)
			case opPush, opAddToSet:
				if d, ok := v.DocumentOK(); ok {
					if each, err := d.LookupErr("$each"); err == nil {
						c.push([]byte("$each"))
						defer c.pop()
						return c.documentValue(value.FromRaw(each), 2)
					}
				}
				return c.documentValue(v, 2)
			}
			return nil
		})
		c.pop()
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *qchecker) document(doc []byte, depth int) error {
	if depth > MaxDepth {
		return c.fail(CodeDocumentDepth, "document is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
	}
	return elems(doc, func(key []byte, v value.Value) error {
		c.push(key)
		defer c.pop()
		if len(key) > 0 && key[0] == '$' {
			return c.fail(CodeDocumentDollarField, "field name "+strconv.Quote(string(key))+" starts with \"$\"")
		}
		for _, b := range key {
			if b == '.' {
				return c.fail(CodeDocumentDottedField, "field name "+strconv.Quote(string(key))+" holds a \".\"")
			}
		}
		return c.documentValue(v, depth)
	})
}

func (c *qchecker) documentValue(v value.Value, depth int) error {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return c.document(v.Data, depth+1)
	case bson.TypeArray:
		if depth+1 > MaxDepth {
			return c.fail(CodeDocumentDepth, "document is nested more than "+strconv.Itoa(MaxDepth)+" levels deep")
		}
		i := 0
		return elems(v.Data, func(_ []byte, e value.Value) error {
			c.pushIndex(i)
			defer c.pop()
			i++
			return c.documentValue(e, depth+1)
		})
	}
	return nil
}
