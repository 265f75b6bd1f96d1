package gate_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/benchcpu"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// pageRules: the notes API's owner and teammate roles, both reading whole
// documents, so that the rule filter is exact and no document the server
// returns is redacted or left out.
const pageRules = `"roles": [
	{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true},
	{"name": "teammate", "apply_when": {"team": {"$in": "%%user.custom_data.teamIds"}}, "read": true}
], "filters": []`

// pageSeed is the benchmark database, seeded once per process: one
// collection per size (notes1000, notes10000), a quarter of the notes the
// caller's, most of the others its teams', one in 20 none it may read.
var pageSeed struct {
	once sync.Once
	db   *mongo.Database
	err  error
}

func pageDB(b *testing.B) *mongo.Database {
	b.Helper()
	pageSeed.once.Do(func() {
		client, err := mongo.Connect(options.Client().ApplyURI(rulegatetest.URI(b)))
		if err != nil {
			pageSeed.err = err
			return
		}
		// The embedded server goes with the test binary; under
		// MONGODB_URI the database is left behind, named by the pid.
		pageSeed.db = client.Database(fmt.Sprintf("rg_findpage_%d", os.Getpid()))
		for _, n := range []int{1000, 10000} {
			coll := pageSeed.db.Collection(fmt.Sprintf("notes%d", n))
			const batch = 1000
			for i := 0; i < n && pageSeed.err == nil; i += batch {
				docs := make([]any, 0, batch)
				for j := i; j < i+batch && j < n; j++ {
					owner, team := "u", fmt.Sprintf("t%d", j%3)
					switch {
					case j%20 == 19:
						team = "t9"
					case j%4 == 0:
						owner = "a1"
					}
					status := "open"
					if j%4 == 3 {
						status = "done"
					}
					docs = append(docs, bson.D{{Key: "_id", Value: j}, {Key: "owner_id", Value: owner}, {Key: "team", Value: team},
						{Key: "title", Value: fmt.Sprintf("note %05d", (j*7919)%n)}, {Key: "status", Value: status}, {Key: "body", Value: "a short body of text"},
						{Key: "private", Value: fmt.Sprintf("private %d", j)}})
				}
				_, pageSeed.err = coll.InsertMany(context.Background(), docs)
			}
		}
	})
	if pageSeed.err != nil {
		b.Fatal(pageSeed.err)
	}
	return pageSeed.db
}

// BenchmarkFindPage compares the app CPU (cpu-ns/op, getrusage: wall time
// is the embedded server's) of a gated Find with a handwritten raw-driver
// handler for a list (the first page), a page and a deep skip, over 1k and
// 10k notes, in two shapes:
//   - sorted by _id, no filter, under pageRules (every role reads whole
//     notes); the raw handler is the driver's Find given the equivalent
//     filter (the caller's ReadFilter AND the client filter) and the same
//     sort, skip and limit;
//   - filter=status-title: {status: "open"} sorted by title, under
//     teammateRules (the teammate cannot read private); the raw handler
//     also removes private from the notes the caller does not own, as a
//     handwritten handler must.
//
// In both the gate pages on the server. Three quarters of the notes are
// open, none of the notes the caller may not read.
func BenchmarkFindPage(b *testing.B) {
	db := pageDB(b)
	ctx := context.Background()
	u, err := expansion.NewUserObject([]byte(`{"id": "a1", "type": "normal", "custom_data": {"teamIds": ["t0", "t1", "t2"]}}`))
	if err != nil {
		b.Fatal(err)
	}
	type query struct {
		name        string
		skip, limit int64
	}
	for _, shape := range []struct {
		name, rules  string
		filter, sort bson.D
		redact       bool
		queries      []query
	}{
		{"", pageRules, bson.D{}, bson.D{{Key: "_id", Value: 1}}, false, []query{{"list", 0, 50}, {"page", 100, 50}, {"deepskip", 900, 50}}},
		{"/filter=status-title", teammateRules, bson.D{{Key: "status", Value: "open"}}, bson.D{{Key: "title", Value: 1}}, true, []query{{"list", 0, 50}, {"page", 100, 50}, {"deepskip", 600, 50}}},
	} {
		for _, n := range []int{1000, 10000} {
			coll := fmt.Sprintf("notes%d", n)
			g := newGate(b, db.Client(), rulesFS(db.Name(), shape.rules, coll))
			gated := g.For(u).Database(db.Name()).Collection(coll)
			rf, _, err := g.Program().ReadFilter(ctx, evaluator.Caller{Namespace: db.Name() + "." + coll, Inputs: expansion.Inputs{User: u}})
			if err != nil {
				b.Fatal(err)
			}
			raw := db.Collection(coll)
			for _, q := range shape.queries {
				o := options.Find().SetSort(shape.sort).SetLimit(q.limit)
				if q.skip > 0 {
					o.SetSkip(q.skip)
				}
				want := int(q.limit)
				b.Run(fmt.Sprintf("docs=%d/query=%s%s/handler=raw", n, q.name, shape.name), func(b *testing.B) {
					b.ReportAllocs()
					cpu := benchcpu.Start()
					for b.Loop() {
						cur, err := raw.Find(ctx, mql.And(shape.filter, rf), o)
						if err != nil {
							b.Fatal(err)
						}
						var got []bson.Raw
						if err := cur.All(ctx, &got); err != nil || len(got) != want {
							b.Fatal(len(got), err)
						}
						if shape.redact {
							for i, d := range got {
								if d.Lookup("owner_id").StringValue() != "a1" {
									got[i] = without(b, d, "private")
								}
							}
						}
					}
					cpu.Report(b)
				})
				b.Run(fmt.Sprintf("docs=%d/query=%s%s/handler=gate", n, q.name, shape.name), func(b *testing.B) {
					b.ReportAllocs()
					cpu := benchcpu.Start()
					for b.Loop() {
						cur, err := gated.Find(ctx, shape.filter, o)
						if err != nil {
							b.Fatal(err)
						}
						var got []bson.Raw
						if err := cur.All(ctx, &got); err != nil || len(got) != want {
							b.Fatal(len(got), err)
						}
					}
					cpu.Report(b)
				})
			}
		}
	}
}

