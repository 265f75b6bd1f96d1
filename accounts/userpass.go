package accounts

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Pending is what a confirmation or password-reset message needs: the
// token and token id the client passes back (App Services' confirmUser and
// resetPassword), and the user's id. The zero Pending means nothing is to
// be sent.
type Pending struct {
	Token, TokenID string
	UserID         string
}

// Token kinds.
const (
	kindConfirm = "confirm"
	kindReset   = "reset"
)

type tokenDoc struct {
	ID       bson.ObjectID `bson:"_id"`
	Kind     string        `bson:"kind"`
	UserID   bson.ObjectID `bson:"user_id"`
	Identity string        `bson:"identity"`
	Hash     []byte        `bson:"hash"`
	Expires  time.Time     `bson:"expires"`
}

// normalEmail returns email trimmed and lower-cased, and whether it is a
// plain address (no display name, at most 254 bytes, valid UTF-8).
func normalEmail(email string) (string, bool) {
	e := strings.ToLower(strings.TrimSpace(email))
	if e == "" || len(e) > 254 || !utf8.ValidString(e) {
		return "", false
	}
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || a.Name != "" {
		return "", false
	}
	return e, true
}

// validPassword reports whether password has 6 to 128 characters.
func validPassword(password string) bool {
	if !utf8.ValidString(password) {
		return false
	}
	n := utf8.RuneCountInString(password)
	return n >= 6 && n <= 128
}

// Register creates an email/password user, confirmed or pending
// confirmation. For a pending user it returns the confirmation token to
// send. An email already registered is not an error: Register hashes the
// password all the same and returns the zero Pending and nil, so that its
// answer does not tell who has an account. A malformed email is
// ErrInvalidEmail, a password outside 6..128 characters ErrInvalidPassword.
func (s *Store) Register(ctx context.Context, email, password string, confirmed bool) (Pending, error) {
	e, ok := normalEmail(email)
	if !ok {
		return Pending{}, ErrInvalidEmail
	}
	if !validPassword(password) {
		return Pending{}, ErrInvalidPassword
	}
	var phc string
	if err := s.argon(ctx, func() { phc = hashPassword(password, s.params) }); err != nil {
		return Pending{}, err
	}
	key := identityKey(ProviderUserPass, e)
	if n, err := s.identities.CountDocuments(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return Pending{}, fmt.Errorf("accounts: register: %w", err)
	} else if n > 0 {
		return Pending{}, nil
	}
	data := emailData(e)
	u, err := s.newUser(ctx, TypeNormal, data, nil)
	if err != nil {
		return Pending{}, err
	}
	id := identityDoc{Key: key, ID: bson.NewObjectID().Hex(), UserID: u.ID, ProviderType: ProviderUserPass, ProviderName: ProviderUserPass,
		Data: string(data), Password: phc, Confirmed: confirmed, Created: u.Created}
	if _, err := s.identities.InsertOne(ctx, id); err != nil {
		// A concurrent Register of the same email won: undo the user.
		if _, derr := s.users.DeleteOne(ctx, bson.D{{Key: "_id", Value: u.ID}}); derr != nil {
			return Pending{}, fmt.Errorf("accounts: register: %w (and removing the new user: %v)", err, derr)
		}
		if mongo.IsDuplicateKeyError(err) {
			return Pending{}, nil
		}
		return Pending{}, fmt.Errorf("accounts: register: %w", err)
	}
	if confirmed {
		return Pending{}, nil
	}
	return s.newToken(ctx, kindConfirm, id)
}

func emailData(e string) []byte {
	b, _ := bson.MarshalExtJSON(bson.D{{Key: "email", Value: e}}, false, false) // a string always marshals
	return b
}

// newToken issues a confirmation or reset token for identity, replacing any
// earlier one of the same kind.
func (s *Store) newToken(ctx context.Context, kind string, id identityDoc) (Pending, error) {
	if _, err := s.tokens.DeleteMany(ctx, bson.D{{Key: "identity", Value: id.Key}, {Key: "kind", Value: kind}}); err != nil {
		return Pending{}, fmt.Errorf("accounts: %s token: %w", kind, err)
	}
	tok := randomHex(32)
	h := sha256.Sum256([]byte(tok))
	d := tokenDoc{ID: bson.NewObjectID(), Kind: kind, UserID: id.UserID, Identity: id.Key, Hash: h[:], Expires: s.now().Add(s.tokenTTL).UTC()}
	if _, err := s.tokens.InsertOne(ctx, d); err != nil {
		return Pending{}, fmt.Errorf("accounts: %s token: %w", kind, err)
	}
	return Pending{Token: tok, TokenID: d.ID.Hex(), UserID: id.UserID.Hex()}, nil
}

