package tray_test

import (
	"context"
	"flag"
	"testing"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/apptest"
	"github.com/scispot/mcp-desktop/app/tray"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestResumeWindowGolden: the password prompt as it opens.
func TestResumeWindowGolden(t *testing.T) {
	svc := apptest.NewService(t, apptest.ServiceOptions{})
	a := test.NewTempApp(t)
	d := &app.Deps{App: a, Service: svc.Client}
	tray.OpenResume(context.Background(), d, "ann", func(f func()) { f() })
	w := apptest.Window(a, tray.ResumeTitle)
	if w == nil {
		t.Fatal("no window")
	}
	w.Resize(fyne.NewSize(460, 300))
	apptest.Golden(t, "testdata/resume.xml", test.RenderToMarkup(w.Canvas()), *update)
}
