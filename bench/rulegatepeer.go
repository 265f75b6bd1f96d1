package bench

import (
	"context"
	"fmt"
	"io/fs"
	"os"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// AppDir is the exported App Services app holding the checks as
// rules.json files, one collection per check (relative to this module).
const AppDir = "testdata/app"

// RulegateNamespace is the collection whose rules express each check.
var RulegateNamespace = map[Check]string{
	Owner:        "bench.owner",
	Team:         "bench.team",
	AdminOrOwner: "bench.admin_or_owner",
}

// Rulegate runs the checks as a compiled rulegate evaluator.Program: a
// role whose apply_when is the check, read: true; the admin-or-owner
// collection has an admin role and an owner role, in that order.
type Rulegate struct {
	prog *evaluator.Program
}

// NewRulegate loads the app in fsys (rooted at the app directory) and
// compiles it.
func NewRulegate(fsys fs.FS) (*Rulegate, error) {
	app, err := rules.LoadApp(fsys)
	if err != nil {
		return nil, err
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		return nil, err
	}
	for _, c := range Checks {
		if !hasNamespace(prog, RulegateNamespace[c]) {
			return nil, fmt.Errorf("rulegate: the app has no rules for %s", RulegateNamespace[c])
		}
	}
	return &Rulegate{prog: prog}, nil
}

// NewRulegateFromDir is NewRulegate on the directory dir.
func NewRulegateFromDir(dir string) (*Rulegate, error) { return NewRulegate(os.DirFS(dir)) }

func hasNamespace(p *evaluator.Program, ns string) bool {
	for _, n := range p.Namespaces() {
		if n == ns {
			return true
		}
	}
	return false
}

// Name returns "rulegate".
func (*Rulegate) Name() string { return "rulegate" }

// RulegateRequest is a request bound by Rulegate: the user, and the
// Program bound to it for each check's namespace, made on first use (a
// request touches one collection; binding is per namespace).
type RulegateRequest struct {
	rg    *Rulegate
	in    expansion.Inputs
	bound [len(Checks)]*evaluator.Bound
}

// Bind wraps the claims as the request's %%user; the claims are not
// decoded: the program looks up the paths its rules use.
func (rg *Rulegate) Bind(claims []byte) (Request, error) {
	u, err := expansion.NewUserClaims(claims)
	if err != nil {
		return nil, err
	}
	return &RulegateRequest{rg: rg, in: expansion.Inputs{User: u}}, nil
}

// Decide evaluates a read of doc in the check's namespace.
func (r *RulegateRequest) Decide(c Check, doc bson.Raw) (bool, error) {
	if c < 0 || int(c) >= len(r.bound) {
		return false, errUnknownCheck(c)
	}
	ctx := context.Background()
	b := r.bound[c]
	if b == nil {
		var err error
		b, err = r.rg.prog.Bind(ctx, evaluator.Caller{Namespace: RulegateNamespace[c], Inputs: r.in})
		if err != nil {
			return false, err
		}
		r.bound[c] = b
	}
	dec, err := b.Evaluate(ctx, evaluator.Doc{Action: evaluator.ActionRead, Document: doc})
	if err != nil {
		return false, err
	}
	return dec.Allowed, nil
}
