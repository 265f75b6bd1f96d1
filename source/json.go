package source

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Kind is the kind of a JSON value.
type Kind uint8

// The JSON value kinds.
const (
	Null Kind = iota + 1
	Bool
	Number
	String
	Object
	Array
)

var kindNames = [...]string{"", "null", "boolean", "number", "string", "object", "array"}

// String returns "null", "boolean", "number", "string", "object" or "array".
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(" + strconv.Itoa(int(k)) + ")"
}

// Article is the kind with its article, for diagnostics: "an object",
// "an array", "a string", "null".
func (k Kind) Article() string {
	switch k {
	case Object, Array:
		return "an " + k.String()
	case Null:
		return "null"
	}
	return "a " + k.String()
}

// Node is one JSON value of a parsed document, with its place: the byte
// offsets of its first byte and one past its last, and its JSON pointer.
// Object members keep their order and the offsets of their keys, so
// diagnostics can point at a key or at its value.
type Node struct {
	Kind   Kind
	Offset int
	End    int
	Ptr    Pointer
	// Bool is the value of a boolean.
	Bool bool
	// Str is the value of a string (unescaped).
	Str string
	// Members are an object's fields, in document order.
	Members []Member
	// Elems are an array's elements.
	Elems []*Node

	file *File
}

// Member is one field of a JSON object.
type Member struct {
	Key       string
	KeyOffset int
	Value     *Node
}

// Raw returns the node's bytes as written.
func (n *Node) Raw() []byte { return n.file.Data[n.Offset:n.End] }

// File returns the file the node was parsed from.
func (n *Node) File() *File { return n.file }

// Get returns the value of the object member key, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Object {
		return nil
	}
	for _, m := range n.Members {
		if m.Key == key {
			return m.Value
		}
	}
	return nil
}

// Pos returns the line and column of the node's first byte.
func (n *Node) Pos() Pos { return n.file.Position(n.Offset) }

// Errorf returns a diagnostic located at n.
func (n *Node) Errorf(code, format string, args ...any) *Error {
	return Errorf(n.file, n.Offset, n.Ptr, code, format, args...)
}

// Span is a node's place in its file: byte offsets and line/column of its
// start.
type Span struct {
	Offset, End int
	Start       Pos
}

// Index returns every node of the tree rooted at n by JSON pointer, so a
// diagnostic that holds only a pointer can still say line and column.
func Index(n *Node) map[Pointer]Span {
	m := map[Pointer]Span{}
	var walk func(*Node)
	walk = func(n *Node) {
		m[n.Ptr] = Span{Offset: n.Offset, End: n.End, Start: n.Pos()}
		for _, mem := range n.Members {
			walk(mem.Value)
		}
		for _, e := range n.Elems {
			walk(e)
		}
	}
	walk(n)
	return m
}

// Diagnostic codes of the JSON parser.
const (
	CodeJSONSyntax    = "json/syntax"
	CodeJSONDuplicate = "json/duplicate-key"
	CodeJSONTooDeep   = "json/too-deep"
)

// MaxDepth bounds the nesting of a parsed document: at most MaxDepth objects
// and arrays may enclose one another. Deeper documents are refused with a
// json/too-deep error instead of exhausting the stack.
const MaxDepth = 512

