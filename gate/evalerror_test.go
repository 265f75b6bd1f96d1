package gate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/value"
)

// TestEvalErrorIsADeniedError: a decision the evaluator could not make
// (here a %function that could not run, which denies) is a
// *gate.DeniedError with ReasonError for errors.As, as every other
// denial, so that one errors.As maps every denial; its cause stays
// reachable with errors.Is, and the DeniedError's own message does not
// carry it.
func TestEvalErrorIsADeniedError(t *testing.T) {
	db := rulegatetest.Database(t)
	app, err := rules.LoadApp(fstest.MapFS{
		"data_sources/mongodb-atlas/" + db.Name() + "/notes/rules.json": {Data: []byte(`{"roles": [{"name": "r", "read": true,
			"apply_when": {"%%true": {"%function": {"name": "f", "arguments": ["%%user.id"]}}}}]}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	cause := errors.New("the cause, with what the function read")
	prog, err := evaluator.Compile(app, evaluator.WithFunction("f", func(context.Context, []value.Value, evaluator.FuncEnv) (value.Value, error) {
		return value.Value{}, cause
	}))
	if err != nil {
		t.Fatal(err)
	}
	g, err := gate.New(db.Client(), prog)
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.For(user(t, `{"id": "a1"}`)).Database(db.Name()).Collection("notes").InsertOne(context.Background(), bson.D{{Key: "x", Value: 1}})
	var de *gate.DeniedError
	if !errors.As(err, &de) || de.Reason != evaluator.ReasonError || !errors.Is(err, cause) || !errors.Is(err, gate.ErrDenied) {
		t.Fatalf("got %v (%T), want a DeniedError with ReasonError wrapping the cause", err, err)
	}
	if strings.Contains(de.Error(), "the cause") {
		t.Errorf("the DeniedError's message carries the cause: %s", de.Error())
	}
}
