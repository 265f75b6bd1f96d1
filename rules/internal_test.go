package rules

import (
	"testing"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
)

func TestSuggestKey(t *testing.T) {
	for _, tc := range []struct {
		key, want string
	}{
		{"aply_when", ` (did you mean "apply_when"?)`},
		{"applyWhen", ` (did you mean "apply_when"?)`},
		{"Read", ` (did you mean "read"?)`},
		{"documentFilters", ` (did you mean "document_filters"?)`},
		{"zzzzzzzz", ` (want one of additional_fields, apply_when, delete, document_filters, fields, insert, name, read, search, write)`},
	} {
		if got := suggestKey(tc.key, roleKeys()); got != tc.want {
			t.Errorf("suggestKey(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestSuggestOp(t *testing.T) {
	for _, tc := range []struct {
		key, want string
	}{
		{"$exist", ` (did you mean "$exists"?)`},
		{"$exsits", ` (did you mean "$exists"?)`},
		{"%ands", ` (did you mean "%and"?)`},
		{"$all", ""}, // not "$lt": two edits of a three-letter name
		{"$bad", ""}, // not "$and"
		{"$gte", ""},
		{"$regex", ""},
	} {
		if got := suggestOp(tc.key); got != tc.want {
			t.Errorf("suggestOp(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

func TestCompareOp(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want Op
		ok   bool
	}{
		{"$eq", OpEq, true}, {"%eq", OpEq, true}, {"$ne", OpNe, true}, {"$gt", OpGt, true},
		{"%gte", OpGte, true}, {"$lt", OpLt, true}, {"%lte", OpLte, true}, {"%in", OpIn, true},
		{"$nin", OpNin, true}, {"%exists", OpExists, true}, {"$exists", OpExists, true},
		{"%%in", "", false}, {"in", "", false}, {"$where", "", false}, {"$regex", OpRegex, true}, {"$", "", false}, {"", "", false},
		{"$IN", "", false},
	} {
		got, ok := compareOp(tc.key)
		if got != tc.want || ok != tc.ok {
			t.Errorf("compareOp(%q) = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
}

func mustExpr(t *testing.T, s string) Expr {
	t.Helper()
	e, err := ParseExpr(source.NewFile("e.json", []byte(s)))
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return e
}

func TestIsTrue(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want bool
	}{
		{`true`, true}, {`false`, false}, {`{}`, true},
		{`{"%%true": true}`, true}, {`{"%%true": "%%true"}`, true}, {`{"%%false": false}`, true},
		{`{"%%true": false}`, false}, {`{"%and": [{}, true]}`, true}, {`{"%or": [false, {}]}`, true},
		{`{"%or": [{"a": 1}, true]}`, true}, {`{"%and": [{"a": 1}, true]}`, false},
		{`{"a": 1}`, false}, {`{"%%user.id": "x"}`, false}, {`{"$nor": [false]}`, true},
		{`{"%%true": {"$eq": true}}`, false}, // operator objects are not folded
	} {
		if got := isTrue(mustExpr(t, tc.expr)); got != tc.want {
			t.Errorf("isTrue(%s) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

func TestExpansionKind(t *testing.T) {
	for _, tc := range []struct {
		ref  string
		want string // "" = unknown
	}{
		{"%%user.id", "string"}, {"%%user.type", "string"}, {"%%user.identities", "array"},
		{"%%user.data", "object"}, {"%%user.custom_data", "object"}, {"%%user.custom_data.x", ""},
		{"%%user", "object"}, {"%%request.remoteIPAddress", "string"}, {"%%request.requestHeaders", "object"},
		{"%%request.requestHeaders.x", "array"}, {"%%environment.tag", "string"}, {"%%environment.values", "object"},
		{"%%environment.values.x", ""}, {"%%values.x", ""}, {"%%true", "boolean"}, {"%%false", "boolean"},
		{"%%root", "object"}, {"%%root.a", ""}, {"%%partition", ""}, {"%%args.x", ""},
	} {
		r, err := expansion.Parse(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := ExpansionKind(r)
		if ok != (tc.want != "") || got != tc.want {
			t.Errorf("ExpansionKind(%s) = %q, %v; want %q", tc.ref, got, ok, tc.want)
		}
	}
}

// TestValidateHandBuilt checks that Validate catches what the parser would
// refuse when an AST is built by hand.
func TestValidateHandBuilt(t *testing.T) {
	f := source.NewFile("rules.json", []byte("{}"))
	at := At{File: f, Ptr: "/roles/0/apply_when"}
	lit := func(v value.Value) *Literal { return &Literal{At: at, Value: v} }
	match := func(c Cond) Expr {
		return &Match{At: at, Left: Left{At: at, Ref: expansion.Ref{Root: expansion.RootRoot, Path: []string{"a"}}, Implicit: true, Key: "a"}, Cond: c}
	}
	for _, tc := range []struct {
		name string
		expr Expr
		code string
	}{
		{"unknown op", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: "$where", Arg: lit(value.String("x"))}}}), CodeUnknownOperator},
		{"regex from an expansion", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpRegex, Arg: &ExpansionRef{At: at, Ref: expansion.Ref{Root: expansion.RootUser, Path: []string{"id"}}}}}}), CodeType},
		{"options alone", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpOptions, Arg: lit(value.String("i"))}}}), CodeType},
		{"regex backreference", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpRegex, Arg: lit(value.String(`(a)\1`))}}}), CodeRegexUnsupported},
		{"elemMatch document operand", match(&ElemMatch{At: at, Cond: &Ops{At: at, Ops: []OpArg{{At: at, Op: OpEq, Arg: &ExpansionRef{At: at, Ref: expansion.Ref{Root: expansion.RootRoot, Path: []string{"b"}}}}}}}), CodePhase},
		{"elemMatch expansion key", match(&ElemMatch{At: at, Query: &Match{At: at, Left: Left{At: at, Ref: expansion.Ref{Root: expansion.RootUser, Path: []string{"id"}}, Key: "%%user.id"}, Cond: &Equals{At: at, Operand: lit(value.String("u1"))}}}), CodeType},
		{"in string", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpIn, Arg: lit(value.String("x"))}}}), CodeType},
		{"in user.type", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpIn, Arg: &ExpansionRef{At: at, Ref: expansion.Ref{Root: expansion.RootUser, Path: []string{"type"}}}}}}), CodeType},
		{"exists string", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpExists, Arg: lit(value.String("x"))}}}), CodeType},
		{"unknown root", match(&Equals{At: at, Operand: &ExpansionRef{At: at, Ref: expansion.Ref{Root: 99}}}), expansion.CodeUnknown},
		{"unknown user field", match(&Equals{At: at, Operand: &ExpansionRef{At: at, Ref: expansion.Ref{Root: expansion.RootUser, Path: []string{"name"}}}}), expansion.CodeUnknownField},
		{"inner operator", match(&Equals{At: at, Operand: &Call{At: at, Op: CallStringToOid, Arg: &Call{At: at, Op: CallOidToString, Arg: lit(value.String("x"))}}}), CodeType},
		{"unknown call", match(&Equals{At: at, Operand: &Call{At: at, Op: "%eval"}}), CodeUnknownOperator},
		{"unknown cond logic", match(&CondLogic{At: at, Op: "%xor"}), CodeUnknownOperator},
		{"unknown function", match(&Equals{At: at, Operand: &Call{At: at, Op: CallFunction, Name: "nope"}}), CodeUnknownFunction},
		{"regex literal", match(&Equals{At: at, Operand: lit(value.Regex("o", ""))}), CodeRegex},
		{"regex in $nin", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpNin, Arg: lit(value.FromArray(bsonArray(value.Regex("o", ""))))}}}), CodeRegex},
		{"regex in array operand", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpIn, Arg: &ArrayOperand{At: at, Elems: []Operand{lit(value.Regex("o", "i"))}}}}}), CodeRegex},
		{"operator document literal", match(&Equals{At: at, Operand: lit(mustExtJSON(t, `{"$gt": 1}`))}), CodeOperand},
		{"operator document in $nin", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpNin, Arg: lit(mustExtJSON(t, `["x", {"$regex": "o", "$options": ""}]`))}}}), CodeOperand},
		{"undefined literal", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpNe, Arg: lit(mustExtJSON(t, `{"$undefined": true}`))}}}), CodeOperand},
		{"undefined deep in array operand", match(&Ops{At: at, Ops: []OpArg{{At: at, Op: OpIn, Arg: &ArrayOperand{At: at, Elems: []Operand{lit(mustExtJSON(t, `{"a": {"$undefined": true}}`))}}}}}), CodeOperand},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app := &App{DataSources: []*DataSource{{Name: "s", Collections: []*Collection{{At: At{File: f}, Database: "d", Collection: "c", Roles: []*Role{{At: at, Name: "r", ApplyWhen: tc.expr}}}}}}}
			errs := Validate(app, ValidateOptions{})
			if len(errs) != 1 || errs[0].Code != tc.code {
				t.Fatalf("Validate = %v, want one %s", errs, tc.code)
			}
		})
	}
}

