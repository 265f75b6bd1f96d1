package gate_test

// The generator of TestNonInterference: rules with field-level permissions
// and filter projections, documents, callers and client operations. Sizes
// are small on purpose (a few documents, a few fields) so that one seed
// runs in a fraction of a second on the embedded server.

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// niGen draws everything of one seed from one PCG stream.
type niGen struct{ r *rand.Rand }

func (g niGen) n(k int) int { return g.r.IntN(k) }

func (g niGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// niCondFields are the fields the generated rules' conditions read
// (apply_when, document_filters, read/write expressions, filter queries).
// They decide which role applies and which documents are visible, so the
// twin dataset never perturbs them: only values no condition reads are
// "hidden values" in the sense of the property.
var niCondFields = map[string]bool{"_id": true, "owner": true, "team": true, "level": true}

// niUsers are the callers; the caller of a seed is one of them.
var niUsers = []string{
	`{"id": "u1", "type": "normal", "custom_data": {"team": "red", "level": 2, "admin": false}}`,
	`{"id": "u2", "type": "normal", "custom_data": {"team": "blue", "level": 1, "admin": true}}`,
	`{"id": "u3", "type": "normal"}`,
}

// niTeams is each user's custom_data.team ("" when the user has none).
var niTeams = []string{"red", "blue", ""}

// niFilter is a generated filter; onlyTeam, when set, is the
// %%user.custom_data.team its apply_when requires.
type niFilter struct {
	onlyTeam string
	query    string
	proj     bson.D
}

// applies reports whether the filter applies to the caller of team team.
func (f niFilter) applies(team string) bool { return f.onlyTeam == "" || f.onlyTeam == team }

// niCase is one seed: rules, filters, documents, the caller.
type niCase struct {
	rules   string // the rules.json body after "database"/"collection"
	filters []niFilter
	caller  int
	docs    []bson.D
}

func (g niGen) condition() string {
	return g.pick(`{"owner": "%%user.id"}`, `{"team": "%%user.custom_data.team"}`,
		`{"%%user.custom_data.admin": true}`, `{"level": {"$lte": "%%user.custom_data.level"}}`, `{}`)
}

// fieldPerm is one field's rule: read-write, read-only, hidden, or absent
// (the field falls to additional_fields).
func (g niGen) fieldPerm() string {
	switch g.n(5) {
	case 0, 1:
		return `{"read": true, "write": true}`
	case 2:
		return `{"read": true}`
	case 3:
		return `{"read": false, "write": false}`
	}
	return ""
}

func (g niGen) additional() string {
	return g.pick(`{}`, `{"read": true}`, `{"read": true, "write": true}`, `{"read": true, "write": true}`)
}

func (g niGen) role(i int) string {
	parts := []string{fmt.Sprintf(`"name": "r%d"`, i)}
	if g.n(5) > 0 {
		parts = append(parts, `"apply_when": `+g.condition())
	}
	if g.n(4) == 0 {
		parts = append(parts, fmt.Sprintf(`"document_filters": {"read": %s, "write": %s}`,
			g.pick(`{"team": "%%user.custom_data.team"}`, `{"level": {"$gte": 1}}`, `true`),
			g.pick(`{"owner": "%%user.id"}`, `false`, `true`)))
	}
	if g.n(3) == 0 {
		parts = append(parts, `"read": `+g.pick(`true`, `{"owner": "%%user.id"}`))
		parts = append(parts, `"write": `+g.pick(`true`, `false`, `{"owner": "%%user.id"}`))
	} else {
		var fields []string
		for _, f := range []string{"_id", "owner", "team", "level", "title", "n", "secret", "tags"} {
			if p := g.fieldPerm(); p != "" {
				fields = append(fields, fmt.Sprintf(`%q: %s`, f, p))
			}
		}
		switch g.n(4) {
		case 0:
			fields = append(fields, `"profile": `+g.pick(`{"read": true, "write": true}`, `{"read": true}`, `{"read": false, "write": false}`))
		case 1:
			name := g.pick(`{"read": true, "write": true}`, `{"read": true}`)
			ssn := g.pick(`{"read": false, "write": false}`, `{"read": true}`)
			fields = append(fields, fmt.Sprintf(`"profile": {"fields": {"name": %s, "ssn": %s}, "additional_fields": %s}`, name, ssn, g.additional()))
		}
		if g.n(2) == 0 {
			// a.b is readable and writable; every other key of a, such as
			// "2024", is protected by a's additional_fields.
			fields = append(fields, fmt.Sprintf(`"a": {"fields": {"b": {"read": true, "write": true}}, "additional_fields": %s}`, g.pick(`{}`, `{"read": true}`)))
		}
		parts = append(parts, `"fields": {`+strings.Join(fields, ", ")+`}`)
		parts = append(parts, `"additional_fields": `+g.additional())
	}
	parts = append(parts, `"insert": `+g.pick("true", "true", "false"), `"delete": `+g.pick("true", "true", "false"))
	return "{" + strings.Join(parts, ", ") + "}"
}

var niProjections = []bson.D{
	{{Key: "secret", Value: 0}},
	{{Key: "profile.ssn", Value: 0}},
	{{Key: "a.2024", Value: 0}},
	{{Key: "tags", Value: 0}, {Key: "profile.ssn", Value: 0}},
	{{Key: "owner", Value: 1}, {Key: "team", Value: 1}, {Key: "level", Value: 1}, {Key: "title", Value: 1}, {Key: "profile.name", Value: 1}},
	{{Key: "owner", Value: 1}, {Key: "team", Value: 1}, {Key: "level", Value: 1}, {Key: "title", Value: 1}, {Key: "n", Value: 1}, {Key: "a.b", Value: 1}},
}

func (g niGen) filter() niFilter {
	f := niFilter{query: g.pick(`{}`, `{}`, `{"level": {"$lt": 3}}`, `{"team": {"$exists": true}}`)}
	if g.n(3) == 0 {
		f.onlyTeam = g.pick("red", "blue")
	}
	if g.n(4) > 0 {
		f.proj = niProjections[g.n(len(niProjections))]
	}
	return f
}

func (f niFilter) json(i int) string {
	aw := `{}`
	if f.onlyTeam != "" {
		aw = fmt.Sprintf(`{"%%%%user.custom_data.team": %q}`, f.onlyTeam)
	}
	s := fmt.Sprintf(`{"name": "f%d", "apply_when": %s, "query": %s`, i, aw, f.query)
	if f.proj != nil {
		p, _ := bson.MarshalExtJSON(f.proj, false, false)
		s += `, "projection": ` + string(p)
	}
	return s + "}"
}

// niValues are the values each field draws from; queries draw from the
// same pools, so that they match some documents and not others.
var niValues = map[string][]any{
	"owner":        {"u1", "u2", "u3"},
	"team":         {"red", "blue"},
	"level":        {int32(0), int32(1), int32(2), int32(3)},
	"title":        {"t1", "t2", "t3"},
	"n":            {int32(1), int32(2), int32(3)},
	"secret":       {"s1", "s2", "s3"},
	"tags":         {bson.A{"x"}, bson.A{"x", "y"}, bson.A{"y"}},
	"profile.name": {"p1", "p2"},
	"profile.ssn":  {"111", "222", "333"},
	"a.2024.b":     {int32(1), int32(2), int32(3)},
	"a.b":          {int32(1), int32(2), int32(3)},
}

func (g niGen) val(path string) any {
	vs := niValues[path]
	return vs[g.n(len(vs))]
}

// other returns a value of path's pool different from v (same BSON type).
func (g niGen) other(path string, v any) any {
	vs := niValues[path]
	for {
		w := vs[g.n(len(vs))]
		if fmt.Sprint(w) != fmt.Sprint(v) {
			return w
		}
	}
}

func (g niGen) document(id int) bson.D {
	d := bson.D{{Key: "_id", Value: int32(id)}}
	for _, f := range []string{"owner", "team", "level", "title", "n", "secret", "tags"} {
		if g.n(4) > 0 {
			d = append(d, bson.E{Key: f, Value: g.val(f)})
		}
	}
	if g.n(3) > 0 {
		p := bson.D{}
		if g.n(4) > 0 {
			p = append(p, bson.E{Key: "name", Value: g.val("profile.name")})
		}
		if g.n(4) > 0 {
			p = append(p, bson.E{Key: "ssn", Value: g.val("profile.ssn")})
		}
		if len(p) > 0 {
			d = append(d, bson.E{Key: "profile", Value: p})
		}
	}
	if g.n(2) == 0 {
		a := bson.D{}
		if g.n(4) > 0 {
			a = append(a, bson.E{Key: "2024", Value: bson.D{{Key: "b", Value: g.val("a.2024.b")}}})
		}
		if g.n(4) > 0 {
			a = append(a, bson.E{Key: "b", Value: g.val("a.b")})
		}
		if len(a) > 0 {
			d = append(d, bson.E{Key: "a", Value: a})
		}
	}
	return d
}

func (g niGen) genCase() niCase {
	var c niCase
	nroles := 1 + g.n(3)
	var roles []string
	for i := 0; i < nroles; i++ {
		roles = append(roles, g.role(i))
	}
	c.rules = `"roles": [` + strings.Join(roles, ", ") + `]`
	if g.n(2) == 0 {
		var fs []string
		for i := 0; i < 1+g.n(2); i++ {
			f := g.filter()
			c.filters = append(c.filters, f)
			fs = append(fs, f.json(i))
		}
		c.rules += `, "filters": [` + strings.Join(fs, ", ") + `]`
	}
	c.caller = g.n(len(niUsers))
	for i := 1; i <= 3+g.n(3); i++ {
		c.docs = append(c.docs, g.document(i))
	}
	return c
}

// niPaths are the paths client queries, sorts, updates and Distinct use.
var niPaths = []string{"_id", "owner", "team", "level", "title", "n", "secret", "tags", "profile", "profile.name", "profile.ssn", "a.2024.b", "a.b", "a.2024"}

func (g niGen) path() string { return niPaths[g.n(len(niPaths))] }

// scalarPath returns a path with a value pool.
func (g niGen) scalarPath() string {
	for {
		if p := g.path(); niValues[p] != nil {
			return p
		}
	}
}

func (g niGen) clause() bson.D {
	p := g.scalarPath()
	switch g.n(6) {
	case 0:
		return bson.D{{Key: g.path(), Value: bson.D{{Key: "$exists", Value: g.n(2) == 0}}}}
	case 1:
		return bson.D{{Key: p, Value: bson.D{{Key: "$in", Value: bson.A{g.val(p), g.val(p)}}}}}
	case 2:
		if _, ok := g.val(p).(int32); ok {
			return bson.D{{Key: p, Value: bson.D{{Key: g.pick("$gt", "$lte"), Value: g.val(p)}}}}
		}
	case 3:
		return bson.D{{Key: p, Value: bson.D{{Key: "$ne", Value: g.val(p)}}}}
	}
	return bson.D{{Key: p, Value: g.val(p)}}
}

func (g niGen) query() bson.D {
	switch g.n(6) {
	case 0, 1:
		return bson.D{}
	case 2:
		return bson.D{{Key: "$or", Value: bson.A{g.clause(), g.clause()}}}
	case 3:
		c := g.clause()
		return dedupe(append(c, g.clause()...))
	}
	return g.clause()
}

func (g niGen) sort() bson.D {
	if g.n(2) == 0 {
		return nil
	}
	first := g.scalarPath()
	if g.n(2) == 0 {
		// Fields the generated rules often hide.
		first = g.pick("secret", "title", "profile.ssn", "a.2024.b", "tags")
	}
	s := bson.D{{Key: first, Value: int32(1 - 2*g.n(2))}}
	if g.n(3) == 0 {
		s = append(s, bson.E{Key: g.scalarPath(), Value: int32(1 - 2*g.n(2))})
	}
	return dedupe(s)
}

func dedupe(d bson.D) bson.D {
	seen := map[string]bool{}
	var out bson.D
	for _, e := range d {
		if !seen[e.Key] {
			seen[e.Key] = true
			out = append(out, e)
		}
	}
	return out
}

// niNumeric are the paths $inc applies to.
var niNumeric = []string{"level", "n", "a.2024.b", "a.b"}

func (g niGen) update() bson.D {
	var u bson.D
	for i := 0; i < 1+g.n(2); i++ {
		switch g.n(6) {
		case 5:
			// A numeric component: "2024" is a key of the embedded
			// document a, protected by a's additional_fields.
			switch g.n(4) {
			case 0:
				u = append(u, bson.E{Key: "$rename", Value: bson.D{{Key: "a.2024.b", Value: "a.b"}}})
			case 1:
				u = append(u, bson.E{Key: "$set", Value: bson.D{{Key: "a.2024.b", Value: g.val("a.2024.b")}}})
			case 2:
				u = append(u, bson.E{Key: "$unset", Value: bson.D{{Key: "a.2024", Value: ""}}})
			default:
				u = append(u, bson.E{Key: "$inc", Value: bson.D{{Key: "a.2024.b", Value: int32(1)}}})
			}
		case 0:
			p := g.scalarPath()
			if g.n(2) == 0 {
				p = g.pick("title", "n", "tags")
			}
			u = append(u, bson.E{Key: "$set", Value: bson.D{{Key: p, Value: g.val(p)}}})
		case 1:
			u = append(u, bson.E{Key: "$unset", Value: bson.D{{Key: g.path(), Value: ""}}})
		case 2:
			u = append(u, bson.E{Key: "$inc", Value: bson.D{{Key: g.pick(niNumeric...), Value: int32(1)}}})
		case 3:
			from, to := g.pick("secret", "title", "a.2024.b", "a.b", "profile.ssn", "profile.name", "n"), g.pick("title", "a.b", "n", "profile.name", "note")
			if from != to {
				u = append(u, bson.E{Key: "$rename", Value: bson.D{{Key: from, Value: to}}})
			}
		case 4:
			u = append(u, bson.E{Key: "$push", Value: bson.D{{Key: "tags", Value: "z"}}})
		}
	}
	// One operator of each kind, and no two operators on one path: the
	// server refuses conflicting updates, which is not what is tested.
	u = dedupe(u)
	seen := map[string]bool{}
	for _, op := range u {
		for _, e := range op.Value.(bson.D) {
			paths := []string{e.Key}
			if op.Key == "$rename" {
				paths = append(paths, e.Value.(string))
			}
			for _, p := range paths {
				top, _, _ := strings.Cut(p, ".")
				if seen[top] {
					return bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "t1"}}}}
				}
				seen[top] = true
			}
		}
	}
	if len(u) == 0 {
		u = bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "t2"}}}}
	}
	return u
}

