package enroll

import (
	"context"
	"testing"
)

// New on Windows wires the registry, DLL and domain checks.
func TestNewWindows(t *testing.T) {
	c := New(Options{
		Registry:      loadReg(t, "not-enrolled.reg"),
		MDMRegistered: func() (bool, string, error) { return false, "", nil },
		JoinedDomain:  func() (string, error) { return "LAB", nil },
	})
	res, err := c.Check(context.Background())
	if err != nil || res.Method != MethodWindowsDomain {
		t.Fatalf("Check = %+v, %v", res, err)
	}
}
