package doccases_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/internal/reqfile"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
)

// caseApp builds the app file system of a case and returns the namespace of
// its rules.json.
func caseApp(t *testing.T, a *txtar.Archive) (fstest.MapFS, string) {
	t.Helper()
	fsys := fstest.MapFS{}
	ns := "db.coll"
	for _, f := range a.Files {
		switch {
		case f.Name == "rules.json":
			var keys struct {
				Database   string `json:"database"`
				Collection string `json:"collection"`
			}
			if err := json.Unmarshal(f.Data, &keys); err != nil {
				t.Fatalf("rules.json: %v", err)
			}
			db, coll := keys.Database, keys.Collection
			if db == "" {
				db = "db"
			}
			if coll == "" {
				coll = "coll"
			}
			ns = db + "." + coll
			fsys["data_sources/mongodb-atlas/"+db+"/"+coll+"/rules.json"] = &fstest.MapFile{Data: f.Data}
		case f.Name == "default_rule.json":
			fsys["data_sources/mongodb-atlas/default_rule.json"] = &fstest.MapFile{Data: f.Data}
		case strings.HasPrefix(f.Name, "data_sources/"), strings.HasPrefix(f.Name, "auth/"), strings.HasPrefix(f.Name, "functions/"):
			fsys[f.Name] = &fstest.MapFile{Data: f.Data}
		}
	}
	return fsys, ns
}

// buildRequest turns request.json into a Caller and a Doc with the CLI's
// parser and the keys of `rulegate eval`; the namespace defaults to that of
// the case's rules.json.
func buildRequest(t *testing.T, data []byte, ns string) (evaluator.Caller, evaluator.Doc) {
	t.Helper()
	req, err := reqfile.Parse("request.json", data, reqfile.Options{
		Keys: []string{"document", "prev_document", "update"},
		Actions: []evaluator.Action{evaluator.ActionRead, evaluator.ActionWrite, evaluator.ActionInsert,
			evaluator.ActionDelete, evaluator.ActionSearch},
		Namespace: ns,
	})
	if err != nil {
		t.Fatal(err)
	}
	return req.Caller, req.Doc
}

// want is want.json; absent keys are not compared.
type want struct {
	Allowed *bool                       `json:"allowed"`
	Role    json.RawMessage             `json:"role"`
	Reason  *string                     `json:"reason"`
	Fields  map[string]*json.RawMessage `json:"fields"`
}

// check compares a decision with want.json and returns the differences.
func check(t *testing.T, w want, d evaluator.Decision) []string {
	t.Helper()
	var diffs []string
	if w.Allowed != nil && *w.Allowed != d.Allowed {
		diffs = append(diffs, fmt.Sprintf("allowed: got %v, want %v", d.Allowed, *w.Allowed))
	}
	if w.Role != nil {
		var role *string
		if err := json.Unmarshal(w.Role, &role); err != nil {
			t.Fatalf("want.json role: %v", err)
		}
		wr := ""
		if role != nil {
			wr = *role
		}
		if wr != d.Role {
			diffs = append(diffs, fmt.Sprintf("role: got %q, want %q", d.Role, wr))
		}
	}
	if w.Reason != nil && *w.Reason != string(d.Reason) {
		diffs = append(diffs, fmt.Sprintf("reason: got %q, want %q", d.Reason, *w.Reason))
	}
	for k, raw := range w.Fields {
		var wl []string
		if raw != nil {
			if err := json.Unmarshal(*raw, &wl); err != nil {
				t.Fatalf("want.json fields.%s: %v", k, err)
			}
		}
		var gl []string
		switch k {
		case "read":
			gl = d.Fields.Read
		case "write":
			gl = d.Fields.Write
		default:
			t.Fatalf("want.json: unknown fields key %q", k)
		}
		wl, gl = sorted(wl), sorted(gl)
		if strings.Join(wl, ",") != strings.Join(gl, ",") {
			diffs = append(diffs, fmt.Sprintf("fields.%s: got %q, want %q", k, gl, wl))
		}
	}
	return diffs
}

func sorted(xs []string) []string {
	out := append([]string{}, xs...)
	sort.Strings(out)
	return out
}

