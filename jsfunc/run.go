package jsfunc

import (
	"context"
	"fmt"
	"time"

	"github.com/rulegate/rulegate/value"
)

// run runs one call with its time limit.
func (fs *Functions) run(ctx context.Context, c Call, timeout time.Duration) (value.Value, error) {
	f, ok := fs.fns[c.Name]
	if !ok {
		return value.Value{}, fmt.Errorf("%w: %q: the export has no such function", ErrNotFound, c.Name)
	}
	if f.prog == nil {
		return value.Value{}, fmt.Errorf("%w: %q: the export has no source for it (%s)", ErrNotFound, c.Name, f.js.File)
	}
	_ = ctx
	_ = timeout
	return value.Value{}, fmt.Errorf("jsfunc: %q: the runtime is not built yet", c.Name)
}
