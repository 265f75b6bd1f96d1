package schema

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// ErrInvalid is wrapped by every *ValidationError: errors.Is(err,
// ErrInvalid) tells a document that breaks the schema from other errors.
var ErrInvalid = errors.New("schema: the document does not match the schema")

// ValidationError is the first place where a document breaks its schema.
type ValidationError struct {
	// Path is the RFC 6901 pointer of the offending value in the document
	// ("" for the document itself).
	Path source.Pointer
	// Keyword is the schema keyword that failed ("bsonType", "required",
	// "validate", ...).
	Keyword string
	// Reason says how the value breaks it.
	Reason string
	// File and SchemaPtr locate the keyword in the schema file.
	File      string
	SchemaPtr source.Pointer
}

// Error renders the error as "schema: <path>: <reason> (<keyword>)".
func (e *ValidationError) Error() string {
	path := string(e.Path)
	if path == "" {
		path = "(document)"
	}
	return fmt.Sprintf("schema: %s: %s (%s)", path, e.Reason, e.Keyword)
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Validate checks doc against the schema's keywords, in schema order, and
// returns the first violation as a *ValidationError, or nil. It does not
// decide "validate" expressions (Expressions; the evaluator decides them
// with the request's expansions), but refuses every document when one of
// them has no fixed field path (see the package documentation).
func (s *Schema) Validate(doc bson.Raw) error {
	if s.unenforced != "" {
		return s.fail(s.unenforcedPtr, "", s.unenforced, "rulegate does not enforce %q: writes are refused (fail closed)", s.unenforced)
	}
	if s.blind != nil {
		return s.fail(s.blind.ptr.Key("validate"), "", "validate", "a validate expression under items or additionalProperties cannot be enforced: writes are refused (fail closed)")
	}
	if err := doc.Validate(); err != nil {
		return fmt.Errorf("schema: malformed document: %w", err)
	}
	var buf [8]step
	w := &walk{s: s, steps: buf[:0]}
	return w.check(s.root, value.FromDocument(doc))
}

func (s *Schema) fail(schemaPtr, path source.Pointer, kw, format string, args ...any) error {
	return &ValidationError{Path: path, Keyword: kw, Reason: fmt.Sprintf(format, args...), File: s.file, SchemaPtr: schemaPtr}
}

// walk is one validation: the path to the value being checked, as a stack
// of steps turned into a JSON pointer only when a check fails.
type walk struct {
	s     *Schema
	steps []step
}

// step is a field name, or an array index when idx >= 0.
type step struct {
	key string
	idx int
}

func (w *walk) push(key string, idx int) { w.steps = append(w.steps, step{key, idx}) }
func (w *walk) pop()                     { w.steps = w.steps[:len(w.steps)-1] }

func (w *walk) ptr() source.Pointer {
	var p source.Pointer
	for _, st := range w.steps {
		if st.idx >= 0 {
			p = p.Index(st.idx)
		} else {
			p = p.Key(st.key)
		}
	}
	return p
}

func (w *walk) fail(schemaPtr source.Pointer, kw, format string, args ...any) error {
	return w.s.fail(schemaPtr, w.ptr(), kw, format, args...)
}

// matches reports whether v is of kind k.
func matches(k kind, v value.Value) bool {
	switch k {
	case kMixed:
		return true
	case kNumber:
		return v.IsNumber()
	case kUUID:
		return v.Type == bson.TypeBinary && len(v.Data) >= 5 && v.Data[4] == bson.TypeBinaryUUID
	}
	return byte(v.Type) == kindType[k]
}

// kindType maps the kinds of single BSON types to their type bytes.
var kindType = [...]byte{
	kDouble: byte(bson.TypeDouble), kString: byte(bson.TypeString),
	kObject: byte(bson.TypeEmbeddedDocument), kArray: byte(bson.TypeArray),
	kBinData: byte(bson.TypeBinary), kUndefined: byte(bson.TypeUndefined),
	kObjectID: byte(bson.TypeObjectID), kBool: byte(bson.TypeBoolean),
	kDate: byte(bson.TypeDateTime), kNull: byte(bson.TypeNull),
	kRegex: byte(bson.TypeRegex), kDBPointer: byte(bson.TypeDBPointer),
	kJavaScript: byte(bson.TypeJavaScript), kSymbol: byte(bson.TypeSymbol),
	kJavaScriptWithScope: byte(bson.TypeCodeWithScope), kInt: byte(bson.TypeInt32),
	kTimestamp: byte(bson.TypeTimestamp), kLong: byte(bson.TypeInt64),
	kDecimal: byte(bson.TypeDecimal128), kMinKey: byte(bson.TypeMinKey),
	kMaxKey: byte(bson.TypeMaxKey),
	kNumber: 0, kUUID: 0, kMixed: 0,
}

// check validates v, found at w's path, against n. The keywords that concern
// one type (properties for objects, items for arrays, minLength for
// strings, minimum for numbers) let values of other types pass, as in
// MongoDB's $jsonSchema: bsonType is what restricts the type.
func (w *walk) check(n *node, v value.Value) error {
	if n.typeKw != "" {
		ok := false
		for _, k := range n.types {
			if matches(k, v) {
				ok = true
				break
			}
		}
		if !ok {
			return w.fail(n.typePtr, n.typeKw, "want %s %s, got %s", n.typeKw, typeList(n.names), typeName(v))
		}
	}
	if n.enum != nil {
		ok := false
		for _, e := range n.enum {
			if value.Equal(e, v) {
				ok = true
				break
			}
		}
		if !ok {
			return w.fail(n.enumPtr, "enum", "%s is not one of the enum values", v.ExtJSON())
		}
	}
	switch {
	case v.IsDocument():
		return w.object(n, v)
	case v.IsArray():
		return w.array(n, v)
	case v.Type == bson.TypeString:
		str, _ := v.StringOK()
		l := int64(utf8.RuneCountInString(str))
		if n.minLen.set && l < n.minLen.n {
			return w.fail(n.minLen.ptr, "minLength", "the string has %d characters, fewer than %d", l, n.minLen.n)
		}
		if n.maxLen.set && l > n.maxLen.n {
			return w.fail(n.maxLen.ptr, "maxLength", "the string has %d characters, more than %d", l, n.maxLen.n)
		}
	case v.IsNumber():
		if n.minimum != nil {
			c := value.Compare(v, n.minimum.v)
			if c < 0 || c == 0 && n.exclMin {
				return w.fail(n.minimum.ptr, "minimum", "%s is below the minimum %s", v.ExtJSON(), n.minimum.v.ExtJSON())
			}
		}
		if n.maximum != nil {
			c := value.Compare(v, n.maximum.v)
			if c > 0 || c == 0 && n.exclMax {
				return w.fail(n.maximum.ptr, "maximum", "%s is above the maximum %s", v.ExtJSON(), n.maximum.v.ExtJSON())
			}
		}
	}
	return nil
}

func typeList(names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("%q", names[0])
	}
	return fmt.Sprintf("%q", names)
}

