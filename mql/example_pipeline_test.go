package mql_test

import (
	"context"
	"fmt"

	"github.com/rulegate/rulegate/mql"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func ExampleCompilePipeline() {
	stages := []bson.Raw{
		mustRaw(bson.D{{Key: "$match", Value: bson.D{{Key: "status", Value: "open"}}}}),
		mustRaw(bson.D{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$owner"}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}}),
		mustRaw(bson.D{{Key: "$sort", Value: bson.D{{Key: "n", Value: -1}}}}),
	}
	p, err := mql.CompilePipeline(stages, mql.PipelineOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	docs := mql.DocsOf(
		mustRaw(bson.D{{Key: "owner", Value: "ann"}, {Key: "status", Value: "open"}}),
		mustRaw(bson.D{{Key: "owner", Value: "bob"}, {Key: "status", Value: "open"}}),
		mustRaw(bson.D{{Key: "owner", Value: "bob"}, {Key: "status", Value: "open"}}),
		mustRaw(bson.D{{Key: "owner", Value: "ann"}, {Key: "status", Value: "closed"}}),
	)
	out, err := p.Run(context.Background(), docs)
	if err != nil {
		fmt.Println(err)
		return
	}
	all, err := mql.ReadAllDocs(context.Background(), out)
	fmt.Println(all, err)

	_, err = mql.CompilePipeline([]bson.Raw{mustRaw(bson.D{{Key: "$facet", Value: bson.D{}}})}, mql.PipelineOptions{})
	fmt.Println(err)
	// Output:
	// [{"_id": "bob","n": {"$numberInt":"2"}} {"_id": "ann","n": {"$numberInt":"1"}}] <nil>
	// /0/$facet: stage "$facet" is not supported in memory (pipeline/unknown-stage)
}

func mustRaw(d bson.D) bson.Raw {
	b, err := bson.Marshal(d)
	if err != nil {
		panic(err)
	}
	return b
}
