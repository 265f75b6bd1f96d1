package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"sync"
	"unsafe"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithm is a JWS algorithm name, as written in a token's "alg" header.
type Algorithm string

// The supported algorithms.
const (
	HS256 Algorithm = "HS256" // HMAC with SHA-256, a shared secret
	RS256 Algorithm = "RS256" // RSASSA-PKCS1-v1_5 with SHA-256
	ES256 Algorithm = "ES256" // ECDSA on P-256 with SHA-256
)

// MinHMACSecret is the shortest HS256 secret accepted, in bytes (RFC 7518
// section 3.2: a key of at least the hash's size).
const MinHMACSecret = 32

// MinRSABits is the smallest RSA modulus accepted, in bits.
const MinRSABits = 2048

// ErrKey is returned by the key constructors and NewKeySet for an unusable
// key or key set.
var ErrKey = errors.New("token: invalid key")

// Key is one key: its id (the token header's "kid"), its algorithm, and the
// key material. A Key made from a private key (or an HMAC secret) can sign
// and verify; one made from a public key can only verify. The zero Key is
// not usable.
type Key struct {
	id     string
	alg    Algorithm
	method jwt.SigningMethod
	sign   any // nil for verification-only keys
	verify any
	// macs holds HS256 verification states (hmac.New with the secret),
	// shared by the copies of the Key: the HMAC key schedule is computed
	// once per state, not once per token.
	macs *sync.Pool
}

// verifyHMAC reports whether sig is the HS256 MAC of input. The input is
// hashed in place (never copied: the hash only reads it).
func (k Key) verifyHMAC(input string, sig []byte) bool {
	h := k.macs.Get().(hash.Hash)
	h.Reset()
	h.Write(unsafe.Slice(unsafe.StringData(input), len(input)))
	var buf [sha256.Size]byte
	sum := h.Sum(buf[:0])
	k.macs.Put(h)
	return hmac.Equal(sum, sig)
}

// ID returns the key id.
func (k Key) ID() string { return k.id }

// Algorithm returns the algorithm the key was declared with; a token
// verified with k must name exactly this algorithm.
func (k Key) Algorithm() Algorithm { return k.alg }

// CanSign reports whether k holds private key material.
func (k Key) CanSign() bool { return k.sign != nil }

// HMACKey returns an HS256 key with the given id and secret (at least
// MinHMACSecret bytes). The secret is copied.
func HMACKey(id string, secret []byte) (Key, error) {
	if err := checkID(id); err != nil {
		return Key{}, err
	}
	if len(secret) < MinHMACSecret {
		return Key{}, fmt.Errorf("%w: key %q: HS256 secret is %d bytes, need at least %d", ErrKey, id, len(secret), MinHMACSecret)
	}
	s := append([]byte(nil), secret...)
	macs := &sync.Pool{New: func() any { return hmac.New(sha256.New, s) }}
	return Key{id: id, alg: HS256, method: jwt.SigningMethodHS256, sign: s, verify: s, macs: macs}, nil
}

// RSAKey returns an RS256 signing key (at least MinRSABits bits).
func RSAKey(id string, priv *rsa.PrivateKey) (Key, error) {
	if priv == nil {
		return Key{}, fmt.Errorf("%w: key %q: nil RSA private key", ErrKey, id)
	}
	k, err := RSAPublicKey(id, &priv.PublicKey)
	if err != nil {
		return Key{}, err
	}
	k.sign = priv
	return k, nil
}

// RSAPublicKey returns an RS256 verification-only key.
func RSAPublicKey(id string, pub *rsa.PublicKey) (Key, error) {
	if err := checkID(id); err != nil {
		return Key{}, err
	}
	if pub == nil || pub.N == nil {
		return Key{}, fmt.Errorf("%w: key %q: nil RSA public key", ErrKey, id)
	}
	if bits := pub.N.BitLen(); bits < MinRSABits {
		return Key{}, fmt.Errorf("%w: key %q: RSA key is %d bits, need at least %d", ErrKey, id, bits, MinRSABits)
	}
	return Key{id: id, alg: RS256, method: jwt.SigningMethodRS256, verify: pub}, nil
}

// ECDSAKey returns an ES256 signing key on curve P-256.
func ECDSAKey(id string, priv *ecdsa.PrivateKey) (Key, error) {
	if priv == nil {
		return Key{}, fmt.Errorf("%w: key %q: nil ECDSA private key", ErrKey, id)
	}
	k, err := ECDSAPublicKey(id, &priv.PublicKey)
	if err != nil {
		return Key{}, err
	}
	k.sign = priv
	return k, nil
}

// ECDSAPublicKey returns an ES256 verification-only key on curve P-256.
func ECDSAPublicKey(id string, pub *ecdsa.PublicKey) (Key, error) {
	if err := checkID(id); err != nil {
		return Key{}, err
	}
	if pub == nil || pub.Curve != elliptic.P256() {
		return Key{}, fmt.Errorf("%w: key %q: ES256 needs a P-256 public key", ErrKey, id)
	}
	return Key{id: id, alg: ES256, method: jwt.SigningMethodES256, verify: pub}, nil
}

func checkID(id string) error {
	if id == "" {
		return fmt.Errorf("%w: empty key id", ErrKey)
	}
	if len(id) > 256 {
		return fmt.Errorf("%w: key id is %d bytes, at most 256 allowed", ErrKey, len(id))
	}
	return nil
}

// KeySet is one signing key plus verification keys, looked up by id. To
// rotate keys, publish the new key as a verification key, then make it the
// signing key and keep the old one as a verification key until every token
// it signed has expired.
type KeySet struct {
	signing Key
	byID    map[string]Key
}

// NewKeySet returns a key set that signs with signing and verifies with
// signing and every key in verify. Key ids must be unique. signing may be
// the zero Key for a verification-only set.
func NewKeySet(signing Key, verify ...Key) (*KeySet, error) {
	ks := &KeySet{signing: signing, byID: make(map[string]Key, len(verify)+1)}
	all := verify
	if signing.method != nil {
		if !signing.CanSign() {
			return nil, fmt.Errorf("%w: signing key %q holds no private key", ErrKey, signing.id)
		}
		all = append([]Key{signing}, verify...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w: empty key set", ErrKey)
	}
	for _, k := range all {
		if k.method == nil {
			return nil, fmt.Errorf("%w: zero Key in key set", ErrKey)
		}
		if _, dup := ks.byID[k.id]; dup {
			return nil, fmt.Errorf("%w: duplicate key id %q", ErrKey, k.id)
		}
		ks.byID[k.id] = k
	}
	return ks, nil
}

// Lookup returns the key with the given id.
func (ks *KeySet) Lookup(id string) (Key, bool) {
	k, ok := ks.byID[id]
	return k, ok
}

// Signing returns the signing key; ok is false for a verification-only set.
func (ks *KeySet) Signing() (k Key, ok bool) { return ks.signing, ks.signing.method != nil }
