package benchcpu_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/rulegate/rulegate/internal/benchcpu"
)

// TestProcessGrows: busy work shows in the process's CPU time.
func TestProcessGrows(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "js" || runtime.GOOS == "wasip1" || runtime.GOOS == "plan9" {
		t.Skip("CPU time is not measured on " + runtime.GOOS)
	}
	before, ok := benchcpu.Process()
	if !ok {
		t.Fatal("Process: not measured on a unix system")
	}
	x := 0
	for after := before; after <= before; after, _ = benchcpu.Process() {
		for i := range 1_000_000 {
			x += i
		}
	}
	_ = x
}

// A benchmark reports cpu-ns/op beside ns/op: Start before the loop,
// Report after it.
func ExampleMeter_Report() {
	r := testing.Benchmark(func(b *testing.B) {
		m := benchcpu.Start()
		x := 0
		for b.Loop() {
			x++
		}
		m.Report(b)
	})
	_, measured := r.Extra["cpu-ns/op"]
	fmt.Println(measured || runtime.GOOS == "windows")
	// Output: true
}
