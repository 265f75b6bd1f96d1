package evaluator_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// scaleApp returns an app whose app.items collection has n roles; only the
// last one applies to the benchmark's caller and document (the worst case
// for first-match role assignment).
func scaleApp(tb testing.TB, n int) *evaluator.Program {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`{"database": "app", "collection": "items", "roles": [`)
	for i := 0; i < n-1; i++ {
		fmt.Fprintf(&b, `{"name": "team%d", "apply_when": {"team_id": "team-%d", "%%%%user.custom_data.level": {"$gte": %d}}, "read": true},`, i, i, i)
	}
	b.WriteString(`{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true}]}`)
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/items/rules.json": {Data: []byte(b.String())}})
	if err != nil {
		tb.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		tb.Fatal(err)
	}
	return prog
}

// scaleUser returns a user whose custom data is about size bytes.
func scaleUser(tb testing.TB, size int) expansion.User {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`{"id": "u-1", "type": "normal", "custom_data": {"level": 1, "teamIds": [`)
	for i := 0; b.Len() < size-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"team-x%04d"`, i)
	}
	b.WriteString(`], "owner": "u-1"}}`)
	u, err := expansion.NewUserObject([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return u
}

var scaleDoc = func() bson.Raw {
	d, _ := bson.Marshal(bson.D{{Key: "_id", Value: 1}, {Key: "owner_id", Value: "u-1"}, {Key: "team_id", Value: "team-zzz"}, {Key: "title", Value: "hello"}})
	return d
}()

// BenchmarkScaleRoles measures deciding one document as the number of roles
// grows, the deciding role last: Bind once per request, then Evaluate.
func BenchmarkScaleRoles(b *testing.B) {
	ctx := context.Background()
	user := scaleUser(b, 1<<10)
	for _, n := range []int{1, 10, 100, 1000} {
		prog := scaleApp(b, n)
		caller := evaluator.Caller{Namespace: "app.items", Inputs: expansion.Inputs{User: user}}
		b.Run(fmt.Sprintf("Evaluate/roles=%d", n), func(b *testing.B) {
			bound, err := prog.Bind(ctx, caller)
			if err != nil {
				b.Fatal(err)
			}
			d := evaluator.Doc{Action: evaluator.ActionRead, Document: scaleDoc}
			if dec, _ := bound.Evaluate(ctx, d); !dec.Allowed || dec.Role != "owner" {
				b.Fatalf("decision %+v, want owner", dec)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = bound.Evaluate(ctx, d)
			}
		})
		b.Run(fmt.Sprintf("ReadFilter/roles=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := prog.ReadFilter(ctx, caller); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScaleCustomData measures a whole request (Bind and Evaluate) and
// ReadFilter as the custom data in the caller's claims grows from 1 KB to
// 16 KB, with a team-membership rule over the teamIds array.
func BenchmarkScaleCustomData(b *testing.B) {
	ctx := context.Background()
	app, err := rules.LoadApp(fstest.MapFS{"data_sources/mongodb-atlas/app/items/rules.json": {Data: []byte(
		`{"database": "app", "collection": "items", "roles": [
		  {"name": "member", "apply_when": {"team_id": {"$in": "%%user.custom_data.teamIds"}}, "read": true},
		  {"name": "owner", "apply_when": {"owner_id": "%%user.custom_data.owner"}, "read": true}]}`)}})
	if err != nil {
		b.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		b.Fatal(err)
	}
	for _, kb := range []int{1, 2, 4, 8, 16} {
		caller := evaluator.Caller{Namespace: "app.items", Inputs: expansion.Inputs{User: scaleUser(b, kb<<10)}}
		d := evaluator.Doc{Action: evaluator.ActionRead, Document: scaleDoc}
		b.Run(fmt.Sprintf("Evaluate/custom_data=%dKB", kb), func(b *testing.B) {
			if dec, _ := prog.Evaluate(ctx, caller, d); !dec.Allowed || dec.Role != "owner" {
				b.Fatalf("decision %+v, want owner", dec)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = prog.Evaluate(ctx, caller, d)
			}
		})
		b.Run(fmt.Sprintf("ReadFilter/custom_data=%dKB", kb), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := prog.ReadFilter(ctx, caller); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
