package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
)

// Value is values/<name>.json: a static value that rules read as
// %%values.<name> (source/reference/config/values.txt;
// source/values-and-secrets/access-a-value.txt).
type Value struct {
	At
	// Name is the "name" key, or the file name without .json when absent.
	Name string
	// JSON is the "value" key as written; nil for a secret.
	JSON []byte
	// Secret is the name of the secret a value with "from_secret": true
	// exposes; "" for a plain value. An export holds no secret's value
	// ("not included in exported applications",
	// source/values-and-secrets.txt), so %%values.<name> of a secret is
	// missing unless the caller provides it (App.Inputs).
	Secret string
}

// Environment is environments/<tag>.json: the environment values of one
// environment, %%environment.values when the app runs in it
// (source/reference/config/environments.txt).
type Environment struct {
	At
	// Tag is the environment's name: the file name without .json, and ""
	// for no-environment.json (No Environment).
	Tag string
	// Values is the "values" object as written; nil when absent.
	Values []byte
}

// NoEnvironmentFile is the file name of the environment an app runs in
// when none is named (source/reference/config/environments.txt).
const NoEnvironmentFile = "no-environment"

// environmentTags are the environments App Services supports
// (source/manage-apps/configure/environments.txt): No Environment ("")
// and four named ones.
var environmentTags = []string{"", "development", "testing", "qa", "production"}

// ErrEnvironment is returned by App.Inputs for an environment the app does
// not define and App Services does not support.
var ErrEnvironment = errors.New("rules: unknown environment")

// loadValues reads values/*.json, environments/*.json and the
// "environment" key of the app configuration (realm_config.json, else
// root_config.json) into app.
func loadValues(fsys fs.FS, app *App, errs *source.ErrorList) {
	read := func(name string) *source.File {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs.Add(&source.Error{File: name, Code: CodeFile, Msg: "cannot read: " + err.Error()})
			return nil
		}
		f := source.NewFile(name, data)
		app.Files[name] = f
		return f
	}
	add := func(err error) {
		var l source.ErrorList
		if errors.As(err, &l) {
			*errs = append(*errs, l...)
		}
	}
	for _, dir := range []string{"values", "environments"} {
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				errs.Add(&source.Error{File: dir, Code: CodeFile, Msg: "cannot read: " + err.Error()})
			}
			continue
		}
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			f := read(path.Join(dir, e.Name()))
			if f == nil {
				continue
			}
			stem := strings.TrimSuffix(e.Name(), ".json")
			if dir == "values" {
				v, err := parseValue(f, stem)
				add(err)
				if v != nil {
					app.Values = append(app.Values, v)
				}
				continue
			}
			env, err := parseEnvironment(f, stem)
			add(err)
			if env != nil {
				app.Environments = append(app.Environments, env)
			}
		}
	}
	sort.Slice(app.Values, func(i, j int) bool { return app.Values[i].Name < app.Values[j].Name })
	sort.Slice(app.Environments, func(i, j int) bool { return app.Environments[i].Tag < app.Environments[j].Tag })
	for i := 1; i < len(app.Values); i++ {
		if v, prev := app.Values[i], app.Values[i-1]; v.Name == prev.Name {
			errs.Add(source.Errorf(v.File, v.Offset, v.Ptr, CodeDuplicateValue, "the value %q is defined in %s already", v.Name, prev.FileName()))
		}
	}
	// The app configuration: realm_config.json (realm-cli's exports),
	// else root_config.json, whose "environment" is "the environment the
	// app should use when evaluating environment values"
	// (source/reference/config/app.txt).
	for _, name := range appConfigFiles {
		if _, err := fs.Stat(fsys, name); err != nil {
			continue
		}
		if f := read(name); f != nil {
			// Only "environment" is read; the loader of the app's
			// layout owns the other keys.
			if root, err := source.ParseJSON(f); err == nil && root.Kind == source.Object {
				if n := root.Get("environment"); n != nil {
					if n.Kind == source.String {
						app.Environment = n.Str
					} else {
						errs.Add(n.Errorf(CodeSchema, `"environment" must be a string (an environment name), got %s`, n.Kind.Article()))
					}
				}
			}
		}
		break
	}
}

// valueKeys are the keys of a value file: the current reference
// (source/reference/config/values.txt) and "private", which Stitch exports
// write (undocumented; it does not change what rules see).
var valueKeys = []string{"id", "name", "value", "from_secret", "private"}

func parseValue(f *source.File, stem string) (*Value, error) {
	p := &parser{f: f}
	root := p.root()
	if root == nil {
		return nil, p.errs.Err()
	}
	v := &Value{At: p.at(root), Name: stem}
	fromSecret := false
	p.object(root, func(key string, n *source.Node) bool {
		switch key {
		case "id":
			p.str(n)
		case "name":
			v.Name = p.str(n)
		case "value":
			v.JSON = n.Raw()
		case "from_secret":
			fromSecret = p.boolean(n)
		case "private":
			p.boolean(n)
		default:
			return false
		}
		return true
	}, valueKeys...)
	if fromSecret {
		n := root.Get("value")
		switch {
		case n == nil:
			p.errorf(root, CodeRequired, `a value with "from_secret": true needs "value": the name of the secret`)
		case n.Kind != source.String:
			p.errorf(n, CodeSchema, `the "value" of a secret value is the secret's name, a string; got %s`, n.Kind.Article())
		default:
			v.Secret = n.Str
		}
		v.JSON = nil
	}
	if err := p.done(); err != nil {
		return nil, err
	}
	return v, nil
}

