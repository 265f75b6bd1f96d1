package rules

import (
	"encoding/json"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// JSFunction is a function the export implements in JavaScript (an Atlas
// Function, source/reference/config/functions.txt): rulegate does not run
// it; a %function that calls it is the warning rules/js-function, and each
// call fails (access denied), until a Go function (evaluator.WithFunction)
// or a test's stub provides it.
type JSFunction struct {
	// Name is the function's name.
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
	// before a call runs.
	Private        bool
	RunAsSystem    bool
	CanEvaluate    Expr
	DisableArgLogs bool
}

// Trigger is an authentication trigger of the export (triggers/<name>.json,
// source/reference/config/triggers.txt): the function FunctionName runs
// after each event of Operation ("CREATE", "LOGIN" or "DELETE") by one of
// Providers (empty: every provider).
type Trigger struct {
	At
	Name         string
	Disabled     bool
	Operation    string
	Providers    []string
	FunctionName string
}

// loadJSFunctions finds the JavaScript functions of the export by their
// files alone: functions/<name>.js and functions/config.json (an array of
// {"name": ...}; current layout), functions/<name>/source.js and
// functions/<name>/config.json (realm-cli v1 and Stitch layout). The
// configs are read only for names: a config that does not parse still
// names its folder's function, and its problems are the layout loader's
// to report.
func loadJSFunctions(fsys fs.FS, app *App) {
	entries, err := fs.ReadDir(fsys, "functions")
	if err != nil {
		return
	}
	found := map[string]string{}
	// set records a function's file; a source wins over a config.
	set := func(name, file string) {
		if name == "" {
			return
		}
		if prev, ok := found[name]; ok && strings.HasSuffix(prev, ".js") {
			return
		}
		found[name] = file
	}
	for _, e := range entries {
		name := path.Join("functions", e.Name())
		switch {
		case e.IsDir():
			if _, err := fs.Stat(fsys, path.Join(name, "source.js")); err == nil {
				set(e.Name(), path.Join(name, "source.js"))
				continue
			}
			cfg := path.Join(name, "config.json")
			data, err := fs.ReadFile(fsys, cfg)
			if err != nil {
				continue
			}
			var c struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(data, &c) != nil || c.Name == "" {
				c.Name = e.Name()
			}
			set(c.Name, cfg)
		case strings.HasSuffix(e.Name(), ".js"):
			set(strings.TrimSuffix(e.Name(), ".js"), name)
		case e.Name() == "config.json":
			data, err := fs.ReadFile(fsys, name)
			if err != nil {
				continue
			}
			var list []struct {
				Name string `json:"name"`
			}
			if json.Unmarshal(data, &list) != nil {
				continue
			}
			for _, f := range list {
				set(f.Name, name)
			}
		}
	}
	for n, file := range found {
		app.JSFunctions = append(app.JSFunctions, &JSFunction{Name: n, File: file})
	}
	sort.Slice(app.JSFunctions, func(i, j int) bool { return app.JSFunctions[i].Name < app.JSFunctions[j].Name })
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
