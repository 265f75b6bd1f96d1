package gate

import (
	"reflect"
	"testing"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/source"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func mustRaw(t testing.TB, d any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestCheckPipeline(t *testing.T) {
	noValidate := func(bson.Raw, source.Pointer) *RefusedError { return nil }
	for _, tc := range []struct {
		name  string
		stage bson.D
		code  string // "" when allowed
		ptr   source.Pointer
	}{
		{"match", bson.D{{Key: "$match", Value: bson.D{{Key: "a", Value: 1}}}}, "", ""},
		{"group", bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$a"}}}}, "", ""},
		{"sort", bson.D{{Key: "$sort", Value: bson.D{{Key: "a", Value: 1}}}}, "", ""},
		{"match not a document", bson.D{{Key: "$match", Value: 1}}, CodeInvalid, "/0/$match"},
		{"two keys", bson.D{{Key: "$limit", Value: 1}, {Key: "$skip", Value: 1}}, CodeInvalid, "/0"},
		{"empty", bson.D{}, CodeInvalid, "/0"},
		{"lookup", bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}, {Key: "localField", Value: "a"}, {Key: "foreignField", Value: "b"}, {Key: "as", Value: "c"}}}}, "", ""},
		{"unionWith", bson.D{{Key: "$unionWith", Value: "x"}}, "", ""},
		{"unionWith pipeline", bson.D{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: "x"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$match", Value: bson.D{}}}}}}}}, "", ""},
		{"lookup not a document", bson.D{{Key: "$lookup", Value: "x"}}, CodeInvalid, "/0/$lookup"},
		{"lookup other database", bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: bson.D{{Key: "db", Value: "admin"}, {Key: "coll", Value: "x"}}}}}}, CodeUnsupported, "/0/$lookup/from"},
		{"unionWith other database", bson.D{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: bson.D{{Key: "db", Value: "admin"}}}}}}, CodeUnsupported, "/0/$unionWith/coll"},
		{"lookup sub-pipeline out", bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}, {Key: "as", Value: "c"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$out", Value: "y"}}}}}}}, CodeUnsupported, "/0/$lookup/pipeline/0/$out"},
		{"lookup let function", bson.D{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}, {Key: "as", Value: "c"}, {Key: "let", Value: bson.D{{Key: "v", Value: bson.D{{Key: "$function", Value: bson.D{}}}}}}, {Key: "pipeline", Value: bson.A{}}}}}, CodeUnsupported, "/0/$lookup/let/v/$function"},
		{"unionWith nested graphLookup", bson.D{{Key: "$unionWith", Value: bson.D{{Key: "coll", Value: "x"}, {Key: "pipeline", Value: bson.A{bson.D{{Key: "$graphLookup", Value: bson.D{}}}}}}}}, CodeUnsupported, "/0/$unionWith/pipeline/0/$graphLookup"},
		{"graphLookup", bson.D{{Key: "$graphLookup", Value: bson.D{}}}, CodeUnsupported, "/0/$graphLookup"},
		{"unionWith db", bson.D{{Key: "$unionWith", Value: bson.D{{Key: "db", Value: "local"}, {Key: "coll", Value: "oplog.rs"}}}}, CodeUnsupported, "/0/$unionWith/db"},
		{"out", bson.D{{Key: "$out", Value: "x"}}, CodeUnsupported, "/0/$out"},
		{"merge", bson.D{{Key: "$merge", Value: "x"}}, CodeUnsupported, "/0/$merge"},
		{"facet", bson.D{{Key: "$facet", Value: bson.D{}}}, CodeUnsupported, "/0/$facet"},
		{"indexStats", bson.D{{Key: "$indexStats", Value: bson.D{}}}, CodeUnsupported, "/0/$indexStats"},
		{"unknown", bson.D{{Key: "$frobnicate", Value: 1}}, CodeUnsupported, "/0/$frobnicate"},
		{"function deep", bson.D{{Key: "$project", Value: bson.D{{Key: "x", Value: bson.A{1, bson.D{{Key: "$function", Value: bson.D{}}}}}}}}, CodeUnsupported, "/0/$project/x/1/$function"},
		{"accumulator", bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: nil}, {Key: "x", Value: bson.D{{Key: "$accumulator", Value: bson.D{}}}}}}}, CodeUnsupported, "/0/$group/x/$accumulator"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, r := checkPipeline([]bson.Raw{mustRaw(t, tc.stage)}, "", 0, noValidate)
			switch {
			case tc.code == "" && r != nil:
				t.Fatalf("refused: %v", r)
			case tc.code != "" && r == nil:
				t.Fatal("allowed")
			case r != nil && (r.Code != tc.code || r.Ptr != tc.ptr):
				t.Fatalf("got %s at %q, want %s at %q (%v)", r.Code, r.Ptr, tc.code, tc.ptr, r)
			}
		})
	}
}

func TestToDocs(t *testing.T) {
	for _, p := range []any{
		[]bson.D{{{Key: "$limit", Value: 1}}},
		bson.A{bson.D{{Key: "$limit", Value: 1}}},
		[]any{bson.M{"$limit": 1}},
	} {
		docs, err := toDocs(p)
		if err != nil || len(docs) != 1 || docs[0].Lookup("$limit").Int32() != 1 {
			t.Errorf("toDocs(%T) = %v, %v", p, docs, err)
		}
	}
	if _, err := toDocs(bson.D{{Key: "$limit", Value: 1}}); err == nil {
		t.Error("a bson.D (one document) accepted as a pipeline")
	}
	if _, err := toDocs(42); err == nil {
		t.Error("toDocs(42) succeeded")
	}
}

