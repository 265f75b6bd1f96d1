package mql

import (
	"errors"
	"strconv"
	"strings"

	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// compileMatch compiles $match: a query for Match, with a top-level $expr
// (also as a member of a top-level $and) evaluated by truthy. Any other
// placement of $expr, and whatever Match refuses, wraps
// ErrUnsupportedPipeline.
func compileMatch(arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "the match filter must be an expression in an object")
	}
	st := &matchStage{}
	var rest []field
	for _, f := range mustElems(arg) {
		switch f.name {
		case "$expr":
			e, err := compileExpr(f.val.RawValue(), ptr.Key("$expr"), vars)
			if err != nil {
				return nil, err
			}
			st.exprs = append(st.exprs, e)
			st.ptrs = append(st.ptrs, ptr.Key("$expr"))
			continue
		case "$and":
			if f.val.IsArray() {
				var keep []value.Value
				var err error
				f.val.Each(func(i int, e value.Value) bool {
					if !e.IsDocument() {
						keep = append(keep, e)
						return false
					}
					var other []field
					for _, g := range mustElems(e) {
						if g.name != "$expr" {
							other = append(other, g)
							continue
						}
						at := ptr.Key("$and").Index(i).Key("$expr")
						var x expr
						if x, err = compileExpr(g.val.RawValue(), at, vars); err != nil {
							return true
						}
						st.exprs = append(st.exprs, x)
						st.ptrs = append(st.ptrs, at)
					}
					keep = append(keep, docOf(other))
					return false
				})
				if err != nil {
					return nil, err
				}
				rest = append(rest, field{"$and", arrOf(keep)})
				continue
			}
		}
		rest = append(rest, f)
	}
	st.filter = rawDoc(docOf(rest))
	if _, err := Match(st.filter, nil); err != nil {
		msg := err.Error()
		var se *source.Error
		at := ptr
		if errors.As(err, &se) {
			msg, at = se.Msg, ptr+se.Ptr
		}
		code := CodePipelineOperator
		if errors.Is(err, ErrInvalidQuery) {
			code = CodePipelineMalformed
		}
		if strings.Contains(msg, "$expr") {
			msg = "$expr is supported only at the top level of $match or of its top-level $and: " + msg
		}
		return nil, &codedError{err: &source.Error{Ptr: at, Code: code, Msg: msg}, kind: ErrUnsupportedPipeline}
	}
	if len(rest) == 0 {
		st.filter = nil
	}
	st.ptr = ptr
	return &streamStage{fn: st.match}, nil
}

type matchStage struct {
	filter bson.Raw
	exprs  []expr
	ptrs   []source.Pointer
	ptr    source.Pointer
}

func (st *matchStage) match(s *scope, doc value.Value, emit func(value.Value)) error {
	if st.filter != nil {
		ok, err := Match(st.filter, rawDoc(doc))
		if err != nil {
			return failAt(st.ptr, CodePipelineEval, err.Error())
		}
		if !ok {
			return nil
		}
	}
	for i, e := range st.exprs {
		v, err := e.eval(s)
		if err != nil {
			return evalFailed(st.ptrs[i], err)
		}
		if !truthy(v) {
			return nil
		}
	}
	emit(doc)
	return nil
}

// projNode is a node of a projection's path tree: the spec's fields in
// order, each a leaf (included, excluded or computed) or a subtree.
type projNode struct {
	names    []string
	children map[string]*projNode
	leaf     bool
	include  bool
	computed expr // nil for an inclusion or exclusion leaf
	ptr      source.Pointer
	hasExpr  bool // a computed leaf below
}

func newProjNode() *projNode { return &projNode{children: map[string]*projNode{}} }

// add puts a leaf at path; a path that is a prefix of another is a path
// collision, as the server says.
func (n *projNode) add(path []string, leaf *projNode, full string, ptr source.Pointer) error {
	if leaf.computed != nil {
		n.hasExpr = true
	}
	c, ok := n.children[path[0]]
	if len(path) == 1 {
		if ok {
			return pipeErr(ptr, CodePipelineMalformed, "Invalid specification: path collision at "+full)
		}
		n.children[path[0]] = leaf
		n.names = append(n.names, path[0])
		return nil
	}
	if ok && c.leaf {
		return pipeErr(ptr, CodePipelineMalformed, "Invalid specification: path collision at "+full)
	}
	if !ok {
		c = newProjNode()
		n.children[path[0]] = c
		n.names = append(n.names, path[0])
	}
	return c.add(path[1:], leaf, full, ptr)
}

// projSpec walks a $project or $addFields specification into a tree;
// in a $project, booleans and numbers are inclusions or exclusions, in
// $addFields every value is an expression.
type projSpec struct {
	root       *projNode
	project    bool
	vars       []string
	inclusions []string
	exclusions []string
	computed   []string
	idExcluded bool
}

