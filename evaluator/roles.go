package evaluator

// Role semantics, written once.
//
// The rules of an App Services role (source/mongodb/tables/
// role-configuration.rst, source/rules/roles.txt) — the document_filters
// gates, write implies read, document-level permissions taking priority
// over field-level ones, field rules and additional_fields, permissions on
// an embedded document applying to its fields (source/rules/examples.txt)
// — are built here, once per role at compile time, as expression nodes
// over the role's compiled permissions. The same nodes are then read by
// the interpreters of the package:
//
//	| interpreter         | answers                                                | used by                        |
//	|---------------------|--------------------------------------------------------|--------------------------------|
//	| evalCtx.node        | true or false for one document (and the trace)         | Evaluate                       |
//	| fb.node             | true, false, or a MongoDB query on the stored document | ReadFilter, WriteFilter        |
//	| fb.node (kindOnly)  | true, false, or "depends on the document"              | ReadFilter's projection        |
//	| evalCtx.tri         | Kleene logic over missing request values               | filters' apply_when (Bind)     |
//
// So a rule such as "a field is readable when the read gate holds and the
// role reads it, or write implies read and the role writes it" (readVia)
// has one definition, whatever is asked of it.
//
// The nodes built here are marked synth: they have no trace step of their
// own (the permissions they combine keep theirs, and nLabel adds the step
// the trace has always shown for a permission), Bind does not cache them
// (their permissions are cached), and the filter builder translates every
// child (as the permissions were always translated). Constant children
// that cannot change a result are dropped; an absorbing constant stays in
// place: Evaluate stops there, the filter builder still translates the
// children after it, so that their failures surface.

// Node kinds of role semantics (see node.kind).
const (
	// nLabel is a permission evaluated with its trace step: kids[0] is
	// the permission, what the step's name ("read", "fields.x.write",
	// "additional_fields.read", "search", ...).
	nLabel nodeKind = iota + 100
	// nGate is a role's document_filters filter (read: gate 0, write:
	// gate 1), evaluated once per decision (evalCtx.evalGates) and read
	// from there by every rule that needs it.
	nGate
)

var (
	trueNode  = &node{kind: nConst, phase: phConst, val: true, synth: true}
	falseNode = &node{kind: nConst, phase: phConst, val: false, synth: true}
)

// logicNode builds the synthetic and (nAnd) or or (nOr) of kids.
func logicNode(k nodeKind, kids ...*node) *node {
	neutral := k == nAnd // true is neutral in and; false in or
	var keep []*node
	for _, c := range kids {
		if c.kind == nConst && c.val == neutral {
			continue
		}
		keep = append(keep, c)
	}
	switch len(keep) {
	case 0:
		if neutral {
			return trueNode
		}
		return falseNode
	case 1:
		return keep[0]
	}
	return &node{kind: k, phase: phDoc, kids: keep, synth: true}
}

func sand(kids ...*node) *node { return logicNode(nAnd, kids...) }
func sor(kids ...*node) *node  { return logicNode(nOr, kids...) }

// label is permission n with its trace step; false when n is nil.
// constFalse reports whether n (a permission, label'd) is the constant
// false: absent, or written false.
func constFalse(n *node) bool {
	if n.kind == nLabel && len(n.kids) == 1 {
		n = n.kids[0]
	}
	return n.kind == nConst && !n.val
}

func label(n *node, what string) *node {
	if n == nil {
		return falseNode
	}
	return &node{at: n.at, kind: nLabel, phase: phDoc, kids: []*node{n}, what: what, synth: true}
}

// roleSem builds the role-semantics nodes of a compiled role.
func roleSem(r *crole) {
	r.gRead, r.gWrite = trueNode, trueNode
	if r.dfRead != nil {
		r.gRead = &node{at: r.dfRead.at, kind: nGate, phase: phDoc, kids: []*node{r.dfRead}, gate: 0, synth: true}
	}
	if r.dfWrite != nil {
		r.gWrite = &node{at: r.dfWrite.at, kind: nGate, phase: phDoc, kids: []*node{r.dfWrite}, gate: 1, synth: true}
	}
	// Read access is denied when the read filter is false and the write
	// filter is undefined or false (role-configuration.rst,
	// document_filters): a defined write filter implies read.
	r.gWIR, r.readGate = r.gRead, r.gRead
	if r.dfWrite != nil {
		r.gWIR, r.readGate = r.gWrite, sor(r.gRead, r.gWrite)
	}
	for _, f := range r.fields {
		fieldSem(f)
	}
	r.addlL = addlSem(r.addl)
	for w := range 2 {
		r.any[w] = anyPerm(pick(r.read, r.write, w == 1), permName(w == 1), r.fields, r.addlL[w], w)
	}
	r.mayRead = r.readVia(r.any[0], r.any[1])
	r.searchL = label(r.search, "search")
	r.insertL = label(r.insert, "insert")
	r.deleteL = label(r.delete, "delete")
	// Read and write access to each top-level field, built once: the
	// named ones and every other (Decision.Fields asks for each field of
	// each document).
	r.other = r.topAccess(unnamedField)
	all := []*node{r.other[0]}
	for _, f := range r.fields {
		f.top = r.topAccess(f.name)
		all = append(all, f.top[0])
	}
	// Every field a document may hold is readable: every named top-level
	// field and, through additional_fields, every other one.
	r.readsAll = sand(all...)
	// allWritable is a sufficient condition for "every field of the
	// document is writable", for filters that do not know the document:
	// document-level write, or additional_fields.write and every named
	// field writable. It may exclude a document whose unwritable named
	// fields are absent, never the reverse.
	if r.write != nil {
		r.allWritable = r.write
	} else {
		ws := []*node{r.addlL[1]}
		for _, f := range r.fields {
			ws = append(ws, r.permAt([]string{f.name}, true))
		}
		r.allWritable = sand(ws...)
	}
}

