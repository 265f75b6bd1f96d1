package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/jsfunc"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
	"github.com/rulegate/rulegate/value"
)

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// accessClaims verifies the request's access token. Anything wrong with it
// is 401 InvalidSession, which makes the SDK refresh and retry once it has
// a new access token (§1).
func (s *Server) accessClaims(r *http.Request) (*token.Claims, *apiError) {
	tok, ok := bearer(r)
	if !ok {
		return nil, errorf(http.StatusUnauthorized, codeInvalidSession, "must authenticate first: no access token")
	}
	c, err := s.verifier.Verify(tok)
	if err != nil {
		return nil, invalidSession(err)
	}
	return c, nil
}

// collection is the caller's gated view of c's collection for one
// request, with %%request built from it (rules/expressions.txt, "Request
// Expansions"). Some namespaces are never served, whatever the rules say,
// because a default rule applies to every namespace of its data source:
// the accounts database (password hashes, sessions, API keys), MongoDB's
// own databases (admin, local with the oplog of every write, config) and
// system collections (the MongoDB manual, "Reserved Database Names" and
// "system collections").
func (s *Server) collection(r *http.Request, user expansion.User, service, action string, c *call) (*gate.Collection, *apiError) {
	if msg := servedNamespace(s.cfg.database, c.database, c.collection); msg != "" {
		return nil, errorf(http.StatusForbidden, codePermission, "%s: %s", action, msg)
	}
	in := s.inputs
	in.User = user
	in.Request = requestJSON(r, service, action)
	sess, err := s.gate.ForInputs(in)
	if err != nil {
		return nil, &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal server error", err: err}
	}
	return sess.Database(c.database).Collection(c.collection), nil
}

// errNotServed is wrapped by the error of a function's collection in a
// namespace the server never serves.
var errNotServed = errors.New("server: namespace not served")

// servedNamespace returns why db.coll is never served, whatever the rules
// say, or "" when it may be: the accounts database accountsDB (in any
// case: MongoDB refuses two databases whose names differ only in case)
// and MongoDB's own namespaces (rules.Reserved).
func servedNamespace(accountsDB, db, coll string) string {
	switch {
	case strings.EqualFold(db, accountsDB):
		return fmt.Sprintf("the database %q holds the app's users and sessions and is not served", db)
	case rules.Reserved(db + "." + coll):
		return fmt.Sprintf("%s.%s is MongoDB's own (a reserved database or a system collection) and is not served", db, coll)
	}
	return ""
}

// hiddenHeaders are left out of %%request.requestHeaders: they carry the
// caller's credentials, which no rule needs and no rule may echo.
var hiddenHeaders = map[string]bool{"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Apikey": true, "Password": true, "Jwttokenstring": true}

// requestJSON is %%request: httpMethod, httpReferrer, httpUserAgent,
// rawQueryString, remoteIPAddress, requestHeaders, service, action. A
// header whose name starts with "$" is left out: extended JSON would read
// it as a typed value (expansion/doc.go). It is built on every data call,
// so it is written directly, as encoding/json writes the map of these
// fields: keys in byte order, strings escaped alike (requestjson_test.go).
func requestJSON(r *http.Request, service, action string) []byte {
	ip := r.RemoteAddr
	if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	keys := make([]string, 0, len(r.Header))
	size := 256 + len(ip) + len(r.URL.RawQuery)
	for k, v := range r.Header {
		if hiddenHeaders[k] || strings.HasPrefix(k, "$") {
			continue
		}
		keys = append(keys, k)
		size += len(k) + 8
		for _, x := range v {
			size += len(x) + 3
		}
	}
	slices.Sort(keys)
	b := make([]byte, 0, size)
	b = append(b, `{"action":`...)
	b = appendJSONString(b, action)
	b = append(b, `,"httpMethod":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"httpReferrer":`...)
	b = appendJSONString(b, r.Referer())
	b = append(b, `,"httpUserAgent":`...)
	b = appendJSONString(b, r.UserAgent())
	if q := r.URL.RawQuery; q != "" && !carriesToken(r) {
		b = append(b, `,"rawQueryString":`...)
		b = appendJSONString(b, q)
	}
	b = append(b, `,"remoteIPAddress":`...)
	b = appendJSONString(b, ip)
	b = append(b, `,"requestHeaders":{`...)
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		v := r.Header[k]
		if v == nil {
			b = append(b, "null"...)
			continue
		}
		b = append(b, '[')
		for j, x := range v {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, x)
		}
		b = append(b, ']')
	}
	b = append(b, `},"service":`...)
	b = appendJSONString(b, service)
	return append(b, '}')
}

// carriesToken reports whether r's query string holds the baas_at access
// token parameter (the watch's), however its name is percent-encoded
// (baas%5Fat): url.ParseQuery decodes names as watchClaims reads them.
func carriesToken(r *http.Request) bool {
	_, ok := r.URL.Query()["baas_at"]
	return ok || strings.Contains(r.URL.RawQuery, "baas_at=")
}

