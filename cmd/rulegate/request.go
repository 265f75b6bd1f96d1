package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/internal/reqfile"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
)

// stdinName names standard input in diagnostics.
const stdinName = "<stdin>"

// readRequest reads one JSON request from r. keys lists the keys the
// command accepts besides the common ones (reqfile.Options.Keys); actions
// the actions it accepts.
func readRequest(r io.Reader, secret string, keys []string, actions []evaluator.Action) (*reqfile.Request, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading the request: %v", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		//lint:ignore ST1005 a CLI message shown as is, ending in the example's "..."
		return nil, errors.New("no request on standard input; pipe one JSON object in, e.g. echo '{\"user\": {\"id\": \"u1\"}, \"namespace\": \"db.coll\", \"action\": \"read\", \"document\": {}}' | rulegate ...")
	}
	return reqfile.Parse(stdinName, data, reqfile.Options{
		Keys:    keys,
		Actions: actions,
		Token: func(tok string) (expansion.User, error) {
			if secret == "" {
				return expansion.User{}, errors.New(`a "token" needs --secret (the HS256 signing secret) to be verified`)
			}
			return verifyToken(tok, secret)
		},
	})
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
func (c *cli) withAppValues(cmd *command, app *rules.App, env *environmentFlag, req *reqfile.Request) bool {
	in, err := app.Inputs(req.Caller.Inputs, env.of(app))
	if err != nil {
		fmt.Fprintf(c.stderr, "rulegate %s: %v\n", cmd.name, err)
		return false
	}
	req.Caller.Inputs = in
	return true
}