func (w *walk) object(n *node, v value.Value) error {
	for _, r := range n.required {
		if v.Field(r).IsMissing() {
			return w.fail(n.reqPtr, "required", "the required field %q is missing", r)
		}
	}
	if n.minProps.set || n.maxProps.set {
		l := int64(v.Len())
		if n.minProps.set && l < n.minProps.n {
			return w.fail(n.minProps.ptr, "minProperties", "the object has %d fields, fewer than %d", l, n.minProps.n)
		}
		if n.maxProps.set && l > n.maxProps.n {
			return w.fail(n.maxProps.ptr, "maxProperties", "the object has %d fields, more than %d", l, n.maxProps.n)
		}
	}
	for _, p := range n.props {
		f := v.Field(p.name)
		if f.IsMissing() {
			continue
		}
		w.push(p.name, -1)
		if err := w.check(p.s, f); err != nil {
			return err
		}
		w.pop()
	}
	if n.addl == nil && !n.addlNo {
		return nil
	}
	doc, _ := v.DocumentOK()
	elems, err := doc.Elements()
	if err != nil {
		return fmt.Errorf("schema: malformed document at %s: %w", w.ptr(), err)
	}
	for _, e := range elems {
		key := e.Key()
		if n.named(key) {
			continue
		}
		w.push(key, -1)
		if n.addlNo {
			return w.fail(n.addlPtr, "additionalProperties", "the field %q is not in the schema's properties", key)
		}
		if err := w.check(n.addl, value.FromRaw(e.Value())); err != nil {
			return err
		}
		w.pop()
	}
	return nil
}

func (n *node) named(key string) bool {
	for _, p := range n.props {
		if p.name == key {
			return true
		}
	}
	return false
}

func (w *walk) array(n *node, v value.Value) error {
	l := int64(v.Len())
	if n.minItems.set && l < n.minItems.n {
		return w.fail(n.minItems.ptr, "minItems", "the array has %d items, fewer than %d", l, n.minItems.n)
	}
	if n.maxItems.set && l > n.maxItems.n {
		return w.fail(n.maxItems.ptr, "maxItems", "the array has %d items, more than %d", l, n.maxItems.n)
	}
	var err error
	// seen holds the items' canonical keys (value.Key: equal keys for
	// Equal values), so uniqueItems costs one map lookup per item.
	var seen map[string]int
	var key []byte
	if n.unique {
		seen = make(map[string]int, l)
	}
	v.Each(func(i int, e value.Value) bool {
		w.push("", i)
		if n.unique {
			key = value.Key(key[:0], e)
			if j, dup := seen[string(key)]; dup {
				err = w.fail(n.uniquePtr, "uniqueItems", "the item equals item %d", j)
				return true
			}
			seen[string(key)] = i
		}
		var sub *node
		switch {
		case n.items != nil:
			sub = n.items
		case i < len(n.tuple):
			sub = n.tuple[i]
		case n.tuple != nil && n.addItNo:
			err = w.fail(n.addItPtr, "additionalItems", "the array has more items than the %d schemas of items", len(n.tuple))
			return true
		case n.tuple != nil:
			sub = n.addItems
		}
		if sub != nil {
			err = w.check(sub, e)
		}
		if err != nil {
			return true // stop at the first violation
		}
		w.pop()
		return false
	})
	return err
}
