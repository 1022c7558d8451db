// Command barefyne is the floor the tray is measured against in `make
// bench`: a bare Fyne app with one window, nothing else.
package main

import (
	"fmt"

	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.scispot.bench.bare")
	w := a.NewWindow("bare")
	w.SetContent(widget.NewLabel("bare Fyne app"))
	w.Show()
	a.Lifecycle().SetOnStarted(func() { fmt.Println("ready") })
	a.Run()
}
