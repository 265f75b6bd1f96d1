package server

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
)

// TestDataErrorReasons: every reason of a gate denial is a 403 (never a
// 401, which makes clients refresh and retry), with the App Services code
// of its kind; leaving-scope is PermissionDenied, as a false permission.
func TestDataErrorReasons(t *testing.T) {
	want := map[evaluator.Reason]string{
		evaluator.ReasonNoRules: codeNoMatchingRule,
		evaluator.ReasonNoRole:  codeNoMatchingRule,
		evaluator.ReasonSchema:  codeSchemaValidation,
	}
	for _, r := range evaluator.Reasons() {
		if r == evaluator.ReasonAllowed {
			continue
		}
		de := &gate.DeniedError{Namespace: "db.c", Op: "UpdateOne", Action: evaluator.ActionWrite, Reason: r, Role: "owner"}
		e := dataError(fmt.Errorf("wrapped: %w", de))
		code := want[r]
		if code == "" {
			code = codePermission
		}
		if e.status != http.StatusForbidden || e.code != code || e.msg != de.Error() {
			t.Errorf("%s: %d %s %q, want 403 %s", r, e.status, e.code, e.msg, code)
		}
	}
}