func TestDefaultRuleFor(t *testing.T) {
	d1, d2 := &DefaultRule{}, &DefaultRule{}
	c := &Collection{Database: "app", Collection: "items"}
	two := &App{DataSources: []*DataSource{
		{Name: "a", DefaultRule: d1},
		{Name: "b", DefaultRule: d2, Collections: []*Collection{c}},
	}}
	if got := two.DefaultRuleFor("app.items"); got != d2 {
		t.Errorf("the data source holding the namespace's rules wins")
	}
	if got := two.DefaultRuleFor("app.other"); got != nil {
		t.Errorf("two default rules and no custom user data: want nil (ambiguous), got %v", got)
	}
	two.CustomUserData = &CustomUserData{MongoServiceName: "a"}
	if got := two.DefaultRuleFor("app.other"); got != d1 {
		t.Errorf("mongo_service_name breaks the tie")
	}
	one := &App{DataSources: []*DataSource{{Name: "a"}, {Name: "b", DefaultRule: d2}}}
	if got := one.DefaultRuleFor("x.y"); got != d2 {
		t.Errorf("the only default rule applies")
	}
	none := &App{}
	if none.DefaultRuleFor("x.y") != nil {
		t.Errorf("no data sources: nil")
	}
	// Collection prefers mongo_service_name when two data sources have
	// rules for one namespace.
	ca, cb := &Collection{Database: "d", Collection: "c"}, &Collection{Database: "d", Collection: "c"}
	dup := &App{DataSources: []*DataSource{{Name: "a", Collections: []*Collection{ca}}, {Name: "b", Collections: []*Collection{cb}}}}
	if got, ds := dup.Collection("d.c"); got != ca || ds.Name != "a" {
		t.Errorf("first data source by name wins")
	}
	dup.CustomUserData = &CustomUserData{MongoServiceName: "b"}
	if got, _ := dup.Collection("d.c"); got != cb {
		t.Errorf("mongo_service_name wins")
	}
}

