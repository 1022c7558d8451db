//go:build cgo

package main

import (
	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/scispot/mcp-desktop/cmd/scispot-mcp/cli"
)

// newApp starts Fyne's GL driver, which needs cgo; this is the only place
// that imports it, so every other package builds with CGO_ENABLED=0.
func newApp() func() fyne.App {
	return func() fyne.App { return fyneapp.NewWithID(cli.AppID) }
}