func (p *projSpec) walk(spec value.Value, prefix []string, ptr source.Pointer) error {
	fs := mustElems(spec)
	if len(fs) == 0 && len(prefix) > 0 {
		return pipeErr(ptr, CodePipelineMalformed, "an empty sub-projection is not a valid value")
	}
	for _, f := range fs {
		at := ptr.Key(f.name)
		if f.name == "" || f.name[0] == '$' {
			return pipeErr(at, CodePipelineMalformed, "FieldPath field names may not be empty or start with '$': "+strconv.Quote(f.name))
		}
		path := append(append([]string(nil), prefix...), strings.Split(f.name, ".")...)
		for _, c := range path {
			if c == "" || c[0] == '$' {
				return pipeErr(at, CodePipelineMalformed, "FieldPath field names may not be empty or start with '$': "+strconv.Quote(f.name))
			}
		}
		full := strings.Join(path, ".")
		v := f.val
		if v.IsDocument() && !firstKeyIsOperator(v.Data) && (p.project || len(mustElems(v)) > 0) {
			if err := p.walk(v, path, at); err != nil {
				return err
			}
			continue
		}
		leaf := &projNode{leaf: true, ptr: at}
		_, isBool := v.BoolOK()
		if p.project && (isBool || v.IsNumber()) {
			leaf.include = truthy(v)
			switch {
			case full == "_id":
				p.idExcluded = !leaf.include
			case leaf.include:
				p.inclusions = append(p.inclusions, full)
			default:
				p.exclusions = append(p.exclusions, full)
			}
		} else {
			e, err := compileExpr(v.RawValue(), at, p.vars)
			if err != nil {
				return err
			}
			leaf.computed = e
			p.computed = append(p.computed, full)
		}
		if err := p.root.add(path, leaf, full, at); err != nil {
			return err
		}
	}
	return nil
}

// compileProject compiles $project: an inclusion projection (with
// computed fields) or an exclusion one, never both but for _id.
func compileProject(arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, "$project specification must be an object")
	}
	p := &projSpec{root: newProjNode(), project: true, vars: vars}
	if len(mustElems(arg)) == 0 {
		return nil, pipeErr(ptr, CodePipelineMalformed, "Invalid $project :: caused by :: projection specification must have at least one field")
	}
	if err := p.walk(arg, nil, ptr); err != nil {
		return nil, err
	}
	// {_id: 1} alone is an inclusion projection, {_id: 0} alone an
	// exclusion one.
	inclusion := len(p.inclusions) > 0 || len(p.computed) > 0 || len(p.exclusions) == 0 && !p.idExcluded
	if inclusion && len(p.exclusions) > 0 {
		if len(p.inclusions) > 0 {
			return nil, pipeErr(ptr, CodePipelineMalformed, "Invalid $project :: caused by :: Cannot do exclusion on field "+p.exclusions[0]+" in inclusion projection")
		}
		return nil, pipeErr(ptr, CodePipelineMalformed, "Invalid $project :: caused by :: Cannot use expression other than $meta in exclusion projection")
	}
	root := p.root
	if !inclusion {
		return &streamStage{fn: func(_ *scope, doc value.Value, emit func(value.Value)) error {
			emit(excludeDoc(doc, root))
			return nil
		}}, nil
	}
	if _, ok := root.children["_id"]; !ok {
		// _id is kept unless excluded: an inclusion leaf first.
		root.children["_id"] = &projNode{leaf: true, include: true}
		root.names = append([]string{"_id"}, root.names...)
	}
	return &streamStage{fn: func(s *scope, doc value.Value, emit func(value.Value)) error {
		out := includeDoc(doc, root)
		out, err := addDoc(s, out, root)
		if err != nil {
			return err
		}
		emit(out)
		return nil
	}}, nil
}

// compileAddFields compiles $addFields and $set: every value is an
// expression, dotted paths and nested documents set embedded fields.
func compileAddFields(name string, arg value.Value, ptr source.Pointer, vars []string) (stage, error) {
	if !arg.IsDocument() {
		return nil, pipeErr(ptr, CodePipelineMalformed, name+" specification stage must be an object, got "+typeName(arg.Type))
	}
	p := &projSpec{root: newProjNode(), vars: vars}
	if err := p.walk(arg, nil, ptr); err != nil {
		return nil, err
	}
	root := p.root
	return &streamStage{fn: func(s *scope, doc value.Value, emit func(value.Value)) error {
		out, err := addDoc(s, doc, root)
		if err != nil {
			return err
		}
		emit(out)
		return nil
	}}, nil
}

