package rules

import (
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
)

// The realm-cli v1 / Stitch export layout (mongodb/docs-app-services
// source/reference/config/legacy.txt and the pages it includes:
// source/includes/appschema-mongodb.rst, appschema-configuration.rst,
// appschema-functions.rst):
//
//	services/<service>/config.json                 {"name", "type", "id", "config", ...}
//	services/<service>/rules/<db>.<coll>.json      a data source's collection rules
//	services/<service>/rules/<rule>.json           the rules of any other service (ignored)
//	config.json or stitch.json                     the app configuration, with custom_user_data_config
//	functions/<name>/config.json, source.js        functions (JavaScript: not read)

// dataSourceTypes are the service types of the old layout whose rules/
// hold collection rules: Atlas clusters and Data Lakes
// (source/includes/appschema-mongodb.rst, "default MongoDB service name is
// mongodb-atlas ... mongodb-datalake").
var dataSourceTypes = map[string]bool{"mongodb-atlas": true, "mongodb-datalake": true}

// legacyService is one services/<service> folder of the old layout.
type legacyService struct {
	config  string   // path of config.json, "" when absent
	typ, id string   // its "type" and "id"; typ "" when unreadable
	rules   []string // paths of rules/*.json
}

// legacy reads the old layout.
func (l *loader) legacy() {
	services := map[string]*legacyService{}
	service := func(name string) *legacyService {
		s := services[name]
		if s == nil {
			s = &legacyService{}
			services[name] = s
		}
		return s
	}
	var appConfigs []string
	l.walk(func(name string, parts []string, dir bool) {
		switch {
		case dir:
		case len(parts) == 3 && parts[0] == "services" && parts[2] == "config.json":
			service(parts[1]).config = name
		case len(parts) == 4 && parts[0] == "services" && parts[2] == "rules" && strings.HasSuffix(name, ".json"):
			s := service(parts[1])
			s.rules = append(s.rules, name)
		case name == "config.json" || name == "stitch.json":
			appConfigs = append(appConfigs, name)
		case len(parts) == 2 && parts[0] == "auth_providers" && strings.HasSuffix(name, ".json"):
			l.providerFile(name)
		case len(parts) >= 2 && parts[0] == "functions" && strings.HasSuffix(name, ".expr"):
			l.function(name)
		}
	})
	names := make([]string, 0, len(services))
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := services[name]
		l.serviceConfig(s)
		switch {
		case s.config == "" && len(s.rules) > 0:
			if f := l.read(s.rules[0]); f != nil {
				l.errs.Add(source.Errorf(f, 0, "", CodeFile, "service %q has rule files but no services/%s/config.json: its \"type\" says whether they are collection rules", name, name))
			}
		case !dataSourceTypes[s.typ]:
			// Not a data source (http, aws, twilio, ...), or a config.json
			// whose problem is reported: its rules are not collection rules.
		default:
			ds := l.dataSource(name)
			for _, r := range s.rules {
				l.legacyRules(ds, r)
			}
		}
	}
	l.legacyCustomUserData(appConfigs, services)
}

// serviceConfig reads the "type" and "id" of services/<service>/config.json;
// its other keys (name, config, secret_config, version) configure the
// connection and are not read.
func (l *loader) serviceConfig(s *legacyService) {
	if s.config == "" {
		return
	}
	f := l.read(s.config)
	if f == nil {
		return
	}
	p := &parser{f: f}
	if root := p.root(); root != nil {
		switch t := root.Get("type"); {
		case t == nil:
			p.errorf(root, CodeRequired, `a service config.json needs a "type" (mongodb-atlas for a data source)`)
		default:
			s.typ = p.str(t)
		}
		if id := root.Get("id"); id != nil {
			s.id = p.str(id)
		}
	}
	l.addErr(p.done())
}

// legacyRules reads services/<service>/rules/<db>.<coll>.json.
func (l *loader) legacyRules(ds *DataSource, name string) {
	f := l.read(name)
	if f == nil {
		return
	}
	c, err := parseRules(f, true)
	if err != nil {
		l.addErr(err)
		return
	}
	base := strings.TrimSuffix(name[strings.LastIndexByte(name, '/')+1:], ".json")
	if db, coll, ok := strings.Cut(base, "."); ok && db != "" && coll != "" {
		c.pathDB, c.pathColl = db, coll
	}
	l.addCollection(ds, c)
	if c.Database == "" || c.Collection == "" {
		l.errs.Add(source.Errorf(f, c.Offset, c.Ptr, CodeRequired, `the rule file names no namespace: give "database" and "collection", or name the file <db>.<coll>.json`))
	}
}

// legacyCustomUserData reads custom_user_data_config from the app
// configuration (config.json or stitch.json, source/includes/
// appschema-configuration.rst). The data source is mongo_service_name, else
// the service whose config.json "id" is mongo_service_id; when the export
// names neither (WildAid's config.json does), the only data source that has
// rules for the collection, else the only data source, else none (Validate
// reports it).
func (l *loader) legacyCustomUserData(configs []string, services map[string]*legacyService) {
	var found *CustomUserData
	for _, name := range configs {
		f := l.read(name)
		if f == nil {
			continue
		}
		p := &parser{f: f}
		root := p.root()
		if root == nil {
			l.addErr(p.done())
			continue
		}
		p.appIdentity(l.app, root)
		if n := root.Get("custom_user_data_config"); n != nil {
			c := p.customUserData(n, true)
			if found != nil {
				p.errorf(n, CodeCustomData, "custom_user_data_config is given in %s already", found.File)
			} else if p.errs.Err() == nil {
				found = c
			}
		}
		l.addErr(p.done())
	}
	if found == nil {
		return
	}
	if found.MongoServiceName == "" && found.serviceID != "" {
		for name, s := range services {
			if s.id == found.serviceID && dataSourceTypes[s.typ] {
				found.MongoServiceName = name
			}
		}
	}
	if found.MongoServiceName == "" && found.serviceID == "" {
		var holding []string
		for _, ds := range l.sources {
			for _, c := range ds.Collections {
				if c.Database == found.DatabaseName && c.Collection == found.CollectionName {
					holding = append(holding, ds.Name)
					break
				}
			}
		}
		switch {
		case len(holding) == 1:
			found.MongoServiceName = holding[0]
		case len(holding) == 0 && len(l.sources) == 1:
			for name := range l.sources {
				found.MongoServiceName = name
			}
		}
	}
	l.app.CustomUserData = found
}
