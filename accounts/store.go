package accounts

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Errors, for errors.Is. Messages meant for the client must not tell these
// apart where the package says so: ErrInvalidCredentials covers an unknown
// email and a wrong password alike.
var (
	ErrInvalidCredentials = errors.New("accounts: invalid username/password")
	ErrPending            = errors.New("accounts: confirmation required")
	ErrThrottled          = errors.New("accounts: too many failed logins; try again later")
	ErrDisabled           = errors.New("accounts: disabled")
	ErrInvalidPassword    = errors.New("accounts: password must be between 6 and 128 characters")
	ErrInvalidEmail       = errors.New("accounts: invalid email address")
	ErrInvalidToken       = errors.New("accounts: invalid or expired token")
	ErrNotFound           = errors.New("accounts: not found")
	ErrNameInUse          = errors.New("accounts: name already in use")
	ErrLimit              = errors.New("accounts: limit reached")
	ErrAnonymous          = errors.New("accounts: anonymous users cannot own API keys")
	ErrInvalidKeyName     = errors.New("accounts: an API key name must be 1 to 256 bytes of UTF-8")
)

// Defaults.
const (
	DefaultTokenTTL            = 30 * time.Minute
	DefaultPerIdentityFailures = 5
	DefaultPerAddressFailures  = 50
	DefaultThrottleWindow      = 15 * time.Minute
	// AnonymousLifetime is how long an anonymous user lives after its
	// creation, as in App Services.
	AnonymousLifetime = 90 * 24 * time.Hour
	// MaxUserAPIKeys is how many API keys one user may own.
	MaxUserAPIKeys = 20
)

// Provider types and names, as App Services spells them.
const (
	ProviderUserPass = "local-userpass"
	ProviderAnon     = "anon-user"
	ProviderAPIKey   = "api-key"
)

// User types.
const (
	TypeNormal = "normal"
	TypeServer = "server"
)

// Collection names in the Store's database.
const (
	collUsers      = "users"
	collIdentities = "identities"
	collSessions   = "sessions"
	collKeys       = "api_keys"
	collTokens     = "tokens"
	collThrottle   = "throttle"
)

// Store keeps an app's users, identities, credentials, API keys, sessions
// and login-throttling counters in one MongoDB database. It holds no state
// of its own besides configuration: any number of Stores (processes) on one
// database serve the same users. It is safe for concurrent use.
type Store struct {
	db                                                  *mongo.Database
	users, identities, sessions, keys, tokens, throttle *mongo.Collection

	now         func() time.Time
	perIdentity int
	perAddress  int
	window      time.Duration
	tokenTTL    time.Duration

	params argonParams
	// hashing holds one token per argon2id hash running (19 MiB each):
	// GOMAXPROCS at most, so that a burst of logins waits rather than
	// allocating until memory runs out.
	hashing chan struct{}
	dummy   string // a hash of a random password: what an unknown email is verified against
	// onDummy, when set (tests), runs each time a login verifies against
	// the dummy hash.
	onDummy func()
}

// Option configures a Store.
type Option func(*Store)

// WithClock sets the clock (time.Now by default): token, session,
// anonymous-user and throttle-window expiries are computed and checked
// with it. MongoDB's TTL monitor removes expired documents by its own
// clock; the Store never relies on that to refuse them.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// WithThrottle sets how many failed logins are allowed per identity (email)
// and per client address within a fixed window before logins are refused
// with ErrThrottled until the window ends (defaults: 5, 50, 15 minutes).
// A value ≤ 0 turns that limit off.
func WithThrottle(perIdentity, perAddress int, window time.Duration) Option {
	return func(s *Store) { s.perIdentity, s.perAddress, s.window = perIdentity, perAddress, window }
}

// WithTokenTTL sets how long confirmation and password-reset tokens stay
// valid (DefaultTokenTTL, App Services' 30 minutes).
func WithTokenTTL(d time.Duration) Option { return func(s *Store) { s.tokenTTL = d } }

// New returns a Store over db and creates the indexes it needs (see the
// package documentation).
func New(ctx context.Context, db *mongo.Database, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, errors.New("accounts: New: nil database")
	}
	s := &Store{
		db:          db,
		users:       db.Collection(collUsers),
		identities:  db.Collection(collIdentities),
		sessions:    db.Collection(collSessions),
		keys:        db.Collection(collKeys),
		tokens:      db.Collection(collTokens),
		throttle:    db.Collection(collThrottle),
		now:         time.Now,
		perIdentity: DefaultPerIdentityFailures,
		perAddress:  DefaultPerAddressFailures,
		window:      DefaultThrottleWindow,
		tokenTTL:    DefaultTokenTTL,
		params:      defaultParams,
		hashing:     make(chan struct{}, runtime.GOMAXPROCS(0)),
	}
	for _, o := range opts {
		o(s)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.tokenTTL <= 0 || s.window <= 0 {
		return nil, fmt.Errorf("accounts: New: token TTL (%v) and throttle window (%v) must be positive", s.tokenTTL, s.window)
	}
	s.dummy = hashPassword(randomHex(16), s.params)
	if err := s.createIndexes(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) createIndexes(ctx context.Context) error {
	type index struct {
		field  string // or fields, for unique
		fields bson.D
		ttl    bool
	}
	plain := func(f string) index { return index{field: f} }
	ttl := index{field: "expires", ttl: true}
	unique := func(fs ...string) index {
		var d bson.D
		for _, f := range fs {
			d = append(d, bson.E{Key: f, Value: 1})
		}
		return index{fields: d}
	}
	for _, c := range []struct {
		coll *mongo.Collection
		idx  []index
	}{
		{s.users, []index{ttl}},
		{s.identities, []index{plain("user_id"), ttl}},
		{s.sessions, []index{plain("user_id"), ttl}},
		{s.keys, []index{unique("user_id", "name"), unique("hash")}},
		{s.tokens, []index{plain("user_id"), plain("identity"), ttl}},
		{s.throttle, []index{ttl}},
	} {
		for _, i := range c.idx {
			m := mongo.IndexModel{Keys: bson.D{{Key: i.field, Value: 1}}}
			switch {
			case i.fields != nil:
				m = mongo.IndexModel{Keys: i.fields, Options: options.Index().SetUnique(true)}
			case i.ttl:
				m.Options = options.Index().SetExpireAfterSeconds(0)
			}
			_, err := c.coll.Indexes().CreateOne(ctx, m)
			var se mongo.ServerError
			if i.ttl && errors.As(err, &se) && se.HasErrorCode(codeNotImplemented) {
				// No TTL indexes (FerretDB 1.x): every read checks the
				// expiry itself, so an expired document is only clutter.
				_, err = c.coll.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: m.Keys})
			}
			if err != nil {
				return fmt.Errorf("accounts: create indexes on %s.%s: %w", s.db.Name(), c.coll.Name(), err)
			}
		}
	}
	return nil
}

// codeNotImplemented is the server's NotImplemented error code.
const codeNotImplemented = 238

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.RunCommand(ctx, bson.D{{Key: "ping", Value: 1}}).Err(); err != nil {
		return fmt.Errorf("accounts: ping %s: %w", s.db.Name(), err)
	}
	return nil
}
