package jsfunc

// utils.crypto's hash and hmac (source/functions/globals.txt); its
// encrypt, decrypt, sign and verify, and utils.jwt, are ErrUnavailable.

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/dop251/goja"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// utilsObject is the utils global.
func (cl *call) utilsObject() *goja.Object {
	o := cl.unavailableObject("utils", "jwt")
	crypto := cl.unavailableObject("utils.crypto", "encrypt", "decrypt", "sign", "verify")
	_ = crypto.Set("hash", cl.fn("hash", cl.cryptoHash))
	_ = crypto.Set("hmac", cl.fn("hmac", cl.cryptoHMAC))
	_ = o.Set("crypto", crypto)
	return o
}

// hashes are the hash functions of utils.crypto.hash and hmac.
var hashes = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New, "md5": md5.New}

// hashNamed returns the hash function name, if method supports it.
func (cl *call) hashNamed(method, name string, supported ...string) func() hash.Hash {
	for _, s := range supported {
		if s == name {
			return hashes[name]
		}
	}
	panic(cl.rt.NewTypeError(fmt.Sprintf("utils.crypto.%s: unsupported hash function %q (supported: %v)", method, name, supported)))
}

// bytesOf is the bytes of a string or a BSON.Binary argument.
func (cl *call) bytesOf(v goja.Value) []byte {
	if bx, ok := cl.br.boxOf(v); ok && bx.kind == boxBinary {
		_, data := binData(bx)
		return data
	}
	return []byte(v.String())
}

// cryptoHash is utils.crypto.hash(hash_function, input): a BSON.Binary.
func (cl *call) cryptoHash(c goja.FunctionCall) goja.Value {
	h := cl.hashNamed("hash", c.Argument(0).String(), "sha1", "sha256", "md5")()
	h.Write(cl.bytesOf(c.Argument(1)))
	return cl.br.newBox(boxBinary, bson.RawValue{Type: bson.TypeBinary, Value: bsoncore.AppendBinary(nil, 0, h.Sum(nil))})
}

// cryptoHMAC is utils.crypto.hmac(input, secret, hash_function,
// output_format): a hex or base64 string.
func (cl *call) cryptoHMAC(c goja.FunctionCall) goja.Value {
	mac := hmac.New(cl.hashNamed("hmac", c.Argument(2).String(), "sha1", "sha256", "sha512"), []byte(c.Argument(1).String()))
	mac.Write([]byte(c.Argument(0).String()))
	sum := mac.Sum(nil)
	switch f := c.Argument(3).String(); f {
	case "hex":
		return cl.rt.ToValue(hex.EncodeToString(sum))
	case "base64":
		return cl.rt.ToValue(base64.StdEncoding.EncodeToString(sum))
	default:
		panic(cl.rt.NewTypeError(fmt.Sprintf("utils.crypto.hmac: output format %q is neither \"hex\" nor \"base64\"", f)))
	}
}
