package expansion

import (
	"strings"
	"unsafe"

	"github.com/tidwall/gjson"

	"github.com/rulegate/rulegate/value"
)

// Accessor is a compiled request-phase expansion: the lookups of a Ref,
// worked out once (Compile) and run against the Inputs of each request
// (Resolve). It is the only resolver of %%user and the other request
// inputs; Inputs.Resolve compiles one on the fly. An Accessor is immutable
// and safe for concurrent use.
//
// Path segments are taken literally: the characters gjson reads as path
// syntax (. * ? | # @ ! = < > % " { } [ ] , : \) are escaped, so a key such
// as "{admin}" or "k*" names that key and nothing else. A segment of
// decimal digits indexes an array when it is a canonical index ("0", "12";
// not "01", "-1" or "+1", as value.Path) and names a key of an object
// otherwise; a segment that is not an index finds nothing in an array
// (there is no traversal of arrays of documents, unlike %%root paths), and
// a value read as extended JSON ({"$oid": ...}) has no fields. In short, an
// expansion's path resolves as value.Resolve does in the BSON value of
// the input; most paths take one gjson lookup over the raw JSON instead,
// with the same result (FuzzAccessor checks it).
type Accessor struct {
	ref Ref
	// steps are the escaped gjson path components below the input: for
	// %%user the user field of the object layout is first.
	steps []string
	// path and claimsPath are steps joined, for one gjson lookup when walk
	// is false; claimsPath is the %%user path in the claims layout.
	path, claimsPath string
	// claimsStep0 is the first step in the claims layout.
	claimsStep0 string
	// walk: a segment gjson would not read as value.Resolve does: one
	// of digits that is not a canonical array index (gjson indexes arrays
	// with "01"), or one starting with "$" (which could step inside an
	// extended JSON value such as {"$maxKey": 1}). Such a path is resolved
	// in the BSON value of the user field (or of the whole input).
	walk bool
	// noField: the first segment after %%user is not a user field.
	noField bool
}

// Compile returns the Accessor of r. Document-phase refs compile too;
// their Accessor's Resolve returns ErrDocumentPhase.
func Compile(r Ref) *Accessor {
	a := &Accessor{ref: r}
	path := r.Path
	if r.Root == RootUser && len(path) > 0 {
		obj, okObj := userFieldKey(layoutObject, path[0])
		claims, _ := userFieldKey(layoutClaims, path[0])
		if !okObj {
			a.noField = true
			return a
		}
		a.steps = append(a.steps, escapeGJSON(obj))
		rest := make([]string, 0, len(path)-1)
		for _, s := range path[1:] {
			rest = append(rest, escapeGJSON(s))
		}
		a.steps = append(a.steps, rest...)
		a.path = strings.Join(a.steps, ".")
		a.claimsStep0 = escapeGJSON(claims)
		a.claimsPath = strings.Join(append([]string{a.claimsStep0}, rest...), ".")
	} else {
		for _, s := range path {
			a.steps = append(a.steps, escapeGJSON(s))
		}
		a.path = strings.Join(a.steps, ".")
	}
	for i, s := range path {
		if i == 0 && r.Root == RootUser {
			continue // a user field
		}
		if strings.HasPrefix(s, "$") || gjsonOnlyIndex(s) {
			a.walk = true
		}
	}
	return a
}

// Ref returns the expansion the Accessor was compiled from.
func (a *Accessor) Ref() Ref { return a.ref }

// Resolve returns the value of the expansion for in: Missing
// (value.Value{}), never null, when the input or the path is absent;
// ErrDocumentPhase for %%root, %%prevRoot, %%this and %%prev.
func (a *Accessor) Resolve(in *Inputs) (value.Value, error) {
	switch a.ref.Root {
	case RootTrue:
		return value.Bool(true), nil
	case RootFalse:
		return value.Bool(false), nil
	case RootRoot, RootPrevRoot, RootThis, RootPrev:
		return value.Value{}, ErrDocumentPhase
	case RootUser:
		u := in.User
		if u.IsZero() || a.noField {
			return value.Value{}, nil
		}
		if len(a.ref.Path) == 0 {
			return u.whole()
		}
		if u.layout == layoutClaims {
			return a.lookup(u.raw, a.claimsPath, a.claimsStep0)
		}
		return a.lookup(u.raw, a.path, "")
	case RootRequest:
		return a.lookup(in.Request, a.path, "")
	case RootValues:
		return a.lookup(in.Values, a.path, "")
	case RootEnvironment:
		return a.lookup(in.Environment, a.path, "")
	case RootPartition:
		return a.lookup(in.Partition, "", "")
	case RootArgs:
		return a.lookup(in.Args, a.path, "")
	}
	return value.Value{}, errCannotResolve(a.ref)
}

// lookup finds the path in doc and converts the result. path is the
// joined gjson path; step0, when not empty, replaces the first step in a
// walk (the user field of the claims layout).
func (a *Accessor) lookup(doc []byte, path, step0 string) (value.Value, error) {
	if doc == nil {
		return value.Value{}, nil
	}
	// The bytes are not modified while a request is resolved (User and
	// Inputs document this), and nothing returned points into them: the
	// result is converted to BSON before Resolve returns. So they are read
	// in place, without the copy gjson.GetBytes makes of every result.
	js := unsafe.String(unsafe.SliceData(doc), len(doc))
	var res gjson.Result
	switch {
	case path == "":
		res = gjson.Parse(js)
	case !a.walk:
		res = gjson.Get(js, path)
	case a.ref.Root == RootUser:
		// The user field is looked up and converted, and the rest of the
		// path is resolved in its BSON value (value.Resolve).
		first := a.steps[0]
		if step0 != "" {
			first = step0
		}
		if res = gjson.Get(js, first); !res.Exists() {
			return value.Value{}, nil
		}
		v, err := fromGJSON(res)
		if err != nil {
			return value.Value{}, err
		}
		return value.Resolve(v, a.ref.Path[1:]), nil
	default:
		v, err := fromGJSON(gjson.Parse(js))
		if err != nil {
			return value.Value{}, err
		}
		return value.Resolve(v, a.ref.Path), nil
	}
	if !res.Exists() {
		return value.Value{}, nil
	}
	return fromGJSON(res)
}

// gjsonOnlyIndex reports whether gjson would index an array with s (any
// non-empty run of decimal digits) where value.ArrayIndex, the one reading
// of an index, does not ("01", or more than nine digits). The digit test
// is gjson's reading, deliberately not value's: such a path is walked in
// BSON instead.
func gjsonOnlyIndex(s string) bool {
	if _, ok := value.ArrayIndex(s); ok || s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
