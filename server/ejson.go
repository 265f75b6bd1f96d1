package server

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// maxDepth bounds the nesting of a request body: MongoDB refuses documents
// nested deeper than 100 levels, and the depth is checked on the bytes
// before any decoding, so a hostile body cannot make a decoder recurse.
const maxDepth = 100

// readBody reads at most limit bytes of r's body.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *apiError) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errorf(http.StatusRequestEntityTooLarge, codeRequestTooLarge, "request body larger than %d bytes", limit)
		}
		return nil, errorf(http.StatusBadRequest, codeBadRequest, "reading the request body: %v", err)
	}
	return body, nil
}

// readDocument reads r's body, at most limit bytes, as one extended JSON
// object; an empty body is {} when emptyOK.
func readDocument(w http.ResponseWriter, r *http.Request, limit int64, emptyOK bool) (bson.Raw, *apiError) {
	body, ae := readBody(w, r, limit)
	if ae != nil {
		return nil, ae
	}
	if emptyOK && len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return parseDocument(body)
}

// parseDocument decodes an extended JSON object, canonical or relaxed
// (mongo-driver's canonicalOnly=false), after checking its nesting depth
// and that it is one strict JSON object (RFC 8259) and nothing more. The
// driver's decoder alone reads the first value and ignores what follows
// it, takes raw control characters in strings and passes bytes that are
// not UTF-8 through to MongoDB, where readers disagree on them: a body it
// would read differently from every other JSON reader is refused.
func parseDocument(body []byte) (bson.Raw, *apiError) {
	if err := checkDepth(body); err != nil {
		return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "invalid request body: %v", err)
	}
	if !utf8.Valid(body) {
		return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "invalid request body: not valid UTF-8")
	}
	if t := bytes.TrimLeft(body, " \t\r\n"); len(t) == 0 || t[0] != '{' || !json.Valid(body) {
		return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "invalid request body: must be one JSON object")
	}
	var doc bson.Raw
	if err := bson.UnmarshalExtJSON(body, false, &doc); err != nil {
		// The decoder's message quotes the value it refused (a
		// password, a document's field): the client's own, kept out
		// of the log.
		ae := errorf(http.StatusBadRequest, codeInvalidParameter, "invalid request body: must be an extended JSON object: %v", err)
		ae.logMsg = "invalid request body: must be an extended JSON object (the decoder's message is withheld: it quotes the body)"
		return nil, ae
	}
	// The decoder leaves a top-level {"$numberInt": "x"} as a document
	// with that key; no request body of either API has such a key.
	elems, _ := doc.Elements() // the decoder's own output
	for _, e := range elems {
		if strings.HasPrefix(e.Key(), "$") {
			return nil, errorf(http.StatusBadRequest, codeInvalidParameter, "invalid request body: a top-level key starts with \"$\"")
		}
	}
	return doc, nil
}

// maxMembers bounds the members of one object in a request body. Deciding
// a filter or an update costs more than linear time in the number of
// fields of one object (an upsert's equality fields, an update's paths),
// so an object of many thousand members costs seconds of CPU; no document
// an App Services client writes by hand has more than a few hundred
// fields.
const maxMembers = 1000

// checkDepth reports bodies nested deeper than maxDepth, or with an object
// of more than maxMembers members; it skips strings.
func checkDepth(b []byte) error {
	var stack []int // per open object or array: its members so far; -1 for arrays
	inStr, esc := false, false
	for _, c := range b {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			if len(stack) == maxDepth {
				return fmt.Errorf("nested deeper than %d levels", maxDepth)
			}
			n := 1
			if c == '[' {
				n = -1
			}
			stack = append(stack, n)
		case c == '}' || c == ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case c == ',':
			if top := len(stack) - 1; top >= 0 && stack[top] > 0 {
				stack[top]++
				if stack[top] > maxMembers {
					return fmt.Errorf("an object has more than %d members", maxMembers)
				}
			}
		}
	}
	return nil
}

