package gate

import (
	"sort"
	"strings"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// projection is a client projection the gate applies itself, after the
// rules: field paths with 1/true (inclusion) or 0/false (exclusion); _id is
// included unless excluded.
type projection struct {
	include bool
	trie    *mql.Paths
	dropID  bool
}

// parseProjection reads a client projection. ok is false when it uses
// anything else than 0/1/true/false values or mixes inclusion and exclusion
// (other than excluding _id).
func parseProjection(raw bson.Raw) (p *projection, msg string) {
	elems, err := raw.Elements()
	if err != nil {
		return nil, "projection is not a document"
	}
	if len(elems) == 0 {
		return nil, ""
	}
	var inc, exc []string
	p = &projection{}
	for _, e := range elems {
		k := e.Key()
		if k == "" || strings.HasPrefix(k, "$") || strings.Contains(k, "..") || strings.HasPrefix(k, ".") || strings.HasSuffix(k, ".") {
			return nil, "projection field " + quote(k) + " is not a field path"
		}
		on, ok := truth(e.Value())
		if !ok {
			return nil, "projection of " + quote(k) + " must be 0, 1, true or false: projection operators are not supported through the gate"
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
		return nil, "projection mixes inclusion and exclusion"
	}
	if len(exc) > 0 {
		if p.dropID {
			exc = append(exc, "_id")
		}
		p.trie = mql.NewPaths(exc)
		return p, ""
	}
	p.include = true
	if !p.dropID {
		inc = append(inc, "_id")
	}
	if len(inc) == 0 {
		// {_id: 0} alone: exclude _id only.
		p.include = false
		p.trie = mql.NewPaths([]string{"_id"})
		return p, ""
	}
	p.trie = mql.NewPaths(inc)
	return p, ""
}

func (p *projection) apply(doc bson.Raw) bson.D {
	if p.include {
		return p.trie.Keep(doc)
	}
	return p.trie.Drop(doc)
}

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

// allFields stands for "every field of the document" in query paths: a
// client query that uses it ($expr with $$ROOT, $text, ...) needs every
// field readable.
const allFields = "*"

// queryPaths collects the field paths a client query reads: the field keys
// at the top, under $and/$or/$nor, and the "$field" references inside $expr.
// Operators the gate cannot see through report allFields.
func queryPaths(q bson.Raw, out map[string]bool) {
	elems, _ := q.Elements()
	for _, e := range elems {
		k := e.Key()
		switch {
		case k == "$and" || k == "$or" || k == "$nor":
			vals, _ := e.Value().Array().Values()
			for _, v := range vals {
				if d, ok := v.DocumentOK(); ok {
					queryPaths(d, out)
				}
			}
		case k == "$expr":
			exprPaths(e.Value(), out)
		case k == "$comment":
		case strings.HasPrefix(k, "$"):
			out[allFields] = true
		default:
			out[k] = true
			// $expr-like references can hide in operator values too
			// ($elemMatch with $expr): look for them.
			exprRefs(e.Value(), out, 0)
		}
	}
}

// exprPaths collects "$field" references of an aggregation expression.
func exprPaths(v bson.RawValue, out map[string]bool) { exprRefs(v, out, 0) }

func exprRefs(v bson.RawValue, out map[string]bool, depth int) {
	if depth > maxPipelineDepth {
		out[allFields] = true
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
					out[allFields] = true
				}
			}
		case strings.HasPrefix(s, "$") && len(s) > 1:
			out[s[1:]] = true
		}
	case bson.TypeEmbeddedDocument:
		elems, _ := v.Document().Elements()
		for _, e := range elems {
			if e.Key() == "$literal" {
				continue
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

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
