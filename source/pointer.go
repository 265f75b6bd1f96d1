package source

import (
	"strconv"
	"strings"
)

// Pointer is an RFC 6901 JSON pointer, such as "/roles/1/document_filters/read".
// The empty pointer "" names the whole document. MongoDB field names may hold
// dots, so diagnostics name places with pointers, never with dotted paths.
type Pointer string

// Key returns p extended by an object member name, escaped as RFC 6901
// requires ("~" as "~0", "/" as "~1").
func (p Pointer) Key(name string) Pointer {
	if !strings.ContainsAny(name, "~/") {
		return p + "/" + Pointer(name)
	}
	r := strings.NewReplacer("~", "~0", "/", "~1")
	return p + "/" + Pointer(r.Replace(name))
}

// Index returns p extended by an array index.
func (p Pointer) Index(i int) Pointer { return p + "/" + Pointer(strconv.Itoa(i)) }

// String returns the pointer text.
func (p Pointer) String() string { return string(p) }

// Tokens splits p into its unescaped reference tokens. It fails when p is
// neither empty nor starts with "/", or holds a "~" not followed by 0 or 1.
func (p Pointer) Tokens() ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, &PointerError{Ptr: p, Msg: `must be empty or start with "/"`}
	}
	parts := strings.Split(string(p[1:]), "/")
	for i, s := range parts {
		if !strings.Contains(s, "~") {
			continue
		}
		var b strings.Builder
		for j := 0; j < len(s); j++ {
			if s[j] != '~' {
				b.WriteByte(s[j])
				continue
			}
			if j+1 >= len(s) || (s[j+1] != '0' && s[j+1] != '1') {
				return nil, &PointerError{Ptr: p, Msg: `"~" must be followed by 0 or 1`}
			}
			if s[j+1] == '0' {
				b.WriteByte('~')
			} else {
				b.WriteByte('/')
			}
			j++
		}
		parts[i] = b.String()
	}
	return parts, nil
}

// PointerError reports a malformed JSON pointer.
type PointerError struct {
	Ptr Pointer
	Msg string
}

// Error renders the error with the pointer and the reason.
func (e *PointerError) Error() string {
	return "source: bad JSON pointer " + strconv.Quote(string(e.Ptr)) + ": " + e.Msg
}
