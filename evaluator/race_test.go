package evaluator_test

import (
	"context"
	"sync"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
)

// TestConcurrentEvaluate runs 8 goroutines on one Program (and one Bound)
// at once; under -race it proves that evaluation shares no mutable state.
func TestConcurrentEvaluate(t *testing.T) {
	ctx := context.Background()
	c, _ := genCase(t, 44) // a generated app whose rules read no refused operand (undefined, regex) of the users
	p := benchProgram(t)
	shared := benchBound(t, p, "team")
	doc := benchDoc(t)
	want, err := shared.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			user, _ := expansion.NewUserObject([]byte(genUsers[g%len(genUsers)]))
			caller := evaluator.Caller{Namespace: "db.coll", Inputs: expansion.Inputs{User: user}}
			for i := 0; i < 50; i++ {
				got, err := shared.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc}, evaluator.WithFields())
				if err != nil || got.Allowed != want.Allowed || got.Role != want.Role {
					t.Errorf("shared Bound: %+v %v, want %+v", got, err, want)
					return
				}
				var tr evaluator.Trace
				d := evaluator.Doc{Action: evaluator.ActionRead, Document: genDoc(t, c.docs[i%len(c.docs)])}
				if _, err := c.prog.Evaluate(ctx, caller, d, evaluator.WithTrace(&tr), evaluator.WithFields()); err != nil {
					t.Error(err)
					return
				}
				if _, _, err := c.prog.ReadFilter(ctx, caller); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
