package bench

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// OPAModule is the checks as a Rego policy; input is
// {"user": <user object>, "document": <document>}.
const OPAModule = `package bench

default owner := false

owner if input.document.owner_id == input.user.id

default team := false

team if input.document.team_id in input.user.custom_data.teamIds

default admin_or_owner := false

admin_or_owner if input.user.custom_data.admin == true

admin_or_owner if input.document.owner_id == input.user.id
`

// opaQuery names each check's rule.
var opaQuery = map[Check]string{
	Owner:        "data.bench.owner",
	Team:         "data.bench.team",
	AdminOrOwner: "data.bench.admin_or_owner",
}

// OPA runs the checks as prepared rego queries
// (github.com/open-policy-agent/opa/v1/rego).
type OPA struct {
	queries [len(Checks)]rego.PreparedEvalQuery
}

// NewOPA compiles the policy and prepares one query per check.
func NewOPA(ctx context.Context) (*OPA, error) {
	o := &OPA{}
	for _, c := range Checks {
		pq, err := rego.New(
			rego.Query(opaQuery[c]),
			rego.Module("bench.rego", OPAModule),
		).PrepareForEval(ctx)
		if err != nil {
			return nil, fmt.Errorf("opa %v: %w", c, err)
		}
		o.queries[c] = pq
	}
	return o, nil
}

// Name returns "opa".
func (*OPA) Name() string { return "opa" }

// OPARequest is a request bound by OPA: the user object, already an
// ast.Value.
type OPARequest struct {
	o    *OPA
	user *ast.Term
}

var (
	opaUserKey = ast.InternedTerm("user")
	opaDocKey  = ast.InternedTerm("document")
)

// Bind decodes the claims into the user object and converts it to an
// ast.Value once.
func (o *OPA) Bind(claims []byte) (Request, error) {
	u, err := userMap(claims)
	if err != nil {
		return nil, err
	}
	v, err := ast.InterfaceToValue(u)
	if err != nil {
		return nil, err
	}
	return &OPARequest{o: o, user: ast.NewTerm(v)}, nil
}

// Decide converts doc, builds the input object and evaluates the check's
// prepared query.
func (r *OPARequest) Decide(c Check, doc bson.Raw) (bool, error) {
	d, err := DocToMap(doc)
	if err != nil {
		return false, err
	}
	return r.DecideMap(c, d)
}

// DecideMap converts a converted document to an ast.Value, builds the
// input object and evaluates the check's prepared query.
func (r *OPARequest) DecideMap(c Check, d map[string]any) (bool, error) {
	if c < 0 || int(c) >= len(r.o.queries) {
		return false, errUnknownCheck(c)
	}
	dv, err := ast.InterfaceToValue(d)
	if err != nil {
		return false, err
	}
	input := ast.NewObject([2]*ast.Term{opaUserKey, r.user}, [2]*ast.Term{opaDocKey, ast.NewTerm(dv)})
	rs, err := r.o.queries[c].Eval(context.Background(), rego.EvalParsedInput(input))
	if err != nil {
		return false, err
	}
	return rs.Allowed(), nil
}
