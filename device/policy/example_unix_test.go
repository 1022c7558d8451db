//go:build unix

package policy_test

import (
	"context"
	"fmt"

	"github.com/scispot/mcp-desktop/device/policy"
)

// ExampleLoad runs where policy files are used: /nonexistent does not
// exist and "/" is root's, so there is no policy and the defaults apply.
func ExampleLoad() {
	ctx := context.Background()
	// The binary uses policy.DefaultStores(); a test names its own file.
	store := policy.NewFileStore("/nonexistent/policy.json")
	snap := policy.Load(ctx, store)
	if snap.Err != nil {
		fmt.Println("refusing:", snap.Err) // fail closed
		return
	}
	fmt.Println(snap.Policy.Enabled, snap.Sources, snap.Effective()["InjectionAction"])
	// Output: true [] flag
}
