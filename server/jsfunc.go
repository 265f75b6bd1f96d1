package server

import (
	"context"
	"fmt"
	"regexp"
	"runtime"
	"slices"
	"sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
	"github.com/rulegate/rulegate/value"
)

// triggerTimeout bounds one authentication trigger's function: the
// runtime App Services functions are capped at (source/functions.txt,
// "Constraints": request-timeout-time, 300 seconds in snooty.toml).
const triggerTimeout = 300 * time.Second

// functionSets is the one FunctionSet a Program takes
// (evaluator.WithFunctions) over the app's .expr functions and its
// JavaScript ones. A name both define is an error of New.
type functionSets struct {
	names []string
	by    map[string]evaluator.FunctionSet
}

func joinSets(sets ...evaluator.FunctionSet) (*functionSets, error) {
	j := &functionSets{by: map[string]evaluator.FunctionSet{}}
	for _, set := range sets {
		for _, n := range set.Names() {
			if _, dup := j.by[n]; dup {
				return nil, fmt.Errorf("server: function %q is defined twice (a functions/%s.expr file and a JavaScript function)", n, n)
			}
			j.by[n] = set
			j.names = append(j.names, n)
		}
	}
	slices.Sort(j.names)
	return j, nil
}

func (j *functionSets) Names() []string { return slices.Clone(j.names) }

func (j *functionSets) Call(ctx context.Context, name string, args []value.Value, env evaluator.FuncEnv) (value.Value, error) {
	set, ok := j.by[name]
	if !ok {
		return value.Value{}, fmt.Errorf("%w: %s: no such function", evaluator.ErrFunctionCall, name)
	}
	return set.Call(ctx, name, args, env)
}

// serverData is the Data the functions are bound to. No function reaches
// the namespaces the server never serves (servedNamespace: the accounts
// database, MongoDB's own databases and system collections), as the user
// or as system: App Services kept its users and sessions outside the
// app's cluster, so no App Services function could read them, and a
// function that takes a namespace from its caller is common. A trigger's
// call
// (a context from asSystem), and the functions it calls, read as system,
// as source/functions.txt says of triggers ("dynamic references resolve
// to the system user, which has no id") and the trigger pages say of
// their functions; every other call as its configuration says. Only the
// trigger's context makes a call system, never a missing user: a caller
// without claims stays under the rules (jsfunc.MongoData gates a zero
// User).
type serverData struct {
	jsfunc.Data
	accountsDB string
}

// systemKey marks the context of a trigger's call.
type systemKey struct{}

func asSystem(ctx context.Context) context.Context { return context.WithValue(ctx, systemKey{}, true) }

func (d serverData) Collection(ctx context.Context, as jsfunc.As, service, db, coll string) (jsfunc.Collection, error) {
	if msg := servedNamespace(d.accountsDB, db, coll); msg != "" {
		return nil, fmt.Errorf("%w: %s", errNotServed, msg)
	}
	if sys, _ := ctx.Value(systemKey{}).(bool); sys && as.User.IsZero() {
		as.System = true
	}
	c, err := d.Data.Collection(ctx, as, service, db, coll)
	if err != nil {
		return nil, err
	}
	if as.System {
		return servedPipelines{Collection: c, accountsDB: d.accountsDB, db: db}, nil
	}
	return c, nil
}

// servedPipelines is a system function's collection, whose pipelines may
// not name a namespace the server never serves in a stage that reads or
// writes another collection ($out, $merge, $lookup, $graphLookup,
// $unionWith, in sub-pipelines too): $merge into the accounts database
// would write a session for any user. (The gate refuses these stages to
// application users.)
type servedPipelines struct {
	jsfunc.Collection
	accountsDB, db string
}

func (c servedPipelines) Aggregate(ctx context.Context, pipeline []bson.Raw) ([]bson.Raw, error) {
	if err := c.check(c.db, pipeline); err != nil {
		return nil, err
	}
	return c.Collection.Aggregate(ctx, pipeline)
}

