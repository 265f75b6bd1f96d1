package value

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Document is a document whose top-level fields can be looked up.
type Document interface {
	// Lookup returns the value of the top-level field key (dots are not
	// interpreted), or Missing when the document has no such field.
	Lookup(key string) Value
}

// rawDocument is a Document over BSON bytes.
type rawDocument bson.Raw

func (d rawDocument) Lookup(key string) Value { return lookup(d, key) }

// Raw returns a Document over BSON bytes. Lookups do not allocate and the
// values they return alias doc. Malformed bytes read as missing fields.
func Raw(doc bson.Raw) Document { return rawDocument(doc) }

// mapDocument is a Document over a Go map.
type mapDocument map[string]any

func (d mapDocument) Lookup(key string) Value {
	x, ok := d[key]
	if !ok {
		return Value{}
	}
	v, err := FromGo(x)
	if err != nil {
		return Value{}
	}
	return v
}

// Map returns a Document over a Go map. Each lookup converts the field's
// value with FromGo (values that cannot be converted read as Missing), so
// it allocates: use Raw on hot paths.
func Map(m map[string]any) Document { return mapDocument(m) }

// Path is a dotted field path split into its components, as in
// {"a.b.0.c": ...}. Components are field names, or array indexes when they
// are decimal integers and the value at that point is an array.
type Path []string

// ParsePath splits a dotted path. The empty string gives the empty Path.
func ParsePath(s string) Path {
	if s == "" {
		return nil
	}
	return Path(strings.Split(s, "."))
}

// String returns the dotted form of p.
func (p Path) String() string { return strings.Join(p, ".") }

// ArrayIndex parses a path component as an array index: decimal digits
// without leading zeros ("0", "12" but not "01" or "-1"), at most nine of
// them. A component that is not one names a field, never an element.
func ArrayIndex(s string) (int, bool) { return arrayIndex(s) }

func arrayIndex(s string) (int, bool) {
	if s == "" || len(s) > 9 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// Each calls fn for every candidate value that the MongoDB query engine
// considers for path p in doc, until fn returns true, and reports whether
// fn did. The candidates are:
//
//   - the value at p when it is not an array, including Missing when p does
//     not resolve ({"a": 1} and {} both yield Missing for "a.b");
//   - when the value at p is an array: each of its elements, then the array
//     itself (nested arrays are not flattened further);
//   - when an intermediate value is an array and the next component is a
//     field name: the candidates of the rest of the path in each element
//     that is a document (Missing for a document lacking the field); scalar
//     and array elements yield nothing, so {"a": [1, 2]} and {"a": []}
//     yield no candidate at all for "a.b";
//   - when an intermediate value is an array and the next component is an
//     index "N": the candidates of the rest of the path in element N, and
//     also the candidates of the rest of the path under the field named "N"
//     of each element that is a document having that field.
//
// The empty path yields nothing. Each does not allocate when doc's Lookup
// does not.
func Each(doc Document, p Path, fn func(Value) bool) bool {
	if len(p) == 0 {
		return false
	}
	return walk(doc.Lookup(p[0]), p[1:], fn)
}

// EachValue is Each over a Value: v stands for the value at the empty path,
// so an array v yields its elements and then itself, and a non-empty path
// is looked up in v as in Each.
func EachValue(v Value, p Path, fn func(Value) bool) bool { return walk(v, p, fn) }

func walk(v Value, rest Path, fn func(Value) bool) bool {
	if len(rest) == 0 {
		if v.Type == bson.TypeArray {
			found := false
			v.Each(func(_ int, e Value) bool {
				found = fn(e)
				return found
			})
			if found {
				return true
			}
		}
		return fn(v)
	}
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return walk(v.Field(rest[0]), rest[1:], fn)
	case bson.TypeArray:
		found := false
		if idx, ok := arrayIndex(rest[0]); ok {
			if e := v.Index(idx); !e.IsMissing() && walk(e, rest[1:], fn) {
				return true
			}
			v.Each(func(_ int, e Value) bool {
				if e.Type == bson.TypeEmbeddedDocument {
					if f := e.Field(rest[0]); !f.IsMissing() {
						found = walk(f, rest[1:], fn)
					}
				}
				return found
			})
			return found
		}
		v.Each(func(_ int, e Value) bool {
			if e.Type == bson.TypeEmbeddedDocument {
				found = walk(e.Field(rest[0]), rest[1:], fn)
			}
			return found
		})
		return found
	}
	return fn(Value{})
}

// Resolve returns the plain value at path p in doc, without array
// traversal: a numeric component indexes an array, any other component
// looks up a document field, and anything else gives Missing. It is meant
// for traces ("the value at a.b was ...").
func Resolve(doc Document, p Path) Value {
	if len(p) == 0 {
		return Value{}
	}
	return ResolveIn(doc.Lookup(p[0]), p[1:])
}

// ResolveIn is Resolve below a value: v itself for the empty path, else
// the plain value at p in v (a document's field, an array's element at a
// canonical index), Missing when p does not resolve.
func ResolveIn(v Value, p Path) Value {
	for _, c := range p {
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			v = v.Field(c)
		case bson.TypeArray:
			i, ok := arrayIndex(c)
			if !ok {
				return Value{}
			}
			v = v.Index(i)
		default:
			return Value{}
		}
	}
	return v
}
