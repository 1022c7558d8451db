package access

import (
	"context"
	"sync"

	"github.com/scispot/mcp-desktop/device/enroll"
)

// Enrollment adapts an enroll.Checker to Sources.Enroll: the policy's
// ManagedBy (Linux's signal) changes with the policy, so a change drops the
// checker's cached answer.
func Enrollment(opts enroll.Options) func(ctx context.Context, managedBy string) (enroll.Result, error) {
	var (
		mu        sync.Mutex
		managedBy string
	)
	opts.ManagedBy = func(context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		return managedBy, nil
	}
	checker := enroll.New(opts)
	return func(ctx context.Context, mb string) (enroll.Result, error) {
		mu.Lock()
		if mb != managedBy {
			managedBy = mb
			checker.Invalidate()
		}
		mu.Unlock()
		return checker.Check(ctx)
	}
}
