package customdata_test

import (
	"bytes"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/rulegate/rulegate/customdata"
	"github.com/rulegate/rulegate/token"
)

// TestTokenJSONInvalidUTF8: MongoDB stores strings and keys that are not
// valid UTF-8 byte for byte, but extended JSON writes each bad byte as
// U+FFFD, so %%user.custom_data.team would read "a\ufffdb" for a stored
// "a\xffb": a different value than the one the rules were written against
// (a user whose own document says team "a\xffb" would match the documents
// of team "a\ufffdb"), and two keys "k\xfe", "k\xff" collapse into one.
// Such a document must either read back to the same BSON or be refused.
func TestTokenJSONInvalidUTF8(t *testing.T) {
	key, _ := token.HMACKey("k1", []byte("customdata-test-secret-0123456789abcdef"))
	ks, _ := token.NewKeySet(key)
	signer, _ := token.NewSigner(ks)
	verifier, _ := token.NewVerifier(ks)
	for name, raw := range map[string][]byte{
		"string":          bsoncore.NewDocumentBuilder().AppendString("team", "a\xffb").Build(),
		"key":             bsoncore.NewDocumentBuilder().AppendString("k\xfe", "x").Build(),
		"nested-in-array": bsoncore.NewDocumentBuilder().AppendArray("teams", bsoncore.NewArrayBuilder().AppendString("ok").AppendString("\xc3").Build()).Build(),
		"symbol":          bsoncore.NewDocumentBuilder().AppendSymbol("s", "\xff").Build(),
	} {
		js, err := customdata.TokenJSON(raw)
		if err != nil {
			continue // refused: fail closed
		}
		tok, err := signer.Sign(token.Params{UserID: "u1", CustomData: js})
		if err != nil {
			continue
		}
		c, err := verifier.Verify(tok)
		if err != nil {
			continue
		}
		back, err := c.User().Lookup("custom_data")
		if err != nil {
			continue
		}
		if !bytes.Equal(back.Data, raw) {
			t.Errorf("%s: custom data %q\ncarried as %s\nreads back as %q", name, bson.Raw(raw).String(), js, back.ExtJSON())
		}
	}
}
