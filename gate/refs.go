package gate

import (
	"context"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// refsOK reports whether the caller may read, in doc, every field path that
// the client filter or sort reads (refs), given read, the decided role's
// readable fields (Decision.Fields.Read). A document where one is hidden
// does not match the client's query: filtering, sorting or counting on a
// hidden field then reveals nothing.
//
// Decision.Fields lists the fields the document has. For a path whose
// top-level field the document lacks, the question is whether the field
// would be readable if present (a filter {x: {$exists: false}} reads x
// too): the document is decided again with that field set to null.
func (c *Collection) refsOK(ctx context.Context, b *evaluator.Bound, op string, doc bson.Raw, read, refs []string) (bool, error) {
	var t *pathTrie
	var absent []string
	for _, r := range refs {
		if r == allFields {
			return false, nil
		}
		top, _, _ := strings.Cut(r, ".")
		if _, err := doc.LookupErr(top); err != nil {
			absent = append(absent, top)
			continue
		}
		if i := sort.SearchStrings(read, top); i < len(read) && read[i] == top {
			continue
		}
		if t == nil {
			t = newTrie(read)
		}
		if !t.covers(r) {
			return false, nil
		}
	}
	if len(absent) == 0 {
		return true, nil
	}
	d := bson.D{}
	elems, _ := doc.Elements()
	for _, e := range elems {
		d = append(d, bson.E{Key: e.Key(), Value: e.Value()})
	}
	sort.Strings(absent)
	for i, a := range absent {
		if i == 0 || absent[i-1] != a {
			d = append(d, bson.E{Key: a, Value: nil})
		}
	}
	probe, err := bson.Marshal(d)
	if err != nil {
		return false, err
	}
	dec, err := decide(ctx, b, evaluator.ActionRead, probe, nil, nil)
	if err != nil {
		return false, c.evalErr(op, evaluator.ActionRead, err)
	}
	if !dec.Allowed {
		return false, nil
	}
	for _, a := range absent {
		if i := sort.SearchStrings(dec.Fields.Read, a); i == len(dec.Fields.Read) || dec.Fields.Read[i] != a {
			return false, nil
		}
	}
	return true, nil
}
