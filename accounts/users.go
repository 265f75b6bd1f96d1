package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/token"
)

// User is an app user, the user object of App Services (%%user without
// custom_data).
type User struct {
	// ID is a 24-hex ObjectId: rules rely on it ({"%stringToOid": "%%user.id"}).
	ID string
	// Type is TypeNormal or TypeServer (a server API key's user).
	Type string
	// Data is %%user.data, a JSON object: {"email": ...} for email/password
	// users, the mapped metadata fields for custom JWT users, {} otherwise.
	Data []byte
	// Identities are the user's identities, oldest first.
	Identities []Identity
	Disabled   bool
	Created    time.Time
}

// Identity is one way a user logs in.
type Identity struct {
	// ID is the provider's id of the user: the JWT's sub for custom JWT,
	// the key id for a server API key, a 24-hex id otherwise.
	ID           string
	ProviderType string
	ProviderName string
	// Data is a JSON object ({"email": ...} for email/password), or nil.
	Data []byte
}

type userDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	Type     string        `bson:"type"`
	Data     string        `bson:"data"`
	Disabled bool          `bson:"disabled"`
	Created  time.Time     `bson:"created"`
	Expires  *time.Time    `bson:"expires,omitempty"`
	// Unused is set on a new user until its first login (FirstLogin).
	Unused bool `bson:"unused,omitempty"`
}

type identityDoc struct {
	Key          string        `bson:"_id"` // provider name ":" subject
	ID           string        `bson:"id"`
	UserID       bson.ObjectID `bson:"user_id"`
	ProviderType string        `bson:"provider_type"`
	ProviderName string        `bson:"provider_name"`
	Data         string        `bson:"data,omitempty"`
	Password     string        `bson:"password,omitempty"`
	Confirmed    bool          `bson:"confirmed"`
	Created      time.Time     `bson:"created"`
	Expires      *time.Time    `bson:"expires,omitempty"`
}

func identityKey(providerName, subject string) string { return providerName + ":" + subject }

// User returns the user with id (ErrNotFound when there is none).
func (s *Store) User(ctx context.Context, id string) (User, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return User{}, fmt.Errorf("%w: user %q", ErrNotFound, id)
	}
	return s.user(ctx, oid)
}

func (s *Store) user(ctx context.Context, oid bson.ObjectID) (User, error) {
	var d userDoc
	if err := s.users.FindOne(ctx, bson.D{{Key: "_id", Value: oid}}).Decode(&d); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return User{}, fmt.Errorf("%w: user %s", ErrNotFound, oid.Hex())
		}
		return User{}, fmt.Errorf("accounts: user %s: %w", oid.Hex(), err)
	}
	if d.Expires != nil && !s.now().Before(*d.Expires) {
		return User{}, fmt.Errorf("%w: user %s (expired)", ErrNotFound, oid.Hex())
	}
	cur, err := s.identities.Find(ctx, bson.D{{Key: "user_id", Value: oid}}, options.Find().SetSort(bson.D{{Key: "created", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return User{}, fmt.Errorf("accounts: user %s: identities: %w", oid.Hex(), err)
	}
	var ids []identityDoc
	if err := cur.All(ctx, &ids); err != nil {
		return User{}, fmt.Errorf("accounts: user %s: identities: %w", oid.Hex(), err)
	}
	u := User{ID: oid.Hex(), Type: d.Type, Data: []byte(d.Data), Disabled: d.Disabled, Created: d.Created, Identities: make([]Identity, 0, len(ids))}
	for _, i := range ids {
		id := Identity{ID: i.ID, ProviderType: i.ProviderType, ProviderName: i.ProviderName}
		if i.Data != "" {
			id.Data = []byte(i.Data)
		}
		u.Identities = append(u.Identities, id)
	}
	return u, nil
}

// DeleteUser deletes the user with id and everything that names it: its
// identities, API keys, sessions and pending tokens (ErrNotFound when there
// is no such user). Without transactions the deletions are not atomic; the
// user document goes last, so an interrupted DeleteUser can be repeated.
// Custom user data is the app's, in its own collection, and stays.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return fmt.Errorf("%w: user %q", ErrNotFound, id)
	}
	if n, err := s.users.CountDocuments(ctx, bson.D{{Key: "_id", Value: oid}}); err != nil {
		return fmt.Errorf("accounts: delete user %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	for _, c := range []struct {
		coll   *mongo.Collection
		filter bson.D
	}{
		{s.identities, bson.D{{Key: "user_id", Value: oid}}},
		{s.keys, bson.D{{Key: "user_id", Value: oid}}},
		{s.sessions, bson.D{{Key: "user_id", Value: oid.Hex()}}},
		{s.tokens, bson.D{{Key: "user_id", Value: oid}}},
		{s.users, bson.D{{Key: "_id", Value: oid}}},
	} {
		if _, err := c.coll.DeleteMany(ctx, c.filter); err != nil {
			return fmt.Errorf("accounts: delete user %s: %s: %w", id, c.coll.Name(), err)
		}
	}
	return nil
}

// EnableUser enables or disables the user with id (ErrNotFound when there
// is none). A disabled user cannot log in (ErrDisabled) and disabling ends
// its sessions, so its refresh tokens stop working at once.
func (s *Store) EnableUser(ctx context.Context, id string, enabled bool) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return fmt.Errorf("%w: user %q", ErrNotFound, id)
	}
	r, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: !enabled}}}})
	if err != nil {
		return fmt.Errorf("accounts: enable user %s: %w", id, err)
	}
	if r.MatchedCount == 0 {
		return fmt.Errorf("%w: user %s", ErrNotFound, id)
	}
	if !enabled {
		return s.revokeSessions(ctx, oid)
	}
	return nil
}

