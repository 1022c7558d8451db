package keychain

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

func TestExplainCredentialManager(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		kind   error
		reason string
	}{
		{"no logon session", errorNoSuchLogonSession, ErrUnavailable, reasonWinNoLogon},
		{"wrapped no logon session", fmt.Errorf("writing: %w", errorNoSuchLogonSession), ErrUnavailable, reasonWinNoLogon},
		{"access denied", errorAccessDenied, ErrUnavailable, reasonWinDenied},
		{"out of memory", errorNotEnoughMemory, ErrUnavailable, reasonWinNoMemory},
		{"invalid parameter", syscall.Errno(87), nil, reasonWinUnknown},
		{"other", errors.New("something else"), nil, reasonWinUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := explainCredentialManager(tt.err)
			if got.kind != tt.kind || got.reason != tt.reason || got.opaque {
				t.Errorf("explainCredentialManager() = {%v, %q, %v}, want {%v, %q, false}", got.kind, got.reason, got.opaque, tt.kind, tt.reason)
			}
		})
	}
}
