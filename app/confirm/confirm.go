// Package confirm shows the tray's write-confirmation dialogs: when a
// serve process must ask the person before a write and its AI client
// cannot (no MCP elicitation), it files a request (mcpserver/confirm) and
// the tray shows which client wants to run which tool on what, with
// Approve and Deny. No answer within 60 s is a denial; the dialog closes
// when the request goes away.
package confirm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/mcpserver/confirm"
)

// Prompt is what a dialog says about a request.
type Prompt struct {
	Title  string
	Client string
	Tool   string
	Target string
	Change string
	// Warning is set for a destructive change and shown in red.
	Warning string
	// Deadline is when the request stops waiting.
	Deadline time.Time
}

// PromptFor describes r for the person.
func PromptFor(r confirm.Request) Prompt {
	p := Prompt{
		Title:    "Allow this change in Scispot?",
		Client:   strings.TrimSpace(r.ClientName + " " + r.ClientVersion),
		Tool:     r.Tool,
		Target:   r.Target,
		Change:   r.Change,
		Deadline: r.Time.Add(confirm.Timeout),
	}
	if p.Client == "" {
		p.Client = "An unnamed AI client"
	}
	if p.Target == "" {
		p.Target = "(not described)"
	}
	if p.Change == "" {
		p.Change = "(not described)"
	}
	if r.Destructive {
		p.Title = "Allow this destructive change in Scispot?"
		p.Warning = "Destructive: this deletes or overwrites data in Scispot and may not be undoable."
	}
	return p
}

// Lines are the prompt's facts as label/value pairs, in order.
func (p Prompt) Lines() [][2]string {
	return [][2]string{{"AI client", p.Client}, {"Tool", p.Tool}, {"Target", p.Target}, {"Change", p.Change}}
}

// Controller shows one window per pending request. Its methods must run
// on the UI goroutine (Run wraps them in fyne.Do).
type Controller struct {
	App fyne.App
	// Respond answers a request; nil means confirm.Respond on Dir.
	Respond func(id string, approved bool) error
	Dir     string
	// By is the OS account name written with each answer.
	By      string
	windows map[string]fyne.Window
	// AfterFunc schedules the close at the deadline; nil means time.AfterFunc.
	AfterFunc func(d time.Duration, f func())
}

// Show opens the dialog for r (once per id).
func (c *Controller) Show(r confirm.Request) {
	if c.windows == nil {
		c.windows = map[string]fyne.Window{}
	}
	if _, ok := c.windows[r.ID]; ok {
		return
	}
	p := PromptFor(r)
	w := c.App.NewWindow(p.Title)
	c.windows[r.ID] = w
	answered := false
	finish := func(approved bool) {
		if answered {
			return
		}
		answered = true
		err := c.respond(r.ID, approved)
		if err != nil && !errors.Is(err, confirm.ErrNoRequest) {
			fyne.LogError("answering a write confirmation", err)
		}
	}
	answer := func(approved bool) {
		finish(approved)
		c.Gone(r.ID)
	}

	title := widget.NewLabelWithStyle(p.Title, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	form := widget.NewForm()
	for _, l := range p.Lines() {
		v := widget.NewLabel(l[1])
		v.Wrapping = fyne.TextWrapWord
		form.Append(l[0], v)
	}
	body := container.NewVBox(title, form)
	if p.Warning != "" {
		warn := widget.NewLabelWithStyle(p.Warning, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
		warn.Importance = widget.DangerImportance
		warn.Wrapping = fyne.TextWrapWord
		body.Add(warn)
	}
	note := widget.NewLabel(fmt.Sprintf("No answer by %s denies it.", p.Deadline.Local().Format("15:04:05")))
	note.Importance = widget.LowImportance
	body.Add(note)
	deny := widget.NewButton("Deny", func() { answer(false) })
	approve := widget.NewButton("Approve", func() { answer(true) })
	approve.Importance = widget.HighImportance
	if p.Warning != "" {
		approve.Importance = widget.DangerImportance
	}
	body.Add(container.NewHBox(deny, approve))
	w.SetContent(container.NewPadded(body))
	w.Resize(fyne.NewSize(480, 0))
	// Escape or closing the window is a denial; Deny has the focus, so
	// Space or Enter never approves by accident.
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			answer(false)
		}
	})
	w.SetOnClosed(func() {
		delete(c.windows, r.ID)
		finish(false)
	})
	w.Show()
	w.Canvas().Focus(deny)
	w.RequestFocus()

	after := c.AfterFunc
	if after == nil {
		after = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	// The asker removes the request at its deadline; this closes the
	// dialog even if that asker died first.
	after(time.Until(p.Deadline), func() { fyne.Do(func() { c.Gone(r.ID) }) })
}

func (c *Controller) respond(id string, approved bool) error {
	if c.Respond != nil {
		return c.Respond(id, approved)
	}
	return confirm.Respond(c.Dir, id, approved, c.By)
}

// Gone closes the dialog for id, if it is open.
func (c *Controller) Gone(id string) {
	w, ok := c.windows[id]
	if !ok {
		return
	}
	delete(c.windows, id)
	w.Close() // its OnClosed denies a request nobody answered, if it still waits
}

// Open reports how many dialogs are open.
func (c *Controller) Open() int { return len(c.windows) }

// Run watches <state>/confirm until ctx ends and shows a dialog for each
// request. The tray starts it on its own goroutine.
func Run(ctx context.Context, d *app.Deps) error {
	c := &Controller{App: d.App, Dir: confirm.Dir(d.StateDir)}
	if d.Sources.User != nil {
		if a, err := d.Sources.User(); err == nil {
			c.By = a.Name
		}
	}
	w := &confirm.Watcher{
		Dir:       c.Dir,
		Logger:    d.Logger,
		OnRequest: func(r confirm.Request) { fyne.Do(func() { c.Show(r) }) },
		OnGone:    func(id string) { fyne.Do(func() { c.Gone(id) }) },
	}
	return w.Run(ctx)
}