// FirstLogin reports whether this is the first login of the user with id,
// and records that it happened: it is true once per user, for the login
// that makes the user an App Services user (the one the user-creation
// function and CREATE authentication triggers run for), whichever provider
// created it. A user stored before first logins were recorded has had its
// first login. Two concurrent first logins get one true between them
// where the database updates one document atomically (FerretDB, which
// reads then writes, may give both true). ErrNotFound when there is no
// such user.
func (s *Store) FirstLogin(ctx context.Context, id string) (bool, error) {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return false, fmt.Errorf("%w: user %q", ErrNotFound, id)
	}
	r, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "unused", Value: true}}, bson.D{{Key: "$unset", Value: bson.D{{Key: "unused", Value: ""}}}})
	if err != nil {
		return false, fmt.Errorf("accounts: first login of user %s: %w", id, err)
	}
	return r.ModifiedCount == 1, nil
}

// UndoFirstLogin makes the next login of the user with id its first again,
// for a first login that failed after FirstLogin (its user-creation
// function threw): App Services creates no user then.
func (s *Store) UndoFirstLogin(ctx context.Context, id string) error {
	oid, err := bson.ObjectIDFromHex(id)
	if err != nil {
		return fmt.Errorf("%w: user %q", ErrNotFound, id)
	}
	if _, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, bson.D{{Key: "$set", Value: bson.D{{Key: "unused", Value: true}}}}); err != nil {
		return fmt.Errorf("accounts: undo first login of user %s: %w", id, err)
	}
	return nil
}

// newUser inserts a user document and returns it.
func (s *Store) newUser(ctx context.Context, typ string, data []byte, expires *time.Time) (userDoc, error) {
	if data == nil {
		data = []byte("{}")
	}
	d := userDoc{ID: bson.NewObjectID(), Type: typ, Data: string(data), Created: s.now().UTC().Truncate(time.Millisecond), Expires: expires, Unused: true}
	if _, err := s.users.InsertOne(ctx, d); err != nil {
		return userDoc{}, fmt.Errorf("accounts: create user: %w", err)
	}
	return d, nil
}

func (s *Store) revokeSessions(ctx context.Context, oid bson.ObjectID) error {
	if _, err := s.sessions.DeleteMany(ctx, bson.D{{Key: "user_id", Value: oid.Hex()}}); err != nil {
		return fmt.Errorf("accounts: revoke sessions of user %s: %w", oid.Hex(), err)
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}

// LoginInfo is what customdata.Auth.Login needs of u to mint its tokens:
// its type, %%user.data and %%user.identities. newUser is true on the
// login that created u (the user-creation hook runs then); deviceID is the
// client's device id, "" for a new one.
func (u User) LoginInfo(newUser bool, deviceID string) customdata.LoginInfo {
	ids := make([]token.Identity, len(u.Identities))
	for i, id := range u.Identities {
		ids[i] = token.Identity{ID: id.ID, ProviderType: id.ProviderType}
	}
	return customdata.LoginInfo{Type: u.Type, Metadata: u.Data, Identities: ids, NewUser: newUser, DeviceID: deviceID}
}