func parseEnvironment(f *source.File, stem string) (*Environment, error) {
	p := &parser{f: f}
	root := p.root()
	if root == nil {
		return nil, p.errs.Err()
	}
	env := &Environment{At: p.at(root), Tag: stem}
	if stem == NoEnvironmentFile {
		env.Tag = ""
	}
	p.object(root, func(key string, n *source.Node) bool {
		if key != "values" {
			return false
		}
		if n.Kind != source.Object {
			p.errorf(n, CodeSchema, `"values" must be an object {"<value name>": <value>}, got %s`, n.Kind.Article())
		} else {
			env.Values = n.Raw()
		}
		return true
	}, "values")
	if err := p.done(); err != nil {
		return nil, err
	}
	return env, nil
}

// environmentNamed returns environments/<tag>.json (no-environment.json
// for ""), or nil.
func (a *App) environmentNamed(tag string) *Environment {
	for _, e := range a.Environments {
		if e.Tag == tag {
			return e
		}
	}
	return nil
}

// Inputs returns in with Values and Environment set to what %%values and
// %%environment hold when the app runs in the environment tag ("" is No
// Environment; callers usually pass App.Environment, the one
// realm_config.json names):
//
//   - Values: every plain value of values/ by name, then in.Values'
//     members, which add values or replace the app's by name (this is how
//     a caller provides a secret value, which an export does not hold);
//   - Environment: {"tag": tag, "values": ...}, the values of
//     environments/<tag>.json, then in.Environment's "values" members by
//     name. A "tag" in in.Environment replaces tag, and selects the file.
//
// An environment App Services does not support ("", development, testing,
// qa, production) and the app has no file for is ErrEnvironment; a
// supported one without a file has no values. in.Values and
// in.Environment, when set, must be JSON objects.
func (a *App) Inputs(in expansion.Inputs, tag string) (expansion.Inputs, error) {
	vals := map[string][]byte{}
	for _, v := range a.Values {
		if v.JSON != nil {
			vals[v.Name] = v.JSON
		}
	}
	if err := overlay(vals, in.Values, "values"); err != nil {
		return in, err
	}
	var envVals []byte
	if in.Environment != nil {
		root, err := jsonObject(in.Environment, "environment")
		if err != nil {
			return in, err
		}
		for _, m := range root.Members {
			switch m.Key {
			case "tag":
				if m.Value.Kind != source.String {
					return in, fmt.Errorf("rules: environment.tag must be a string, got %s", m.Value.Kind.Article())
				}
				tag = m.Value.Str
			case "values":
				envVals = m.Value.Raw()
			default:
				return in, fmt.Errorf("rules: unknown key %q in environment; the keys are tag, values", m.Key)
			}
		}
	}
	env := a.environmentNamed(tag)
	if env == nil && !supportedTag(tag) {
		return in, fmt.Errorf("%w %q: App Services supports %s, and the app has no environments/%s.json%s", ErrEnvironment, tag, tagList(environmentTags), tag, a.environmentFiles())
	}
	ev := map[string][]byte{}
	if env != nil && env.Values != nil {
		if err := overlay(ev, env.Values, env.FileName()); err != nil {
			return in, err
		}
	}
	if err := overlay(ev, envVals, "environment.values"); err != nil {
		return in, err
	}
	in.Values = objectJSON(vals)
	var b bytes.Buffer
	b.WriteString(`{"tag":`)
	b.Write(jsonString(tag))
	b.WriteString(`,"values":`)
	b.Write(objectJSON(ev))
	b.WriteByte('}')
	in.Environment = b.Bytes()
	return in, nil
}

func supportedTag(tag string) bool {
	for _, t := range environmentTags {
		if t == tag {
			return true
		}
	}
	return false
}

func tagList(tags []string) string {
	q := make([]string, len(tags))
	for i, t := range tags {
		q[i] = strconv.Quote(t)
	}
	return strings.Join(q, ", ")
}

func (a *App) environmentFiles() string {
	if len(a.Environments) == 0 {
		return ""
	}
	var tags []string
	for _, e := range a.Environments {
		tags = append(tags, e.Tag)
	}
	return " (it has " + tagList(tags) + ")"
}

func jsonObject(data []byte, what string) (*source.Node, error) {
	root, err := source.ParseJSON(source.NewFile(what, data))
	if err != nil {
		return nil, fmt.Errorf("rules: %s: %w", what, err)
	}
	if root.Kind != source.Object {
		return nil, fmt.Errorf("rules: %s must be a JSON object, got %s", what, root.Kind.Article())
	}
	return root, nil
}

// overlay sets dst[name] for every member of the JSON object data (nil:
// nothing).
func overlay(dst map[string][]byte, data []byte, what string) error {
	if data == nil {
		return nil
	}
	root, err := jsonObject(data, what)
	if err != nil {
		return err
	}
	for _, m := range root.Members {
		dst[m.Key] = m.Value.Raw()
	}
	return nil
}

func jsonString(s string) []byte {
	b, _ := json.Marshal(s) // a string always marshals
	return b
}

// objectJSON renders m as a JSON object, keys sorted.
func objectJSON(m map[string][]byte) []byte {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(jsonString(k))
		b.WriteByte(':')
		b.Write(m[k])
	}
	b.WriteByte('}')
	return b.Bytes()
}
