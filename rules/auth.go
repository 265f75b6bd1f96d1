package rules

import (
	"encoding/json"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/rulegate/rulegate/source"
)

// The authentication provider types whose configuration rulegate reads
// (source/reference/config/auth.txt, "type"). A provider of any other type
// (custom-function, oauth2-google, oauth2-facebook, oauth2-apple, ...) is
// loaded with its name, type and disabled flag, and no diagnostic.
const (
	ProviderAnonymous   = "anon-user"      // source/authentication/anonymous.txt
	ProviderUserPass    = "local-userpass" // source/authentication/email-password.txt
	ProviderAPIKey      = "api-key"        // source/authentication/api-key.txt
	ProviderCustomToken = "custom-token"   // source/authentication/custom-jwt.txt
)

// Provider is one authentication provider: a member of auth/providers.json
// (an object keyed by provider name), or an old layout's
// auth_providers/<name>.json (source/reference/config/auth.txt,
// "Authentication Providers"). Keys the page does not name ("id",
// "redirect_uris", "domain_restrictions", a config's "confirmEmailSubject",
// ...) are accepted and not read: exports carry many.
type Provider struct {
	At
	// Name is the "name" key, else the member's key (providers.json) or
	// the file name without .json (auth_providers/). Clients log in at
	// /auth/providers/<Name>/login.
	Name string
	// Type is the provider type (ProviderUserPass, ...), as written.
	Type string
	// Disabled is the "disabled" key: users cannot log in with a
	// disabled provider. Absent, the provider is enabled.
	Disabled bool
	// Config and SecretConfig are "config" and "secret_config" as
	// written (nil when absent). SecretConfig maps options to secret
	// names; an export holds no secret's value.
	Config, SecretConfig json.RawMessage
	// MetadataFields are "metadata_fields", in file order.
	MetadataFields []*MetadataField
	// UserPass is the configuration of a local-userpass provider, nil for
	// the other types.
	UserPass *UserPassConfig
	// CustomToken is the configuration of a custom-token provider, nil
	// for the other types.
	CustomToken *CustomTokenConfig
}

// UserPassConfig is the "config" of a local-userpass (email/password)
// provider (source/authentication/email-password.txt). Absent booleans are
// false and absent strings "".
type UserPassConfig struct {
	// AutoConfirm confirms new users when they register.
	AutoConfirm bool
	// RunConfirmationFunction confirms new users by calling the function
	// ConfirmationFunctionName.
	RunConfirmationFunction  bool
	ConfirmationFunctionName string
	// EmailConfirmationURL is the link a confirmation email carries.
	EmailConfirmationURL string
	// RunResetFunction resets passwords by calling the function
	// ResetFunctionName.
	RunResetFunction  bool
	ResetFunctionName string
	// ResetPasswordURL is the link a password reset email carries.
	ResetPasswordURL string
}

// CustomTokenConfig is the configuration of a custom-token (custom JWT)
// provider (source/authentication/custom-jwt.txt).
type CustomTokenConfig struct {
	// Audience is config.audience: the audiences a JWT's "aud" must hold
	// (a string is one audience). Empty, "aud" must hold the app id.
	Audience []string
	// RequireAnyAudience is config.requireAnyAudience: one of Audience
	// suffices; false, the JWT must hold all of them.
	RequireAnyAudience bool
	// SigningAlgorithm is config.signingAlgorithm: "HS256", "RS256", or ""
	// when absent or empty (a JWK URI then says it).
	SigningAlgorithm string
	// UseJWKURI and JWKURI are config.useJWKURI and config.jwkURI: the
	// keys come from the JWK or JWKS at JWKURI.
	UseJWKURI bool
	JWKURI    string
	// SigningKeys is secret_config.signingKeys: the names of the secrets
	// holding the signing keys (the values are not in an export).
	SigningKeys []string
}

// MetadataField is one entry of a provider's "metadata_fields": a value of
// the login credential (for custom-token, a JWT claim) copied into the
// user's data (source/authentication/custom-jwt.txt, "Metadata Fields").
type MetadataField struct {
	At
	// Required is the "required" key: a login whose credential lacks the
	// field fails.
	Required bool
	// Name is the "name" key as written: a path into the credential in
	// dot notation, with "\." for a dot inside a key.
	Name string
	// Path is Name split at its unescaped dots, the escapes removed.
	Path []string
	// FieldName is the "field_name" key: the field of the user's data
	// that holds the value; absent or empty, the last element of Path (a
	// Name of "location.primary.city" gives "city").
	FieldName string
}

// MaxMetadataFieldName is the longest metadata field name App Services
// accepts (source/authentication/custom-jwt.txt: "may contain a maximum of
// 64 characters").
const MaxMetadataFieldName = 64

