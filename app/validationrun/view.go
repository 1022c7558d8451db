package validationrun

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/validation"
)

// Title is the window's title; Open finds an open window by it.
const Title = "Validate this workstation"

// Explanation says in one sentence what a run does to the workstation, so
// nobody starts one in the middle of lab work unawares.
const Explanation = "This runs the IQ/OQ checks on this workstation as a validation session recorded in the audit trail: it briefly sets the kill switch and lifts it again with your account password, and AI clients may meet the rate limit for a minute afterwards."

// Open shows the window (or brings it forward); run performs the
// validation. Call it on the UI thread.
func Open(d *app.Deps, run RunFunc) {
	open(d, run, options{
		spawn:    func(f func()) { go f() },
		do:       fyne.Do,
		openURL:  d.App.OpenURL,
		operator: OperatorName(),
		folder:   DefaultFolder(FromOS()),
	})
}

// options are what a test changes.
type options struct {
	// spawn runs the validation off the UI thread (go f()); do hands
	// the model's changes to the UI goroutine (fyne.Do).
	spawn, do func(func())
	// openURL opens the report or its folder (the app's OpenURL: the
	// browser, the file manager).
	openURL func(*url.URL) error
	// operator and folder fill the form.
	operator, folder string
}

// View renders a Runner.
type View struct {
	r   *Runner
	win fyne.Window
	o   options
	ctx context.Context
	// closed: the window is gone; late updates are dropped.
	closed bool

	operator, folder         *widget.Entry
	choose, start, closeForm *widget.Button
	problem                  *widget.Label
	form                     fyne.CanvasObject

	bar     *widget.ProgressBar
	current *widget.Label
	cancel  *widget.Button
	running fyne.CanvasObject

	heading, counts, detail, failed *widget.Label
	openReport, showFolder, again   *widget.Button
	end                             fyne.CanvasObject

	body *fyne.Container
}

// open builds and shows the window, or brings an open one forward (then
// it returns nil).
func open(d *app.Deps, run RunFunc, o options) *View {
	for _, w := range d.App.Driver().AllWindows() {
		if w.Title() == Title {
			w.Show()
			w.RequestFocus()
			return nil
		}
	}
	w := d.App.NewWindow(Title)
	v := &View{win: w, o: o}
	v.r = NewRunner(run, v.askPassword)
	ctx, cancel := context.WithCancel(context.Background())
	v.ctx = ctx
	// Closing the window ends a run in progress: nobody would see its
	// outcome. The kill switch, if the run had set it, is lifted anyway.
	w.SetOnClosed(func() { v.closed = true; cancel() })
	v.build()
	v.r.OnChange(func(s State) {
		v.o.do(func() {
			if !v.closed {
				v.render(s)
			}
		})
	})
	v.r.Update(func(s *State) { s.Operator, s.Folder = o.operator, o.folder })
	w.SetContent(v.body)
	w.Resize(fyne.NewSize(600, 440))
	w.Show()
	w.Canvas().Focus(v.operator)
	return v
}

func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

