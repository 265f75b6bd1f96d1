package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/rulegatetest"
)

// TestFlow runs the example's flow on the test server and checks each
// step: the same code as `go run ./examples/customdata`.
func TestFlow(t *testing.T) {
	db := rulegatetest.Database(t)
	var buf bytes.Buffer
	out, err := run(context.Background(), &buf, db.Client(), db.Name())
	t.Log("\n" + buf.String())
	if err != nil {
		t.Fatal(err)
	}
	if out.ColorAtLogin != "blue" {
		t.Errorf("custom data at login: favoriteColor %q, want blue", out.ColorAtLogin)
	}
	if out.Update.MatchedCount != 1 || out.Update.ModifiedCount != 1 {
		t.Errorf("update: %+v, want {MatchedCount: 1, ModifiedCount: 1}", out.Update)
	}
	if out.ColorAfter != "pink" {
		t.Errorf("custom data after refresh: favoriteColor %q, want pink", out.ColorAfter)
	}
	if out.BobUpdate == nil || out.BobUpdate.MatchedCount != 0 || out.BobUpdate.ModifiedCount != 0 {
		t.Errorf("update of bob's document: %+v, want {MatchedCount: 0}: it is invisible to alice", out.BobUpdate)
	}
	if out.BobColorAfter != "green" {
		t.Errorf("bob's favoriteColor = %q, want green (unchanged)", out.BobColorAfter)
	}
	if out.AliceSeesBob {
		t.Error("alice can read bob's custom data")
	}
	if out.AliceDocuments != 1 {
		t.Errorf("alice counts %d custom data documents, want 1 (her own)", out.AliceDocuments)
	}
	for _, step := range []string{"1. ", "2. ", "3. ", "4. ", "5. ", "6. "} {
		if !strings.Contains(buf.String(), step) {
			t.Errorf("step %q not printed", step)
		}
	}
}

// The app's rule tests (tests/*.json) are also replayed through the gate on
// the test server, with the read field lists checked, by
// gate.TestExampleAppsThroughGate.