// spend checks a token of kind against its stored hash, in constant time,
// and deletes it: a token works once, before it expires. Every failure is
// ErrInvalidToken.
func (s *Store) spend(ctx context.Context, kind, token, tokenID string) (tokenDoc, error) {
	oid, err := bson.ObjectIDFromHex(tokenID)
	if err != nil {
		return tokenDoc{}, ErrInvalidToken
	}
	var d tokenDoc
	err = s.tokens.FindOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "kind", Value: kind}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return tokenDoc{}, ErrInvalidToken
	}
	if err != nil {
		return tokenDoc{}, fmt.Errorf("accounts: %s token: %w", kind, err)
	}
	h := sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(h[:], d.Hash) != 1 || !s.now().Before(d.Expires) {
		return tokenDoc{}, ErrInvalidToken
	}
	r, err := s.tokens.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "hash", Value: d.Hash}})
	if err != nil {
		return tokenDoc{}, fmt.Errorf("accounts: %s token: %w", kind, err)
	}
	if r.DeletedCount == 0 { // spent concurrently
		return tokenDoc{}, ErrInvalidToken
	}
	return d, nil
}

// Confirm confirms the pending user a confirmation token names
// (ErrInvalidToken for a token that is unknown, expired or spent).
func (s *Store) Confirm(ctx context.Context, token, tokenID string) error {
	d, err := s.spend(ctx, kindConfirm, token, tokenID)
	if err != nil {
		return err
	}
	r, err := s.identities.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.Identity}}, bson.D{{Key: "$set", Value: bson.D{{Key: "confirmed", Value: true}}}})
	if err != nil {
		return fmt.Errorf("accounts: confirm: %w", err)
	}
	if r.MatchedCount == 0 { // the user was deleted meanwhile
		return ErrInvalidToken
	}
	return nil
}

// identity returns the email/password identity of email, or ok false.
func (s *Store) identity(ctx context.Context, e string) (identityDoc, bool, error) {
	var d identityDoc
	err := s.identities.FindOne(ctx, bson.D{{Key: "_id", Value: identityKey(ProviderUserPass, e)}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return identityDoc{}, false, nil
	}
	if err != nil {
		return identityDoc{}, false, fmt.Errorf("accounts: email identity: %w", err)
	}
	return d, true, nil
}

// ResendConfirmation issues a new confirmation token for a pending user,
// replacing the previous one. For an unknown or already confirmed email it
// returns the zero Pending and nil (no enumeration).
func (s *Store) ResendConfirmation(ctx context.Context, email string) (Pending, error) {
	e, ok := normalEmail(email)
	if !ok {
		return Pending{}, ErrInvalidEmail
	}
	d, found, err := s.identity(ctx, e)
	if err != nil {
		return Pending{}, err
	}
	if !found || d.Confirmed {
		return Pending{}, s.decoy(ctx, kindConfirm, e)
	}
	return s.newToken(ctx, kindConfirm, d)
}

// decoy does newToken's database work for an address that gets no
// message (unknown, or a confirmation for a confirmed user), so that the
// answer costs the same commands either way and its timing does not tell
// who is registered. The token it stores is shown to no one, so it can
// never be spent; it expires as every token does.
func (s *Store) decoy(ctx context.Context, kind, e string) error {
	_, err := s.newToken(ctx, kind, identityDoc{Key: identityKey(ProviderUserPass, e)})
	return err
}

// RequestReset issues a password-reset token for email, replacing the
// previous one. For an unknown email it returns the zero Pending and nil
// (no enumeration).
func (s *Store) RequestReset(ctx context.Context, email string) (Pending, error) {
	e, ok := normalEmail(email)
	if !ok {
		return Pending{}, ErrInvalidEmail
	}
	d, found, err := s.identity(ctx, e)
	if err != nil {
		return Pending{}, err
	}
	if !found {
		return Pending{}, s.decoy(ctx, kindReset, e)
	}
	return s.newToken(ctx, kindReset, d)
}

// Reset sets a new password with a reset token and ends the user's
// sessions. A password outside 6..128 characters is ErrInvalidPassword and
// leaves the token usable; a token that is unknown, expired or spent is
// ErrInvalidToken.
func (s *Store) Reset(ctx context.Context, token, tokenID, password string) error {
	if !validPassword(password) {
		return ErrInvalidPassword
	}
	d, err := s.spend(ctx, kindReset, token, tokenID)
	if err != nil {
		return err
	}
	id, err := s.setPassword(ctx, d.Identity, password)
	if errors.Is(err, ErrNotFound) {
		return ErrInvalidToken
	}
	if err != nil {
		return err
	}
	return s.revokeSessions(ctx, id.UserID)
}

// SetPassword sets the password of email's user and ends its sessions: the
// reset-function path (App Services' callResetPasswordFunction returning
// success). ErrNotFound for an unknown email: a caller must not show it to
// the client.
func (s *Store) SetPassword(ctx context.Context, email, password string) error {
	e, ok := normalEmail(email)
	if !ok {
		return ErrInvalidEmail
	}
	if !validPassword(password) {
		return ErrInvalidPassword
	}
	id, err := s.setPassword(ctx, identityKey(ProviderUserPass, e), password)
	if err != nil {
		return err
	}
	return s.revokeSessions(ctx, id.UserID)
}

func (s *Store) setPassword(ctx context.Context, key, password string) (identityDoc, error) {
	var phc string
	if err := s.argon(ctx, func() { phc = hashPassword(password, s.params) }); err != nil {
		return identityDoc{}, err
	}
	var d identityDoc
	err := s.identities.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: key}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "password", Value: phc}}}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return identityDoc{}, ErrNotFound
	}
	if err != nil {
		return identityDoc{}, fmt.Errorf("accounts: set password: %w", err)
	}
	if _, err := s.tokens.DeleteMany(ctx, bson.D{{Key: "identity", Value: key}, {Key: "kind", Value: kindReset}}); err != nil {
		return identityDoc{}, fmt.Errorf("accounts: set password: %w", err)
	}
	return d, nil
}

