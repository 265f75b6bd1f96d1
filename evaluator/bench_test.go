package evaluator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
	"github.com/tidwall/gjson"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The benchmark inputs: a ~1.5 KB claim set (the payload of an access
// token) with 20 teamIds, and a document of ~1 KB whose owner and team are
// the caller's (the last of its 20 teams, the worst case of a scan).

const benchUserID = "65a1b2c3d4e5f60718293a4c"

func benchTeams() []string {
	out := make([]string, 20)
	for i := range out {
		out[i] = fmt.Sprintf("team-%02d-6f1e2d3c4b5a", i)
	}
	return out
}

func benchClaims(tb testing.TB) []byte {
	claims := map[string]any{
		"sub": benchUserID, "aud": "rulegate-bench", "iss": "rulegate", "exp": 1893456000, "iat": 1700000000,
		"user_type": "normal",
		"user_data": map[string]any{
			"teamIds": benchTeams(), "admin": false, "name": "Ada Lovelace", "email": "ada@example.com",
			"locale": "en-GB", "plan": "enterprise", "orgId": "org-5f1a2b3c",
			"bio": strings.Repeat("analytical engine notes; ", 24),
		},
	}
	b, err := json.Marshal(claims)
	if err != nil {
		tb.Fatal(err)
	}
	if len(b) < 1300 || len(b) > 1800 {
		tb.Fatalf("claims are %d bytes, want ~1.5 KB", len(b))
	}
	return b
}

func benchDoc(tb testing.TB) bson.Raw {
	teams := benchTeams()
	d, err := bson.Marshal(bson.D{
		{Key: "_id", Value: bson.ObjectID{1, 2, 3}},
		{Key: "title", Value: "Quarterly report"},
		{Key: "body", Value: strings.Repeat("lorem ipsum dolor sit amet ", 30)},
		{Key: "tags", Value: bson.A{"finance", "q3", "draft"}},
		{Key: "owner_id", Value: benchUserID},
		{Key: "team_id", Value: teams[19]},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

const benchRules = `{"database": "bench", "collection": "%s", "roles": [%s]}`

var benchRoles = map[string]string{
	"owner":          `{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true}`,
	"team":           `{"name": "team", "apply_when": {"team_id": {"$in": "%%user.custom_data.teamIds"}}, "read": true}`,
	"admin_or_owner": `{"name": "admin", "apply_when": {"%%user.custom_data.admin": true}, "read": true}, {"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true}`,
}

func benchProgram(tb testing.TB) *evaluator.Program {
	fsys := fstest.MapFS{}
	for coll, roles := range benchRoles {
		fsys["data_sources/mongodb-atlas/bench/"+coll+"/rules.json"] = &fstest.MapFile{Data: []byte(fmt.Sprintf(benchRules, coll, roles))}
	}
	app, err := rules.LoadApp(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

func benchBound(tb testing.TB, p *evaluator.Program, coll string) *evaluator.Bound {
	u, err := expansion.NewUserClaims(benchClaims(tb))
	if err != nil {
		tb.Fatal(err)
	}
	b, err := p.Bind(context.Background(), evaluator.Caller{Namespace: "bench." + coll, Inputs: expansion.Inputs{User: u}})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchEvaluate(b *testing.B, coll string) {
	p := benchProgram(b)
	bound := benchBound(b, p, coll)
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: benchDoc(b)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		dec, err := bound.Evaluate(ctx, doc)
		if err != nil || !dec.Allowed {
			b.Fatal(dec, err)
		}
	}
}

// BenchmarkEvaluateOwner: {"owner_id": "%%user.id"} per document.
func BenchmarkEvaluateOwner(b *testing.B) { benchEvaluate(b, "owner") }

// BenchmarkEvaluateTeam: {"team_id": {"$in": "%%user.custom_data.teamIds"}}.
func BenchmarkEvaluateTeam(b *testing.B) { benchEvaluate(b, "team") }

// BenchmarkEvaluateAdminOrOwner: an admin role, then an owner role.
func BenchmarkEvaluateAdminOrOwner(b *testing.B) { benchEvaluate(b, "admin_or_owner") }

// handwritten is the same checks written by hand in Go: the claims are
// read once per request (as Bind does), the document field once per check,
// with the same zero-allocation BSON access the evaluator uses.
type handwritten struct {
	id    value.Value
	teams []value.Value
	admin bool
}

func newHandwritten(claims []byte) handwritten {
	var h handwritten
	h.id = value.String(gjson.GetBytes(claims, "sub").String())
	for _, t := range gjson.GetBytes(claims, "user_data.teamIds").Array() {
		h.teams = append(h.teams, value.String(t.String()))
	}
	h.admin = gjson.GetBytes(claims, "user_data.admin").Bool()
	return h
}

func (h *handwritten) owner(doc bson.Raw) bool {
	return value.Equal(value.FromDocument(doc).Field("owner_id"), h.id)
}

// team is the naive scan: the field compared with each team in turn.
func (h *handwritten) team(doc bson.Raw) bool {
	v := value.FromDocument(doc).Field("team_id")
	for _, t := range h.teams {
		if value.Equal(v, t) {
			return true
		}
	}
	return false
}

func (h *handwritten) adminOrOwner(doc bson.Raw) bool { return h.admin || h.owner(doc) }

func benchHand(b *testing.B, check func(*handwritten, bson.Raw) bool) {
	h := newHandwritten(benchClaims(b))
	doc := benchDoc(b)
	b.ReportAllocs()
	for b.Loop() {
		if !check(&h, doc) {
			b.Fatal("denied")
		}
	}
}

func BenchmarkHandwrittenOwner(b *testing.B)        { benchHand(b, (*handwritten).owner) }
func BenchmarkHandwrittenTeam(b *testing.B)         { benchHand(b, (*handwritten).team) }
func BenchmarkHandwrittenAdminOrOwner(b *testing.B) { benchHand(b, (*handwritten).adminOrOwner) }

// BenchmarkBind: resolving the per-request part (claims lookups, the teamIds
// set) once per request.
func BenchmarkBind(b *testing.B) {
	p := benchProgram(b)
	u, _ := expansion.NewUserClaims(benchClaims(b))
	caller := evaluator.Caller{Namespace: "bench.team", Inputs: expansion.Inputs{User: u}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Bind(ctx, caller); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFilter: the MongoDB filter of a request, bind included.
func BenchmarkReadFilter(b *testing.B) {
	p := benchProgram(b)
	u, _ := expansion.NewUserClaims(benchClaims(b))
	caller := evaluator.Caller{Namespace: "bench.admin_or_owner", Inputs: expansion.Inputs{User: u}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := p.ReadFilter(ctx, caller); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluateTraced: the owner check with a trace.
func BenchmarkEvaluateTraced(b *testing.B) {
	p := benchProgram(b)
	bound := benchBound(b, p, "owner")
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: benchDoc(b)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var tr evaluator.Trace
		if _, err := bound.Evaluate(ctx, doc, evaluator.WithTrace(&tr)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEvaluateZeroAllocs: the per-document path allocates nothing without
// trace and fields.
func TestEvaluateZeroAllocs(t *testing.T) {
	p := benchProgram(t)
	ctx := context.Background()
	doc := evaluator.Doc{Action: evaluator.ActionRead, Document: benchDoc(t)}
	for coll := range benchRoles {
		bound := benchBound(t, p, coll)
		if a := testing.AllocsPerRun(200, func() {
			if dec, _ := bound.Evaluate(ctx, doc); !dec.Allowed {
				t.Fatal("denied")
			}
		}); a != 0 {
			t.Errorf("%s: %v allocations per document, want 0", coll, a)
		}
	}
}
