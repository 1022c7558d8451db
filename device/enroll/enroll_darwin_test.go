package enroll

import (
	"context"
	"testing"
)

// New on macOS wires the profiles check.
func TestNewDarwin(t *testing.T) {
	out := readFixture(t, "profiles/dep.txt")
	c := New(Options{Run: func(ctx context.Context, path string, args ...string) (CommandOutput, error) {
		return CommandOutput{Stdout: out}, nil
	}})
	res, err := c.Check(context.Background())
	if err != nil || res.Method != MethodMacOSDEP {
		t.Fatalf("Check = %+v, %v", res, err)
	}
}