// ParseJSON parses f as one JSON value (RFC 8259) and returns its tree. It
// refuses duplicate object keys (App Services would keep one silently; a
// rule file with two "read" keys is a mistake) and nesting deeper than
// MaxDepth. The error is an *Error with the place of the problem.
func ParseJSON(f *File) (*Node, error) {
	p := &parser{f: f, data: f.Data}
	p.space()
	n, err := p.value("", 0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.pos < len(p.data) {
		return nil, p.errAt(p.pos, "", CodeJSONSyntax, "unexpected %s after the top-level value", p.what())
	}
	return n, nil
}

type parser struct {
	f    *File
	data []byte
	pos  int
}

func (p *parser) errAt(off int, ptr Pointer, code, format string, args ...any) *Error {
	return Errorf(p.f, off, ptr, code, format, args...)
}

func (p *parser) what() string {
	if p.pos >= len(p.data) {
		return "end of file"
	}
	r, _ := utf8.DecodeRune(p.data[p.pos:])
	return strconv.QuoteRune(r)
}

func (p *parser) space() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// value parses the value at p.pos; depth is the number of objects and
// arrays that enclose it.
func (p *parser) value(ptr Pointer, depth int) (*Node, error) {
	if p.pos >= len(p.data) {
		return nil, p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected end of file, want a value")
	}
	if c := p.data[p.pos]; (c == '{' || c == '[') && depth >= MaxDepth {
		return nil, p.errAt(p.pos, ptr, CodeJSONTooDeep, "nesting deeper than %d levels", MaxDepth)
	}
	n := &Node{Offset: p.pos, Ptr: ptr, file: p.f}
	switch c := p.data[p.pos]; {
	case c == '{':
		n.Kind = Object
		p.pos++
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == '}' {
			p.pos++
			break
		}
		for {
			p.space()
			if p.pos >= len(p.data) || p.data[p.pos] != '"' {
				return nil, p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected %s, want a quoted object key", p.what())
			}
			keyOff := p.pos
			key, err := p.str(ptr)
			if err != nil {
				return nil, err
			}
			for _, m := range n.Members {
				if m.Key == key {
					return nil, p.errAt(keyOff, ptr.Key(key), CodeJSONDuplicate, "duplicate key %q (first at %s)", key, posString(p.f.Position(m.KeyOffset)))
				}
			}
			p.space()
			if p.pos >= len(p.data) || p.data[p.pos] != ':' {
				return nil, p.errAt(p.pos, ptr.Key(key), CodeJSONSyntax, "unexpected %s, want ':' after key %q", p.what(), key)
			}
			p.pos++
			p.space()
			v, err := p.value(ptr.Key(key), depth+1)
			if err != nil {
				return nil, err
			}
			n.Members = append(n.Members, Member{Key: key, KeyOffset: keyOff, Value: v})
			p.space()
			if p.pos < len(p.data) && p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(p.data) && p.data[p.pos] == '}' {
				p.pos++
				break
			}
			return nil, p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected %s, want ',' or '}'", p.what())
		}
	case c == '[':
		n.Kind = Array
		p.pos++
		p.space()
		if p.pos < len(p.data) && p.data[p.pos] == ']' {
			p.pos++
			break
		}
		for {
			p.space()
			v, err := p.value(ptr.Index(len(n.Elems)), depth+1)
			if err != nil {
				return nil, err
			}
			n.Elems = append(n.Elems, v)
			p.space()
			if p.pos < len(p.data) && p.data[p.pos] == ',' {
				p.pos++
				continue
			}
			if p.pos < len(p.data) && p.data[p.pos] == ']' {
				p.pos++
				break
			}
			return nil, p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected %s, want ',' or ']'", p.what())
		}
	case c == '"':
		n.Kind = String
		s, err := p.str(ptr)
		if err != nil {
			return nil, err
		}
		n.Str = s
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []struct {
			text string
			kind Kind
			b    bool
		}{{"true", Bool, true}, {"false", Bool, false}, {"null", Null, false}} {
			if len(p.data)-p.pos >= len(lit.text) && string(p.data[p.pos:p.pos+len(lit.text)]) == lit.text {
				n.Kind, n.Bool = lit.kind, lit.b
				p.pos += len(lit.text)
				n.End = p.pos
				return n, p.afterLiteral(ptr)
			}
		}
		return nil, p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected %s, want a value", p.what())
	case c == '-' || (c >= '0' && c <= '9'):
		n.Kind = Number
		if err := p.number(ptr); err != nil {
			return nil, err
		}
		n.End = p.pos
		return n, p.afterLiteral(ptr)
	default:
		return nil, p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected %s, want a value", p.what())
	}
	n.End = p.pos
	return n, nil
}

// afterLiteral rejects "truex" and "12abc".
func (p *parser) afterLiteral(ptr Pointer) error {
	if p.pos < len(p.data) {
		c := p.data[p.pos]
		if c == '_' || c == '.' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			return p.errAt(p.pos, ptr, CodeJSONSyntax, "unexpected %s after a value", p.what())
		}
	}
	return nil
}