func TestDocCases(t *testing.T) {
	casetest.Run(t, "testdata/*.txtar", func(t *testing.T, c *casetest.Case) {
		c.Report(runCase(t, c.Archive))
	})
}

// runCase loads, validates, compiles and evaluates a case and returns how
// rulegate's answer differs from the documented one.
func runCase(t *testing.T, a *txtar.Archive) []string {
	t.Helper()
	fsys, ns := caseApp(t, a)
	app, err := rules.LoadApp(fsys)
	wantErr, hasWantErr := a.Get("want-error.txt")
	var errs []error
	if err != nil {
		errs = append(errs, err)
	} else if l := rules.Validate(app, rules.ValidateOptions{}).Errors(); len(l) > 0 {
		errs = append(errs, l)
	}
	if hasWantErr {
		got := fmt.Sprint(errs)
		var diffs []string
		for _, code := range strings.Fields(string(wantErr)) {
			if !strings.Contains(got, "("+code+")") {
				diffs = append(diffs, fmt.Sprintf("want an error with code %s, got %s", code, got))
			}
		}
		return diffs
	}
	if len(errs) > 0 {
		return []string{fmt.Sprintf("the rules do not validate: %v", errs)}
	}
	fns, err := exprfunc.Load(app, exprfunc.Limits{})
	if err != nil {
		return []string{fmt.Sprintf("functions: %v", err)}
	}
	prog, err := evaluator.Compile(app, evaluator.WithFunctions(fns))
	if err != nil {
		return []string{fmt.Sprintf("compile: %v", err)}
	}
	reqData, ok := a.Get("request.json")
	if !ok {
		t.Fatal("no request.json")
	}
	caller, doc := buildRequest(t, reqData, ns)
	wantData, ok := a.Get("want.json")
	if !ok {
		t.Fatal("no want.json")
	}
	var w want
	if err := json.Unmarshal(wantData, &w); err != nil {
		t.Fatalf("want.json: %v", err)
	}
	ctx := context.Background()
	d, evalErr := prog.Evaluate(ctx, caller, doc, evaluator.WithFields())
	if evalErr != nil {
		t.Logf("evaluate: %v (reason %s)", evalErr, d.Reason)
	}
	diffs := check(t, w, d)
	if (doc.Action == evaluator.ActionRead || doc.Action == evaluator.ActionDelete) && doc.Document != nil {
		// ReadFilter and, for deletes, WriteFilter select exactly the
		// documents Evaluate allows (evaluator/filter.go).
		var filter bson.D
		var err error
		if doc.Action == evaluator.ActionRead {
			filter, _, err = prog.ReadFilter(ctx, caller)
		} else {
			filter, err = prog.WriteFilter(ctx, caller, doc.Action, doc.Update)
		}
		switch {
		case errors.Is(err, evaluator.ErrNotExpressible):
			t.Logf("%s filter: %v (agreement not checked)", doc.Action, err)
		case errors.Is(err, evaluator.ErrProjectionConflict) && !d.Allowed:
			// The query fails (query-filter-params.rst, "Projection
			// Conflicts"): nothing is selected, and Evaluate denies.
			t.Logf("%s filter: %v", doc.Action, err)
		case err != nil:
			diffs = append(diffs, fmt.Sprintf("%s filter: %v", doc.Action, err))
		default:
			m, merr := memMatch(doc.Document, filter)
			switch {
			case merr != nil:
				t.Logf("agreement not checked: %v (filter %v)", merr, filter)
			case m != d.Allowed:
				diffs = append(diffs, fmt.Sprintf("%s filter %v matches the document: %v, Evaluate allows it: %v", doc.Action, filter, m, d.Allowed))
			}
		}
	}
	return diffs
}

// memMatch matches filter against doc in memory with mql.Match; its error
// says the filter cannot be decided there (the agreement is then not
// checked).
func memMatch(doc bson.Raw, filter bson.D) (bool, error) {
	raw, err := bson.Marshal(filter)
	if err != nil {
		return false, err
	}
	return mql.Match(raw, doc)
}
