package token

import (
	"strings"

	"github.com/tidwall/gjson"
)

// duplicateKey returns a key that appears twice in one object of js, at
// any depth; keys are compared after unescaping, so "sub" and "s\u0075b"
// are the same key. ok is false when every object's keys are distinct.
//
// js must be valid JSON (gjson.Valid): the scan is one pass over the bytes
// that only tracks strings and nesting. The keys of the open objects share
// one stack, searched linearly within an object; an object with more than
// linearKeys keys is checked with a map instead.
func duplicateKey(js string) (key string, ok bool) {
	const linearKeys = 32
	type frame struct {
		obj   bool
		start int                 // its first key in keys
		big   map[string]struct{} // its keys once it has more than linearKeys
	}
	var frameBuf [8]frame
	var keyBuf [48]string
	stack, keys := frameBuf[:0], keyBuf[:0]
	for i := 0; i < len(js); i++ {
		switch js[i] {
		case '{':
			stack = append(stack, frame{obj: true, start: len(keys)})
		case '[':
			stack = append(stack, frame{start: len(keys)})
		case '}', ']':
			keys = keys[:stack[len(stack)-1].start]
			stack = stack[:len(stack)-1]
		case '"':
			start := i
			end := strings.IndexByte(js[i+1:], '"') + i + 1
			esc := strings.IndexByte(js[i+1:end], '\\') >= 0
			if esc {
				// Find the closing quote past escaped characters.
				end = i + 1
				for js[end] != '"' {
					if js[end] == '\\' {
						end++
					}
					end++
				}
			}
			i = end
			if len(stack) == 0 || !stack[len(stack)-1].obj {
				continue
			}
			f := &stack[len(stack)-1]
			k := end + 1
			for k < len(js) && (js[k] == ' ' || js[k] == '\t' || js[k] == '\n' || js[k] == '\r') {
				k++
			}
			if k == len(js) || js[k] != ':' {
				continue // a string value, not a key
			}
			s := js[start+1 : end]
			if esc {
				s = gjson.Parse(js[start : end+1]).Str
			}
			if f.big != nil {
				if _, dup := f.big[s]; dup {
					return s, true
				}
				f.big[s] = struct{}{}
				continue
			}
			for _, x := range keys[f.start:] {
				if x == s {
					return s, true
				}
			}
			keys = append(keys, s)
			if len(keys)-f.start > linearKeys {
				f.big = make(map[string]struct{}, 2*linearKeys)
				for _, x := range keys[f.start:] {
					f.big[x] = struct{}{}
				}
				keys = keys[:f.start]
			}
		}
	}
	return "", false
}
