//go:build !windows

package main

import (
	"fmt"
	"os"
	"syscall"
)

// The launcher is built for Windows only; elsewhere it just runs the
// target, so the package builds and vets on every desktop.
func noConsole() *syscall.SysProcAttr { return nil }

func showError(msg string) { fmt.Fprintln(os.Stderr, msg) }
