package evaluator

import (
	"testing"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// TestResolveRefAgrees checks that a compiled %%user operand (its
// expansion.Accessor, built once at Compile) resolves as
// expansion.Inputs.Resolve does, in both user layouts. There is one
// resolver; this pins that Bind uses it.
func TestResolveRefAgrees(t *testing.T) {
	obj := `{"id": "u1", "type": "normal", "data": {"email": "a@b.c"}, "custom_data": {"teamIds": ["t1", "t2", null, 3, 2.5, 1e3, true, {"a": [1, {"b": "c"}]}],
		"oid": {"$oid": "5f1a2b3c4d5e6f7a8b9c0d1e"}, "nested": {"x": {"$numberLong": "5"}}, "big": 12345678901, "neg": -1, "dot.ted": 1, "n": null, "e": [], "o": {}}}`
	claims := `{"sub": "u1", "user_type": "normal", "user_metadata": {"email": "a@b.c"}, "user_data": {"teamIds": ["t1"], "o": {"k": [1, 2]}}}`
	paths := [][]string{{"id"}, {"type"}, {"data", "email"}, {"custom_data", "teamIds"}, {"custom_data", "oid"}, {"custom_data", "nested"},
		{"custom_data", "big"}, {"custom_data", "neg"}, {"custom_data", "dot.ted"}, {"custom_data", "n"}, {"custom_data", "e"},
		{"custom_data", "o"}, {"custom_data", "missing"}, {"custom_data", "teamIds", "1"}, {"custom_data", "o", "k"}, {"identities"}, {"custom_data"}}
	for _, raw := range []struct {
		s      string
		claims bool
	}{{obj, false}, {claims, true}} {
		var u expansion.User
		var err error
		if raw.claims {
			u, err = expansion.NewUserClaims([]byte(raw.s))
		} else {
			u, err = expansion.NewUserObject([]byte(raw.s))
		}
		if err != nil {
			t.Fatal(err)
		}
		in := &expansion.Inputs{User: u}
		for _, p := range paths {
			ref := expansion.Ref{Root: expansion.RootUser, Path: p}
			want, werr := in.Resolve(ref)
			cp := &compiler{c: &ccoll{}}
			o := cp.ref(rules.At{}, ref, nil, false, "")
			got, gerr := o.build.acc.Resolve(in)
			if (werr != nil) != (gerr != nil) || got.Type != want.Type || !value.Equal(got, want) && !(got.IsMissing() && want.IsMissing()) || got.ExtJSON() != want.ExtJSON() {
				t.Errorf("%v (claims %v): got %s (%v), want %s (%v)", p, raw.claims, got.ExtJSON(), gerr, want.ExtJSON(), werr)
			}
		}
	}
}
