package source_test

import (
	"fmt"

	"github.com/rulegate/rulegate/source"
)

func ExampleParseJSON() {
	f := source.NewFile("rules.json", []byte("{\n  \"roles\": [\n    {\"name\": \"owner\", \"read\": true}\n  ]\n}\n"))
	root, err := source.ParseJSON(f)
	if err != nil {
		fmt.Println(err)
		return
	}
	read := root.Get("roles").Elems[0].Get("read")
	fmt.Println(read.Ptr, read.Pos().Line, read.Pos().Col, read.Bool)
	fmt.Println(read.Errorf("rules/type", "read must be an expression"))
	// Output:
	// /roles/0/read 3 31 true
	// rules.json:3:31: /roles/0/read: read must be an expression (rules/type)
}

func ExampleParseJSON_error() {
	f := source.NewFile("rules.json", []byte("{\n  \"roles\": [\n    {\"name\": \"r\",}\n  ]\n}\n"))
	_, err := source.ParseJSON(f)
	fmt.Println(err)
	var e *source.Error
	if se, ok := err.(*source.Error); ok {
		e = se
	}
	fmt.Println(f.Snippet(source.Pos{Line: e.Line, Col: e.Col}))
	// Output:
	// rules.json:3:18: /roles/0: unexpected '}', want a quoted object key (json/syntax)
	//     {"name": "r",}
	//                  ^
}

func ExamplePointer_Tokens() {
	p := source.Pointer("").Key("fields").Key("a/b").Index(2)
	toks, _ := p.Tokens()
	fmt.Println(p, toks)
	// Output: /fields/a~1b/2 [fields a/b 2]
}

func ExampleErrorList_Sort() {
	var l source.ErrorList
	l.Add(&source.Error{File: "b.json", Line: 1, Col: 1, Code: "x/y", Msg: "later file"})
	l.Add(&source.Error{File: "a.json", Line: 9, Col: 2, Code: "x/y", Msg: "later line"})
	l.Add(&source.Error{File: "a.json", Line: 1, Col: 4, Code: "x/y", Msg: "first", Severity: source.SeverityWarning})
	l.Add(&source.Error{File: "a.json", Line: 9, Col: 2, Code: "x/y", Msg: "later line"})
	l.Sort()
	fmt.Println(l.Err())
	fmt.Println(len(l.Errors()), "errors,", len(l.Warnings()), "warning")
	// Output:
	// a.json:1:4: warning: first (x/y)
	// a.json:9:2: later line (x/y)
	// b.json:1:1: later file (x/y)
	// 2 errors, 1 warning
}
