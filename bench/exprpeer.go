package bench

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ExprSource holds the checks in expr's language. custom_data is read with
// expr's nil-safe ?. operator: without it a user without custom data makes
// the admin-or-owner check an error, and denies its owner.
var ExprSource = map[Check]string{
	Owner:        `document.owner_id == user.id`,
	Team:         `document.team_id in user.custom_data?.teamIds`,
	AdminOrOwner: `user.custom_data?.admin == true || document.owner_id == user.id`,
}

// exprEnv is the environment the expr programs are compiled against and
// run with: the user object decoded from the claims, and the document.
type exprEnv struct {
	User     map[string]any `expr:"user"`
	Document map[string]any `expr:"document"`
}

// Expr runs the checks as compiled github.com/expr-lang/expr programs.
type Expr struct {
	progs [len(Checks)]*vm.Program
}

// NewExpr compiles the checks.
func NewExpr() (*Expr, error) {
	e := &Expr{}
	for _, c := range Checks {
		p, err := expr.Compile(ExprSource[c], expr.Env(exprEnv{}), expr.AsBool())
		if err != nil {
			return nil, fmt.Errorf("expr %v: %w", c, err)
		}
		e.progs[c] = p
	}
	return e, nil
}

// Name returns "expr".
func (*Expr) Name() string { return "expr" }

// ExprRequest is a request bound by Expr: its environment, and a VM
// reused across documents (a vm.VM is not safe for concurrent use, a
// request is used by one goroutine).
type ExprRequest struct {
	e   *Expr
	env exprEnv
	vm  vm.VM
}

// Bind decodes the claims into the user object.
func (e *Expr) Bind(claims []byte) (Request, error) {
	u, err := userMap(claims)
	if err != nil {
		return nil, err
	}
	return &ExprRequest{e: e, env: exprEnv{User: u}}, nil
}

// Decide converts doc and runs the check's program.
func (r *ExprRequest) Decide(c Check, doc bson.Raw) (bool, error) {
	d, err := DocToMap(doc)
	if err != nil {
		return false, err
	}
	return r.DecideMap(c, d)
}

// DecideMap runs the check's program on a converted document.
func (r *ExprRequest) DecideMap(c Check, d map[string]any) (bool, error) {
	if c < 0 || int(c) >= len(r.e.progs) {
		return false, errUnknownCheck(c)
	}
	r.env.Document = d
	out, err := r.vm.Run(r.e.progs[c], &r.env)
	r.env.Document = nil
	if err != nil {
		return false, err
	}
	ok, _ := out.(bool)
	return ok, nil
}
