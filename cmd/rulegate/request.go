package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/token"
)

// stdinName names standard input in diagnostics.
const stdinName = "<stdin>"

// request is a request read from stdin by eval and filter.
type request struct {
	// Caller is who asks (user or token, request, values, environment)
	// and where (namespace).
	Caller evaluator.Caller
	// Doc is the action and its documents (document, prev_document,
	// update).
	Doc evaluator.Doc
	// Query is the client's query (filter only), nil when absent.
	Query bson.Raw
	// HasQuery tells whether "query" was given.
	HasQuery bool
}

// readRequest reads one JSON request from r. allowed lists the keys the
// command accepts besides the common ones; actions the actions it accepts.
func readRequest(r io.Reader, secret string, allowed []string, actions []evaluator.Action) (*request, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the request: %v", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		//lint:ignore ST1005 a CLI message shown as is, ending in the example's "..."
		return nil, errors.New("no request on standard input; pipe one JSON object in, e.g. echo '{\"user\": {\"id\": \"u1\"}, \"namespace\": \"db.coll\", \"action\": \"read\", \"document\": {}}' | rulegate ...")
	}
	f := source.NewFile(stdinName, data)
	root, err := source.ParseJSON(f)
	if err != nil {
		return nil, err
	}
	if root.Kind != source.Object {
		return nil, root.Errorf("request/type", "the request must be a JSON object, got %s", root.Kind)
	}
	keys := append([]string{"user", "token", "namespace", "action", "request", "values", "environment"}, allowed...)
	var errs source.ErrorList
	for _, m := range root.Members {
		known := false
		for _, k := range keys {
			known = known || k == m.Key
		}
		if !known {
			errs.Add(m.Value.Errorf("request/unknown-key", "unknown key %q; the request keys are %s", m.Key, strings.Join(keys, ", ")))
		}
	}
	req := &request{}
	// The caller.
	user, tok := root.Get("user"), root.Get("token")
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
		if secret == "" {
			errs.Add(tok.Errorf("request/token", `a "token" needs --secret (the HS256 signing secret) to be verified`))
			break
		}
		u, err := verifyToken(tok.Str, secret)
		if err != nil {
			errs.Add(tok.Errorf("request/token", "%v", err))
			break
		}
		req.Caller.Inputs.User = u
	default:
		errs.Add(root.Errorf("request/user", `the request needs "user" (a user object) or "token" (an access token, with --secret)`))
	}
	// Where and what.
	if ns := root.Get("namespace"); ns == nil {
		errs.Add(root.Errorf("request/namespace", `the request needs "namespace": "<database>.<collection>"`))
	} else if ns.Kind != source.String || !strings.Contains(ns.Str, ".") {
		errs.Add(ns.Errorf("request/namespace", `"namespace" must be "<database>.<collection>"`))
	} else {
		req.Caller.Namespace = ns.Str
	}
	var names []string
	for _, a := range actions {
		names = append(names, string(a))
	}
	if a := root.Get("action"); a == nil {
		errs.Add(root.Errorf("request/action", `the request needs "action": one of %s`, strings.Join(names, ", ")))
	} else {
		ok := false
		for _, x := range actions {
			ok = ok || (a.Kind == source.String && string(x) == a.Str)
		}
		if !ok {
			errs.Add(a.Errorf("request/action", `"action" must be one of %s`, strings.Join(names, ", ")))
		} else {
			req.Doc.Action = evaluator.Action(a.Str)
		}
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
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return req, nil
}

// verifyToken verifies an HS256 access token with secret. The key id is
// taken from the token's header, so any kid signed with the secret is
// accepted.
func verifyToken(tok, secret string) (expansion.User, error) {
	kid := "rulegate"
	if h, _, ok := strings.Cut(tok, "."); ok {
		if b, err := base64.RawURLEncoding.DecodeString(h); err == nil {
			var hdr struct {
				Kid string `json:"kid"`
			}
			if json.Unmarshal(b, &hdr) == nil && hdr.Kid != "" {
				kid = hdr.Kid
			}
		}
	}
	key, err := token.HMACKey(kid, []byte(secret))
	if err != nil {
		return expansion.User{}, err
	}
	ks, err := token.NewKeySet(key)
	if err != nil {
		return expansion.User{}, err
	}
	v, err := token.NewVerifier(ks)
	if err != nil {
		return expansion.User{}, err
	}
	claims, err := v.Verify(tok)
	if err != nil {
		return expansion.User{}, err
	}
	return claims.User(), nil
}

// environmentFlag is --environment TAG: the environment whose values
// (environments/<tag>.json) %%environment holds. Unset, the app's own
// (realm_config.json's "environment"; rules.App.Environment) applies;
// "no-environment" or "" is No Environment.
type environmentFlag struct {
	tag string
	set bool
}

func (f *environmentFlag) String() string { return f.tag }

func (f *environmentFlag) Set(s string) error {
	f.tag, f.set = s, true
	if s == rules.NoEnvironmentFile {
		f.tag = ""
	}
	return nil
}

// of returns the tag to run app in.
func (f *environmentFlag) of(app *rules.App) string {
	if f.set {
		return f.tag
	}
	return app.Environment
}

func addEnvironmentFlag(fs *flag.FlagSet) *environmentFlag {
	f := &environmentFlag{}
	fs.Var(f, "environment", "run in environment `TAG` (%%environment; default: realm_config.json's)")
	return f
}

// withAppValues sets the request's %%values and %%environment inputs: the
// app's values and environment values, under the request's own "values"
// and "environment" (rules.App.Inputs).
func (c *cli) withAppValues(cmd *command, app *rules.App, env *environmentFlag, req *request) bool {
	in, err := app.Inputs(req.Caller.Inputs, env.of(app))
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
		return false
	}
	req.Caller.Inputs = in
	return true
}
