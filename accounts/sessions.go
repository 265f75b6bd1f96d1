package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/token"
)

type sessionIdentity struct {
	ID           string `bson:"id"`
	ProviderType string `bson:"provider_type"`
}

type sessionDoc struct {
	ID             string            `bson:"_id"`
	UserID         string            `bson:"user_id"`
	Type           string            `bson:"type"`
	Data           *string           `bson:"data,omitempty"`
	Identities     []sessionIdentity `bson:"identities"`
	DeviceID       string            `bson:"device_id"`
	TokenHash      []byte            `bson:"token_hash"`
	PreviousHashes [][]byte          `bson:"previous_hashes,omitempty"`
	Expires        *time.Time        `bson:"expires,omitempty"`
}

// sessionStore is the Store's customdata.SessionStore.
type sessionStore struct{ s *Store }

// Sessions returns a customdata.SessionStore keeping sessions in the Store's
// sessions collection, for customdata.NewAuth. Get finds no session past
// its expiry (by the Store's clock); a TTL index removes it later.
// DeleteUser, Reset, SetPassword and EnableUser(false) delete a user's
// sessions there.
func (s *Store) Sessions() customdata.SessionStore { return sessionStore{s} }

func (ss sessionStore) Put(ctx context.Context, id string, sess customdata.Session) error {
	d := sessionDoc{ID: id, UserID: sess.UserID, Type: sess.Type, DeviceID: sess.DeviceID, TokenHash: sess.TokenHash, PreviousHashes: sess.PreviousHashes,
		Identities: make([]sessionIdentity, len(sess.Identities))}
	if sess.Metadata != nil {
		m := string(sess.Metadata)
		d.Data = &m
	}
	for i, x := range sess.Identities {
		d.Identities[i] = sessionIdentity{x.ID, x.ProviderType}
	}
	if !sess.Expires.IsZero() {
		e := sess.Expires.UTC()
		d.Expires = &e
	}
	if _, err := ss.s.sessions.ReplaceOne(ctx, bson.D{{Key: "_id", Value: id}}, d, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("accounts: store session: %w", err)
	}
	return nil
}

func (ss sessionStore) Get(ctx context.Context, id string) (customdata.Session, bool, error) {
	var d sessionDoc
	err := ss.s.sessions.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return customdata.Session{}, false, nil
	}
	if err != nil {
		return customdata.Session{}, false, fmt.Errorf("accounts: load session: %w", err)
	}
	if d.Expires != nil && !ss.s.now().Before(*d.Expires) {
		return customdata.Session{}, false, nil
	}
	sess := customdata.Session{UserID: d.UserID, Type: d.Type, DeviceID: d.DeviceID, TokenHash: d.TokenHash, PreviousHashes: d.PreviousHashes,
		Identities: make([]token.Identity, len(d.Identities))}
	if d.Data != nil {
		sess.Metadata = []byte(*d.Data)
	}
	for i, x := range d.Identities {
		sess.Identities[i] = token.Identity{ID: x.ID, ProviderType: x.ProviderType}
	}
	if d.Expires != nil {
		sess.Expires = *d.Expires
	}
	return sess, true, nil
}

func (ss sessionStore) Delete(ctx context.Context, id string) error {
	if _, err := ss.s.sessions.DeleteOne(ctx, bson.D{{Key: "_id", Value: id}}); err != nil {
		return fmt.Errorf("accounts: delete session: %w", err)
	}
	return nil
}