// functionsCall serves POST .../functions/call: a MongoDB service method
// (with "service") or a user function (§4, §5).
func (s *Server) functionsCall(w http.ResponseWriter, r *http.Request) {
	claims, ae := s.accessClaims(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	doc, ae := readDocument(w, r, s.cfg.maxBody, false)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	name, _ := doc.Lookup("name").StringValueOK()
	if name == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, codeMissingParameter, "functions/call: \"name\" must be a non-empty string"))
		return
	}
	service, hasService := doc.Lookup("service").StringValueOK()
	argsV := doc.Lookup("arguments")
	var args []bson.RawValue
	switch argsV.Type {
	case 0:
	case bson.TypeArray:
		args, _ = argsV.Array().Values()
	default:
		s.writeError(w, r, errorf(http.StatusBadRequest, codeInvalidParameter, "functions/call: \"arguments\" must be an array"))
		return
	}
	if !hasService {
		s.userFunction(w, r, claims, name, args)
		return
	}
	if ds := s.app.DataSource(service); ds == nil {
		s.writeError(w, r, errorf(http.StatusNotFound, codeServiceNotFound, "service not found: '%s'", service))
		return
	}
	fields, ok := argSpec[name]
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, codeCommandNotFound, "function not found: '%s' is not a method of the MongoDB service", name))
		return
	}
	if len(args) != 1 || args[0].Type != bson.TypeEmbeddedDocument {
		s.writeError(w, r, errorf(http.StatusBadRequest, codeInvalidParameter, "%s: \"arguments\" must hold exactly one document", name))
		return
	}
	c, ae := readArgs(name, args[0].Document(), fields)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	coll, ae := s.collection(r, claims.User(), service, name, c)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	res, err := run(r.Context(), coll, c)
	if err != nil {
		s.dataFailed(w, r, claims.Subject, coll.Namespace(), name, err)
		return
	}
	out, err := canonical(res)
	if err != nil {
		s.writeError(w, r, dataError(err))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// dataFailed answers a failed data call, logging one decision line per
// denial: namespace, method, action, role and reason, never a document or
// a token.
func (s *Server) dataFailed(w http.ResponseWriter, r *http.Request, userID, ns, method string, err error) {
	var de *gate.DeniedError
	if errors.As(err, &de) {
		s.log(r).Info("denied", "user_id", userID, "namespace", ns, "method", method, "action", string(de.Action), "role", de.Role, "reason", string(de.Reason), "field", de.Field)
	}
	s.writeError(w, r, dataError(err))
}

// userFunction answers a call of one of the app's own JavaScript
// functions (user.functions.<name>(...), appservices-protocol.md §4): it
// runs as the caller, with context.request, as its configuration says
// (run_as_system, or through the caller's rules). A private function is
// answered as a function that does not exist (404 FunctionNotFound, the
// answer App Services gave for an unknown name), so that a client learns
// nothing of it; a can_evaluate that does not hold is 403
// FunctionNotCallable; a thrown error 400 FunctionExecutionError with the
// function's message. The result is canonical extended JSON
// (source/functions.txt: functions serialize their results to EJSON);
// undefined is null.
func (s *Server) userFunction(w http.ResponseWriter, r *http.Request, claims *token.Claims, name string, args []bson.RawValue) {
	var f *rules.JSFunction
	for _, jf := range s.app.JSFunctions {
		if jf.Name == name {
			f = jf
		}
	}
	switch {
	case f == nil || f.Private:
		s.writeError(w, r, errorf(http.StatusNotFound, codeFunctionNotFound, "function not found: '%s'", name))
		return
	case f.SourceFile == "" || s.js == nil:
		s.writeError(w, r, errorf(http.StatusBadRequest, codeFunctionExecution, "function '%s' has no source in the export, so rulegate cannot run it", name))
		return
	}
	vals := make([]value.Value, len(args))
	for i, a := range args {
		vals[i] = value.FromRaw(a)
	}
	in := s.inputs
	in.User = claims.User()
	in.Request = requestJSON(r, "", "")
	res, err := s.js.Run(r.Context(), jsfunc.Call{Name: name, Args: vals, User: in.User, Inputs: &in, FromClient: true})
	if err != nil {
		s.writeError(w, r, functionError(name, err))
		return
	}
	rv := bson.RawValue{Type: bson.TypeNull}
	if !res.IsMissing() {
		rv = bson.RawValue{Type: res.Type, Value: res.Data}
	}
	out, err := canonical(rv)
	if err != nil {
		s.writeError(w, r, &apiError{status: http.StatusBadRequest, code: codeFunctionExecution, msg: fmt.Sprintf("function '%s' returned a value that cannot be sent as extended JSON", name), err: err})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// functionError maps a failed client call of a function whose existence,
// privacy and source userFunction has checked: a function not found or
// refused here is one the function called (context.functions.execute),
// and its message says which.
func functionError(name string, err error) *apiError {
	switch {
	case errors.Is(err, jsfunc.ErrCannotEvaluate):
		return &apiError{status: http.StatusForbidden, code: codeFunctionNotCallable, msg: fmt.Sprintf("function '%s' may not be called: %s", name, jsMessage(err)), err: err}
	case errors.Is(err, context.Canceled):
		return dataError(err)
	case errors.Is(err, jsfunc.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusBadRequest, code: codeTimeLimit, msg: fmt.Sprintf("function '%s' ran past its time limit", name), err: err}
	case errors.Is(err, jsfunc.ErrNotBound):
		return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal server error", err: err}
	}
	return &apiError{status: http.StatusBadRequest, code: codeFunctionExecution, msg: jsMessage(err), err: err}
}
