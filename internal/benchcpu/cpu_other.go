//go:build !unix

package benchcpu

import "time"

// Process is not measured on this platform: it reports false.
func Process() (time.Duration, bool) { return 0, false }
