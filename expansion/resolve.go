package expansion

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/value"
	"github.com/tidwall/gjson"
)

// Inputs are the per-request values that request-phase expansions resolve
// against. Every field is optional; an absent input makes its expansions
// missing, and rules that need them fail closed. The byte slices are read
// in place and must not be modified while a request uses them.
type Inputs struct {
	// User is the caller (%%user).
	User User
	// Request is a JSON object with the %%request fields (httpMethod,
	// remoteIPAddress, requestHeaders, service, action, ...).
	Request []byte
	// Values is a JSON object of the app's values (%%values.<name>).
	Values []byte
	// Environment is a JSON object {"tag": "...", "values": {...}}
	// (%%environment).
	Environment []byte
	// Partition is the JSON value of the sync partition (%%partition).
	Partition []byte
	// Args is a JSON object or array of service arguments (%%args).
	Args []byte
}

// ErrDocumentPhase is returned by Resolve for %%root, %%prevRoot, %%this and
// %%prev: those are resolved against documents by the evaluator.
var ErrDocumentPhase = errors.New("expansion: document expansions are resolved per document")

// Validate checks that every JSON input is well formed, so that lookups
// never read garbage. The user is checked when it is built.
func (in *Inputs) Validate() error {
	check := func(name string, b []byte, object bool) error {
		if b == nil {
			return nil
		}
		if !gjson.ValidBytes(b) {
			return fmt.Errorf("expansion: %s is not valid JSON", name)
		}
		if object && !gjson.ParseBytes(b).IsObject() {
			return fmt.Errorf("expansion: %s must be a JSON object", name)
		}
		return nil
	}
	if err := check("request", in.Request, true); err != nil {
		return err
	}
	if err := check("values", in.Values, true); err != nil {
		return err
	}
	if err := check("environment", in.Environment, true); err != nil {
		return err
	}
	if err := check("partition", in.Partition, false); err != nil {
		return err
	}
	return check("args", in.Args, false)
}

// Resolve returns the value of a constant or request-phase expansion. A
// missing path yields the Missing value (value.Value{}), never null, so that
// a missing claim cannot match documents that lack a field. It returns
// ErrDocumentPhase for document expansions. It compiles r on every call:
// hold an Accessor (Compile) to resolve the same expansion per request.
func (in *Inputs) Resolve(r Ref) (value.Value, error) { return Compile(r).Resolve(in) }

func errCannotResolve(r Ref) error { return fmt.Errorf("expansion: cannot resolve %s", r) }

// whole returns %%user as one document with the user-object field names.
func (u User) whole() (value.Value, error) {
	if u.layout == layoutObject {
		return value.FromExtJSON(u.raw)
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for _, f := range []string{"id", "type", "data", "custom_data", "identities"} {
		key, _ := userFieldKey(u.layout, f)
		res := gjson.GetBytes(u.raw, key)
		if !res.Exists() {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(strconv.Quote(f))
		b.WriteByte(':')
		b.WriteString(res.Raw)
	}
	b.WriteByte('}')
	return value.FromExtJSON(b.Bytes())
}

// JSONValue reads one JSON value as expansions read their inputs: objects
// and arrays are relaxed extended JSON, so {"$oid": "..."} is an ObjectID;
// integers that fit are int32, then int64; other numbers are doubles.
func JSONValue(b []byte) (value.Value, error) {
	if !gjson.ValidBytes(b) {
		return value.Value{}, fmt.Errorf("expansion: not valid JSON")
	}
	return fromGJSON(gjson.ParseBytes(b))
}

// fromGJSON converts a gjson result into a Value. JSON objects and arrays
// are read as relaxed extended JSON, so {"$oid": "..."} becomes an
// ObjectID. Integers that fit become int32 or int64; other numbers become
// doubles.
func fromGJSON(r gjson.Result) (value.Value, error) {
	switch r.Type {
	case gjson.Null:
		return value.Null(), nil
	case gjson.False:
		return value.Bool(false), nil
	case gjson.True:
		return value.Bool(true), nil
	case gjson.String:
		return value.String(r.Str), nil
	case gjson.Number:
		if !strings.ContainsAny(r.Raw, ".eE") {
			if n, err := strconv.ParseInt(r.Raw, 10, 64); err == nil {
				if n >= -1<<31 && n < 1<<31 {
					return value.Int32(int32(n)), nil
				}
				return value.Int64(n), nil
			}
		}
		return value.Double(r.Num), nil
	case gjson.JSON:
		data, t, err := jsonValue(make([]byte, 0, len(r.Raw)+len(r.Raw)/2+16), r)
		if err != nil {
			return value.Value{}, err
		}
		return value.Value{Type: t, Data: data}, nil
	}
	return value.Value{}, nil
}
