package hostile

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/internal/reqfile"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/token"
)

const rulesPath = "data_sources/mongodb-atlas/app/items/rules.json"

// load loads a one-collection app whose rules.json is data, and validates it.
func load(data []byte) (*rules.App, error) {
	app, err := rules.LoadApp(fstest.MapFS{rulesPath: {Data: data}})
	if err != nil {
		return nil, err
	}
	if errs := rules.Validate(app, rules.ValidateOptions{}).Errors(); len(errs) > 0 {
		return nil, errs
	}
	return app, nil
}

// hasCode reports whether err carries a diagnostic of the given code.
func hasCode(err error, code string) bool {
	for _, c := range source.Codes(err) {
		if c == code {
			return true
		}
	}
	return false
}

// reasons are the denials a case may want: every evaluator Reason but
// allowed.
var reasons = []evaluator.Reason{evaluator.ReasonNoRules, evaluator.ReasonNoRole, evaluator.ReasonDocumentFilter,
	evaluator.ReasonPermission, evaluator.ReasonFieldNotWritable, evaluator.ReasonFieldNotReadable,
	evaluator.ReasonError, evaluator.ReasonFilter}

// parseWant parses a want file: "error <code>", "denied <reason>" or
// "literal <s>". It refuses a want that does not pin the exact outcome: a
// bare kind, a reason the evaluator never gives, or a code that is not one
// "<area>/<name>" word.
func parseWant(data []byte) (kind, arg string, err error) {
	want := strings.TrimSpace(string(data))
	kind, arg, _ = strings.Cut(want, " ")
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return "", "", fmt.Errorf("want %q names no code, reason or literal: every case pins its exact outcome", want)
	}
	switch kind {
	case "denied":
		if !slices.Contains(reasons, evaluator.Reason(arg)) {
			return "", "", fmt.Errorf("want %q: %q is not a reason of a denial (%v)", want, arg, reasons)
		}
	case "error":
		if area, name, ok := strings.Cut(arg, "/"); !ok || area == "" || name == "" || strings.ContainsAny(arg, " \t") {
			return "", "", fmt.Errorf("want %q: %q is not one stable code <area>/<name>", want, arg)
		}
	case "literal":
	default:
		return "", "", fmt.Errorf("want %q: the outcome is error, denied or literal", want)
	}
	return kind, arg, nil
}

func TestCorpus(t *testing.T) {
	casetest.Run(t, "../../testdata/hostile/*.txtar", func(t *testing.T, c *casetest.Case) {
		want, ok := c.File("want")
		if !ok {
			t.Fatal("case has no want file")
		}
		kind, arg, err := parseWant(want)
		if err != nil {
			t.Fatal(err)
		}
		c.Report(runCase(t, c.Archive, kind, arg))
	})
}

