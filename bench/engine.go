package bench

import (
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Check is one of the three checks every engine decides.
type Check int

// The checks.
const (
	// Owner: document.owner_id == user.id.
	Owner Check = iota
	// Team: document.team_id in user.custom_data.teamIds.
	Team
	// AdminOrOwner: user.custom_data.admin == true OR
	// document.owner_id == user.id.
	AdminOrOwner
)

// Checks lists every check, in order.
var Checks = [...]Check{Owner, Team, AdminOrOwner}

// String returns "owner", "team" or "admin-or-owner".
func (c Check) String() string {
	switch c {
	case Owner:
		return "owner"
	case Team:
		return "team"
	case AdminOrOwner:
		return "admin-or-owner"
	}
	return fmt.Sprintf("Check(%d)", int(c))
}

// Engine is one way of deciding the checks, compiled once and safe for
// concurrent use.
type Engine interface {
	// Name is the sub-benchmark name: "handwritten", "expr", "cel", "opa"
	// or "rulegate".
	Name() string
	// Bind does the per-request work: it turns the claims of a verified
	// access token into the engine's input.
	Bind(claims []byte) (Request, error)
}

// Request is a bound request. It is used by one goroutine at a time.
type Request interface {
	// Decide decides check c for one document. An error means the
	// engine could not decide; callers deny.
	Decide(c Check, doc bson.Raw) (bool, error)
}

// MapDecider is implemented by the requests of engines that evaluate
// documents as map[string]any (the peers, and Handwritten for comparison):
// DecideMap decides a document already converted by DocToMap, and so
// measures the engine alone.
type MapDecider interface {
	DecideMap(c Check, doc map[string]any) (bool, error)
}

// errUnknownCheck is returned for a Check outside Checks.
func errUnknownCheck(c Check) error { return fmt.Errorf("bench: unknown check %v", c) }
