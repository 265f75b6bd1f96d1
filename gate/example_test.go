package gate_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"github.com/rulegate/rulegate/rules"
	"github.com/rulegate/rulegate/token"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// A Gate is made once per process from a client and the app's compiled
// rules. (Needs a server: not run.)
func ExampleNew() {
	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("MONGODB_URI")))
	if err != nil {
		log.Fatal(err)
	}
	app, err := rules.LoadApp(os.DirFS("testdata/app"))
	if err != nil {
		log.Fatal(err)
	}
	prog, err := evaluator.Compile(app)
	if err != nil {
		log.Fatal(err)
	}
	g, err := gate.New(client, prog)
	if err != nil {
		log.Fatal(err)
	}
	_ = g
}

// Per request, the caller comes from a verified access token; the gated
// collection is used like a *mongo.Collection. (Needs a server: not run.)
func ExampleGate_For() {
	var (
		g        *gate.Gate      // from gate.New
		verifier *token.Verifier // from token.NewVerifier
		bearer   string          // the request's access token
	)
	ctx := context.Background()
	claims, err := verifier.Verify(bearer)
	if err != nil {
		log.Fatal(err)
	}
	notes := g.For(claims.User()).Database("app").Collection("notes")
	res, err := notes.UpdateOne(ctx,
		bson.D{{Key: "owner_id", Value: claims.Subject}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "title", Value: "mine"}}}})
	switch {
	case errors.Is(err, gate.ErrDenied):
		fmt.Println("forbidden:", err)
	case err != nil:
		log.Fatal(err)
	default:
		fmt.Println(res.MatchedCount, res.ModifiedCount)
	}
}

// Find returns a *gate.Cursor: documents the caller may not read are left
// out and unreadable fields removed. (Needs a server: not run.)
func ExampleCollection_Find() {
	var notes *gate.Collection // from Session.Database(...).Collection(...)
	ctx := context.Background()
	cur, err := notes.Find(ctx, bson.D{{Key: "team", Value: "red"}}, options.Find().SetLimit(10))
	if err != nil {
		log.Fatal(err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		fmt.Println(cur.Current)
	}
	if err := cur.Err(); err != nil {
		log.Fatal(err)
	}
}

// Aggregate refuses stages that would leave the rules behind.
// (Needs a server: not run.)
func ExampleCollection_Aggregate() {
	var scores *gate.Collection
	ctx := context.Background()
	_, err := scores.Aggregate(ctx, mongo.Pipeline{
		{{Key: "$lookup", Value: bson.D{{Key: "from", Value: "secrets"}, {Key: "as", Value: "s"}}}},
	})
	var re *gate.RefusedError
	if errors.As(err, &re) {
		fmt.Println(re.Ptr, re.Code)
	}
}

// The system handle is the driver's own database: no rules apply, and the
// types say so. (Needs a server: not run.)
func ExampleGate_System() {
	var g *gate.Gate
	var users *mongo.Collection = g.System().Database("app").Collection("custom-user-data")
	_, err := users.InsertOne(context.Background(), bson.D{{Key: "userID", Value: "u1"}})
	if err != nil {
		log.Fatal(err)
	}
}

func ExampleDeniedError() {
	var err error = &gate.DeniedError{
		Namespace: "app.custom-user-data",
		Op:        "UpdateOne",
		Action:    evaluator.ActionWrite,
		Reason:    evaluator.ReasonNoRole,
	}
	fmt.Println(err)
	fmt.Println(errors.Is(err, gate.ErrDenied))
	// Output:
	// gate: app.custom-user-data: UpdateOne: write denied: no-role (gate/denied)
	// true
}

func ExampleRefusedError() {
	var err error = &gate.RefusedError{
		Namespace: "app.scores",
		Op:        "Aggregate",
		Ptr:       "/1/$out",
		Code:      gate.CodeUnsupported,
		Msg:       "$out writes to a collection outside the rules; write through a gated Collection instead",
	}
	fmt.Println(err)
	fmt.Println(errors.Is(err, gate.ErrRefused), errors.Is(err, gate.ErrDenied))
	// Output:
	// gate: app.scores: Aggregate: /1/$out: $out writes to a collection outside the rules; write through a gated Collection instead (gate/unsupported)
	// true false
}

// The custom user data flow of App Services: each user updates only their
// own document. (Needs a server: not run; see examples/customdata.)
func ExampleCollection_UpdateOne() {
	var (
		g      *gate.Gate
		claims *token.Claims // a verified access token
	)
	ctx := context.Background()
	coll := g.For(claims.User()).Database("app").Collection("custom-user-data")
	res, err := coll.UpdateOne(ctx,
		bson.D{{Key: "userID", Value: claims.Subject}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "favoriteColor", Value: "pink"}}}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("{MatchedCount: %d, ModifiedCount: %d}\n", res.MatchedCount, res.ModifiedCount)
}

// Distinct returns the values Find would show: a value of a field the
// caller may not read in some document is left out, as Find leaves it
// out. (Needs a server: not run.)
func ExampleCollection_Distinct() {
	var notes *gate.Collection
	var titles []string
	if err := notes.Distinct(context.Background(), "title", bson.D{}).Decode(&titles); err != nil {
		log.Fatal(err)
	}
	fmt.Println(titles)
}

// CountDocuments counts what Find would return. (Needs a server: not run.)
func ExampleCollection_CountDocuments() {
	var notes *gate.Collection
	n, err := notes.CountDocuments(context.Background(), bson.D{{Key: "team", Value: "red"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n)
}

// An insert is checked against the insert permission and the write
// permission of every field. (Needs a server: not run.)
func ExampleCollection_InsertOne() {
	var notes *gate.Collection
	_, err := notes.InsertOne(context.Background(), bson.D{{Key: "owner_id", Value: "a1"}, {Key: "title", Value: "new"}})
	if errors.Is(err, gate.ErrDenied) {
		fmt.Println(err)
	}
}

// FindOneAndUpdate returns the document with only the fields the caller
// may read. (Needs a server: not run.)
func ExampleCollection_FindOneAndUpdate() {
	var notes *gate.Collection
	var after bson.M
	err := notes.FindOneAndUpdate(context.Background(),
		bson.D{{Key: "_id", Value: 2}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "count", Value: 1}}}},
		options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(after["count"])
}

// Options of New. (Needs a server: not run.)
func ExampleWithInvisibleMatchesRevealed() {
	var (
		client *mongo.Client
		prog   *evaluator.Program
	)
	g, err := gate.New(client, prog, gate.WithInvisibleMatchesRevealed(), gate.WithRetries(32))
	if err != nil {
		log.Fatal(err)
	}
	_ = g
}
