package doccases_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

var divergences = flag.Bool("divergences", false, "run the known-divergence cases strictly instead of skipping them")

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

// caseRequest is request.json, in the format of `rulegate eval`.
type caseRequest struct {
	User         json.RawMessage `json:"user"`
	Namespace    string          `json:"namespace"`
	Action       string          `json:"action"`
	Document     json.RawMessage `json:"document"`
	PrevDocument json.RawMessage `json:"prev_document"`
	Update       json.RawMessage `json:"update"`
	Request      json.RawMessage `json:"request"`
	Values       json.RawMessage `json:"values"`
	Environment  json.RawMessage `json:"environment"`
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// buildRequest turns request.json into a Request the way the CLI does
// (cmd/rulegate/request.go): expansion.NewUserObject for the user,
// bson.UnmarshalExtJSON for the documents.
func buildRequest(t *testing.T, data []byte, ns string) evaluator.Request {
	t.Helper()
	var cr caseRequest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cr); err != nil {
		t.Fatalf("request.json: %v", err)
	}
	req := evaluator.Request{Namespace: cr.Namespace, Action: evaluator.Action(cr.Action)}
	if req.Namespace == "" {
		req.Namespace = ns
	}
	if present(cr.User) {
		u, err := expansion.NewUserObject(cr.User)
		if err != nil {
			t.Fatalf("request.json user: %v", err)
		}
		req.Inputs.User = u
	}
	doc := func(name string, raw json.RawMessage) bson.Raw {
		if !present(raw) {
			return nil
		}
		var d bson.Raw
		if err := bson.UnmarshalExtJSON(raw, false, &d); err != nil {
			t.Fatalf("request.json %s: %v", name, err)
		}
		return d
	}
	req.Document = doc("document", cr.Document)
	req.PrevDocument = doc("prev_document", cr.PrevDocument)
	req.Update = doc("update", cr.Update)
	if present(cr.Request) {
		req.Inputs.Request = cr.Request
	}
	if present(cr.Values) {
		req.Inputs.Values = cr.Values
	}
	if present(cr.Environment) {
		req.Inputs.Environment = cr.Environment
	}
	return req
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
	files, err := filepath.Glob("testdata/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no cases")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(a.Comment, []byte("#")) {
				t.Fatalf("a case starts with a # line citing the documentation")
			}
			diffs := runCase(t, a)
			div, isDiv := a.Get("known-divergence")
			switch {
			case isDiv && len(diffs) == 0:
				// Reported, not failed: the suite stays green while
				// another package fixes the divergence.
				t.Skipf("known divergence no longer diverges; remove the known-divergence file: %s", strings.TrimSpace(string(div)))
			case isDiv && !*divergences:
				t.Skipf("known divergence (%s): %s", strings.Join(diffs, "; "), strings.TrimSpace(string(div)))
			case len(diffs) > 0:
				t.Errorf("%s\n%s", strings.Join(diffs, "\n"), a.Comment)
			}
		})
	}
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
	prog, err := evaluator.Compile(app)
	if err != nil {
		return []string{fmt.Sprintf("compile: %v", err)}
	}
	reqData, ok := a.Get("request.json")
	if !ok {
		t.Fatal("no request.json")
	}
	req := buildRequest(t, reqData, ns)
	wantData, ok := a.Get("want.json")
	if !ok {
		t.Fatal("no want.json")
	}
	var w want
	if err := json.Unmarshal(wantData, &w); err != nil {
		t.Fatalf("want.json: %v", err)
	}
	ctx := context.Background()
	d, evalErr := prog.Evaluate(ctx, req, evaluator.EvalFields())
	if evalErr != nil {
		t.Logf("evaluate: %v (reason %s)", evalErr, d.Reason)
	}
	diffs := check(t, w, d)
	if (req.Action == evaluator.ActionRead || req.Action == evaluator.ActionDelete) && req.Document != nil {
		// ReadFilter and, for deletes, WriteFilter select exactly the
		// documents Evaluate allows (evaluator/filter.go).
		var filter bson.D
		var err error
		if req.Action == evaluator.ActionRead {
			filter, _, err = prog.ReadFilter(ctx, req)
		} else {
			filter, err = prog.WriteFilter(ctx, req)
		}
		switch {
		case errors.Is(err, evaluator.ErrNotExpressible):
			t.Logf("%s filter: %v (agreement not checked)", req.Action, err)
		case errors.Is(err, evaluator.ErrProjectionConflict) && !d.Allowed:
			// The query fails (query-filter-params.rst, "Projection
			// Conflicts"): nothing is selected, and Evaluate denies.
			t.Logf("%s filter: %v", req.Action, err)
		case err != nil:
			diffs = append(diffs, fmt.Sprintf("%s filter: %v", req.Action, err))
		default:
			m, merr := memMatch(req.Document, filter)
			switch {
			case merr != nil:
				t.Logf("agreement not checked: %v (filter %v)", merr, filter)
			case m != d.Allowed:
				diffs = append(diffs, fmt.Sprintf("%s filter %v matches the document: %v, Evaluate allows it: %v", req.Action, filter, m, d.Allowed))
			}
		}
	}
	return diffs
}

