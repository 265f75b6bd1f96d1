package schema

import (
	"fmt"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// Stable diagnostic codes of Compile. Codes are the contract: messages may
// be reworded, codes are not. A "validate" expression adds the codes of the
// rules parser (rules/...).
const (
	// CodeType: a keyword's value has the wrong JSON type, names a type
	// the schema language does not define, or bsonType and type are
	// given together (error).
	CodeType = "schema/type"
	// CodeRoot: the root schema's type excludes "object": no document
	// could be written (error).
	CodeRoot = "schema/root"
	// CodeUnsupported: a keyword of the schema language that rulegate does
	// not enforce (warning); see the package documentation.
	CodeUnsupported = "schema/unsupported"
	// CodeUnknownKey: a key that is not a keyword of the schema language
	// (warning: it constrains nothing, but may be a misspelling).
	CodeUnknownKey = "schema/unknown-key"
	// CodeSpelling: bsonType "boolean", the JSON type's name, read as
	// "bool" (warning).
	CodeSpelling = "schema/spelling"
)

// Schema is a compiled BSON schema: the schema.json of a collection, or the
// inline "schema" of an old-layout rule file. It is immutable and safe for
// concurrent use.
type Schema struct {
	root  *node
	exprs []Expression
	// blind is the first "validate" expression that has no fixed field
	// path (under items, additionalProperties): Validate refuses every
	// document rather than skip it (fail closed). Nil when none.
	blind *node
	// unenforced is the first keyword rulegate does not enforce
	// (unsupported) and where it is: Validate refuses every document
	// rather than leave the constraint unchecked (fail closed).
	unenforced    string
	unenforcedPtr source.Pointer
	file          string
}

// Expression is a "validate" expression of a schema: a rule expression
// over %%this and %%prev (the field at Path after and before the write),
// %%root, %%prevRoot and %%user. The evaluator compiles and decides it.
type Expression struct {
	// Path is the field the expression validates: the property names
	// from the root schema down; empty for the root.
	Path []string
	// Expr is the parsed expression; its nodes know their place.
	Expr rules.Expr
}

// Expressions returns the schema's "validate" expressions, in schema order.
func (s *Schema) Expressions() []Expression { return s.exprs }

// File returns the name of the file the schema was compiled from.
func (s *Schema) File() string { return s.file }

// kind is a BSON type as a schema names it.
type kind uint8

const (
	kDouble kind = iota + 1
	kString
	kObject
	kArray
	kBinData
	kUndefined
	kObjectID
	kBool
	kDate
	kNull
	kRegex
	kDBPointer
	kJavaScript
	kSymbol
	kJavaScriptWithScope
	kInt
	kTimestamp
	kLong
	kDecimal
	kMinKey
	kMaxKey
	kNumber // int, long, double, decimal
	kUUID   // binData of subtype 4
	kMixed  // any value
)

// bsonTypes are the names bsonType accepts: MongoDB's $type aliases
// (reference/operator/query/type) and App Services' uuid and mixed
// (source/schemas/types.txt).
var bsonTypes = map[string]kind{
	"double": kDouble, "string": kString, "object": kObject, "array": kArray,
	"binData": kBinData, "undefined": kUndefined, "objectId": kObjectID,
	"bool": kBool, "date": kDate, "null": kNull, "regex": kRegex,
	"dbPointer": kDBPointer, "javascript": kJavaScript, "symbol": kSymbol,
	"javascriptWithScope": kJavaScriptWithScope, "int": kInt,
	"timestamp": kTimestamp, "long": kLong, "decimal": kDecimal,
	"minKey": kMinKey, "maxKey": kMaxKey, "number": kNumber,
	"uuid": kUUID, "mixed": kMixed,
}

// jsonTypes are the names type accepts (source/schemas/types.txt: no
// "integer").
var jsonTypes = map[string]kind{
	"object": kObject, "array": kArray, "number": kNumber,
	"boolean": kBool, "string": kString, "null": kNull,
}

// unsupported are the keywords of the schema language that rulegate does
// not enforce; Compile warns about each (CodeUnsupported), and a schema
// holding one refuses every write (fail closed: {"not": {"enum":
// ["admin"]}} left unchecked would let a user write "admin").
var unsupported = map[string]bool{
	"pattern": true, "patternProperties": true, "dependencies": true,
	"multipleOf": true, "allOf": true, "anyOf": true, "oneOf": true,
	"not": true,
}

// keywords are the keywords Compile enforces or knows to have no effect
// (title, description), for suggestions.
var keywords = []string{
	"bsonType", "type", "enum", "title", "description", "required",
	"properties", "additionalProperties", "minProperties", "maxProperties",
	"items", "additionalItems", "minItems", "maxItems", "uniqueItems",
	"minLength", "maxLength", "minimum", "maximum", "exclusiveMinimum",
	"exclusiveMaximum", "validate",
}

// node is one compiled schema document.
type node struct {
	ptr     source.Pointer // in the schema file
	typePtr source.Pointer
	typeKw  string // "bsonType" or "type"; "" when absent
	types   []kind
	names   []string // the type names as written, for messages
	enum    []value.Value
	enumPtr source.Pointer

	required []string
	reqPtr   source.Pointer
	props    []prop
	addl     *node // additionalProperties as a schema
	addlNo   bool  // additionalProperties: false
	addlPtr  source.Pointer

	items    *node   // items as one schema
	tuple    []*node // items as an array of schemas
	addItems *node
	addItNo  bool
	addItPtr source.Pointer

	minItems, maxItems, minLen, maxLen, minProps, maxProps bound
	unique                                                 bool
	uniquePtr                                              source.Pointer

	minimum, maximum *limit
	exclMin, exclMax bool
}

// bound is a non-negative integer keyword (minItems, ...); set is false
// when absent.
type bound struct {
	set bool
	n   int64
	ptr source.Pointer
}

// limit is minimum or maximum.
type limit struct {
	v   value.Value
	ptr source.Pointer
}

type prop struct {
	name string
	s    *node
}

type compiler struct {
	file  *source.File
	diags source.ErrorList
	s     *Schema
}

// Compile compiles a schema from its JSON node: the root of a schema.json
// (rules.Schema.Node), or the inline "schema" object of an old-layout rule
// file. It returns the schema and every diagnostic, sorted: errors (the
// Schema is then nil) and warnings (CodeUnsupported, CodeUnknownKey,
// CodeSpelling), which leave a usable Schema.
func Compile(n *source.Node) (*Schema, source.ErrorList) {
	if n == nil {
		return nil, source.ErrorList{{Code: CodeType, Msg: "schema: no schema node"}}
	}
	cp := &compiler{file: n.File(), s: &Schema{}}
	if cp.file != nil {
		cp.s.file = cp.file.Name
	}
	root := cp.node(n, []string{})
	if root != nil && root.typeKw != "" && !admits(root.types, kObject) {
		cp.errorf(n.Get(root.typeKw), root.typePtr, CodeRoot, "the root schema must describe an object (a document), not %s", strings.Join(root.names, ", "))
	}
	cp.diags.Sort()
	if len(cp.diags.Errors()) > 0 {
		return nil, cp.diags
	}
	cp.s.root = root
	return cp.s, cp.diags
}

// Check compiles every schema of the app (rules.DataSource.Schemas) and
// returns their diagnostics, sorted, for rulegate check.
func Check(app *rules.App) source.ErrorList {
	var all source.ErrorList
	for _, ds := range app.DataSources {
		for _, s := range ds.Schemas {
			_, diags := Compile(s.Node)
			all = append(all, diags...)
		}
	}
	all.Sort()
	return all
}

func admits(ks []kind, k kind) bool {
	for _, x := range ks {
		if x == k || x == kMixed {
			return true
		}
	}
	return false
}

func (cp *compiler) errorf(n *source.Node, ptr source.Pointer, code, format string, args ...any) {
	off := 0
	if n != nil {
		off = n.Offset
	}
	cp.diags.Add(source.Errorf(cp.file, off, ptr, code, format, args...))
}

func (cp *compiler) warnf(n *source.Node, ptr source.Pointer, code, format string, args ...any) {
	e := source.Errorf(cp.file, n.Offset, ptr, code, format, args...)
	e.Severity = source.SeverityWarning
	cp.diags.Add(e)
}

// warnKey reports a warning at the key of member m.
func (cp *compiler) warnKey(m source.Member, ptr source.Pointer, code, format string, args ...any) {
	e := source.Errorf(cp.file, m.KeyOffset, ptr, code, format, args...)
	e.Severity = source.SeverityWarning
	cp.diags.Add(e)
}

// node compiles the schema document n; path is the fixed field path of
// the value it describes (nil under items and additionalProperties,
// where "validate" has no fixed %%this).
func (cp *compiler) node(n *source.Node, path []string) *node {
	if n.Kind != source.Object {
		cp.errorf(n, n.Ptr, CodeType, "a schema must be an object, got %s", n.Kind.Article())
		return nil
	}
	s := &node{ptr: n.Ptr}
	for _, m := range n.Members {
		v := m.Value
		switch m.Key {
		case "bsonType", "type":
			if s.typeKw != "" {
				cp.errorf(v, v.Ptr, CodeType, "bsonType and type cannot be used together")
				continue
			}
			s.typeKw, s.typePtr = m.Key, v.Ptr
			cp.types(s, v)
		case "enum":
			s.enumPtr = v.Ptr
			if v.Kind != source.Array || len(v.Elems) == 0 {
				cp.errorf(v, v.Ptr, CodeType, "enum must be a non-empty array, got %s", v.Kind.Article())
				continue
			}
			for _, e := range v.Elems {
				ev, err := value.FromExtJSON(e.Raw())
				if err != nil {
					cp.errorf(e, e.Ptr, CodeType, "enum value: %v", err)
					continue
				}
				s.enum = append(s.enum, ev)
			}
		case "title", "description":
			if v.Kind != source.String {
				cp.errorf(v, v.Ptr, CodeType, "%s must be a string, got %s", m.Key, v.Kind.Article())
			}
		case "required":
			s.reqPtr = v.Ptr
			if v.Kind != source.Array {
				cp.errorf(v, v.Ptr, CodeType, "required must be an array of field names, got %s", v.Kind.Article())
				continue
			}
			for _, e := range v.Elems {
				if e.Kind != source.String {
					cp.errorf(e, e.Ptr, CodeType, "required must hold field names, got %s", e.Kind.Article())
					continue
				}
				s.required = append(s.required, e.Str)
			}
		case "properties":
			if v.Kind != source.Object {
				cp.errorf(v, v.Ptr, CodeType, "properties must be an object, got %s", v.Kind.Article())
				continue
			}
			for _, pm := range v.Members {
				var sub []string
				if path != nil {
					sub = append(append([]string{}, path...), pm.Key)
				}
				if c := cp.node(pm.Value, sub); c != nil {
					s.props = append(s.props, prop{name: pm.Key, s: c})
				}
			}
		case "additionalProperties":
			s.addlPtr = v.Ptr
			s.addl, s.addlNo = cp.boolOrSchema(v)
		case "items":
			switch v.Kind {
			case source.Array:
				for _, e := range v.Elems {
					if c := cp.node(e, nil); c != nil {
						s.tuple = append(s.tuple, c)
					}
				}
			default:
				s.items = cp.node(v, nil)
			}
		case "additionalItems":
			s.addItPtr = v.Ptr
			s.addItems, s.addItNo = cp.boolOrSchema(v)
		case "minItems":
			s.minItems = cp.bound(v)
		case "maxItems":
			s.maxItems = cp.bound(v)
		case "minLength":
			s.minLen = cp.bound(v)
		case "maxLength":
			s.maxLen = cp.bound(v)
		case "minProperties":
			s.minProps = cp.bound(v)
		case "maxProperties":
			s.maxProps = cp.bound(v)
		case "uniqueItems":
			s.uniquePtr = v.Ptr
			s.unique = cp.boolean(v)
		case "minimum":
			s.minimum = cp.limit(v)
		case "maximum":
			s.maximum = cp.limit(v)
		case "exclusiveMinimum":
			s.exclMin = cp.boolean(v)
		case "exclusiveMaximum":
			s.exclMax = cp.boolean(v)
		case "validate":
			e, err := rules.ParseExprNode(v)
			if err != nil {
				if l, ok := err.(source.ErrorList); ok {
					cp.diags = append(cp.diags, l...)
				} else {
					cp.errorf(v, v.Ptr, CodeType, "validate: %v", err)
				}
				continue
			}
			if path == nil {
				cp.warnf(v, v.Ptr, CodeUnsupported, "a validate expression under items or additionalProperties has no fixed %%%%this; rulegate cannot enforce it and refuses every write to the collection (fail closed)")
				if cp.s.blind == nil {
					cp.s.blind = s
				}
				continue
			}
			cp.s.exprs = append(cp.s.exprs, Expression{Path: path, Expr: e})
		default:
			at := n.Ptr.Key(m.Key)
			if unsupported[m.Key] {
				cp.warnKey(m, at, CodeUnsupported, "rulegate does not enforce %q: every write to the collection is refused (fail closed)", m.Key)
				if cp.s.unenforced == "" {
					cp.s.unenforced, cp.s.unenforcedPtr = m.Key, at
				}
				continue
			}
			cp.warnKey(m, at, CodeUnknownKey, "%q is not a keyword of the schema language; it constrains nothing%s", m.Key, suggest(m.Key))
		}
	}
	return s
}

func suggest(key string) string {
	best, ok := source.Closest(key, keywords)
	if !ok {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// types compiles bsonType or type: a name or an array of names.
func (cp *compiler) types(s *node, v *source.Node) {
	table := bsonTypes
	if s.typeKw == "type" {
		table = jsonTypes
	}
	one := func(e *source.Node) {
		if e.Kind != source.String {
			cp.errorf(e, e.Ptr, CodeType, "%s must name a type, got %s", s.typeKw, e.Kind.Article())
			return
		}
		k, ok := table[e.Str]
		if !ok && s.typeKw == "bsonType" && e.Str == "boolean" {
			// The JSON type's name, written in real exports' bsonType;
			// App Services deployed them, and "bool" is the one meaning.
			cp.warnf(e, e.Ptr, CodeSpelling, `bsonType "boolean" is read as "bool" (the BSON type's name, source/schemas/types.txt)`)
			k, ok = kBool, true
		}
		if !ok {
			names := make([]string, 0, len(table))
			for n := range table {
				names = append(names, n)
			}
			sort.Strings(names)
			cp.errorf(e, e.Ptr, CodeType, "unknown %s %q (want one of %s)", s.typeKw, e.Str, strings.Join(names, ", "))
			return
		}
		s.types = append(s.types, k)
		s.names = append(s.names, e.Str)
	}
	switch v.Kind {
	case source.Array:
		if len(v.Elems) == 0 {
			cp.errorf(v, v.Ptr, CodeType, "%s must name at least one type", s.typeKw)
		}
		for _, e := range v.Elems {
			one(e)
		}
	default:
		one(v)
	}
}

func (cp *compiler) boolOrSchema(v *source.Node) (*node, bool) {
	switch v.Kind {
	case source.Bool:
		return nil, !v.Bool
	case source.Object:
		return cp.node(v, nil), false
	}
	cp.errorf(v, v.Ptr, CodeType, "want a boolean or a schema, got %s", v.Kind.Article())
	return nil, false
}

func (cp *compiler) boolean(v *source.Node) bool {
	if v.Kind != source.Bool {
		cp.errorf(v, v.Ptr, CodeType, "want a boolean, got %s", v.Kind.Article())
		return false
	}
	return v.Bool
}

func (cp *compiler) bound(v *source.Node) bound {
	if v.Kind == source.Number {
		if x, err := value.FromExtJSON(v.Raw()); err == nil {
			if n, ok := x.IntOK(); ok && n >= 0 {
				return bound{set: true, n: n, ptr: v.Ptr}
			}
		}
	}
	cp.errorf(v, v.Ptr, CodeType, "want a non-negative integer, got %s", strings.TrimSpace(string(v.Raw())))
	return bound{}
}

func (cp *compiler) limit(v *source.Node) *limit {
	x, err := value.FromExtJSON(v.Raw())
	if err != nil || !x.IsNumber() {
		cp.errorf(v, v.Ptr, CodeType, "want a number, got %s", strings.TrimSpace(string(v.Raw())))
		return nil
	}
	return &limit{v: x, ptr: v.Ptr}
}

// typeName names the BSON type of v for messages, as bsonType spells it
// (value.TypeAlias).
func typeName(v value.Value) string {
	if a, ok := value.TypeAlias(v.Type); ok {
		return a
	}
	return fmt.Sprintf("type 0x%02x", byte(v.Type))
}
