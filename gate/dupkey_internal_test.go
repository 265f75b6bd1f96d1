package gate

import (
	"errors"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestWithholdKeys: MongoDB's duplicate-key errors name the index key of
// the written document ("dup key: { title: "t2", secret: "s3cr3t" }", and
// keyValue in the details), which can hold values the caller cannot read
// (a unique index over a hidden field). The gate keeps the code, so that
// mongo.IsDuplicateKeyError still works, and withholds the key.
func TestWithholdKeys(t *testing.T) {
	const secret = "s3cr3t"
	msg := `E11000 duplicate key error collection: db.c index: title_1_secret_1 dup key: { title: "t2", secret: "` + secret + `" }`
	details, _ := bson.Marshal(bson.D{{Key: "keyPattern", Value: bson.D{{Key: "title", Value: 1}, {Key: "secret", Value: 1}}}, {Key: "keyValue", Value: bson.D{{Key: "title", Value: "t2"}, {Key: "secret", Value: secret}}}})
	raw, _ := bson.Marshal(bson.D{{Key: "errmsg", Value: msg}})
	for _, err := range []error{
		mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 11000, Message: msg, Details: details, Raw: raw}}, Raw: raw},
		mongo.BulkWriteException{WriteErrors: []mongo.BulkWriteError{{WriteError: mongo.WriteError{Code: 11000, Message: msg, Details: details, Raw: raw}}}},
		mongo.CommandError{Code: 11000, Message: msg, Name: "DuplicateKey", Raw: raw},
	} {
		if !mongo.IsDuplicateKeyError(err) || !strings.Contains(err.Error(), secret) {
			t.Fatalf("test setup: %v", err)
		}
		got := withholdKeys(err)
		if !mongo.IsDuplicateKeyError(got) {
			t.Errorf("%T: no longer a duplicate key error: %v", err, got)
		}
		if strings.Contains(got.Error(), secret) || strings.Contains(bsonOf(got), secret) {
			t.Errorf("%T: the key is still in the error: %v", err, got)
		}
	}
	other := mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: 2, Message: "bad value"}}}
	if got := withholdKeys(other); !errors.Is(got, other) && got.Error() != other.Error() {
		t.Errorf("another error changed: %v", got)
	}
	if withholdKeys(nil) != nil {
		t.Error("nil changed")
	}
}

// bsonOf returns the raw server documents an error carries, as text.
func bsonOf(err error) string {
	var b strings.Builder
	var we mongo.WriteException
	if errors.As(err, &we) {
		b.WriteString(we.Raw.String())
		for _, e := range we.WriteErrors {
			b.WriteString(e.Details.String() + e.Raw.String())
		}
	}
	var be mongo.BulkWriteException
	if errors.As(err, &be) {
		for _, e := range be.WriteErrors {
			b.WriteString(e.Details.String() + e.Raw.String())
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		b.WriteString(ce.Raw.String())
	}
	return b.String()
}
