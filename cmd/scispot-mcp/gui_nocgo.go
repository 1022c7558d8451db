//go:build !cgo

package main

import "fyne.io/fyne/v2"

// newApp is nil without cgo: the GL driver cannot be built, and the tray
// commands explain that the other commands still work.
func newApp() func() fyne.App { return nil }
