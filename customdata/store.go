package customdata

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
)

// Size limits, in bytes of canonical extended JSON (the form the document
// takes in the access token, TokenJSON, before base64url adds a third).
const (
	// DefaultWarnSize: App Services advises keeping custom user data
	// under 16 KB, because access tokens travel in HTTP headers.
	DefaultWarnSize = 16 << 10
	// DefaultMaxSize keeps a token well under token.DefaultMaxSize
	// (64 KiB) once base64url-encoded.
	DefaultMaxSize = 32 << 10
)

// Errors.
var (
	// ErrConfig: the custom user data configuration is unusable.
	ErrConfig = errors.New("customdata: invalid configuration")
	// ErrTooLarge: a user's document is larger than the Store's max size.
	ErrTooLarge = errors.New("customdata: custom user data too large")
	// ErrDollarKey: a user's document has a key starting with "$", which
	// extended JSON cannot carry unambiguously (see TokenJSON).
	ErrDollarKey = errors.New(`customdata: custom user data has a key starting with "$"`)
	// ErrInvalidUTF8: a user's document has a key or a string that is not
	// valid UTF-8, which extended JSON would carry as U+FFFD, a different
	// value (see TokenJSON).
	ErrInvalidUTF8 = errors.New("customdata: custom user data has a key or string that is not valid UTF-8")
)

// TokenJSON returns a custom data document in the form the access token
// carries it (the "user_data" claim): canonical extended JSON, which keeps
// every BSON type (an int64 stays an int64, a double 1.0 a double) and is
// what App Services clients expect in user_data. %%user.custom_data reads
// it back to the same BSON.
//
// A document with a key starting with "$", at any depth, is refused with
// ErrDollarKey: extended JSON cannot tell {"$maxKey": 1} or {"$oid": ...}
// written by a user (MongoDB 5.0 and later can store such keys) from the
// typed value it denotes, so carrying it would turn user-written data into
// a MaxKey that compares above every value, an ObjectId, a date. Dropping
// the offending fields instead would make {"$exists": false} rules on them
// hold, so the whole document is refused (fail closed). A document with a
// key or string that is not valid UTF-8 (MongoDB stores the bytes as
// given) is refused with ErrInvalidUTF8: extended JSON would carry each
// invalid byte as U+FFFD, a different value than the one stored.
func TokenJSON(doc bson.Raw) ([]byte, error) {
	if p, ok := dollarKey(doc, ""); ok {
		return nil, fmt.Errorf("%w: %s", ErrDollarKey, p)
	}
	if p, ok := invalidUTF8(doc, ""); ok {
		return nil, fmt.Errorf("%w: %s", ErrInvalidUTF8, p)
	}
	return bson.MarshalExtJSON(doc, true, false)
}

// dollarKey returns the JSON pointer of a key starting with "$" in the
// document or array doc, at any depth.
func dollarKey(doc bson.Raw, at string) (string, bool) {
	return firstBad(doc, source.Pointer(at), func(k string, _ bson.RawValue) bool { return strings.HasPrefix(k, "$") })
}

// invalidUTF8 returns the JSON pointer of a key or a string (string,
// symbol, JavaScript code and its scope, regex, DBPointer namespace) that
// is not valid UTF-8 in the document or array doc, at any depth: extended
// JSON writes each invalid byte as U+FFFD, so the token would carry a
// different value than the one stored.
func invalidUTF8(doc bson.Raw, at string) (string, bool) {
	return firstBad(doc, source.Pointer(at), func(k string, v bson.RawValue) bool {
		if !utf8.ValidString(k) {
			return true
		}
		switch v.Type {
		case bson.TypeString:
			return !utf8.ValidString(v.StringValue())
		case bson.TypeSymbol:
			return !utf8.ValidString(v.Symbol())
		case bson.TypeJavaScript:
			return !utf8.ValidString(v.JavaScript())
		case bson.TypeCodeWithScope:
			code, _ := v.CodeWithScope()
			return !utf8.ValidString(code)
		case bson.TypeRegex:
			pat, opt := v.Regex()
			return !utf8.ValidString(pat) || !utf8.ValidString(opt)
		case bson.TypeDBPointer:
			ns, _ := v.DBPointer()
			return !utf8.ValidString(ns)
		}
		return false
	})
}

