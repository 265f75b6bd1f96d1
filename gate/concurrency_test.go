package gate_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestConcurrentWriters has 16 callers of team red write under the rules at
// once. Each increments its own note's counter (owner), increments bob's
// shared counter (a teammate may write count), and tries writes the rules
// forbid, aimed at documents that others are writing at the same moment:
// taking over bob's note or the next caller's, rewriting bob's title,
// touching carol's note of team blue. Afterwards every successful write is
// there (no lost write) and no forbidden write is (no unauthorized write).
//
// Bob's shared counter is checked for lost increments only on servers that
// apply concurrent updates of one document atomically: the embedded
// FerretDB does not (plain concurrent $inc through the raw driver loses
// increments there; see serverKeepsConcurrentIncrements), so on it the
// shared counter is checked for never exceeding the successful increments.
func TestConcurrentWriters(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	const (
		callers = 16
		rounds  = 10
	)
	for i := 0; i < callers; i++ {
		id := fmt.Sprintf("u%02d", i)
		e.users[id] = user(t, fmt.Sprintf(`{"id": %q, "custom_data": {"team": "red"}}`, id))
		if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 100 + i}, {Key: "owner_id", Value: id}, {Key: "team", Value: "red"}, {Key: "title", Value: id}, {Key: "count", Value: 0}}); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu        sync.Mutex
		shared    int // successful increments of bob's count
		conflicts int
		own       = make([]int, callers)
		wg        sync.WaitGroup
	)
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("u%02d", i)
			c := e.as(id)
			inc := bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}}
			for r := 0; r < rounds; r++ {
				res, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 100 + i}}, inc)
				if err != nil || res.MatchedCount != 1 || res.ModifiedCount != 1 {
					t.Errorf("%s: own increment: %+v, %v", id, res, err)
				} else {
					own[i]++
				}
				res, err = c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 2}}, inc)
				mu.Lock()
				switch {
				case errors.Is(err, gate.ErrConflict):
					conflicts++
				case err != nil:
					t.Errorf("%s: shared increment: %v", id, err)
				case res.ModifiedCount != 1:
					t.Errorf("%s: shared increment modified %d", id, res.ModifiedCount)
				default:
					shared++
				}
				mu.Unlock()
				next := 100 + (i+1)%callers
				for _, bad := range []struct {
					filter, update bson.D
					invisible      bool // carol's note: a zero result, not a denial
				}{
					{bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner_id", Value: id}}}}, false},
					{bson.D{{Key: "_id", Value: 2}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: id}}}}, false},
					{bson.D{{Key: "_id", Value: 3}}, inc, true},
					{bson.D{{Key: "_id", Value: next}}, bson.D{{Key: "$set", Value: bson.D{{Key: "owner_id", Value: id}}}}, false},
					{bson.D{{Key: "_id", Value: next}}, bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: id}}}}, false},
				} {
					res, err := c.UpdateOne(ctx, bad.filter, bad.update)
					if bad.invisible {
						if err != nil || res.MatchedCount != 0 {
							t.Errorf("%s: update of an invisible note %v: %+v, %v, want a zero result", id, bad.filter, res, err)
						}
						continue
					}
					var de *gate.DeniedError
					if !errors.As(err, &de) || de.Action != evaluator.ActionWrite {
						t.Errorf("%s: forbidden update %v %v: %v, want a denial", id, bad.filter, bad.update, err)
					}
				}
				if _, err := c.DeleteOne(ctx, bson.D{{Key: "_id", Value: next}}); !errors.Is(err, gate.ErrDenied) {
					t.Errorf("%s: deleting u%02d's note: %v, want a denial", id, (i+1)%callers, err)
				}
			}
		}(i)
	}
	wg.Wait()

	for i := 0; i < callers; i++ {
		id := fmt.Sprintf("u%02d", i)
		d := e.doc(100 + i)
		if d == nil {
			t.Fatalf("%s's note is gone", id)
		}
		if int(d["count"].(int32)) != rounds || own[i] != rounds {
			t.Errorf("%s's note: count %v after %d successful increments, want %d", id, d["count"], own[i], rounds)
		}
		if d["owner_id"] != id || d["title"] != id {
			t.Errorf("%s's note was changed by a forbidden write: %v", id, d)
		}
	}
	bob := e.doc(2)
	if bob["owner_id"] != "b1" || bob["title"] != "bob's plan" || bob["secret"] != "b-secret" {
		t.Errorf("bob's note was changed by a forbidden write: %v", bob)
	}
	if carol := e.doc(3); carol["count"] != int32(0) || carol["owner_id"] != "c1" {
		t.Errorf("carol's note was changed: %v", carol)
	}
	if shared+conflicts != callers*rounds {
		t.Errorf("%d increments + %d conflicts != %d attempts", shared, conflicts, callers*rounds)
	}
	got := int(bob["count"].(int32))
	if serverKeepsConcurrentIncrements(t, e) {
		if got != shared {
			t.Errorf("bob's count = %d after %d successful increments: lost or extra writes", got, shared)
		}
	} else {
		t.Logf("the server loses concurrent single-document updates (embedded FerretDB): bob's count %d of %d successful increments", got, shared)
		if got > shared {
			t.Errorf("bob's count = %d, more than the %d successful increments", got, shared)
		}
	}
	t.Logf("%d contended increments succeeded, %d gave up after retries", shared, conflicts)
}

// serverKeepsConcurrentIncrements reports whether the server applies
// concurrent $inc updates of one document without losing any, using the
// raw driver (no gate).
func serverKeepsConcurrentIncrements(t *testing.T, e *env) bool {
	t.Helper()
	ctx := context.Background()
	c := e.db.Collection("probe")
	if _, err := c.InsertOne(ctx, bson.D{{Key: "_id", Value: 1}, {Key: "n", Value: 0}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < 10; r++ {
				if _, err := c.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "n", Value: 1}}}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	var m bson.M
	if err := c.FindOne(ctx, bson.D{{Key: "_id", Value: 1}}).Decode(&m); err != nil && !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatal(err)
	}
	return m["n"] == int32(160)
}
