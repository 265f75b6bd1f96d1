package expansion

import (
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/tidwall/gjson"
)

// DollarKey returns the RFC 6901 pointer of an object key starting with
// "$" in the JSON b, at any depth (the first in key order, for a stable
// message); ok is false when there is none, or when b is not JSON. Inputs
// are read as extended JSON, so such a key written by a user ({"$maxKey":
// 1} in their metadata or custom data) would become a typed value: callers
// that carry user-written JSON as an input refuse it. b is read as the
// expansions read it: encoding/json gives up on nesting deeper than 10000
// levels, which this reader accepts, and a key it could not see would be
// carried.
func DollarKey(b []byte) (ptr string, ok bool) {
	if len(b) == 0 || !gjson.ValidBytes(b) {
		return "", false
	}
	var walk func(v gjson.Result, at string) (string, bool)
	walk = func(v gjson.Result, at string) (string, bool) {
		switch {
		case v.IsObject():
			type kv struct {
				k string
				v gjson.Result
			}
			var kvs []kv
			v.ForEach(func(k, e gjson.Result) bool {
				kvs = append(kvs, kv{k.Str, e})
				return true
			})
			// The first in key order: a stable message.
			sort.SliceStable(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
			for _, e := range kvs {
				p := string(source.Pointer(at).Key(e.k))
				if strings.HasPrefix(e.k, "$") {
					return p, true
				}
				if p, ok := walk(e.v, p); ok {
					return p, true
				}
			}
		case v.IsArray():
			i := 0
			var p string
			var found bool
			v.ForEach(func(_, e gjson.Result) bool {
				p, found = walk(e, string(source.Pointer(at).Index(i)))
				i++
				return !found
			})
			return p, found
		}
		return "", false
	}
	return walk(gjson.ParseBytes(b), "")
}
