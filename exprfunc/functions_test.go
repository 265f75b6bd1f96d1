package exprfunc

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ftApp returns an app whose functions/<name>.expr files hold the given
// sources.
func ftApp(srcs map[string]string) *rules.App {
	app := &rules.App{}
	for name, src := range srcs {
		f := source.NewFile("functions/"+name+".expr", []byte(src))
		app.Functions = append(app.Functions, &rules.Function{At: rules.At{File: f}, Name: name, Source: src})
	}
	return app
}

func ftFunctions(t testing.TB, srcs map[string]string) *Functions {
	t.Helper()
	fs, err := Load(ftApp(srcs), Limits{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return fs
}

func ftValue(t testing.TB, ext string) value.Value {
	t.Helper()
	v, err := value.FromExtJSON([]byte(ext))
	if err != nil {
		t.Fatalf("bad test value %s: %v", ext, err)
	}
	return v
}

func ftInputs(t testing.TB) *expansion.Inputs {
	t.Helper()
	u, err := expansion.NewUserObject([]byte(`{"id": "u1", "type": "normal", "data": {"email": "a@b.c"}, "custom_data": {"team": "red", "teams": ["red", "blue"], "since": {"$date": "2025-01-01T00:00:00Z"}}, "identities": [{"id": "x", "provider_type": "local-userpass"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	return &expansion.Inputs{
		User:        u,
		Values:      []byte(`{"limit": 10, "admins": ["u9"]}`),
		Request:     []byte(`{"httpMethod": "POST", "remoteIPAddress": "10.0.0.1"}`),
		Environment: []byte(`{"tag": "production", "values": {"strict": true}}`),
	}
}

func TestFunctionsCall(t *testing.T) {
	fs := ftFunctions(t, map[string]string{
		"isEven":     `arguments[0] % 2 == 0`,
		"sameTeam":   `user.custom_data.team == arguments[0]`,
		"inTeams":    `arguments[0] in user.custom_data.teams`,
		"whoami":     `[user.id, user.type, user.data.email, user.identities[0].provider_type]`,
		"underLimit": `arguments[0] < values.limit && !(user.id in values.admins)`,
		"req":        `request.httpMethod + " " + request.remoteIPAddress + " " + environment.tag + " " + string(environment.values.strict) + " " + namespace`,
		"build":      `{"b": arguments[0] * 2, "a": [1, "x", nil, 2.5, true]}`,
		"hex":        `arguments[0].Hex()`,
		"sameID":     `arguments[0] == arguments[1]`,
		"year":       `arguments[0].Year()`,
		"since":      `user.custom_data.since.Before(arguments[0])`,
		"echo":       `arguments`,
		"missing":    `user?.custom_data?.nope ?? "none"`,
		"sum":        `sum(arguments[0])`,
		"count":      `len(arguments)`,
		"letLoop":    "let xs = filter(arguments[0], {# > 1});\n len(xs)",
	})
	oid, _ := bson.ObjectIDFromHex("5f0000000000000000000001")
	in := ftInputs(t)
	tests := []struct {
		name string
		args []value.Value
		want string
	}{
		{"isEven", []value.Value{value.Int32(42)}, `true`},
		{"isEven", []value.Value{value.Int64(3)}, `false`},
		{"sameTeam", []value.Value{value.String("red")}, `true`},
		{"sameTeam", []value.Value{value.String("blue")}, `false`},
		{"inTeams", []value.Value{value.String("blue")}, `true`},
		{"whoami", nil, `["u1","normal","a@b.c","local-userpass"]`},
		{"underLimit", []value.Value{value.Double(9.5)}, `true`},
		{"underLimit", []value.Value{value.Int32(10)}, `false`},
		{"req", nil, `"POST 10.0.0.1 production true db.coll"`},
		{"build", []value.Value{value.Int32(21)}, `{"a":[1,"x",null,2.5,true],"b":42}`},
		{"hex", []value.Value{value.ObjectID(oid)}, `"5f0000000000000000000001"`},
		{"sameID", []value.Value{value.ObjectID(oid), value.ObjectID(oid)}, `true`},
		{"sameID", []value.Value{value.ObjectID(oid), value.String("5f0000000000000000000001")}, `false`},
		{"year", []value.Value{value.Time(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}, `2026`},
		{"since", []value.Value{value.Time(time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC))}, `true`},
		{"echo", []value.Value{ftValue(t, `{"x": {"y": [1, {"$numberLong": "2"}]}, "d": {"$date": "2026-01-01T00:00:00Z"}}`), value.Null(), {}},
			`[{"d":{"$date":"2026-01-01T00:00:00Z"},"x":{"y":[1,2]}},null,null]`},
		{"missing", nil, `"none"`},
		{"sum", []value.Value{ftValue(t, `[1, 2.5, 3]`)}, `6.5`},
		{"count", []value.Value{value.Int32(1), value.Int32(2)}, `2`},
		{"letLoop", []value.Value{ftValue(t, `[1, 2, 3]`)}, `2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := fs.Call(context.Background(), tt.name, tt.args, evaluator.FuncEnv{Namespace: "db.coll", Inputs: in})
			if err != nil {
				t.Fatalf("Call: %v", err)
			}
			if got.ExtJSON() != tt.want {
				t.Errorf("got %s, want %s", got.ExtJSON(), tt.want)
			}
		})
	}
}

func TestFunctionsWithoutInputs(t *testing.T) {
	fs := ftFunctions(t, map[string]string{"who": `user?.id ?? "nobody"`, "strict": `user.id`})
	got, err := fs.Call(context.Background(), "who", nil, evaluator.FuncEnv{})
	if err != nil || got.ExtJSON() != `"nobody"` {
		t.Errorf("who = %v, %v", got, err)
	}
	// Without a caller, user is a nil map: user.id reads as null.
	if v, err := fs.Call(context.Background(), "strict", nil, evaluator.FuncEnv{}); err != nil || !v.IsNull() {
		t.Errorf("strict = %v, %v", v, err)
	}
}

func TestFunctionsCompileErrors(t *testing.T) {
	_, err := Load(ftApp(map[string]string{
		"ok":      `true`,
		"syntax":  "1 +\n  (2 *",
		"unknown": "// reads the document\nroot.owner == user.id",
		"call":    `secret()`,
		"types":   `"a" + 1`,
	}), Limits{})
	want := `functions/call.expr:1:1: function call does not compile: unknown name secret (function/compile)
functions/syntax.expr:2:6: function syntax does not compile: unexpected token EOF (function/compile)
functions/types.expr:1:5: function types does not compile: invalid operation: + (mismatched types string and int) (function/compile)
functions/unknown.expr:2:1: function unknown does not compile: unknown name root (function/compile)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got  %v\n want %s", err, want)
	}
	if got := source.Codes(err); len(got) != 4 {
		t.Errorf("codes %v", got)
	}
}

func TestFunctionsMaxNodes(t *testing.T) {
	app := ftApp(map[string]string{"big": `1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10`})
	if _, err := Load(app, Limits{}); err != nil {
		t.Fatalf("default limit: %v", err)
	}
	_, err := Load(app, Limits{MaxNodes: 5})
	if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeCompile}) {
		t.Fatalf("MaxNodes 5: %v", err)
	}
}

func TestFunctionsRuntimeErrors(t *testing.T) {
	src := map[string]string{
		"field":  "let x = arguments[0];\nx.y.z",
		"div":    `1 / arguments[0] > 0 && arguments[1] % arguments[0] == 0`,
		"budget": `len(map(1..100000, {# * 2}))`,
		"nested": `len(filter(arguments[0], {all(arguments[0], {true})}))`,
	}
	fs, err := Load(ftApp(src), Limits{MemoryBudget: 50_000})
	if err != nil {
		t.Fatal(err)
	}
	big := make(bson.A, 1000)
	for i := range big {
		big[i] = i
	}
	bigV, err := value.FromGo(big)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []value.Value
		code string
		pos  string
	}{
		{"field", []value.Value{value.Int32(1)}, CodeRuntime, "functions/field.expr:2:"},
		{"div", []value.Value{value.Int32(0), value.Int32(1)}, CodeRuntime, "functions/div.expr:1:"},
		{"budget", nil, CodeBudget, "functions/budget.expr:1:"},
		{"nested", []value.Value{bigV}, CodeBudget, "functions/nested.expr:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fs.Call(context.Background(), tt.name, tt.args, evaluator.FuncEnv{})
			if got := source.Codes(err); !reflect.DeepEqual(got, []string{tt.code}) {
				t.Fatalf("codes %v (%v), want %s", got, err, tt.code)
			}
			if !errors.Is(err, evaluator.ErrFunctionCall) {
				t.Error("error does not wrap ErrFunctionCall")
			}
			if s := err.Error(); len(s) < len(tt.pos) || s[:len(tt.pos)] != tt.pos {
				t.Errorf("error %q does not start with %q", s, tt.pos)
			}
		})
	}
}

func TestFunctionsRuntimeErrorText(t *testing.T) {
	fs := ftFunctions(t, map[string]string{"f": "true &&\n  arguments[0].y == 1"})
	_, err := fs.Call(context.Background(), "f", []value.Value{value.Int32(1)}, evaluator.FuncEnv{})
	want := `functions/f.expr:2:16: function f: cannot fetch y from int (function/runtime)`
	if err == nil || err.Error() != want {
		t.Errorf("error\n got  %v\n want %s", err, want)
	}
}

func TestFunctionsInputSelection(t *testing.T) {
	fs := ftFunctions(t, map[string]string{
		"some":  `user.custom_data.team == "red" && user?.id != nil && values["limit"] > 1`,
		"whole": `len(user) + len(values ?? {})`,
		"none":  `arguments[0]`,
	})
	tests := []struct {
		name             string
		user, values     []string
		userAll, valsAll bool
	}{
		{"some", []string{"custom_data", "id"}, []string{"limit"}, false, false},
		{"whole", nil, nil, true, true},
		{"none", nil, nil, false, false},
	}
	for _, tt := range tests {
		ef := fs.exprs[tt.name]
		u, v := ef.inputs[inUser], ef.inputs[inValues]
		if !reflect.DeepEqual(u.keys, tt.user) || u.all() != tt.userAll || !reflect.DeepEqual(v.keys, tt.values) || v.all() != tt.valsAll {
			t.Errorf("%s: user %+v (all %v), values %+v (all %v)", tt.name, u, u.all(), v, v.all())
		}
	}
	in := ftInputs(t)
	for name, want := range map[string]string{"some": `true`, "whole": `7`} {
		got, err := fs.Call(context.Background(), name, nil, evaluator.FuncEnv{Inputs: in})
		if err != nil || got.ExtJSON() != want {
			t.Errorf("%s = %v, %v; want %s", name, got, err, want)
		}
	}
}

func TestFunctionsStepBudget(t *testing.T) {
	src := map[string]string{
		"all":   `all(arguments[0], {true})`,
		"count": `count(arguments[0], # > 500)`,
		"map":   `len(map(arguments[0], {# + 1}))`,
	}
	fs, err := Load(ftApp(src), Limits{MaxSteps: 100})
	if err != nil {
		t.Fatal(err)
	}
	small, _ := value.FromGo(bson.A{1, 2, 3})
	big := make(bson.A, 1000)
	for i := range big {
		big[i] = i
	}
	bigV, _ := value.FromGo(big)
	for name := range src {
		if _, err := fs.Call(context.Background(), name, []value.Value{small}, evaluator.FuncEnv{}); err != nil {
			t.Errorf("%s over 3 elements: %v", name, err)
		}
		_, err := fs.Call(context.Background(), name, []value.Value{bigV}, evaluator.FuncEnv{})
		if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeBudget}) {
			t.Errorf("%s over 1000 elements with 100 steps: %v", name, err)
		}
	}
}

