package rules

import (
	"encoding/json"
	"errors"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
)

// JSFunction is a function the export implements in JavaScript (an Atlas
// Function, source/reference/config/functions.txt): its configuration and
// its source. Package jsfunc runs the functions that have a source; a
// %function call to one without (an export copied without its sources)
// is the warning rules/js-function, and each such call fails (access
// denied) until a Go function (evaluator.WithFunction) or a test's stub
// provides it.
type JSFunction struct {
	// Name is the function's name: its path below functions/ without
	// ".js" in the current layout ("utils/helper" is
	// functions/utils/helper.js), the "name" of its folder's config.json
	// (else the folder's name) in the old layout.
	Name string
	// File is where the export defines it: functions/<name>.js or
	// functions/<name>/source.js when present, else the config.json that
	// names it (an export copied without its sources).
	File string
	// At is the function's entry in its config.json (the zero At when no
	// config names it).
	At At
	// Source is the JavaScript source and SourceFile its file; SourceFile
	// is "" when the export has no source for the function.
	Source     string
	SourceFile string
	// Private, RunAsSystem, CanEvaluate and DisableArgLogs are the
	// function's configuration (source/reference/config/functions.txt):
	// a private function cannot be called by a client; a function that
	// runs as system bypasses the rules; CanEvaluate (nil: none) must hold
	// before a call runs. A function without a configuration (a source
	// no config.json names, or whose config.json is not JSON) is read as
	// private, run as the calling user (fail closed).
	Private        bool
	RunAsSystem    bool
	CanEvaluate    Expr
	DisableArgLogs bool
	// RunAsUserID and RunAsUserIDScriptSource are "run_as_user_id" and
	// "run_as_user_id_script_source": the user the function runs as, or
	// the source of a function that returns that user's id ("" when
	// absent; RunAsSystem overrides both). rulegate does not run a
	// function as a chosen user: unless it runs as system, its calls fail
	// (rules/function-config warns of it).
	RunAsUserID             string
	RunAsUserIDScriptSource string
}

// functionKeys are the keys of a function's configuration: the current
// manifest's (source/reference/config/functions.txt) and the old
// layout's "id" (source/includes/appschema-functions.rst).
var functionKeys = []string{"name", "private", "can_evaluate", "disable_arg_logs", "run_as_system", "run_as_user_id", "run_as_user_id_script_source", "id"}

// jsFunctions reads the JavaScript functions of the export, in either
// layout whatever the app's: the current one's manifest
// functions/config.json (an array of configurations) and sources
// functions/<name>.js, where a name may have folders
// (functions/utils/helper.js is "utils/helper", as the manifest names
// it: "The name must match the file name of a source code file"); and
// the old one's folders functions/<name>/ holding config.json and
// source.js (source/includes/appschema-functions.rst). A folder directly
// under functions/ holding either file is an old-layout function;
// functions/node_modules holds the functions' dependencies
// (source/functions/dependencies.txt) and is not read.
//
// A configuration file that is not JSON is a warning, not an error:
// App Services' command line tools refuse to import it (they parse it
// with encoding/json), but the function is still the folder's or the
// source's, and rulegate reads it as private and run as the calling user
// (fail closed). Other problems of a configuration (a wrong type, an
// unknown key, a malformed can_evaluate) are errors, as elsewhere.
func (l *loader) jsFunctions() {
	if !isDir(l.fsys, "functions") {
		return
	}
	byName := map[string]*JSFunction{}
	var sources []string // current-layout sources, in walk order
	configured := func(f *JSFunction, file string) {
		if prev := byName[f.Name]; prev != nil {
			at := f.At
			if at.File == nil { // an old-layout folder without config.json
				at.File = l.app.Files[f.File]
			}
			where := prev.At.FileName()
			if where == "" {
				where = prev.File
			}
			l.errs.Add(source.Errorf(at.File, at.Offset, at.Ptr, CodeFunctionConfig, "function %q is configured in %s already", f.Name, where))
			return
		}
		f.File = file
		byName[f.Name] = f
	}
	_ = fs.WalkDir(l.fsys, "functions", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // the layout's walk reports what cannot be read
		}
		switch {
		case d.IsDir() && name == "functions/node_modules":
			// The functions' dependencies (source/functions/dependencies.txt),
			// not functions.
			return fs.SkipDir
		case d.IsDir() && path.Dir(name) == "functions" && (isFile(l.fsys, path.Join(name, "config.json")) || isFile(l.fsys, path.Join(name, "source.js"))):
			if f := l.legacyFunction(name); f != nil {
				configured(f, f.File)
			}
			return fs.SkipDir
		case d.IsDir():
		case name == "functions/config.json":
			for _, f := range l.functionManifest(name) {
				configured(f, name)
			}
		case strings.HasSuffix(name, ".js"):
			sources = append(sources, name)
		}
		return nil
	})
	for _, name := range sources {
		fn := strings.TrimSuffix(strings.TrimPrefix(name, "functions/"), ".js")
		f := byName[fn]
		if f != nil && f.SourceFile != "" {
			continue // an old-layout folder's source.js wins
		}
		file := l.read(name)
		if file == nil {
			continue
		}
		if f == nil {
			f = &JSFunction{Name: fn, Private: true}
			byName[fn] = f
			if !l.manifestBroken {
				l.warn(source.Errorf(file, 0, "", CodeFunctionConfig, "%s has no entry in functions/config.json: App Services adds one with its default settings when the app is imported, which the documentation does not give; rulegate reads %q as private (callable from rules and other functions, not by clients) and run as the calling user", name, fn))
			}
		}
		f.Source, f.SourceFile, f.File = string(file.Data), name, name
	}
	for _, f := range byName {
		l.app.JSFunctions = append(l.app.JSFunctions, f)
	}
	sort.Slice(l.app.JSFunctions, func(i, j int) bool { return l.app.JSFunctions[i].Name < l.app.JSFunctions[j].Name })
}