// check refuses a pipeline run in db whose stages name a namespace not
// served.
func (c servedPipelines) check(db string, pipeline []bson.Raw) error {
	for _, st := range pipeline {
		elems, err := st.Elements()
		if err != nil || len(elems) != 1 {
			continue // the database refuses it
		}
		stage, v := elems[0].Key(), elems[0].Value()
		var names []bson.RawValue // a collection name or a {db, coll}
		var subs []bson.RawValue  // sub-pipelines
		switch stage {
		case "$out":
			names = append(names, v)
		case "$merge":
			if d, ok := v.DocumentOK(); ok {
				names = append(names, d.Lookup("into"))
			} else {
				names = append(names, v)
			}
		case "$lookup", "$graphLookup":
			if d, ok := v.DocumentOK(); ok {
				names = append(names, d.Lookup("from"))
				subs = append(subs, d.Lookup("pipeline"))
			}
		case "$unionWith":
			if d, ok := v.DocumentOK(); ok {
				if sub, ok := d.Lookup("db").StringValueOK(); ok {
					names = append(names, bson.RawValue{Type: bson.TypeEmbeddedDocument, Value: mustMarshal(bson.D{{Key: "db", Value: sub}, {Key: "coll", Value: d.Lookup("coll")}})})
				} else {
					names = append(names, d.Lookup("coll"))
				}
				subs = append(subs, d.Lookup("pipeline"))
			} else {
				names = append(names, v)
			}
		case "$facet":
			if d, ok := v.DocumentOK(); ok {
				vals, _ := d.Values()
				subs = append(subs, vals...)
			}
		}
		for _, n := range names {
			ndb, coll := db, ""
			if s, ok := n.StringValueOK(); ok {
				coll = s
			} else if d, ok := n.DocumentOK(); ok {
				if s, ok := d.Lookup("db").StringValueOK(); ok {
					ndb = s
				}
				coll, _ = d.Lookup("coll").StringValueOK()
			}
			if msg := servedNamespace(c.accountsDB, ndb, coll); msg != "" {
				return fmt.Errorf("%w: %s: %s", errNotServed, stage, msg)
			}
		}
		for _, sub := range subs {
			arr, ok := sub.ArrayOK()
			if !ok {
				continue
			}
			vals, _ := arr.Values()
			stages := make([]bson.Raw, 0, len(vals))
			for _, x := range vals {
				if d, ok := x.DocumentOK(); ok {
					stages = append(stages, d)
				}
			}
			if err := c.check(db, stages); err != nil {
				return err
			}
		}
	}
	return nil
}

func mustMarshal(d bson.D) []byte {
	b, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}

// hasJSSource reports whether any of the app's JavaScript functions has
// its source in the export.
func hasJSSource(app *rules.App) bool {
	for _, f := range app.JSFunctions {
		if f.SourceFile != "" {
			return true
		}
	}
	return false
}

// runnable returns the JavaScript function name if the export has its
// source, for the functions New must be able to run (the user creation
// function, the triggers' functions).
func (s *Server) runnable(what, name string) error {
	for _, f := range s.app.JSFunctions {
		if f.Name == name {
			if f.SourceFile == "" || s.js == nil {
				return fmt.Errorf("server: %s: the function %q has no source in the export (%s), so rulegate cannot run it", what, name, f.File)
			}
			return nil
		}
	}
	return fmt.Errorf("server: %s: the export has no function %q", what, name)
}

// userDocument is the App Services user object (source/authentication/
// user-objects.txt): id, type, data, identities, and custom_data when the
// user has a custom data document; both as the caller a function sees
// (context.user) and as the document it receives as an argument.
func userDocument(id, typ string, data []byte, ids []token.Identity, custom bson.Raw) (expansion.User, value.Value, error) {
	if len(data) == 0 {
		data = []byte("{}")
	}
	var dataDoc bson.D
	if err := bson.UnmarshalExtJSON(data, false, &dataDoc); err != nil {
		return expansion.User{}, value.Value{}, fmt.Errorf("server: user %s: data: %w", id, err)
	}
	idents := bson.A{}
	for _, i := range ids {
		idents = append(idents, bson.D{{Key: "id", Value: i.ID}, {Key: "provider_type", Value: i.ProviderType}})
	}
	d := bson.D{{Key: "id", Value: id}, {Key: "type", Value: typ}, {Key: "data", Value: dataDoc}, {Key: "identities", Value: idents}}
	if custom != nil {
		d = append(d, bson.E{Key: "custom_data", Value: custom})
	}
	b, err := bson.Marshal(d)
	if err != nil {
		return expansion.User{}, value.Value{}, fmt.Errorf("server: user %s: %w", id, err)
	}
	raw := bson.Raw(b)
	js, err := bson.MarshalExtJSON(raw, true, false)
	if err != nil {
		return expansion.User{}, value.Value{}, fmt.Errorf("server: user %s: %w", id, err)
	}
	u, err := expansion.NewUserObject(js)
	if err != nil {
		return expansion.User{}, value.Value{}, fmt.Errorf("server: user %s: %w", id, err)
	}
	return u, value.FromDocument(raw), nil
}

// userCreation is the custom user data's user creation function as a
// customdata hook: it runs on a new user's first login, before its first
// access token is made, with the user object as its only argument
// (source/users/custom-metadata.txt, "User Creation Function"), as its
// configuration says (run_as_system, or as the new user). If it throws,
// the login fails and the user stays new: its next login runs it again.
func (s *Server) userCreation(name string) customdata.Hook {
	return func(ctx context.Context, ev customdata.Event) error {
		u, arg, err := userDocument(ev.UserID, ev.Info.Type, ev.Info.Metadata, ev.Info.Identities, nil)
		if err != nil {
			return err
		}
		in := s.inputs
		in.User = u
		if _, err := s.js.Run(ctx, jsfunc.Call{Name: name, Args: []value.Value{arg}, User: u, Inputs: &in}); err != nil {
			return &apiError{status: 400, code: codeFunctionExecution, msg: fmt.Sprintf("the user creation function '%s' failed: %s", name, jsMessage(err)), err: err}
		}
		return nil
	}
}