func (p *parser) number(ptr Pointer) error {
	start := p.pos
	if p.data[p.pos] == '-' {
		p.pos++
	}
	digits := func() int {
		n := 0
		for p.pos < len(p.data) && p.data[p.pos] >= '0' && p.data[p.pos] <= '9' {
			p.pos++
			n++
		}
		return n
	}
	intStart := p.pos
	if digits() == 0 {
		return p.errAt(p.pos, ptr, CodeJSONSyntax, "malformed number %q", string(p.data[start:p.pos]))
	}
	if p.data[intStart] == '0' && p.pos-intStart > 1 {
		return p.errAt(start, ptr, CodeJSONSyntax, "malformed number %q: leading zero", string(p.data[start:p.pos]))
	}
	if p.pos < len(p.data) && p.data[p.pos] == '.' {
		p.pos++
		if digits() == 0 {
			return p.errAt(p.pos, ptr, CodeJSONSyntax, "malformed number %q", string(p.data[start:p.pos]))
		}
	}
	if p.pos < len(p.data) && (p.data[p.pos] == 'e' || p.data[p.pos] == 'E') {
		p.pos++
		if p.pos < len(p.data) && (p.data[p.pos] == '+' || p.data[p.pos] == '-') {
			p.pos++
		}
		if digits() == 0 {
			return p.errAt(p.pos, ptr, CodeJSONSyntax, "malformed number %q", string(p.data[start:p.pos]))
		}
	}
	return nil
}

// str reads a quoted string at p.pos.
func (p *parser) str(ptr Pointer) (string, error) {
	start := p.pos
	p.pos++ // opening quote
	var buf []byte
	plain := p.pos
	for {
		if p.pos >= len(p.data) {
			return "", p.errAt(start, ptr, CodeJSONSyntax, "unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			s := string(p.data[plain:p.pos])
			if buf != nil {
				s = string(append(buf, p.data[plain:p.pos]...))
			}
			p.pos++
			return s, nil
		case c < 0x20:
			return "", p.errAt(p.pos, ptr, CodeJSONSyntax, "control character %#02x in string", c)
		case c == '\\':
			buf = append(buf, p.data[plain:p.pos]...)
			if p.pos+1 >= len(p.data) {
				return "", p.errAt(start, ptr, CodeJSONSyntax, "unterminated string")
			}
			esc := p.data[p.pos+1]
			p.pos += 2
			switch esc {
			case '"', '\\', '/':
				buf = append(buf, esc)
			case 'b':
				buf = append(buf, '\b')
			case 'f':
				buf = append(buf, '\f')
			case 'n':
				buf = append(buf, '\n')
			case 'r':
				buf = append(buf, '\r')
			case 't':
				buf = append(buf, '\t')
			case 'u':
				r, ok := p.hex4()
				if !ok {
					return "", p.errAt(p.pos-2, ptr, CodeJSONSyntax, `malformed \u escape`)
				}
				if utf16.IsSurrogate(r) {
					// A high surrogate pairs with an immediately
					// following \u low surrogate. Anything else (a lone
					// or low surrogate, or a high one followed by a
					// non-low escape, which is then read on its own) is
					// U+FFFD, as encoding/json does.
					r2 := rune(-1)
					if r < 0xDC00 && p.pos+1 < len(p.data) && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
						save := p.pos
						p.pos += 2
						var ok2 bool
						if r2, ok2 = p.hex4(); !ok2 || r2 < 0xDC00 || r2 > 0xDFFF {
							p.pos = save
							r2 = -1
						}
					}
					r = utf16.DecodeRune(r, r2)
				}
				buf = utf8.AppendRune(buf, r)
			default:
				return "", p.errAt(p.pos-2, ptr, CodeJSONSyntax, "unknown escape %q", "\\"+string(rune(esc)))
			}
			plain = p.pos
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				return "", p.errAt(p.pos, ptr, CodeJSONSyntax, "invalid UTF-8 in string")
			}
			p.pos += size
		}
	}
}

func (p *parser) hex4() (rune, bool) {
	if p.pos+4 > len(p.data) {
		return 0, false
	}
	v, err := strconv.ParseUint(string(p.data[p.pos:p.pos+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	p.pos += 4
	return rune(v), true
}

func posString(p Pos) string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }
