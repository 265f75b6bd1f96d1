package rules

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
)

// LoadApp reads the rules of an exported App Services app from fsys, rooted
// at the app directory. Both export layouts are read, and which one fsys
// holds is detected: the current one (data_sources/, auth/, functions/;
// source/reference/config/data_sources.txt and auth.txt)
//
//	data_sources/<service>/default_rule.json          -> DataSource.DefaultRule
//	data_sources/<service>/<db>/<coll>/rules.json     -> DataSource.Collections
//	data_sources/<service>/<db>/<coll>/schema.json    -> DataSource.Schemas
//	auth/custom_user_data.json                        -> App.CustomUserData
//	auth/providers.json                               -> App.Providers
//	https_endpoints/data_api_config.json              -> App.DataAPI (or http_endpoints/, realm-cli v2)
//	realm_config.json, else root_config.json          -> App.ID, App.Name ("app_id", "name")
//	functions/<name>.expr                             -> App.Functions
//
// and, when fsys has none of data_sources/, auth/, realm_config.json and
// root_config.json but a services/ folder, a stitch.json or a config.json,
// the realm-cli v1 / Stitch layout
// (source/reference/config/legacy.txt):
//
//	services/<service>/config.json                    -> a DataSource when its "type" is mongodb-atlas or mongodb-datalake
//	services/<service>/rules/<db>.<coll>.json         -> DataSource.Collections (Collection.InlineSchema keeps "schema", also a DataSource.Schemas entry)
//	config.json or stitch.json custom_user_data_config -> App.CustomUserData
//	config.json or stitch.json "app_id", "name"        -> App.ID, App.Name
//	auth_providers/<name>.json                        -> App.Providers
//	functions/<name>.expr                             -> App.Functions
//
// Every data_sources/<service> folder is a DataSource, even one holding only
// config.json. values/<name>.json, environments/<tag>.json and
// realm_config.json's "environment" are App.Values, App.Environments and
// App.Environment (values.go). In either layout, functions/config.json
// and functions/**/*.js (current) and functions/<name>/config.json and
// source.js (old) are App.JSFunctions, configuration and source
// (jsfunctions.go), and triggers/<name>.json the authentication triggers
// App.Triggers (triggers.go).
// Other files (config.json of a data source, relationships.json, the rules
// of services that are not data sources, ...) are ignored. File names in
// diagnostics are the slash paths relative to the app directory.
//
// Every problem of every file is reported: the error is a sorted
// source.ErrorList (nil when all files parsed). The App is returned even on
// error, holding what did parse, so that tools can show more than the
// first problem; do not evaluate rules from an App that came with an error.
func LoadApp(fsys fs.FS) (*App, error) {
	l := &loader{fsys: fsys, app: &App{Files: map[string]*source.File{}}, sources: map[string]*DataSource{}}
	if isLegacy(fsys) {
		l.legacy()
	} else {
		l.current()
	}
	app := l.app
	for _, ds := range l.sources {
		for _, c := range ds.Collections {
			// An old rule file's inline schema is the collection's schema.
			if c.InlineSchema != nil {
				ds.Schemas = append(ds.Schemas, &Schema{Database: c.Database, Collection: c.Collection, Node: c.InlineSchema})
			}
		}
		for _, s := range ds.Schemas {
			// The namespace of the folder's rules.json, whose keys win
			// over the folder names.
			for _, c := range ds.Collections {
				if s.Dir != "" && c.Dir == s.Dir {
					s.Database, s.Collection = c.Database, c.Collection
				}
			}
		}
		sort.SliceStable(ds.Schemas, func(i, j int) bool {
			a, b := ds.Schemas[i], ds.Schemas[j]
			if a.Namespace() != b.Namespace() {
				return a.Namespace() < b.Namespace()
			}
			return a.Dir < b.Dir
		})
		sort.SliceStable(ds.Collections, func(i, j int) bool {
			a, b := ds.Collections[i], ds.Collections[j]
			if a.Namespace() != b.Namespace() {
				return a.Namespace() < b.Namespace()
			}
			return a.FileName() < b.FileName()
		})
		app.DataSources = append(app.DataSources, ds)
	}
	sort.Slice(app.DataSources, func(i, j int) bool { return app.DataSources[i].Name < app.DataSources[j].Name })
	sort.Slice(app.Functions, func(i, j int) bool { return app.Functions[i].Name < app.Functions[j].Name })
	loadValues(l.fsys, app, &l.errs)
	l.jsFunctions()
	l.triggers()
	l.sortProviders()
	l.errs.Sort()
	app.LoadErrors = l.errs
	return app, l.errs.Err()
}

