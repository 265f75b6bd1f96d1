package evaluator_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// memMatch matches filter against doc in memory with mql.Match, which is
// independent of the evaluator's own matching code; a filter Match cannot
// decide (an operator it does not implement, a regex or another operand
// the server does not compare as a value) fails the test.
func memMatch(t testing.TB, doc bson.Raw, filter bson.D) bool {
	t.Helper()
	raw, err := bson.Marshal(filter)
	if err != nil {
		t.Fatalf("marshal filter: %v", err)
	}
	m, err := mql.Match(raw, doc)
	if err != nil {
		t.Fatalf("filter %v: %v", filter, err)
	}
	return m
}

// gen generates rules, users and documents for the agreement tests.
type gen struct{ r *rand.Rand }

func (g gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// Positional paths ("tags.0", "tags.1.x") read arrays by index, as
// MongoDB's path iterator does (value.Each).
var genFields = []string{"owner_id", "team_id", "tags", "n", "sub.x", "public", "_id", "tags.0", "tags.1.x"}

// "%%user.custom_data.re" is a regular expression for user u4 of
// genUsers (and an array holding one in "flags"): a decision that
// compares with it denies with evaluator.ErrRegex, and the filters
// refuse it (the server would read it as a pattern); for u5 it is the
// legacy {"$regex": ...} document (ErrOperator), and "flags" and "n"
// hold undefined (ErrUndefined).
var genClaims = []string{`"%%user.id"`, `"%%user.custom_data.teamIds"`, `"%%user.custom_data.team"`, `"%%user.custom_data.missing"`,
	`"%%user.custom_data.n"`, `"%%user.custom_data.nul"`, `"%%user.custom_data.oid"`, `"%%user.custom_data.flags"`, `"%%user.custom_data.re"`}

var genLiterals = []string{`"u1"`, `"t1"`, `1`, `1.0`, `{"$numberLong": "1"}`, `{"$numberDecimal": "1"}`, `null`, `true`,
	`{"$oid": "5f1a2b3c4d5e6f7a8b9c0d1e"}`, `"5f1a2b3c4d5e6f7a8b9c0d1e"`, `["t1", "u1"]`, `2`}

func (g gen) operand() string {
	if g.r.IntN(2) == 0 {
		return g.pick(genClaims...)
	}
	return g.pick(genLiterals...)
}

func (g gen) arrayOperand() string {
	switch g.r.IntN(4) {
	case 0:
		return `"%%user.custom_data.teamIds"`
	case 1:
		return `["t1", "u1", null]`
	case 2:
		return `["%%user.id", 1, "%%user.custom_data.missing"]`
	}
	return `"%%user.custom_data.flags"`
}

func (g gen) match() string {
	f := g.pick(genFields...)
	switch g.r.IntN(21) {
	case 12:
		return fmt.Sprintf(`{%q: {"%%stringToOid": %s}}`, f, g.pick(`"%%user.id"`, `"5f1a2b3c4d5e6f7a8b9c0d1e"`, `"%%user.custom_data.team"`))
	case 13:
		if g.r.IntN(4) == 0 {
			// Two document values compared: not expressible as a query.
			return fmt.Sprintf(`{%q: "%%%%root.team_id"}`, f)
		}
		return fmt.Sprintf(`{"%%%%user.id": {"%%oidToString": "%%%%root._id"}}`)
	case 0, 1, 2:
		return fmt.Sprintf(`{%q: %s}`, f, g.operand())
	case 3:
		return fmt.Sprintf(`{%q: {%q: %s}}`, f, g.pick("$gt", "$gte", "$lt", "$lte"), g.operand())
	case 4:
		return fmt.Sprintf(`{%q: {%q: %s}}`, f, g.pick("$in", "$nin"), g.arrayOperand())
	case 5:
		return fmt.Sprintf(`{%q: {"$exists": %s}}`, f, g.pick("true", "false"))
	case 6:
		return fmt.Sprintf(`{%q: {"$ne": %s}}`, f, g.operand())
	case 7:
		return fmt.Sprintf(`{%s: %q}`, g.pick(genClaims...), "%%root."+f)
	case 8:
		return fmt.Sprintf(`{%s: {%q: %q}}`, g.pick(genClaims...), g.pick("$in", "$nin", "$gt", "$lte", "$eq", "$ne"), "%%root."+f)
	case 9:
		return fmt.Sprintf(`{%s: {"$exists": %s}}`, g.pick(genClaims...), g.pick("true", "false"))
	case 10:
		// A claim as the subject, missing, null or present (the subject
		// rule of doc.go).
		switch c := g.pick(genClaims...); g.r.IntN(3) {
		case 0:
			return fmt.Sprintf(`{%s: %s}`, c, g.operand())
		case 1:
			return fmt.Sprintf(`{%s: {%q: %s}}`, c, g.pick("$eq", "$ne", "$gt", "$gte", "$lt", "$lte"), g.operand())
		default:
			return fmt.Sprintf(`{%s: {%q: %s}}`, c, g.pick("$in", "$nin"), g.arrayOperand())
		}
	case 14:
		return fmt.Sprintf(`{%q: {"$all": %s}}`, f, g.pick(`["t1"]`, `["t1", "u1"]`, `[]`, `[null]`, `[["t1", "u1"]]`, `["%%user.id", "t1"]`, `"%%user.custom_data.teamIds"`, `"%%user.custom_data.flags"`))
	case 18:
		return fmt.Sprintf(`{%q: {"$mod": %s}}`, f, g.pick(`[2, 0]`, `[2, 1]`, `[-2, 1]`, `[1.5, 0]`, `"%%user.custom_data.teamIds"`))
	case 16:
		return fmt.Sprintf(`{%q: {"$type": %s}}`, f, g.pick(`"string"`, `"array"`, `"int"`, `"number"`, `"null"`, `"objectId"`, `["bool", "double"]`, `"%%user.custom_data.team"`, `"%%user.custom_data.n"`))
	case 17:
		return fmt.Sprintf(`{%q: {"$not": {%q: %s}}}`, f, g.pick("$eq", "$gt", "$lte", "$ne"), g.operand())
	case 20:
		em := g.pick(`{"$eq": "u1"}`, `{"$gte": "t1", "$lt": "u"}`, `{"$in": "%%user.custom_data.teamIds"}`, `{"$ne": "t1"}`,
			`{"$type": "string"}`, `{"$exists": true}`, `{"$eq": "%%user.custom_data.teamIds"}`, `{"$not": {"$gt": 1}}`,
			`{"x": "%%user.id"}`, `{"x": {"$gt": 1}}`, `{}`, `{"x": {"$exists": false}}`, `{"$or": [{"x": 2}, {"x": "%%user.custom_data.team"}]}`)
		if g.r.IntN(4) == 0 {
			return fmt.Sprintf(`{%q: {"$not": {"$elemMatch": %s}}}`, f, em)
		}
		return fmt.Sprintf(`{%q: {"$elemMatch": %s}}`, f, em)
	case 19:
		re := g.pick(`{"$regex": "^u"}`, `{"$regex": "1$"}`, `{"$regex": "^T", "$options": "i"}`, `{"$regex": "[tu]\\d"}`, `{"$regex": ""}`, `{"$regex": "^(u|t)1$"}`, `{"$regex": "x"}`)
		if g.r.IntN(4) == 0 {
			return fmt.Sprintf(`{%q: {"$not": %s}}`, f, re)
		}
		return fmt.Sprintf(`{%q: %s}`, f, re)
	case 15:
		return fmt.Sprintf(`{%q: {"$size": %s}}`, f, g.pick(`0`, `1`, `2`, `2.0`, `{"$numberLong": "1"}`, `"%%user.custom_data.n"`, `"%%user.custom_data.team"`))
	}
	return fmt.Sprintf(`{"%%%%root.%s": {"%%and": [{"$gte": 1}, {"$lt": 3}]}}`, f)
}

func (g gen) expr(depth int) string {
	if depth > 0 {
		switch g.r.IntN(6) {
		case 0:
			return fmt.Sprintf(`{"%%or": [%s, %s]}`, g.expr(depth-1), g.expr(depth-1))
		case 1:
			return fmt.Sprintf(`{"%%and": [%s, %s]}`, g.expr(depth-1), g.expr(depth-1))
		case 2:
			return fmt.Sprintf(`{"$nor": [%s]}`, g.expr(depth-1))
		}
	}
	switch g.r.IntN(10) {
	case 0:
		return "true"
	case 1:
		return "false"
	case 2:
		return "{}"
	}
	return g.match()
}

func (g gen) perm() string {
	switch g.r.IntN(4) {
	case 0:
		return "true"
	case 1:
		return "false"
	}
	return g.expr(1)
}

func (g gen) role(i int) string {
	var parts []string
	parts = append(parts, fmt.Sprintf(`"name": "r%d"`, i))
	if g.r.IntN(5) > 0 {
		parts = append(parts, `"apply_when": `+g.expr(2))
	}
	if g.r.IntN(3) == 0 {
		var df []string
		if g.r.IntN(2) == 0 {
			df = append(df, `"read": `+g.perm())
		}
		if g.r.IntN(2) == 0 {
			df = append(df, `"write": `+g.perm())
		}
		parts = append(parts, `"document_filters": {`+strings.Join(df, ", ")+`}`)
	}
	if g.r.IntN(2) == 0 {
		parts = append(parts, `"read": `+g.perm())
	}
	if g.r.IntN(3) == 0 {
		parts = append(parts, `"write": `+g.perm())
	}
	if g.r.IntN(3) == 0 {
		parts = append(parts, fmt.Sprintf(`"fields": {"owner_id": {"read": %s, "write": %s}, "sub": {"fields": {"x": {"write": %s}}}}`, g.perm(), g.perm(), g.perm()))
	}
	if g.r.IntN(3) == 0 {
		parts = append(parts, fmt.Sprintf(`"additional_fields": {"read": %s, "write": %s}`, g.perm(), g.perm()))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (g gen) rulesJSON() string {
	n := 1 + g.r.IntN(3)
	var roles []string
	for i := 0; i < n; i++ {
		roles = append(roles, g.role(i))
	}
	filters := ""
	if g.r.IntN(4) == 0 {
		filters = fmt.Sprintf(`, "filters": [{"name": "f", "apply_when": %s, "query": %s}]`,
			g.pick(`true`, `{"%%user.custom_data.team": "red"}`, `{"%%user.custom_data.missing": {"$exists": true}}`,
				`{"%%user.custom_data.team": {"$ne": "red"}}`, `{"$nor": [{"%%user.custom_data.n": {"$gt": 1}}]}`,
				`{"%and": [{"%%user.custom_data.missing": {"$ne": true}}, {"%%user.custom_data.team": "blue"}]}`), g.match())
	}
	return `{"database": "db", "collection": "coll", "roles": [` + strings.Join(roles, ", ") + `]` + filters + `}`
}

var genValues = []string{`"u1"`, `"u2"`, `"t1"`, `"t3"`, `null`, `1`, `{"$numberLong": "1"}`, `1.0`, `{"$numberDecimal": "1.0"}`, `2.5`,
	`["t1", "t3"]`, `[]`, `["u1"]`, `[1, "x"]`, `{"$oid": "5f1a2b3c4d5e6f7a8b9c0d1e"}`, `"5f1a2b3c4d5e6f7a8b9c0d1e"`,
	`{"x": "u1"}`, `[{"x": "u1"}, {"x": 2}]`, `true`, `false`, `[null]`, `[["t1", "u1"]]`, `["t1", "u1"]`}

func (g gen) document(i int) string {
	parts := []string{fmt.Sprintf(`"_id": %d`, i)}
	if g.r.IntN(8) == 0 {
		parts[0] = `"_id": {"$oid": "5f1a2b3c4d5e6f7a8b9c0d1e"}`
	}
	for _, f := range []string{"owner_id", "team_id", "tags", "n", "sub", "public"} {
		if g.r.IntN(3) == 0 {
			continue
		}
		v := g.pick(genValues...)
		if f == "sub" && g.r.IntN(2) == 0 {
			v = fmt.Sprintf(`{"x": %s, "y": 1}`, g.pick(genValues...))
		}
		parts = append(parts, fmt.Sprintf(`%q: %s`, f, v))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

var genUsers = []string{
	`{"id": "u1", "type": "normal", "custom_data": {"teamIds": ["t1", "t2"], "team": "red", "n": 1, "nul": null, "oid": {"$oid": "5f1a2b3c4d5e6f7a8b9c0d1e"}, "flags": [true, null, 2.5]}}`,
	`{"id": "u2", "type": "normal", "custom_data": {"teamIds": [], "team": "blue", "n": 2.5}}`,
	`{"id": "5f1a2b3c4d5e6f7a8b9c0d1e", "type": "normal", "custom_data": {"teamIds": "t1", "n": {"$numberDecimal": "1"}}}`,
	`{"id": "u3", "type": "server"}`,
	`{"id": "u4", "type": "normal", "custom_data": {"teamIds": ["t1", {"$regularExpression": {"pattern": "^t", "options": ""}}], "team": "red",
	  "re": {"$regularExpression": {"pattern": "1", "options": ""}}, "flags": [{"$regularExpression": {"pattern": "u", "options": "i"}}]}}`,
	// Operands the server reads as operators or refuses: the legacy
	// regex form (a document), a $-document in an array, undefined.
	`{"id": "u5", "type": "normal", "custom_data": {"teamIds": ["t1", {"$gt": 1}], "team": "red", "n": {"$undefined": true},
	  "re": {"$regex": "1", "$options": ""}, "flags": [true, {"$undefined": true}]}}`,
}

// refused reports whether err is a refusal of an operand the server does
// not compare as a value (ErrRegex, ErrOperator, ErrUndefined).
func refused(err error) bool {
	return errors.Is(err, evaluator.ErrRegex) || errors.Is(err, evaluator.ErrOperator) || errors.Is(err, evaluator.ErrUndefined)
}

func genApp(t testing.TB, rulesJSON string) *evaluator.Program {
	t.Helper()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/db/coll/rules.json": {Data: []byte(rulesJSON)}})
	if err != nil {
		return nil
	}
	p, err := evaluator.Compile(app)
	if err != nil {
		return nil
	}
	return p
}

func genDoc(t testing.TB, s string) bson.Raw {
	t.Helper()
	var d bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(s), false, &d); err != nil {
		t.Fatalf("document %s: %v", s, err)
	}
	return d
}

// agreementCase is one generated rule set with its users and documents.
type agreementCase struct {
	rules string
	prog  *evaluator.Program
	docs  []string
}

func genCase(t testing.TB, seed uint64) (agreementCase, int) {
	g := gen{rand.New(rand.NewPCG(seed, 7))}
	rejected := 0
	for {
		c := agreementCase{rules: g.rulesJSON()}
		if c.prog = genApp(t, c.rules); c.prog == nil {
			rejected++
			if rejected > 1000 {
				t.Fatalf("seed %d: the generator writes rules the loader rejects: %s", seed, c.rules)
			}
			continue
		}
		for i := 0; i < 25; i++ {
			c.docs = append(c.docs, g.document(i))
		}
		return c, rejected
	}
}

// The differential tests (TestReadFilterAgreesWithEvaluate,
// TestReadFilterOnServer) run generated seeds 1..N with a fixed N; -seeds
// and -seed run more, or replay one:
//
//	go test ./evaluator -run '^TestReadFilterAgreesWithEvaluate$' -seeds 100000
//	go test ./evaluator -run '^TestReadFilterAgreesWithEvaluate$' -seed 4242
var (
	seedsFlag = flag.Uint64("seeds", 0, "differential tests: how many generated seeds to run (0: each test's default; with -seed: from that seed)")
	seedFlag  = flag.Uint64("seed", 0, "differential tests: the first seed to run (alone, unless -seeds is given); replays a failure")
)

// seedRange returns the seeds a differential test runs: 1..def by
// default, -seed alone, or -seeds seeds from -seed (or 1).
func seedRange(def uint64) (first, n uint64) {
	first, n = 1, def
	if *seedFlag != 0 {
		first, n = *seedFlag, 1
	}
	if *seedsFlag != 0 {
		n = *seedsFlag
	}
	return first, n
}

// replay is the command that reruns one seed of a differential test,
// printed at the start of its failure messages.
func replay(test string, seed uint64) string {
	return fmt.Sprintf("replay: go test ./evaluator -run '^%s$' -seed %d\n", test, seed)
}

// TestReadFilterAgreesWithEvaluate checks, on generated rules and
// documents, that a document matches ReadFilter exactly when Evaluate
// allows reading it, and WriteFilter (with an update) exactly when
// Evaluate allows the update on the stored document.
func TestReadFilterAgreesWithEvaluate(t *testing.T) {
	def := uint64(400)
	if testing.Short() {
		def = 60
	}
	first, n := seedRange(def)
	skipped, allowed, denied, wallowed, loadFail, regex := 0, 0, 0, 0, 0, 0
	for seed := first; seed < first+n; seed++ {
		st := checkAgreement(t, seed)
		loadFail += st.rejected
		skipped += st.skipped
		allowed += st.allowed
		denied += st.denied
		wallowed += st.wallowed
		regex += st.regex
	}
	t.Logf("%d rule sets (%d generated rule files rejected by the loader), %d filters not expressible, %d refusing a regex claim; reads allowed %d, denied %d; writes allowed %d",
		n, loadFail, skipped, regex, allowed, denied, wallowed)
	if n >= 60 && (allowed == 0 || denied == 0 || wallowed == 0 || regex == 0) {
		t.Errorf("the generator does not cover both outcomes")
	}
}

var _ = json.Marshal

// agreementStats counts what one generated case exercised.
type agreementStats struct{ rejected, skipped, allowed, denied, wallowed, regex int }

// checkRegexDenies checks a decision of a request whose filter refused a
// regex (operator-document, undefined) claim: Evaluate either decides
// without it or denies with ErrRegex (ErrOperator, ErrUndefined) and
// ReasonError, never allowing on a comparison with it.
func checkRegexDenies(t testing.TB, rp string, seed uint64, ui int, rulesJSON, ds string, prog *evaluator.Program, caller evaluator.Caller, d evaluator.Doc) {
	t.Helper()
	dec, err := prog.Evaluate(context.Background(), caller, d)
	switch {
	case err == nil:
	case !refused(err):
		t.Fatalf(rp+"seed %d user %d: Evaluate: %v", seed, ui, err)
	case dec.Allowed || dec.Reason != evaluator.ReasonError:
		t.Fatalf(rp+"seed %d user %d: Evaluate allows (%s) with a regex error %v\nrules: %s\ndocument: %s", seed, ui, dec.Reason, err, rulesJSON, ds)
	}
}

// checkAgreement checks one generated case (see
// TestReadFilterAgreesWithEvaluate); it fails t with the seed.
func checkAgreement(t testing.TB, seed uint64) agreementStats {
	ctx := context.Background()
	var st agreementStats
	rp := replay("TestReadFilterAgreesWithEvaluate", seed)
	{
		c, rejected := genCase(t, seed)
		st.rejected += rejected
		for ui, u := range genUsers {
			user, err := expansion.NewUserObject([]byte(u))
			if err != nil {
				t.Fatal(err)
			}
			caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}
			filter, _, err := c.prog.ReadFilter(ctx, caller)
			if refused(err) {
				// The filter refuses the regex (operator, undefined) claim; Evaluate must deny
				// every decision that needs it (checkRegexDenies).
				st.regex++
				for _, ds := range c.docs {
					checkRegexDenies(t, rp, seed, ui, c.rules, ds, c.prog, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: genDoc(t, ds)})
				}
				continue
			}
			if err != nil {
				if strings.Contains(err.Error(), "cannot be written") {
					st.skipped++
					continue
				}
				t.Fatalf(rp+"seed %d user %d: ReadFilter: %v\nrules: %s", seed, ui, err, c.rules)
			}
			update := genDoc(t, `{"$set": {"sub.x": 1}}`)
			wfilter, werr := c.prog.WriteFilter(ctx, caller, evaluator.ActionWrite, update)
			dfilter, derr := c.prog.WriteFilter(ctx, caller, evaluator.ActionDelete, nil)
			if werr != nil && !strings.Contains(werr.Error(), "cannot be written") {
				t.Fatalf(rp+"seed %d user %d: WriteFilter: %v\nrules: %s", seed, ui, werr, c.rules)
			}
			for _, ds := range c.docs {
				doc := genDoc(t, ds)
				dec, err := c.prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
				if err != nil && !refused(err) {
					t.Fatalf(rp+"seed %d: Evaluate: %v", seed, err)
				}
				if dec.Allowed {
					st.allowed++
				} else {
					st.denied++
				}
				if got := memMatch(t, doc, filter); got != dec.Allowed {
					fj, _ := bson.MarshalExtJSON(filter, false, false)
					t.Fatalf(rp+"seed %d user %d: read filter matches %v, Evaluate allows %v (%s, role %q)\nrules: %s\nfilter: %s\ndocument: %s",
						seed, ui, got, dec.Allowed, dec.Reason, dec.Role, c.rules, fj, ds)
				}
				if derr == nil && memMatch(t, doc, dfilter) {
					// The delete filter is sufficient, not exact (see
					// WriteFilter): what it selects must be deletable.
					if ddec, _ := c.prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionDelete, Document: doc}); !ddec.Allowed {
						fj, _ := bson.MarshalExtJSON(dfilter, false, false)
						t.Fatalf(rp+"seed %d user %d: delete filter matches a document Evaluate does not allow deleting (%s)\nrules: %s\nfilter: %s\ndocument: %s",
							seed, ui, ddec.Reason, c.rules, fj, ds)
					}
				}
				if werr != nil {
					continue
				}
				wdec, err := c.prog.Evaluate(ctx, caller, evaluator.Doc{Action: evaluator.ActionWrite, Document: doc, PrevDocument: doc, Update: update})
				if err != nil && !refused(err) {
					t.Fatalf(rp+"seed %d: Evaluate write: %v", seed, err)
				}
				if wdec.Allowed {
					st.wallowed++
				}
				if got := memMatch(t, doc, wfilter); got != wdec.Allowed {
					fj, _ := bson.MarshalExtJSON(wfilter, false, false)
					t.Fatalf(rp+"seed %d user %d: write filter matches %v, Evaluate allows %v (%s, role %q)\nrules: %s\nfilter: %s\ndocument: %s",
						seed, ui, got, wdec.Allowed, wdec.Reason, wdec.Role, c.rules, fj, ds)
				}
			}
		}
	}
	return st
}

// FuzzReadFilterAgreement explores more generated cases than the fixed
// seeds of TestReadFilterAgreesWithEvaluate.
func FuzzReadFilterAgreement(f *testing.F) {
	for _, s := range []uint64{1, 70, 401, 9999} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed uint64) { checkAgreement(t, seed) })
}
