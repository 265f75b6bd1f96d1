package rules_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/schema"
)

// realWorld holds real apps exported from App Services, Realm and Stitch
// (third-party files, kept beside the repository, never in it; SOURCES.md
// there names each repository and commit).
const realWorld = "../../shared/realworld"

// realWorldNotes says, per app, why each diagnostic that remains is true,
// beyond what every app shares: the JavaScript sources and the triggers
// were not copied (SOURCES.md), so each configured function is
// rules/function-source, and a private one that only a trigger or
// another function's source calls is rules/unused-function, true of the
// copy, not of the app; or which change of issue 13 removes a false one
// (pending: an error App
// Services would not report, tolerated until that change is merged). The
// notes are written into testdata/realworld.golden.
var realWorldNotes = map[string]struct {
	why     string
	pending map[string]string // code -> the change that removes it
}{
	"Memehub-Network__Memehub__root":                                                          {why: "the default rule of data source memehub (readAndWriteAll, document_filters {}) covers the custom data collection memehubclient.users: any user can rewrite anyone's custom data"},
	"PhilippDuck__project_studyquiz_backend__root":                                            {why: "custom_userData has one role, readAndWriteAll: any user can rewrite anyone's custom data"},
	"Sistemium__vfs-masters-realm__root":                                                      {why: "the default rule (readAndWriteAll) covers Masters.User, the custom data collection, whose isAdmin, masterId and type the roles read: any user can make themselves an admin"},
	"mongodb-university__realm-template-apps__other_flex-sync-guides_backend_restricted-feed": {why: "the default rule covers Item.User (custom data): a user may insert or update their own User document (owner_id = their id passes document_filters.write) and set subscribedTo, which decides whose feed they read"},
	"mongodb-university__realm-template-apps__other_flex-sync-guides_backend_tiered":          {why: "the default rule's \"user\" role covers Item.User (custom data): a user may write their own User document (owner_id = their id) including isTeamAdmin and team, which the admin role and the read filter trust"},
	"saimirg__ORBIX-mongo-atlas-apis__root":                                                   {why: "devices (custom data) is writable by its users (role readAll, write true; the filter narrows to their own device): a user can set deviceid, which the playlists filter trusts"},
	"WildAid__o-fish-realm__WildAidDemo": {
		why: "services/RealmSync/rules/wildaid.MenuDataList.json names collection MenuData (the keys win, so the warning is true); the %function calls name JavaScript functions of functions/<name>/config.json whose sources were not copied (rules/js-function, rules/function-source); 16 of the configs end an object with a comma, which App Services' tools (encoding/json) refuse (rules/function-config)",
	},
}

// realWorldApp renders what serve reads of an app besides its rules: its
// id and name, its providers (name, type, disabled) and whether it
// configures the Data API.
func realWorldApp(app *rules.App) string {
	var b strings.Builder
	fmt.Fprintf(&b, "app id %q name %q; providers:", app.ID, app.Name)
	for _, p := range app.Providers {
		b.WriteString(" " + p.Name)
		if p.Type != p.Name {
			b.WriteString("(" + p.Type + ")")
		}
		if p.Disabled {
			b.WriteString("[disabled]")
		}
	}
	if app.DataAPI != nil {
		b.WriteString("; data api")
	}
	b.WriteByte('\n')
	return b.String()
}

// TestRealWorld loads every real app: each must load without error (but
// the pending ones of realWorldNotes), and
// Validate must report no error App Services would not have reported (but
// the pending ones of realWorldNotes). Every remaining diagnostic is
// recorded in testdata/realworld.golden, so a change shows up in review;
// go test -update rewrites it.
func TestRealWorld(t *testing.T) {
	entries, err := os.ReadDir(realWorld)
	if os.IsNotExist(err) {
		t.Skipf("SKIPPING the real-world walk: %s is absent (check out shared/ beside the repository)", realWorld)
	}
	if err != nil {
		t.Fatal(err)
	}
	var apps []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), "_") {
			apps = append(apps, e.Name())
		}
	}
	sort.Strings(apps)
	if len(apps) == 0 {
		t.Fatalf("no apps in %s", realWorld)
	}
	var golden strings.Builder
	seen := map[string]bool{}
	for _, name := range apps {
		seen[name] = true
		note := realWorldNotes[name]
		fsys := os.DirFS(filepath.Join(realWorld, name))
		golden.WriteString("== " + name + "\n")
		if note.why != "" {
			golden.WriteString("# " + note.why + "\n")
		}
		if !rules.IsApp(fsys) {
			t.Errorf("%s: not recognised as an app", name)
			continue
		}
		app, err := rules.LoadApp(fsys)
		golden.WriteString(realWorldApp(app))
		for _, e := range app.LoadErrors {
			if _, ok := note.pending[e.Code]; !ok {
				t.Errorf("%s: LoadApp: %v", name, err)
				break
			}
		}
		pendingSeen := map[string]bool{}
		// The rules and the collection schemas, as rulegate check reports
		// them.
		diags := append(rules.Validate(app, rules.ValidateOptions{}), schema.Check(app)...)
		for _, e := range diags {
			golden.WriteString(e.Error() + "\n")
			if e.IsWarning() {
				continue
			}
			if _, ok := note.pending[e.Code]; ok {
				pendingSeen[e.Code] = true
				continue
			}
			t.Errorf("%s: an error App Services would not report: %v", name, e)
		}
		for code, why := range note.pending {
			golden.WriteString("# pending " + code + ": " + why + "\n")
			if !pendingSeen[code] {
				t.Errorf("%s: %s no longer occurs (%s is merged?): remove it from realWorldNotes", name, code, why)
			}
		}
	}
	for name := range realWorldNotes {
		if !seen[name] {
			t.Errorf("realWorldNotes names %s, which %s does not hold", name, realWorld)
		}
	}
	const file = "testdata/realworld.golden"
	if casetest.Updating() {
		if err := os.WriteFile(file, []byte(golden.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != golden.String() {
		t.Errorf("%s differs (go test -update rewrites it; review the change):\n--- got\n%s", file, golden.String())
	}
}
