package jsfunc

import (
	"time"

	"github.com/dlclark/regexp2/v2"
)

// regexpMatchTimeout bounds one match of a backtracking regular
// expression. goja runs a pattern its own engine cannot (lookarounds,
// backreferences) with regexp2, whose matches have no time limit by
// default and do not see the runtime's interrupt: a catastrophically
// backtracking pattern (/^(a|aa)+(?=c)/ on a few dozen a's) would go on
// in the background after its call timed out, for as long as the match
// takes, one more for every call. regexp2 takes the limit only from its
// package-wide DefaultMatchTimeout, read when a pattern is compiled, so
// jsfunc sets it for the process (nothing else here uses regexp2). A match
// that reaches it is abandoned and goja reports no match: a function whose
// pattern takes that long then goes on as if it had not matched (a known
// limit, in doc.go); no sane pattern takes half a second on the inputs a
// function is given.
const regexpMatchTimeout = 500 * time.Millisecond

func init() { regexp2.DefaultMatchTimeout = regexpMatchTimeout }
