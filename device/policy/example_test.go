package policy_test

import (
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
