package main

import (
	"bytes"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// errorOutput is where the tray's errors go. Started by scispot-mcp.exe in
// a console, it has a stderr. Started from the Start menu or at login it
// has none (a GUI-subsystem program), so errors are kept and shown in a
// message box when it fails.
func errorOutput() (io.Writer, func(code int)) {
	if h, err := windows.GetStdHandle(windows.STD_ERROR_HANDLE); err == nil && h != 0 && h != windows.InvalidHandle {
		return os.Stderr, func(int) {}
	}
	var buf bytes.Buffer
	return &buf, func(code int) {
		msg := strings.TrimSpace(buf.String())
		if code == 0 || msg == "" {
			return
		}
		text, _ := windows.UTF16PtrFromString(msg)
		title, _ := windows.UTF16PtrFromString("Scispot MCP")
		_, _ = windows.MessageBox(0, text, title, windows.MB_OK|windows.MB_ICONERROR)
	}
}
