package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// HandOffTray is scispot-mcp's Env.Tray: it runs the tray binary installed
// beside this one with the same command line. The tray binary loads the
// GUI toolkit; keeping it out of scispot-mcp keeps serve and kill fast.
func HandOffTray(ctx context.Context, env Env, req TrayRequest) error {
	exe, err := env.cliExecutable()
	if err != nil {
		return err
	}
	path := filepath.Join(filepath.Dir(exe), TrayBinary+filepath.Ext(exe))
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("the tray app is missing (%w); reinstall Scispot MCP. The other commands work: run `scispot-mcp help`", err)
	}
	return handOff(ctx, env, path, req.Args)
}
