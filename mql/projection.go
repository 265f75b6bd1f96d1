package mql

import (
	"errors"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrProjection is wrapped by the error of ParseProjection.
var ErrProjection = errors.New("mql: unsupported projection")

type projectionError struct{ msg string }

func (e *projectionError) Error() string        { return e.msg }
func (e *projectionError) Is(target error) bool { return target == ErrProjection }

// Projection is a find projection of field paths only: each 1/true
// (inclusion) or 0/false (exclusion); _id is included unless excluded
// (https://www.mongodb.com/docs/manual/reference/method/db.collection.find/#projection).
// Package gate and jsfunc's in-memory collections apply client
// projections with it, after the rules' redaction.
type Projection struct {
	include bool
	paths   *Paths
	dropID  bool
}

// ParseProjection reads a projection; nil and no error for an empty one.
// An error (ErrProjection) says why it is refused: anything but 0, 1,
// true or false as a value (projection operators), a key that is not a
// field path, or inclusion mixed with exclusion (other than excluding
// _id).
func ParseProjection(raw bson.Raw) (*Projection, error) {
	elems, err := raw.Elements()
	if err != nil {
		return nil, &projectionError{"projection is not a document"}
	}
	if len(elems) == 0 {
		return nil, nil
	}
	var inc, exc []string
	p := &Projection{}
	for _, e := range elems {
		k := e.Key()
		if k == "" || strings.HasPrefix(k, "$") || strings.Contains(k, "..") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			return nil, &projectionError{"projection field " + quote(k) + " is not a field path"}
		}
		on, ok := truth(e.Value())
		if !ok {
			return nil, &projectionError{"projection of " + quote(k) + " must be 0, 1, true or false: projection operators are not supported through the gate"}
		}
		if k == "_id" {
			p.dropID = !on
			if on {
				inc = append(inc, k)
			}
			continue
		}
		if on {
			inc = append(inc, k)
		} else {
			exc = append(exc, k)
		}
	}
	if len(exc) > 0 && (len(inc) > 0 && !(len(inc) == 1 && inc[0] == "_id")) {
		return nil, &projectionError{"projection mixes inclusion and exclusion"}
	}
	if len(exc) > 0 {
		if p.dropID {
			exc = append(exc, "_id")
		}
		p.paths = NewPaths(exc)
		return p, nil
	}
	p.include = true
	if !p.dropID {
		inc = append(inc, "_id")
	}
	if len(inc) == 0 {
		// {_id: 0} alone: exclude _id only.
		p.include = false
		p.paths = NewPaths([]string{"_id"})
		return p, nil
	}
	p.paths = NewPaths(inc)
	return p, nil
}

// Apply returns doc projected.
func (p *Projection) Apply(doc bson.Raw) bson.D {
	if p.include {
		return p.paths.Keep(doc)
	}
	return p.paths.Drop(doc)
}

// Inclusion reports whether p keeps its paths (else it removes them).
func (p *Projection) Inclusion() bool { return p.include }

// Paths are the paths p keeps or removes, _id included when it does.
func (p *Projection) Paths() *Paths { return p.paths }

func truth(v bson.RawValue) (on, ok bool) {
	switch v.Type {
	case bson.TypeBoolean:
		return v.Boolean(), true
	case bson.TypeInt32:
		return v.Int32() != 0, true
	case bson.TypeInt64:
		return v.Int64() != 0, true
	case bson.TypeDouble:
		return v.Double() != 0, true
	}
	return false, false
}

func quote(s string) string { return `"` + s + `"` }

// AllFields stands for "every field of the document" in QueryPaths: a
// query that uses it ($expr with $$ROOT, $text, ...) reads every field.
const AllFields = "*"

// maxExprDepth bounds the depth QueryPaths looks into an expression;
// deeper reads AllFields.
const maxExprDepth = 64

// QueryPaths adds to out the field paths a query reads: the field keys at
// the top, under $and/$or/$nor, and the "$field" references inside $expr
// (and inside operator values). Operators it cannot see through add
// AllFields.
func QueryPaths(q bson.Raw, out map[string]bool) {
	elems, _ := q.Elements()
	for _, e := range elems {
		k := e.Key()
		switch {
		case k == "$and" || k == "$or" || k == "$nor":
			vals, _ := e.Value().Array().Values()
			for _, v := range vals {
				if d, ok := v.DocumentOK(); ok {
					QueryPaths(d, out)
				}
			}
		case k == "$expr":
			ExprPaths(e.Value(), out)
		case k == "$comment":
		case strings.HasPrefix(k, "$"):
			out[AllFields] = true
		default:
			out[k] = true
			// $expr-like references can hide in operator values too
			// ($elemMatch with $expr): look for them.
			exprRefs(e.Value(), out, 0)
		}
	}
}

// ExprPaths adds to out the "$field" references of an aggregation
// expression ($$ROOT and $$CURRENT alone, and $getField, $setField and
// $unsetField, which name fields by plain strings: AllFields).
func ExprPaths(v bson.RawValue, out map[string]bool) { exprRefs(v, out, 0) }

func exprRefs(v bson.RawValue, out map[string]bool, depth int) {
	if depth > maxExprDepth {
		out[AllFields] = true
		return
	}
	switch v.Type {
	case bson.TypeString:
		s := v.StringValue()
		switch {
		case strings.HasPrefix(s, "$$"):
			name := strings.SplitN(s[2:], ".", 2)
			if name[0] == "ROOT" || name[0] == "CURRENT" {
				if len(name) == 2 {
					out[name[1]] = true
				} else {
					out[AllFields] = true
				}
			}
		case strings.HasPrefix(s, "$") && len(s) > 1:
			out[s[1:]] = true
		}
	case bson.TypeEmbeddedDocument:
		elems, _ := v.Document().Elements()
		for _, e := range elems {
			switch e.Key() {
			case "$literal":
				continue
			case "$getField", "$setField", "$unsetField":
				// They name a field with a plain string ({$getField:
				// "secret"} reads $$CURRENT.secret), which no "$" shows.
				out[AllFields] = true
			}
			exprRefs(e.Value(), out, depth+1)
		}
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		for _, x := range vals {
			exprRefs(x, out, depth+1)
		}
	}
}
