package hostile

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/token"
	"github.com/rulegate/rulegate/value"
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

type request struct {
	User         json.RawMessage `json:"user"`
	Namespace    string          `json:"namespace"`
	Action       string          `json:"action"`
	Document     json.RawMessage `json:"document"`
	PrevDocument json.RawMessage `json:"prev_document"`
}

func extDoc(t *testing.T, b json.RawMessage) bson.Raw {
	t.Helper()
	if len(b) == 0 {
		return nil
	}
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON(b, false, &raw); err != nil {
		t.Fatalf("document: %v", err)
	}
	return raw
}

func (r request) build(t *testing.T) evaluator.Request {
	t.Helper()
	req := evaluator.Request{Namespace: r.Namespace, Action: evaluator.Action(r.Action)}
	if len(r.User) > 0 {
		u, err := expansion.NewUserObject(r.User)
		if err != nil {
			t.Fatalf("user: %v", err)
		}
		req.Inputs.User = u
	}
	req.Document = extDoc(t, r.Document)
	req.PrevDocument = extDoc(t, r.PrevDocument)
	return req
}

// divergences runs the cases that carry a known-divergence file strictly,
// as internal/doccases does: by default such a case is skipped with its
// outcome, so that the corpus can hold the right answer for a hole another
// change closes.
var divergences = flag.Bool("divergences", false, "run the known-divergence cases strictly instead of skipping them")

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("../../testdata/hostile/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			if a.Says() == "" {
				t.Fatal("case has no # line saying what it proves")
			}
			want, ok := a.Get("want")
			if !ok {
				t.Fatal("case has no want file")
			}
			diffs := runCase(t, a, strings.TrimSpace(string(want)))
			div, isDiv := a.Get("known-divergence")
			switch {
			case isDiv && len(diffs) == 0:
				t.Skipf("known divergence no longer diverges; remove the known-divergence file: %s", strings.TrimSpace(string(div)))
			case isDiv && !*divergences:
				t.Skipf("known divergence (%s): %s", strings.Join(diffs, "; "), strings.TrimSpace(string(div)))
			case len(diffs) > 0:
				t.Errorf("%s\n%s", strings.Join(diffs, "\n"), a.Says())
			}
		})
	}
}

