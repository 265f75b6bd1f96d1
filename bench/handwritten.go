package bench

import (
	"encoding/json"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Handwritten is the floor: the checks written in Go against a struct the
// claims are decoded into once per request. The team check is a naive
// linear scan of the slice.
type Handwritten struct{}

// Name returns "handwritten".
func (Handwritten) Name() string { return "handwritten" }

// handClaims are the claims the checks need; encoding/json skips the rest.
type handClaims struct {
	Sub      string `json:"sub"`
	UserData struct {
		TeamIDs []string `json:"teamIds"`
		Admin   bool     `json:"admin"`
	} `json:"user_data"`
}

// HandRequest is a request bound by Handwritten.
type HandRequest struct {
	c handClaims
}

// Bind decodes the claims.
func (Handwritten) Bind(claims []byte) (Request, error) {
	r := &HandRequest{}
	if err := json.Unmarshal(claims, &r.c); err != nil {
		return nil, err
	}
	return r, nil
}

// Decide decides c for doc. A missing or non-string field never matches,
// and an empty user id matches nothing (fail closed).
func (r *HandRequest) Decide(c Check, doc bson.Raw) (bool, error) {
	switch c {
	case Owner:
		return r.owner(doc), nil
	case Team:
		team, ok := doc.Lookup("team_id").StringValueOK()
		if !ok {
			return false, nil
		}
		for _, t := range r.c.UserData.TeamIDs {
			if t == team {
				return true, nil
			}
		}
		return false, nil
	case AdminOrOwner:
		return r.c.UserData.Admin || r.owner(doc), nil
	}
	return false, errUnknownCheck(c)
}

func (r *HandRequest) owner(doc bson.Raw) bool {
	owner, ok := doc.Lookup("owner_id").StringValueOK()
	return ok && r.c.Sub != "" && owner == r.c.Sub
}

// DecideMap decides c for a document converted by DocToMap.
func (r *HandRequest) DecideMap(c Check, doc map[string]any) (bool, error) {
	owner := func() bool {
		o, ok := doc["owner_id"].(string)
		return ok && r.c.Sub != "" && o == r.c.Sub
	}
	switch c {
	case Owner:
		return owner(), nil
	case Team:
		team, ok := doc["team_id"].(string)
		if !ok {
			return false, nil
		}
		for _, t := range r.c.UserData.TeamIDs {
			if t == team {
				return true, nil
			}
		}
		return false, nil
	case AdminOrOwner:
		return r.c.UserData.Admin || owner(), nil
	}
	return false, errUnknownCheck(c)
}
