package gate_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rulegatetest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// TestWatchEmbedded: the embedded server (FerretDB 1.24) has no change
// streams. Watch returns its refusal, the server's command error as it
// is, at once: no panic, no hang, and not an error of the gate's own.
func TestWatchEmbedded(t *testing.T) {
	if os.Getenv(rulegatetest.EnvURI) != "" {
		t.Skip("MONGODB_URI is set: TestWatch runs the change stream there")
	}
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := e.as("alice").Watch(ctx, mongo.Pipeline{})
	if err == nil {
		_ = cs.Close(ctx)
		t.Fatal("Watch succeeded on the embedded server")
	}
	var ce mongo.CommandError
	if !errors.As(err, &ce) || errors.Is(err, gate.ErrRefused) || errors.Is(err, gate.ErrDenied) || ctx.Err() != nil {
		t.Fatalf("Watch: %T %v, want the server's command error", err, err)
	}
	if !strings.Contains(ce.Message, "$changeStream") {
		t.Errorf("Watch: %v, want the server's refusal of $changeStream", err)
	}
}

// TestWatchRefused: what the gate refuses is refused before the server is
// asked, the stage or option named: client stages other than $match
// (they would run on events before redaction), a $match that Go cannot
// decide as the server would, options that change what the rules see.
// A namespace without rules is denied with no-rules.
func TestWatchRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.as("alice")
	for _, tc := range []struct {
		name     string
		pipeline any
		code     string
		ptr      string
		msg      string
	}{
		{"project", mongo.Pipeline{{{Key: "$project", Value: bson.D{{Key: "fullDocument.secret", Value: 1}}}}}, gate.CodeUnsupported, "/0/$project", "stage $project is not supported"},
		{"lookup after match", mongo.Pipeline{{{Key: "$match", Value: bson.D{}}}, {{Key: "$lookup", Value: bson.D{}}}}, gate.CodeUnsupported, "/1/$lookup", "stage $lookup"},
		{"where", mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "$where", Value: "true"}}}}}, gate.CodeUnsupported, "/0/$match/$where", "JavaScript"},
		{"expr", mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "$expr", Value: true}}}}}, gate.CodeUnsupported, "/0/$match/$expr", ""},
		{"match not a document", mongo.Pipeline{{{Key: "$match", Value: 1}}}, gate.CodeInvalid, "/0/$match", ""},
		{"two keys", []bson.D{{{Key: "$match", Value: bson.D{}}, {Key: "$limit", Value: 1}}}, gate.CodeInvalid, "/0", ""},
		{"not a pipeline", bson.D{{Key: "$match", Value: bson.D{}}}, gate.CodeInvalid, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := c.Watch(ctx, tc.pipeline)
			if err == nil {
				_ = cs.Close(ctx)
			}
			re := wantRefused(t, err, tc.code)
			if string(re.Ptr) != tc.ptr || !strings.Contains(re.Msg, tc.msg) || re.Op != "Watch" {
				t.Errorf("refusal %v, want at %q saying %q", re, tc.ptr, tc.msg)
			}
		})
	}
	_, err := e.g.For(e.users["alice"]).Database(e.db.Name()).Collection("notez").Watch(ctx, nil)
	wantDenied(t, err, "Watch", evaluator.ActionRead, evaluator.ReasonNoRules)
}

