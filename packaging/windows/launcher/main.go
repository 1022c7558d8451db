// Command scispot-mcp-tray starts the Scispot MCP tray on Windows without a
// console window. scispot-mcp.exe is a console program, so that the CLI
// (`scispot-mcp status --json`) prints and returns exit codes in cmd.exe and
// PowerShell; started from the Start menu or the Run key it would open a
// console window beside the tray. This small GUI-subsystem program, built
// with -H windowsgui and installed beside it, starts scispot-mcp.exe with
// no console and the same arguments, then exits.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// target is the program started, found next to this one.
const target = "scispot-mcp.exe"

func main() {
	if err := start(os.Args[1:]); err != nil {
		showError(fmt.Sprintf("Scispot MCP could not start: %v", err))
		os.Exit(1)
	}
}

func start(args []string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("finding this program's folder: %w", err)
	}
	path := filepath.Join(filepath.Dir(self), target)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("finding %s: %w (reinstall Scispot MCP)", target, err)
	}
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = noConsole()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting %s: %w", path, err)
	}
	// The tray outlives this launcher; nothing waits for it.
	if err := cmd.Process.Release(); err != nil {
		return fmt.Errorf("releasing %s: %w", target, err)
	}
	return nil
}