// IsApp reports whether fsys holds an exported app in either layout: a
// data_sources/ folder (current layout), or a services/ folder beside a
// stitch.json or config.json (realm-cli v1 / Stitch layout; a services/
// folder alone is too common to mean an app).
func IsApp(fsys fs.FS) bool {
	return isDir(fsys, "data_sources") || (isDir(fsys, "services") && legacyConfig(fsys))
}

func isDir(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && st.IsDir()
}

func isFile(fsys fs.FS, name string) bool {
	st, err := fs.Stat(fsys, name)
	return err == nil && !st.IsDir()
}

// legacyConfig reports whether fsys has an app configuration file of the
// old layout.
func legacyConfig(fsys fs.FS) bool {
	return isFile(fsys, "stitch.json") || isFile(fsys, "config.json")
}

// isLegacy reports whether fsys holds the realm-cli v1 / Stitch layout:
// nothing of the current layout (data_sources/, auth/, realm_config.json,
// root_config.json), and a services/ folder or an app configuration file
// of the old layout (stitch.json, config.json).
func isLegacy(fsys fs.FS) bool {
	if isDir(fsys, "data_sources") || isDir(fsys, "auth") || isFile(fsys, "realm_config.json") || isFile(fsys, "root_config.json") {
		return false
	}
	return isDir(fsys, "services") || legacyConfig(fsys)
}

// loader collects what LoadApp reads, and every problem.
type loader struct {
	fsys    fs.FS
	app     *App
	errs    source.ErrorList
	sources map[string]*DataSource
	// manifestBroken: functions/config.json is not JSON (a warning), so
	// its sources are not each without a configuration.
	manifestBroken bool
}

func (l *loader) dataSource(name string) *DataSource {
	ds := l.sources[name]
	if ds == nil {
		ds = &DataSource{Name: name}
		l.sources[name] = ds
	}
	return ds
}

// read reads a file of the app and records it in App.Files; nil (and an
// error) when it cannot be read.
func (l *loader) read(name string) *source.File {
	data, err := fs.ReadFile(l.fsys, name)
	if err != nil {
		l.errs.Add(&source.Error{File: name, Code: CodeFile, Msg: "cannot read: " + err.Error()})
		return nil
	}
	f := source.NewFile(name, data)
	l.app.Files[name] = f
	return f
}

func (l *loader) addErr(err error) {
	if list, ok := err.(source.ErrorList); ok {
		l.errs = append(l.errs, list...)
	} else if e, ok := err.(*source.Error); ok {
		l.errs.Add(e)
	}
}

// walk calls fn for every file and folder of the app, reporting the ones
// that cannot be read.
func (l *loader) walk(fn func(name string, parts []string, dir bool)) {
	walkErr := fs.WalkDir(l.fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			l.errs.Add(&source.Error{File: name, Code: CodeFile, Msg: "cannot read: " + err.Error()})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		fn(name, strings.Split(name, "/"), d.IsDir())
		return nil
	})
	if walkErr != nil {
		l.errs.Add(&source.Error{Code: CodeFile, Msg: "cannot read the app: " + walkErr.Error()})
	}
}

