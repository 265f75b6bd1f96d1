package bench

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// engines returns every engine, compiled, handwritten first.
func engines(tb testing.TB) []Engine {
	tb.Helper()
	ex, err := NewExpr()
	if err != nil {
		tb.Fatal(err)
	}
	ce, err := NewCEL()
	if err != nil {
		tb.Fatal(err)
	}
	op, err := NewOPA(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	rg, err := NewRulegateFromDir(AppDir)
	if err != nil {
		tb.Fatal(err)
	}
	return []Engine{Handwritten{}, ex, ce, op, rg}
}

type docCase struct {
	name          string
	owner, teamID string
}

// oracle is what every engine must answer, written from the definitions
// of the checks, apart from every engine.
func oracle(c Check, u User, d docCase) bool {
	owner := d.owner != "" && d.owner == u.ID
	switch c {
	case Owner:
		return owner
	case Team:
		return !u.NoCustomData && d.teamID != "" && slices.Contains(u.Teams, d.teamID)
	case AdminOrOwner:
		return (!u.NoCustomData && u.Admin) || owner
	}
	panic("unknown check")
}

// TestEnginesAgree checks that every engine gives the oracle's answer on
// combinations of users and documents that allow and deny each check: a
// benchmark of engines that disagree would measure nothing.
func TestEnginesAgree(t *testing.T) {
	teams := TeamIDs()
	bench := BenchUser()
	admin := BenchUser()
	admin.ID, admin.Admin, admin.Teams = "65a1b2c3d4e5f60718293a4d", true, teams[:3]
	outsider := User{ID: "65a1b2c3d4e5f60718293a4e", Teams: []string{"team-zz"}}
	noCustom := User{ID: bench.ID, NoCustomData: true}
	users := map[string]User{"bench": bench, "admin": admin, "outsider": outsider, "no-custom-data": noCustom}

	docs := []docCase{
		{"own-doc-own-team", bench.ID, teams[19]},
		{"own-doc-first-team", bench.ID, teams[0]},
		{"own-doc-foreign-team", bench.ID, "team-zz"},
		{"foreign-doc-own-team", outsider.ID, teams[7]},
		{"foreign-doc-foreign-team", admin.ID, "team-yy"},
		{"no-owner", "", teams[1]},
		{"no-team", outsider.ID, ""},
		{"owner-is-prefix", bench.ID[:10], "team-"},
	}

	seen := map[Check]map[bool]bool{}
	for _, e := range engines(t) {
		for un, u := range users {
			req, err := e.Bind(Claims(u))
			if err != nil {
				t.Fatalf("%s: Bind(%s): %v", e.Name(), un, err)
			}
			for _, d := range docs {
				raw := Document(d.owner, d.teamID)
				for _, c := range Checks {
					want := oracle(c, u, d)
					if seen[c] == nil {
						seen[c] = map[bool]bool{}
					}
					seen[c][want] = true
					got, err := req.Decide(c, raw)
					if err != nil {
						// An engine that cannot decide denies
						// (CEL reports a missing key as an error).
						got = false
					}
					if got != want {
						t.Errorf("%s: %s, user %s, document %s: got %v (err %v), want %v", e.Name(), c, un, d.name, got, err, want)
					}
					if md, ok := req.(MapDecider); ok {
						m, err := DocToMap(raw)
						if err != nil {
							t.Fatal(err)
						}
						got, err := md.DecideMap(c, m)
						if err != nil {
							got = false
						}
						if got != want {
							t.Errorf("%s: DecideMap %s, user %s, document %s: got %v (err %v), want %v", e.Name(), c, un, d.name, got, err, want)
						}
					}
				}
			}
		}
	}
	for _, c := range Checks {
		if !seen[c][true] || !seen[c][false] {
			t.Errorf("%s: the cases do not both allow and deny", c)
		}
	}
}

// TestBenchInputs checks the benchmark inputs: claims of about 1.5 KB, and
// a document that every check allows after the longest path (the team is
// the last of 20; the admin-or-owner check falls through to the owner).
func TestBenchInputs(t *testing.T) {
	claims := Claims(BenchUser())
	if n := len(claims); n < 1400 || n > 1700 {
		t.Errorf("claims are %d bytes, want about 1.5 KB", n)
	}
	doc := BenchDocument()
	for _, e := range engines(t) {
		req, err := e.Bind(claims)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range Checks {
			if ok, err := req.Decide(c, doc); !ok || err != nil {
				t.Errorf("%s: %s on the benchmark document = %v, %v; want true", e.Name(), c, ok, err)
			}
		}
	}
}

func TestDocToMap(t *testing.T) {
	m, err := DocToMap(BenchDocument())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"_id": "65a1b2c3d4e5f60718293a99", "title": "Quarterly report", "status": "open",
		"owner_id": BenchUser().ID, "team_id": TeamIDs()[19], "priority": int64(2),
		"created": "2023-11-14T22:13:20.000Z", "tags": []any{"finance", "q3"},
	}
	if len(m) != len(want) {
		t.Fatalf("got %d fields %v, want %d", len(m), m, len(want))
	}
	for k, w := range want {
		g := m[k]
		if gs, ok := g.([]any); ok {
			if !slices.Equal(gs, w.([]any)) {
				t.Errorf("%s = %v, want %v", k, g, w)
			}
			continue
		}
		if g != w {
			t.Errorf("%s = %#v, want %#v", k, g, w)
		}
	}
	if _, err := DocToMap(bson.Raw{1, 2}); err == nil {
		t.Error("DocToMap of garbage: no error")
	}
}

