//go:build unix

package benchcpu

import (
	"syscall"
	"time"
)

// Process returns the CPU time (user and system) this process has used,
// and false when it cannot be measured.
func Process() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
