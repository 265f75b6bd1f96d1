package server

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/rulegate/rulegate/token"
)

// watch answers a client's collection.watch(): GET functions/call with the
// call in the baas_request query parameter (base64 of its JSON) and
// Accept: text/event-stream; realm-web sends the access token in the
// Authorization header, the Node SDK in the baas_at query parameter
// (appservices-protocol.md §5 "Watch protocol", §9 item 10). The stream is
// gate.Collection.Watch: each change event is decided and redacted by the
// caller's rules before it is sent, as one "data:" line of canonical
// extended JSON; a failure after the stream has begun is an "event:
// error" line with {error, error_code}, which the SDKs throw as a
// WatchError.
//
// The stream ends when the caller's access token expires, with an
// InvalidSession error event: the token's claims (custom data included)
// decided every event, and a logged-out or deleted user must not keep
// receiving documents on a stream opened before. It also ends when the
// server drains.
func (s *Server) watch(w http.ResponseWriter, r *http.Request) {
	claims, ae := s.watchClaims(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	c, service, ae := s.watchCall(r)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	if ds := s.app.DataSource(service); ds == nil {
		s.writeError(w, r, errorf(http.StatusNotFound, codeServiceNotFound, "service not found: '%s'", service))
		return
	}
	coll, ae := s.collection(r, claims.User(), service, "watch", &c.call)
	if ae != nil {
		s.writeError(w, r, ae)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	if exp := claims.ExpiresAt; !exp.IsZero() {
		var cancelExp context.CancelFunc
		ctx, cancelExp = context.WithDeadline(ctx, exp)
		defer cancelExp()
	}
	go func() {
		select {
		case <-s.stopped():
			cancel()
		case <-ctx.Done():
		}
	}()
	cs, err := coll.Watch(ctx, c.pipeline)
	if err != nil {
		s.dataFailed(w, r, claims.Subject, coll.Namespace(), "watch", err)
		return
	}
	defer func() { _ = cs.Close(context.WithoutCancel(ctx)) }()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	if flusher != nil {
		flusher.Flush()
	}
	for cs.Next(ctx) {
		data, err := bson.MarshalExtJSON(cs.Current, true, false)
		if err != nil {
			s.watchError(w, r, dataError(err))
			return
		}
		if _, err := w.Write(sseData(data)); err != nil {
			return
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
	switch err := cs.Err(); {
	case s.draining.Load():
		s.watchError(w, r, errorf(http.StatusServiceUnavailable, codeInternal, "the server is shutting down"))
	case r.Context().Err() != nil:
		// The client went away.
	case errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded):
		s.watchError(w, r, errorf(http.StatusUnauthorized, codeInvalidSession, "access token expired: the stream ended; refresh and watch again"))
	case err != nil:
		s.watchError(w, r, dataError(err))
	}
}

// watchError ends a stream that has begun with an error event, logging it
// as writeError logs an answer.
func (s *Server) watchError(w http.ResponseWriter, r *http.Request, e *apiError) {
	s.log(r).Info("watch failed", "error_code", e.code, "error", e.msg)
	body := fmt.Appendf(nil, `{"error":%s,"error_code":%s}`, jsonString(e.msg), jsonString(e.code))
	_, _ = w.Write(append([]byte("event: error\n"), sseData(body)...))
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// sseData is one server-sent event's data line for data, with "%", LF and
// CR percent-encoded as App Services encoded them (realm-web decodes
// exactly those three).
func sseData(data []byte) []byte {
	out := make([]byte, 0, len(data)+8)
	out = append(out, "data: "...)
	for _, b := range data {
		switch b {
		case '%':
			out = append(out, "%25"...)
		case '\n':
			out = append(out, "%0A"...)
		case '\r':
			out = append(out, "%0D"...)
		default:
			out = append(out, b)
		}
	}
	return append(out, "\n\n"...)
}

// watchClaims verifies the access token of a watch: the Authorization
// header, or else the baas_at query parameter. A token in both places must
// be the same token.
func (s *Server) watchClaims(r *http.Request) (*token.Claims, *apiError) {
	q := r.URL.Query()
	at, inQuery := q["baas_at"]
	if !inQuery {
		return s.accessClaims(r)
	}
	if len(at) != 1 || at[0] == "" {
		return nil, errorf(http.StatusUnauthorized, codeInvalidSession, "must authenticate first: baas_at must be one access token")
	}
	if h, ok := bearer(r); ok && h != at[0] {
		return nil, errorf(http.StatusUnauthorized, codeInvalidSession, "the Authorization header and baas_at name different tokens")
	}
	c, err := s.verifier.Verify(at[0])
	if err != nil {
		return nil, invalidSession(err)
	}
	return c, nil
}

// watchCall is a watch's arguments: one document {database, collection}
// with at most one of ids (an array of _id values: events of those
// documents) and filter (a query on the change event, applied by the gate
// after redaction).
type watchCall struct {
	call
	pipeline bson.A
}

func (s *Server) watchCall(r *http.Request) (*watchCall, string, *apiError) {
	q := r.URL.Query()
	reqs := q["baas_request"]
	if len(reqs) != 1 || reqs[0] == "" {
		return nil, "", errorf(http.StatusBadRequest, codeMissingParameter, "watch: the baas_request query parameter must hold the call")
	}
	if int64(len(reqs[0])) > s.cfg.maxBody/3*4+4 {
		return nil, "", errorf(http.StatusRequestEntityTooLarge, codeRequestTooLarge, "baas_request larger than %d bytes", s.cfg.maxBody)
	}
	enc := strings.TrimRight(reqs[0], "=")
	body, err := base64.RawStdEncoding.DecodeString(enc)
	if err != nil {
		if body, err = base64.RawURLEncoding.DecodeString(enc); err != nil {
			return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: baas_request is not base64")
		}
	}
	doc, ae := parseDocument(body)
	if ae != nil {
		return nil, "", ae
	}
	if err := onlyKeys(doc, "name", "arguments", "service"); err != "" {
		return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: %s", err)
	}
	if name, _ := doc.Lookup("name").StringValueOK(); name != "watch" {
		return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "a GET of functions/call is a watch: \"name\" must be \"watch\"")
	}
	service, ok := doc.Lookup("service").StringValueOK()
	if !ok || service == "" {
		return nil, "", errorf(http.StatusBadRequest, codeMissingParameter, "watch: \"service\" must be a non-empty string")
	}
	args, ok := doc.Lookup("arguments").ArrayOK()
	vals, _ := args.Values()
	if !ok || len(vals) != 1 || vals[0].Type != bson.TypeEmbeddedDocument {
		return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: \"arguments\" must hold exactly one document")
	}
	arg := vals[0].Document()
	if err := onlyKeys(arg, "database", "collection", "ids", "filter"); err != "" {
		return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: %s", err)
	}
	wc := &watchCall{call: call{method: "watch"}}
	wc.database, _ = arg.Lookup("database").StringValueOK()
	wc.collection, _ = arg.Lookup("collection").StringValueOK()
	if wc.database == "" || wc.collection == "" {
		return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: \"database\" and \"collection\" must be non-empty strings")
	}
	ids, filter := arg.Lookup("ids"), arg.Lookup("filter")
	hasIDs, hasFilter := ids.Type != 0, filter.Type != 0
	switch {
	case hasIDs && hasFilter:
		return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: give \"ids\" or \"filter\", not both")
	case hasIDs:
		if ids.Type != bson.TypeArray {
			return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: \"ids\" must be an array")
		}
		wc.pipeline = bson.A{bson.D{{Key: "$match", Value: bson.D{{Key: "documentKey._id", Value: bson.D{{Key: "$in", Value: ids.Array()}}}}}}}
	case hasFilter:
		if filter.Type != bson.TypeEmbeddedDocument {
			return nil, "", errorf(http.StatusBadRequest, codeInvalidParameter, "watch: \"filter\" must be a document")
		}
		wc.pipeline = bson.A{bson.D{{Key: "$match", Value: filter.Document()}}}
	default:
		wc.pipeline = bson.A{}
	}
	return wc, service, nil
}

// onlyKeys returns what is wrong when doc has a key not in keys, or a key
// twice; "" when nothing is.
func onlyKeys(doc bson.Raw, keys ...string) string {
	elems, _ := doc.Elements()
	seen := map[string]bool{}
	for _, e := range elems {
		k := e.Key()
		if seen[k] {
			return fmt.Sprintf("%q given twice", k)
		}
		seen[k] = true
		known := false
		for _, want := range keys {
			known = known || k == want
		}
		if !known {
			return fmt.Sprintf("unknown field %q (expected one of %s)", k, strings.Join(keys, ", "))
		}
	}
	return ""
}

// stopped is closed when the server drains: open streams end.
func (s *Server) stopped() <-chan struct{} {
	s.stopInit.Do(func() { s.stop = make(chan struct{}) })
	return s.stop
}
