package benchcpu

import (
	"testing"
	"time"
)

// Meter is the CPU time at the start of a measured loop.
type Meter struct {
	start time.Duration
	ok    bool
}

// Start reads the process's CPU time; call it just before the loop.
func Start() Meter {
	d, ok := Process()
	return Meter{start: d, ok: ok}
}

// Report adds the cpu-ns/op metric to b: the CPU time used since Start,
// divided by b.N. It adds nothing where CPU time is not measured.
func (m Meter) Report(b *testing.B) {
	end, ok := Process()
	if !ok || !m.ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64((end-m.start).Nanoseconds())/float64(b.N), "cpu-ns/op")
}