// firstBad walks the document or array doc at any depth (embedded
// documents, arrays, a code-with-scope's scope) and returns the pointer of
// the first element bad reports; a malformed doc is reported at at.
func firstBad(doc bson.Raw, at source.Pointer, bad func(key string, v bson.RawValue) bool) (string, bool) {
	elems, err := doc.Elements()
	if err != nil {
		return string(at), true // malformed: refused as well
	}
	for _, e := range elems {
		k, v := e.Key(), e.Value()
		p := at.Key(k)
		if bad(k, v) {
			return string(p), true
		}
		var sub bson.Raw
		switch v.Type {
		case bson.TypeEmbeddedDocument:
			sub = v.Document()
		case bson.TypeArray:
			sub = bson.Raw(v.Array())
		case bson.TypeCodeWithScope:
			_, scope := v.CodeWithScope()
			sub = bson.Raw(scope)
		default:
			continue
		}
		if q, found := firstBad(sub, p, bad); found {
			return q, true
		}
	}
	return "", false
}

// Code identifies a kind of Warning.
type Code string

// Warning codes.
const (
	// WarnDuplicate: several documents carry the user's id; the first
	// inserted is used.
	WarnDuplicate Code = "customdata/duplicate"
	// WarnLarge: the document is larger than the warn size.
	WarnLarge Code = "customdata/large"
	// WarnNoUniqueIndex: no unique index on the user id field, so
	// duplicates can be inserted.
	WarnNoUniqueIndex Code = "customdata/no-unique-index"
)

// Warning is a non-fatal finding about custom user data.
type Warning struct {
	Code      Code
	Namespace string // "<database>.<collection>"
	UserID    string // "" for collection-wide findings
	Msg       string
}

// String renders w as `db.coll: user "u1": msg (code)`.
func (w Warning) String() string {
	var b strings.Builder
	b.WriteString(w.Namespace)
	b.WriteString(": ")
	if w.UserID != "" {
		fmt.Fprintf(&b, "user %q: ", w.UserID)
	}
	b.WriteString(w.Msg)
	fmt.Fprintf(&b, " (%s)", w.Code)
	return b.String()
}

// Data is a user's custom data document.
type Data struct {
	// Doc is the document as stored.
	Doc bson.Raw
	// JSON is Doc as canonical extended JSON (TokenJSON), the form
	// carried in the access token's "user_data" claim.
	JSON []byte
	// Warnings found while loading (duplicates, size).
	Warnings []Warning
}

// Store reads custom user data documents. It is safe for concurrent use.
type Store struct {
	cfg       rules.CustomUserData
	coll      *mongo.Collection // nil when disabled
	warnSize  int
	maxSize   int
	onWarning func(Warning)
	dbs       map[string]string // WithDatabaseMapping
	// noNatural is set once the server refuses a $natural sort (FerretDB
	// does on ordinary collections); later lookups use the server's
	// default order, which is insertion order there.
	noNatural atomic.Bool
}

// Option configures a Store.
type Option func(*Store)

// WithWarnings calls f with every Warning Load and Check find, besides
// returning them. f must be safe for concurrent use.
func WithWarnings(f func(Warning)) Option { return func(s *Store) { s.onWarning = f } }

// WithWarnSize sets the JSON size above which Load warns (DefaultWarnSize).
func WithWarnSize(n int) Option { return func(s *Store) { s.warnSize = n } }

// WithMaxSize sets the JSON size above which Load fails (DefaultMaxSize).
func WithMaxSize(n int) Option { return func(s *Store) { s.maxSize = n } }

// WithDatabaseMapping maps the configuration's database name to the
// deployment's, as gate.WithDatabaseMapping does for the gate (pass both
// the same map): the Store reads the custom data collection from m[name]
// when the configuration names a mapped database, and Config keeps the
// export's name.
func WithDatabaseMapping(m map[string]string) Option {
	return func(s *Store) { s.dbs = m }
}

// New returns a Store for cfg, reading cfg's collection through client.
// When cfg is disabled, client may be nil and the Store finds nothing.
// cfg is copied.
func New(cfg *rules.CustomUserData, client *mongo.Client, opts ...Option) (*Store, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: nil configuration", ErrConfig)
	}
	s := &Store{cfg: *cfg, warnSize: DefaultWarnSize, maxSize: DefaultMaxSize}
	for _, o := range opts {
		o(s)
	}
	if s.warnSize <= 0 || s.maxSize <= 0 {
		return nil, fmt.Errorf("%w: sizes must be positive (warn %d, max %d)", ErrConfig, s.warnSize, s.maxSize)
	}
	if !cfg.Enabled {
		return s, nil
	}
	if err := validate(cfg); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("%w: %s: nil mongo client", ErrConfig, where(cfg))
	}
	db := cfg.DatabaseName
	if to, ok := s.dbs[db]; ok && to != "" {
		db = to
	}
	s.coll = client.Database(db).Collection(cfg.CollectionName)
	return s, nil
}

