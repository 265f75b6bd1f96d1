package expansion

import (
	"errors"
	"slices"
	"testing"
)

// FuzzExpansion checks that Parse never panics, that it fails only with an
// *Error carrying a known code, that Parse(ref.String()) round-trips, and
// that resolving a parsed request expansion against arbitrary user JSON
// never panics.
func FuzzExpansion(f *testing.F) {
	for _, in := range Vocabulary() {
		f.Add(in.Name, `{}`)
		for _, fl := range in.Fields {
			f.Add(in.Name+"."+fl+".x", `{"id":"a","custom_data":{"x":[1,{"$oid":"5f8d0d55b54764421b7156c9"}]}}`)
		}
	}
	for _, s := range []string{"%%user.custom_data.teamIds.0", "%%usr.id", "%%user..id", "%%true.x", "%%", "%", "", "%%environment.tag.x", "%%values.{a}", "%%user.custom_data.#"} {
		f.Add(s, `{"custom_data":{"teamIds":["a"],"{a}":1,"#":2}}`)
	}
	f.Fuzz(func(t *testing.T, s, userJSON string) {
		ref, err := Parse(s)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %T, want *Error", s, err)
			}
			switch e.Code {
			case CodeSyntax, CodeUnknown, CodeUnknownField:
			default:
				t.Fatalf("Parse(%q): unknown code %q", s, e.Code)
			}
			return
		}
		if ref.String() != s {
			t.Fatalf("Parse(%q).String() = %q", s, ref.String())
		}
		again, err := Parse(ref.String())
		if err != nil || again.Root != ref.Root || !slices.Equal(again.Path, ref.Path) {
			t.Fatalf("Parse(%q) = %v, %v; not a round trip of %v", ref.String(), again, err, ref)
		}
		u, err := NewUserObject([]byte(userJSON))
		if err != nil {
			return
		}
		in := Inputs{User: u, Values: []byte(userJSON), Request: []byte(userJSON)}
		v, err := in.Resolve(ref)
		if ref.Phase() == PhaseDocument {
			if !errors.Is(err, ErrDocumentPhase) {
				t.Fatalf("Resolve(%s) = %v, want ErrDocumentPhase", s, err)
			}
			return
		}
		_ = v
	})
}
