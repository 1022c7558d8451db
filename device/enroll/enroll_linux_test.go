package enroll

import (
	"context"
	"testing"
)

// New on Linux wires the Linux signals.
func TestNewLinux(t *testing.T) {
	o, _ := linuxFixture{intune: intuneEnrolled}.options(t)
	res, err := New(*o).Check(context.Background())
	if err != nil || res.Method != MethodLinuxIntune {
		t.Fatalf("Check = %+v, %v", res, err)
	}
}
