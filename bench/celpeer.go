package bench

import (
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// CELSource holds the checks in CEL.
var CELSource = map[Check]string{
	Owner:        `document.owner_id == user.id`,
	Team:         `document.team_id in user.custom_data.teamIds`,
	AdminOrOwner: `user.custom_data.admin == true || document.owner_id == user.id`,
}

// CEL runs the checks as compiled CEL programs (cel.dev/cel-go, the
// module github.com/google/cel-go moved to).
type CEL struct {
	progs [len(Checks)]cel.Program
}

// NewCEL compiles the checks with user and document declared as
// map(string, dyn), optimised (cel.OptOptimize).
func NewCEL() (*CEL, error) {
	env, err := cel.NewEnv(
		cel.Variable("user", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("document", cel.MapType(cel.StringType, cel.DynType)),
	)
	if err != nil {
		return nil, err
	}
	e := &CEL{}
	for _, c := range Checks {
		ast, iss := env.Compile(CELSource[c])
		if iss.Err() != nil {
			return nil, fmt.Errorf("cel %v: %w", c, iss.Err())
		}
		p, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize))
		if err != nil {
			return nil, fmt.Errorf("cel %v: %w", c, err)
		}
		e.progs[c] = p
	}
	return e, nil
}

// Name returns "cel".
func (*CEL) Name() string { return "cel" }

// celActivation resolves "user" (bound once per request) and "document".
type celActivation struct {
	user ref.Val
	doc  any
}

func (a *celActivation) ResolveName(name string) (any, bool) {
	switch name {
	case "user":
		return a.user, true
	case "document":
		return a.doc, true
	}
	return nil, false
}

func (a *celActivation) Parent() interpreter.Activation { return nil }

// CELRequest is a request bound by CEL: its activation.
type CELRequest struct {
	e   *CEL
	act celActivation
}

// Bind decodes the claims into the user object and adapts it to a CEL
// value once.
func (e *CEL) Bind(claims []byte) (Request, error) {
	u, err := userMap(claims)
	if err != nil {
		return nil, err
	}
	return &CELRequest{e: e, act: celActivation{user: types.DefaultTypeAdapter.NativeToValue(u)}}, nil
}

// Decide converts doc and evaluates the check's program. An evaluation
// error (a missing key, say) is returned, and denies.
func (r *CELRequest) Decide(c Check, doc bson.Raw) (bool, error) {
	d, err := DocToMap(doc)
	if err != nil {
		return false, err
	}
	return r.DecideMap(c, d)
}

// DecideMap evaluates the check's program on a converted document.
func (r *CELRequest) DecideMap(c Check, d map[string]any) (bool, error) {
	if c < 0 || int(c) >= len(r.e.progs) {
		return false, errUnknownCheck(c)
	}
	r.act.doc = d
	out, _, err := r.e.progs[c].Eval(&r.act)
	r.act.doc = nil
	if err != nil {
		return false, err
	}
	return out == types.True, nil
}
