package server

import (
	"mime"
	"net/http"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/accounts"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/rules"
)

// dataAPISpec names each Data API action's body fields
// (source/data-api/generated-endpoints.txt, source/openapi-data-api-v1.yaml):
// filter/projection/replacement, unlike the client API's query/project.
var dataAPISpec = map[string][]string{
	"findOne":    {"dataSource", "filter", "projection"},
	"find":       {"dataSource", "filter", "projection", "sort", "limit", "skip"},
	"insertOne":  {"dataSource", "document"},
	"insertMany": {"dataSource", "documents"},
	"updateOne":  {"dataSource", "filter", "update", "upsert"},
	"updateMany": {"dataSource", "filter", "update", "upsert"},
	"replaceOne": {"dataSource", "filter", "replacement", "upsert"},
	"deleteOne":  {"dataSource", "filter"},
	"deleteMany": {"dataSource", "filter"},
	"aggregate":  {"dataSource", "pipeline"},
}

// Data API find limits (generated-endpoints.txt: "limit ... default 1000,
// max 50,000").
const (
	dataAPIDefaultLimit = 1000
	dataAPIMaxLimit     = 50000
)

// routeEndpoint serves /app/<id>/endpoint/data/<version>/action/<action>.
func (s *Server) routeEndpoint(w http.ResponseWriter, r *http.Request, rest string) {
	parts := strings.Split(rest, "/")
	if len(parts) != 5 || parts[0] != "endpoint" || parts[1] != "data" || parts[3] != "action" {
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such endpoint: %s", r.URL.Path))
		return
	}
	version, action := parts[2], parts[4]
	cfg := s.app.DataAPI
	if cfg == nil || cfg.Disabled || !slices.Contains(cfg.Versions, version) {
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "the Data API %s is not enabled for this app (https_endpoints/data_api_config.json)", version))
		return
	}
	fields, ok := dataAPISpec[action]
	if !ok {
		s.writeError(w, r, errorf(http.StatusNotFound, codeNotFound, "no such Data API action: %s", action))
		return
	}
	if !s.method(w, r, http.MethodPost) {
		return
	}
	if ae := dataAPIRunnable(cfg); ae != nil {
		s.writeError(w, r, ae)
		return
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/json" && ct != "application/ejson" {
		s.writeError(w, r, errorf(http.StatusBadRequest, codeInvalidParameter, "the Content-Type must be application/json or application/ejson"))
		return
	}
	user, userID, ae := s.dataAPIUser(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	// EJSON wrappers are read under application/json too: the docs' own
	// application/json examples send {"$oid": ...} in filters.
	doc, ae := readDocument(w, r, s.cfg.maxBody, false)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	ds, ok := doc.Lookup("dataSource").StringValueOK()
	if !ok || ds == "" {
		s.writeError(w, r, errorf(http.StatusBadRequest, codeMissingParameter, "\"dataSource\" is required"))
		return
	}
	if s.app.DataSource(ds) == nil {
		s.writeError(w, r, errorf(http.StatusBadRequest, codeInvalidParameter, "data source '%s' not found", ds))
		return
	}
	c, ae := readArgs(action, doc, fields)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	if s.dataAPICan != nil {
		// can_evaluate is decided before the request runs, over %%user and
		// %%request (source/data-api/generated-endpoints.txt, "Custom
		// Authorization Schemes"); false is 403 PermissionDenied.
		in := s.inputs
		in.User = user
		in.Request = requestJSON(r, ds, action)
		if ok, err := s.dataAPICan.Eval(r.Context(), &in); !ok {
			s.writeError(w, r, &apiError{status: http.StatusForbidden, code: codePermission, msg: "the Data API's can_evaluate expression does not hold for this request", err: err})
			return
		}
	}
	if action == "find" {
		switch {
		case !c.hasLimit || c.limit == 0:
			c.limit, c.hasLimit = dataAPIDefaultLimit, true
		case c.limit > dataAPIMaxLimit:
			s.writeError(w, r, errorf(http.StatusBadRequest, codeInvalidParameter, "find: \"limit\" may be at most %d", dataAPIMaxLimit))
			return
		}
	}
	if (action == "updateOne" || action == "updateMany" || action == "replaceOne") && !c.hasUpdate {
		want := "update"
		if action == "replaceOne" {
			want = "replacement"
		}
		s.writeError(w, r, errorf(http.StatusBadRequest, codeMissingParameter, "%s: %q is required", action, want))
		return
	}
	coll, ae := s.collection(r, user, ds, action, c)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	res, err := run(r.Context(), coll, c)
	if err != nil {
		s.dataFailed(w, r, userID, coll.Namespace(), action, err)
		return
	}
	switch action {
	case "findOne":
		res = bson.D{{Key: "document", Value: res}}
	case "find", "aggregate":
		res = bson.D{{Key: "documents", Value: res}}
	}
	var out []byte
	ejson := dataAPIEJSON(r, cfg)
	if ejson {
		out, err = canonical(res)
	} else {
		out, err = plainJSON(res)
	}
	if err != nil {
		s.writeError(w, r, dataError(err))
		return
	}
	status := http.StatusOK
	if action == "insertOne" || action == "insertMany" {
		status = http.StatusCreated
	}
	if ejson {
		w.Header().Set("Content-Type", "application/ejson")
		w.WriteHeader(status)
		_, _ = w.Write(out)
		return
	}
	writeJSON(w, status, out)
}

