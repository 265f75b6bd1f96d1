package rules

import "github.com/rulegate/rulegate/source"

// appConfigFiles are the app configuration files of the current layout, in
// the order they are looked for: realm_config.json (realm-cli's exports)
// and root_config.json (source/reference/config/app.txt).
var appConfigFiles = []string{"realm_config.json", "root_config.json"}

// currentAppConfig reads App.ID and App.Name from the first app
// configuration file of the current layout. Its other keys (location,
// deployment_model, config_version, ...) are not read; "environment" is
// App.Environment (values.go).
func (l *loader) currentAppConfig() {
	for _, name := range appConfigFiles {
		if !isFile(l.fsys, name) {
			continue
		}
		f := l.read(name)
		if f == nil {
			return
		}
		p := &parser{f: f}
		if root := p.root(); root != nil {
			p.appIdentity(l.app, root)
		}
		l.addErr(p.done())
		return
	}
}

// appIdentity reads "app_id" and "name" of an app configuration object
// into app. A second file of the old layout (config.json beside
// stitch.json) that gives another non-empty app_id is an error: which app
// clients talk to is not guessed.
func (p *parser) appIdentity(app *App, root *source.Node) {
	if n := root.Get("app_id"); n != nil {
		id := p.str(n)
		switch {
		case id == "":
		case app.ID == "":
			app.ID, app.idFile = id, p.f.Name
		case app.ID != id:
			p.errorf(n, CodeSchema, "app_id %q differs from the app_id %q of %s", id, app.ID, app.idFile)
		}
	}
	if n := root.Get("name"); n != nil {
		if name := p.str(n); name != "" && app.Name == "" {
			app.Name = name
		}
	}
}
