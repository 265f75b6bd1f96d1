package mql

import (
	"sort"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Paths is a set of dotted field paths, split into segments: an inclusion
// or exclusion projection, or the fields a caller may read. The zero value
// is the empty set.
type Paths struct {
	leaf bool // the path ending here is in the set (its whole subtree)
	kids map[string]*Paths
}

// NewPaths returns the set of the given dotted paths. A path under another
// one adds nothing: the ancestor covers its whole subtree.
func NewPaths(paths []string) *Paths {
	t := &Paths{}
	for _, p := range paths {
		n := t
		for _, seg := range strings.Split(p, ".") {
			if n.leaf {
				break
			}
			if n.kids == nil {
				n.kids = map[string]*Paths{}
			}
			k := n.kids[seg]
			if k == nil {
				k = &Paths{}
				n.kids[seg] = k
			}
			n = k
		}
		n.leaf = true
		n.kids = nil
	}
	return t
}

// Covers reports whether the whole of path is in the set: path itself or
// one of its ancestors is.
func (t *Paths) Covers(path string) bool {
	n := t
	for _, seg := range strings.Split(path, ".") {
		if n.leaf {
			return true
		}
		n = n.kids[seg]
		if n == nil {
			return false
		}
	}
	return n.leaf
}

// Keep returns doc with only the fields in the set (an inclusion
// projection). Embedded documents under a partial path keep only their
// listed fields; arrays under a partial path keep their documents,
// projected, and drop other elements, as MongoDB's inclusion projection
// does.
func (t *Paths) Keep(doc bson.Raw) bson.D { return t.pick(doc, false) }

// Redact is Keep for the caller's readable fields (Decision.Fields.Read):
// an embedded document or array under a partial path that keeps nothing
// is left out, not returned empty. {a: {x: <hidden>}} and a document
// without a then read alike; an empty shell would tell that a exists, is
// a document or an array, and how many elements it has.
func (t *Paths) Redact(doc bson.Raw) bson.D { return t.pick(doc, true) }

// pick is Keep, and Redact when dropEmpty is set.
func (t *Paths) pick(doc bson.Raw, dropEmpty bool) bson.D {
	elems, _ := doc.Elements()
	out := bson.D{}
	for _, e := range elems {
		k := t.kids[e.Key()]
		if k == nil {
			continue
		}
		if k.leaf {
			out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
			continue
		}
		if v, ok := k.pickValue(e.Value(), dropEmpty); ok {
			out = append(out, bson.E{Key: e.Key(), Value: v})
		}
	}
	return out
}

func (t *Paths) pickValue(v bson.RawValue, dropEmpty bool) (any, bool) {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		d := t.pick(v.Document(), dropEmpty)
		return d, !dropEmpty || len(d) > 0
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		arr := bson.A{}
		for _, x := range vals {
			if x.Type == bson.TypeEmbeddedDocument || x.Type == bson.TypeArray {
				if y, ok := t.pickValue(x, dropEmpty); ok {
					arr = append(arr, y)
				}
			}
		}
		return arr, !dropEmpty || len(arr) > 0
	}
	return nil, false
}

// Drop returns doc without the fields in the set (an exclusion
// projection).
func (t *Paths) Drop(doc bson.Raw) bson.D {
	elems, _ := doc.Elements()
	out := bson.D{}
	for _, e := range elems {
		k := t.kids[e.Key()]
		switch {
		case k == nil:
			out = append(out, bson.E{Key: e.Key(), Value: e.Value()})
		case k.leaf:
		default:
			out = append(out, bson.E{Key: e.Key(), Value: k.dropValue(e.Value())})
		}
	}
	return out
}

func (t *Paths) dropValue(v bson.RawValue) any {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		return t.Drop(v.Document())
	case bson.TypeArray:
		vals, _ := v.Array().Values()
		arr := make(bson.A, 0, len(vals))
		for _, x := range vals {
			arr = append(arr, t.dropValue(x))
		}
		return arr
	}
	return v
}

// Top returns, in order, the top-level fields the set holds in whole
// (Covers) or in part.
func (t *Paths) Top() []string {
	out := make([]string, 0, len(t.kids))
	for k := range t.kids {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
