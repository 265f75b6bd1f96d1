package evaluator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/exprfunc"
	"github.com/rulegate/rulegate/internal/txtar"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// The -update flag rewrites the golden files of the conformance cases. It is
// registered in init, after every package-level flag of the test binary, so
// that it is shared with other tests of this package that define it.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files of testdata/conformance/*.txtar")
	}
}

func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

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

// caseRequest is request.json.
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
	Partition    json.RawMessage `json:"partition"`
	Args         json.RawMessage `json:"args"`
}

// caseDecision is want.json.
type caseDecision struct {
	Allowed bool              `json:"allowed"`
	Role    string            `json:"role"`
	Reason  string            `json:"reason"`
	Fields  *evaluator.Fields `json:"fields,omitempty"`
	Error   string            `json:"error,omitempty"`
}

func extJSON(t testing.TB, raw json.RawMessage) bson.Raw {
	t.Helper()
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(raw, false, &doc); err != nil {
		t.Fatalf("extended JSON %s: %v", raw, err)
	}
	return doc
}

func rawOrNil(raw json.RawMessage) []byte {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return raw
}

// buildRequest turns request.json into a Caller and a Doc.
func buildRequest(t testing.TB, data []byte) (evaluator.Caller, evaluator.Doc) {
	t.Helper()
	var cr caseRequest
	if err := json.Unmarshal(data, &cr); err != nil {
		t.Fatalf("request.json: %v", err)
	}
	caller := evaluator.Caller{Namespace: cr.Namespace}
	if caller.Namespace == "" {
		caller.Namespace = "db.coll"
	}
	if u := rawOrNil(cr.User); u != nil {
		user, err := expansion.NewUserObject(u)
		if err != nil {
			t.Fatalf("request.json user: %v", err)
		}
		caller.Inputs.User = user
	}
	caller.Inputs.Request = rawOrNil(cr.Request)
	caller.Inputs.Values = rawOrNil(cr.Values)
	caller.Inputs.Environment = rawOrNil(cr.Environment)
	caller.Inputs.Partition = rawOrNil(cr.Partition)
	caller.Inputs.Args = rawOrNil(cr.Args)
	d := evaluator.Doc{
		Action:       evaluator.Action(cr.Action),
		Document:     extJSON(t, cr.Document),
		PrevDocument: extJSON(t, cr.PrevDocument),
		Update:       extJSON(t, cr.Update),
	}
	return caller, d
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

func normJSON(t testing.TB, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("golden JSON: %v\n%s", err, b)
	}
	out, _ := json.Marshal(v)
	return string(out)
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
	files, err := filepath.Glob("testdata/conformance/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no conformance cases")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txtar"), func(t *testing.T) {
			a, err := txtar.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(a.Comment, []byte("#")) {
				t.Errorf("%s: a case starts with a # line saying what it proves", path)
			}
			get := func(name string) []byte {
				for _, f := range a.Files {
					if f.Name == name {
						return f.Data
					}
				}
				return nil
			}
			changed := false
			set := func(name string, data []byte) {
				for i := range a.Files {
					if a.Files[i].Name == name {
						if !bytes.Equal(a.Files[i].Data, data) {
							a.Files[i].Data = data
							changed = true
						}
						return
					}
				}
				a.Files = append(a.Files, txtar.File{Name: name, Data: data})
				changed = true
			}
			app, err := rules.LoadApp(caseApp(a))
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			prog, err := compileCase(app)
			if want := get("want-error.txt"); want != nil || err != nil {
				got := ""
				if err != nil {
					got = err.Error() + "\n"
				}
				if updating() {
					set("want-error.txt", []byte(got))
				} else if got != string(want) {
					t.Errorf("compile error:\n got %q\nwant %q", got, want)
				}
				if err != nil {
					goto write
				}
			}
			{
				caller, d := buildRequest(t, get("request.json"))
				ctx := context.Background()
				wantData := get("want.json")
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
				gotJSON := indentJSON(t, got)
				if updating() {
					set("want.json", gotJSON)
				} else if wantData == nil || normJSON(t, gotJSON) != normJSON(t, wantData) {
					t.Errorf("decision:\n got %s\nwant %s\ntrace:\n%s", gotJSON, wantData, tr.String())
				}
				// The trace-off path must decide the same.
				plain, _ := prog.Evaluate(ctx, caller, d)
				if plain.Allowed != dec.Allowed || plain.Reason != dec.Reason || plain.Role != dec.Role {
					t.Errorf("without trace: %+v, with trace: %+v", plain, dec)
				}
				// So must the same user carried as access-token claims.
				if ccaller, ok := claimsRequest(t, caller, get("request.json")); ok {
					cdec, _ := prog.Evaluate(ctx, ccaller, d)
					if cdec.Allowed != dec.Allowed || cdec.Reason != dec.Reason || cdec.Role != dec.Role {
						t.Errorf("user as token claims: %+v, as a user object: %+v", cdec, dec)
					}
				}
				if wt := get("want-trace.txt"); wt != nil || updating() && get("want-trace.txt") != nil {
					if updating() {
						set("want-trace.txt", []byte(tr.String()))
					} else if tr.String() != string(wt) {
						t.Errorf("trace:\n got:\n%s\nwant:\n%s", tr.String(), wt)
					}
				}
				if wf := get("want-filter.json"); wf != nil {
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
					gf := filterJSON(t, f, p)
					if updating() {
						set("want-filter.json", gf)
					} else if normJSON(t, gf) != normJSON(t, wf) {
						t.Errorf("filter:\n got %s\nwant %s", gf, wf)
					}
				}
			}
		write:
			if updating() && changed {
				if err := os.WriteFile(path, txtar.Format(a), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