func TestParseProjection(t *testing.T) {
	doc := mustRaw(t, bson.D{{Key: "_id", Value: 1}, {Key: "a", Value: bson.D{{Key: "b", Value: 1}, {Key: "c", Value: 2}}}, {Key: "d", Value: 3}})
	for _, tc := range []struct {
		proj bson.D
		want bson.D // nil: refused
	}{
		{bson.D{{Key: "d", Value: 1}}, bson.D{{Key: "_id", Value: int32(1)}, {Key: "d", Value: int32(3)}}},
		{bson.D{{Key: "d", Value: true}, {Key: "_id", Value: 0}}, bson.D{{Key: "d", Value: int32(3)}}},
		{bson.D{{Key: "a.b", Value: 1}}, bson.D{{Key: "_id", Value: int32(1)}, {Key: "a", Value: bson.D{{Key: "b", Value: int32(1)}}}}},
		{bson.D{{Key: "a", Value: 0}}, bson.D{{Key: "_id", Value: int32(1)}, {Key: "d", Value: int32(3)}}},
		{bson.D{{Key: "a.c", Value: 0}, {Key: "_id", Value: 0}}, bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: int32(1)}}}, {Key: "d", Value: int32(3)}}},
		{bson.D{{Key: "_id", Value: 0}}, bson.D{{Key: "a", Value: bson.D{{Key: "b", Value: int32(1)}, {Key: "c", Value: int32(2)}}}, {Key: "d", Value: int32(3)}}},
		{bson.D{{Key: "a", Value: 1}, {Key: "d", Value: 0}}, nil},
		{bson.D{{Key: "a", Value: bson.D{{Key: "$slice", Value: 1}}}}, nil},
		{bson.D{{Key: "$a", Value: 1}}, nil},
		{bson.D{{Key: "a..b", Value: 1}}, nil},
	} {
		p, msg := parseProjection(mustRaw(t, tc.proj))
		if tc.want == nil {
			if msg == "" {
				t.Errorf("%v accepted", tc.proj)
			}
			continue
		}
		if msg != "" {
			t.Errorf("%v: %s", tc.proj, msg)
			continue
		}
		var got, want bson.D
		_ = bson.Unmarshal(mustRaw(t, p.Apply(doc)), &got)
		_ = bson.Unmarshal(mustRaw(t, tc.want), &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: got %v, want %v", tc.proj, got, want)
		}
	}
}

func TestQueryPaths(t *testing.T) {
	for _, tc := range []struct {
		q    bson.D
		want []string
	}{
		{bson.D{{Key: "a", Value: 1}, {Key: "b.c", Value: bson.D{{Key: "$gt", Value: 1}}}}, []string{"a", "b.c"}},
		{bson.D{{Key: "$or", Value: bson.A{bson.D{{Key: "x", Value: 1}}, bson.D{{Key: "$and", Value: bson.A{bson.D{{Key: "y", Value: 1}}}}}}}}, []string{"x", "y"}},
		{bson.D{{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$a", "$$ROOT.b"}}}}}, []string{"a", "b"}},
		{bson.D{{Key: "$expr", Value: bson.D{{Key: "$eq", Value: bson.A{"$$ROOT", 1}}}}}, []string{allFields}},
		{bson.D{{Key: "$text", Value: bson.D{}}}, []string{allFields}},
		{bson.D{{Key: "$comment", Value: "hi"}}, []string{}},
	} {
		m := map[string]bool{}
		queryPaths(mustRaw(t, tc.q), m)
		if got := sortedKeys(m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: %v, want %v", tc.q, got, tc.want)
		}
	}
}

func FuzzCheckPipeline(f *testing.F) {
	for _, s := range []bson.D{
		{{Key: "$match", Value: bson.D{{Key: "a", Value: 1}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$a"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
		{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "x"}}}},
		{{Key: "$project", Value: bson.D{{Key: "x", Value: bson.A{bson.D{{Key: "$function", Value: 1}}}}}}},
	} {
		b, _ := bson.Marshal(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		raw := bson.Raw(b)
		if raw.Validate() != nil {
			return
		}
		_, r := checkPipeline([]bson.Raw{raw}, "", 0, func(bson.Raw, source.Pointer) *RefusedError { return nil })
		if r != nil {
			if r.Code == "" || r.Msg == "" {
				t.Fatalf("refusal without code or message: %+v", r)
			}
			if _, err := r.Ptr.Tokens(); err != nil {
				t.Fatalf("bad pointer %q: %v", r.Ptr, err)
			}
		}
		m := map[string]bool{}
		queryPaths(raw, m)
	})
}

func FuzzParseProjection(f *testing.F) {
	for _, s := range []bson.D{
		{{Key: "a", Value: 1}},
		{{Key: "a.b", Value: 0}, {Key: "_id", Value: 0}},
		{{Key: "a", Value: bson.D{{Key: "$slice", Value: 1}}}},
	} {
		b, _ := bson.Marshal(s)
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, proj, doc []byte) {
		if bson.Raw(proj).Validate() != nil || bson.Raw(doc).Validate() != nil {
			return
		}
		p, msg := parseProjection(proj)
		if msg != "" || p == nil {
			return
		}
		if _, err := bson.Marshal(p.Apply(doc)); err != nil {
			t.Fatalf("projected document does not marshal: %v", err)
		}
	})
}

func TestForInputs(t *testing.T) {
	g := &Gate{}
	if _, err := g.ForInputs(expansion.Inputs{Values: []byte("{")}); err == nil {
		t.Error("ForInputs accepted malformed values")
	}
	s, err := g.ForInputs(expansion.Inputs{Values: []byte(`{"tier": "gold"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if string(s.Inputs().Values) != `{"tier": "gold"}` {
		t.Errorf("inputs not kept: %q", s.Inputs().Values)
	}
}
