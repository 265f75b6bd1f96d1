package rules

import (
	"github.com/rulegate/rulegate/source"
)

// DataAPIConfig is https_endpoints/data_api_config.json (http_endpoints/ in
// the realm-cli v2 layout): the configuration of the generated Data API
// endpoints (source/reference/config/https_endpoints.txt, "Data API
// Configuration"; source/data-api/generated-endpoints.txt).
type DataAPIConfig struct {
	At
	// Disabled is the "disabled" key: the endpoints answer no request.
	// (The reference says "If false, the Data API is not enabled", the
	// reverse of every other "disabled" key; rulegate reads it as the
	// others, and as the UI's "Enable the Data API" toggle.)
	Disabled bool
	// Versions are the enabled Data API versions ("beta", "v1").
	Versions []string
	// ReturnType is "JSON" or "EJSON": the format of response bodies
	// when a request has no valid Accept header; "JSON" when absent ("By
	// default, endpoints return JSON").
	ReturnType string
	// CreateUserOnAuth creates a user for credentials that authenticate
	// but belong to no user yet (a custom JWT).
	CreateUserOnAuth bool
	// RunAsSystem runs every request as the system user, which no rule
	// restricts.
	RunAsSystem bool
	// RunAsUserID runs every request as this user; "" when absent.
	RunAsUserID string
	// RunAsUserIDScriptSource is the JavaScript source of a function that
	// returns the user each request runs as; "" when absent. rulegate
	// does not run JavaScript.
	RunAsUserIDScriptSource string
	// CanEvaluate is "can_evaluate", a rule expression that must hold for
	// a request to run; nil when absent (every authenticated request
	// runs). It is decided per request, so Validate refuses expansions
	// of a document in it, as in a filter's apply_when.
	CanEvaluate Expr
	// ValidationMethod is how requests prove they are authorized:
	// "NO_VALIDATION", "SECRET_AS_QUERY_PARAM" (a "secret" query
	// parameter) or "VERIFY_PAYLOAD" (an Endpoint-Signature header);
	// "" when absent, which is NO_VALIDATION.
	ValidationMethod string
	// SecretName names the secret the two validation methods use.
	SecretName string

	// validationKey is the key that gave ValidationMethod:
	// "validation_method", or "verification_method", which an example of
	// generated-endpoints.txt writes.
	validationKey string
}

// dataAPIFiles are the paths of the Data API configuration: the current
// layout's (source/reference/config/https_endpoints.txt), then realm-cli
// v2's (source/reference/config/v20210101/http_endpoints.txt).
var dataAPIFiles = []string{"https_endpoints/data_api_config.json", "http_endpoints/data_api_config.json"}

// dataAPIKeys are the keys of data_api_config.json.
var dataAPIKeys = []string{"disabled", "versions", "return_type", "create_user_on_auth", "run_as_system", "run_as_user_id", "run_as_user_id_script_source", "can_evaluate", "validation_method", "verification_method", "secret_name"}

// dataAPIVersions are the Data API versions App Services serves
// (source/data-api/generated-endpoints.txt, "API Versions").
var dataAPIVersions = map[string]bool{"beta": true, "v1": true}

// validationMethods are the built-in authorization schemes
// (source/reference/config/https_endpoints.txt, "validation_method").
var validationMethods = map[string]bool{"NO_VALIDATION": true, "SECRET_AS_QUERY_PARAM": true, "VERIFY_PAYLOAD": true}

// dataAPI reads the Data API configuration of the current layout; given in
// both folders, the second is an error.
func (l *loader) dataAPI() {
	for _, name := range dataAPIFiles {
		if !isFile(l.fsys, name) {
			continue
		}
		f := l.read(name)
		if f == nil {
			continue
		}
		if l.app.DataAPI != nil {
			l.errs.Add(source.Errorf(f, 0, "", CodeDataAPI, "the Data API is configured in %s already", l.app.DataAPI.FileName()))
			continue
		}
		p := &parser{f: f}
		if root := p.root(); root != nil {
			l.app.DataAPI = p.dataAPIConfig(root)
		}
		l.addErr(p.done())
	}
}

func (p *parser) dataAPIConfig(n *source.Node) *DataAPIConfig {
	c := &DataAPIConfig{At: p.at(n), ReturnType: "JSON"}
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "disabled":
			c.Disabled = p.boolean(v)
		case "versions":
			for _, e := range p.array(v) {
				s := p.str(e)
				if e.Kind == source.String && !dataAPIVersions[s] {
					p.errorf(e, CodeDataAPI, "Data API version %q: App Services serves beta and v1", s)
					continue
				}
				c.Versions = append(c.Versions, s)
			}
		case "return_type":
			if s := p.str(v); s == "JSON" || s == "EJSON" {
				c.ReturnType = s
			} else if v.Kind == source.String {
				p.errorf(v, CodeDataAPI, `return_type %q: want "JSON" or "EJSON"`, s)
			}
		case "create_user_on_auth":
			c.CreateUserOnAuth = p.boolean(v)
		case "run_as_system":
			c.RunAsSystem = p.boolean(v)
		case "run_as_user_id":
			c.RunAsUserID = p.str(v)
		case "run_as_user_id_script_source":
			c.RunAsUserIDScriptSource = p.str(v)
		case "can_evaluate":
			c.CanEvaluate = p.expr(v)
		case "validation_method", "verification_method":
			if c.validationKey != "" {
				p.errorf(v, CodeDataAPI, "the validation method is given as %q already", c.validationKey)
				return true
			}
			c.validationKey = key
			c.ValidationMethod = p.str(v)
			if v.Kind == source.String && !validationMethods[c.ValidationMethod] {
				p.errorf(v, CodeDataAPI, "validation method %q: want NO_VALIDATION, SECRET_AS_QUERY_PARAM or VERIFY_PAYLOAD", c.ValidationMethod)
			}
		case "secret_name":
			c.SecretName = p.str(v)
		default:
			return false
		}
		return true
	}, dataAPIKeys...)
	return c
}

// dataAPI checks the Data API configuration for what a request needs.
func (v *validator) dataAPI() {
	c := v.app.DataAPI
	if c == nil {
		return
	}
	if c.validationKey == "verification_method" {
		v.warnAt(c.At, CodeSpelling, "the Data API configuration writes \"verification_method\"; the configuration reference names the key \"validation_method\" (read as such)")
	}
	if c.CanEvaluate != nil {
		v.expr(c.CanEvaluate, ctxRequest)
	}
	if c.Disabled {
		return
	}
	if c.RunAsUserID != "" && c.RunAsUserIDScriptSource != "" {
		v.errorAt(c.At, CodeDataAPI, "the Data API gives both run_as_user_id and run_as_user_id_script_source, which the reference says cannot be used together")
	}
	if (c.ValidationMethod == "SECRET_AS_QUERY_PARAM" || c.ValidationMethod == "VERIFY_PAYLOAD") && c.SecretName == "" {
		v.errorAt(c.At, CodeDataAPI, "the Data API validation method %s needs secret_name: the secret requests are checked against", c.ValidationMethod)
	}
}
