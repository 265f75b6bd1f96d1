package rules

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
)

// LoadApp reads the rules of an exported App Services app from fsys, rooted
// at the app directory (the folder holding data_sources/, auth/,
// functions/; source/reference/config/data_sources.txt and auth.txt):
//
//	data_sources/<service>/default_rule.json          -> DataSource.DefaultRule
//	data_sources/<service>/<db>/<coll>/rules.json     -> DataSource.Collections
//	auth/custom_user_data.json                        -> App.CustomUserData
//	functions/<name>.expr                             -> App.Functions
//
// Every data_sources/<service> folder is a DataSource, even one holding only
// config.json. values/<name>.json, environments/<tag>.json and
// realm_config.json's "environment" are App.Values, App.Environments and
// App.Environment (values.go); of functions' JavaScript and config.json
// files only the function names are read (App.JSFunctions, jsfunctions.go).
// Other files (config.json, schema.json, relationships.json, ...) are
// ignored. File names in diagnostics are the slash paths relative to the
// app directory.
//
// Every problem of every file is reported: the error is a sorted
// source.ErrorList (nil when all files parsed). The App is returned even on
// error, holding what did parse, so that tools can show more than the
// first problem; do not evaluate rules from an App that came with an error.
func LoadApp(fsys fs.FS) (*App, error) {
	app := &App{Files: map[string]*source.File{}}
	var errs source.ErrorList
	sources := map[string]*DataSource{}
	dataSource := func(name string) *DataSource {
		ds := sources[name]
		if ds == nil {
			ds = &DataSource{Name: name}
			sources[name] = ds
		}
		return ds
	}
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
	addErr := func(err error) {
		if l, ok := err.(source.ErrorList); ok {
			errs = append(errs, l...)
		} else if e, ok := err.(*source.Error); ok {
			errs.Add(e)
		}
	}
	walkErr := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			errs.Add(&source.Error{File: name, Code: CodeFile, Msg: "cannot read: " + err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		parts := strings.Split(name, "/")
		if d.IsDir() {
			if len(parts) == 2 && parts[0] == "data_sources" {
				dataSource(parts[1])
			}
			return nil
		}
		switch {
		case len(parts) == 3 && parts[0] == "data_sources" && parts[2] == "default_rule.json":
			if f := read(name); f != nil {
				dr, err := ParseDefaultRule(f)
				if err != nil {
					addErr(err)
				}
				dataSource(parts[1]).DefaultRule = dr
			}
		case len(parts) == 5 && parts[0] == "data_sources" && parts[4] == "rules.json":
			if f := read(name); f != nil {
				c, err := ParseRules(f)
				if err != nil {
					addErr(err)
					break
				}
				c.Dir = path.Dir(name)
				if c.Database == "" {
					c.Database = parts[2]
				}
				if c.Collection == "" {
					c.Collection = parts[3]
				}
				ds := dataSource(parts[1])
				ds.Collections = append(ds.Collections, c)
			}
		case name == "auth/custom_user_data.json":
			if f := read(name); f != nil {
				cud, err := ParseCustomUserData(f)
				if err != nil {
					addErr(err)
				}
				app.CustomUserData = cud
			}
		case len(parts) >= 2 && parts[0] == "functions" && strings.HasSuffix(name, ".expr"):
			if f := read(name); f != nil {
				fn := strings.TrimSuffix(strings.TrimPrefix(name, "functions/"), ".expr")
				app.Functions = append(app.Functions, &Function{At: At{File: f}, Name: fn, Source: string(f.Data)})
			}
		}
		return nil
	})
	if walkErr != nil {
		errs.Add(&source.Error{Code: CodeFile, Msg: "cannot read the app: " + walkErr.Error()})
	}
	for _, ds := range sources {
		sort.SliceStable(ds.Collections, func(i, j int) bool {
			a, b := ds.Collections[i], ds.Collections[j]
			if a.Namespace() != b.Namespace() {
				return a.Namespace() < b.Namespace()
			}
			return a.Dir < b.Dir
		})
		app.DataSources = append(app.DataSources, ds)
	}
	sort.Slice(app.DataSources, func(i, j int) bool { return app.DataSources[i].Name < app.DataSources[j].Name })
	sort.Slice(app.Functions, func(i, j int) bool { return app.Functions[i].Name < app.Functions[j].Name })
	loadValues(fsys, app, &errs)
	loadJSFunctions(fsys, app)
	errs.Sort()
	app.LoadErrors = errs
	return app, errs.Err()
}

// DataSource returns the data source named name, or nil.
func (a *App) DataSource(name string) *DataSource {
	for _, ds := range a.DataSources {
		if ds.Name == name {
			return ds
		}
	}
	return nil
}

// Function returns the function named name (functions/<name>.expr), or nil.
func (a *App) Function(name string) *Function {
	for _, fn := range a.Functions {
		if fn.Name == name {
			return fn
		}
	}
	return nil
}

// Collection returns the rules.json of namespace ("<db>.<coll>") and the
// data source holding it, or nil, nil when no data source has rules for it.
// When several data sources have rules for the namespace, the one named by
// custom_user_data.json's mongo_service_name wins, else the first by name.
func (a *App) Collection(namespace string) (*Collection, *DataSource) {
	var found *Collection
	var foundDS *DataSource
	for _, ds := range a.DataSources {
		for _, c := range ds.Collections {
			if c.Namespace() != namespace {
				continue
			}
			if found == nil {
				found, foundDS = c, ds
			} else if a.CustomUserData != nil && ds.Name == a.CustomUserData.MongoServiceName {
				found, foundDS = c, ds
			}
			break
		}
	}
	return found, foundDS
}

// DefaultRuleFor returns the default rule (default_rule.json) that applies
// to namespace when it has no rules.json of its own ("default rules apply to
// all collections in a data source that don't have more specific
// collection-level rules", source/reference/config/data_sources.txt):
//
//   - the default rule of the data source that has rules for the namespace
//     (nil when that data source has none);
//   - else, when exactly one data source has a default rule, that one;
//   - else the default rule of the data source named by
//     custom_user_data.json's mongo_service_name;
//   - else nil: which data source a namespace belongs to is ambiguous, and
//     rulegate fails closed rather than guess.
//
// DefaultRuleFor does not look at whether the namespace has a rules.json:
// callers use the collection's rules when Collection finds them and they
// define at least one role; a rules.json without roles falls back to the
// default roles ("If there are no collection-level roles, the request
// falls back to the data source's default roles", source/rules/roles.txt).
func (a *App) DefaultRuleFor(namespace string) *DefaultRule {
	if _, ds := a.Collection(namespace); ds != nil {
		return ds.DefaultRule
	}
	var with []*DataSource
	for _, ds := range a.DataSources {
		if ds.DefaultRule != nil {
			with = append(with, ds)
		}
	}
	if len(with) == 1 {
		return with[0].DefaultRule
	}
	if a.CustomUserData != nil {
		if ds := a.DataSource(a.CustomUserData.MongoServiceName); ds != nil {
			return ds.DefaultRule
		}
	}
	return nil
}
