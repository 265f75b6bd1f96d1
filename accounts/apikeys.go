package accounts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// APIKey is an API key. Key, the secret, is set only by CreateAPIKey and
// CreateServerAPIKey: the Store keeps its SHA-256 alone.
type APIKey struct {
	ID       string // 24-hex
	Name     string
	Disabled bool
	Key      string
}

type keyDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	UserID   bson.ObjectID `bson:"user_id"`
	Name     string        `bson:"name"`
	Hash     []byte        `bson:"hash"`
	Disabled bool          `bson:"disabled"`
	Created  time.Time     `bson:"created"`
}

func (d keyDoc) key() APIKey { return APIKey{ID: d.ID.Hex(), Name: d.Name, Disabled: d.Disabled} }

// maxKeyName bounds an API key's name, in bytes.
const maxKeyName = 256

func checkKeyName(name string) error {
	if name == "" || len(name) > maxKeyName || !utf8.ValidString(name) {
		return fmt.Errorf("%w: got %d bytes", ErrInvalidKeyName, len(name))
	}
	return nil
}

// CreateAPIKey creates a user API key for userID and returns it with its
// secret, which is never available again. A user owns at most
// MaxUserAPIKeys keys (ErrLimit), with distinct names (ErrNameInUse); an
// anonymous user owns none (ErrAnonymous); an unknown user is ErrNotFound.
// The limit is checked by counting before the insert: concurrent creations
// for one user may pass it together (no transactions).
func (s *Store) CreateAPIKey(ctx context.Context, userID, name string) (APIKey, error) {
	if err := checkKeyName(name); err != nil {
		return APIKey{}, err
	}
	u, err := s.User(ctx, userID)
	if err != nil {
		return APIKey{}, err
	}
	anonymous := len(u.Identities) > 0
	for _, id := range u.Identities {
		anonymous = anonymous && id.ProviderType == ProviderAnon
	}
	if anonymous {
		return APIKey{}, ErrAnonymous
	}
	oid, _ := bson.ObjectIDFromHex(u.ID) // User returned it
	n, err := s.keys.CountDocuments(ctx, bson.D{{Key: "user_id", Value: oid}})
	if err != nil {
		return APIKey{}, fmt.Errorf("accounts: create API key: %w", err)
	}
	if n >= MaxUserAPIKeys {
		return APIKey{}, fmt.Errorf("%w: user %s has %d API keys", ErrLimit, userID, n)
	}
	return s.insertKey(ctx, oid, bson.NewObjectID(), name)
}

func (s *Store) insertKey(ctx context.Context, userID, keyID bson.ObjectID, name string) (APIKey, error) {
	secret := randomHex(32)
	h := sha256.Sum256([]byte(secret))
	d := keyDoc{ID: keyID, UserID: userID, Name: name, Hash: h[:], Created: s.now().UTC().Truncate(time.Millisecond)}
	if _, err := s.keys.InsertOne(ctx, d); err != nil {
		if mongo.IsDuplicateKeyError(err) {
			return APIKey{}, fmt.Errorf("%w: API key %q", ErrNameInUse, name)
		}
		return APIKey{}, fmt.Errorf("accounts: create API key: %w", err)
	}
	k := d.key()
	k.Key = secret
	return k, nil
}

// CreateServerAPIKey creates a server API key: a new user of type "server"
// with one identity of provider type "api-key" (its id the key's id) owns
// it. Server key names are unique in the Store (ErrNameInUse).
func (s *Store) CreateServerAPIKey(ctx context.Context, name string) (APIKey, error) {
	if err := checkKeyName(name); err != nil {
		return APIKey{}, err
	}
	u, err := s.newUser(ctx, TypeServer, nil, nil)
	if err != nil {
		return APIKey{}, err
	}
	keyID := bson.NewObjectID()
	// The identity's _id is the key's name, so the name is unique.
	id := identityDoc{Key: identityKey(ProviderAPIKey, name), ID: keyID.Hex(), UserID: u.ID, ProviderType: ProviderAPIKey, ProviderName: ProviderAPIKey,
		Confirmed: true, Created: u.Created}
	if _, err = s.identities.InsertOne(ctx, id); err == nil {
		var k APIKey
		if k, err = s.insertKey(ctx, u.ID, keyID, name); err == nil {
			return k, nil
		}
		_, _ = s.identities.DeleteOne(ctx, bson.D{{Key: "_id", Value: id.Key}})
	}
	if _, derr := s.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: u.ID}}); derr != nil {
		return APIKey{}, fmt.Errorf("accounts: create server API key: %w (and removing the new user: %v)", err, derr)
	}
	if mongo.IsDuplicateKeyError(err) {
		return APIKey{}, fmt.Errorf("%w: server API key %q", ErrNameInUse, name)
	}
	return APIKey{}, fmt.Errorf("accounts: create server API key: %w", err)
}