// function reads functions/<name>.expr (both layouts).
func (l *loader) function(name string) {
	if f := l.read(name); f != nil {
		fn := strings.TrimSuffix(strings.TrimPrefix(name, "functions/"), ".expr")
		l.app.Functions = append(l.app.Functions, &Function{At: At{File: f}, Name: fn, Source: string(f.Data)})
	}
}

// current reads the current layout.
func (l *loader) current() {
	l.walk(func(name string, parts []string, dir bool) {
		if dir {
			if len(parts) == 2 && parts[0] == "data_sources" {
				l.dataSource(parts[1])
			}
			return
		}
		switch {
		case len(parts) == 3 && parts[0] == "data_sources" && parts[2] == "default_rule.json":
			if f := l.read(name); f != nil {
				dr, err := ParseDefaultRule(f)
				if err != nil {
					l.addErr(err)
				}
				l.dataSource(parts[1]).DefaultRule = dr
			}
		case len(parts) == 5 && parts[0] == "data_sources" && parts[4] == "rules.json":
			if f := l.read(name); f != nil {
				c, err := ParseRules(f)
				if err != nil {
					l.addErr(err)
					return
				}
				c.Dir = path.Dir(name)
				c.pathDB, c.pathColl = parts[2], parts[3]
				l.addCollection(l.dataSource(parts[1]), c)
			}
		case len(parts) == 5 && parts[0] == "data_sources" && parts[4] == "schema.json":
			if f := l.read(name); f != nil {
				n, err := source.ParseJSON(f)
				if err != nil {
					l.addErr(err)
					return
				}
				ds := l.dataSource(parts[1])
				ds.Schemas = append(ds.Schemas, &Schema{Database: parts[2], Collection: parts[3], Dir: path.Dir(name), Node: n})
			}
		case name == "auth/custom_user_data.json":
			if f := l.read(name); f != nil {
				cud, err := ParseCustomUserData(f)
				if err != nil {
					l.addErr(err)
				}
				l.app.CustomUserData = cud
			}
		case name == "auth/providers.json":
			l.providersFile(name)
		case len(parts) >= 2 && parts[0] == "functions" && strings.HasSuffix(name, ".expr"):
			l.function(name)
		}
	})
	l.currentAppConfig()
	l.dataAPI()
}

// addCollection adds a parsed rule file to its data source; the database
// and collection keys fall back to the names its path gives.
func (l *loader) addCollection(ds *DataSource, c *Collection) {
	if c.Database == "" {
		c.Database = c.pathDB
	}
	if c.Collection == "" {
		c.Collection = c.pathColl
	}
	ds.Collections = append(ds.Collections, c)
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

// Schema returns the schema of namespace (a schema.json, or an old rule
// file's inline schema), or nil. The data source is chosen as Collection
// chooses it: the one named by custom_user_data.json's mongo_service_name
// when several have a schema for the namespace, else the first by name.
func (a *App) Schema(namespace string) *Schema {
	var found *Schema
	for _, ds := range a.DataSources {
		for _, s := range ds.Schemas {
			if s.Namespace() != namespace {
				continue
			}
			if found == nil || a.CustomUserData != nil && ds.Name == a.CustomUserData.MongoServiceName {
				found = s
			}
			break
		}
	}
	return found
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
//
// A reserved namespace (Reserved) has no default rule.
func (a *App) DefaultRuleFor(namespace string) *DefaultRule {
	if Reserved(namespace) {
		return nil
	}
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

// Reserved reports whether namespace ("<db>.<coll>") is one of MongoDB's
// own: a collection of the admin, local (the oplog of every write) or
// config database, compared without case as MongoDB compares database
// names, or a system collection ("system." prefix) of any database (the
// MongoDB manual, "Reserved Database Names", "System Collections"). No
// default rule governs it, so only a rules.json naming it opens it: a rule
// written for an app's data never reaches password hashes, sessions or
// the oplog.
func Reserved(namespace string) bool {
	db, coll, _ := strings.Cut(namespace, ".")
	switch strings.ToLower(db) {
	case "admin", "local", "config":
		return true
	}
	return strings.HasPrefix(coll, "system.")
}
