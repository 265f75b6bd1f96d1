package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// User describes the caller a fixture access token is minted for.
type User struct {
	ID    string
	Admin bool
	// Teams are the custom data's teamIds; nil with NoCustomData.
	Teams []string
	// NoCustomData leaves the user_data claim out: every
	// %%user.custom_data path is then missing.
	NoCustomData bool
}

// TeamIDs returns the 20 team ids of the benchmark user:
// "team-00-xxxxxxxx" ... "team-19-xxxxxxxx".
func TeamIDs() []string {
	teams := make([]string, 20)
	for i := range teams {
		teams[i] = fmt.Sprintf("team-%02d-%08x", i, uint32(i)*2654435761)
	}
	return teams
}

// BenchUser is the caller of the benchmarks: not an admin, a member of the
// 20 teams of TeamIDs.
func BenchUser() User {
	return User{ID: "65a1b2c3d4e5f60718293a4c", Teams: TeamIDs()}
}

// Claims returns the JSON payload of an access token for u, about 1.5 KB
// with BenchUser: sub, typ, iat, exp and user_data (the custom user data:
// teamIds, admin, name, email and the filler a real profile carries).
func Claims(u User) []byte {
	claims := map[string]any{
		"sub": u.ID,
		"typ": "access",
		"iat": 1_700_000_000,
		"exp": 1_700_001_800,
		"iss": "rulegate",
		"aud": "app-bench",
	}
	if !u.NoCustomData {
		teams := u.Teams
		if teams == nil {
			teams = []string{}
		}
		claims["user_data"] = map[string]any{
			"userId":  u.ID,
			"teamIds": teams,
			"admin":   u.Admin,
			"name":    "Ada Lovelace",
			"email":   "ada.lovelace@example.com",
			"orgId":   "org-acme-industries",
			"locale":  "en-GB",
			"prefs": map[string]any{
				"theme": "dark", "timezone": "Europe/London",
				"notifications": map[string]bool{"email": true, "push": false, "sms": false},
			},
			"quota": map[string]int{"storageMB": 10240, "apiCallsPerDay": 50000, "seats": 25},
			"tags":  []string{"beta", "early-adopter", "enterprise", "sso"},
			"bio":   strings.Repeat("Mathematician and writer, known for the Analytical Engine. ", 10),
		}
	}
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err) // only maps of JSON values above: cannot fail
	}
	return b
}

// Document returns a document as the driver hands it over: _id, a few
// other fields, owner_id and team_id (left out when empty).
func Document(ownerID, teamID string) bson.Raw {
	d := bson.D{
		{Key: "_id", Value: bson.ObjectID{0x65, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x99}},
		{Key: "title", Value: "Quarterly report"},
		{Key: "status", Value: "open"},
	}
	if ownerID != "" {
		d = append(d, bson.E{Key: "owner_id", Value: ownerID})
	}
	if teamID != "" {
		d = append(d, bson.E{Key: "team_id", Value: teamID})
	}
	d = append(d,
		bson.E{Key: "priority", Value: int32(2)},
		bson.E{Key: "created", Value: bson.DateTime(1_700_000_000_000)},
		bson.E{Key: "tags", Value: bson.A{"finance", "q3"}},
	)
	raw, err := bson.Marshal(d)
	if err != nil {
		panic(err) // only BSON values above: cannot fail
	}
	return raw
}

// BenchDocument is the document of the benchmarks: owned by BenchUser and
// in the last of its teams, so the team check scans the whole list.
func BenchDocument() bson.Raw {
	teams := TeamIDs()
	return Document(BenchUser().ID, teams[len(teams)-1])
}

// DocToMap converts a document into the JSON-like map the peers (expr, CEL,
// OPA) evaluate against: strings, int64, float64, bool, nil, nested
// map[string]any and []any; ObjectIDs become their hex string and dates
// RFC 3339 strings. It is the conversion an integration of a peer engine
// has to write, and the benchmarks pay for it on every document.
func DocToMap(raw bson.Raw) (map[string]any, error) {
	length, _, ok := bsoncore.ReadLength(raw)
	if !ok || length < 5 || int(length) > len(raw) || raw[length-1] != 0 {
		return nil, errBadDocument
	}
	rem := bsoncore.Document(raw[4 : length-1])
	m := make(map[string]any, 8)
	for len(rem) > 0 {
		elem, rest, ok := bsoncore.ReadElement(rem)
		if !ok {
			return nil, errBadDocument
		}
		key, err := elem.KeyErr()
		if err != nil {
			return nil, err
		}
		val, err := elem.ValueErr()
		if err != nil {
			return nil, err
		}
		v, err := rawToAny(bson.RawValue{Type: bson.Type(val.Type), Value: val.Data})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		m[key] = v
		rem = rest
	}
	return m, nil
}

var errBadDocument = errors.New("bench: malformed BSON document")

func rawToAny(v bson.RawValue) (any, error) {
	switch v.Type {
	case bson.TypeString:
		return v.StringValue(), nil
	case bson.TypeInt32:
		return int64(v.Int32()), nil
	case bson.TypeInt64:
		return v.Int64(), nil
	case bson.TypeDouble:
		return v.Double(), nil
	case bson.TypeBoolean:
		return v.Boolean(), nil
	case bson.TypeNull:
		return nil, nil
	case bson.TypeObjectID:
		return v.ObjectID().Hex(), nil
	case bson.TypeDateTime:
		return v.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00"), nil
	case bson.TypeEmbeddedDocument:
		return DocToMap(v.Document())
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, x := range vals {
			if out[i], err = rawToAny(x); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bench: BSON type %v not converted", v.Type)
}

// userMap decodes claims into the App Services user object the peers see
// as "user": {"id": sub, "custom_data": user_data}. A missing user_data
// leaves custom_data out.
func userMap(claims []byte) (map[string]any, error) {
	var c map[string]any
	if err := json.Unmarshal(claims, &c); err != nil {
		return nil, err
	}
	u := map[string]any{"id": c["sub"]}
	if cd, ok := c["user_data"]; ok {
		u["custom_data"] = cd
	}
	return u, nil
}
