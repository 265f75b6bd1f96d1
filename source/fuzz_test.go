package source

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseJSON checks that ParseJSON never panics and agrees with
// encoding/json: a document is accepted exactly when json.Valid accepts it,
// except that ParseJSON also refuses duplicate keys, nesting deeper than
// MaxDepth and strings that are not valid UTF-8 (RFC 8259 requires UTF-8;
// encoding/json replaces bad bytes). Accepted documents decode to the same
// values, every node's pointer and offsets are consistent, and errors carry
// a position inside the file and a well-formed pointer.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `null`, `true`, `-0.5e+10`, `"\u00e9\ud83d\ude00"`, `{"a":[1,{"b~/":null}]}`,
		`{"a":1,"a":2}`, `[1,]`, `"\ud800\u0041"`, "\"\xff\"", `{"roles":[{"name":"r","apply_when":{"%%user.id":{"$in":[1]}}}]}`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file := NewFile("f.json", data)
		n, err := ParseJSON(file)
		valid := json.Valid(data)
		if err != nil {
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("error %T, want *Error", err)
			}
			if e.Line < 1 || e.Col < 1 || e.File != "f.json" || e.Code == "" {
				t.Fatalf("error without a place or code: %#v", e)
			}
			if _, perr := e.Ptr.Tokens(); perr != nil {
				t.Fatalf("malformed pointer in %v: %v", e, perr)
			}
			if valid {
				switch e.Code {
				case CodeJSONDuplicate, CodeJSONTooDeep:
				case CodeJSONSyntax:
					if utf8.Valid(data) {
						t.Fatalf("encoding/json accepts %q, ParseJSON says %v", data, e)
					}
				default:
					t.Fatalf("unexpected code %v", e)
				}
			}
			return
		}
		if !valid {
			t.Fatalf("ParseJSON accepts %q, encoding/json does not", data)
		}
		// The same values as encoding/json.
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		if err := dec.Decode(&want); err != nil {
			t.Fatal(err)
		}
		if got := toAny(n); !reflect.DeepEqual(got, want) {
			t.Fatalf("ParseJSON(%q) = %#v, encoding/json %#v", data, got, want)
		}
		// Pointers and offsets agree with the tree.
		for ptr, sp := range Index(n) {
			toks, err := ptr.Tokens()
			if err != nil {
				t.Fatalf("bad pointer %q: %v", ptr, err)
			}
			node := n
			for _, tok := range toks {
				switch node.Kind {
				case Object:
					node = node.Get(tok)
				case Array:
					var i int
					for _, e := range node.Elems {
						if string(e.Ptr) == string(node.Ptr)+"/"+tok {
							break
						}
						i++
					}
					if i >= len(node.Elems) {
						t.Fatalf("pointer %q: no element %q", ptr, tok)
					}
					node = node.Elems[i]
				default:
					t.Fatalf("pointer %q goes through a %v", ptr, node.Kind)
				}
				if node == nil {
					t.Fatalf("pointer %q names nothing", ptr)
				}
			}
			if node.Offset != sp.Offset || node.End != sp.End || sp.Offset < 0 || sp.End > len(data) || sp.Offset >= sp.End {
				t.Fatalf("span of %q = %+v, node %d..%d", ptr, sp, node.Offset, node.End)
			}
			if !json.Valid(data[sp.Offset:sp.End]) {
				t.Fatalf("the bytes of %q are not one JSON value: %q", ptr, data[sp.Offset:sp.End])
			}
		}
	})
}

// toAny converts a tree to what encoding/json decodes with UseNumber.
func toAny(n *Node) any {
	switch n.Kind {
	case Null:
		return nil
	case Bool:
		return n.Bool
	case Number:
		return json.Number(n.Raw())
	case String:
		return n.Str
	case Array:
		out := make([]any, len(n.Elems))
		for i, e := range n.Elems {
			out[i] = toAny(e)
		}
		return out
	case Object:
		out := make(map[string]any, len(n.Members))
		for _, m := range n.Members {
			out[m.Key] = toAny(m.Value)
		}
		return out
	}
	return "?"
}
