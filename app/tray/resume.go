package tray

import (
	"context"
	"errors"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// ResumeTitle is the title of the window that asks for the password to
// resume AI access.
const ResumeTitle = "Resume AI access"

// ResumeState is what the resume window shows. It never holds the
// password.
type ResumeState struct {
	// Account is whose password is asked for.
	Account string
	Busy    bool
	// Error is the service's sentence after a try that failed (a wrong
	// password, too many tries); the person may try again.
	Error string
	// Done: AI access is allowed again; the window closes.
	Done bool
}

// Resumer is the resume window's model: it asks the service to lift the
// person's kill switch with the account password, which the service
// checks itself (a process running as the person cannot answer for them).
type Resumer struct {
	svc  app.Service
	demo bool
	app.Observable[ResumeState]
}

// NewResumer returns the model for account's password prompt.
func NewResumer(svc app.Service, account string, demo bool) *Resumer {
	r := &Resumer{svc: svc, demo: demo}
	r.Update(func(s *ResumeState) { s.Account = account })
	return r
}

// Submit tries password. It blocks; the view runs it off the UI thread.
func (r *Resumer) Submit(ctx context.Context, password string) {
	busy := false
	r.Update(func(s *ResumeState) {
		busy = s.Busy || s.Done
		if !busy {
			s.Busy, s.Error = true, ""
		}
	})
	if busy {
		return
	}
	err := r.svc.Resume(ctx, localapi.KillRequest{Source: control.SourceTray, Password: password})
	r.Update(func(s *ResumeState) {
		s.Busy = false
		var apiErr *localapi.Error
		switch {
		case err == nil:
			s.Done = true
		case errors.As(err, &apiErr):
			s.Error = apiErr.Sentence
		case app.Unreachable(err):
			s.Error = app.NotRunning(r.demo)
		default:
			s.Error = fmt.Sprintf("AI access could not be resumed: %v", err)
		}
	})
}

// OpenResume shows the password prompt (or brings it forward). spawn runs
// the service call off the UI thread. Call it on the UI thread.
func OpenResume(ctx context.Context, d *app.Deps, account string, spawn func(func())) {
	for _, w := range d.App.Driver().AllWindows() {
		if w.Title() == ResumeTitle {
			w.Show()
			w.RequestFocus()
			return
		}
	}
	m := NewResumer(d.Service, account, d.Demo)
	w := d.App.NewWindow(ResumeTitle)
	who := "your account"
	if account != "" {
		who = "the account " + account
	}
	intro := widget.NewLabel("AI access to Scispot is stopped on this workstation. To allow it again, type the password of " + who + ". The Scispot MCP service checks it itself.")
	intro.Wrapping = fyne.TextWrapWord
	entry := widget.NewPasswordEntry()
	entry.SetPlaceHolder("Password")
	problem := widget.NewLabel("")
	problem.Wrapping = fyne.TextWrapWord
	problem.Importance = widget.DangerImportance
	problem.Hide()
	progress := widget.NewProgressBarInfinite()
	progress.Stop()
	progress.Hide()
	cancel := widget.NewButton("Cancel", w.Close)
	resume := widget.NewButton("Resume AI access", nil)
	resume.Importance = widget.HighImportance
	submit := func() {
		pw := entry.Text
		spawn(func() { m.Submit(ctx, pw) })
	}
	resume.OnTapped = submit
	entry.OnSubmitted = func(string) { submit() }
	closed := false
	w.SetOnClosed(func() { closed = true })
	render := func(s ResumeState) {
		if closed {
			return
		}
		if s.Done {
			w.Close()
			return
		}
		if s.Busy {
			resume.Disable()
			entry.Disable()
			progress.Show()
			progress.Start()
		} else {
			resume.Enable()
			entry.Enable()
			progress.Stop()
			progress.Hide()
		}
		problem.SetText(s.Error)
		if s.Error == "" {
			problem.Hide()
		} else {
			problem.Show()
			if !s.Busy {
				// A wrong password is typed again, not edited.
				entry.SetText("")
				w.Canvas().Focus(entry)
			}
		}
	}
	m.OnChange(func(s ResumeState) { fyne.Do(func() { render(s) }) })
	w.SetContent(container.NewPadded(container.NewVBox(
		intro,
		widget.NewForm(widget.NewFormItem("Password", entry)),
		problem,
		progress,
		container.NewHBox(layout.NewSpacer(), cancel, resume),
	)))
	w.Resize(fyne.NewSize(460, 0))
	w.Show()
	w.Canvas().Focus(entry)
}
