package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// argonParams are argon2id's cost parameters.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32
	threads uint8
}

// defaultParams is OWASP's minimum for argon2id (Password Storage Cheat
// Sheet): 19 MiB, two passes, one lane.
var defaultParams = argonParams{memory: 19456, time: 2, threads: 1}

const (
	saltLen = 16
	hashLen = 32
	// Bounds on parameters read back from a stored hash, so that a tampered
	// document cannot make a login allocate gigabytes or spin for minutes.
	maxMemory  = 1 << 20 // 1 GiB
	maxTime    = 16
	maxThreads = 16
)

var b64 = base64.RawStdEncoding

// hashPassword returns password's argon2id hash as a PHC string:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, salt and hash in unpadded
// standard base64.
func hashPassword(password string, p argonParams) string {
	salt := make([]byte, saltLen)
	_, _ = rand.Read(salt) // crypto/rand.Read never fails
	h := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, hashLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads, b64.EncodeToString(salt), b64.EncodeToString(h))
}

// argon runs f, one argon2id hash or verification, once one of the
// Store's GOMAXPROCS slots is free: argon2id takes 19 MiB and a core for
// its run, so more at once gain nothing and could exhaust memory. It
// returns the context's error if ctx ends first.
func (s *Store) argon(ctx context.Context, f func()) error {
	select {
	case s.hashing <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("accounts: waiting to hash a password: %w", ctx.Err())
	}
	defer func() { <-s.hashing }()
	f()
	return nil
}

// verifyPassword reports whether password matches the PHC string phc
// (compared in constant time) and the parameters phc was made with. A
// string it cannot read, or with parameters out of bounds, matches nothing.
func verifyPassword(phc, password string) (bool, argonParams) {
	p, salt, want, ok := parsePHC(phc)
	if !ok {
		return false, argonParams{}
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, p
}

func parsePHC(phc string) (p argonParams, salt, hash []byte, ok bool) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, false
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, false
		}
		switch k {
		case "m":
			p.memory = uint32(n)
		case "t":
			p.time = uint32(n)
		case "p":
			if n > maxThreads {
				return p, nil, nil, false
			}
			p.threads = uint8(n)
		default:
			return p, nil, nil, false
		}
	}
	if p.time < 1 || p.time > maxTime || p.threads < 1 || p.memory < 8*uint32(p.threads) || p.memory > maxMemory {
		return p, nil, nil, false
	}
	salt, err1 := b64.DecodeString(parts[4])
	hash, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(hash) < 16 || len(hash) > 64 {
		return p, nil, nil, false
	}
	return p, salt, hash, true
}
