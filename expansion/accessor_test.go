package expansion

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/value"
)

// accessorCases: custom data and a path below %%user.custom_data.
var accessorCases = []struct{ cd, path string }{
	{`{"admin": true}`, "{admin}"},
	{`{"admin": true, "role": "r"}`, "{admin,role}"},
	{`{"{admin}": 1}`, "{admin}"},
	{`{"id": 7, "isAdmin": true}`, "{isAdmin:id}"},
	{`{"id": 7}`, "[id]"},
	{`{"k*": 1, "kx": 2}`, "k*"},
	{`{"kx": 2}`, "k?"},
	{`{"k\u002a": 1}`, "k*"},
	{`{"a|b": 1, "a": 2}`, "a|b"},
	{`{"#": 1, "x": [1, 2]}`, "#"},
	{`{"x": [1, 2]}`, "x.#"},
	{`{"@this": 1}`, "@this"},
	{`{"x": 1}`, "@this"},
	{`{"x": {"y": 1}}`, "@keys"},
	{`{"a\\b": 1}`, `a\b`},
	{`{"q\"": 1}`, `q"`},
	{`{"arr": ["a", "b"]}`, "arr.1"},
	{`{"arr": ["a", "b"]}`, "arr.01"},
	{`{"arr": ["a", "b"]}`, "arr.00"},
	{`{"arr": ["a", "b"]}`, "arr.-1"},
	{`{"arr": [{"x": 1}]}`, "arr.x"},
	{`{"obj": {"01": 1, "1": 2}}`, "obj.01"},
	{`{"obj": {"0": 1}}`, "obj.0"},
	{`{"l": {"$maxKey": 1}}`, "l"},
	{`{"l": {"$maxKey": 1}}`, "l.$maxKey"},
	{`{"o": {"$oid": "65a000000000000000000001"}}`, "o.$oid"},
	{`{"b": {"$binary": {"base64": "AA==", "subType": "00"}}}`, "b.$binary.base64"},
	{`{"d": {"$foo": 1}}`, "d.$foo"},
	{`{"a": 1, "a": 2}`, "a"},
	{`{"n": null}`, "n"},
	{`{"deep": [[0, [1, 2]]]}`, "deep.0.1.1"},
}

// TestAccessorAgreesWithValue: an Accessor resolves %%user paths as
// value.Resolve does in the BSON value of the custom data, in both user
// layouts.
func TestAccessorAgreesWithValue(t *testing.T) {
	for _, c := range accessorCases {
		checkAccessor(t, c.cd, c.path)
	}
}

func checkAccessor(t *testing.T, cd, path string) {
	t.Helper()
	segs := strings.Split(path, ".")
	for _, s := range segs {
		if s == "" {
			return
		}
	}
	whole, err := value.FromExtJSON([]byte(cd))
	if err != nil {
		return
	}
	want := value.Resolve(whole, segs)
	acc := Compile(Ref{Root: RootUser, Path: append([]string{"custom_data"}, segs...)})
	for _, u := range []struct {
		mk  func([]byte) (User, error)
		raw string
	}{{NewUserObject, `{"id": "u", "custom_data": ` + cd + `}`}, {NewUserClaims, `{"sub": "u", "user_data": ` + cd + `}`}} {
		user, err := u.mk([]byte(u.raw))
		if err != nil {
			return
		}
		got, err := acc.Resolve(&Inputs{User: user})
		if err != nil {
			t.Fatalf("%s %s: %v", u.raw, path, err)
		}
		if got.Type != want.Type || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("%s: %%%%user.custom_data.%s = %s, want %s (value.Resolve)", u.raw, path, show(got), show(want))
		}
		// %%values resolves its input the same way.
		vals, err := Compile(Ref{Root: RootValues, Path: segs}).Resolve(&Inputs{Values: []byte(cd)})
		if err != nil || vals.Type != want.Type || !bytes.Equal(vals.Data, want.Data) {
			t.Fatalf("%s: %%%%values.%s = %s (%v), want %s", cd, path, show(vals), err, show(want))
		}
	}
}

// FuzzAccessor checks the Accessor against value.Resolve over the
// driver's reading of the same extended JSON.
func FuzzAccessor(f *testing.F) {
	for _, c := range accessorCases {
		f.Add(c.cd, c.path)
	}
	f.Fuzz(func(t *testing.T, cd, path string) {
		if !strings.HasPrefix(strings.TrimSpace(cd), "{") {
			return
		}
		checkAccessor(t, cd, path)
	})
}

// TestAccessorAllocs: resolving a plain claim path allocates only the
// BSON of its value (once for a 20-element array of ids), nothing for a
// missing one.
func TestAccessorAllocs(t *testing.T) {
	u, _ := NewUserClaims([]byte(`{"sub": "u1", "user_data": {"teamIds": ["team-00-6f1e2d3c4b5a", "team-01-6f1e2d3c4b5a", "team-02-6f1e2d3c4b5a",
		"team-03-6f1e2d3c4b5a", "team-04-6f1e2d3c4b5a", "team-05-6f1e2d3c4b5a", "team-06-6f1e2d3c4b5a", "team-07-6f1e2d3c4b5a", "team-08-6f1e2d3c4b5a",
		"team-09-6f1e2d3c4b5a", "team-10-6f1e2d3c4b5a", "team-11-6f1e2d3c4b5a", "team-12-6f1e2d3c4b5a", "team-13-6f1e2d3c4b5a", "team-14-6f1e2d3c4b5a",
		"team-15-6f1e2d3c4b5a", "team-16-6f1e2d3c4b5a", "team-17-6f1e2d3c4b5a", "team-18-6f1e2d3c4b5a", "team-19-6f1e2d3c4b5a"], "admin": true, "n": 5}}`))
	in := &Inputs{User: u}
	for path, want := range map[string]float64{"id": 1, "custom_data.admin": 1, "custom_data.n": 1, "custom_data.teamIds": 1, "custom_data.missing": 0} {
		acc := Compile(Ref{Root: RootUser, Path: strings.Split(path, ".")})
		if got := testing.AllocsPerRun(100, func() { _, _ = acc.Resolve(in) }); got > want {
			t.Errorf("%s: %v allocations, want at most %v", path, got, want)
		}
	}
}
