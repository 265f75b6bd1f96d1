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
	if s.blind != nil {
		return s.fail(s.blind.ptr.Key("validate"), "", "validate", "a validate expression under items or additionalProperties cannot be enforced: writes are refused (fail closed)")
	}
	if err := doc.Validate(); err != nil {
		return fmt.Errorf("schema: malformed document: %w", err)
	}
	return s.check(s.root, value.FromDocument(doc), "")
}

func (s *Schema) fail(schemaPtr, path source.Pointer, kw, format string, args ...any) error {
	return &ValidationError{Path: path, Keyword: kw, Reason: fmt.Sprintf(format, args...), File: s.file, SchemaPtr: schemaPtr}
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

// check validates v, found at path, against n. The keywords that concern
// one type (properties for objects, items for arrays, minLength for
// strings, minimum for numbers) let values of other types pass, as in
// MongoDB's $jsonSchema: bsonType is what restricts the type.
func (s *Schema) check(n *node, v value.Value, path source.Pointer) error {
	if n.typeKw != "" {
		ok := false
		for _, k := range n.types {
			if matches(k, v) {
				ok = true
				break
			}
		}
		if !ok {
			return s.fail(n.typePtr, path, n.typeKw, "want %s %s, got %s", n.typeKw, typeList(n.names), typeName(v))
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
			return s.fail(n.enumPtr, path, "enum", "%s is not one of the enum values", v.ExtJSON())
		}
	}
	switch {
	case v.IsDocument():
		return s.object(n, v, path)
	case v.IsArray():
		return s.array(n, v, path)
	case v.Type == bson.TypeString:
		str, _ := v.StringOK()
		l := int64(utf8.RuneCountInString(str))
		if n.minLen.set && l < n.minLen.n {
			return s.fail(n.minLen.ptr, path, "minLength", "the string has %d characters, fewer than %d", l, n.minLen.n)
		}
		if n.maxLen.set && l > n.maxLen.n {
			return s.fail(n.maxLen.ptr, path, "maxLength", "the string has %d characters, more than %d", l, n.maxLen.n)
		}
	case v.IsNumber():
		if n.minimum != nil {
			c := value.Compare(v, n.minimum.v)
			if c < 0 || c == 0 && n.exclMin {
				return s.fail(n.minimum.ptr, path, "minimum", "%s is below the minimum %s", v.ExtJSON(), n.minimum.v.ExtJSON())
			}
		}
		if n.maximum != nil {
			c := value.Compare(v, n.maximum.v)
			if c > 0 || c == 0 && n.exclMax {
				return s.fail(n.maximum.ptr, path, "maximum", "%s is above the maximum %s", v.ExtJSON(), n.maximum.v.ExtJSON())
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

func (s *Schema) object(n *node, v value.Value, path source.Pointer) error {
	for _, r := range n.required {
		if v.Field(r).IsMissing() {
			return s.fail(n.reqPtr, path, "required", "the required field %q is missing", r)
		}
	}
	doc, _ := v.DocumentOK()
	elems, err := doc.Elements()
	if err != nil {
		return fmt.Errorf("schema: malformed document at %s: %w", path, err)
	}
	if n.minProps.set && int64(len(elems)) < n.minProps.n {
		return s.fail(n.minProps.ptr, path, "minProperties", "the object has %d fields, fewer than %d", len(elems), n.minProps.n)
	}
	if n.maxProps.set && int64(len(elems)) > n.maxProps.n {
		return s.fail(n.maxProps.ptr, path, "maxProperties", "the object has %d fields, more than %d", len(elems), n.maxProps.n)
	}
	for _, p := range n.props {
		f := v.Field(p.name)
		if f.IsMissing() {
			continue
		}
		if err := s.check(p.s, f, path.Key(p.name)); err != nil {
			return err
		}
	}
	if n.addl == nil && !n.addlNo {
		return nil
	}
	for _, e := range elems {
		key := e.Key()
		if n.named(key) {
			continue
		}
		if n.addlNo {
			return s.fail(n.addlPtr, path.Key(key), "additionalProperties", "the field %q is not in the schema's properties", key)
		}
		if err := s.check(n.addl, value.FromRaw(e.Value()), path.Key(key)); err != nil {
			return err
		}
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

func (s *Schema) array(n *node, v value.Value, path source.Pointer) error {
	l := int64(v.Len())
	if n.minItems.set && l < n.minItems.n {
		return s.fail(n.minItems.ptr, path, "minItems", "the array has %d items, fewer than %d", l, n.minItems.n)
	}
	if n.maxItems.set && l > n.maxItems.n {
		return s.fail(n.maxItems.ptr, path, "maxItems", "the array has %d items, more than %d", l, n.maxItems.n)
	}
	var err error
	var seen []value.Value
	v.Each(func(i int, e value.Value) bool {
		at := path.Index(i)
		if n.unique {
			for j, x := range seen {
				if value.Equal(x, e) {
					err = s.fail(n.uniquePtr, at, "uniqueItems", "the item equals item %d", j)
					return true
				}
			}
			seen = append(seen, e)
		}
		var sub *node
		switch {
		case n.items != nil:
			sub = n.items
		case i < len(n.tuple):
			sub = n.tuple[i]
		case n.tuple != nil && n.addItNo:
			err = s.fail(n.addItPtr, at, "additionalItems", "the array has more items than the %d schemas of items", len(n.tuple))
			return true
		case n.tuple != nil:
			sub = n.addItems
		}
		if sub != nil {
			err = s.check(sub, e, at)
		}
		return err != nil // stop at the first violation
	})
	return err
}
