package rules

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/rulegate/rulegate/source"
)

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

// Trigger types (source/reference/config/triggers.txt, "type").
const (
	triggerAuthentication = "AUTHENTICATION"
	triggerDatabase       = "DATABASE"
	triggerScheduled      = "SCHEDULED"
)

// triggerKeys are the keys of a trigger file: the reference's, the old
// layout's "id" (source/includes/appschema-triggers.rst) and a database
// trigger's "error_handler".
var triggerKeys = []string{"name", "type", "disabled", "config", "function_name", "event_processors", "error_handler", "id"}

// authTriggerOperations are the operation types of an authentication
// trigger (triggers.txt, "config.operation_type").
var authTriggerOperations = map[string]bool{"CREATE": true, "LOGIN": true, "DELETE": true}

// maxTriggerNameLength is the longest trigger name App Services accepts
// (triggers.txt, "name": "at most 64 characters long").
const maxTriggerNameLength = 64

// triggerRef is a function a trigger of any type names (its function, or
// a database trigger's error handler), for Validate.
type triggerRef struct {
	at       At
	trigger  string
	function string
	notRun   string // the type of a trigger rulegate does not run, else ""
}

// triggers reads triggers/*.json (both layouts): authentication triggers
// into App.Triggers, sorted by name; every trigger's functions into
// App.triggerRefs, and the others into App.notRunTriggers. A trigger
// file that is not JSON is an error, as other configuration files are.
func (l *loader) triggers() {
	entries, err := fs.ReadDir(l.fsys, "triggers")
	if err != nil {
		return // absent; an unreadable folder is the layout walk's
	}
	seen := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		name := path.Join("triggers", e.Name())
		f := l.read(name)
		if f == nil {
			continue
		}
		p := &parser{f: f}
		if root := p.root(); root != nil {
			t, typ := p.trigger(root, l.app)
			if t != nil {
				if prev, ok := seen[t.Name]; ok {
					p.errorf(root, CodeTrigger, "a trigger named %q is configured in %s already", t.Name, prev)
				} else {
					seen[t.Name] = name
				}
				if typ == triggerAuthentication {
					l.app.Triggers = append(l.app.Triggers, t)
				}
			}
		}
		l.addErr(p.done())
	}
	sort.Slice(l.app.Triggers, func(i, j int) bool { return l.app.Triggers[i].Name < l.app.Triggers[j].Name })
}

// trigger parses one trigger file: the Trigger (nil when it is malformed
// beyond use) and its type.
func (p *parser) trigger(n *source.Node, app *App) (*Trigger, string) {
	t := &Trigger{At: p.at(n)}
	var typ, fnName string
	var typeNode, configNode, processors, handler *source.Node
	p.object(n, func(key string, v *source.Node) bool {
		switch key {
		case "name":
			t.Name = p.str(v)
		case "type":
			typ, typeNode = p.str(v), v
		case "disabled":
			t.Disabled = p.boolean(v)
		case "config":
			configNode = v
		case "function_name":
			fnName = p.str(v)
		case "event_processors":
			processors = v
		case "error_handler":
			handler = v
		case "id":
			p.str(v)
		default:
			return false
		}
		return true
	}, triggerKeys...)
	if n.Get("name") == nil {
		p.errorf(n, CodeRequired, `a trigger needs "name"`)
	} else if t.Name != "" && !validTriggerName(t.Name) {
		p.errorf(n.Get("name"), CodeTrigger, "trigger name %q: App Services allows at most %d ASCII letters, digits, underscores and hyphens", t.Name, maxTriggerNameLength)
	}
	switch {
	case typeNode == nil:
		p.errorf(n, CodeRequired, `a trigger needs "type" (AUTHENTICATION, DATABASE or SCHEDULED)`)
		return nil, ""
	case typeNode.Kind != source.String:
		return nil, ""
	case typ != triggerAuthentication && typ != triggerDatabase && typ != triggerScheduled:
		p.errorf(typeNode, CodeTrigger, "trigger type %q: want AUTHENTICATION, DATABASE or SCHEDULED", typ)
		return nil, ""
	}
	// The function: "function_name", or the FUNCTION event processor's.
	fnAt := p.at(n)
	if v := n.Get("function_name"); v != nil {
		fnAt = p.at(v)
	}
	if processors != nil {
		p.object(processors, func(key string, v *source.Node) bool {
			switch key {
			case "FUNCTION":
				name, at := p.processorFunction(v)
				switch {
				case name == "":
				case fnName != "" && name != fnName:
					p.errorAt(at, CodeTrigger, "the FUNCTION event processor runs %q, function_name %q", name, fnName)
				default:
					fnName, fnAt = name, at
				}
			case "AWS_EVENTBRIDGE":
				if v.Kind != source.Object {
					p.errorf(v, CodeSchema, "want an object, got %s", v.Kind.Article())
				}
			default:
				return false
			}
			return true
		}, "FUNCTION", "AWS_EVENTBRIDGE")
	}
	if handler != nil {
		// A database trigger's error handler (triggers.txt,
		// "error_handler.config.function_name"): checked, never run.
		if fn, at := p.processorFunction(handler); fn != "" {
			app.triggerRefs = append(app.triggerRefs, triggerRef{at: at, trigger: t.Name, function: fn, notRun: typ})
		}
	}
	if fnName != "" {
		ref := triggerRef{at: fnAt, trigger: t.Name, function: fnName}
		if typ != triggerAuthentication {
			ref.notRun = typ
		}
		app.triggerRefs = append(app.triggerRefs, ref)
	}
	if typ != triggerAuthentication {
		if configNode != nil && configNode.Kind != source.Object {
			p.errorf(configNode, CodeSchema, "want an object, got %s", configNode.Kind.Article())
		}
		app.notRunTriggers = append(app.notRunTriggers, triggerRef{at: p.at(typeNode), trigger: t.Name, notRun: typ})
		return t, typ
	}
	t.FunctionName = fnName
	if fnName == "" {
		p.errorf(n, CodeRequired, `an authentication trigger needs "function_name": the function it runs`)
	}
	if configNode == nil {
		p.errorf(n, CodeRequired, `an authentication trigger needs "config" with "operation_type"`)
		return t, typ
	}
	var opNode *source.Node
	p.object(configNode, func(key string, v *source.Node) bool {
		switch key {
		case "operation_type":
			opNode = v
			t.Operation = p.operationType(v)
		case "providers":
			for _, e := range p.array(v) {
				if s := p.str(e); s != "" {
					t.Providers = append(t.Providers, s)
				}
			}
		default:
			return false
		}
		return true
	}, "operation_type", "providers")
	if opNode == nil && configNode.Kind == source.Object {
		p.errorf(configNode, CodeRequired, `an authentication trigger needs "operation_type" (CREATE, LOGIN or DELETE)`)
	}
	return t, typ
}