// addlSem is the labeled read and write permissions of additional_fields
// (false where absent).
func addlSem(p *perms) [2]*node {
	if p == nil {
		return [2]*node{falseNode, falseNode}
	}
	return [2]*node{label(p.read, "additional_fields.read"), label(p.write, "additional_fields.write")}
}

// fieldSem builds the role-semantics nodes of a field rule and its
// embedded ones.
func fieldSem(f *cfield) {
	for _, s := range f.fields {
		fieldSem(s)
	}
	f.addlL = addlSem(f.addl)
	for w := range 2 {
		own := pick(f.read, f.write, w == 1)
		f.permL[w] = nil
		if own != nil {
			f.permL[w] = label(own, "fields."+f.name+"."+permName(w == 1))
		}
		f.any[w] = anyPerm(own, "fields."+f.name+"."+permName(w == 1), f.fields, f.addlL[w], w)
		// Every embedded field granted: the closest permission of each
		// named embedded field, then additional_fields for the others. A
		// field with neither a permission nor embedded rules denies and
		// ends the list (the filter builder translates no field after it).
		if !f.hasSub() {
			f.allSub[w] = falseNode
			continue
		}
		var kids []*node
		for _, s := range f.fields {
			if n := pick(s.read, s.write, w == 1); n != nil {
				kids = append(kids, n)
				continue
			}
			kids = append(kids, s.allSub[w])
			if !s.hasSub() {
				break
			}
		}
		f.allSub[w] = sand(append(kids, f.addlL[w])...)
	}
}

// anyPerm is whether a level grants read (w 0) or write (w 1) on
// anything: its own permission when set (a document-level permission takes
// priority over field-level ones), else some field rule or
// additional_fields.
func anyPerm(own *node, what string, fields []*cfield, addl *node, w int) *node {
	if own != nil {
		return label(own, what)
	}
	kids := make([]*node, 0, len(fields)+1)
	for _, f := range fields {
		kids = append(kids, f.any[w])
	}
	return sor(append(kids, addl)...)
}

// readVia is the one definition of read access: the read gate and read,
// or the gate write implies read by and write.
func (r *crole) readVia(read, write *node) *node {
	return sor(sand(r.gRead, read), sand(r.gWIR, write))
}

// topAccess is read (0) and write (1) access to the top-level field name.
func (r *crole) topAccess(name string) [2]*node {
	p := []string{name}
	return [2]*node{r.readable(p), sand(r.gWrite, r.permAt(p, true))}
}

// readable is read access to the field at path.
func (r *crole) readable(path []string) *node {
	return r.readVia(r.permAt(path, false), r.permAt(path, true))
}

// permAt returns the role's read (or write) permission on the field at
// path: the document-level permission when set; else the closest field
// rule that sets it (a permission on an embedded document applies to all
// its fields, source/rules/examples.txt); else additional_fields of the
// level where the path leaves the named rules. A path that ends on a rule
// without a permission of its own needs it on every embedded field. It
// only looks nodes up: it does not allocate.
func (r *crole) permAt(path []string, write bool) *node {
	if n := pick(r.read, r.write, write); n != nil {
		return n
	}
	w := 0
	if write {
		w = 1
	}
	fields, addl := r.fields, r.addlL[w]
	for i, seg := range path {
		f := findField(fields, seg)
		if f == nil {
			return addl
		}
		if f.permL[w] != nil {
			return f.permL[w]
		}
		if i == len(path)-1 {
			return f.allSub[w]
		}
		fields, addl = f.fields, f.addlL[w]
	}
	return falseNode
}