// memMatch is a small in-memory MongoDB matcher for the operators that
// ReadFilter emits ($and, $or, $nor, $eq, $ne, $gt, $gte, $lt, $lte, $in,
// $nin, $exists), written over the value package's match functions (the
// approach of evaluator/agreement_test.go).
func memMatch(doc bson.Raw, filter bson.D) (bool, error) {
	raw, err := bson.Marshal(filter)
	if err != nil {
		return false, err
	}
	return memMatchRaw(value.FromDocument(doc), raw)
}

func memMatchRaw(doc value.Value, q bson.Raw) (bool, error) {
	elems, err := q.Elements()
	if err != nil {
		return false, err
	}
	for _, e := range elems {
		k := e.Key()
		switch k {
		case "$and", "$or", "$nor":
			arr, _ := e.Value().ArrayOK()
			vals, _ := arr.Values()
			any, all := false, true
			for _, v := range vals {
				sub, _ := v.DocumentOK()
				ok, err := memMatchRaw(doc, sub)
				if err != nil {
					return false, err
				}
				if ok {
					any = true
				} else {
					all = false
				}
			}
			if k == "$and" && !all || k == "$or" && !any || k == "$nor" && any {
				return false, nil
			}
			continue
		}
		if strings.HasPrefix(k, "$") {
			return false, fmt.Errorf("unexpected operator %s", k)
		}
		path := value.ParsePath(k)
		if value.HasRegex(value.FromRaw(e.Value())) {
			// A pattern on the server, a value here: never decided here.
			return false, fmt.Errorf("a regular expression operand in a filter")
		}
		ops, ok := e.Value().DocumentOK()
		if opElems, _ := ops.Elements(); !ok || len(opElems) == 0 || !strings.HasPrefix(opElems[0].Key(), "$") {
			if !value.MatchEq(doc, path, value.FromRaw(e.Value())) {
				return false, nil
			}
			continue
		}
		opElems, _ := ops.Elements()
		for _, o := range opElems {
			arg := value.FromRaw(o.Value())
			if o.Key() != "$not" && value.CheckOperand(arg) != value.Comparable {
				return false, fmt.Errorf("an operand the server does not compare as a value (%s) in a filter", value.CheckOperand(arg))
			}
			var r bool
			switch o.Key() {
			case "$eq":
				r = value.MatchEq(doc, path, arg)
			case "$ne":
				r = !value.MatchEq(doc, path, arg)
			case "$gt":
				r = value.MatchCmp(doc, path, value.Gt, arg)
			case "$gte":
				r = value.MatchCmp(doc, path, value.Gte, arg)
			case "$lt":
				r = value.MatchCmp(doc, path, value.Lt, arg)
			case "$lte":
				r = value.MatchCmp(doc, path, value.Lte, arg)
			case "$in", "$nin":
				var vals []value.Value
				hasNull := false
				arg.Each(func(_ int, x value.Value) bool {
					vals = append(vals, x)
					hasNull = hasNull || x.IsNull()
					return false
				})
				r = value.MatchIn(doc, path, value.NewSet(vals...), hasNull)
				if o.Key() == "$nin" {
					r = !r
				}
			case "$exists":
				want, _ := arg.BoolOK()
				r = value.MatchExists(doc, path, want)
			default:
				return false, fmt.Errorf("unexpected operator %s", o.Key())
			}
			if !r {
				return false, nil
			}
		}
	}
	return true, nil
}
