//go:build !windows

package cli

import (
	"os/exec"
	"syscall"
)

// detach starts the demo service in a session of its own, so it outlives
// the command that started it and no terminal signal reaches it.
func detach(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