// mode is what the loop of a benchmark measures.
type mode int

const (
	// perDocument: the claims are bound once, outside the loop; the loop
	// decides one bson.Raw document (for the peers that includes
	// converting it with DocToMap).
	perDocument mode = iota
	// perRequest: every iteration binds the claims and then decides one
	// document.
	perRequest
	// decoded: like perDocument, but the document is converted by
	// DocToMap once, outside the loop: the engine alone. Only engines
	// whose requests are MapDeciders take part.
	decoded
)

// benchCheck runs one sub-benchmark per engine for check c.
func benchCheck(b *testing.B, c Check, m mode) {
	claims := Claims(BenchUser())
	doc := BenchDocument()
	docMap, err := DocToMap(doc)
	if err != nil {
		b.Fatal(err)
	}
	for _, e := range engines(b) {
		req, err := e.Bind(claims)
		if err != nil {
			b.Fatal(err)
		}
		md, isMD := req.(MapDecider)
		if m == decoded && !isMD {
			continue
		}
		b.Run(e.Name(), func(b *testing.B) {
			if ok, err := req.Decide(c, doc); !ok || err != nil {
				b.Fatalf("%s on the benchmark document = %v, %v; want true", c, ok, err)
			}
			b.ReportAllocs()
			switch m {
			case perDocument:
				for b.Loop() {
					if _, err := req.Decide(c, doc); err != nil {
						b.Fatal(err)
					}
				}
			case perRequest:
				for b.Loop() {
					req, err := e.Bind(claims)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := req.Decide(c, doc); err != nil {
						b.Fatal(err)
					}
				}
			case decoded:
				for b.Loop() {
					if _, err := md.DecideMap(c, docMap); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// Per document: the claims bound once, the loop decides one document.
func BenchmarkOwner(b *testing.B)        { benchCheck(b, Owner, perDocument) }
func BenchmarkTeam(b *testing.B)         { benchCheck(b, Team, perDocument) }
func BenchmarkAdminOrOwner(b *testing.B) { benchCheck(b, AdminOrOwner, perDocument) }

// Per request: binding the claims and deciding one document.
func BenchmarkOwnerPerRequest(b *testing.B)        { benchCheck(b, Owner, perRequest) }
func BenchmarkTeamPerRequest(b *testing.B)         { benchCheck(b, Team, perRequest) }
func BenchmarkAdminOrOwnerPerRequest(b *testing.B) { benchCheck(b, AdminOrOwner, perRequest) }

// Engine alone: the document already converted to a map.
func BenchmarkOwnerDecoded(b *testing.B)        { benchCheck(b, Owner, decoded) }
func BenchmarkTeamDecoded(b *testing.B)         { benchCheck(b, Team, decoded) }
func BenchmarkAdminOrOwnerDecoded(b *testing.B) { benchCheck(b, AdminOrOwner, decoded) }

// BenchmarkDocToMap is the conversion the peers pay per document.
func BenchmarkDocToMap(b *testing.B) {
	doc := BenchDocument()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DocToMap(doc); err != nil {
			b.Fatal(err)
		}
	}
}
