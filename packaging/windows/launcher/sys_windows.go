package main

import (
	"syscall"

	"golang.org/x/sys/windows"
)

// noConsole starts the child without a console window; its own windows
// (the tray, dialogs) are unaffected.
func noConsole() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{HideWindow: true, CreationFlags: windows.CREATE_NO_WINDOW}
}

// showError tells the person in a message box: a GUI-subsystem program
// has no console to print to.
func showError(msg string) {
	text, _ := windows.UTF16PtrFromString(msg)
	title, _ := windows.UTF16PtrFromString("Scispot MCP")
	_, _ = windows.MessageBox(0, text, title, windows.MB_OK|windows.MB_ICONERROR)
}
