package mql

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/rulegate/rulegate/internal/txtar"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FuzzCompilePipeline compiles client bytes (a document whose values are
// the stages) and runs them over a few fixed documents: never a panic,
// every error wraps one of the pipeline sentinels.
func FuzzCompilePipeline(f *testing.F) {
	files, _ := filepath.Glob("testdata/pipeline/*.txtar")
	for _, path := range files {
		a, err := txtar.ParseFile(path)
		if err != nil {
			f.Fatal(err)
		}
		if pj, ok := a.Get("pipeline.json"); ok {
			var wrap bson.Raw
			if bson.UnmarshalExtJSON(append(append([]byte(`{"a":`), pj...), '}'), false, &wrap) == nil {
				f.Add([]byte(wrap.Lookup("a").Value))
			}
		}
	}
	docs := extArray(f, "docs", []byte(`[{"_id": 1, "a": [1, {"b": 2}], "s": "x"}, {"_id": 2, "a": null}, {"_id": 3, "a": {"b": [3, 4]}, "n": 2.5}]`))
	foreign := testForeign(map[string][]bson.Raw{"c": docs})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		var stages []bson.Raw
		if bson.Raw(data).Validate() != nil {
			return
		}
		vals, err := bson.Raw(data).Values()
		if err != nil {
			return
		}
		for _, v := range vals {
			d, ok := v.DocumentOK()
			if !ok {
				d = bson.Raw{5, 0, 0, 0, 0}
			}
			stages = append(stages, d)
		}
		p, err := CompilePipeline(stages, PipelineOptions{Foreign: foreign, MemoryLimit: 1 << 16})
		if err != nil {
			if !errors.Is(err, ErrInvalidPipeline) && !errors.Is(err, ErrUnsupportedPipeline) {
				t.Fatalf("compile error without a sentinel: %v", err)
			}
			return
		}
		out, err := p.Run(context.Background(), DocsOf(docs...))
		if err != nil {
			t.Fatal(err)
		}
		for range 1000 {
			if _, err := out.Next(context.Background()); err != nil {
				if err != io.EOF && !errors.Is(err, ErrPipelineFailed) {
					t.Fatalf("run error without a sentinel: %v", err)
				}
				return
			}
		}
	})
}

// BenchmarkPipelineMatchGroupSort runs $match + $group + $sort over 10k
// documents.
func BenchmarkPipelineMatchGroupSort(b *testing.B) {
	docs := make([]bson.Raw, 10000)
	for i := range docs {
		d, _ := bson.Marshal(bson.D{{Key: "_id", Value: i}, {Key: "owner", Value: "u" + itoa(i%50)}, {Key: "n", Value: i % 7}, {Key: "status", Value: []string{"open", "closed"}[i%2]}})
		docs[i] = d
	}
	stages := extArray(b, "pipeline", []byte(`[{"$match": {"status": "open", "n": {"$gte": 2}}}, {"$group": {"_id": "$owner", "total": {"$sum": "$n"}, "c": {"$sum": 1}}}, {"$sort": {"total": -1, "_id": 1}}]`))
	p, err := CompilePipeline(stages, PipelineOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		out, _ := p.Run(context.Background(), DocsOf(docs...))
		res, err := ReadAllDocs(context.Background(), out)
		if err != nil || len(res) != 25 {
			b.Fatalf("%d %v", len(res), err)
		}
	}
}
