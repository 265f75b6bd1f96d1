package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// LoginAnonymous creates a new anonymous user (one identity of provider
// type "anon-user", data {}). It and its identity carry an expiry
// AnonymousLifetime after creation, which a TTL index enforces, as App
// Services deletes anonymous users 90 days after they were created.
func (s *Store) LoginAnonymous(ctx context.Context) (User, error) {
	exp := s.now().Add(AnonymousLifetime).UTC()
	u, err := s.newUser(ctx, TypeNormal, nil, &exp)
	if err != nil {
		return User{}, err
	}
	idHex := bson.NewObjectID().Hex()
	id := identityDoc{Key: identityKey(ProviderAnon, idHex), ID: idHex, UserID: u.ID, ProviderType: ProviderAnon, ProviderName: ProviderAnon,
		Confirmed: true, Created: u.Created, Expires: &exp}
	if _, err := s.identities.InsertOne(ctx, id); err != nil {
		return User{}, fmt.Errorf("accounts: anonymous login: %w", err)
	}
	return s.user(ctx, u.ID)
}

// LoginExternal logs in the user whose identity with providerName is
// subject (a custom JWT's sub), creating the user on the first login
// (created true). data, a JSON object or nil ({}), becomes the user's and
// the identity's data on every login. The provider names of the built-in
// providers (local-userpass, anon-user, api-key) are refused. A disabled
// user is ErrDisabled.
func (s *Store) LoginExternal(ctx context.Context, providerType, providerName, subject string, data []byte) (User, bool, error) {
	switch {
	case providerType == "" || providerName == "" || subject == "":
		return User{}, false, errors.New("accounts: external login: empty provider type, provider name or subject")
	case providerName == ProviderUserPass || providerName == ProviderAnon || providerName == ProviderAPIKey || strings.Contains(providerName, ":"):
		return User{}, false, fmt.Errorf("accounts: external login: provider name %q is reserved", providerName)
	case !utf8.ValidString(providerType + providerName + subject):
		return User{}, false, errors.New("accounts: external login: provider or subject is not valid UTF-8")
	}
	if data == nil {
		data = []byte("{}")
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil || obj == nil || !utf8.Valid(data) {
		return User{}, false, errors.New("accounts: external login: data is not a JSON object")
	}
	key := identityKey(providerName, subject)
	for range 2 {
		var d identityDoc
		err := s.identities.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: string(data)}}}}).Decode(&d)
		if err == nil {
			if _, err := s.users.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.UserID}}, bson.D{{Key: "$set", Value: bson.D{{Key: "data", Value: string(data)}}}}); err != nil {
				return User{}, false, fmt.Errorf("accounts: external login: %w", err)
			}
			u, err := s.user(ctx, d.UserID)
			if err != nil {
				return User{}, false, err
			}
			if u.Disabled {
				return User{}, false, ErrDisabled
			}
			return u, false, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return User{}, false, fmt.Errorf("accounts: external login: %w", err)
		}
		u, err := s.newUser(ctx, TypeNormal, data, nil)
		if err != nil {
			return User{}, false, err
		}
		id := identityDoc{Key: key, ID: subject, UserID: u.ID, ProviderType: providerType, ProviderName: providerName,
			Data: string(data), Confirmed: true, Created: u.Created}
		_, err = s.identities.InsertOne(ctx, id)
		if err == nil {
			created, err := s.user(ctx, u.ID)
			return created, err == nil, err
		}
		if _, derr := s.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: u.ID}}); derr != nil {
			return User{}, false, fmt.Errorf("accounts: external login: %w (and removing the new user: %v)", err, derr)
		}
		if !mongo.IsDuplicateKeyError(err) {
			return User{}, false, fmt.Errorf("accounts: external login: %w", err)
		}
		// A concurrent first login created the identity: log into it.
	}
	return User{}, false, fmt.Errorf("accounts: external login: identity %q keeps changing", key)
}
