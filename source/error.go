package source

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Error is one diagnostic: where (file, line, column, JSON pointer), what
// (a stable code such as "rules/type") and why (a message for people).
// Its text is "file:line:col: pointer: message (code)"; parts that are
// unknown are left out.
type Error struct {
	File string
	Line int
	Col  int
	Ptr  Pointer
	Code string
	Msg  string
	// Severity is "" or "error" for errors, "warning" for findings that do
	// not stop an app from loading.
	Severity string
}

// Error renders the diagnostic as "file:line:col: pointer: message (code)".
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d:%d", e.Line, e.Col)
		}
		b.WriteString(": ")
	}
	if e.Ptr != "" {
		b.WriteString(string(e.Ptr))
		b.WriteString(": ")
	}
	if e.Severity == SeverityWarning {
		b.WriteString("warning: ")
	}
	b.WriteString(e.Msg)
	if e.Code != "" {
		b.WriteString(" (")
		b.WriteString(e.Code)
		b.WriteString(")")
	}
	return b.String()
}

// IsWarning reports whether e is a warning rather than an error.
func (e *Error) IsWarning() bool { return e.Severity == SeverityWarning }

// SeverityWarning marks an Error as a warning.
const SeverityWarning = "warning"

// Errorf returns an Error at file offset off (f may be nil).
func Errorf(f *File, off int, ptr Pointer, code, format string, args ...any) *Error {
	e := &Error{Ptr: ptr, Code: code, Msg: fmt.Sprintf(format, args...)}
	if f != nil {
		e.File = f.Name
		p := f.Position(off)
		e.Line, e.Col = p.Line, p.Col
	}
	return e
}

// ErrorList is a list of diagnostics. Sort orders it by file, line,
// column, pointer and code, and removes duplicates; Err returns it as an
// error, or nil when it is empty.
type ErrorList []*Error

// Add appends e.
func (l *ErrorList) Add(e *Error) { *l = append(*l, e) }

// Len, Less and Swap implement sort.Interface.
func (l ErrorList) Len() int { return len(l) }

// Swap swaps two diagnostics.
func (l ErrorList) Swap(i, j int) { l[i], l[j] = l[j], l[i] }

// Less orders diagnostics by file, line, column, pointer, code and message.
func (l ErrorList) Less(i, j int) bool {
	a, b := l[i], l[j]
	if a.File != b.File {
		return a.File < b.File
	}
	if a.Line != b.Line {
		return a.Line < b.Line
	}
	if a.Col != b.Col {
		return a.Col < b.Col
	}
	if a.Ptr != b.Ptr {
		return a.Ptr < b.Ptr
	}
	if a.Code != b.Code {
		return a.Code < b.Code
	}
	return a.Msg < b.Msg
}

// Sort sorts the list and removes exact duplicates.
func (l *ErrorList) Sort() {
	sort.Stable(*l)
	out := (*l)[:0]
	for i, e := range *l {
		if i > 0 && *e == *(*l)[i-1] {
			continue
		}
		out = append(out, e)
	}
	*l = out
}

// Errors returns the entries that are not warnings.
func (l ErrorList) Errors() ErrorList {
	var out ErrorList
	for _, e := range l {
		if !e.IsWarning() {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns the entries that are warnings.
func (l ErrorList) Warnings() ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.IsWarning() {
			out = append(out, e)
		}
	}
	return out
}

// Error renders every diagnostic, one per line.
func (l ErrorList) Error() string {
	switch len(l) {
	case 0:
		return "no errors"
	case 1:
		return l[0].Error()
	}
	var b strings.Builder
	for i, e := range l {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(e.Error())
	}
	return b.String()
}

// Err returns l as an error, or nil when l is empty.
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// Unwrap returns the diagnostics, so errors.As finds an *Error inside.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Codes returns the code of every diagnostic in err (an *Error, an
// ErrorList, or anything wrapping them), in order.
func Codes(err error) []string {
	var l ErrorList
	if errors.As(err, &l) {
		out := make([]string, len(l))
		for i, e := range l {
			out[i] = e.Code
		}
		return out
	}
	var e *Error
	if errors.As(err, &e) {
		return []string{e.Code}
	}
	return nil
}