func TestFunctionsRegistry(t *testing.T) {
	fs := ftFunctions(t, map[string]string{"zeta": `1`, "isEven": `arguments[0] % 2 == 0`})
	if got, want := fs.Names(), []string{"isEven", "zeta"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	_, err := fs.Call(context.Background(), "nope", nil, evaluator.FuncEnv{})
	if err == nil || err.Error() != `unknown function "nope" (function/unknown)` || !errors.Is(err, evaluator.ErrFunctionCall) {
		t.Errorf("unknown: %v", err)
	}
	var nilFS *Functions
	if _, err := nilFS.Call(context.Background(), "x", nil, evaluator.FuncEnv{}); !reflect.DeepEqual(source.Codes(err), []string{CodeUnknown}) {
		t.Errorf("nil registry: %v", err)
	}
	if nilFS.Names() != nil {
		t.Error("nil registry has functions")
	}
	if fs, err := Load(nil, Limits{}); err != nil || fs.Names() != nil {
		t.Errorf("Load(nil) = %v, %v; want no functions", fs.Names(), err)
	}
}

func TestFunctionsCanceled(t *testing.T) {
	fs := ftFunctions(t, map[string]string{"f": `true`})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := fs.Call(ctx, "f", nil, evaluator.FuncEnv{})
	if got := source.Codes(err); !reflect.DeepEqual(got, []string{CodeCanceled}) {
		t.Errorf("canceled: %v", err)
	}
}

func TestFunctionsResultConversion(t *testing.T) {
	for _, x := range []any{make(chan int), map[int]int{1: 1}, func() {}, []any{1, make(chan int)}, uint64(1 << 63)} {
		if _, err := fromGo(x); err == nil {
			t.Errorf("fromGo(%T) succeeded", x)
		}
	}
	v, err := fromGo(map[string]any{"z": []int{1, 2}, "a": map[string]string{"y": "1", "b": "2"}, "t": time.UnixMilli(5).UTC(), "u": uint8(7)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.ExtJSON(), `{"a":{"b":"2","y":"1"},"t":{"$date":"1970-01-01T00:00:00.005Z"},"u":7,"z":[1,2]}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestFunctionsConcurrent(t *testing.T) {
	fs := ftFunctions(t, map[string]string{"f": `arguments[0] + len(user.custom_data.teams)`})
	in := ftInputs(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				v, err := fs.Call(context.Background(), "f", []value.Value{value.Int32(int32(i))}, evaluator.FuncEnv{Inputs: in})
				if n, _ := v.IntOK(); err != nil || n != int64(i+2) {
					errs <- fmt.Errorf("goroutine %d call %d: %v, %v", g, i, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func BenchmarkFunctionsCall(b *testing.B) {
	fs := ftFunctions(b, map[string]string{"isEven": `arguments[0] % 2 == 0`, "sameTeam": `user.custom_data.team == arguments[0]`})
	in := ftInputs(b)
	args := []value.Value{value.Int32(42)}
	b.Run("isEven", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fs.Call(context.Background(), "isEven", args, evaluator.FuncEnv{Inputs: in}); err != nil {
				b.Fatal(err)
			}
		}
	})
	team := []value.Value{value.String("red")}
	b.Run("sameTeam", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fs.Call(context.Background(), "sameTeam", team, evaluator.FuncEnv{Inputs: in}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// FuzzLoad compiles arbitrary function sources and calls those
// that compile: nothing panics, compile errors are positioned in the file
// with their code, and calls either succeed or fail with a code.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		`arguments[0] % 2 == 0`,
		`user.custom_data.team == arguments[0]`,
		"let xs = filter(arguments[1], {# > 1});\nlen(xs) > 0 ? xs[0] : nil",
		`{"a": [1, 2.5, "x", nil], "b": now().Year() > 2000}`,
		`all(1..10, {any(arguments[1], {# == 2})})`,
		`values?.limit ?? 3`,
		`1 +`,
		`root.owner`,
	} {
		f.Add(s)
	}
	in := ftInputs(f)
	arr, _ := value.FromGo(bson.A{1, 2, 3})
	f.Fuzz(func(t *testing.T, src string) {
		fs, err := Load(ftApp(map[string]string{"f": src}), Limits{MaxNodes: 200, MemoryBudget: 10_000, MaxSteps: 1000})
		if err != nil {
			var se *source.Error
			if !errors.As(err, &se) || se.Code != CodeCompile || se.File != "functions/f.expr" || se.Line < 1 || se.Col < 1 {
				t.Fatalf("bad compile error: %#v", err)
			}
			return
		}
		_, err = fs.Call(context.Background(), "f", []value.Value{value.Int32(2), arr}, evaluator.FuncEnv{Namespace: "db.c", Inputs: in})
		if err != nil && len(source.Codes(err)) != 1 {
			t.Fatalf("call error without a code: %v", err)
		}
	})
}

// TestFunctionsSeeInputsAsExpansions: a function reads a request input as
// the %% expansion of the same path does, a repeated JSON key included
// (the first, as %%values.limit), so the two can never disagree.
func TestFunctionsSeeInputsAsExpansions(t *testing.T) {
	fs := ftFunctions(t, map[string]string{"limit": `values.limit`})
	in := &expansion.Inputs{Values: []byte(`{"limit": 1, "limit": 1000}`)}
	got, err := fs.Call(context.Background(), "limit", nil, evaluator.FuncEnv{Namespace: "db.coll", Inputs: in})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := in.Resolve(expansion.Ref{Root: expansion.RootValues, Path: []string{"limit"}})
	if got.ExtJSON() != want.ExtJSON() {
		t.Errorf("function sees values.limit = %s, %%%%values.limit = %s", got.ExtJSON(), want.ExtJSON())
	}
}