// warn records a warning of the loader, which Validate reports (LoadApp's
// error holds errors only).
func (l *loader) warn(e *source.Error) {
	e.Severity = source.SeverityWarning
	l.app.loadWarnings.Add(e)
}

// configJSON parses a function's or trigger's configuration file; a file
// that is not JSON is a warning (see jsFunctions), and nil.
func (l *loader) configJSON(f *source.File, what string) *source.Node {
	n, err := source.ParseJSON(f)
	if err == nil {
		return n
	}
	var e *source.Error
	if !errors.As(err, &e) {
		e = &source.Error{File: f.Name, Msg: err.Error()}
	}
	w := *e
	w.Code = CodeFunctionConfig
	w.Msg = "not JSON (" + e.Msg + "), which App Services' command line tools refuse to import; rulegate reads " + what + " as private and run as the calling user"
	l.warn(&w)
	return nil
}

// functionManifest reads the current layout's functions/config.json.
func (l *loader) functionManifest(name string) []*JSFunction {
	f := l.read(name)
	if f == nil {
		return nil
	}
	root := l.configJSON(f, "every function")
	if root == nil {
		l.manifestBroken = true
		return nil
	}
	p := &parser{f: f}
	var out []*JSFunction
	for _, e := range p.array(root) {
		fn := p.functionConfig(e)
		if fn == nil {
			continue
		}
		if fn.Name == "" {
			p.errorf(e, CodeRequired, `a function's configuration needs "name" (the name of its source file, functions/<name>.js)`)
			continue
		}
		out = append(out, fn)
	}
	l.addErr(p.done())
	return out
}

// legacyFunction reads an old-layout function folder functions/<name>/.
func (l *loader) legacyFunction(dir string) *JSFunction {
	folder := strings.TrimPrefix(dir, "functions/")
	fn := &JSFunction{Name: folder}
	cfg := path.Join(dir, "config.json")
	if isFile(l.fsys, cfg) {
		f := l.read(cfg)
		if f == nil {
			return nil
		}
		fn.File = cfg
		if root := l.configJSON(f, "the function "+folder); root == nil {
			fn.Private = true
			fn.At = At{File: f}
		} else {
			p := &parser{f: f}
			parsed := p.functionConfig(root)
			l.addErr(p.done())
			if parsed == nil {
				return nil
			}
			if parsed.Name == "" {
				parsed.Name = folder
			}
			parsed.File = cfg
			fn = parsed
		}
	} else {
		fn.Private = true
	}
	src := path.Join(dir, "source.js")
	if isFile(l.fsys, src) {
		if f := l.read(src); f != nil {
			fn.Source, fn.SourceFile, fn.File = string(f.Data), src, src
			if fn.At.File == nil {
				l.warn(source.Errorf(f, 0, "", CodeFunctionConfig, "the function folder %s has source.js but no config.json; rulegate reads %q as private (callable from rules and other functions, not by clients) and run as the calling user", dir, folder))
			}
		}
	}
	return fn
}

// functionConfig parses one function's configuration object; nil when n
// is not an object.
func (p *parser) functionConfig(n *source.Node) *JSFunction {
	if n.Kind != source.Object {
		p.errorf(n, CodeSchema, "a function's configuration must be an object, got %s", n.Kind.Article())
		return nil
	}
	fn := &JSFunction{At: p.at(n)}
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "name":
			fn.Name = p.str(v)
		case "private":
			fn.Private = p.boolean(v)
		case "can_evaluate":
			fn.CanEvaluate = p.expr(v)
		case "disable_arg_logs":
			fn.DisableArgLogs = p.boolean(v)
		case "run_as_system":
			fn.RunAsSystem = p.boolean(v)
		case "run_as_user_id":
			fn.RunAsUserID = p.str(v)
		case "run_as_user_id_script_source":
			fn.RunAsUserIDScriptSource = p.str(v)
		case "id":
			p.str(v)
		default:
			return false
		}
		return true
	}, functionKeys...)
	if fn.RunAsUserID != "" && fn.RunAsUserIDScriptSource != "" {
		p.errorf(n, CodeFunctionConfig, "function %q gives both run_as_user_id and run_as_user_id_script_source, which the reference says cannot be used together", fn.Name)
	}
	return fn
}

