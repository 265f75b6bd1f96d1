package gate_test

import (
	"errors"
	"testing"

	"github.com/rulegate/rulegate/gate"
)

// TestAggregateExpressionMemory: an expression that builds a huge value
// for one document ($reduce doubling a string or an array, $map of
// $range) fails within WithPipelineMemoryLimit, as a blocking stage
// does, instead of taking the gate's memory; the result it feeds is
// small, so only the expressions' own accounting can catch it.
func TestAggregateExpressionMemory(t *testing.T) {
	e := newAggEnv(t, gate.WithPipelineMemoryLimit(1<<20))
	for _, tc := range []struct{ name, pipeline string }{
		{"$reduce doubling a string",
			`[{"$limit": 1}, {"$project": {"n": {"$strLenBytes": {"$reduce": {"input": {"$range": [0, 24]}, "initialValue": "ab", "in": {"$concat": ["$$value", "$$value"]}}}}}}]`},
		{"$reduce doubling an array",
			`[{"$limit": 1}, {"$project": {"n": {"$size": {"$reduce": {"input": {"$range": [0, 22]}, "initialValue": [1], "in": {"$concatArrays": ["$$value", "$$value"]}}}}}}]`},
		{"$reduce nesting arrays",
			`[{"$limit": 1}, {"$project": {"n": {"$size": {"$reduce": {"input": {"$range": [0, 24]}, "initialValue": [1], "in": ["$$value", "$$value"]}}}}}]`},
		{"$map of $range",
			`[{"$limit": 1}, {"$project": {"n": {"$size": {"$map": {"input": {"$range": [0, 2000]}, "in": {"$range": [0, 2000]}}}}}}]`},
		{"in $group's _id",
			`[{"$group": {"_id": {"$strLenBytes": {"$reduce": {"input": {"$range": [0, 24]}, "initialValue": "ab", "in": {"$concat": ["$$value", "$$value"]}}}}}}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := aggJSON(t, e.alice, tc.pipeline)
			var r *gate.RefusedError
			if !errors.As(err, &r) || r.Code != gate.CodePipelineFailed {
				t.Fatalf("got %s, err = %v; want %s", out, err, gate.CodePipelineFailed)
			}
		})
	}
}