// dataAPIRunnable refuses configurations rulegate cannot honour: a
// user-choosing script, running as system (which no rule restricts), or
// request validation by a secret. Refusing every request fails closed;
// each says what to change.
func dataAPIRunnable(cfg *rules.DataAPIConfig) *apiError {
	switch {
	case cfg.RunAsUserIDScriptSource != "":
		return errorf(http.StatusForbidden, codeFunctionExecution, "the Data API's run_as_user_id_script_source chooses the user with a script, which rulegate does not run; rulegate serves the Data API as the authenticated user")
	case cfg.RunAsSystem:
		return errorf(http.StatusForbidden, codeFunctionExecution, "the Data API runs as system in this export; rulegate serves the Data API only under the rules (run as the authenticated user)")
	case cfg.ValidationMethod != "" && cfg.ValidationMethod != "NO_VALIDATION":
		return errorf(http.StatusForbidden, codeFunctionExecution, "the Data API's validation method %s is not supported by rulegate yet", cfg.ValidationMethod)
	}
	return nil
}

// dataAPIEJSON reports whether the response is canonical EJSON: the
// Accept header chooses; without a valid one, the configured return_type.
func dataAPIEJSON(r *http.Request, cfg *rules.DataAPIConfig) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		switch mt {
		case "application/ejson":
			return true
		case "application/json":
			return false
		}
	}
	return strings.EqualFold(cfg.ReturnType, "EJSON")
}

// dataAPIUser authenticates a Data API request, in the documented order
// (source/data-api/authenticate.txt): a Bearer access token, when present,
// decides alone; otherwise email and password, apiKey, or jwtTokenString
// headers.
func (s *Server) dataAPIUser(r *http.Request) (expansion.User, string, *apiError) {
	if r.Header.Get("Authorization") != "" {
		c, ae := s.accessClaims(r)
		if ae != nil {
			return expansion.User{}, "", ae
		}
		return c.User(), c.Subject, nil
	}
	ctx := r.Context()
	h := r.Header
	var u accounts.User
	var err error
	switch {
	case h.Get("email") != "" || h.Get("password") != "":
		if _, ae := s.enabledProvider(rules.ProviderUserPass); ae != nil {
			return expansion.User{}, "", ae
		}
		u, err = s.accounts.LoginPassword(ctx, h.Get("email"), h.Get("password"), r.RemoteAddr)
	case h.Get("apiKey") != "":
		if _, ae := s.enabledProvider(rules.ProviderAPIKey); ae != nil {
			return expansion.User{}, "", ae
		}
		u, err = s.accounts.LoginAPIKey(ctx, h.Get("apiKey"), r.RemoteAddr)
	case h.Get("jwtTokenString") != "":
		p, ae := s.enabledProvider(rules.ProviderCustomToken)
		if ae != nil {
			return expansion.User{}, "", ae
		}
		var created bool
		u, created, err = s.loginJWT(ctx, p, h.Get("jwtTokenString"))
		if err == nil && created && !s.app.DataAPI.CreateUserOnAuth {
			// create_user_on_auth is off: a JWT of no existing user
			// authenticates nobody (generated-endpoints.txt).
			if derr := s.accounts.DeleteUser(ctx, u.ID); derr != nil {
				return expansion.User{}, "", authError(derr)
			}
			err = accounts.ErrInvalidCredentials
		}
	default:
		return expansion.User{}, "", errorf(http.StatusBadRequest, codeMissingParameter, "must specify some form of authentication (either email+password, api-key, or jwt) in the request header or body")
	}
	if err != nil {
		ae := authError(err)
		if ae.status == http.StatusUnauthorized && ae.code != codeTooManyRequests {
			ae = &apiError{status: http.StatusUnauthorized, code: codeInvalidSession, msg: "invalid session: error finding user for endpoint", err: err}
		}
		return expansion.User{}, "", ae
	}
	user, ae := s.userObject(r, u)
	return user, u.ID, ae
}

// userObject is %%user for a user authenticated by credentials on this
// request: the user object with the custom data loaded now.
func (s *Server) userObject(r *http.Request, u accounts.User) (expansion.User, *apiError) {
	type ident struct {
		ID           string `json:"id"`
		ProviderType string `json:"provider_type"`
	}
	obj := map[string]any{"id": u.ID, "type": u.Type}
	if len(u.Data) > 0 {
		obj["data"] = rawJSON(u.Data)
	}
	ids := make([]ident, len(u.Identities))
	for i, id := range u.Identities {
		ids[i] = ident{ID: id.ID, ProviderType: id.ProviderType}
	}
	obj["identities"] = ids
	d, found, err := s.data.Load(r.Context(), u.ID)
	if err != nil {
		return expansion.User{}, authError(err)
	}
	if found {
		obj["custom_data"] = rawJSON(d.JSON)
	}
	user, err := expansion.NewUserObject(mustJSON(obj))
	if err != nil {
		return expansion.User{}, authError(err)
	}
	return user, nil
}

type rawJSON []byte

func (j rawJSON) MarshalJSON() ([]byte, error) { return j, nil }

// emptyExpr reports whether a can_evaluate expression always holds ({} or
// true): no condition to decide.
func emptyExpr(e rules.Expr) bool {
	switch e := e.(type) {
	case *rules.And:
		return len(e.Args) == 0
	case *rules.Bool:
		return e.Value
	}
	return false
}