// APIKeys returns userID's API keys, oldest first, without secrets.
func (s *Store) APIKeys(ctx context.Context, userID string) ([]APIKey, error) {
	oid, err := bson.ObjectIDFromHex(userID)
	if err != nil {
		return nil, fmt.Errorf("%w: user %q", ErrNotFound, userID)
	}
	cur, err := s.keys.Find(ctx, bson.D{{Key: "user_id", Value: oid}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, fmt.Errorf("accounts: API keys of %s: %w", userID, err)
	}
	var ds []keyDoc
	if err := cur.All(ctx, &ds); err != nil {
		return nil, fmt.Errorf("accounts: API keys of %s: %w", userID, err)
	}
	ks := make([]APIKey, len(ds))
	for i, d := range ds {
		ks[i] = d.key()
	}
	return ks, nil
}

// keyFilter selects userID's key keyID, or reports ErrNotFound.
func keyFilter(userID, keyID string) (bson.D, error) {
	uid, err1 := bson.ObjectIDFromHex(userID)
	kid, err2 := bson.ObjectIDFromHex(keyID)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%w: API key %q of user %q", ErrNotFound, keyID, userID)
	}
	return bson.D{{Key: "_id", Value: kid}, {Key: "user_id", Value: uid}}, nil
}

// APIKey returns userID's key keyID, without its secret (ErrNotFound).
func (s *Store) APIKey(ctx context.Context, userID, keyID string) (APIKey, error) {
	f, err := keyFilter(userID, keyID)
	if err != nil {
		return APIKey{}, err
	}
	var d keyDoc
	if err := s.keys.FindOne(ctx, f).Decode(&d); err != nil {
		if errors.Is(err, mongo.ErrNoDocuments) {
			return APIKey{}, fmt.Errorf("%w: API key %s of user %s", ErrNotFound, keyID, userID)
		}
		return APIKey{}, fmt.Errorf("accounts: API key %s: %w", keyID, err)
	}
	return d.key(), nil
}

// DeleteAPIKey deletes userID's key keyID (ErrNotFound): it logs nobody in
// any more. Sessions opened with it do not record the key and stay until
// they are logged out or expire; EnableUser(false) or DeleteUser end them.
func (s *Store) DeleteAPIKey(ctx context.Context, userID, keyID string) error {
	f, err := keyFilter(userID, keyID)
	if err != nil {
		return err
	}
	r, err := s.keys.DeleteOne(ctx, f)
	if err != nil {
		return fmt.Errorf("accounts: delete API key %s: %w", keyID, err)
	}
	if r.DeletedCount == 0 {
		return fmt.Errorf("%w: API key %s of user %s", ErrNotFound, keyID, userID)
	}
	return nil
}

// EnableAPIKey enables or disables userID's key keyID (ErrNotFound). A
// disabled key logs nobody in (ErrDisabled).
func (s *Store) EnableAPIKey(ctx context.Context, userID, keyID string, enabled bool) error {
	f, err := keyFilter(userID, keyID)
	if err != nil {
		return err
	}
	r, err := s.keys.UpdateOne(ctx, f, bson.D{{Key: "$set", Value: bson.D{{Key: "disabled", Value: !enabled}}}})
	if err != nil {
		return fmt.Errorf("accounts: enable API key %s: %w", keyID, err)
	}
	if r.MatchedCount == 0 {
		return fmt.Errorf("%w: API key %s of user %s", ErrNotFound, keyID, userID)
	}
	return nil
}

// LoginAPIKey logs in the user owning the API key whose secret is key,
// from client address addr ("" for none; counted as LoginPassword
// counts it). An unknown key is
// ErrInvalidCredentials and counts against addr (ErrThrottled at the
// limit); a disabled key or user is ErrDisabled. The key is found by its
// SHA-256 (a 256-bit random secret needs no slow hash) and the hashes are
// compared in constant time.
func (s *Store) LoginAPIKey(ctx context.Context, key, addr string) (User, error) {
	ls := s.limiters("", addr)
	if t, err := s.throttled(ctx, ls); err != nil {
		return User{}, err
	} else if t {
		return User{}, ErrThrottled
	}
	h := sha256.Sum256([]byte(key))
	var d keyDoc
	err := s.keys.FindOne(ctx, bson.D{{Key: "hash", Value: h[:]}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) || (err == nil && subtle.ConstantTimeCompare(h[:], d.Hash) != 1) {
		return User{}, s.failed(ctx, ls)
	}
	if err != nil {
		return User{}, fmt.Errorf("accounts: API key login: %w", err)
	}
	if d.Disabled {
		return User{}, ErrDisabled
	}
	return s.loginUser(ctx, d.UserID, ls)
}
