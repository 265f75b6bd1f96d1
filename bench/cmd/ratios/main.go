// Command ratios reads `go test -bench` output and prints, as Markdown
// tables, the median time per operation of each engine with its ratio to
// the handwritten floor, and the median allocations and bytes per
// operation (from -benchmem).
//
// Benchmarks are named Benchmark<Group>/<engine>[-GOMAXPROCS]; a group
// without a handwritten result is printed without ratios, and benchmarks
// without a sub-name are left out.
//
// With -stat min it takes the minimum of the samples instead of the
// median: on a machine shared with other work, load only ever adds time,
// so the minimum is the better estimate of the uncontended cost.
//
// Usage:
//
//	go run ./cmd/ratios results/latest.txt
//	go run ./cmd/ratios -stat min results/latest.txt
//	go test -run '^$' -bench . | go run ./cmd/ratios
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Baseline is the engine the ratios are taken to.
const Baseline = "handwritten"

// engineOrder is the column order; engines not listed follow, sorted.
var engineOrder = []string{"handwritten", "rulegate", "expr", "cel", "opa"}

// lineRE matches a benchmark result line: name, iterations, then value
// unit pairs.
var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// Samples holds the samples of each group and engine, by unit.
type Samples struct {
	// Stat summarises samples; Median when nil.
	Stat     func([]float64) float64
	StatName string

	groups  []string // in order of first appearance
	engines []string
	ns      map[string]map[string][]float64 // ns/op
	allocs  map[string]map[string][]float64 // allocs/op
	bytes   map[string]map[string][]float64 // B/op
}

func add(m map[string]map[string][]float64, group, engine string, v float64) {
	if m[group] == nil {
		m[group] = map[string][]float64{}
	}
	m[group][engine] = append(m[group][engine], v)
}

// Parse reads benchmark output.
func Parse(r io.Reader) (*Samples, error) {
	s := &Samples{
		ns:     map[string]map[string][]float64{},
		allocs: map[string]map[string][]float64{},
		bytes:  map[string]map[string][]float64{},
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		group, engine, ok := strings.Cut(strings.TrimPrefix(m[1], "Benchmark"), "/")
		if !ok || engine == "" {
			continue
		}
		fields := strings.Fields(m[2])
		for i := 0; i+1 < len(fields); i += 2 {
			var dst map[string]map[string][]float64
			switch fields[i+1] {
			case "ns/op":
				dst = s.ns
			case "allocs/op":
				dst = s.allocs
			case "B/op":
				dst = s.bytes
			default:
				continue
			}
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: %v", sc.Text(), err)
			}
			if dst[group] == nil && s.ns[group] == nil && s.allocs[group] == nil && s.bytes[group] == nil {
				s.groups = append(s.groups, group)
			}
			if !slices.Contains(s.engines, engine) {
				s.engines = append(s.engines, engine)
			}
			add(dst, group, engine, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.SortStableFunc(s.engines, func(a, b string) int { return rank(a) - rank(b) })
	return s, nil
}

func rank(engine string) int {
	if i := slices.Index(engineOrder, engine); i >= 0 {
		return i
	}
	return len(engineOrder)
}

// Median returns the median of xs (which must not be empty).
func Median(xs []float64) float64 {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	n := len(ys)
	if n%2 == 1 {
		return ys[n/2]
	}
	return (ys[n/2-1] + ys[n/2]) / 2
}

// Min returns the smallest of xs (which must not be empty).
func Min(xs []float64) float64 { return slices.Min(xs) }

func (s *Samples) stat(xs []float64) float64 {
	if s.Stat == nil {
		return Median(xs)
	}
	return s.Stat(xs)
}

// FormatNs prints a duration in ns with three significant digits and a
// unit: "97.5 ns", "3.35 µs", "30.3 µs".
func FormatNs(ns float64) string {
	unit := "ns"
	switch {
	case ns >= 1e6:
		ns, unit = ns/1e6, "ms"
	case ns >= 1e3:
		ns, unit = ns/1e3, "µs"
	}
	switch {
	case ns >= 100:
		return fmt.Sprintf("%.0f %s", ns, unit)
	case ns >= 10:
		return fmt.Sprintf("%.1f %s", ns, unit)
	}
	return fmt.Sprintf("%.2f %s", ns, unit)
}

// FormatRatio prints a ratio with two or three significant digits.
func FormatRatio(r float64) string {
	switch {
	case r >= 100:
		return fmt.Sprintf("%.0f×", r)
	case r >= 10:
		return fmt.Sprintf("%.1f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

// Write prints the Markdown tables: a row per group, a column per engine;
// in the first each cell is "median time (ratio to Baseline)", in the
// second "allocs/op · B/op" when -benchmem was given.
func (s *Samples) Write(w io.Writer) {
	name := s.StatName
	if name == "" {
		name = "median"
	}
	s.header(w, fmt.Sprintf("%s time/op (× %s)", name, Baseline))
	for _, g := range s.groups {
		fmt.Fprintf(w, "| %s |", g)
		base, hasBase := s.ns[g][Baseline]
		for _, e := range s.engines {
			xs, ok := s.ns[g][e]
			switch {
			case !ok:
				fmt.Fprint(w, " – |")
			case hasBase:
				v := s.stat(xs)
				fmt.Fprintf(w, " %s (%s) |", FormatNs(v), FormatRatio(v/s.stat(base)))
			default:
				fmt.Fprintf(w, " %s |", FormatNs(s.stat(xs)))
			}
		}
		fmt.Fprintln(w)
	}
	if len(s.allocs) == 0 {
		return
	}
	fmt.Fprintln(w)
	s.header(w, name+" allocs/op · B/op")
	for _, g := range s.groups {
		fmt.Fprintf(w, "| %s |", g)
		for _, e := range s.engines {
			a, okA := s.allocs[g][e]
			b, okB := s.bytes[g][e]
			if !okA || !okB {
				fmt.Fprint(w, " – |")
				continue
			}
			fmt.Fprintf(w, " %.0f · %.0f |", s.stat(a), s.stat(b))
		}
		fmt.Fprintln(w)
	}
}

func (s *Samples) header(w io.Writer, what string) {
	fmt.Fprintf(w, "| %s |", what)
	for _, e := range s.engines {
		fmt.Fprintf(w, " %s |", e)
	}
	fmt.Fprint(w, "\n|---|")
	for range s.engines {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w)
}

func main() {
	stat := flag.String("stat", "median", "summary of the samples: median or min")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: ratios [-stat median|min] [bench-output.txt]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() > 1 || (*stat != "median" && *stat != "min") {
		flag.Usage()
		os.Exit(2)
	}
	var in io.Reader = os.Stdin
	if flag.NArg() == 1 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	s, err := Parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(s.groups) == 0 {
		fmt.Fprintln(os.Stderr, "ratios: no benchmark results with an engine sub-name")
		os.Exit(1)
	}
	if *stat == "min" {
		s.Stat, s.StatName = Min, "min"
	}
	s.Write(os.Stdout)
}
