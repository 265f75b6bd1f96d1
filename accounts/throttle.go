package accounts

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A throttle counter counts failed logins for one key in a fixed window:
// {_id: "identity:<email>" or "address:<addr>", count, start, expires}.
type counterDoc struct {
	Key     string    `bson:"_id"`
	Count   int       `bson:"count"`
	Start   time.Time `bson:"start"`
	Expires time.Time `bson:"expires"`
}

// limiter is one throttle counter key and its limit.
type limiter struct {
	key   string
	limit int
}

func (s *Store) limiters(identity, addr string) []limiter {
	var ls []limiter
	if identity != "" && s.perIdentity > 0 {
		ls = append(ls, limiter{"identity:" + identity, s.perIdentity})
	}
	if addr = throttleAddress(addr); addr != "" && s.perAddress > 0 {
		ls = append(ls, limiter{"address:" + addr, s.perAddress})
	}
	return ls
}

// throttleAddress is what failed logins from addr are counted under: the
// IPv4 address, or the /64 prefix of an IPv6 address (one host or one
// site holds a whole /64 and may pick any address in it, RFC 4291 and RFC
// 8981; a counter per address would give it 2^64 of them). addr may be
// host:port (http.Request.RemoteAddr) or a bare address; a mapped IPv4
// address counts as that IPv4 address; what is no IP address is counted
// as given.
func throttleAddress(addr string) string {
	h := addr
	if host, _, err := net.SplitHostPort(addr); err == nil {
		h = host
	}
	a, err := netip.ParseAddr(h)
	if err != nil {
		return addr
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64) // 64 bits of an IPv6 address: cannot fail
		return p.String()
	}
	return a.String()
}

// throttled reports whether any of ls has reached its limit in the current
// window.
func (s *Store) throttled(ctx context.Context, ls []limiter) (bool, error) {
	now := s.now()
	for _, l := range ls {
		var d counterDoc
		err := s.throttle.FindOne(ctx, bson.D{{Key: "_id", Value: l.key}}).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("accounts: throttle %s: %w", l.key, err)
		}
		if d.Start.Add(s.window).After(now) && d.Count >= l.limit {
			return true, nil
		}
	}
	return false, nil
}

// fail counts a failed login against each of ls: $inc in the current
// window, or a new window starting now. A concurrent start of the same new
// window is caught by the duplicate _id and retried as an $inc.
func (s *Store) fail(ctx context.Context, ls []limiter) error {
	now := s.now().UTC().Truncate(time.Millisecond)
	cutoff := now.Add(-s.window)
	for _, l := range ls {
		var err error
		for range 3 {
			var r *mongo.UpdateResult
			r, err = s.throttle.UpdateOne(ctx, bson.D{{Key: "_id", Value: l.key}, {Key: "start", Value: bson.D{{Key: "$gt", Value: cutoff}}}},
				bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}})
			if err != nil || r.MatchedCount == 1 {
				break
			}
			_, err = s.throttle.UpdateOne(ctx, bson.D{{Key: "_id", Value: l.key}, {Key: "start", Value: bson.D{{Key: "$lte", Value: cutoff}}}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "count", Value: 1}, {Key: "start", Value: now}, {Key: "expires", Value: now.Add(s.window)}}}},
				options.UpdateOne().SetUpsert(true))
			if !mongo.IsDuplicateKeyError(err) {
				break
			}
		}
		if err != nil {
			return fmt.Errorf("accounts: throttle %s: %w", l.key, err)
		}
	}
	return nil
}

// clear removes the counter of key (a successful login's identity).
func (s *Store) clear(ctx context.Context, key string) error {
	if _, err := s.throttle.DeleteOne(ctx, bson.D{{Key: "_id", Value: key}}); err != nil {
		return fmt.Errorf("accounts: throttle %s: %w", key, err)
	}
	return nil
}