// operationType reads an authentication trigger's operation type: a
// string, as the reference's table says, or an array of one string, as
// its example writes. Several operations are refused: the table says the
// trigger fires on one (fail closed).
func (p *parser) operationType(v *source.Node) string {
	n := v
	if v.Kind == source.Array {
		if len(v.Elems) != 1 {
			p.errorf(v, CodeTrigger, "operation_type: an authentication trigger fires on one operation type, got %d", len(v.Elems))
			return ""
		}
		n = v.Elems[0]
	}
	op := p.str(n)
	if n.Kind == source.String && !authTriggerOperations[op] {
		p.errorf(n, CodeTrigger, "operation_type %q: want CREATE, LOGIN or DELETE", op)
		return ""
	}
	return op
}

// processorFunction reads {"config": {"function_name": ...}} (an event
// processor's or an error handler's), returning the name and where it is.
func (p *parser) processorFunction(v *source.Node) (string, At) {
	cfg := v.Get("config")
	if v.Kind != source.Object || cfg == nil || cfg.Kind != source.Object {
		return "", At{}
	}
	fn := cfg.Get("function_name")
	if fn == nil {
		return "", At{}
	}
	return p.str(fn), p.at(fn)
}

func validTriggerName(name string) bool {
	if len(name) > maxTriggerNameLength {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// triggers checks that every trigger names a JavaScript function of the
// export, and warns of the triggers rulegate does not run.
func (v *validator) triggers() {
	for _, t := range v.app.Triggers {
		if t.FunctionName != "" && v.app.jsFunction(t.FunctionName) == nil {
			at := t.At
			for _, r := range v.app.triggerRefs {
				if r.trigger == t.Name && r.function == t.FunctionName && r.notRun == "" {
					at = r.at
				}
			}
			v.unknownTriggerFunction(at, t.Name, t.FunctionName)
		}
	}
	for _, r := range v.app.triggerRefs {
		if r.notRun != "" && v.app.jsFunction(r.function) == nil {
			v.unknownTriggerFunction(r.at, r.trigger, r.function)
		}
	}
	for _, r := range v.app.notRunTriggers {
		v.warnAt(r.at, CodeTriggerNotRun, "trigger %q is a %s trigger, which rulegate does not run (only authentication triggers run)", r.trigger, r.notRun)
	}
}

func (v *validator) unknownTriggerFunction(at At, trigger, fn string) {
	v.errorAt(at, CodeUnknownFunction, "trigger %q runs function %q, which the export does not define (no functions/%s.js, functions/%s/source.js or config.json entry)", trigger, fn, fn, fn)
}