// runCase runs one case and returns how its outcome differs from want
// (nothing when it is exactly the expected one). A malformed case fails t.
func runCase(t *testing.T, a *txtar.Archive, want string) []string {
	ctx := context.Background()
	kind, arg, _ := strings.Cut(want, " ")
	if arg == "" {
		t.Fatalf("want %q names no code, reason or literal: every case pins its exact outcome", want)
	}
	rulesJSON, hasRules := a.Get("rules.json")
	query, hasQuery := a.Get("query.json")
	reqJSON, hasReq := a.Get("request.json")

	if kind == "error" && hasQuery && !hasRules {
		var q bson.Raw
		if err := bson.UnmarshalExtJSON(query, false, &q); err != nil {
			t.Fatalf("query.json: %v", err)
		}
		err := evaluator.ValidateClientQuery(q)
		if err == nil {
			return []string{fmt.Sprintf("client query accepted, want error %s", arg)}
		}
		if !errors.Is(err, evaluator.ErrInvalidQuery) || !hasCode(err, arg) {
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
	var r request
	if err := json.Unmarshal(reqJSON, &r); err != nil {
		t.Fatalf("request.json: %v", err)
	}
	req := r.build(t)

	switch kind {
	case "denied":
		// "denied <reason>": Evaluate denies with exactly that Reason, and
		// with an error exactly when the reason is "error".
		reason := evaluator.Reason(arg)
		d, err := prog.Evaluate(ctx, req)
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
		if req.Action == evaluator.ActionRead && req.Document != nil {
			filter, _, err := prog.ReadFilter(ctx, evaluator.Request{Namespace: req.Namespace, Action: evaluator.ActionRead, Inputs: req.Inputs})
			switch {
			case err != nil && reason == evaluator.ReasonError:
			case err != nil:
				diffs = append(diffs, fmt.Sprintf("ReadFilter: %v, want a filter that excludes the document", err))
			case matches(t, filter, req.Document):
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
		if err := evaluator.ValidateClientQuery(raw); err != nil {
			return []string{fmt.Sprintf("client query refused: %v", err)}
		}
		filter, _, err := prog.ReadFilter(ctx, evaluator.Request{Namespace: req.Namespace, Action: evaluator.ActionRead, Inputs: req.Inputs})
		if err != nil {
			return []string{fmt.Sprintf("ReadFilter: %v", err)}
		}
		combined := evaluator.Combine(q, filter)
		ext, err := bson.MarshalExtJSON(combined, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(ext), `"`+arg+`"`) {
			return []string{fmt.Sprintf("combined filter %s lost the literal %q", ext, arg)}
		}
		userIDValue, _ := req.Inputs.User.Lookup("id")
		userID, _ := userIDValue.StringOK()
		if n := strings.Count(string(ext), `"`+userID+`"`); n != 1 {
			return []string{fmt.Sprintf("combined filter %s holds the user id %d times, want once (from the rule only)", ext, n)}
		}
		return nil
	default:
		t.Fatalf("unknown want %q", want)
		return nil
	}
}

// matches evaluates the read filter on one document with a small matcher
// for the operators read filters use; it fails the test on anything else,
// so that the check can never pass by not understanding the filter.
func matches(t *testing.T, filter bson.D, doc bson.Raw) bool {
	t.Helper()
	raw, err := bson.Marshal(filter)
	if err != nil {
		t.Fatal(err)
	}
	return matchDoc(t, bson.Raw(raw), value.FromDocument(doc))
}

func matchDoc(t *testing.T, f bson.Raw, doc value.Value) bool {
	elems, err := f.Elements()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range elems {
		key := e.Key()
		v := value.FromRaw(e.Value())
		switch key {
		case "$and", "$or", "$nor":
			arr, _ := v.ArrayOK()
			vals, _ := arr.Values()
			any, all := false, true
			for _, sub := range vals {
				m := matchDoc(t, sub.Document(), doc)
				any = any || m
				all = all && m
			}
			switch {
			case key == "$and" && !all, key == "$or" && !any, key == "$nor" && any:
				return false
			}
			continue
		}
		if strings.HasPrefix(key, "$") {
			t.Fatalf("matcher: unsupported top-level operator %s", key)
		}
		p := value.ParsePath(key)
		if value.HasRegex(v) {
			// A pattern on the server, a value here: never decided here.
			t.Fatalf("matcher: a regular expression operand in a filter")
		}
		if sub, ok := v.DocumentOK(); ok && isOps(sub) {
			ops, _ := sub.Elements()
			for _, op := range ops {
				arg := value.FromRaw(op.Value())
				if op.Key() != "$not" && value.CheckOperand(arg) != value.Comparable {
					t.Fatalf("matcher: an operand the server does not compare as a value (%s) in a filter", value.CheckOperand(arg))
				}
				var ok bool
				switch op.Key() {
				case "$eq":
					ok = value.MatchEq(doc, p, arg)
				case "$ne":
					ok = !value.MatchEq(doc, p, arg)
				case "$in", "$nin":
					arr, _ := arg.ArrayOK()
					vals, _ := arr.Values()
					set := make([]value.Value, len(vals))
					hasNull := false
					for i, x := range vals {
						set[i] = value.FromRaw(x)
						hasNull = hasNull || set[i].IsNull()
					}
					ok = value.MatchIn(doc, p, value.NewSet(set...), hasNull)
					if op.Key() == "$nin" {
						ok = !ok
					}
				case "$exists":
					b, _ := arg.BoolOK()
					ok = value.MatchExists(doc, p, b)
				default:
					t.Fatalf("matcher: unsupported operator %s", op.Key())
				}
				if !ok {
					return false
				}
			}
			continue
		}
		if !value.MatchEq(doc, p, v) {
			return false
		}
	}
	return true
}

func isOps(d bson.Raw) bool {
	elems, err := d.Elements()
	return err == nil && len(elems) > 0 && strings.HasPrefix(elems[0].Key(), "$")
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
	err := evaluator.ValidateClientQuery(raw)
	if !hasCode(err, evaluator.CodeQueryDepth) {
		t.Fatalf("10k-level client query: %v, want %s", err, evaluator.CodeQueryDepth)
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
		d, err := prog.Evaluate(ctx, evaluator.Request{Namespace: "app.items", Action: evaluator.ActionRead, Inputs: expansion.Inputs{User: user}, Document: doc})
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
	signer, err := token.NewSigner(set(key), token.Clock(clock))
	if err != nil {
		t.Fatal(err)
	}
	forger, err := token.NewSigner(set(other), token.Clock(clock))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := token.NewVerifier(set(key), token.Clock(clock), token.MaxSize(8<<10))
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
	late, err := token.NewVerifier(set(key), token.Clock(func() time.Time { return now.Add(31 * time.Minute) }))
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
	signer, err := token.NewSigner(ks, token.Clock(clock))
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := token.NewVerifier(ks, token.Clock(clock))
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
