package token

import "time"

// Defaults.
const (
	// DefaultTTL is an access token's lifetime, as in App Services.
	DefaultTTL = 30 * time.Minute
	// DefaultRefreshTTL is a refresh token's lifetime (App Services' default
	// refresh token expiration is 60 days).
	DefaultRefreshTTL = 60 * 24 * time.Hour
	// DefaultMaxSize is the longest token a Verifier accepts, in bytes.
	DefaultMaxSize = 64 << 10
)

type signConfig struct {
	issuer     string
	audience   []string
	now        func() time.Time
	ttl        time.Duration
	refreshTTL time.Duration
}

type verifyConfig struct {
	issuer   string
	audience []string
	now      func() time.Time
	leeway   time.Duration
	maxSize  int
}

// SignOption configures a Signer.
type SignOption interface{ applySign(*signConfig) }

// VerifyOption configures a Verifier.
type VerifyOption interface{ applyVerify(*verifyConfig) }

// Option configures both a Signer and a Verifier.
type Option interface {
	SignOption
	VerifyOption
}

type signFunc func(*signConfig)

func (f signFunc) applySign(c *signConfig) { f(c) }

type verifyFunc func(*verifyConfig)

func (f verifyFunc) applyVerify(c *verifyConfig) { f(c) }

type bothFunc struct {
	s signFunc
	v verifyFunc
}

func (b bothFunc) applySign(c *signConfig)     { b.s(c) }
func (b bothFunc) applyVerify(c *verifyConfig) { b.v(c) }

// WithIssuer sets the "iss" claim a Signer writes and a Verifier requires.
func WithIssuer(iss string) Option {
	return bothFunc{
		s: func(c *signConfig) { c.issuer = iss },
		v: func(c *verifyConfig) { c.issuer = iss },
	}
}

// WithAudience sets the "aud" claim a Signer writes; a Verifier requires the
// token's audience to include at least one of aud.
func WithAudience(aud ...string) Option {
	a := append([]string(nil), aud...)
	return bothFunc{
		s: func(c *signConfig) { c.audience = a },
		v: func(c *verifyConfig) { c.audience = a },
	}
}

// WithClock sets the function that tells the time (time.Now by default).
func WithClock(now func() time.Time) Option {
	return bothFunc{
		s: func(c *signConfig) { c.now = now },
		v: func(c *verifyConfig) { c.now = now },
	}
}

// WithTTL sets the lifetime of the access tokens a Signer mints (DefaultTTL).
func WithTTL(d time.Duration) SignOption { return signFunc(func(c *signConfig) { c.ttl = d }) }

// WithRefreshTTL sets the lifetime of the refresh tokens a Signer mints
// (DefaultRefreshTTL).
func WithRefreshTTL(d time.Duration) SignOption {
	return signFunc(func(c *signConfig) { c.refreshTTL = d })
}

// WithLeeway sets the clock skew a Verifier tolerates on exp, iat and nbf
// (none by default).
func WithLeeway(d time.Duration) VerifyOption {
	return verifyFunc(func(c *verifyConfig) { c.leeway = d })
}

// WithMaxSize sets the longest token a Verifier accepts, in bytes
// (DefaultMaxSize). Longer tokens are rejected before any decoding.
func WithMaxSize(n int) VerifyOption { return verifyFunc(func(c *verifyConfig) { c.maxSize = n }) }