// TestWatch runs gated change streams on a real deployment (MONGODB_URI,
// a replica set or a sharded cluster of MongoDB 6.0 or later): each
// caller gets the events of the documents it may read, redacted, and
// nothing of the others; an update of a hidden field reaches only who
// may read it; a client $match on a hidden field matches nothing.
func TestWatch(t *testing.T) {
	if os.Getenv(rulegatetest.EnvURI) == "" {
		t.Skip("the embedded server (FerretDB) has no change streams: run this test with MONGODB_URI set to a replica set")
	}
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Pre-images, so that deletes can be decided.
	if err := e.db.RunCommand(ctx, bson.D{{Key: "collMod", Value: "notes"}, {Key: "changeStreamPreAndPostImages", Value: bson.D{{Key: "enabled", Value: true}}}}).Err(); err != nil {
		t.Fatal(err)
	}
	open := func(name string, pipeline mongo.Pipeline) *gate.ChangeStream {
		cs, err := e.as(name).Watch(ctx, pipeline)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { _ = cs.Close(context.Background()) })
		return cs
	}
	streams := map[string]*gate.ChangeStream{
		"alice":         open("alice", nil),
		"bob":           open("bob", nil),
		"carol":         open("carol", nil),
		"bob on secret": open("bob", mongo.Pipeline{{{Key: "$match", Value: bson.D{{Key: "updateDescription.updatedFields.secret", Value: bson.D{{Key: "$exists", Value: true}}}}}}}),
	}
	// Each event as "<operationType> <_id> <what the caller sees>".
	describe := func(ev bson.Raw) string {
		op := ev.Lookup("operationType").StringValue()
		what := "fullDocument"
		switch op {
		case "update":
			what = "updateDescription.updatedFields"
		case "delete":
			what = "fullDocumentBeforeChange"
		}
		seen, _ := ev.Lookup(strings.Split(what, ".")...).DocumentOK()
		js, err := bson.MarshalExtJSON(seen, false, false)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ev.LookupErr("lsid"); err == nil {
			js = append(js, " with lsid"...)
		}
		return fmt.Sprintf("%s %d %s", op, ev.Lookup("documentKey", "_id").AsInt64(), js)
	}
	// read checks the next events of each stream but bob's $match one.
	read := func(want map[string][]string) {
		t.Helper()
		for name, w := range want {
			cs := streams[name]
			var got []string
			for len(got) < len(w) && cs.Next(ctx) {
				got = append(got, describe(cs.Current))
			}
			if err := cs.Err(); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if strings.Join(got, "\n") != strings.Join(w, "\n") {
				t.Errorf("%s's events:\n%s\nwant\n%s", name, strings.Join(got, "\n"), strings.Join(w, "\n"))
			}
			if cs.ResumeToken() == nil {
				t.Errorf("%s: no resume token after an event", name)
			}
		}
	}
	// Written with the driver itself (bypassing the rules). The updates
	// are read before the delete: an update event is decided on the
	// document as it is when the server reads the event for the stream.
	if _, err := e.raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("secret", "new")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.UpdateOne(ctx, bson.D{{Key: "_id", Value: 1}}, set("title", "t2", "secret", "newer")); err != nil {
		t.Fatal(err)
	}
	read(map[string][]string{
		"alice": {`update 1 {"secret":"new"}`, `update 1 {"title":"t2","secret":"newer"}`},
		"bob":   {`update 1 {"title":"t2"}`},
	})
	if _, err := e.raw.DeleteOne(ctx, bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 9}, {Key: "owner_id", Value: "c1"}, {Key: "team", Value: "blue"}, {Key: "secret", Value: "c"}}); err != nil {
		t.Fatal(err)
	}
	// The last event, one every stream but the $match one passes.
	if _, err := e.raw.InsertOne(ctx, bson.D{{Key: "_id", Value: 10}, {Key: "owner_id", Value: "c1"}, {Key: "team", Value: "red"}, {Key: "title", Value: "end"}}); err != nil {
		t.Fatal(err)
	}
	read(map[string][]string{
		"alice": {
			`delete 1 {"_id":1,"owner_id":"a1","team":"red","title":"t2","secret":"newer","count":0}`,
			`insert 10 {"_id":10,"team":"red","title":"end"}`,
		},
		"bob": {
			`delete 1 {"_id":1,"team":"red","title":"t2","count":0}`,
			`insert 10 {"_id":10,"team":"red","title":"end"}`,
		},
		"carol": {
			`insert 9 {"_id":9,"owner_id":"c1","team":"blue","secret":"c"}`,
			`insert 10 {"_id":10,"owner_id":"c1","team":"red","title":"end"}`,
		},
	})
	// bob's $match on the hidden secret: nothing, although both updates
	// set it.
	bob := streams["bob on secret"]
	short, stop := context.WithTimeout(ctx, 2*time.Second)
	defer stop()
	if bob.Next(short) {
		t.Errorf("bob's $match on secret matched %s", describe(bob.Current))
	}
}

// watched is the error of a Watch the gate accepted: nil once the server
// opened the stream (closed here) or, on the embedded server, which has
// no change streams, refused it with its own error; the gate's refusal
// otherwise.
func watched(cs *gate.ChangeStream, err error) error {
	if err == nil {
		return cs.Close(context.Background())
	}
	var ce mongo.CommandError
	if os.Getenv(rulegatetest.EnvURI) == "" && errors.As(err, &ce) && !errors.Is(err, gate.ErrRefused) {
		return nil
	}
	return err
}

// resumeToken is a resume token of the test's collection: a stream's,
// with MONGODB_URI; on the embedded server, which never reads it, any
// token.
func resumeToken(t *testing.T, c *gate.Collection) bson.Raw {
	t.Helper()
	if os.Getenv(rulegatetest.EnvURI) == "" {
		raw, _ := bson.Marshal(bson.D{{Key: "_data", Value: "00"}})
		return raw
	}
	ctx := context.Background()
	cs, err := c.Watch(ctx, nil, options.ChangeStream().SetMaxAwaitTime(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close(ctx)
	cs.TryNext(ctx)
	if cs.ResumeToken() == nil {
		t.Fatal("no resume token")
	}
	return cs.ResumeToken()
}
