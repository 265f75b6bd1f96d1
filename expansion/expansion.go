package expansion

import (
	"fmt"
	"strings"

	"github.com/rulegate/rulegate/source"
)

// Root is the first segment of an expansion: %%user, %%root, ...
type Root uint8

// The expansion roots App Services rule expressions define
// (mongodb/docs-app-services source/rules/expressions.txt).
const (
	RootUser        Root = iota + 1 // %%user
	RootRoot                        // %%root
	RootPrevRoot                    // %%prevRoot
	RootThis                        // %%this
	RootPrev                        // %%prev
	RootRequest                     // %%request
	RootValues                      // %%values
	RootEnvironment                 // %%environment
	RootPartition                   // %%partition
	RootArgs                        // %%args
	RootTrue                        // %%true
	RootFalse                       // %%false
)

// Phase says when an expansion's value becomes known.
type Phase uint8

const (
	// PhaseConstant expansions (%%true, %%false) are known at compile time.
	PhaseConstant Phase = iota + 1
	// PhaseRequest expansions (%%user, %%request, %%values, ...) are known
	// once per request and are folded before any document is seen.
	PhaseRequest
	// PhaseDocument expansions (%%root, %%prevRoot, %%this, %%prev) change
	// with every document.
	PhaseDocument
)

// String returns "constant", "request" or "document".
func (p Phase) String() string {
	switch p {
	case PhaseConstant:
		return "constant"
	case PhaseRequest:
		return "request"
	case PhaseDocument:
		return "document"
	}
	return "unknown"
}

// Info describes one expansion root: its name, phase, the sub-fields the
// documentation defines (nil when any path is allowed), its meaning, what it
// yields when its path is missing, and the documentation page it comes from.
type Info struct {
	Root    Root
	Name    string // "%%user"
	Phase   Phase
	Fields  []string // documented first path segments; nil = any
	Leaf    bool     // takes no path at all (%%true, %%false, %%partition)
	Meaning string
	Missing string
	Source  string
}

// rootInfo returns the description of r. It builds the value afresh: the
// vocabulary is data, not package state.
func rootInfo(r Root) (Info, bool) {
	for _, in := range Vocabulary() {
		if in.Root == r {
			return in, true
		}
	}
	return Info{}, false
}

// Name returns the root's spelling, "%%user" and so on.
func (r Root) Name() string {
	if in, ok := rootInfo(r); ok {
		return in.Name
	}
	return fmt.Sprintf("Root(%d)", r)
}

// Phase returns when the root's value becomes known.
func (r Root) Phase() Phase {
	switch r {
	case RootTrue, RootFalse:
		return PhaseConstant
	case RootRoot, RootPrevRoot, RootThis, RootPrev:
		return PhaseDocument
	}
	return PhaseRequest
}

// Ref is a parsed expansion such as %%user.custom_data.teamIds: a root and
// the dotted path below it.
type Ref struct {
	Root Root
	Path []string
}

// Phase returns when the expansion's value becomes known.
func (r Ref) Phase() Phase { return r.Root.Phase() }

// String returns the expansion as written, "%%user.custom_data.teamIds".
func (r Ref) String() string {
	if len(r.Path) == 0 {
		return r.Root.Name()
	}
	return r.Root.Name() + "." + strings.Join(r.Path, ".")
}

// IsExpansion reports whether s is written as an expansion (starts with
// "%%"). Such strings are expanded only where they appear in rules, never in
// client-supplied queries or documents.
func IsExpansion(s string) bool { return strings.HasPrefix(s, "%%") }

// Error is an expansion that cannot be parsed. Code is stable:
// "expansion/syntax", "expansion/unknown" or "expansion/unknown-field".
type Error struct {
	Text string
	Code string
	Msg  string
}

// Error renders the error as "<text>: <message> (<code>)".
func (e *Error) Error() string { return fmt.Sprintf("%s: %s (%s)", e.Text, e.Msg, e.Code) }

// Stable diagnostic codes.
const (
	CodeSyntax       = "expansion/syntax"
	CodeUnknown      = "expansion/unknown"
	CodeUnknownField = "expansion/unknown-field"
)

// Parse parses an expansion such as "%%user.custom_data.teamIds". It checks
// the root against the documented vocabulary and, for roots whose fields the
// documentation lists (%%user, %%request, %%environment), the first path
// segment.
func Parse(s string) (Ref, error) {
	if !IsExpansion(s) {
		return Ref{}, &Error{Text: s, Code: CodeSyntax, Msg: `an expansion starts with "%%"`}
	}
	body := s[2:]
	name, rest, hasPath := strings.Cut(body, ".")
	var info Info
	found := false
	for _, in := range Vocabulary() {
		if in.Name[2:] == name {
			info, found = in, true
			break
		}
	}
	if !found {
		return Ref{}, &Error{Text: s, Code: CodeUnknown, Msg: fmt.Sprintf("unknown expansion %q%s", "%%"+name, suggest(name))}
	}
	ref := Ref{Root: info.Root}
	if !hasPath {
		return ref, nil
	}
	if info.Leaf {
		return Ref{}, &Error{Text: s, Code: CodeSyntax, Msg: fmt.Sprintf("%s takes no path", info.Name)}
	}
	ref.Path = strings.Split(rest, ".")
	for _, seg := range ref.Path {
		if seg == "" {
			return Ref{}, &Error{Text: s, Code: CodeSyntax, Msg: "empty path segment"}
		}
	}
	if info.Fields != nil {
		ok := false
		for _, f := range info.Fields {
			if f == ref.Path[0] {
				ok = true
				break
			}
		}
		if !ok {
			hint := ""
			if f, ok := source.Closest(ref.Path[0], info.Fields); ok {
				hint = fmt.Sprintf("; did you mean %s.%s?", info.Name, f)
			}
			return Ref{}, &Error{Text: s, Code: CodeUnknownField, Msg: fmt.Sprintf("%s has no field %q (it has %s%s)", info.Name, ref.Path[0], strings.Join(info.Fields, ", "), hint)}
		}
		if info.Root == RootEnvironment && ref.Path[0] == "tag" && len(ref.Path) > 1 {
			return Ref{}, &Error{Text: s, Code: CodeSyntax, Msg: "%%environment.tag is a string and has no fields"}
		}
	}
	return ref, nil
}

// suggest proposes the documented spelling for common misspellings.
func suggest(name string) string {
	l := strings.ToLower(name)
	for _, in := range Vocabulary() {
		if strings.ToLower(in.Name[2:]) == l {
			return fmt.Sprintf(" (did you mean %s?)", in.Name)
		}
	}
	switch l {
	case "prev_root", "prevroot", "previousroot":
		return " (did you mean %%prevRoot?)"
	case "env":
		return " (did you mean %%environment?)"
	case "users", "caller":
		return " (did you mean %%user?)"
	}
	var names []string
	for _, in := range Vocabulary() {
		names = append(names, in.Name[2:])
	}
	if best, ok := source.Closest(l, names); ok {
		return fmt.Sprintf(" (did you mean %%%%%s?)", best)
	}
	return ""
}
