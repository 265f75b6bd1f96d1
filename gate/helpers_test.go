package gate_test

import (
	"fmt"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// rulesFS returns an exported app holding one rules.json for each of colls
// in database db: {"database": db, "collection": coll, <body>}.
func rulesFS(db, body string, colls ...string) fstest.MapFS {
	fsys := fstest.MapFS{}
	for _, coll := range colls {
		js := fmt.Sprintf(`{"database": %q, "collection": %q, %s}`, db, coll, body)
		fsys["data_sources/mongodb-atlas/"+db+"/"+coll+"/rules.json"] = &fstest.MapFile{Data: []byte(js)}
	}
	return fsys
}

// newGate loads and compiles the app in fsys and returns a Gate over
// client.
func newGate(tb testing.TB, client *mongo.Client, fsys fs.FS, opts ...gate.Option) *gate.Gate {
	tb.Helper()
	app, err := rules.LoadApp(fsys)
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	g, err := gate.New(client, prog, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return g
}
