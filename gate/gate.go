package gate

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/mql"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// DefaultRetries is how many times an optimistic write (one that must check
// the document as it will be after the write) is retried when a concurrent
// writer changed the document between the gate's read and its write.
const DefaultRetries = 16

// Gate enforces a compiled rules Program on a MongoDB client. It is
// immutable and safe for concurrent use; make one per process and call For
// per request.
type Gate struct {
	client          *mongo.Client
	prog            *evaluator.Program
	retries         int
	revealInvisible bool
	leaveScope      bool
	docErrors       func(ctx context.Context, namespace string, err error)
	// ruled holds the namespaces with rules of their own; with a default
	// rule every namespace but MongoDB's own (rules.Reserved) has rules,
	// ruled is nil and ownReserved holds the reserved namespaces with
	// rules of their own.
	ruled, ownReserved map[string]bool
	// dbs maps rules database names to deployment database names
	// (WithDatabaseMapping); targets holds the deployment names that
	// another name maps to.
	dbs     map[string]string
	targets map[string]bool
	// names holds the rules' database names (and the mapping's), folded
	// the same in lower case: a name asked for that folds to one of them
	// without being one is denied (MongoDB database names are unique
	// without case).
	names, folded map[string]bool
	hook          func(ctx context.Context, e DecisionEvent)
	// pipelineMemory bounds what a pipeline the gate runs itself holds
	// (WithPipelineMemoryLimit).
	pipelineMemory int64
	// server caches what serverAggregates learned of the deployment.
	server struct {
		mu     sync.Mutex
		known  bool
		ferret bool
	}
}

// serverAggregates reports whether the deployment's aggregation can be
// trusted with a client pipeline (Collection.Aggregate's server path):
// false for FerretDB, the embedded test server, whose aggregation lacks
// most expression operators and answers some pipelines wrongly (a $group
// with two $sum accumulators computes only the first), so that the gate
// runs pipelines itself there, as the MongoDB manual defines them. It
// asks buildInfo once ("ferretdbVersion" names FerretDB); a failed ask is
// not remembered, and the gate runs the pipeline itself (its answer is
// the manual's on any server).
func (g *Gate) serverAggregates(ctx context.Context) bool {
	g.server.mu.Lock()
	defer g.server.mu.Unlock()
	if g.client == nil {
		return false
	}
	if !g.server.known {
		// Outside the caller's session: buildInfo may not run in a
		// transaction, and a command failing there would abort it.
		bg, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if d, ok := ctx.Deadline(); ok {
			var c2 context.CancelFunc
			bg, c2 = context.WithDeadline(bg, d)
			defer c2()
		}
		var info bson.Raw
		err := g.client.Database("admin").RunCommand(bg, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info)
		if err != nil {
			return false
		}
		_, ferr := info.LookupErr("ferretdbVersion")
		g.server.known, g.server.ferret = true, ferr == nil
	}
	return !g.server.ferret
}

// Option configures New.
type Option func(*Gate)

// WithRetries sets how many times an optimistic write is retried after
// losing a race with a concurrent writer before failing with ErrConflict
// (DefaultRetries when n <= 0).
func WithRetries(n int) Option { return func(g *Gate) { g.retries = n } }

// WithPipelineMemoryLimit sets the bytes a pipeline the gate runs itself
// (Collection.Aggregate for a caller whose readable fields vary by
// document) may hold in each blocking stage ($group, $sort, $bucket,
// $sample, a $lookup's documents), in the values its expressions build
// for one document, and in its result; over it the
// aggregation fails with CodePipelineFailed. The default (n <= 0) is
// mql.DefaultMemoryLimit, MongoDB's per-stage limit without allowDiskUse
// (100 MiB).
func WithPipelineMemoryLimit(n int64) Option { return func(g *Gate) { g.pipelineMemory = n } }

// WithInvisibleMatchesRevealed makes a write whose filter matches only
// documents the caller cannot read at all return a *DeniedError instead of
// the driver's zero result. This option reveals data: the denial tells the
// caller that some document it may not read matches its filter, so with a
// filter on values of another user's document (its owner, a hidden field)
// each write becomes a yes/no answer about that user's data. By default
// the gate hides such documents, as App Services leaves out the documents
// a caller cannot read (source/rules/roles.txt); choose this option only
// when every caller may know which documents exist, and a refused write
// must never look like a silent zero.
func WithInvisibleMatchesRevealed() Option { return func(g *Gate) { g.revealInvisible = true } }

// WithDocumentErrors sets a function that receives the errors of deciding
// a stored document's read access (a %function failing on it, a stored
// value the evaluator refuses as an operand). The gate leaves such a
// document out, as one the caller cannot read, and does not tell the
// caller (that would reveal something about a document it may not see);
// f is where the operator learns of it, for example to log it. f is called
// from the caller's goroutine and must be safe for concurrent use.
func WithDocumentErrors(f func(ctx context.Context, namespace string, err error)) Option {
	return func(g *Gate) { g.docErrors = f }
}