// runCase runs one case and returns how its outcome differs from want
// (nothing when it is exactly the expected one). A malformed case fails t.
func runCase(t *testing.T, a *txtar.Archive, kind, arg string) []string {
	ctx := context.Background()
	rulesJSON, hasRules := a.Get("rules.json")
	query, hasQuery := a.Get("query.json")
	reqJSON, hasReq := a.Get("request.json")

	if kind == "error" && hasQuery && !hasRules {
		var q bson.Raw
		if err := bson.UnmarshalExtJSON(query, false, &q); err != nil {
			t.Fatalf("query.json: %v", err)
		}
		err := mql.ValidateQuery(q)
		if err == nil {
			return []string{fmt.Sprintf("client query accepted, want error %s", arg)}
		}
		if !errors.Is(err, mql.ErrInvalidQuery) || !hasCode(err, arg) {
			return []string{fmt.Sprintf("client query error %q (codes %v), want code %s", err, source.Codes(err), arg)}
		}
		return nil
	}
	if !hasRules {
		t.Fatal("case has neither rules.json nor query.json")
	}
	app, err := load(rulesJSON)
	if kind == "error" {
		if err == nil {
			return []string{fmt.Sprintf("rules accepted, want error %s", arg)}
		}
		if !hasCode(err, arg) {
			return []string{fmt.Sprintf("rules error %q has codes %v, want %s", err, source.Codes(err), arg)}
		}
		// Every diagnostic names a place.
		var diffs []string
		var list source.ErrorList
		if errors.As(err, &list) {
			for _, e := range list {
				if e.File == "" || e.Line == 0 {
					diffs = append(diffs, fmt.Sprintf("diagnostic without a position: %v", e))
				}
			}
		}
		return diffs
	}
	if err != nil {
		return []string{fmt.Sprintf("rules: %v", err)}
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		return []string{fmt.Sprintf("compile: %v", err)}
	}
	if !hasReq {
		t.Fatal("case has no request.json")
	}
	req, err := reqfile.Parse("request.json", reqJSON, reqfile.Options{
		Keys: []string{"document", "prev_document", "update"},
		Actions: []evaluator.Action{evaluator.ActionRead, evaluator.ActionWrite, evaluator.ActionInsert,
			evaluator.ActionDelete, evaluator.ActionSearch},
	})
	if err != nil {
		t.Fatal(err)
	}
	caller, doc := req.Caller, req.Doc

	switch kind {
	case "denied":
		// "denied <reason>": Evaluate denies with exactly that Reason, and
		// with an error exactly when the reason is "error".
		reason := evaluator.Reason(arg)
		d, err := prog.Evaluate(ctx, caller, doc)
		var diffs []string
		switch {
		case d.Allowed:
			diffs = append(diffs, fmt.Sprintf("allowed by role %q, want denied %s", d.Role, reason))
		case d.Reason != reason:
			diffs = append(diffs, fmt.Sprintf("denied %s (role %q, err %v), want denied %s", d.Reason, d.Role, err, reason))
		case (err != nil) != (reason == evaluator.ReasonError):
			diffs = append(diffs, fmt.Sprintf("denied %s with err %v: an error comes exactly with reason error", d.Reason, err))
		}
		// The read filter must not select the document either. It is
		// computed, unless the reason is error: the rules then fail closed
		// for every document and the read filter errors too.
		if doc.Action == evaluator.ActionRead && doc.Document != nil {
			filter, _, err := prog.ReadFilter(ctx, caller)
			switch {
			case err != nil && reason == evaluator.ReasonError:
			case err != nil:
				diffs = append(diffs, fmt.Sprintf("ReadFilter: %v, want a filter that excludes the document", err))
			case matches(t, filter, doc.Document):
				diffs = append(diffs, fmt.Sprintf("read filter %v selects the denied document", filter))
			}
		}
		return diffs
	case "literal":
		var q bson.D
		if err := bson.UnmarshalExtJSON(query, false, &q); err != nil {
			t.Fatalf("query.json: %v", err)
		}
		raw, _ := bson.Marshal(q)
		if err := mql.ValidateQuery(raw); err != nil {
			return []string{fmt.Sprintf("client query refused: %v", err)}
		}
		filter, _, err := prog.ReadFilter(ctx, caller)
		if err != nil {
			return []string{fmt.Sprintf("ReadFilter: %v", err)}
		}
		combined := mql.And(q, filter)
		ext, err := bson.MarshalExtJSON(combined, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ext), `"`+arg+`"`) {
			return []string{fmt.Sprintf("combined filter %s lost the literal %q", ext, arg)}
		}
		userIDValue, _ := caller.Inputs.User.Lookup("id")
		userID, _ := userIDValue.StringOK()
		if n := strings.Count(string(ext), `"`+userID+`"`); n != 1 {
			return []string{fmt.Sprintf("combined filter %s holds the user id %d times, want once (from the rule only)", ext, n)}
		}
		return nil
	default:
		t.Fatalf("unknown want %s %s", kind, arg)
		return nil
	}
}