// jsFunction returns the JavaScript function named name, or nil.
func (a *App) jsFunction(name string) *JSFunction {
	for _, f := range a.JSFunctions {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// jsFunctions checks the functions' configuration: can_evaluate is decided
// per request, before any document is read (as the Data API's); a
// function the configuration names without a source, or that runs as a
// chosen user, cannot run in rulegate (warnings).
func (v *validator) jsFunctions() {
	for _, f := range v.app.JSFunctions {
		if f.CanEvaluate != nil {
			v.expr(f.CanEvaluate, ctxRequest)
		}
		if f.SourceFile == "" && !v.funcs[f.Name] {
			v.warnAt(f.At, CodeFunctionSource, "function %q has no source (%s): each call fails and denies until a Go function (evaluator.WithFunction) provides it, or the tests stub its result", f.Name, f.wantSource())
		}
		if !f.RunAsSystem && (f.RunAsUserID != "" || f.RunAsUserIDScriptSource != "") {
			v.warnAt(f.At, CodeFunctionConfig, "function %q runs as a user its configuration chooses (run_as_user_id or run_as_user_id_script_source), which rulegate does not do: each call fails and denies", f.Name)
		}
		if !f.Private {
			v.publicHook(f)
		}
	}
}

// publicHook warns of a function that is not private although rulegate
// runs it with a user object (the user creation function) or an
// authentication event (an enabled authentication trigger's): any client
// can call it too, with a user object or event of its choosing.
func (v *validator) publicHook(f *JSFunction) {
	system := ""
	if f.RunAsSystem {
		system = ", and it runs as system"
	}
	if c := v.app.CustomUserData; c != nil && c.OnUserCreationFunctionName == f.Name {
		v.warnAt(f.At, CodeFunctionConfig, "function %q is the user creation function (auth/custom_user_data.json) and not private: any client can call it (functions/call) with a user object of its choosing%s; make it private", f.Name, system)
	}
	for _, t := range v.app.Triggers {
		if !t.Disabled && t.FunctionName == f.Name {
			v.warnAt(f.At, CodeFunctionConfig, "function %q is the function of the authentication trigger %q and not private: any client can call it (functions/call) with an authentication event of its choosing%s; make it private", f.Name, t.Name, system)
			return
		}
	}
}

// wantSource is the file the function's source belongs in.
func (f *JSFunction) wantSource() string {
	if dir := path.Dir(f.File); f.File != "functions/config.json" && path.Base(f.File) == "config.json" {
		return dir + "/source.js"
	}
	return "functions/" + f.Name + ".js"
}

// executeCall finds the calls of context.functions.execute with a string
// literal name in a function's source (source/functions/context.txt,
// context.functions).
var executeCall = regexp.MustCompile("context\\.functions\\.execute\\(\\s*[\"'`]([^\"'`]+)[\"'`]")

// unusedFunctions warns of the private functions nothing calls: no
// %function of a rule, a can_evaluate or the Data API; no trigger; not
// the custom user data's on_user_creation_function_name, nor a
// local-userpass provider's confirmation or reset function, nor a
// custom-function provider's authFunctionName; not named by
// context.functions.execute("<name>", ...) in another function's source.
// The scan of sources is textual: a name built at run time is not seen
// (and a call inside a comment counts), so a function called only that
// way is reported. A function that is not private is callable by clients
// and never unused.
func (v *validator) unusedFunctions() {
	used := map[string]bool{}
	for name := range v.called {
		used[name] = true
	}
	for _, r := range v.app.triggerRefs {
		used[r.function] = true
	}
	for _, t := range v.app.Triggers {
		used[t.FunctionName] = true
	}
	if c := v.app.CustomUserData; c != nil && c.OnUserCreationFunctionName != "" {
		used[c.OnUserCreationFunctionName] = true
	}
	for _, p := range v.app.Providers {
		if c := p.UserPass; c != nil {
			used[c.ConfirmationFunctionName] = true
			used[c.ResetFunctionName] = true
		}
		var cfg struct {
			AuthFunctionName string `json:"authFunctionName"`
		}
		if p.Type == "custom-function" && json.Unmarshal(p.Config, &cfg) == nil {
			used[cfg.AuthFunctionName] = true
		}
	}
	for _, f := range v.app.JSFunctions {
		for _, m := range executeCall.FindAllStringSubmatch(f.Source, -1) {
			if m[1] != f.Name {
				used[m[1]] = true
			}
		}
	}
	for _, f := range v.app.JSFunctions {
		if f.Private && !used[f.Name] {
			at := f.At
			if at.File == nil {
				at.File = v.app.Files[f.File]
			}
			v.warnAt(at, CodeUnusedFunction, "function %q is private and nothing calls it: no rule's %%function or can_evaluate, no trigger, no custom user data or provider setting, and no context.functions.execute(%q) in another function's source", f.Name, f.Name)
		}
	}
}