// canonical encodes v (a value bson.Marshal accepts inside a document) as
// canonical extended JSON, the form realm-web and the Node SDK read with
// their types (appservices-protocol.md §5, §9.8).
func canonical(v any) ([]byte, error) {
	doc, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		return nil, err
	}
	out, err := bson.MarshalExtJSON(bson.Raw(doc), true, false)
	if err != nil {
		return nil, err
	}
	// {"v":<value>}
	out = bytes.TrimSpace(out)
	i := bytes.IndexByte(out, ':')
	if i < 0 || out[len(out)-1] != '}' {
		return nil, errors.New("server: unexpected extended JSON encoding")
	}
	return bytes.TrimSpace(out[i+1 : len(out)-1]), nil
}

// plainJSON encodes v as the Data API's JSON response format: standard
// JSON types only, as source/data-api/data-formats.txt lists them
// (ObjectId as its hex string, Date as an ISO-8601 string, Decimal128 as a
// string, numbers as numbers, Binary as {"Subtype", "Data"}, Regex as
// {"Pattern", "Options"}, Timestamp as {"T", "I"}, MinKey/MaxKey as {}).
func plainJSON(v any) ([]byte, error) {
	doc, err := bson.Marshal(bson.D{{Key: "v", Value: v}})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := writePlain(&buf, bson.Raw(doc).Lookup("v")); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writePlain(buf *bytes.Buffer, v bson.RawValue) error {
	switch v.Type {
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return err
		}
		buf.WriteByte('[')
		for i, x := range vals {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := writePlain(buf, x); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
	case bson.TypeEmbeddedDocument:
		elems, err := v.Document().Elements()
		if err != nil {
			return err
		}
		buf.WriteByte('{')
		for i, e := range elems {
			if i > 0 {
				buf.WriteByte(',')
			}
			buf.Write(appendJSONString(buf.AvailableBuffer(), e.Key()))
			buf.WriteByte(':')
			if err := writePlain(buf, e.Value()); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case bson.TypeString:
		buf.Write(appendJSONString(buf.AvailableBuffer(), v.StringValue()))
	case bson.TypeSymbol:
		buf.Write(appendJSONString(buf.AvailableBuffer(), v.Symbol()))
	case bson.TypeJavaScript:
		buf.Write(appendJSONString(buf.AvailableBuffer(), v.JavaScript()))
	case bson.TypeInt32:
		buf.WriteString(strconv.FormatInt(int64(v.Int32()), 10))
	case bson.TypeInt64:
		buf.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bson.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			// JSON has no NaN or infinity: a string, as Decimal128 is.
			buf.Write(appendJSONString(buf.AvailableBuffer(), strconv.FormatFloat(f, 'g', -1, 64)))
		} else {
			buf.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case bson.TypeDecimal128:
		buf.Write(appendJSONString(buf.AvailableBuffer(), v.Decimal128().String()))
	case bson.TypeBoolean:
		buf.WriteString(strconv.FormatBool(v.Boolean()))
	case bson.TypeNull, bson.TypeUndefined:
		buf.WriteString("null")
	case bson.TypeObjectID:
		buf.Write(appendJSONString(buf.AvailableBuffer(), v.ObjectID().Hex()))
	case bson.TypeDateTime:
		buf.Write(appendJSONString(buf.AvailableBuffer(), time.UnixMilli(v.DateTime()).UTC().Format("2006-01-02T15:04:05.000Z")))
	case bson.TypeBinary:
		sub, data := v.Binary()
		fmt.Fprintf(buf, `{"Subtype":%d,"Data":%s}`, sub, jsonString(base64.StdEncoding.EncodeToString(data)))
	case bson.TypeRegex:
		p, o := v.Regex()
		fmt.Fprintf(buf, `{"Pattern":%s,"Options":%s}`, jsonString(p), jsonString(o))
	case bson.TypeTimestamp:
		t, i := v.Timestamp()
		fmt.Fprintf(buf, `{"T":%d,"I":%d}`, t, i)
	case bson.TypeMinKey, bson.TypeMaxKey:
		buf.WriteString("{}")
	default:
		// DBPointer and code with scope: their extended JSON form.
		b, err := canonical(v)
		if err != nil {
			return err
		}
		buf.Write(b)
	}
	return nil
}

func jsonString(s string) []byte { return appendJSONString(nil, s) }

// appendJSONString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML characters, U+2028 and U+2029 as \u escapes; invalid
// UTF-8 as U+FFFD), without reflection.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// writeJSON answers body with Content-Type exactly "application/json":
// realm-core parses error bodies only for that exact string
// (appservices-protocol.md §9.3).
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
