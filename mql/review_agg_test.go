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

// TestExpressionLoopsWithinLimit: nested loops over constants whose body
// builds nothing ({$literal: null}) still count against the memory limit,
// a byte an element, instead of running unbounded.
func TestExpressionLoopsWithinLimit(t *testing.T) {
	arr := "[" + strings.Repeat("0,", 2999) + "0]"
	for _, tc := range []struct{ name, expr string }{
		{"$map of $reduce", `{"$size": {"$map": {"input": {"$literal": ` + arr + `}, "in": {"$reduce": {"input": {"$literal": ` + arr + `}, "initialValue": null, "in": {"$literal": null}}}}}}`},
		{"$map of $filter", `{"$size": {"$map": {"input": {"$literal": ` + arr + `}, "in": {"$filter": {"input": {"$literal": ` + arr + `}, "cond": {"$literal": false}}}}}}`},
		{"$map of $map", `{"$size": {"$map": {"input": {"$literal": ` + arr + `}, "in": {"$size": {"$map": {"input": {"$literal": ` + arr + `}, "in": {"$literal": null}}}}}}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e, err := compileExpr(rawOf(t, tc.expr), "/e", nil)
			if err != nil {
				t.Fatal(err)
			}
			rc := &runCtx{now: time.Now(), limit: 1 << 16}
			if _, err := e.eval(rc.docScope(value.FromDocument(rawOf(t, `{}`).Document()))); !errors.Is(err, errBuilt) {
				t.Fatalf("err = %v, want errBuilt", err)
			}
		})
	}
}