// signingAlgorithms are the custom-token signing algorithms App Services
// supports (source/authentication/custom-jwt.txt); "" leaves it to a JWK.
var signingAlgorithms = map[string]bool{"": true, "HS256": true, "RS256": true}

// Provider returns the provider named name, or nil.
func (a *App) Provider(name string) *Provider {
	for _, p := range a.Providers {
		if p.Name == name {
			return p
		}
	}
	return nil
}

// providersFile reads auth/providers.json.
func (l *loader) providersFile(name string) {
	f := l.read(name)
	if f == nil {
		return
	}
	p := &parser{f: f}
	if root := p.root(); root != nil {
		for _, m := range root.Members {
			if pr := p.provider(m.Value, m.Key); pr != nil {
				l.app.Providers = append(l.app.Providers, pr)
			}
		}
	}
	l.addErr(p.done())
}

// providerFile reads the old layout's auth_providers/<name>.json.
func (l *loader) providerFile(name string) {
	f := l.read(name)
	if f == nil {
		return
	}
	p := &parser{f: f}
	if root := p.root(); root != nil {
		stem := strings.TrimSuffix(name[strings.LastIndexByte(name, '/')+1:], ".json")
		if pr := p.provider(root, stem); pr != nil {
			l.app.Providers = append(l.app.Providers, pr)
		}
	}
	l.addErr(p.done())
}

// sortProviders sorts the providers by name. Names are unique: the keys
// of providers.json are, and a provider's "name" must be its key or its
// file's name.
func (l *loader) sortProviders() {
	ps := l.app.Providers
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
}

// provider parses one provider configuration; key is the name its place
// gives (the member key or the file name).
func (p *parser) provider(n *source.Node, key string) *Provider {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "a provider configuration must be an object, got %s", n.Kind.Article())
		return nil
	}
	pr := &Provider{At: p.at(n), Name: key}
	for _, m := range n.Members {
		v := m.Value
		switch m.Key {
		case "name":
			if s := p.str(v); s != key && v.Kind == source.String {
				p.errorf(v, CodeProvider, "the provider is named %q where its place names it %q: a provider's name is its key in auth/providers.json, or its file's name in auth_providers/", s, key)
			}
		case "type":
			pr.Type = p.str(v)
		case "disabled":
			pr.Disabled = p.boolean(v)
		case "config":
			if v.Kind != source.Object {
				p.errorf(v, CodeSchema, `"config" must be an object, got %s`, v.Kind.Article())
				continue
			}
			pr.Config = v.Raw()
		case "secret_config":
			if v.Kind != source.Object {
				p.errorf(v, CodeSchema, `"secret_config" must be an object, got %s`, v.Kind.Article())
				continue
			}
			pr.SecretConfig = v.Raw()
		case "metadata_fields":
			for _, e := range p.array(v) {
				if f := p.metadataField(e); f != nil {
					pr.MetadataFields = append(pr.MetadataFields, f)
				}
			}
		}
	}
	if n.Get("type") == nil {
		p.errorf(n, CodeRequired, `the provider %q needs a "type" (%s, %s, %s, %s, ...)`, key, ProviderUserPass, ProviderAnonymous, ProviderAPIKey, ProviderCustomToken)
	}
	switch pr.Type {
	case ProviderUserPass:
		pr.UserPass = p.userPass(n.Get("config"))
	case ProviderCustomToken:
		pr.CustomToken = p.customToken(n.Get("config"), n.Get("secret_config"))
	}
	return pr
}

// configMembers calls fn for each member of a provider's config, when it
// is an object (the provider reports it otherwise).
func configMembers(n *source.Node, fn func(key string, v *source.Node)) {
	if n == nil || n.Kind != source.Object {
		return
	}
	for _, m := range n.Members {
		fn(m.Key, m.Value)
	}
}

func (p *parser) userPass(config *source.Node) *UserPassConfig {
	c := &UserPassConfig{}
	configMembers(config, func(key string, v *source.Node) {
		switch key {
		case "autoConfirm":
			c.AutoConfirm = p.boolean(v)
		case "runConfirmationFunction":
			c.RunConfirmationFunction = p.boolean(v)
		case "confirmationFunctionName":
			c.ConfirmationFunctionName = p.str(v)
		case "emailConfirmationUrl":
			c.EmailConfirmationURL = p.str(v)
		case "runResetFunction":
			c.RunResetFunction = p.boolean(v)
		case "resetFunctionName":
			c.ResetFunctionName = p.str(v)
		case "resetPasswordUrl":
			c.ResetPasswordURL = p.str(v)
		}
	})
	return c
}

