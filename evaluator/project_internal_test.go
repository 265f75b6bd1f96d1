package evaluator

import (
	"fmt"
	"go.mongodb.org/mongo-driver/v2/bson"
	"testing"

	"github.com/rulegate/rulegate/rules"
)

// TestProject checks how filter projections narrow a read list
// (MongoDB projection semantics: an inclusion keeps _id unless it is
// excluded; an exclusion removes the fields and everything below them).
func TestProject(t *testing.T) {
	list := []string{"_id", "a", "b.c", "b.d", "e"}
	pr := func(ps ...any) []*cfilter {
		var out []rules.Projection
		for i := 0; i+1 < len(ps); i += 2 {
			out = append(out, rules.Projection{Field: ps[i].(string), Include: ps[i+1].(bool)})
		}
		return []*cfilter{{projection: out}}
	}
	for _, c := range []struct {
		applied []*cfilter
		want    string
	}{
		{nil, "[_id a b.c b.d e]"},
		{pr("a", false), "[_id b.c b.d e]"},
		{pr("b", false), "[_id a e]"},
		{pr("_id", false), "[a b.c b.d e]"},
		{pr("a", true), "[_id a]"},
		{pr("a", true, "_id", false), "[a]"},
		{pr("b", true), "[_id b.c b.d]"},
		{pr("b.c", true), "[_id b.c]"},
		{pr("x", true), "[_id]"},
		{append(pr("a", false), pr("e", false)...), "[_id b.c b.d]"},
	} {
		got := fmt.Sprint(project(append([]string(nil), list...), c.applied))
		if got != c.want {
			t.Errorf("%v: got %s, want %s", c.applied[0:len(c.applied):len(c.applied)], got, c.want)
		}
	}
	// A field included below a readable field: the inclusion names the
	// embedded path.
	if got := fmt.Sprint(project([]string{"_id", "p"}, pr("p.q", true))); got != "[p.q _id]" && got != "[_id p.q]" {
		t.Errorf("embedded inclusion: %s", got)
	}
}

// TestMergeProjections checks how the rules' projection and the applied
// filters' projections combine into one valid MongoDB projection.
func TestMergeProjections(t *testing.T) {
	fp := func(ps ...any) []*cfilter {
		var out []rules.Projection
		for i := 0; i+1 < len(ps); i += 2 {
			out = append(out, rules.Projection{Field: ps[i].(string), Include: ps[i+1].(bool)})
		}
		return []*cfilter{{projection: out}}
	}
	d := func(ps ...any) bson.D {
		var out bson.D
		for i := 0; i+1 < len(ps); i += 2 {
			out = append(out, bson.E{Key: ps[i].(string), Value: ps[i+1]})
		}
		return out
	}
	for _, c := range []struct {
		proj    bson.D
		applied []*cfilter
		want    string
	}{
		{nil, nil, "[]"},
		{nil, fp("career_stats", false, "personal", false), `[{career_stats 0} {personal 0}]`},
		{d("secret", 0), fp("personal", false), `[{secret 0} {personal 0}]`},
		{d("_id", 0, "name", 1, "email", 1), fp("email", false), `[{_id 0} {name 1}]`},
		{d("name", 1, "age", 1), fp("_id", false, "age", true, "vote", true), `[{age 1} {_id 0}]`},
		{d("secret", 0), fp("_id", false, "age", true, "vote", true), `[{_id 0} {age 1} {vote 1}]`},
		{d("age", 0), fp("age", true, "vote", true), `[{vote 1}]`},
	} {
		got := "["
		for i, e := range mergeProjections(c.proj, c.applied) {
			if i > 0 {
				got += " "
			}
			got += fmt.Sprintf("{%s %v}", e.Key, e.Value)
		}
		got += "]"
		if got != c.want {
			t.Errorf("%v + %v: got %s, want %s", c.proj, c.applied[0:len(c.applied):len(c.applied)], got, c.want)
		}
	}
}