// LoginPassword logs an email/password user in from client address addr
// ("" for none; host:port as http.Request.RemoteAddr has it, or an
// address: failures are counted per IPv4 address or IPv6 /64). An unknown email and a wrong password are both
// ErrInvalidCredentials, and both cost one argon2id verification (an
// unknown email is verified against a dummy hash). Failures count against
// the email and against addr; at the limit every login for either is
// ErrThrottled until the window ends, without checking the password. A
// correct password of an unconfirmed user is ErrPending, of a disabled one
// ErrDisabled; a success clears the email's counter.
func (s *Store) LoginPassword(ctx context.Context, email, password, addr string) (User, error) {
	e, ok := normalEmail(email)
	ls := s.limiters(e, addr)
	if t, err := s.throttled(ctx, ls); err != nil {
		return User{}, err
	} else if t {
		return User{}, ErrThrottled
	}
	var d identityDoc
	found := false
	if ok && validPassword(password) {
		var err error
		if d, found, err = s.identity(ctx, e); err != nil {
			return User{}, err
		}
	}
	if !found {
		if err := s.argon(ctx, func() { verifyPassword(s.dummy, password) }); err != nil {
			return User{}, err
		}
		if s.onDummy != nil {
			s.onDummy()
		}
		return User{}, s.failed(ctx, ls)
	}
	var match bool
	var params argonParams
	if err := s.argon(ctx, func() { match, params = verifyPassword(d.Password, password) }); err != nil {
		return User{}, err
	}
	if !match {
		return User{}, s.failed(ctx, ls)
	}
	if !d.Confirmed {
		return User{}, ErrPending
	}
	u, err := s.loginUser(ctx, d.UserID, ls)
	if err != nil {
		return User{}, err
	}
	if err := s.clear(ctx, "identity:"+e); err != nil {
		return User{}, err
	}
	if params != s.params { // stored with other parameters: rehash
		var phc string
		if err := s.argon(ctx, func() { phc = hashPassword(password, s.params) }); err != nil {
			return User{}, err
		}
		if _, err := s.identities.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.Key}, {Key: "password", Value: d.Password}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "password", Value: phc}}}}); err != nil {
			return User{}, fmt.Errorf("accounts: rehash password: %w", err)
		}
	}
	return u, nil
}

// failed counts a failed login and returns ErrInvalidCredentials.
// loginUser is the user a credential logs in: a missing user fails as
// wrong credentials do (counted against ls), a disabled one is
// ErrDisabled.
func (s *Store) loginUser(ctx context.Context, id bson.ObjectID, ls []limiter) (User, error) {
	u, err := s.user(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return User{}, s.failed(ctx, ls)
	}
	if err != nil {
		return User{}, err
	}
	if u.Disabled {
		return User{}, ErrDisabled
	}
	return u, nil
}

func (s *Store) failed(ctx context.Context, ls []limiter) error {
	if err := s.fail(ctx, ls); err != nil {
		return err
	}
	return ErrInvalidCredentials
}
