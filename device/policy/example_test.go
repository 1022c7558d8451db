package policy_test

import (
	"context"
	"fmt"

	"github.com/scispot/mcp-desktop/device/policy"
)

func ExampleParseJSON() {
	s, err := policy.ParseJSON([]byte(`{"AllowWriteTools": true, "MaxCallsPerMinute": 30}`))
	fmt.Println(s, err)

	_, err = policy.ParseJSON([]byte(`{"MaxResultBytes": "2 MiB"}`))
	fmt.Println(err)
	// Output:
	// map[AllowWriteTools:true MaxCallsPerMinute:30] <nil>
	// policy key "MaxResultBytes" must be an integer, got string
}

func ExampleResolve() {
	device := policy.Settings{"AllowDemo": false}
	user := policy.Settings{"AllowDemo": true, "MaxCallsPerMinute": int64(10)}
	p := policy.Resolve(device, user)
	fmt.Println(p.AllowDemo, p.MaxCallsPerMinute, p.MaxResultBytes, p.AllowedTools == nil)
	// Output: false 10 2097152 true
}

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
