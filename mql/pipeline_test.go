package mql

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rulegate/rulegate/internal/casetest"
	"github.com/rulegate/rulegate/source"
	"github.com/rulegate/rulegate/value"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// extArray parses a JSON array of extended JSON documents.
func extArray(t testing.TB, name string, data []byte) []bson.Raw {
	t.Helper()
	var wrap bson.Raw
	if err := bson.UnmarshalExtJSON(append(append([]byte(`{"a":`), data...), '}'), false, &wrap); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	vals, err := wrap.Lookup("a").Array().Values()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	out := make([]bson.Raw, len(vals))
	for i, v := range vals {
		d, ok := v.DocumentOK()
		if !ok {
			t.Fatalf("%s: element %d is not a document", name, i)
		}
		out[i] = d
	}
	return out
}

// testForeign serves collections from memory, filtering with Match as the
// gate filters on the server.
func testForeign(colls map[string][]bson.Raw) Foreign {
	return func(_ context.Context, coll string, filter bson.Raw) (Docs, error) {
		docs, ok := colls[coll]
		if !ok {
			return DocsOf(), nil
		}
		if filter == nil {
			return DocsOf(docs...), nil
		}
		var out []bson.Raw
		for _, d := range docs {
			ok, err := Match(filter, d)
			if err != nil {
				return nil, err
			}
			if ok {
				out = append(out, d)
			}
		}
		return DocsOf(out...), nil
	}
}

// renderDocs is one relaxed extended JSON document a line.
func renderDocs(docs []bson.Raw) []byte {
	var b bytes.Buffer
	b.WriteString("[\n")
	for i, d := range docs {
		j, err := bson.MarshalExtJSON(d, false, false)
		if err != nil {
			j = []byte(strconv.Quote(err.Error()))
		}
		b.WriteString("  ")
		b.Write(j)
		if i < len(docs)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("]\n")
	return b.Bytes()
}

// renderErr is an error's text, code and sentinel.
func renderErr(err error) []byte {
	var se *source.Error
	code := ""
	if errors.As(err, &se) {
		code = se.Code
	}
	kind := "none"
	for _, k := range []struct {
		name string
		err  error
	}{{"ErrInvalidPipeline", ErrInvalidPipeline}, {"ErrUnsupportedPipeline", ErrUnsupportedPipeline}, {"ErrPipelineFailed", ErrPipelineFailed}} {
		if errors.Is(err, k.err) {
			kind = k.name
		}
	}
	return fmt.Appendf(nil, "%s\ncode: %s\nsentinel: %s\n", err, code, kind)
}

// TestPipelineCases runs testdata/pipeline/*.txtar: input.json (the
// documents), pipeline.json, foreign/<coll>.json (the collections of
// $lookup and $unionWith; without any, PipelineOptions.Foreign is nil),
// memory-limit (bytes), and want.json or want-error.txt.
func TestPipelineCases(t *testing.T) {
	casetest.Run(t, "testdata/pipeline/*.txtar", func(t *testing.T, c *casetest.Case) {
		in, _ := c.File("input.json")
		pj, ok := c.File("pipeline.json")
		if !ok {
			t.Fatal("no pipeline.json")
		}
		var docs []bson.Raw
		if len(bytes.TrimSpace(in)) > 0 {
			docs = extArray(t, "input.json", in)
		}
		stages := extArray(t, "pipeline.json", pj)
		opts := PipelineOptions{Now: func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC) }}
		colls := map[string][]bson.Raw{}
		for _, f := range c.Archive.Files {
			if name, ok := strings.CutPrefix(f.Name, "foreign/"); ok {
				colls[strings.TrimSuffix(name, ".json")] = extArray(t, f.Name, f.Data)
			}
		}
		if len(colls) > 0 {
			opts.Foreign = testForeign(colls)
		}
		if m, ok := c.File("memory-limit"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(string(m)), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			opts.MemoryLimit = n
		}
		out, err := runPipeline(stages, opts, docs)
		if err != nil {
			c.Check("want-error.txt", renderErr(err))
			c.Remove("want.json")
			return
		}
		c.Check("want.json", renderDocs(out))
		c.Remove("want-error.txt")
	})
}