func (g niGen) replacement(c niCase) bson.D {
	caller := []string{"u1", "u2", "u3"}[c.caller]
	d := bson.D{{Key: "owner", Value: caller}}
	if t := niTeams[c.caller]; t != "" {
		d = append(d, bson.E{Key: "team", Value: t})
	}
	d = append(d, bson.E{Key: "level", Value: int32(1)}, bson.E{Key: "title", Value: g.val("title")})
	if g.n(2) == 0 {
		d = append(d, bson.E{Key: "secret", Value: g.val("secret")})
	}
	return d
}

func (g niGen) pipeline() bson.A {
	switch g.n(6) {
	case 0:
		return bson.A{bson.D{{Key: "$match", Value: g.query()}}, bson.D{{Key: "$count", Value: "c"}}}
	case 1:
		return bson.A{bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$" + g.scalarPath()}, {Key: "c", Value: bson.D{{Key: "$sum", Value: 1}}}}}}}
	case 2:
		return bson.A{bson.D{{Key: "$sort", Value: bson.D{{Key: g.scalarPath(), Value: 1}, {Key: "_id", Value: 1}}}}, bson.D{{Key: "$limit", Value: 1}}}
	case 3:
		// No client $project: FerretDB 1.24 drops the connection on an
		// inclusion $project after an exclusion one (the gate's rules
		// projection {_id: 0}), a server bug unrelated to the gate.
		return bson.A{bson.D{{Key: "$sort", Value: bson.D{{Key: g.scalarPath(), Value: -1}, {Key: "_id", Value: 1}}}}, bson.D{{Key: "$skip", Value: 1}}, bson.D{{Key: "$limit", Value: 1}}}
	}
	return bson.A{bson.D{{Key: "$match", Value: g.query()}}}
}

// niOp is one client operation.
type niOp struct {
	method      string
	filter      bson.D
	sort        bson.D
	skip, limit int64
	update      bson.D
	replacement bson.D
	projection  bson.D
	field       string
	pipeline    bson.A
	doc         bson.D
	upsert      bool
}

// upserting returns op as an upsert: the same update with upsert, or a
// ReplaceOne's replacement as FindOneAndReplace with upsert. ok is false
// for the other methods.
func (o niOp) upserting() (niOp, bool) {
	switch o.method {
	case "UpdateOne", "UpdateMany", "FindOneAndUpdate":
	case "ReplaceOne":
		o.method = "FindOneAndReplace"
	default:
		return o, false
	}
	o.upsert = true
	return o, true
}

var niReads = []string{"Find", "Find", "FindOne", "CountDocuments", "Distinct", "Aggregate"}

var niWrites = []string{"UpdateOne", "UpdateMany", "ReplaceOne", "DeleteOne", "DeleteMany", "FindOneAndUpdate", "FindOneAndDelete", "InsertOne"}

func (g niGen) op(c niCase, method string) niOp {
	o := niOp{method: method, filter: g.query()}
	if g.n(3) == 0 {
		o.filter = bson.D{}
	}
	switch method {
	case "Find":
		o.sort = g.sort()
		if g.n(3) == 0 {
			o.skip = int64(g.n(2))
		}
		if g.n(2) == 0 {
			o.limit = int64(1 + g.n(2))
		}
		if g.n(4) == 0 {
			o.projection = bson.D{{Key: g.path(), Value: int32(g.n(2))}}
		}
	case "FindOne":
		o.sort = g.sort()
		if g.n(4) == 0 {
			o.skip = 1
		}
	case "CountDocuments":
		if g.n(4) == 0 {
			o.skip = 1
		}
		if g.n(4) == 0 {
			o.limit = 2
		}
	case "Distinct":
		o.field = g.path()
	case "Aggregate":
		o.filter = nil
		o.pipeline = g.pipeline()
	case "UpdateOne", "FindOneAndUpdate":
		o.sort = g.sort()
		o.update = g.update()
	case "UpdateMany":
		o.update = g.update()
	case "ReplaceOne":
		o.sort = g.sort()
		o.replacement = g.replacement(c)
	case "FindOneAndDelete":
		o.sort = g.sort()
	case "InsertOne":
		o.filter = nil
		o.doc = append(bson.D{{Key: "_id", Value: int32(100)}}, g.replacement(c)...)
	}
	return o
}

func (o niOp) String() string {
	var b strings.Builder
	b.WriteString(o.method)
	add := func(name string, v any) {
		ext, err := bson.MarshalExtJSON(bson.D{{Key: "v", Value: v}}, false, false)
		if err != nil {
			fmt.Fprintf(&b, " %s=%v", name, v)
			return
		}
		fmt.Fprintf(&b, " %s=%s", name, strings.TrimSuffix(strings.TrimPrefix(string(ext), `{"v":`), "}"))
	}
	if o.filter != nil {
		add("filter", o.filter)
	}
	if o.sort != nil {
		add("sort", o.sort)
	}
	if o.projection != nil {
		add("projection", o.projection)
	}
	if o.skip != 0 {
		fmt.Fprintf(&b, " skip=%d", o.skip)
	}
	if o.limit != 0 {
		fmt.Fprintf(&b, " limit=%d", o.limit)
	}
	if o.update != nil {
		add("update", o.update)
	}
	if o.replacement != nil {
		add("replacement", o.replacement)
	}
	if o.field != "" {
		fmt.Fprintf(&b, " field=%s", o.field)
	}
	if o.pipeline != nil {
		add("pipeline", o.pipeline)
	}
	if o.doc != nil {
		add("document", o.doc)
	}
	if o.upsert {
		b.WriteString(" upsert")
	}
	return b.String()
}
