//go:build !windows

package main

import (
	"io"
	"os"
)

// errorOutput is stderr: on macOS and Linux a launcher that has no
// terminal still collects it (launchd, the session's journal).
func errorOutput() (io.Writer, func(code int)) { return os.Stderr, func(int) {} }
