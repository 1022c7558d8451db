package token

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
)

// Title is the window's title; Open finds an open window by it.
const Title = "Scispot API token"

// Open shows the token window, or brings it forward if it is open.
func Open(d *app.Deps) { open(d, func(f func()) { go f() }) }

func open(d *app.Deps, spawn func(func())) {
	if w := findWindow(d.App, Title); w != nil {
		w.Show()
		w.RequestFocus()
		return
	}
	m := NewModel(Config{
		Keychain: d.Keychain,
		Service:  d.Service,
		StateDir: d.StateDir,
		Demo:     d.Demo,
		Logger:   d.Logger,
	})
	w := d.App.NewWindow(Title)
	v := NewView(m, w)
	v.spawn = spawn
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(560, 520))
	ctx, cancel := context.WithCancel(context.Background())
	w.SetOnClosed(cancel)
	v.ctx = ctx
	w.Show()
	w.Canvas().Focus(v.entry)
	v.spawn(func() { m.Load(ctx) })
}

func findWindow(a fyne.App, title string) fyne.Window {
	for _, w := range a.Driver().AllWindows() {
		if w.Title() == title {
			return w
		}
	}
	return nil
}

// View renders a Model in a window.
type View struct {
	m   *Model
	win fyne.Window
	ctx context.Context
	// spawn runs blocking model calls off the UI goroutine; tests run
	// them in place.
	spawn func(func())

	entry    *widget.Entry
	status   *widget.Label
	note     *widget.Label
	activity *widget.Label
	progress *widget.ProgressBarInfinite
	result   *widget.Label
	save     *widget.Button
	saveRaw  *widget.Button
	remove   *widget.Button
	box      *fyne.Container
	content  fyne.CanvasObject
}

// NewView builds the widgets for m in win (used as the parent of the
// removal dialog). Call Content for the window's content.
func NewView(m *Model, win fyne.Window) *View {
	v := &View{m: m, win: win, ctx: context.Background(), spawn: func(f func()) { go f() }}
	v.entry = widget.NewPasswordEntry()
	v.entry.SetPlaceHolder("Paste your personal Scispot API token")
	v.entry.OnSubmitted = func(string) { v.doSave() }
	v.status = wrapLabel("")
	v.note = wrapLabel("")
	v.activity = widget.NewLabel("")
	v.progress = widget.NewProgressBarInfinite()
	v.progress.Stop()
	v.result = wrapLabel("")
	v.save = widget.NewButton("Verify and save", v.doSave)
	v.save.Importance = widget.HighImportance
	v.saveRaw = widget.NewButton("Save without verifying", v.doSaveRaw)
	v.remove = widget.NewButton("Remove token…", v.confirmRemove)
	v.remove.Importance = widget.DangerImportance

	guide := widget.NewAccordion(widget.NewAccordionItem("How to create or rotate a personal token", wrapLabel(Guide)))
	heading := widget.NewLabelWithStyle("Scispot API token", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	form := widget.NewForm(widget.NewFormItem("New token", v.entry))
	v.box = container.NewVBox(
		heading,
		v.note,
		v.status,
		widget.NewSeparator(),
		form,
		container.NewHBox(v.save, v.saveRaw),
		v.activity,
		v.progress,
		v.result,
		widget.NewSeparator(),
		container.NewHBox(v.remove),
		guide,
	)
	v.content = container.NewVScroll(v.box)
	m.OnChange(func(s State) { fyne.Do(func() { v.render(s) }) })
	v.render(m.State())
	return v
}

func wrapLabel(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// Content is the window's content.
func (v *View) Content() fyne.CanvasObject { return v.content }

func (v *View) render(s State) {
	v.note.SetText(s.Note)
	if s.Note == "" {
		v.note.Hide()
	} else {
		v.note.Show()
	}
	v.status.SetText(s.Status)
	v.status.Importance = widget.MediumImportance
	if !s.StatusOK {
		v.status.Importance = widget.DangerImportance
	}
	v.status.Refresh()
	v.activity.SetText(s.Activity)
	if s.Busy {
		v.activity.Show()
		v.progress.Show()
		v.progress.Start()
		v.save.Disable()
		v.saveRaw.Disable()
		v.remove.Disable()
	} else {
		v.activity.Hide()
		v.progress.Stop()
		v.progress.Hide()
		if s.CannotSeal {
			v.save.Disable()
			v.saveRaw.Disable()
		} else {
			v.save.Enable()
			v.saveRaw.Enable()
		}
		if s.Stored {
			v.remove.Enable()
		} else {
			v.remove.Disable()
		}
	}
	v.result.SetText(s.Result)
	switch {
	case s.Result == "":
		v.result.Hide()
	case s.ResultOK:
		v.result.Importance = widget.SuccessImportance
		v.result.Show()
	default:
		v.result.Importance = widget.DangerImportance
		v.result.Show()
	}
	v.result.Refresh()
	if s.Saved {
		// Never show (or keep) the token once it is in the keychain.
		v.entry.SetText("")
	}
	v.box.Refresh() // lay out again: rows were shown, hidden or rewrapped
}

func (v *View) doSave() {
	if v.m.State().CannotSeal {
		return
	}
	raw := v.entry.Text
	v.spawn(func() { v.m.Save(v.ctx, raw, true) })
}

func (v *View) doSaveRaw() {
	raw := v.entry.Text
	v.spawn(func() { v.m.Save(v.ctx, raw, false) })
}

func (v *View) confirmRemove() {
	d := dialog.NewConfirm("Remove the token?",
		"AI clients on this workstation will stop reaching Scispot until a new token is saved. The token itself stays valid in Scispot: delete it there too if it may have leaked.",
		func(ok bool) {
			if ok {
				v.spawn(func() { v.m.Remove(v.ctx) })
			}
		}, v.win)
	d.SetConfirmText("Remove")
	d.SetDismissText("Cancel")
	d.Show()
}