// BenchmarkAggregateStats compares the app CPU (cpu-ns/op) of the notes
// API's count by status for an owner who also reads teammates' notes
// without their private field (teammateRules), over 1k and 10k notes:
//   - handler=raw-server: the driver's Aggregate of the equivalent
//     handwritten pipeline ({$match: ReadFilter}, the $group, the $sort),
//     run by the server (status is readable in every note, so no
//     redaction is needed for this answer);
//   - handler=raw-app: a handwritten handler that reads the notes the
//     caller may read, removes private from those it does not own, and
//     counts in Go, as a handler must for a pipeline that reads a field
//     not every role reads;
//   - handler=gate: the gated Aggregate. On MongoDB the server runs this
//     pipeline (summaryReadable); on the embedded server (FerretDB) the
//     gate runs it itself over the redacted notes (Gate.serverAggregates).
func BenchmarkAggregateStats(b *testing.B) {
	db := pageDB(b)
	ctx := context.Background()
	u, err := expansion.NewUserObject([]byte(`{"id": "a1", "type": "normal", "custom_data": {"teamIds": ["t0", "t1", "t2"]}}`))
	if err != nil {
		b.Fatal(err)
	}
	stages := bson.A{
		bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$status"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		bson.D{{Key: "$sort", Value: bson.D{{Key: "_id", Value: 1}}}},
	}
	for _, n := range []int{1000, 10000} {
		coll := fmt.Sprintf("notes%d", n)
		g := newGate(b, db.Client(), rulesFS(db.Name(), teammateRules, coll))
		gated := g.For(u).Database(db.Name()).Collection(coll)
		rf, _, err := g.Program().ReadFilter(ctx, evaluator.Caller{Namespace: db.Name() + "." + coll, Inputs: expansion.Inputs{User: u}})
		if err != nil {
			b.Fatal(err)
		}
		raw := db.Collection(coll)
		check := func(b *testing.B, got []bson.Raw) {
			if len(got) != 2 {
				b.Fatalf("%d groups: %v", len(got), got)
			}
		}
		b.Run(fmt.Sprintf("docs=%d/handler=raw-server", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := benchcpu.Start()
			for b.Loop() {
				cur, err := raw.Aggregate(ctx, append(bson.A{bson.D{{Key: "$match", Value: rf}}}, stages...))
				if err != nil {
					b.Fatal(err)
				}
				var got []bson.Raw
				if err := cur.All(ctx, &got); err != nil {
					b.Fatal(err)
				}
				check(b, got)
			}
			cpu.Report(b)
		})
		b.Run(fmt.Sprintf("docs=%d/handler=raw-app", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := benchcpu.Start()
			for b.Loop() {
				cur, err := raw.Find(ctx, rf)
				if err != nil {
					b.Fatal(err)
				}
				counts := map[string]int32{}
				for cur.Next(ctx) {
					d := cur.Current
					if d.Lookup("owner_id").StringValue() != "a1" {
						d = without(b, d, "private")
					}
					counts[d.Lookup("status").StringValue()]++
				}
				if err := cur.Err(); err != nil {
					b.Fatal(err)
				}
				keys := make([]string, 0, len(counts))
				for k := range counts {
					keys = append(keys, k)
				}
				sortStrings(keys)
				got := make([]bson.Raw, len(keys))
				for i, k := range keys {
					got[i], _ = bson.Marshal(bson.D{{Key: "_id", Value: k}, {Key: "n", Value: counts[k]}})
				}
				check(b, got)
			}
			cpu.Report(b)
		})
		b.Run(fmt.Sprintf("docs=%d/handler=gate", n), func(b *testing.B) {
			b.ReportAllocs()
			cpu := benchcpu.Start()
			for b.Loop() {
				cur, err := gated.Aggregate(ctx, stages)
				if err != nil {
					b.Fatal(err)
				}
				var got []bson.Raw
				if err := cur.All(ctx, &got); err != nil {
					b.Fatal(err)
				}
				check(b, got)
			}
			cpu.Report(b)
		})
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
