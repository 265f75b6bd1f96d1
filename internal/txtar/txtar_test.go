package txtar

import "testing"

func TestRoundTrip(t *testing.T) {
	in := "# proves a thing\n# on two lines\n-- rules.json --\n{}\n-- want.json --\n{\"allowed\": true}\n"
	a := Parse([]byte(in))
	if got := a.Says(); got != "proves a thing on two lines" {
		t.Fatalf("Says = %q", got)
	}
	if len(a.Files) != 2 || a.Files[0].Name != "rules.json" || string(a.Files[1].Data) != "{\"allowed\": true}\n" {
		t.Fatalf("files = %+v", a.Files)
	}
	if got := string(Format(a)); got != in {
		t.Fatalf("Format = %q, want %q", got, in)
	}
	a.Set("want.json", []byte("x"))
	a.Set("new.txt", []byte("y\n"))
	if d, _ := a.Get("want.json"); string(d) != "x" {
		t.Fatalf("Set did not replace")
	}
	if got := string(Format(a)); got != "# proves a thing\n# on two lines\n-- rules.json --\n{}\n-- want.json --\nx\n-- new.txt --\ny\n" {
		t.Fatalf("Format after Set = %q", got)
	}
}