// WithLeavingScopeAllowed lets an update or replacement move a document
// out of the caller's write scope when the rules allow the write itself.
// App Services assigns the role of a write from the stored document, so
// there a rule author stops such moves with write rules on %%root
// (document_filters write, a write expression); by default the gate denies
// them in any case, which also denies workflow transitions that end the
// caller's own write access (a "submit" that makes a draft read-only).
// Choose this option to get App Services' behaviour.
func WithLeavingScopeAllowed() Option { return func(g *Gate) { g.leaveScope = true } }

// WithDatabaseMapping makes the gate talk to other databases than the
// rules name: m maps a rules database name (the "database" of rules.json)
// to the deployment database holding its collections, as {"app":
// "app_test"} in a test. Callers keep asking for the rules' name:
// Session.Database("app") is decided with the rules of app.<collection>
// and reads and writes app_test.<collection>; Database.Name,
// Collection.Namespace and the Namespace of every DeniedError and
// RefusedError stay the rules' name (driver errors, such as a duplicate
// key, name the deployment's). SystemSession.Database maps the same way,
// so trusted code written against the rules' names stays in the test's
// databases. A deployment name asked for directly, when another name maps
// to it, is denied with ReasonNoRules for every operation, also under a
// default rule: the mapped data is reached through its rules only, and
// in another case too (MongoDB database names are unique without case).
// New refuses a mapping with an empty name, a target that is one of
// MongoDB's own databases (admin, local, config, in any case: no rules
// database reaches them, as rules.Reserved keeps default rules out), two
// rules databases mapped to one deployment database (names compared
// without case), or a target that is another rules database not mapped
// away itself (two rule sets would govern one collection). The map is
// copied.
func WithDatabaseMapping(m map[string]string) Option {
	return func(g *Gate) {
		g.dbs = make(map[string]string, len(m))
		for k, v := range m {
			g.dbs[k] = v
		}
	}
}

// New returns a Gate enforcing prog on client.
func New(client *mongo.Client, prog *evaluator.Program, opts ...Option) (*Gate, error) {
	if client == nil {
		return nil, errors.New("gate: nil *mongo.Client")
	}
	if prog == nil {
		return nil, errors.New("gate: nil *evaluator.Program")
	}
	g := &Gate{client: client, prog: prog}
	for _, o := range opts {
		o(g)
	}
	if !prog.HasDefaultRule() {
		g.ruled = map[string]bool{}
	}
	g.ownReserved, g.names, g.folded = map[string]bool{}, map[string]bool{}, map[string]bool{}
	ruleDBs := map[string]bool{}
	for _, ns := range prog.Namespaces() {
		if g.ruled != nil {
			g.ruled[ns] = true
		}
		if rules.Reserved(ns) {
			g.ownReserved[ns] = true
		}
		db, _, _ := strings.Cut(ns, ".")
		ruleDBs[db] = true
		g.names[db], g.folded[strings.ToLower(db)] = true, true
	}
	for k := range g.dbs {
		g.names[k], g.folded[strings.ToLower(k)] = true, true
	}
	if g.pipelineMemory <= 0 {
		g.pipelineMemory = mql.DefaultMemoryLimit
	}
	if g.retries <= 0 {
		g.retries = DefaultRetries
	}
	if err := g.checkMapping(ruleDBs); err != nil {
		return nil, err
	}
	return g, nil
}

// checkMapping validates the database mapping against the databases the
// rules name, and fills g.targets.
func (g *Gate) checkMapping(ruleDBs map[string]bool) error {
	if len(g.dbs) == 0 {
		return nil
	}
	// MongoDB database names are unique without case: deployment names
	// are compared in lower case.
	from := make(map[string]string, len(g.dbs))
	g.targets = map[string]bool{}
	for _, k := range slices.Sorted(maps.Keys(g.dbs)) {
		v := g.dbs[k]
		lv := strings.ToLower(v)
		switch {
		case k == "" || v == "":
			return fmt.Errorf("gate: database mapping %q -> %q: empty database name", k, v)
		case rules.Reserved(v + "."):
			return fmt.Errorf("gate: database mapping %q -> %q: %q is reserved (admin, local, config)", k, v, v)
		case from[lv] != "":
			return fmt.Errorf("gate: database mapping: %q and %q both map to %q", from[lv], k, v)
		}
		from[lv] = k
		if v == k {
			continue
		}
		for db := range ruleDBs {
			if _, mapped := g.dbs[db]; db != k && strings.EqualFold(db, v) && !mapped {
				return fmt.Errorf("gate: database mapping %q -> %q: %q has rules of its own", k, v, v)
			}
		}
		g.targets[lv] = true
	}
	return nil
}

// noRules reports whether no rule governs the rules namespace ns: it has
// none of its own, and there is no default rule or ns is reserved.
func (g *Gate) noRules(ns string) bool {
	if g.ruled != nil {
		return !g.ruled[ns]
	}
	return rules.Reserved(ns) && !g.ownReserved[ns]
}

