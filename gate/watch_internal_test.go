package gate

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// watchRules: notes has an owner role reading everything and a teammate
// role reading _id, title, team, count, meta.tag and items (secret,
// owner_id, meta.note and log are hidden from teammates); open
// lets everyone read every document whole; half lets everyone read every
// document, but only its _id and a.
var watchRules = fstest.MapFS{
	"data_sources/mongodb-atlas/app/notes/rules.json": {Data: []byte(`{"database": "app", "collection": "notes",
		"roles": [
			{"name": "owner", "apply_when": {"owner_id": "%%user.id"}, "read": true, "write": true, "insert": true, "delete": true, "search": true},
			{"name": "teammate", "apply_when": {"team": "%%user.custom_data.team"},
			 "fields": {"_id": {"read": true}, "title": {"read": true}, "team": {"read": true}, "count": {"read": true},
			            "meta": {"fields": {"tag": {"read": true}}}, "items": {"read": true}},
			 "additional_fields": {"read": false, "write": false}, "insert": false, "delete": false, "search": true}
		], "filters": []}`)},
	"data_sources/mongodb-atlas/app/open/rules.json": {Data: []byte(`{"database": "app", "collection": "open",
		"roles": [{"name": "all", "apply_when": {}, "read": true, "write": true, "insert": true, "delete": true, "search": true}], "filters": []}`)},
	"data_sources/mongodb-atlas/app/half/rules.json": {Data: []byte(`{"database": "app", "collection": "half",
		"roles": [{"name": "all", "apply_when": {}, "fields": {"_id": {"read": true}, "a": {"read": true}},
		           "additional_fields": {"read": false, "write": false}, "insert": false, "delete": false, "search": true}], "filters": []}`)},
}

