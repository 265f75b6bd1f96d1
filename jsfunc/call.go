package jsfunc

import (
	"errors"

	"github.com/rulegate/rulegate/expansion"
	"github.com/rulegate/rulegate/value"
)

// Call is one direct call of a function: a client's functions/call, the
// user-creation function, an authentication trigger, or Go code.
type Call struct {
	// Name is the function's name.
	Name string
	// Args are the arguments.
	Args []value.Value
	// User is the caller (context.user); the zero User is no user, as for
	// a trigger of a deleted user.
	User expansion.User
	// Inputs are the request-phase inputs (%%request, %%values,
	// %%environment) where there are any; nil is none.
	Inputs *expansion.Inputs
	// FromClient is true for a client's call: a private function is
	// refused (ErrPrivate) and can_evaluate must hold (ErrCannotEvaluate).
	FromClient bool
}

var (
	// ErrNotFound: the export has no function of that name, or no source
	// for it.
	ErrNotFound = errors.New("jsfunc: function not found")
	// ErrPrivate: a client called a private function.
	ErrPrivate = errors.New("jsfunc: function is private")
	// ErrCannotEvaluate: the function's can_evaluate does not hold.
	ErrCannotEvaluate = errors.New("jsfunc: can_evaluate does not hold")
)
