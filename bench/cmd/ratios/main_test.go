package main

import (
	"strings"
	"testing"
)

const sample = `goos: linux
pkg: github.com/rulegate/rulegate/bench
BenchmarkOwner/handwritten-2        	 2308722	       100.0 ns/op	      24 B/op	       1 allocs/op
BenchmarkOwner/expr-2               	   71337	      3000 ns/op	    1448 B/op	      38 allocs/op
BenchmarkOwner/handwritten-2        	 2308722	       110.0 ns/op	      24 B/op	       1 allocs/op
BenchmarkOwner/expr-2               	   71337	      3400 ns/op	    1448 B/op	      38 allocs/op
BenchmarkOwner/rulegate-2           	   71337	      55 ns/op	    0 B/op	      0 allocs/op
BenchmarkDocToMap-2                 	   84500	      3051 ns/op	    1416 B/op	      36 allocs/op
BenchmarkSolo/opa                   	   10	      31234 ns/op
PASS
`

func TestWrite(t *testing.T) {
	s, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	s.Write(&b)
	want := `| median time/op (× handwritten) | handwritten | rulegate | expr | opa |
|---|---:|---:|---:|---:|
| Owner | 105 ns (1.00×) | 55.0 ns (0.52×) | 3.20 µs (30.5×) | – |
| Solo | – | – | – | 31.2 µs |

| median allocs/op · B/op | handwritten | rulegate | expr | opa |
|---|---:|---:|---:|---:|
| Owner | 1 · 24 | 0 · 0 | 38 · 1448 | – |
| Solo | – | – | – | – |
`
	if got := b.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteMin(t *testing.T) {
	s, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	s.Stat, s.StatName = Min, "min"
	var b strings.Builder
	s.Write(&b)
	want := "| min time/op (× handwritten) | handwritten | rulegate | expr | opa |\n|---|---:|---:|---:|---:|\n| Owner | 100 ns (1.00×) | 55.0 ns (0.55×) | 3.00 µs (30.0×) | – |\n"
	if got := b.String(); !strings.HasPrefix(got, want) {
		t.Errorf("got\n%s\nwant prefix\n%s", got, want)
	}
}

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := Median(c.in); got != c.want {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		ns   float64
		want string
	}{{9.5, "9.50 ns"}, {97.51, "97.5 ns"}, {192.6, "193 ns"}, {3347, "3.35 µs"}, {30321, "30.3 µs"}, {2.5e6, "2.50 ms"}} {
		if got := FormatNs(c.ns); got != c.want {
			t.Errorf("FormatNs(%v) = %q, want %q", c.ns, got, c.want)
		}
	}
	if got := FormatRatio(342.4); got != "342×" {
		t.Errorf("FormatRatio = %q", got)
	}
}