func runPipeline(stages []bson.Raw, opts PipelineOptions, docs []bson.Raw) ([]bson.Raw, error) {
	p, err := CompilePipeline(stages, opts)
	if err != nil {
		return nil, err
	}
	d, err := p.Run(context.Background(), DocsOf(docs...))
	if err != nil {
		return nil, err
	}
	return ReadAllDocs(context.Background(), d)
}

// TestPipelineConcurrentRuns runs one Pipeline from many goroutines (run
// with -race).
func TestPipelineConcurrentRuns(t *testing.T) {
	stages := extArray(t, "pipeline", []byte(`[
		{"$match": {"n": {"$gte": 2}}},
		{"$lookup": {"from": "f", "localField": "k", "foreignField": "k", "as": "j"}},
		{"$lookup": {"from": "f", "let": {"kk": "$k"}, "pipeline": [{"$project": {"v": "$$kk"}}], "as": "p"}},
		{"$unionWith": {"coll": "f", "pipeline": [{"$match": {"n": {"$gte": 100}}}]}},
		{"$group": {"_id": "$k", "c": {"$sum": 1}}},
		{"$sort": {"c": -1, "_id": 1}}]`))
	docs := extArray(t, "docs", []byte(`[{"k": 1, "n": 1}, {"k": 1, "n": 2}, {"k": 2, "n": 3}, {"k": 2, "n": 4}, {"k": 2, "n": 5}]`))
	opts := PipelineOptions{Foreign: testForeign(map[string][]bson.Raw{"f": docs})}
	p, err := CompilePipeline(stages, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := `[
  {"_id":2,"c":3},
  {"_id":1,"c":1}
]
`
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, err := p.Run(context.Background(), DocsOf(docs...))
			if err != nil {
				t.Error(err)
				return
			}
			out, err := ReadAllDocs(context.Background(), d)
			if err != nil {
				t.Error(err)
				return
			}
			if got := string(renderDocs(out)); got != want {
				t.Errorf("got %s", got)
			}
		}()
	}
	wg.Wait()
}

// endless is a Docs that never ends.
type endless struct{ n int }

func (e *endless) Next(context.Context) (bson.Raw, error) {
	e.n++
	return bson.Raw(docOf([]field{{"n", value.Int32(int32(e.n))}}).Data), nil
}

// TestPipelineStreams checks that streaming stages pull lazily and that
// a cancelled context ends the stream.
func TestPipelineStreams(t *testing.T) {
	stages := extArray(t, "pipeline", []byte(`[{"$match": {"n": {"$gt": 2}}}, {"$limit": 3}]`))
	p, err := CompilePipeline(stages, PipelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	src := &endless{}
	d, err := p.Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	out, err := ReadAllDocs(context.Background(), d)
	if err != nil || len(out) != 3 || src.n != 5 {
		t.Fatalf("got %d documents, read %d, err %v", len(out), src.n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d, _ = p.Run(ctx, &endless{})
	if _, err := d.Next(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	if _, err := d.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("after cancel: %v", err)
	}
	if _, err := d.Next(ctx); err == io.EOF {
		t.Fatal("EOF after cancel")
	}
	// A blocking stage stops reading its input once ctx is done.
	p, err = CompilePipeline(extArray(t, "pipeline", []byte(`[{"$sort": {"n": 1}}]`)), PipelineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	src = &endless{}
	d, _ = p.Run(ctx, docsFunc(func(c context.Context) (bson.Raw, error) {
		if src.n == 100 {
			cancel()
		}
		return src.Next(c)
	}))
	if _, err := d.Next(context.Background()); !errors.Is(err, context.Canceled) || src.n != 101 {
		t.Fatalf("sort after cancel: %v after %d documents", err, src.n)
	}
}