// deployment returns the deployment database of a rules database name, and
// whether the name is blocked: one that another name maps to, in any case,
// or a rules database's name in another case.
func (g *Gate) deployment(name string) (dep string, blocked bool) {
	if dep, ok := g.dbs[name]; ok {
		return dep, false
	}
	l := strings.ToLower(name)
	return name, g.targets[l] || (g.folded[l] && !g.names[name])
}

// Program returns the rules the Gate enforces.
func (g *Gate) Program() *evaluator.Program { return g.prog }

// For returns the Session of a signed-in caller: every operation through it
// is checked against the rules with %%user bound to user. The zero User is
// a caller with no claims: every rule that needs one fails closed. It
// carries no %%values or %%environment: a rule that compares an app value
// on the left denies (evaluator.ErrNotProvided); use ForInputs with
// rules.App.Inputs.
func (g *Gate) For(user expansion.User) *Session {
	return &Session{g: g, in: expansion.Inputs{User: user}}
}

// ForInputs is For with every request-phase input (%%request, %%values,
// %%environment, ...). The inputs are validated.
func (g *Gate) ForInputs(in expansion.Inputs) (*Session, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return &Session{g: g, in: in}, nil
}

// System returns the rules-bypassing handle, the counterpart of App
// Services system functions: its databases are the driver's own
// *mongo.Database, so code that uses it visibly steps outside the rules.
func (g *Gate) System() *SystemSession { return &SystemSession{g: g} }

// SystemSession bypasses the rules. It exists so that trusted server code
// (migrations, user-creation hooks, the custom user data store) has one
// obvious, greppable way to do so.
type SystemSession struct {
	g *Gate
}

// Database returns the raw driver database: no rule applies to it. name is
// mapped as WithDatabaseMapping says (a name the mapping does not name is
// the database of that name).
func (s *SystemSession) Database(name string) *mongo.Database {
	if dep, ok := s.g.dbs[name]; ok {
		name = dep
	}
	return s.g.client.Database(name)
}

// Client returns the raw driver client.
func (s *SystemSession) Client() *mongo.Client { return s.g.client }

// Session is a caller's view of the data: every Collection obtained from it
// checks the rules for that caller. A Session is immutable and safe for
// concurrent use.
type Session struct {
	g  *Gate
	in expansion.Inputs
}

// Inputs returns the request-phase inputs the Session evaluates rules with.
func (s *Session) Inputs() expansion.Inputs { return s.in }

// Database returns a gated database handle for the rules database name:
// the deployment database WithDatabaseMapping maps it to, else the
// database of that name.
func (s *Session) Database(name string) *Database {
	dep, blocked := s.g.deployment(name)
	return &Database{s: s, db: s.g.client.Database(dep), name: name, blocked: blocked}
}

// Database is a gated database handle.
type Database struct {
	s    *Session
	db   *mongo.Database
	name string // the rules' name
	// blocked: name is a deployment database another name maps to.
	blocked bool
}

// Name returns the database's name in the rules (the name Session.Database
// was given, whatever deployment database it maps to).
func (d *Database) Name() string { return d.name }

// Collection returns a gated collection handle.
func (d *Database) Collection(name string) *Collection {
	return &Collection{s: d.s, coll: d.db.Collection(name), ns: d.name + "." + name, blocked: d.blocked}
}

// Collection is a gated *mongo.Collection: the driver's method names and
// result types, with every operation checked against the rules for the
// Session's caller. See the package documentation for how each method
// applies the rules.
type Collection struct {
	s    *Session
	coll *mongo.Collection
	ns   string // in the rules' names
	// blocked: every operation is denied with ReasonNoRules (see
	// WithDatabaseMapping).
	blocked bool
}

// Name returns the collection's name.
func (c *Collection) Name() string { return c.coll.Name() }

// Namespace returns "<database>.<collection>", in the rules' names.
func (c *Collection) Namespace() string { return c.ns }

// denied returns the denial of action a decided by d on doc (the stored
// document, or the inserted one) and reports it to the decision hook. It
// keeps the evaluator's reason, role and field; a delete names a field of
// the stored document only when the caller may read it. A d that does
// not deny (never made by the gate's callers) denies with ReasonError,
// fail closed.
func (c *Collection) denied(ctx context.Context, op string, a evaluator.Action, d evaluator.Decision, doc bson.Raw) *DeniedError {
	r := d.Reason
	if r == "" || r == evaluator.ReasonAllowed {
		r = evaluator.ReasonError
	}
	f := d.Field
	if a == evaluator.ActionDelete && !pathReadable(d.Fields.Read, f) {
		f = ""
	}
	de := &DeniedError{Namespace: c.ns, Op: op, Action: a, Reason: r, Role: d.Role, Field: f}
	c.deniedEvent(ctx, de, doc, d.Notes...)
	return de
}

// pathReadable reports whether the dotted path p is readable under read
// (Decision.Fields.Read: p or a field holding it listed).
func pathReadable(read []string, p string) bool {
	for _, r := range read {
		if p == r || strings.HasPrefix(p, r+".") {
			return true
		}
	}
	return false
}

func (c *Collection) refused(op, code, msg string, err error) *RefusedError {
	return &RefusedError{Namespace: c.ns, Op: op, Code: code, Msg: msg, Err: err}
}
