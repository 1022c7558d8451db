package keychain

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"testing"
)

// exitError returns a real *exec.ExitError with the given status, as
// /usr/bin/security would produce.
func exitError(t *testing.T, code int) error {
	t.Helper()
	err := exec.Command("/bin/sh", "-c", fmt.Sprintf("exit %d", code)).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("sh exit %d: %v", code, err)
	}
	return err
}

func TestExplainMacKeychain(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		kind   error
		reason string
		opaque bool
	}{
		{"no UI to unlock", exitError(t, exitInteractionNotAllowed), ErrLocked, reasonMacNoUI, false},
		{"wrong password or denied", exitError(t, exitAuthFailed), ErrLocked, reasonMacAuthFailed, false},
		{"prompt cancelled", exitError(t, exitUserCanceled), ErrLocked, reasonMacCancelled, false},
		{"no default keychain", exitError(t, exitNoDefaultKeychain), ErrUnavailable, reasonMacNoKeychain, false},
		{"no such keychain", exitError(t, exitNoSuchKeychain), ErrUnavailable, reasonMacNoKeychain, false},
		{"not available", exitError(t, exitNotAvailable), ErrUnavailable, reasonMacNotAvail, false},
		{"read-only", exitError(t, exitReadOnly), nil, reasonMacReadOnly, false},
		{"other exit", exitError(t, 1), nil, reasonMacUnknown, false},
		{"tool missing", &exec.Error{Name: "/usr/bin/security", Err: exec.ErrNotFound}, ErrUnavailable, reasonNoSecurityTool, false},
		{"bad hex item", hex.InvalidByteError('q'), nil, reasonMacBadItem, true},
		{"bad base64 item", base64.CorruptInputError(3), nil, reasonMacBadItem, true},
		{"other", errors.New("something else"), nil, reasonMacUnknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explainMacKeychain(tt.err)
			if got.kind != tt.kind || got.reason != tt.reason || got.opaque != tt.opaque {
				t.Errorf("explainMacKeychain() = {%v, %q, %v}, want {%v, %q, %v}", got.kind, got.reason, got.opaque, tt.kind, tt.reason, tt.opaque)
			}
		})
	}
}