// compileUnset compiles $unset: a path or a non-empty array of paths, an
// exclusion projection.
func compileUnset(arg value.Value, ptr source.Pointer) (stage, error) {
	var paths []value.Value
	switch {
	case arg.IsArray() && arg.Len() > 0:
		arg.Each(func(_ int, e value.Value) bool { paths = append(paths, e); return false })
	case arg.Type == bson.TypeString:
		paths = []value.Value{arg}
	default:
		return nil, pipeErr(ptr, CodePipelineMalformed, "$unset specification must be a string or a non-empty array of strings")
	}
	root := newProjNode()
	for i, pv := range paths {
		at := ptr
		if arg.IsArray() {
			at = ptr.Index(i)
		}
		s, ok := pv.StringOK()
		if !ok {
			return nil, pipeErr(at, CodePipelineMalformed, "$unset specification must be a string or an array containing only string values")
		}
		parts := strings.Split(s, ".")
		for _, c := range parts {
			if c == "" || c[0] == '$' {
				return nil, pipeErr(at, CodePipelineMalformed, "FieldPath field names may not be empty or start with '$': "+strconv.Quote(s))
			}
		}
		if err := root.add(parts, &projNode{leaf: true}, s, at); err != nil {
			return nil, err
		}
	}
	return &streamStage{fn: func(_ *scope, doc value.Value, emit func(value.Value)) error {
		emit(excludeDoc(doc, root))
		return nil
	}}, nil
}

// excludeDoc removes the exclusion leaves of n from doc, through arrays
// of documents (their other elements kept).
func excludeDoc(doc value.Value, n *projNode) value.Value {
	var out []field
	for _, f := range mustElems(doc) {
		c, ok := n.children[f.name]
		switch {
		case !ok:
			out = append(out, f)
		case c.leaf:
			if c.include {
				out = append(out, f)
			}
		default:
			out = append(out, field{f.name, excludeValue(f.val, c)})
		}
	}
	return docOf(out)
}

func excludeValue(v value.Value, n *projNode) value.Value {
	switch {
	case v.IsDocument():
		return excludeDoc(v, n)
	case v.IsArray():
		var out []value.Value
		v.Each(func(_ int, e value.Value) bool { out = append(out, excludeValue(e, n)); return false })
		return arrOf(out)
	}
	return v
}

// includeDoc keeps the inclusion leaves of n, in the document's order;
// through an array only its documents (and arrays) are kept.
func includeDoc(doc value.Value, n *projNode) value.Value {
	var out []field
	for _, f := range mustElems(doc) {
		c, ok := n.children[f.name]
		if !ok || c.leaf && !c.include {
			continue
		}
		if c.leaf {
			out = append(out, f)
			continue
		}
		if v, keep := includeValue(f.val, c); keep {
			out = append(out, field{f.name, v})
		}
	}
	return docOf(out)
}

func includeValue(v value.Value, n *projNode) (value.Value, bool) {
	switch {
	case v.IsDocument():
		return includeDoc(v, n), true
	case v.IsArray():
		var out []value.Value
		v.Each(func(_ int, e value.Value) bool {
			if x, keep := includeValue(e, n); keep {
				out = append(out, x)
			}
			return false
		})
		return arrOf(out), true
	}
	return value.Missing(), false
}

// addDoc sets the computed leaves of n in doc, evaluated in s: an
// existing field keeps its place, a new one comes after, in the spec's
// order; a Missing value ($$REMOVE) removes the field. Through an array,
// each element is set (a scalar replaced by a document of the computed
// fields); through a scalar or a missing field, a document is made.
func addDoc(s *scope, doc value.Value, n *projNode) (value.Value, error) {
	fs := mustElems(doc)
	seen := map[string]bool{}
	for i := range fs {
		c, ok := n.children[fs[i].name]
		if !ok {
			continue
		}
		seen[fs[i].name] = true
		v, err := addValue(s, fs[i].val, c)
		if err != nil {
			return value.Value{}, err
		}
		fs[i].val = v
	}
	for _, name := range n.names {
		c := n.children[name]
		if seen[name] || c.leaf && c.computed == nil || !c.leaf && !c.hasExpr {
			continue
		}
		v, err := addValue(s, value.Missing(), c)
		if err != nil {
			return value.Value{}, err
		}
		fs = append(fs, field{name, v})
	}
	return docOf(fs), nil
}

func addValue(s *scope, v value.Value, n *projNode) (value.Value, error) {
	if n.leaf {
		if n.computed == nil {
			return v, nil
		}
		x, err := n.computed.eval(s)
		if err != nil {
			return value.Value{}, evalFailed(n.ptr, err)
		}
		return x, nil
	}
	if !n.hasExpr {
		return v, nil
	}
	switch {
	case v.IsDocument():
		return addDoc(s, v, n)
	case v.IsArray():
		var out []value.Value
		var err error
		v.Each(func(_ int, e value.Value) bool {
			var x value.Value
			x, err = addValue(s, e, n)
			out = append(out, x)
			return err != nil
		})
		return arrOf(out), err
	}
	return addDoc(s, value.FromDocument(emptyDoc), n)
}

// docSize is the bytes a held document counts for the memory limit.
func docSize(d bson.Raw) int64 { return int64(len(d)) }
