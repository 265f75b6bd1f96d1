package rules_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/rulegate/rulegate/rules"
)

// TestRealWorldJSFunctions finds the JavaScript functions of
// WildAid__o-fish-realm__WildAidDemo, an old-layout export copied without
// its sources (functions/<name>/config.json only), from those files alone,
// and checks that every %function its rules call is one of them: each
// call is then rules/js-function, naming the config, not
// rules/unknown-function.
func TestRealWorldJSFunctions(t *testing.T) {
	root := filepath.Join("..", "..", "shared", "realworld")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("SKIPPED: the real-world exports are not at %s (%v); this test needs them", root, err)
	}
	dir := filepath.Join(root, "WildAid__o-fish-realm__WildAidDemo")
	fsys := os.DirFS(dir)
	app, _ := rules.LoadApp(fsys) // the old-layout rules are the layout loader's
	found := map[string]string{}
	for _, f := range app.JSFunctions {
		found[f.Name] = f.File
	}
	dirs, err := fs.ReadDir(fsys, "functions")
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != len(dirs) {
		t.Errorf("found %d JavaScript functions, want one per folder of functions/ (%d)", len(found), len(dirs))
	}
	called := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if f, ok := v["%function"].(map[string]any); ok {
				if name, ok := f["name"].(string); ok {
					called[name] = true
				}
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	files, _ := fs.Glob(fsys, "services/*/rules/*.json")
	for _, name := range files {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		walk(v)
	}
	if len(called) == 0 {
		t.Fatal("the rules call no function; the export changed?")
	}
	var names []string
	for name := range called {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		file, ok := found[name]
		if !ok {
			t.Errorf("%%function %q: not found among the JavaScript functions", name)
			continue
		}
		if want := "functions/" + name + "/config.json"; file != want {
			t.Errorf("%%function %q: file %s, want %s", name, file, want)
		}
	}
}
