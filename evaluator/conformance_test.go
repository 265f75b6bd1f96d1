package evaluator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/internal/reqfile"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// caseApp builds the app of a conformance case: "rules.json" stands for
// data_sources/mongodb-atlas/db/coll/rules.json and "default_rule.json" for
// data_sources/mongodb-atlas/default_rule.json; files named by app paths
// are used as they are.
func caseApp(a *txtar.Archive) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, f := range a.Files {
		switch {
		case f.Name == "rules.json":
			fsys["data_sources/mongodb-atlas/db/coll/rules.json"] = &fstest.MapFile{Data: f.Data}
		case f.Name == "default_rule.json":
			fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: f.Data}
		case strings.HasPrefix(f.Name, "data_sources/"), strings.HasPrefix(f.Name, "auth/"), strings.HasPrefix(f.Name, "functions/"):
			fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		}
	}
	return fsys
}

// compileCase compiles the app of a case with its functions/*.expr files
// (exprfunc), reporting errors in the order Compile did when it compiled
// them itself: the rules' validation errors, then the function files'.
func compileCase(app *rules.App) (*evaluator.Program, error) {
	if errs := rules.Validate(app, rules.ValidateOptions{}).Errors(); len(errs) > 0 {
		return nil, errs
	}
	fns, err := exprfunc.Load(app, exprfunc.Limits{})
	if err != nil {
		return nil, err
	}
	return evaluator.Compile(app, evaluator.WithFunctions(fns))
}

// caseDecision is want.json.
type caseDecision struct {
	Allowed bool              `json:"allowed"`
	Role    string            `json:"role"`
	Reason  string            `json:"reason"`
	Fields  *evaluator.Fields `json:"fields,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// allActions are the actions a case's request may name.
var allActions = []evaluator.Action{evaluator.ActionRead, evaluator.ActionWrite, evaluator.ActionInsert, evaluator.ActionDelete, evaluator.ActionSearch}

// buildRequest turns request.json into a Caller and a Doc with the CLI's
// parser; a case may also give %%partition and %%args, and its namespace
// defaults to db.coll.
func buildRequest(t testing.TB, data []byte) (evaluator.Caller, evaluator.Doc) {
	t.Helper()
	req, err := reqfile.Parse("request.json", data, reqfile.Options{
		Keys:      []string{"document", "prev_document", "update", "partition", "args"},
		Actions:   allActions,
		Namespace: "db.coll",
	})
	if err != nil {
		t.Fatal(err)
	}
	return req.Caller, req.Doc
}

// claimsRequest returns caller with its user object carried as the
// claims of an access token (id as "sub", custom_data as "user_data",
// ...); ok is false when the request has no user.
func claimsRequest(t testing.TB, caller evaluator.Caller, data []byte) (evaluator.Caller, bool) {
	t.Helper()
	var cr struct {
		User map[string]json.RawMessage `json:"user"`
	}
	if err := json.Unmarshal(data, &cr); err != nil || cr.User == nil {
		return caller, false
	}
	claims := map[string]json.RawMessage{"typ": json.RawMessage(`"access"`), "exp": json.RawMessage(`1893456000`)}
	for k, v := range cr.User {
		name := map[string]string{"id": expansion.ClaimID, "type": expansion.ClaimType, "data": expansion.ClaimData,
			"custom_data": expansion.ClaimCustomData, "identities": expansion.ClaimIdentities}[k]
		if name == "" {
			name = "x_" + k // not a user field: never read as one
		}
		claims[name] = v
	}
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	u, err := expansion.NewUserClaims(b)
	if err != nil {
		t.Fatalf("claims %s: %v", b, err)
	}
	caller.Inputs.User = u
	return caller, true
}

func indentJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

func filterJSON(t testing.TB, filter, projection bson.D) []byte {
	t.Helper()
	f, err := bson.MarshalExtJSON(filter, false, false)
	if err != nil {
		t.Fatal(err)
	}
	p := []byte("null")
	if projection != nil {
		if p, err = bson.MarshalExtJSON(projection, false, false); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	buf.WriteString(`{"filter": `)
	buf.Write(f)
	buf.WriteString(`, "projection": `)
	buf.Write(p)
	buf.WriteString("}")
	var v any
	_ = json.Unmarshal(buf.Bytes(), &v)
	return indentJSON(t, v)
}

func TestConformance(t *testing.T) {
	casetest.Run(t, "testdata/conformance/*.txtar", func(t *testing.T, c *casetest.Case) {
		app, err := rules.LoadApp(caseApp(c.Archive))
		if err != nil {
			t.Fatalf("load: %v", err)
		}
		prog, err := compileCase(app)
		if err != nil {
			c.Check("want-error.txt", []byte(err.Error()+"\n"))
			return
		}
		c.Check("want-error.txt", nil, casetest.IfPresent)
		reqData, _ := c.File("request.json")
		caller, d := buildRequest(t, reqData)
		ctx := context.Background()
		wantData, _ := c.File("want.json")
		var want caseDecision
		if wantData != nil {
			if err := json.Unmarshal(wantData, &want); err != nil {
				t.Fatalf("want.json: %v", err)
			}
		}
		var opts []evaluator.EvalOption
		if want.Fields != nil || bytes.Contains(wantData, []byte(`"fields"`)) {
			opts = append(opts, evaluator.WithFields())
		}
		var tr evaluator.Trace
		opts = append(opts, evaluator.WithTrace(&tr))
		dec, err := prog.Evaluate(ctx, caller, d, opts...)
		got := caseDecision{Allowed: dec.Allowed, Role: dec.Role, Reason: string(dec.Reason)}
		if err != nil {
			got.Error = err.Error()
		}
		if len(opts) == 2 {
			f := dec.Fields
			got.Fields = &f
		}
		if !c.Check("want.json", indentJSON(t, got), casetest.AsJSON) {
			t.Logf("trace:\n%s", tr.String())
		}
		// The trace-off path must decide the same.
		plain, _ := prog.Evaluate(ctx, caller, d)
		if plain.Allowed != dec.Allowed || plain.Reason != dec.Reason || plain.Role != dec.Role || !slices.Equal(plain.Notes, dec.Notes) {
			t.Errorf("without trace: %+v, with trace: %+v", plain, dec)
		}
		// So must the same user carried as access-token claims.
		if ccaller, ok := claimsRequest(t, caller, reqData); ok {
			cdec, _ := prog.Evaluate(ctx, ccaller, d)
			if cdec.Allowed != dec.Allowed || cdec.Reason != dec.Reason || cdec.Role != dec.Role || !slices.Equal(cdec.Notes, dec.Notes) {
				t.Errorf("user as token claims: %+v, as a user object: %+v", cdec, dec)
			}
		}
		c.Check("want-trace.txt", []byte(tr.String()), casetest.IfPresent)
		var notes strings.Builder
		for _, n := range dec.Notes {
			notes.WriteString(n.String() + "\n")
		}
		c.Check("want-notes.txt", []byte(notes.String()), casetest.IfPresent)
		if _, ok := c.File("want-filter.json"); ok {
			var f, p bson.D
			var ferr error
			switch d.Action {
			case evaluator.ActionRead, evaluator.ActionSearch:
				f, p, ferr = prog.ReadFilter(ctx, caller)
			default:
				f, ferr = prog.WriteFilter(ctx, caller, d.Action, d.Update)
			}
			if ferr != nil {
				t.Fatalf("filter: %v", ferr)
			}
			c.Check("want-filter.json", filterJSON(t, f, p), casetest.AsJSON)
		}
	})
}