func (p *parser) customToken(config, secret *source.Node) *CustomTokenConfig {
	c := &CustomTokenConfig{}
	configMembers(config, func(key string, v *source.Node) {
		switch key {
		case "audience":
			switch v.Kind {
			case source.String:
				if v.Str != "" {
					c.Audience = []string{v.Str}
				}
			case source.Array:
				for _, e := range v.Elems {
					if s := p.str(e); s != "" {
						c.Audience = append(c.Audience, s)
					}
				}
			default:
				p.errorf(v, CodeSchema, `"audience" must be a string or an array of strings, got %s`, v.Kind.Article())
			}
		case "requireAnyAudience":
			c.RequireAnyAudience = p.boolean(v)
		case "signingAlgorithm":
			c.SigningAlgorithm = p.str(v)
			if !signingAlgorithms[c.SigningAlgorithm] {
				p.errorf(v, CodeProvider, "signing algorithm %q: App Services verifies custom JWTs signed with HS256 or RS256", c.SigningAlgorithm)
			}
		case "useJWKURI":
			c.UseJWKURI = p.boolean(v)
		case "jwkURI":
			c.JWKURI = p.str(v)
		}
	})
	configMembers(secret, func(key string, v *source.Node) {
		if key != "signingKeys" {
			return
		}
		for _, e := range p.array(v) {
			if s := p.str(e); s != "" {
				c.SigningKeys = append(c.SigningKeys, s)
			}
		}
	})
	return c
}

func (p *parser) metadataField(n *source.Node) *MetadataField {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "a metadata field must be an object {\"required\", \"name\", \"field_name\"}, got %s", n.Kind.Article())
		return nil
	}
	f := &MetadataField{At: p.at(n)}
	for _, m := range n.Members {
		switch m.Key {
		case "required":
			f.Required = p.boolean(m.Value)
		case "name":
			f.Name = p.str(m.Value)
		case "field_name":
			f.FieldName = p.str(m.Value)
			if c := utf8.RuneCountInString(f.FieldName); c > MaxMetadataFieldName {
				p.errorf(m.Value, CodeSchema, "a metadata field name is %d characters long; App Services limits it to %d", c, MaxMetadataFieldName)
			}
		}
	}
	nameNode := n.Get("name")
	if nameNode == nil {
		p.errorf(n, CodeRequired, `a metadata field needs a "name": the path of its value in the credential`)
		return nil
	}
	if nameNode.Kind != source.String {
		return nil
	}
	path, ok := metadataPath(f.Name)
	if !ok {
		p.errorf(nameNode, CodeField, "metadata field path %q has an empty element (write \\. for a dot inside a key)", f.Name)
		return nil
	}
	f.Path = path
	if f.FieldName == "" {
		f.FieldName = path[len(path)-1]
	}
	return f
}

// metadataPath splits a metadata field's name at its unescaped dots ("\."
// is a dot inside a key; source/authentication/custom-jwt.txt); false
// when an element is empty.
func metadataPath(name string) ([]string, bool) {
	var path []string
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		switch {
		case name[i] == '\\' && i+1 < len(name) && name[i+1] == '.':
			b.WriteByte('.')
			i++
		case name[i] == '.':
			path = append(path, b.String())
			b.Reset()
		default:
			b.WriteByte(name[i])
		}
	}
	path = append(path, b.String())
	for _, s := range path {
		if s == "" {
			return nil, false
		}
	}
	return path, true
}

// providers checks the enabled providers whose configuration rulegate
// reads for what a login needs (fail closed: a configuration that cannot
// authenticate anyone is an error, not a provider that lets everyone in).
func (v *validator) providers() {
	for _, pr := range v.app.Providers {
		if pr.Disabled {
			continue
		}
		if c := pr.UserPass; c != nil {
			if c.RunConfirmationFunction && c.ConfirmationFunctionName == "" {
				v.errorAt(pr.At, CodeProvider, "provider %q runs a confirmation function (runConfirmationFunction) but names none (confirmationFunctionName)", pr.Name)
			}
			if c.RunResetFunction && c.ResetFunctionName == "" {
				v.errorAt(pr.At, CodeProvider, "provider %q runs a password reset function (runResetFunction) but names none (resetFunctionName)", pr.Name)
			}
		}
		if c := pr.CustomToken; c != nil {
			switch {
			case c.UseJWKURI && c.JWKURI == "":
				v.errorAt(pr.At, CodeProvider, "provider %q takes its keys from a JWK URI (useJWKURI) but names none (jwkURI)", pr.Name)
			case !c.UseJWKURI && c.SigningAlgorithm == "":
				v.errorAt(pr.At, CodeProvider, "provider %q names no signing algorithm (signingAlgorithm HS256 or RS256) and no JWK URI: no JWT can be verified", pr.Name)
			case !c.UseJWKURI && len(c.SigningKeys) == 0:
				v.errorAt(pr.At, CodeProvider, "provider %q names no signing key (secret_config.signingKeys) and no JWK URI: no JWT can be verified", pr.Name)
			}
		}
	}
}
