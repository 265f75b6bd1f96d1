package evaluator_test

import (
	"context"
	"fmt"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

// A function's can_evaluate, decided for two requests.
func ExampleCompileCondition() {
	e, err := rules.ParseExpr(source.NewFile("functions/config.json", []byte(
		`{"%%request.remoteIPAddress": {"$nin": ["248.88.57.58"]}}`)))
	if err != nil {
		fmt.Println(err)
		return
	}
	cond, err := evaluator.CompileCondition(&rules.App{}, e)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ip := range []string{"10.0.0.1", "248.88.57.58"} {
		ok, err := cond.Eval(context.Background(), &expansion.Inputs{Request: []byte(`{"remoteIPAddress": "` + ip + `"}`)})
		fmt.Println(ip, ok, err)
	}
	// Output:
	// 10.0.0.1 true <nil>
	// 248.88.57.58 false <nil>
}
