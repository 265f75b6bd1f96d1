package gate

import (
	"context"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// refsOK reports whether the caller may read, in doc, every field path that
// the client filter or sort reads (refs), given read, the decided role's
// readable fields (Decision.Fields.Read). A document where one is hidden
// does not match the client's query: filtering, sorting or counting on a
// hidden field then reveals nothing.
//
// Decision.Fields lists the fields the document has (for a partly hidden
// embedded document, the readable fields it holds). For a path the
// document lacks (its top-level field, or a field of an embedded document
// on the way), the question is whether the field would be readable if
// present (a filter {x: {$exists: false}} reads x too): the document is
// decided again with that path set to a probe document. Asking "is it listed" instead
// would make the answer depend on hidden siblings: {a: {x: <hidden>}}
// lists no a.b while a document without a is probed, so a filter on a.b
// would tell whether a.x exists.
func (c *Collection) refsOK(ctx context.Context, b *evaluator.Bound, op string, doc bson.Raw, read, refs []string) (bool, error) {
	var t *mql.Paths
	var absent []string
	for _, r := range refs {
		if r == allFields {
			return false, nil
		}
		top, _, _ := strings.Cut(r, ".")
		if i := sort.SearchStrings(read, top); i < len(read) && read[i] == top {
			continue
		}
		if missingPath(doc, r) {
			absent = append(absent, r)
			continue
		}
		if t == nil {
			t = mql.NewPaths(read)
		}
		if !t.Covers(r) {
			return false, nil
		}
	}
	if len(absent) == 0 {
		return true, nil
	}
	absent = outermost(absent)
	// Each missing path is probed as an embedded document holding a field
	// no rule names: the path is covered only if the caller could read
	// it whole, whatever it held. Probing with null would call a path
	// readable that, when present, is partly hidden ({"a": {$exists:
	// false}} with a filter projection withholding a.x), and the answer
	// would tell whether a exists.
	set := bson.D{}
	for _, a := range absent {
		set = append(set, bson.E{Key: a, Value: bson.D{{Key: probeField, Value: nil}}})
	}
	upd, err := bson.Marshal(bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, err
	}
	probe, err := mql.ApplyUpdate(doc, upd)
	if err != nil {
		// Cannot be probed (a path through a non-document): fail closed.
		return false, nil
	}
	dec, err := c.decide(ctx, b, evaluator.ActionRead, probe, nil, nil)
	if err != nil {
		return false, c.evalErr(ctx, op, evaluator.ActionRead, err)
	}
	if !dec.Allowed {
		return false, nil
	}
	pt := mql.NewPaths(dec.Fields.Read)
	for _, a := range absent {
		if !pt.Covers(a) {
			return false, nil
		}
	}
	return true, nil
}

// missingPath reports whether path is absent from doc through embedded
// documents only: some field on the way is missing from the embedded
// document holding it. A path that reaches an array or a scalar before
// its end is not "missing" in that sense; it is checked against the
// readable fields as it stands.
func missingPath(doc bson.Raw, path string) bool {
	cur := doc
	for {
		k, rest, more := strings.Cut(path, ".")
		v, err := cur.LookupErr(k)
		if err != nil {
			return true
		}
		if !more {
			return false
		}
		sub, ok := v.DocumentOK()
		if !ok {
			return false
		}
		cur, path = sub, rest
	}
}

// outermost sorts paths and drops each that has another as a prefix
// (setting a to null covers a.b).
func outermost(paths []string) []string {
	sort.Strings(paths)
	var out []string
next:
	for _, p := range paths {
		for _, q := range out {
			if q == p || strings.HasPrefix(p, q+".") {
				continue next
			}
		}
		out = append(out, p)
	}
	return out
}

// writeRefs returns the field paths a write reads in a stored document to
// pick it: those of the client filter and those the update's arrayFilters
// read (upd nil: the client filter's only).
func writeRefs(client bson.Raw, upd *update) []string {
	refs := clientRefs(client)
	if upd == nil {
		return refs
	}
	return mergeRefs(refs, upd.filterRefs)
}

// mergeRefs returns the sorted union of two sorted lists of paths.
func mergeRefs(a, b []string) []string {
	if len(b) == 0 {
		return a
	}
	m := map[string]bool{}
	for _, p := range a {
		m[p] = true
	}
	for _, p := range b {
		m[p] = true
	}
	return sortedKeys(m)
}

// arrayFilterRefs returns the field paths of the stored document that the
// arrayFilters of update read: an array filter {"e.sku": "x"} of the path
// "items.$[e].qty" reads items.sku in every element, {"e": 2} reads items.
// A document in which one is hidden from the caller does not match the
// write, as for a client filter reading a hidden field: which elements an
// update changes, and so the document after it, would tell the hidden
// values.
func arrayFilterRefs(update bson.Raw, filters []bson.Raw) []string {
	if len(filters) == 0 {
		return nil
	}
	// The update paths' prefixes before each $[<identifier>], positional
	// components left out (field rules are keyed by field name).
	prefixes := map[string][]string{}
	ops, _ := update.Elements()
	for _, o := range ops {
		fields, _ := o.Value().Document().Elements()
		for _, f := range fields {
			var prefix []string
			for _, c := range strings.Split(f.Key(), ".") {
				if strings.HasPrefix(c, "$[") && c != "$[]" {
					id := c[2 : len(c)-1]
					prefixes[id] = append(prefixes[id], strings.Join(prefix, "."))
				}
				if !strings.HasPrefix(c, "$") {
					prefix = append(prefix, c)
				}
			}
		}
	}
	m := map[string]bool{}
	for _, f := range filters {
		read := map[string]bool{}
		queryPaths(f, read)
		for q := range read {
			if q == allFields {
				m[allFields] = true
				continue
			}
			id, rest, _ := strings.Cut(q, ".")
			for _, p := range prefixes[id] {
				if rest != "" {
					p += "." + rest
				}
				m[p] = true
			}
		}
	}
	return sortedKeys(m)
}

// probeField names a field no document is expected to hold: a role that
// cannot read it reads a closed set of fields.
const probeField = "__rulegate_probe__"
