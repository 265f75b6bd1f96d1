package rules

import (
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

// At locates a node in its file: the file, the node's JSON pointer and the
// byte offset of its value. Every node of the AST carries one, so every
// diagnostic can say file:line:col and pointer.
type At struct {
	File   *source.File
	Ptr    source.Pointer
	Offset int
}

// Pos returns the node's line and column.
func (a At) Pos() source.Pos {
	if a.File == nil {
		return source.Pos{}
	}
	return a.File.Position(a.Offset)
}

// FileName returns the name of the node's file, or "" when unknown.
func (a At) FileName() string {
	if a.File == nil {
		return ""
	}
	return a.File.Name
}

// App is an exported App Services app as LoadApp reads it.
type App struct {
	// Files holds every file read, by its slash-separated path relative to
	// the app directory (the name used in diagnostics).
	Files map[string]*source.File
	// DataSources are the data_sources/<service> folders, sorted by name.
	DataSources []*DataSource
	// CustomUserData is auth/custom_user_data.json, nil when absent.
	CustomUserData *CustomUserData
	// Functions are functions/<name>.expr, sorted by name.
	Functions []*Function
	// JSFunctions are the functions the export implements in
	// JavaScript, with their configuration and source, sorted by name.
	JSFunctions []*JSFunction
	// Triggers are the export's authentication triggers, sorted by name.
	Triggers []*Trigger
	// Values are values/<name>.json, sorted by name (%%values).
	Values []*Value
	// Environments are environments/<tag>.json, sorted by tag
	// (%%environment.values).
	Environments []*Environment
	// Environment is the environment the app configuration names (the
	// "environment" key of realm_config.json, else root_config.json), ""
	// (No Environment) when it names none: the
	// tag to pass to Inputs unless the caller chooses another.
	Environment string
	// ID is the app id clients send: "app_id" of realm_config.json,
	// else root_config.json (current layout), or of config.json or
	// stitch.json (old layout); "" when the export has none (many do
	// not: an app id is given by App Services when the app is created).
	ID string
	// Name is the "name" key of the same files, "" when absent.
	Name string
	// Providers are the authentication providers, sorted by name:
	// auth/providers.json, or the old layout's auth_providers/*.json.
	Providers []*Provider
	// DataAPI is the Data API configuration
	// (https_endpoints/data_api_config.json), nil when absent.
	DataAPI *DataAPIConfig
	// LoadErrors are the problems LoadApp found (the files they concern
	// are missing from the App). Validate reports them too, so a caller
	// that only validates still sees every problem.
	LoadErrors source.ErrorList

	// idFile is the file that gave ID.
	idFile string
	// loadWarnings are the warnings of LoadApp, which Validate reports.
	loadWarnings source.ErrorList
	// triggerRefs are the functions every trigger names, and
	// notRunTriggers the triggers of the types rulegate does not run.
	triggerRefs    []triggerRef
	notRunTriggers []triggerRef
}

// DataSource is one data_sources/<service> folder.
type DataSource struct {
	// Name is the service name (the folder name).
	Name string
	// DefaultRule is default_rule.json, nil when absent: the roles and
	// filters of collections that have no rules.json of their own.
	DefaultRule *DefaultRule
	// Collections are the <db>/<coll>/rules.json files, sorted by namespace.
	Collections []*Collection
	// Schemas are the <db>/<coll>/schema.json files, sorted by namespace.
	Schemas []*Schema
}

// Schema is data_sources/<service>/<db>/<coll>/schema.json: the BSON
// schema that writes to the collection must match
// (source/schemas/enforce-a-schema.txt). It is kept as parsed JSON;
// package schema compiles it.
type Schema struct {
	// Database and Collection are those of the rules.json in the same
	// folder, else the folder names.
	Database, Collection string
	// Dir is the folder of the file relative to the app.
	Dir string
	// Node is the file's JSON value.
	Node *source.Node
}

// Namespace returns "<database>.<collection>".
func (s *Schema) Namespace() string { return s.Database + "." + s.Collection }

// Collection is data_sources/<service>/<db>/<coll>/rules.json.
type Collection struct {
	At
	// Database and Collection are the "database" and "collection" keys
	// (falling back to the folder names when absent).
	Database, Collection string
	// Dir is the folder of the file relative to the app,
	// "data_sources/<service>/<db>/<coll>", when LoadApp read it from the
	// current layout; "" for the realm-cli v1 / Stitch layout, whose file
	// is services/<service>/rules/<db>.<coll>.json.
	Dir     string
	Roles   []*Role
	Filters []*Filter
	// InlineSchema is the "schema" of a realm-cli v1 / Stitch rule file
	// (a document schema, source/includes/appschema-mongodb.rst), kept as
	// written, in the collection's own file (At.File); nil when absent
	// and for the current layout, whose schema is schema.json. Package
	// rules does not interpret it.
	InlineSchema *source.Node

	// pathDB and pathColl are the namespace the file's path gives (the
	// folder names, or the <db>.<coll> of an old rule file's name).
	pathDB, pathColl string
}

// Namespace returns "<database>.<collection>".
func (c *Collection) Namespace() string { return c.Database + "." + c.Collection }

// DefaultRule is data_sources/<service>/default_rule.json.
type DefaultRule struct {
	At
	Roles   []*Role
	Filters []*Filter
}

// Role is one entry of "roles": who it applies to and what it may do.
type Role struct {
	At
	Name string
	// ApplyWhen decides whether the role applies; nil when absent, which
	// App Services treats as {} (always applies).
	ApplyWhen Expr
	// DocumentFilters is nil when absent.
	DocumentFilters *DocumentFilters
	// Document-level permissions. Read and Write default to false; Insert,
	// Delete and Search default to true (Perm.Set tells absent from given).
	Read, Write, Insert, Delete, Search Perm
	// Fields are the field-level rules in file order.
	Fields []*FieldRule
	// AdditionalFields applies to fields not named in Fields; nil when
	// absent.
	AdditionalFields *FieldPerms
}

// DocumentFilters is a role's "document_filters": the documents the role
// may read and write. Either expression may be nil (absent).
type DocumentFilters struct {
	At
	Read, Write Expr
	// Key is the key as written: "document_filters", or "document_filter"
	// as the Tiered Privileges template of the Device Sync permissions
	// guide writes it (sync/app-builder/device-sync-permissions-guide.txt),
	// read as "document_filters" with a rules/spelling warning: ignoring it
	// would give the role every document.
	Key string
}

// Perm is a permission: absent, a boolean, or a rule expression.
type Perm struct {
	At
	// Set is false when the key is absent (the documented default applies).
	Set bool
	// Expr is the permission; a JSON boolean is a *Bool.
	Expr Expr
}

// FieldRule is one entry of "fields": permissions on a field, and on its
// embedded fields when it holds a document.
type FieldRule struct {
	At
	Name        string
	Read, Write Perm
	// Fields are the rules of embedded fields, in file order.
	Fields []*FieldRule
	// AdditionalFields applies to embedded fields not named in Fields.
	AdditionalFields *FieldPerms
}

// FieldPerms is "additional_fields": read and write of unnamed fields.
type FieldPerms struct {
	At
	Read, Write Perm
}

// Filter is one entry of "filters": when ApplyWhen holds, Query is added to
// the query and Projection to the projection.
type Filter struct {
	At
	Name      string
	ApplyWhen Expr
	// Query is a MongoDB query whose values may hold expansions; nil when
	// absent.
	Query Expr
	// Projection is the filter's projection, in file order.
	Projection []Projection
	// ProjectionKey is the key the projection was written under:
	// "projection" (the reference table, query-filter-params.rst) or
	// "project" (the spelling of the AnonymizeVotes example in
	// source/rules/filters.txt), which is accepted and reported by Validate
	// as a rules/spelling warning. Ignoring it would leak the fields the
	// projection hides.
	ProjectionKey string
}

// Projection is one field of a filter's projection.
type Projection struct {
	At
	Field   string
	Include bool
}

// Function is functions/<name>.expr: a user function written in the
// github.com/expr-lang/expr language, called by %function.
type Function struct {
	At
	Name   string
	Source string
}

// Expr is a rule expression. Its concrete types are *Bool, *And, *Or, *Nor
// and *Match; the unexported method closes the set so type switches are
// exhaustive.
type Expr interface {
	Loc() At
	expr()
}

// Bool is a literal true or false (a JSON boolean where an expression is
// expected).
type Bool struct {
	At
	Value bool
}

// And holds when every argument holds: an object with several fields, or
// %and / $and. An empty And ({}) holds.
type And struct {
	At
	Args []Expr
	// Op is "" for an object's implicit AND, else "%and" or "$and" as
	// written.
	Op string
}

// Or holds when some argument holds: %or or $or.
type Or struct {
	At
	Args []Expr
	Op   string // "%or" or "$or" as written
}

// Nor holds when no argument holds: $nor (filter queries).
type Nor struct {
	At
	Args []Expr
}

// Match is one field of an expression object: a left side compared with a
// condition, {"owner_id": "%%user.id"} or {"%%user.id": {"$in": "%%root.members"}}.
type Match struct {
	At
	// Left is the field's key: a plain field name is written into the
	// Ref as %%root.<name> with Implicit set; an expansion key is parsed.
	Left Left
	// Cond is what Left is tested against.
	Cond Cond
}

// Left is the key side of a Match.
type Left struct {
	At
	Ref expansion.Ref
	// Implicit is true when the key was a plain field name (meaning
	// %%root.<name>).
	Implicit bool
	// Key is the key as written.
	Key string
}

// Cond is the value side of a Match: *Equals, *Ops, *CondLogic or
// *ElemMatch.
type Cond interface {
	Loc() At
	cond()
}

// Equals tests Left for equality with an operand ({"a": <operand>}).
type Equals struct {
	At
	Operand Operand
}

// Ops is an operator object, {"$gt": 1, "$lt": 5}: every operator must
// hold.
type Ops struct {
	At
	Ops []OpArg
}

// OpArg is one operator of an operator object.
type OpArg struct {
	At
	// Op is the operator in its canonical $ spelling ("$in" for "%in").
	Op Op
	// Spelling is the operator as written ("$in", "%in", "%exists", ...);
	// "" means the canonical spelling. Format writes it back.
	Spelling string
	// Arg is its operand.
	Arg Operand
}

// CondLogic combines conditions on the same left side with a logical
// operator, as in the expressions reference's "Embedded Expressions"
// example {"%%args.someNumber": {"%and": [{"$gt": 0}, {"$lte": 42}]}}
// (mongodb/docs-app-services source/rules/expressions.txt).
type CondLogic struct {
	At
	// Op is "%and", "$and", "%or", "$or" or "$nor" as written, or "$not"
	// with its one condition, an operator object (the MongoDB manual,
	// $not: {"f": {"$not": {"$gt": 5}}} is {"$nor": [{"f": {"$gt": 5}}]}).
	Op   string
	Args []Cond
}

// ElemMatch is {"$elemMatch": ...}, the only key of its object (the
// MongoDB manual, $elemMatch): some element of the array at the Match's
// left side, a document field, satisfies all of it. Exactly one of Cond
// and Query is set, by the first key of the object: an operator other than
// a logical one gives Cond, tested against each element as the value
// ({"$gte": 1, "$lt": 5}); anything else gives Query, an expression over
// the fields of each document element, whose keys are plain field names
// of the element and whose operands are request values ({"owner":
// "%%user.id", "qty": {"$gt": 0}}).
type ElemMatch struct {
	At
	Cond  Cond
	Query Expr
}

// Op is a comparison operator of a condition.
type Op string

// The comparison operators, in their canonical $ spelling. The parser
// accepts the % spelling the documentation also uses ("%exists") and
// records the canonical one.
const (
	OpEq     Op = "$eq"
	OpNe     Op = "$ne"
	OpGt     Op = "$gt"
	OpGte    Op = "$gte"
	OpLt     Op = "$lt"
	OpLte    Op = "$lte"
	OpIn     Op = "$in"
	OpNin    Op = "$nin"
	OpExists Op = "$exists"
	// The array operators, in the $ spelling only (the MongoDB manual's
	// query operators; source/rules/expressions.txt lists none of them).
	OpAll  Op = "$all"
	OpSize Op = "$size"
	// $type, in the $ spelling only: a BSON type alias or number, or an
	// array of them (the MongoDB manual, $type).
	OpType Op = "$type"
	// $mod, in the $ spelling only: [divisor, remainder] (the MongoDB
	// manual, $mod).
	OpMod Op = "$mod"
	// $regex and $options, in the $ spelling only: a pattern and its
	// options, both literal strings, the pattern in the syntax PCRE and
	// Go's RE2 read alike (the MongoDB manual, $regex; value.CompileRegex).
	// $options is an operator of the same object as $regex.
	OpRegex   Op = "$regex"
	OpOptions Op = "$options"
)

// Operand is a value position: *Literal, *ExpansionRef, *ArrayOperand,
// *DocOperand or *Call.
type Operand interface {
	Loc() At
	operand()
}

// Literal is a constant value (JSON or extended JSON, {"$oid": ...}).
type Literal struct {
	At
	Value value.Value
}

// ExpansionRef is an expansion in a value position, "%%user.id".
type ExpansionRef struct {
	At
	Ref expansion.Ref
	// Written is the string as the file spells it when that differs from
	// Ref.String(): "%%user.id%%", the trailing-%% form of the docs'
	// custom user data example (source/users/custom-metadata.txt), which
	// is read as %%user.id and reported by Validate as a rules/spelling
	// warning. Empty otherwise.
	Written string
}

// ArrayOperand is an array that holds at least one expansion or call, so
// its value is built per request: ["%%user.id", "admin"].
type ArrayOperand struct {
	At
	Elems []Operand
}

// DocOperand is an embedded document that holds at least one expansion or
// call: {"a": "%%user.id"}.
type DocOperand struct {
	At
	Fields []DocField
}

// DocField is one field of a DocOperand.
type DocField struct {
	Key   string
	Value Operand
}

// Call is an operator that computes a value: %stringToOid, %oidToString or
// %function.
type Call struct {
	At
	// Op is "%stringToOid", "%oidToString", "%stringToUuid",
	// "%uuidToString" or "%function".
	Op string
	// Arg is the operand of %stringToOid and %oidToString.
	Arg Operand
	// Name and Args are the function name and arguments of %function.
	Name string
	Args []Operand
}

// The marker methods close the Expr, Cond and Operand sets; every node's
// Loc is At.Loc, promoted from the embedded At.

func (*Bool) expr()  {}
func (*And) expr()   {}
func (*Or) expr()    {}
func (*Nor) expr()   {}
func (*Match) expr() {}

func (*Equals) cond()    {}
func (*Ops) cond()       {}
func (*CondLogic) cond() {}
func (*ElemMatch) cond() {}

func (*Literal) operand()      {}
func (*ExpansionRef) operand() {}
func (*ArrayOperand) operand() {}
func (*DocOperand) operand()   {}
func (*Call) operand()         {}