// authEvent is one authentication event, what a trigger passes its
// function (source/triggers/authentication-triggers.txt,
// "Authentication Events").
type authEvent struct {
	op        string // CREATE, LOGIN, DELETE
	providers []string
	userID    string
	user      value.Value
	time      time.Time
}

// fire starts the enabled triggers of the event's operation whose
// providers include one of the event's, each in its own goroutine with
// its own deadline, at most maxRunningTriggers at once: triggers run
// asynchronously and may finish after the access token is made
// (source/users/custom-metadata.txt). A trigger's function runs as system
// (no user). A failure is logged and changes nothing of the request; Wait
// waits for the queued and running ones.
func (s *Server) fire(ev authEvent) {
	var doc bson.Raw
	for _, tr := range s.app.Triggers {
		if tr.Disabled || tr.Operation != ev.op || !providersMatch(tr.Providers, ev.providers) {
			continue
		}
		if doc == nil {
			var err error
			doc, err = bson.Marshal(bson.D{{Key: "operationType", Value: ev.op}, {Key: "providers", Value: ev.providers},
				{Key: "user", Value: bson.Raw(ev.user.Data)}, {Key: "time", Value: bson.NewDateTimeFromTime(ev.time)}})
			if err != nil {
				s.logger.Error("authentication trigger not run: the event does not encode", "trigger", tr.Name, "operation", ev.op, "user_id", ev.userID, "error", err.Error())
				return
			}
		}
		s.triggers.start()
		go s.runTrigger(tr, ev, doc)
	}
}

func (s *Server) runTrigger(tr *rules.Trigger, ev authEvent, doc bson.Raw) {
	defer s.triggers.done()
	// A burst of logins queues its triggers (their deadlines start when
	// they run): each running one holds a runtime for up to
	// triggerTimeout.
	s.triggers.slots <- struct{}{}
	defer func() { <-s.triggers.slots }()
	defer func() {
		if v := recover(); v != nil {
			s.logger.Error("authentication trigger panicked", "trigger", tr.Name, "function", tr.FunctionName, "operation", ev.op, "user_id", ev.userID, "panic", fmt.Sprint(v))
		}
	}()
	ctx, cancel := context.WithTimeout(asSystem(context.Background()), triggerTimeout)
	defer cancel()
	in := s.inputs
	if _, err := s.js.Run(ctx, jsfunc.Call{Name: tr.FunctionName, Args: []value.Value{value.FromDocument(doc)}, Inputs: &in}); err != nil {
		s.logger.Error("authentication trigger failed", "trigger", tr.Name, "function", tr.FunctionName, "operation", ev.op, "user_id", ev.userID, "error", jsMessage(err))
	}
}

// providersMatch reports whether a trigger listening to want (provider
// types; none is every provider) hears an event of the providers got.
func providersMatch(want, got []string) bool {
	if len(want) == 0 {
		return true
	}
	for _, g := range got {
		if slices.Contains(want, g) {
			return true
		}
	}
	return false
}

// maxRunningTriggers is how many authentication triggers run at once;
// the others wait for a slot.
var maxRunningTriggers = 2 * runtime.GOMAXPROCS(0)

// tasks counts the triggers started and not finished, queued or running.
// A WaitGroup would not do: Wait may be called while triggers start (a
// test waits between requests).
type tasks struct {
	mu    sync.Mutex
	n     int
	idle  chan struct{} // closed when n drops to 0
	slots chan struct{} // one per running trigger, maxRunningTriggers
}

func (t *tasks) start() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.n == 0 {
		t.idle = make(chan struct{})
	}
	t.n++
}

func (t *tasks) done() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n--
	if t.n == 0 {
		close(t.idle)
	}
}

func (t *tasks) wait(ctx context.Context) error {
	t.mu.Lock()
	if t.n == 0 {
		t.mu.Unlock()
		return nil
	}
	idle := t.idle
	t.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Wait waits until the authentication triggers started so far have
// finished, or ctx is done (its error then). Call it after
// http.Server.Shutdown, when no request can start a trigger any more.
func (s *Server) Wait(ctx context.Context) error { return s.triggers.wait(ctx) }

// nativeFrame is a frame of a JavaScript stack that is rulegate's own Go
// code (a collection method, BSON), whose name is a Go method value's,
// parentheses included: "at github.com/...jsfunc.(*call).cursor.func6
// (native)".
var nativeFrame = regexp.MustCompile(`\s+at \S+ \(native\)`)

// jsMessage is what a client or the log is told of a function's failure:
// the text jsfunc makes of the thrown value and its JavaScript positions,
// without the frames of rulegate's own Go code.
func jsMessage(err error) string { return nativeFrame.ReplaceAllString(err.Error(), "") }