func where(cfg *rules.CustomUserData) string {
	f := cfg.File
	if f == "" {
		f = "custom_user_data.json"
	}
	if cfg.Ptr != "" {
		return f + ": " + cfg.Ptr.String()
	}
	return f
}

func validate(cfg *rules.CustomUserData) error {
	var problems []string
	if cfg.DatabaseName == "" {
		problems = append(problems, "database_name is empty")
	} else if strings.ContainsAny(cfg.DatabaseName, "/\\. \"$") {
		problems = append(problems, fmt.Sprintf("database_name %q holds a character MongoDB forbids", cfg.DatabaseName))
	}
	if cfg.CollectionName == "" {
		problems = append(problems, "collection_name is empty")
	} else if strings.HasPrefix(cfg.CollectionName, "system.") || strings.Contains(cfg.CollectionName, "$") {
		problems = append(problems, fmt.Sprintf("collection_name %q is not a usable collection", cfg.CollectionName))
	}
	if cfg.UserIDField == "" {
		problems = append(problems, "user_id_field is empty")
	} else if strings.HasPrefix(cfg.UserIDField, "$") {
		problems = append(problems, fmt.Sprintf("user_id_field %q must not start with $", cfg.UserIDField))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s: %s", ErrConfig, where(cfg), strings.Join(problems, "; "))
	}
	return nil
}

// Enabled reports whether custom user data is enabled.
func (s *Store) Enabled() bool { return s.coll != nil }

// Config returns the Store's configuration.
func (s *Store) Config() rules.CustomUserData { return s.cfg }

// Collection returns the custom data collection, or nil when disabled.
func (s *Store) Collection() *mongo.Collection { return s.coll }

// Filter returns the query matching userID's documents that hold the id as
// a string, the form hooks should write.
func (s *Store) Filter(userID string) bson.D {
	return bson.D{{Key: s.cfg.UserIDField, Value: userID}}
}

func (s *Store) warn(ws *[]Warning, w Warning) {
	w.Namespace = s.cfg.Namespace()
	*ws = append(*ws, w)
	if s.onWarning != nil {
		s.onWarning(w)
	}
}

// Load returns the custom data document of userID: the document whose user
// id field equals userID as a string or, when there is none and userID is
// an ObjectID's hex form, as that ObjectID (App Services accepts both and
// prefers the string); an array holding the id is not a match. found is false, with no error, when
// there is none or custom user data is disabled. When several documents
// match, the first inserted wins and a WarnDuplicate warning says so. A
// document larger than the warn size gets a WarnLarge warning; one larger
// than the max size is an ErrTooLarge error.
func (s *Store) Load(ctx context.Context, userID string) (d Data, found bool, err error) {
	if s.coll == nil {
		return Data{}, false, nil
	}
	if userID == "" {
		return Data{}, false, fmt.Errorf("customdata: %s: empty user id", s.cfg.Namespace())
	}
	// The user id as a string first; App Services prefers it to an
	// ObjectID holding the same id.
	var key any = userID
	docs, err := s.firstTwo(ctx, key)
	if err == nil && len(docs) == 0 {
		if oid, oidErr := bson.ObjectIDFromHex(userID); oidErr == nil {
			key = oid
			docs, err = s.firstTwo(ctx, key)
		}
	}
	if err != nil {
		return Data{}, false, fmt.Errorf("customdata: %s: load user %q: %w", s.cfg.Namespace(), userID, err)
	}
	if len(docs) == 0 {
		return Data{}, false, nil
	}
	d.Doc = docs[0]
	if len(docs) > 1 {
		n, err := s.coll.CountDocuments(ctx, s.lookupFilter(key))
		if err != nil {
			return Data{}, false, fmt.Errorf("customdata: %s: count documents of user %q: %w", s.cfg.Namespace(), userID, err)
		}
		s.warn(&d.Warnings, Warning{Code: WarnDuplicate, UserID: userID,
			Msg: fmt.Sprintf("%d documents have %s %q; using the first inserted (_id %s); add a unique index (EnsureIndex)",
				n, s.cfg.UserIDField, userID, d.Doc.Lookup("_id"))})
	}
	d.JSON, err = TokenJSON(d.Doc)
	if err != nil {
		return Data{}, false, fmt.Errorf("customdata: %s: user %q: document as extended JSON: %w", s.cfg.Namespace(), userID, err)
	}
	switch size := len(d.JSON); {
	case size > s.maxSize:
		return Data{}, false, fmt.Errorf("%w: %s: user %q: document is %d bytes as JSON, above the %d-byte limit; it travels in every access token",
			ErrTooLarge, s.cfg.Namespace(), userID, size, s.maxSize)
	case size > s.warnSize:
		s.warn(&d.Warnings, Warning{Code: WarnLarge, UserID: userID,
			Msg: fmt.Sprintf("document is %d bytes as JSON, above %d; access tokens travel in HTTP headers, keep custom data small", size, s.warnSize)})
	}
	return d, true, nil
}