// watchGate is a Gate over watchRules whose client never reaches a
// server: deciding events needs none. The rules' app database is the
// deployment's app_test, so that events name app_test.
func watchGate(t *testing.T, opts ...Option) *Gate {
	t.Helper()
	app, err := rules.LoadApp(watchRules)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		t.Fatal(err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI("mongodb://127.0.0.1:1").SetServerSelectionTimeout(1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	g, err := New(client, prog, append([]Option{WithDatabaseMapping(map[string]string{"app": "app_test"})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

var watchUsers = map[string]string{
	"alice": `{"id": "a1", "type": "normal", "custom_data": {"team": "red"}}`,
	"bob":   `{"id": "b1", "type": "normal", "custom_data": {"team": "red"}}`,
	"carol": `{"id": "c1", "type": "normal", "custom_data": {"team": "blue"}}`,
}

// watcherFor returns the watcher a Watch by name on app.coll would use,
// with the client $match stages match.
func watcherFor(t *testing.T, g *Gate, name, coll string, match ...string) *watcher {
	t.Helper()
	u, err := expansion.NewUserObject([]byte(watchUsers[name]))
	if err != nil {
		t.Fatal(err)
	}
	c := g.For(u).Database("app").Collection(coll)
	ctx := context.Background()
	b, err := c.bindRead(ctx, "Watch")
	if err != nil {
		t.Fatal(err)
	}
	var pipeline []bson.Raw
	for _, m := range match {
		pipeline = append(pipeline, ejson(t, `{"$match": `+m+`}`))
	}
	stages, err := c.watchPipeline("Watch", pipeline)
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.newWatcher(ctx, b, "Watch", stages)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func ejson(t *testing.T, js string) bson.Raw {
	t.Helper()
	var raw bson.Raw
	if err := bson.UnmarshalExtJSON([]byte(js), false, &raw); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return raw
}

// sortedJSON renders an event with its top-level fields sorted (the gate
// orders them its own way; nested order is kept).
func sortedJSON(t *testing.T, raw bson.Raw) string {
	t.Helper()
	var d bson.D
	if err := bson.Unmarshal(raw, &d); err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(d, func(a, b bson.E) int { return strings.Compare(a.Key, b.Key) })
	out, err := bson.MarshalExtJSON(d, false, false)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// head is the start of every test event: its token, time, namespace
// (the deployment's), and the session fields the gate removes.
const head = `"_id": {"_data": "T1"}, "clusterTime": {"$timestamp": {"t": 7, "i": 1}}, "wallTime": {"$date": "2026-01-02T03:04:05Z"},
	"ns": {"db": "app_test", "coll": "notes"}, "lsid": {"id": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAA==", "subType": "04"}}, "uid": {"$binary": {"base64": "AAAA", "subType": "00"}}}, "txnNumber": {"$numberLong": "3"}`

// outHead is head as the caller gets it.
const outHead = `"_id": {"_data": "T1"}, "clusterTime": {"$timestamp": {"t": 7, "i": 1}}, "wallTime": {"$date": "2026-01-02T03:04:05Z"},
	"ns": {"db": "app", "coll": "notes"}`

// doc1 is alice's note of team red; its teammates' view is doc1Team.
const (
	doc1 = `{"_id": 1, "owner_id": "a1", "team": "red", "title": "plan", "secret": "s", "count": 0,
		"meta": {"tag": "t", "note": "n"}, "items": [{"name": "x", "price": 5}], "log": [{"by": "a1"}]}`
	doc1Team = `{"_id": 1, "team": "red", "title": "plan", "count": 0, "meta": {"tag": "t"}, "items": [{"name": "x", "price": 5}]}`
	// doc1Blue is doc1 moved to team blue: bob's teammate role no longer
	// applies.
	doc1Blue = `{"_id": 1, "owner_id": "a1", "team": "blue", "title": "plan", "secret": "s", "count": 0}`
	key1     = `"documentKey": {"_id": 1}`
)

func updateEvent(full, desc string) string {
	return `{` + head + `, "operationType": "update", ` + key1 + `, "fullDocument": ` + full + `, "updateDescription": ` + desc + `}`
}

func updatedEvent(full, desc string) string {
	return `{` + outHead + `, "operationType": "update", ` + key1 + `, "fullDocument": ` + full + `, "updateDescription": ` + desc + `}`
}

// TestWatchEvents: each change event × caller gives exactly the event the
// caller sees, or none (""). alice owns doc1, bob is her teammate (secret,
// owner_id, meta.note and log hidden), carol reads nothing of it.
func TestWatchEvents(t *testing.T) {
	t.Parallel()
	g := watchGate(t)
	insert := `{` + head + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1 + `}`
	for _, tc := range []struct {
		name  string
		coll  string // "" for notes
		event string
		match []string
		want  map[string]string // caller -> event ("" dropped)
	}{
		{name: "insert", event: insert, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1 + `}`,
			"bob":   `{` + outHead + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1Team + `}`,
			"carol": "",
		}},
		{name: "update of a readable field", event: updateEvent(doc1, `{"updatedFields": {"title": "plan"}, "removedFields": [], "truncatedArrays": []}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"title": "plan"}, "removedFields": [], "truncatedArrays": []}`),
			"bob":   updatedEvent(doc1Team, `{"updatedFields": {"title": "plan"}, "removedFields": [], "truncatedArrays": []}`),
			"carol": "",
		}},
		{name: "update of a hidden field only", event: updateEvent(doc1, `{"updatedFields": {"secret": "s"}, "removedFields": [], "truncatedArrays": []}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"secret": "s"}, "removedFields": [], "truncatedArrays": []}`),
			"bob":   "", // an empty description would tell that a hidden field changed
			"carol": "",
		}},
		{name: "update of readable and hidden fields", event: updateEvent(doc1, `{"updatedFields": {"secret": "s", "title": "plan", "owner_id": "a1"}, "removedFields": ["gone", "count"], "truncatedArrays": []}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"secret": "s", "title": "plan", "owner_id": "a1"}, "removedFields": ["gone", "count"], "truncatedArrays": []}`),
			"bob":   updatedEvent(doc1Team, `{"updatedFields": {"title": "plan"}, "removedFields": ["count"], "truncatedArrays": []}`),
		}},
		{name: "update of an embedded document set whole", event: updateEvent(doc1, `{"updatedFields": {"meta": {"tag": "t", "note": "n"}}, "removedFields": [], "truncatedArrays": []}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"meta": {"tag": "t", "note": "n"}}, "removedFields": [], "truncatedArrays": []}`),
			"bob":   updatedEvent(doc1Team, `{"updatedFields": {"meta": {"tag": "t"}}, "removedFields": [], "truncatedArrays": []}`),
		}},
		{name: "update of a dotted path under a hidden field", event: updateEvent(doc1, `{"updatedFields": {"meta.note": "n", "meta.tag": "t"}, "removedFields": ["meta.old"], "truncatedArrays": []}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"meta.note": "n", "meta.tag": "t"}, "removedFields": ["meta.old"], "truncatedArrays": []}`),
			"bob":   updatedEvent(doc1Team, `{"updatedFields": {"meta.tag": "t"}, "removedFields": [], "truncatedArrays": []}`),
		}},
		{name: "update of array elements", event: updateEvent(doc1, `{"updatedFields": {"items.0.price": 5, "log.0.by": "a1", "log.0": {"by": "a1"}, "meta.0": 1}, "removedFields": ["log.1"], "truncatedArrays": [{"field": "items", "newSize": 1}, {"field": "log", "newSize": 1}]}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"items.0.price": 5, "log.0.by": "a1", "log.0": {"by": "a1"}, "meta.0": 1}, "removedFields": ["log.1"], "truncatedArrays": [{"field": "items", "newSize": 1}, {"field": "log", "newSize": 1}]}`),
			// meta is a document: its field "0" is not meta.tag
			"bob": updatedEvent(doc1Team, `{"updatedFields": {"items.0.price": 5}, "removedFields": [], "truncatedArrays": [{"field": "items", "newSize": 1}]}`),
		}},
		{name: "disambiguatedPaths", event: updateEvent(doc1, `{"updatedFields": {"items.0.name": "x", "meta.0": 1, "log.0": {"by": "a1"}}, "removedFields": [], "truncatedArrays": [], "disambiguatedPaths": {"items.0.name": ["items", 0, "name"], "meta.0": ["meta", "0"], "log.0": ["log", 0]}}`), want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"items.0.name": "x", "meta.0": 1, "log.0": {"by": "a1"}}, "removedFields": [], "truncatedArrays": [], "disambiguatedPaths": {"items.0.name": ["items", 0, "name"], "meta.0": ["meta", "0"], "log.0": ["log", 0]}}`),
			"bob":   updatedEvent(doc1Team, `{"updatedFields": {"items.0.name": "x"}, "removedFields": [], "truncatedArrays": [], "disambiguatedPaths": {"items.0.name": ["items", 0, "name"]}}`),
		}},
		{name: "update of a deleted document", event: updateEvent(`null`, `{"updatedFields": {"title": "plan"}, "removedFields": []}`), want: map[string]string{
			"alice": "", "bob": "",
		}},
		{name: "update out of the caller's reach", event: updateEvent(doc1Blue, `{"updatedFields": {"team": "blue"}, "removedFields": []}`), want: map[string]string{
			"alice": updatedEvent(doc1Blue, `{"updatedFields": {"team": "blue"}, "removedFields": []}`),
			"bob":   "",
		}},
		{name: "update with a pre-image", event: `{` + head + `, "operationType": "update", ` + key1 + `, "fullDocument": ` + doc1 + `, "fullDocumentBeforeChange": ` + doc1Blue + `, "updateDescription": {"updatedFields": {"team": "red"}, "removedFields": []}}`, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "update", ` + key1 + `, "fullDocument": ` + doc1 + `, "fullDocumentBeforeChange": ` + doc1Blue + `, "updateDescription": {"updatedFields": {"team": "red"}, "removedFields": []}}`,
			// bob could not read the document before: no pre-image
			"bob": updatedEvent(doc1Team, `{"updatedFields": {"team": "red"}, "removedFields": []}`),
		}},
		{name: "update without a description", event: `{` + head + `, "operationType": "update", ` + key1 + `, "fullDocument": ` + doc1 + `}`, want: map[string]string{
			"alice": "",
		}},
		{name: "replace", event: `{` + head + `, "operationType": "replace", ` + key1 + `, "fullDocument": ` + doc1Blue + `, "fullDocumentBeforeChange": ` + doc1 + `}`, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "replace", ` + key1 + `, "fullDocument": ` + doc1Blue + `, "fullDocumentBeforeChange": ` + doc1 + `}`,
			// decided on the replacement, which bob cannot read
			"bob": "",
		}},
		{name: "a document key the caller cannot read whole", event: `{` + head + `, "operationType": "insert", "documentKey": {"_id": 1, "owner_id": "a1"}, "fullDocument": ` + doc1 + `}`, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "insert", "documentKey": {"_id": 1, "owner_id": "a1"}, "fullDocument": ` + doc1 + `}`,
			"bob":   "", // the event's _id (its resume token) encodes owner_id
		}},
		{name: "delete with a pre-image", event: `{` + head + `, "operationType": "delete", ` + key1 + `, "fullDocumentBeforeChange": ` + doc1 + `}`, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "delete", ` + key1 + `, "fullDocumentBeforeChange": ` + doc1 + `}`,
			"bob":   `{` + outHead + `, "operationType": "delete", ` + key1 + `, "fullDocumentBeforeChange": ` + doc1Team + `}`,
			"carol": "",
		}},
		{name: "delete without a pre-image", event: `{` + head + `, "operationType": "delete", ` + key1 + `}`, want: map[string]string{
			"alice": "", "bob": "", "carol": "",
		}},
		{name: "delete without a pre-image, every document read whole", coll: "open", event: `{` + head + `, "operationType": "delete", ` + key1 + `}`, want: map[string]string{
			"carol": `{` + outHead + `, "operationType": "delete", ` + key1 + `}`,
		}},
		{name: "delete without a pre-image, every document read in part", coll: "half", event: `{` + head + `, "operationType": "delete", ` + key1 + `}`, want: map[string]string{
			"carol": "",
		}},
		{name: "drop", event: `{` + head + `, "operationType": "drop"}`, want: map[string]string{
			"carol": `{` + outHead + `, "operationType": "drop"}`,
		}},
		{name: "rename", event: `{` + head + `, "operationType": "rename", "to": {"db": "app_test", "coll": "elsewhere"}}`, want: map[string]string{
			"carol": `{` + outHead + `, "operationType": "rename"}`,
		}},
		{name: "dropDatabase", event: `{"_id": {"_data": "T1"}, "operationType": "dropDatabase", "clusterTime": {"$timestamp": {"t": 7, "i": 1}}, "ns": {"db": "app_test"}}`, want: map[string]string{
			"carol": `{"_id": {"_data": "T1"}, "operationType": "dropDatabase", "clusterTime": {"$timestamp": {"t": 7, "i": 1}}, "ns": {"db": "app"}}`,
		}},
		{name: "invalidate", event: `{"_id": {"_data": "T1"}, "operationType": "invalidate", "clusterTime": {"$timestamp": {"t": 7, "i": 1}}}`, want: map[string]string{
			"carol": `{"_id": {"_data": "T1"}, "operationType": "invalidate", "clusterTime": {"$timestamp": {"t": 7, "i": 1}}}`,
		}},
		{name: "an expanded event", event: `{` + head + `, "operationType": "createIndexes", "operationDescription": {"indexes": [{"key": {"secret": 1}}]}}`, want: map[string]string{
			"alice": "", "carol": "",
		}},
		{name: "an unknown event field", event: `{` + head + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1 + `, "futureField": 1}`, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1 + `}`,
		}},
		{name: "$match on a readable field", event: insert, match: []string{`{"operationType": "insert", "fullDocument.title": "plan"}`}, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1 + `}`,
			"bob":   `{` + outHead + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1Team + `}`,
		}},
		{name: "$match on a hidden field", event: insert, match: []string{`{"fullDocument.secret": "s"}`}, want: map[string]string{
			"alice": `{` + outHead + `, "operationType": "insert", ` + key1 + `, "fullDocument": ` + doc1 + `}`,
			"bob":   "",
		}},
		{name: "$match on a hidden update", event: updateEvent(doc1, `{"updatedFields": {"secret": "s", "title": "plan"}, "removedFields": []}`), match: []string{`{"updateDescription.updatedFields.secret": {"$exists": true}}`}, want: map[string]string{
			"alice": updatedEvent(doc1, `{"updatedFields": {"secret": "s", "title": "plan"}, "removedFields": []}`),
			"bob":   "",
		}},
		{name: "$match on the session", event: insert, match: []string{`{"txnNumber": 3}`}, want: map[string]string{
			"alice": "",
		}},
		{name: "two $match stages", event: insert, match: []string{`{"operationType": "insert"}`, `{"operationType": "delete"}`}, want: map[string]string{
			"alice": "",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			coll := tc.coll
			if coll == "" {
				coll = "notes"
			}
			ev := ejson(t, tc.event)
			for _, name := range []string{"alice", "bob", "carol"} {
				want, ok := tc.want[name]
				if !ok {
					continue
				}
				w := watcherFor(t, g, name, coll, tc.match...)
				got, keep, err := w.event(context.Background(), ev)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				switch {
				case want == "" && keep:
					t.Errorf("%s: got %s, want the event dropped", name, sortedJSON(t, got))
				case want != "" && !keep:
					t.Errorf("%s: dropped, want %s", name, sortedJSON(t, ejson(t, want)))
				case want != "" && sortedJSON(t, got) != sortedJSON(t, ejson(t, want)):
					t.Errorf("%s:\n got %s\nwant %s", name, sortedJSON(t, got), sortedJSON(t, ejson(t, want)))
				}
			}
		})
	}
}

// TestRedactAt: a value an update sets inside an array is redacted as the
// array's element: an index is a one-element array, so a path rule on the
// array's documents applies to it.
func TestRedactAt(t *testing.T) {
	t.Parallel()
	read := []string{"_id", "items.name"}
	v := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: ejson(t, `{"name": "x", "price": 5}`)}
	got, ok := redactAt([]seg{{name: "items"}, {name: "0", index: true}}, v, read)
	if !ok || got.String() != `{"name": "x"}` {
		t.Errorf("items.0 = %v, %v; want {name: x}", got, ok)
	}
	hidden := bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: ejson(t, `{"price": 5}`)}
	if got, ok := redactAt([]seg{{name: "items"}, {name: "0", index: true}}, hidden, read); ok {
		t.Errorf("items.0 with nothing readable = %v, want left out", got)
	}
	if got, ok := redactAt([]seg{{name: "items"}}, bson.RawValue{Type: bson.TypeInt32, Value: []byte{1, 0, 0, 0}}, read); ok {
		t.Errorf("a scalar under a partly readable path = %v, want left out", got)
	}
}

// TestWatchDecisionHook: the decision hook sees each event's decision as
// it sees Find's: namespace, Watch, the role and the document's _id,
// for events passed and dropped alike.
func TestWatchDecisionHook(t *testing.T) {
	t.Parallel()
	var got []DecisionEvent
	g := watchGate(t, WithDecisionHook(func(_ context.Context, e DecisionEvent) { got = append(got, e) }))
	ev := ejson(t, `{`+head+`, "operationType": "insert", `+key1+`, "fullDocument": `+doc1+`}`)
	for _, name := range []string{"bob", "carol"} {
		if _, _, err := watcherFor(t, g, name, "notes").event(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 2 {
		t.Fatalf("events %+v, want 2", got)
	}
	for i, want := range []struct {
		allowed bool
		role    string
	}{{true, "teammate"}, {false, ""}} {
		e := got[i]
		if e.Namespace != "app.notes" || e.Op != "Watch" || e.Action != evaluator.ActionRead || e.Allowed != want.allowed || e.Role != want.role || e.ID.AsInt64() != 1 {
			t.Errorf("event %d = %+v, want allowed %v role %q _id 1", i, e, want.allowed, want.role)
		}
	}
}

// fakeSource is an eventSource of constructed events, standing in for the
// server's change stream, which the embedded test server lacks. Its token
// follows the driver's: the _id of the last event read (the server's
// post-batch token at the end of a batch may be that too), then hwm, a
// high-water mark token, once a TryNext past the end finds nothing.
// events is the batch at hand, later the batch the next getMore brings.
type fakeSource struct {
	events     []bson.Raw
	later      []bson.Raw
	cur, token bson.Raw
	hwm        bson.Raw
	end        error // the error of a blocking Next past the end
	err        error
	closed     bool
}

func (f *fakeSource) Next(context.Context) bool {
	if f.TryNext(context.Background()) {
		return true
	}
	f.err = f.end
	return false
}

func (f *fakeSource) TryNext(context.Context) bool {
	if len(f.events) == 0 {
		// A getMore.
		f.events, f.later = f.later, nil
	}
	if len(f.events) == 0 {
		if f.hwm != nil {
			f.token = f.hwm
		}
		return false
	}
	f.cur, f.events = f.events[0], f.events[1:]
	f.token = f.cur.Lookup("_id").Document()
	return true
}

func (f *fakeSource) RemainingBatchLength() int   { return len(f.events) }
func (f *fakeSource) current() bson.Raw           { return f.cur }
func (f *fakeSource) Err() error                  { return f.err }
func (f *fakeSource) ResumeToken() bson.Raw       { return f.token }
func (f *fakeSource) ID() int64                   { return 42 }
func (f *fakeSource) Close(context.Context) error { f.closed = true; return nil }

// insertOf is an insert event with token tok of the document doc.
func insertOf(t *testing.T, tok, doc string) bson.Raw {
	return ejson(t, `{"_id": {"_data": "`+tok+`"}, "operationType": "insert", "ns": {"db": "app_test", "coll": "notes"}, "documentKey": {"_id": 1}, "fullDocument": `+doc+`}`)
}

// TestChangeStream: Next and TryNext skip the events the caller may not
// see; ResumeToken never is the token of a dropped event (it encodes
// that event's document key); errors stop the stream.
func TestChangeStream(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := watchGate(t)
	carols := `{"_id": 1, "owner_id": "c1", "team": "blue"}`
	tok := func(s string) string { return ejson(t, `{"_data": "`+s+`"}`).String() }

	src := &fakeSource{events: []bson.Raw{insertOf(t, "T1", doc1), insertOf(t, "T2", carols), insertOf(t, "T3", doc1), insertOf(t, "T4", carols)}}
	cs := &ChangeStream{w: watcherFor(t, g, "bob", "notes"), cs: src}
	if err := cs.Decode(&bson.M{}); err == nil {
		t.Error("Decode before an event succeeded")
	}
	if cs.ResumeToken() != nil {
		t.Errorf("ResumeToken before any event = %v", cs.ResumeToken())
	}
	if !cs.Next(ctx) || cs.ResumeToken().String() != tok("T1") {
		t.Fatalf("Next: %v, token %v; want T1", cs.Err(), cs.ResumeToken())
	}
	var got struct {
		FullDocument bson.M `bson:"fullDocument"`
	}
	if err := cs.Decode(&got); err != nil || got.FullDocument["secret"] != nil || got.FullDocument["title"] != "plan" {
		t.Errorf("Decode: %v, %v; want bob's view of doc1", got, err)
	}
	// T2 is carol's: skipped.
	if !cs.TryNext(ctx) || cs.ResumeToken().String() != tok("T3") {
		t.Fatalf("TryNext: %v, token %v; want T3", cs.Err(), cs.ResumeToken())
	}
	// T4 is carol's: skipped, and nothing follows. The source's token is
	// T4's: the stream's stays T3's.
	if cs.TryNext(ctx) {
		t.Fatalf("TryNext moved to %v", cs.Current)
	}
	if cs.Err() != nil || src.ResumeToken().String() != tok("T4") || cs.ResumeToken().String() != tok("T3") {
		t.Fatalf("after a dropped event: err %v, token %v, want T3", cs.Err(), cs.ResumeToken())
	}
	if cs.Current.Lookup("_id").Document().String() != tok("T3") {
		t.Errorf("Current after a TryNext that found nothing = %v, want the T3 event still", cs.Current)
	}
	// The server's high-water mark, later than T4, is the stream's token.
	src.hwm = ejson(t, `{"_data": "T5"}`)
	if cs.TryNext(ctx) || cs.ResumeToken().String() != tok("T5") {
		t.Fatalf("token %v, want the high-water mark T5", cs.ResumeToken())
	}
	// A blocking Next past the end gets the source's error, and the
	// stream stays stopped.
	src.end = errors.New("stream broke")
	if cs.Next(ctx) || cs.Err() != src.end {
		t.Fatalf("Next past the end: err %v, want the source's", cs.Err())
	}
	src.events = []bson.Raw{insertOf(t, "T6", doc1)}
	if cs.Next(ctx) || cs.TryNext(ctx) {
		t.Error("Next after an error moved on")
	}
	if cs.ID() != 42 || cs.Close(ctx) != nil || !src.closed {
		t.Error("ID or Close not the source's")
	}

	// A TryNext asks the server at most once: the batch it got all
	// dropped, it returns false, and the next TryNext asks again.
	src = &fakeSource{events: []bson.Raw{insertOf(t, "T1", carols)}, later: []bson.Raw{insertOf(t, "T2", doc1)}}
	cs = &ChangeStream{w: watcherFor(t, g, "bob", "notes"), cs: src}
	if cs.TryNext(ctx) || len(src.later) == 0 {
		t.Fatalf("TryNext read past its batch: %v", cs.Current)
	}
	if !cs.TryNext(ctx) || cs.ResumeToken().String() != tok("T2") {
		t.Fatalf("second TryNext: %v, token %v; want T2", cs.Err(), cs.ResumeToken())
	}
}
