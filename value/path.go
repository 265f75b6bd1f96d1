package value

import (
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Path is a dotted field path split into its components, as in
// {"a.b.0.c": ...}. Components are field names, or array indexes when they
// are decimal integers and the value at that point is an array.
type Path []string

// ParsePath splits a dotted path: the key of a query or a field rule.
// The empty string is the field named "" (Path{""}), as the server reads
// the key "": never the empty Path, which stands for the value itself.
func ParsePath(s string) Path {
	return Path(strings.Split(s, "."))
}

// ArrayIndex parses a path component as an array index: decimal digits
// without leading zeros ("0", "12" but not "01", "-1" or "+1"), at most 9
// of them. MongoDB reads any other component as a field name, also where
// the value is an array. A component that parses is an index only where
// the value at that point is an array; in a document it is a field name
// ({"a": {"2024": 1}}). This is the one parser of array indexes:
// Resolve, rule paths, update paths and %%user paths use it; Each
// compares a component with the array's element keys, as the server does,
// which accepts exactly the same components.
func ArrayIndex(s string) (int, bool) {
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
// considers for path p in v, until fn returns true, and reports whether fn
// did. v is the value at the empty path, reached by a field name
// (getFieldDottedOrArray in path.cpp): for a query over a document, the
// document (FromDocument). The candidates are
// those of the server's path iterator (src/mongo/db/matcher/path.cpp,
// BSONElementIterator, with leaf and non-leaf arrays traversed, as queries
// do):
//
//   - the value at p when it is not an array, including Missing when p does
//     not resolve ({"a": 1} and {} both yield Missing for "a.b");
//   - when the value at p is an array reached by a field name (or v itself
//     for the empty path): each of its elements, then the array itself
//     (nested arrays are not flattened further);
//   - when an intermediate value is an array: for each element that is a
//     document, the candidates of the rest of the path in that document
//     (Missing for a document lacking the next field, even when that
//     field is an index "N"); scalar and array elements yield nothing, so
//     {"a": [1, 2]} and {"a": []} yield no candidate at all for "a.b";
//   - when, moreover, the next component is an index "N" and the array has
//     an element N: that element itself when "N" ends the path (an array
//     element is NOT expanded: {"a": [[5]]} yields [5] for "a.0", never
//     5), else the candidates of the rest of the path in that element
//     when it is a document, or, when it is an array, in that array as an
//     intermediate array (its document elements and its element at the
//     next index); a scalar element yields nothing for a longer path.
//
// The empty path yields v's own candidates: the elements of an array v,
// then v; a value that is not an array, Missing included. Each does not
// allocate.
func Each(v Value, p Path, fn func(Value) bool) bool { return each(v, p, true, fn) }

// EachWhole is Each without the elements of an array at the end of the
// path: the candidates of the server's array operators ($size, $all of
// $elemMatch, $elemMatch: ArrayMatchingMatchExpression, whose leaf
// arrays are not expanded). {"a": [[1, 2]]} yields [[1, 2]] for "a", not
// [1, 2]; intermediate arrays are traversed as by Each.
func EachWhole(v Value, p Path, fn func(Value) bool) bool { return each(v, p, false, fn) }

func each(v Value, p Path, expand bool, fn func(Value) bool) bool {
	if len(p) == 0 {
		if expand && v.Type == bson.TypeArray {
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
		return each(v.Field(p[0]), p[1:], expand, fn)
	case bson.TypeArray:
		return inArray(v, p, expand, fn)
	}
	return fn(Value{})
}

// inArray yields the candidates of the non-empty path rest through the
// array arr: BSONElementIterator's IN_ARRAY state when the path does not
// end at the array.
func inArray(arr Value, rest Path, expand bool, fn func(Value) bool) bool {
	numeric := allDigits(rest[0])
	it := newIter(arr.Data)
	for {
		key, e, ok := it.next()
		if !ok {
			return false
		}
		// An array offset match compares the component with the element's
		// key, as the server does.
		offset := numeric && string(key) == rest[0]
		switch {
		case e.Type == bson.TypeEmbeddedDocument:
			if each(e.Field(rest[0]), rest[1:], expand, fn) {
				return true
			}
			if offset {
				if len(rest) == 1 {
					if fn(e) {
						return true
					}
				} else if each(e.Field(rest[1]), rest[2:], expand, fn) {
					return true
				}
			}
		case offset && len(rest) == 1:
			if fn(e) {
				return true
			}
		case offset && e.Type == bson.TypeArray:
			if inArray(e, rest[1:], expand, fn) {
				return true
			}
		}
	}
}

// allDigits reports whether a path component may be an array offset: the
// server's str::isAllDigits (so "01" qualifies, but never equals a key).
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Resolve returns the plain value at path p in v, without array
// traversal: a component indexes an array when it is an ArrayIndex, looks
// up a field in a document, and anything else gives Missing; the empty
// path gives v. As in Each, v is the value at the empty path (a document
// for a path in a document). It is meant for traces ("the value at a.b
// was ...") and for operands read from a document, not for matching (see
// Each). Resolve does not allocate.
func Resolve(v Value, p Path) Value {
	for _, c := range p {
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			v = v.Field(c)
		case bson.TypeArray:
			i, ok := ArrayIndex(c)
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
