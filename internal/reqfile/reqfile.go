package reqfile

import (
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
)

// Request is a parsed request file.
type Request struct {
	// Caller is who asks (user or token, request, values, environment,
	// partition, args) and where (namespace).
	Caller evaluator.Caller
	// Doc is the action and its documents (document, prev_document,
	// update).
	Doc evaluator.Doc
	// Query is the client's query, nil when absent. For a write it is
	// also Doc.Query.
	Query bson.Raw
	// HasQuery tells whether "query" was given.
	HasQuery bool
}

// Options say what a request file may hold besides user, namespace,
// action, request, values and environment.
type Options struct {
	// Keys lists the other keys accepted: document, prev_document,
	// update, query, partition, args.
	Keys []string
	// Actions lists the actions accepted.
	Actions []evaluator.Action
	// Namespace is the namespace of a request without one; when empty,
	// "namespace" is required.
	Namespace string
	// Token verifies the access token of a "token" key; when nil, "token"
	// is not a key.
	Token func(jwt string) (expansion.User, error)
}

// Parse parses the request file data; name names it in diagnostics. Its
// error is a source.ErrorList of every problem found, sorted.
func Parse(name string, data []byte, opts Options) (*Request, error) {
	root, err := source.ParseJSON(source.NewFile(name, data))
	if err != nil {
		return nil, err
	}
	if root.Kind != source.Object {
		return nil, root.Errorf("request/type", "the request must be a JSON object, got %s", root.Kind)
	}
	keys := []string{"user"}
	if opts.Token != nil {
		keys = append(keys, "token")
	}
	keys = append(keys, "namespace", "action", "request", "values", "environment")
	keys = append(keys, opts.Keys...)
	var errs source.ErrorList
	for _, m := range root.Members {
		if !slices.Contains(keys, m.Key) {
			errs.Add(m.Value.Errorf("request/unknown-key", "unknown key %q; the request keys are %s", m.Key, strings.Join(keys, ", ")))
		}
	}
	req := &Request{}
	// The caller.
	user, tok := root.Get("user"), root.Get("token")
	if opts.Token == nil {
		tok = nil
	}
	switch {
	case user != nil && tok != nil:
		errs.Add(tok.Errorf("request/user", `give "user" or "token", not both`))
	case user != nil:
		if user.Kind != source.Object {
			errs.Add(user.Errorf("request/type", `"user" must be a user object {"id": ..., "custom_data": {...}}, got %s`, user.Kind))
			break
		}
		u, err := expansion.NewUserObject(user.Raw())
		if err != nil {
			errs.Add(user.Errorf("request/user", "%v", err))
			break
		}
		req.Caller.Inputs.User = u
	case tok != nil:
		if tok.Kind != source.String {
			errs.Add(tok.Errorf("request/type", `"token" must be a string (a JWT), got %s`, tok.Kind))
			break
		}
		u, err := opts.Token(tok.Str)
		if err != nil {
			errs.Add(tok.Errorf("request/token", "%v", err))
			break
		}
		req.Caller.Inputs.User = u
	case opts.Token != nil:
		errs.Add(root.Errorf("request/user", `the request needs "user" (a user object) or "token" (an access token, with --secret)`))
	default:
		errs.Add(root.Errorf("request/user", `the request needs "user" (a user object)`))
	}
	// Where and what.
	switch ns := root.Get("namespace"); {
	case ns == nil && opts.Namespace != "":
		req.Caller.Namespace = opts.Namespace
	case ns == nil:
		errs.Add(root.Errorf("request/namespace", `the request needs "namespace": "<database>.<collection>"`))
	case ns.Kind != source.String || !strings.Contains(ns.Str, "."):
		errs.Add(ns.Errorf("request/namespace", `"namespace" must be "<database>.<collection>"`))
	default:
		req.Caller.Namespace = ns.Str
	}
	var names []string
	for _, a := range opts.Actions {
		names = append(names, string(a))
	}
	if a := root.Get("action"); a == nil {
		errs.Add(root.Errorf("request/action", `the request needs "action": one of %s`, strings.Join(names, ", ")))
	} else if a.Kind != source.String || !slices.Contains(opts.Actions, evaluator.Action(a.Str)) {
		errs.Add(a.Errorf("request/action", `"action" must be one of %s`, strings.Join(names, ", ")))
	} else {
		req.Doc.Action = evaluator.Action(a.Str)
	}
	doc := func(key string) bson.Raw {
		n := root.Get(key)
		if n == nil {
			return nil
		}
		if n.Kind != source.Object {
			errs.Add(n.Errorf("request/type", "%q must be a document (a JSON object in extended JSON), got %s", key, n.Kind))
			return nil
		}
		var raw bson.Raw
		if err := bson.UnmarshalExtJSON(n.Raw(), false, &raw); err != nil {
			errs.Add(n.Errorf("request/extended-json", "%q is not valid MongoDB extended JSON: %v", key, err))
			return nil
		}
		return raw
	}
	req.Doc.Document = doc("document")
	req.Doc.PrevDocument = doc("prev_document")
	req.Doc.Update = doc("update")
	if q := root.Get("query"); q != nil {
		req.HasQuery = true
		req.Query = doc("query")
		if req.Doc.Action == evaluator.ActionWrite {
			req.Doc.Query = req.Query
		}
	}
	if n := root.Get("array_filters"); n != nil {
		if n.Kind != source.Array {
			errs.Add(n.Errorf("request/type", `"array_filters" must be an array of documents, got %s`, n.Kind))
		} else {
			req.Doc.ArrayFilters = []bson.Raw{}
			for i, el := range n.Elems {
				if el.Kind != source.Object {
					errs.Add(el.Errorf("request/type", `"array_filters"[%d] must be a document, got %s`, i, el.Kind))
					continue
				}
				var raw bson.Raw
				if err := bson.UnmarshalExtJSON(el.Raw(), false, &raw); err != nil {
					errs.Add(el.Errorf("request/extended-json", `"array_filters"[%d] is not valid MongoDB extended JSON: %v`, i, err))
					continue
				}
				req.Doc.ArrayFilters = append(req.Doc.ArrayFilters, raw)
			}
		}
	}
	obj := func(key string) []byte {
		n := root.Get(key)
		if n == nil {
			return nil
		}
		if n.Kind != source.Object {
			errs.Add(n.Errorf("request/type", "%q must be a JSON object, got %s", key, n.Kind))
			return nil
		}
		return n.Raw()
	}
	req.Caller.Inputs.Request = obj("request")
	req.Caller.Inputs.Values = obj("values")
	req.Caller.Inputs.Environment = obj("environment")
	// Read only where accepted: elsewhere they are unknown keys alone.
	if slices.Contains(opts.Keys, "args") {
		req.Caller.Inputs.Args = obj("args")
	}
	if n := root.Get("partition"); n != nil && slices.Contains(opts.Keys, "partition") {
		req.Caller.Inputs.Partition = n.Raw()
	}
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return req, nil
}
