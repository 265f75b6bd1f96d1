package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/rulegate/rulegate/evaluator"
	"github.com/rulegate/rulegate/gate"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The App Services error codes rulegate answers with (error_code). Clients
// change behaviour on one only: a 401 with InvalidSession makes realm-web
// refresh its access token and retry (appservices-protocol.md §1), so it is
// never the answer to anything a refresh cannot fix.
const (
	codeInvalidSession      = "InvalidSession"
	codeInvalidParameter    = "InvalidParameter"
	codeMissingParameter    = "MissingParameter"
	codeArgumentsNotAllow   = "ArgumentsNotAllowed"
	codeNoMatchingRule      = "NoMatchingRuleFound"
	codePermission          = "PermissionDenied"
	codeSchemaValidation    = "SchemaValidationFailedWrite"
	codeMongoDBError        = "MongoDBError"
	codeInternal            = "InternalServerError"
	codeAppNotFound         = "AppNotFound"
	codeProviderNotFound    = "AuthProviderNotFound"
	codeServiceNotFound     = "ServiceNotFound"
	codeCommandNotFound     = "ServiceCommandNotFound"
	codeFunctionNotFound    = "FunctionNotFound"
	codeFunctionExecution   = "FunctionExecutionError"
	codeFunctionNotCallable = "FunctionNotCallable"
	codeTimeLimit           = "ExecutionTimeLimitExceeded"
	codeInvalidPassword     = "InvalidPassword"
	codeAccountNameInUse    = "AccountNameInUse"
	codeUserNotFound        = "UserNotFound"
	codeUserDisabled        = "UserDisabled"
	codeUserPending         = "AuthError"
	codeAPIKeyNotFound      = "APIKeyNotFound"
	codeTooManyRequests     = "TooManyRequests"
	codeBadRequest          = "BadRequest"
	codeNotFound            = "NotFound"
	codeMethodNotAllowed    = "MethodNotAllowed"
	codeRequestTooLarge     = "RequestTooLarge"
	codeUnsupportedContent  = "UnsupportedMediaType"
)

// apiError is an error answered to the client as
// {"error": msg, "error_code": code, "link": ...} with status.
type apiError struct {
	status int
	code   string
	msg    string
	err    error // logged, never sent
	// logMsg, when set, is logged instead of msg and err: msg quotes the
	// request body, which may hold passwords or document values.
	logMsg string
}

func (e *apiError) Error() string { return e.msg }
func (e *apiError) Unwrap() error { return e.err }

func errorf(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

// invalidSession is the 401 that makes a client refresh: an access token
// that is missing, malformed, expired or not ours.
func invalidSession(err error) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: codeInvalidSession, msg: "invalid session: access token expired or invalid", err: err}
}

// dataError maps what the gate and the driver return for a data call. A
// rules denial is a 403, never a 401 (a client would refresh and retry
// forever). Messages name the namespace, method, action, role and reason,
// which are the rules' own vocabulary, never a document value.
func dataError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var de *gate.DeniedError
	if errors.As(err, &de) {
		code := codePermission
		switch de.Reason {
		case evaluator.ReasonNoRules, evaluator.ReasonNoRole:
			code = codeNoMatchingRule
		case evaluator.ReasonSchema:
			code = codeSchemaValidation
		}
		return &apiError{status: http.StatusForbidden, code: code, msg: de.Error(), err: err}
	}
	var re *gate.RefusedError
	if errors.As(err, &re) {
		if re.Code == gate.CodePipelineFailed {
			// A pipeline the gate ran itself failed on the documents,
			// as the database fails an aggregation ($divide by zero).
			return &apiError{status: http.StatusBadRequest, code: codeMongoDBError, msg: re.Error(), err: err}
		}
		return &apiError{status: http.StatusBadRequest, code: codeArgumentsNotAllow, msg: re.Error(), err: err}
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &apiError{status: 499, code: codeInternal, msg: "request canceled", err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &apiError{status: http.StatusServiceUnavailable, code: codeInternal, msg: "request timed out", err: err}
	case mongo.IsDuplicateKeyError(err):
		return &apiError{status: http.StatusConflict, code: codeMongoDBError, msg: "duplicate key error", err: err}
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		return &apiError{status: http.StatusBadRequest, code: codeMongoDBError, msg: "the database refused the operation", err: err}
	}
	return &apiError{status: http.StatusInternalServerError, code: codeInternal, msg: "internal server error", err: err}
}

// writeError answers e, logging its cause with the request id.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, e *apiError) {
	lvl := slog.LevelInfo
	if e.status >= 500 {
		lvl = slog.LevelError
	}
	attrs := []any{"status", e.status, "error_code", e.code, "error", e.msg}
	if e.logMsg != "" {
		attrs[len(attrs)-1] = e.logMsg
	} else if e.err != nil && e.err.Error() != e.msg {
		attrs = append(attrs, "cause", e.err.Error())
	}
	s.log(r).Log(r.Context(), lvl, "request failed", attrs...)
	body := fmt.Appendf(nil, `{"error":%s,"error_code":%s,"link":%s}`, jsonString(e.msg), jsonString(e.code), jsonString(s.link(r)))
	writeJSON(w, e.status, body)
}