func BenchmarkParseRules(b *testing.B) {
	data := []byte(`{"database":"app","collection":"items","roles":[
{"name":"admin","apply_when":{"%%user.custom_data.admin":true},"read":true,"write":true},
{"name":"owner","apply_when":{"owner_id":"%%user.id"},"document_filters":{"read":{"%%user.custom_data.teamIds":{"$in":["red","blue"]}},"write":{"owner_id":"%%user.id"}},
 "fields":{"title":{"read":true,"write":true},"meta":{"read":true,"fields":{"secret":{"read":false}}}},"additional_fields":{"read":true}},
{"name":"team","apply_when":{"team_id":{"%stringToOid":"%%user.custom_data.teamId"}},"read":true}],
"filters":[{"name":"f","apply_when":{"%%true":true},"query":{"deleted":{"$ne":true}},"projection":{"_internal":0}}]}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ParseRules(source.NewFile("rules.json", data)); err != nil {
			b.Fatal(err)
		}
	}
}

// bsonArray encodes vals as a BSON array.
func bsonArray(vals ...value.Value) []byte {
	b := []byte{0, 0, 0, 0}
	for i, v := range vals {
		b = append(b, byte(v.Type))
		b = append(b, byte('0'+i), 0)
		b = append(b, v.Data...)
	}
	b = append(b, 0)
	n := len(b)
	b[0], b[1], b[2], b[3] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return b
}

func mustExtJSON(t *testing.T, s string) value.Value {
	t.Helper()
	v, err := value.FromExtJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}
