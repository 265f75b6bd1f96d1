package mql

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rulegate/rulegate/value"
)

// TestExpressionBuildsWithinLimit: an operator whose result can be far
// larger than its operands ($replaceAll of an empty find, $range) fails
// with errBuilt before it builds more than the memory limit allows, not
// after.
func TestExpressionBuildsWithinLimit(t *testing.T) {
	big := strings.Repeat("x", 4000)
	for _, tc := range []struct{ name, expr string }{
		{"$replaceAll of an empty find", `{"$strLenBytes": {"$replaceAll": {"input": "` + big + `", "find": "", "replacement": "` + big + `"}}}`},
		{"$replaceAll of a one-byte find", `{"$strLenBytes": {"$replaceAll": {"input": "` + big + `", "find": "x", "replacement": "` + big + `"}}}`},
		{"$range", `{"$size": {"$range": [0, 4000000]}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := compileExpr(rawOf(t, tc.expr), "/e", nil)
			if err != nil {
				t.Fatal(err)
			}
			rc := &runCtx{now: time.Now(), limit: 1 << 20}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err = e.eval(rc.docScope(value.FromDocument(rawOf(t, `{}`).Document())))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, errBuilt) {
				t.Fatalf("err = %v, want errBuilt", err)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 8<<20 {
				t.Errorf("allocated %d bytes before failing, want at most a few times the 1 MiB limit", n)
			}
		})
	}
}