func (v *View) build() {
	v.operator = widget.NewEntry()
	v.operator.SetPlaceHolder("Your full name")
	v.folder = widget.NewEntry()
	v.choose = widget.NewButton("Choose…", v.chooseFolder)
	v.problem = wrapped("")
	v.problem.Importance = widget.DangerImportance
	v.problem.Hide()
	v.start = widget.NewButton("Run validation", v.doStart)
	v.start.Importance = widget.HighImportance
	v.operator.OnSubmitted = func(string) { v.doStart() }
	v.closeForm = widget.NewButton("Close", v.win.Close)
	v.form = container.NewVBox(
		wrapped(Explanation),
		widget.NewForm(
			widget.NewFormItem("Operator", v.operator),
			widget.NewFormItem("Report folder", container.NewBorder(nil, nil, nil, v.choose, v.folder)),
		),
		v.problem,
		layout.NewSpacer(),
		container.NewHBox(layout.NewSpacer(), v.closeForm, v.start),
	)

	v.bar = widget.NewProgressBar()
	v.bar.TextFormatter = func() string {
		if v.bar.Max <= 1 && v.bar.Value == 0 {
			return "Starting…"
		}
		return fmt.Sprintf("%d of %d cases", int(v.bar.Value), int(v.bar.Max))
	}
	v.current = wrapped("")
	v.cancel = widget.NewButton("Cancel", v.r.Cancel)
	v.running = container.NewVBox(
		widget.NewLabelWithStyle("Validating this workstation…", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		v.bar,
		v.current,
		layout.NewSpacer(),
		container.NewHBox(layout.NewSpacer(), v.cancel),
	)

	v.heading = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.heading.Wrapping = fyne.TextWrapWord
	v.counts = wrapped("")
	v.detail = wrapped("")
	v.failed = wrapped("")
	v.failed.Importance = widget.DangerImportance
	v.openReport = widget.NewButton("Open report", v.doOpenReport)
	v.openReport.Importance = widget.HighImportance
	v.showFolder = widget.NewButton("Show folder", v.doShowFolder)
	v.again = widget.NewButton("Run again", v.r.Reset)
	v.end = container.NewBorder(
		container.NewVBox(v.heading, v.counts, v.detail),
		container.NewHBox(layout.NewSpacer(), v.again, widget.NewButton("Close", v.win.Close), v.showFolder, v.openReport),
		nil, nil,
		container.NewVScroll(v.failed),
	)
	v.body = container.NewStack(container.NewPadded(v.form))
}

// doStart reads the form and starts the run off the UI thread.
func (v *View) doStart() {
	op, folder := v.operator.Text, v.folder.Text
	v.start.Disable()
	v.o.spawn(func() { v.r.Run(v.ctx, op, folder) })
}

func (v *View) chooseFolder() {
	d := dialog.NewFolderOpen(func(u fyne.ListableURI, err error) {
		if err != nil || u == nil {
			return
		}
		v.folder.SetText(u.Path())
	}, v.win)
	// Start where the current choice (or its parent) is, when it exists.
	for _, p := range []string{v.folder.Text, parent(v.folder.Text)} {
		if l, err := storage.ListerForURI(storage.NewFileURI(p)); err == nil && p != "" {
			d.SetLocation(l)
			break
		}
	}
	d.Show()
}

func parent(p string) string {
	if p == "" {
		return ""
	}
	u, err := storage.Parent(storage.NewFileURI(p))
	if err != nil {
		return ""
	}
	return u.Path()
}

func (v *View) render(s State) {
	switch s.Phase {
	case Idle:
		if v.operator.Text != s.Operator {
			v.operator.SetText(s.Operator)
		}
		if v.folder.Text != s.Folder {
			v.folder.SetText(s.Folder)
		}
		v.problem.SetText(s.Problem)
		v.problem.Hidden = s.Problem == ""
		v.problem.Refresh()
		v.start.Enable()
		v.show(v.form)
	case Running:
		total := max(s.Total, 1)
		v.bar.Max, v.bar.Value = float64(total), float64(s.Done)
		v.bar.Refresh()
		// validation.Run reports each case as it ends, so the line names
		// the last one to finish; the next is already running.
		switch {
		case s.Cancelling:
			v.current.SetText("Cancelling… If the kill switch is set, it is lifted before the run ends.")
		case s.Done == 0:
			v.current.SetText("Checking the installation and the Scispot MCP service…")
		case s.LastResult == validation.NotRun:
			// A notice between cases (waiting out the rate limit) says
			// what the run waits for in its title.
			v.current.SetText(fmt.Sprintf("Before %s: %s.", s.Last.ID, s.Last.Title))
		default:
			v.current.SetText(fmt.Sprintf("Finished %s %s: %s.", s.Last.ID, s.Last.Title, resultWord(s.LastResult)))
		}
		if s.Cancelling {
			v.cancel.Disable()
		} else {
			v.cancel.Enable()
		}
		v.show(v.running)
	case Done:
		sum := s.Result.Summary
		v.heading.SetText(fmt.Sprintf("Validation %s: %s", s.Result.DocID, verdict(sum.Result)))
		v.counts.SetText(fmt.Sprintf("%d passed, %d failed, %d skipped of %d cases.", sum.Pass, sum.Fail, sum.Skip, sum.Total))
		v.detail.SetText(fmt.Sprintf("The report is in %s and its files are recorded in the audit trail (validation.run); check a copy later with `scispot-mcp validate --verify FILE`.", s.Folder))
		v.failed.SetText(failures(s.Failures))
		v.openReport.Show()
		v.showFolder.Show()
		v.show(v.end)
	case Failed:
		v.heading.SetText("Validation did not finish")
		v.counts.SetText(s.Reason)
		v.detail.SetText("")
		if len(s.Result.Files) > 0 {
			v.detail.SetText(fmt.Sprintf("What was written is in %s. It is incomplete: run the validation again for a report to file.", s.Folder))
		}
		v.failed.SetText(failures(s.Failures))
		v.openReport.Hide()
		v.showFolder.Hidden = len(s.Result.Files) == 0
		v.showFolder.Refresh()
		v.show(v.end)
	case Cancelled:
		v.heading.SetText("Validation cancelled")
		v.counts.SetText(fmt.Sprintf("It stopped after %d of %d cases; no report was filed.", s.Done, s.Total))
		v.detail.SetText("")
		v.failed.SetText("")
		v.openReport.Hide()
		v.showFolder.Hide()
		v.show(v.end)
	}
}

// show puts section in the window if it is not there already.
func (v *View) show(section fyne.CanvasObject) {
	if p, ok := v.body.Objects[0].(*fyne.Container); ok && len(p.Objects) == 1 && p.Objects[0] == section {
		return
	}
	v.body.Objects = []fyne.CanvasObject{container.NewPadded(section)}
	v.body.Refresh()
}

func verdict(r validation.Result) string {
	if r == validation.Pass {
		return "passed"
	}
	return "failed"
}

func resultWord(r validation.Result) string {
	switch r {
	case validation.Pass:
		return "passed"
	case validation.Fail:
		return "failed"
	case validation.Skip:
		return "skipped"
	}
	return "no result"
}

// failures lists the failed cases with what they found.
func failures(cs []CaseLine) string {
	if len(cs) == 0 {
		return ""
	}
	out := "Failed cases:"
	for _, c := range cs {
		out += fmt.Sprintf("\n• %s %s: %s", c.ID, c.Title, c.Actual)
	}
	return out
}

func (v *View) doOpenReport() { v.openPath(v.r.State().Report()) }

func (v *View) doShowFolder() { v.openPath(v.r.State().Folder) }

// openPath opens a file or folder with the desktop's application for it:
// the browser for the HTML report, the file manager for the folder.
func (v *View) openPath(p string) {
	if p == "" {
		return
	}
	u, err := url.Parse(storage.NewFileURI(p).String())
	if err == nil {
		err = v.o.openURL(u)
	}
	if err != nil {
		dialog.ShowError(fmt.Errorf("%s could not be opened (%v); open it from the file manager", p, err), v.win)
	}
}

// errDeclined: the person skipped the password, so the kill-switch case
// is skipped rather than leave AI access stopped.
var errDeclined = errors.New("the password was not given")

// askPassword shows the password prompt and waits for the answer. The run
// calls it from its own goroutine: the prompt is built on the UI thread
// (through do) and answers over a channel.
func (v *View) askPassword(ctx context.Context, account string) (string, error) {
	answer := make(chan string, 1)
	var d dialog.Dialog
	v.o.do(func() {
		if v.closed {
			answer <- ""
			return
		}
		d = v.passwordDialog(account, answer)
	})
	select {
	case pw := <-answer:
		if pw == "" {
			return "", errDeclined
		}
		return pw, nil
	case <-ctx.Done():
		v.o.do(func() {
			if d != nil {
				d.Hide()
			}
		})
		return "", ctx.Err()
	}
}

// PasswordTitle is the password prompt's title.
const PasswordTitle = "Account password"

// passwordDialog asks for account's password; the answer ("" for Skip)
// goes to answer once.
func (v *View) passwordDialog(account string, answer chan<- string) dialog.Dialog {
	who := "your account"
	if account != "" {
		who = "the account " + account
	}
	text := wrapped("Lifting the kill switch after OQ-09 and, where the policy allows writes, signing OQ-11's demo write takes the password of " + who + "; the Scispot MCP service checks it itself. That signature is recorded in your name on the demo workspace, with an approving meaning and the reason \"Validation …: demo write signed to qualify electronic signatures\". Skip leaves both cases out (they are reported as skipped).")
	entry := widget.NewPasswordEntry()
	entry.SetPlaceHolder("Password")
	var d *dialog.CustomDialog
	sent := false
	// reply answers once; every callback runs on the UI thread.
	reply := func(pw string) {
		if !sent {
			sent = true
			answer <- pw
		}
	}
	skip := widget.NewButton("Skip this case", func() { reply(""); d.Hide() })
	ok := widget.NewButton("Continue", func() {
		if entry.Text != "" {
			reply(entry.Text)
			d.Hide()
		}
	})
	ok.Importance = widget.HighImportance
	entry.OnSubmitted = func(string) { ok.OnTapped() }
	d = dialog.NewCustomWithoutButtons(PasswordTitle, container.NewVBox(
		text,
		widget.NewForm(widget.NewFormItem("Password", entry)),
		container.NewHBox(layout.NewSpacer(), skip, ok),
	), v.win)
	// A dialog dismissed any other way is a skip, so the run never waits
	// on a prompt nobody sees.
	d.SetOnClosed(func() { reply("") })
	d.Resize(fyne.NewSize(460, 0))
	d.Show()
	v.win.Canvas().Focus(entry)
	return d
}
