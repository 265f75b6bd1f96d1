package gate

import (
	"sort"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// projection is a client projection the gate applies itself, after the
// rules (mql.Projection).
type projection = mql.Projection

// parseProjection reads a client projection; msg says why it is refused.
func parseProjection(raw bson.Raw) (p *projection, msg string) {
	p, err := mql.ParseProjection(raw)
	if err != nil {
		return nil, err.Error()
	}
	return p, ""
}

func quote(s string) string { return `"` + s + `"` }

// allFields stands for "every field of the document" in query paths
// (mql.AllFields).
const allFields = mql.AllFields

// queryPaths collects the field paths a client query reads
// (mql.QueryPaths).
func queryPaths(q bson.Raw, out map[string]bool) { mql.QueryPaths(q, out) }

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