// lookupFilter selects the documents whose user id field is key itself.
// {field: key} alone also matches an array holding key, so a user who may
// write their own document could list another user's id there and become
// that user's custom data; an array is never a user's id.
func (s *Store) lookupFilter(key any) bson.D {
	return bson.D{{Key: s.cfg.UserIDField, Value: bson.D{
		{Key: "$eq", Value: key},
		{Key: "$not", Value: bson.D{{Key: "$type", Value: "array"}}},
	}}}
}

// firstTwo returns up to two matching documents, first inserted first.
func (s *Store) firstTwo(ctx context.Context, key any) ([]bson.Raw, error) {
	if !s.noNatural.Load() {
		docs, err := s.find(ctx, key, true)
		if err == nil || !naturalUnsupported(err) {
			return docs, err
		}
		s.noNatural.Store(true)
	}
	return s.find(ctx, key, false)
}

func (s *Store) find(ctx context.Context, key any, natural bool) ([]bson.Raw, error) {
	opts := options.Find().SetLimit(2)
	if natural {
		opts.SetSort(bson.D{{Key: "$natural", Value: 1}})
	}
	cur, err := s.coll.Find(ctx, s.lookupFilter(key), opts)
	if err != nil {
		return nil, err
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// naturalUnsupported reports whether err is a server refusing a $natural
// sort (FerretDB answers NotImplemented, code 238).
func naturalUnsupported(err error) bool {
	var se mongo.ServerError
	if !errors.As(err, &se) {
		return false
	}
	return se.HasErrorCode(238) || se.HasErrorMessage("$natural")
}

// EnsureIndex creates a unique ascending index on the user id field, so
// that each user has at most one document. It fails if duplicates already
// exist. It does nothing when disabled or when the field is _id.
func (s *Store) EnsureIndex(ctx context.Context) error {
	if s.coll == nil || s.cfg.UserIDField == "_id" {
		return nil
	}
	_, err := s.coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: s.cfg.UserIDField, Value: 1}},
		Options: options.Index().SetUnique(true),
	})
	if err != nil {
		return fmt.Errorf("customdata: %s: create unique index on %q (do several documents share a user id?): %w",
			s.cfg.Namespace(), s.cfg.UserIDField, err)
	}
	return nil
}

// Check lints the collection: a WarnNoUniqueIndex warning when no unique
// index covers exactly the user id field.
func (s *Store) Check(ctx context.Context) ([]Warning, error) {
	if s.coll == nil || s.cfg.UserIDField == "_id" {
		return nil, nil
	}
	unique, err := s.hasUniqueIndex(ctx)
	if err != nil {
		return nil, fmt.Errorf("customdata: %s: list indexes: %w", s.cfg.Namespace(), err)
	}
	var ws []Warning
	if !unique {
		s.warn(&ws, Warning{Code: WarnNoUniqueIndex,
			Msg: fmt.Sprintf("no unique index on %q: several documents may carry one user id, and only the first inserted is used; run EnsureIndex", s.cfg.UserIDField)})
	}
	return ws, nil
}

func (s *Store) hasUniqueIndex(ctx context.Context) (bool, error) {
	cur, err := s.coll.Indexes().List(ctx)
	if err != nil {
		var se mongo.ServerError
		if errors.As(err, &se) && se.HasErrorCode(26) { // NamespaceNotFound
			return false, nil
		}
		return false, err
	}
	var specs []bson.Raw
	if err := cur.All(ctx, &specs); err != nil {
		return false, err
	}
	for _, spec := range specs {
		if u, ok := spec.Lookup("unique").BooleanOK(); !ok || !u {
			continue
		}
		if _, partial := spec.Lookup("partialFilterExpression").DocumentOK(); partial {
			continue
		}
		keys, ok := spec.Lookup("key").DocumentOK()
		if !ok {
			continue
		}
		elems, err := keys.Elements()
		if err == nil && len(elems) == 1 && elems[0].Key() == s.cfg.UserIDField {
			return true, nil
		}
	}
	return false, nil
}
