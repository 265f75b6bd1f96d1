package gate

import (
	"context"
	"os"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// BenchmarkFindOneRules is the in-process part of a gated FindOne, without
// the server round trip: bind the caller, validate the client filter,
// build the combined filter, decide the returned document's role and
// fields, redact it. Compare with BenchmarkFindOne (gate_test.go), which
// includes the server.
func BenchmarkFindOneRules(b *testing.B) {
	app, err := rules.LoadApp(os.DirFS("testdata/app"))
	if err != nil {
		b.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		b.Fatal(err)
	}
	u, err := expansion.NewUserObject([]byte(`{"id": "a1", "type": "normal", "custom_data": {"team": "red"}}`))
	if err != nil {
		b.Fatal(err)
	}
	c := &Collection{s: &Session{g: &Gate{prog: prog}, in: expansion.Inputs{User: u}}, ns: "app.notes"}
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		doc  bson.D
	}{
		{"own", bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "a1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "alice's plan"}, {Key: "secret", Value: "a-secret"}, {Key: "count", Value: 0}}},
		{"teammate", bson.D{{Key: "_id", Value: 2}, {Key: "owner_id", Value: "b1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "bob's plan"}, {Key: "secret", Value: "b-secret"}, {Key: "count", Value: 0}}},
	} {
		doc, _ := bson.Marshal(bc.doc)
		filter := bson.D{{Key: "_id", Value: bc.doc[0].Value}}
		limit := int64(1)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bd, err := c.bind(ctx)
				if err != nil {
					b.Fatal(err)
				}
				spec, err := c.find(ctx, bd, "FindOne", filter, &options.FindOptions{Limit: &limit})
				if err != nil {
					b.Fatal(err)
				}
				out, ok, err := c.readable(ctx, bd, "FindOne", doc, spec.refs)
				if err != nil || !ok || len(out) == 0 {
					b.Fatal(ok, err)
				}
			}
		})
	}
}