// matches matches filter against doc in memory with mql.Match; a filter
// Match cannot decide fails the test.
func matches(t *testing.T, filter bson.D, doc bson.Raw) bool {
	t.Helper()
	raw, err := bson.Marshal(filter)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mql.Match(raw, doc)
	if err != nil {
		t.Fatalf("matcher: filter %v: %v", filter, err)
	}
	return m
}

// nest returns an expression nested n levels deep with %and.
func nest(n int) string {
	return strings.Repeat(`{"%and": [`, n) + `{"owner_id": "%%user.id"}` + strings.Repeat(`]}`, n)
}

func TestDeepRules(t *testing.T) {
	for _, n := range []int{100, 10_000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			rulesJSON := `{"database": "app", "collection": "items", "roles": [{"name": "r", "apply_when": ` + nest(n) + `, "read": true}]}`
			app, err := load([]byte(rulesJSON))
			if n > source.MaxDepth {
				if !hasCode(err, source.CodeJSONTooDeep) {
					t.Fatalf("10k-level rules: err %v, want %s", err, source.CodeJSONTooDeep)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := evaluator.Compile(app); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDeepClientQuery(t *testing.T) {
	q := strings.Repeat(`{"$and": [`, 10_000) + `{"a": 1}` + strings.Repeat(`]}`, 10_000)
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(q), false, &raw); err != nil {
		// The driver itself refuses it: nothing reaches rulegate.
		t.Skipf("driver refuses the query: %v", err)
	}
	err := mql.ValidateQuery(raw)
	if !hasCode(err, mql.CodeQueryDepth) {
		t.Fatalf("10k-level client query: %v, want %s", err, mql.CodeQueryDepth)
	}
}

// TestHugeArrays: a rule with a 100,000-element $in literal and a user whose
// teamIds claim holds 100,000 entries still load, compile and decide
// correctly.
func TestHugeArrays(t *testing.T) {
	const n = 100_000
	var b strings.Builder
	b.WriteString(`[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"t%d"`, i)
	}
	b.WriteString(`]`)
	arr := b.String()
	rulesJSON := `{"database": "app", "collection": "items", "roles": [
	  {"name": "listed", "apply_when": {"team_id": {"$in": ` + arr + `}, "%%user.custom_data.ok": true}, "read": true},
	  {"name": "member", "apply_when": {"team_id": {"$in": "%%user.custom_data.teamIds"}}, "read": true}]}`
	app, err := load([]byte(rulesJSON))
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app, evaluator.WithMaxNodes(10*n))
	if err != nil {
		t.Fatal(err)
	}
	user, err := expansion.NewUserObject([]byte(`{"id": "u1", "custom_data": {"teamIds": ` + arr + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, tc := range []struct {
		team string
		want bool
	}{{"t99999", true}, {"t0", true}, {"nope", false}} {
		doc, _ := bson.Marshal(bson.D{{Key: "team_id", Value: tc.team}})
		d, err := prog.Evaluate(ctx, evaluator.Caller{Namespace: "app.items", Inputs: expansion.Inputs{User: user}}, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
		if err != nil {
			t.Fatal(err)
		}
		if d.Allowed != tc.want {
			t.Errorf("team %s: allowed %v, want %v", tc.team, d.Allowed, tc.want)
		}
	}
	// The node limit guards compile time: a literal array is one node (its
	// set is built once), but a rule with thousands of branches is refused
	// under a small limit with a clear error.
	var or strings.Builder
	for i := 0; i < 5000; i++ {
		if i > 0 {
			or.WriteByte(',')
		}
		fmt.Fprintf(&or, `{"team_id": "t%d"}`, i)
	}
	wide, err := load([]byte(`{"database": "app", "collection": "items", "roles": [{"name": "r", "apply_when": {"%or": [` + or.String() + `]}, "read": true}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := evaluator.Compile(wide, evaluator.WithMaxNodes(100)); !hasCode(err, evaluator.CodeTooLarge) {
		t.Fatalf("a 100-node limit on a 5000-branch rule: %v, want %s", err, evaluator.CodeTooLarge)
	}
}

// TestTokens: forged, expired, wrongly keyed and oversized tokens never
// yield a user.
func TestTokens(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	key, err := token.HMACKey("k1", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := token.HMACKey("k1", []byte("another secret of 32 bytes or more"))
	if err != nil {
		t.Fatal(err)
	}
	set := func(k token.Key) *token.KeySet {
		ks, err := token.NewKeySet(k)
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	signer, err := token.NewSigner(set(key), token.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	forger, err := token.NewSigner(set(other), token.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := token.NewVerifier(set(key), token.WithClock(clock), token.WithMaxSize(8<<10))
	if err != nil {
		t.Fatal(err)
	}
	good, err := signer.Sign(token.Params{UserID: "u1", CustomData: []byte(`{"admin": false}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifier.Verify(good); err != nil {
		t.Fatalf("the good token is refused: %v", err)
	}
	forged, _ := forger.Sign(token.Params{UserID: "u1", CustomData: []byte(`{"admin": true}`)})
	big, _ := signer.Sign(token.Params{UserID: "u1", CustomData: []byte(`{"pad": "` + strings.Repeat("x", 16<<10) + `"}`)})
	late, err := token.NewVerifier(set(key), token.WithClock(func() time.Time { return now.Add(31 * time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	algNone := "eyJhbGciOiJub25lIiwia2lkIjoiazEifQ." + parts[1] + "."

	for _, tc := range []struct {
		name string
		v    *token.Verifier
		tok  string
		want error
	}{
		{"alg none", verifier, algNone, token.ErrAlgNone},
		{"wrong key", verifier, forged, token.ErrSignature},
		{"expired", late, good, token.ErrExpired},
		{"oversized custom data", verifier, big, token.ErrTooLarge},
		{"garbage", verifier, "not.a.token", token.ErrMalformed},
		{"empty", verifier, "", token.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.v.Verify(tc.tok)
			if c != nil || !errors.Is(err, tc.want) {
				t.Fatalf("Verify: claims %v, err %v; want %v", c, err, tc.want)
			}
		})
	}
}

// TestDuplicateClaims: a correctly signed payload with a top-level claim
// twice ("sub", "user_data") is refused with ErrDuplicateKey; otherwise
// Claims.Subject and %%user.id could read different copies. A payload with
// the same extra claim under a fresh name is accepted, so the refusal is
// about the duplicate alone.
func TestDuplicateClaims(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	secret := []byte("0123456789abcdef0123456789abcdef")
	key, err := token.HMACKey("k1", secret)
	if err != nil {
		t.Fatal(err)
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := token.NewSigner(ks, token.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := token.NewVerifier(ks, token.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	good, err := signer.Sign(token.Params{UserID: "u1", CustomData: []byte(`{"admin": false}`)})
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, ".")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	// resign returns a token with payload p, signed with the same key.
	resign := func(p []byte) string {
		in := parts[0] + "." + base64.RawURLEncoding.EncodeToString(p)
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(in))
		return in + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}
	with := func(member string) []byte {
		p := bytes.TrimSpace(payload)
		return append(append(append([]byte{}, p[:len(p)-1]...), ","+member...), '}')
	}
	if _, err := verifier.Verify(resign(with(`"fresh":{"admin":true}`))); err != nil {
		t.Fatalf("a re-signed payload with a fresh claim is refused (%v): the test's signing is wrong", err)
	}
	for _, tc := range []struct{ name, member string }{
		{"sub", `"sub":"admin"`},
		{"user_data", `"` + expansion.ClaimCustomData + `":{"admin":true}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := verifier.Verify(resign(with(tc.member)))
			switch {
			case err == nil:
				id, _ := c.User().Lookup("id")
				idStr, _ := id.StringOK()
				cd, _ := c.CustomData()
				t.Errorf("accepted: Claims.Subject %q, %%%%user.id %q, custom data %s", c.Subject, idStr, cd)
			case !errors.Is(err, token.ErrDuplicateKey):
				t.Errorf("refused with %v, want token.ErrDuplicateKey", err)
			}
		})
	}
}
