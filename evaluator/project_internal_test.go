package evaluator

import (
	"fmt"
	"go.mongodb.org/mongo-driver/v2/bson"
	"testing"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
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
		return []*cfilter{{projection: out, projKind: projectionKind(out)}}
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
		got := fmt.Sprint(project(append([]string(nil), list...), c.applied, projDoc(t)))
		if got != c.want {
			t.Errorf("%v: got %s, want %s", c.applied[0:len(c.applied):len(c.applied)], got, c.want)
		}
	}
	// A field included below a readable field: the inclusion names the
	// embedded path.
	if got := fmt.Sprint(project([]string{"_id", "p"}, pr("p.q", true), projDoc(t))); got != "[p.q _id]" && got != "[_id p.q]" {
		t.Errorf("embedded inclusion: %s", got)
	}
}

// projDoc is the document of the read list of TestProject.
func projDoc(t *testing.T) value.Value {
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(`{"_id": 1, "a": 1, "b": {"c": 1, "d": {"x": 1, "y": 2}}, "e": [{"f": 1, "g": 2}, 3], "s": [1, 2], "p": {"q": 1, "r": 2}}`), false, &d); err != nil {
		t.Fatal(err)
	}
	return value.FromDocument(d)
}

// TestProjectEmbeddedExclusion: an exclusion below a listed field replaces
// it by its remaining embedded fields, in documents and in the documents
// of arrays; the list never names a field whose embedded fields are
// partly hidden.
func TestProjectEmbeddedExclusion(t *testing.T) {
	pr := func(ps ...string) []*cfilter {
		var out []rules.Projection
		for _, p := range ps {
			out = append(out, rules.Projection{Field: p})
		}
		return []*cfilter{{projection: out, projKind: projectionKind(out)}}
	}
	list := []string{"_id", "a", "b", "e", "p", "s"}
	for _, c := range []struct {
		applied []*cfilter
		want    string
	}{
		{pr("p.q"), "[_id a b e p.r s]"},
		{pr("b.d.x"), "[_id a b.c b.d.y e p s]"},
		{pr("b.d.x", "b.c"), "[_id a b.d.y e p s]"},
		{pr("e.f"), "[_id a b e.g p s]"},
		{pr("a.z"), "[_id a b e p s]"},
		{pr("p.q", "p.r"), "[_id a b e s]"},
		{pr("s.x"), "[_id a b e p s]"},
		{pr("zz.q"), "[_id a b e p s]"},
	} {
		if got := fmt.Sprint(project(append([]string(nil), list...), c.applied, projDoc(t))); got != c.want {
			t.Errorf("%v: got %s, want %s", c.applied[0].projection, got, c.want)
		}
	}
	// An exclusion below _id.
	var idDoc bson.Raw
	_ = bson.UnmarshalExtJSON([]byte(`{"_id": {"k": 1, "secret": 2}, "a": 1}`), false, &idDoc)
	if got := fmt.Sprint(project([]string{"_id", "a"}, pr("_id.secret"), value.FromDocument(idDoc))); got != "[_id.k a]" {
		t.Errorf("exclusion below _id: %s", got)
	}
	// Without the document, a field below which something is excluded is
	// left out.
	if got := fmt.Sprint(project([]string{"_id", "p"}, pr("p.q"), value.Value{})); got != "[_id]" {
		t.Errorf("unknown document: %s", got)
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
		return []*cfilter{{projection: out, projKind: projectionKind(out)}}
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
		// Embedded paths: an inclusion below an included field narrows it;
		// an exclusion below an included field cannot be written with it
		// (a path collision in MongoDB), so the field is left out (fail
		// closed); an inclusion below an excluded field is excluded; an
		// inclusion that keeps nothing stays an inclusion.
		{d("_id", 0, "profile", 1, "name", 1), fp("profile.name", true), `[{_id 0} {profile.name 1}]`},
		{d("profile.name", 1), fp("profile", true), `[{profile.name 1}]`},
		{d("name", 1, "profile", 1), fp("profile.ssn", false), `[{name 1}]`},
		{d("name", 1, "profile", 1), fp("profile", false), `[{name 1}]`},
		{d("profile", 0), fp("profile.name", true, "age", true), `[{age 1}]`},
		{d("profile.ssn", 0), fp("profile", true, "age", true), `[{age 1}]`},
		{d("name", 1), fp("age", true), `[{` + noField + ` 1}]`},
		{d("_id", 0, "name", 1), fp("name", false), `[{_id 0} {` + noField + ` 1}]`},
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
