package toolchanges

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/mcpserver/pin"
)

// Open shows the window (or brings it forward) and loads the changes in
// the background; while it is open it follows the service's events. Call
// it on the UI thread.
func Open(d *app.Deps) {
	open(d, options{spawn: func(f func()) { go f() }, do: fyne.Do, follow: true})
}

// options are what a test changes: where the service calls run, how UI
// work reaches the UI goroutine, whether the window follows the service.
type options struct {
	spawn, do func(func())
	follow    bool
}

// open builds and shows the window, or brings an open one forward (then
// it returns nil).
func open(d *app.Deps, o options) *View {
	for _, w := range d.App.Driver().AllWindows() {
		if w.Title() == Title {
			w.Show()
			w.RequestFocus()
			return nil
		}
	}
	w := d.App.NewWindow(Title)
	v := NewView(NewModel(d.Service, d.Keychain, d.Demo), w)
	v.spawn, v.do = o.spawn, o.do
	ctx, cancel := context.WithCancel(context.Background())
	v.ctx = ctx
	w.SetOnClosed(func() { v.closed = true; cancel() })
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(780, 640))
	w.Show()
	v.spawn(func() { v.m.Load(ctx) })
	if o.follow {
		go func() {
			if err := v.m.Follow(ctx); err != nil {
				d.Log().Warn("review tool changes: following the service stopped", "err", err)
			}
		}()
	}
	return v
}

// View renders a Model.
type View struct {
	m   *Model
	win fyne.Window
	ctx context.Context
	// spawn runs the service calls (go f()); do hands the model's
	// changes to the UI goroutine (fyne.Do).
	spawn, do func(func())
	closed    bool

	intro, about, summary, policy, pwNote, problem, done *widget.Label
	tools                                                *widget.Select
	diff                                                 *widget.TextGrid
	entry                                                *widget.Entry
	// pw is the password's note and entry: hidden where none is asked.
	pw              fyne.CanvasObject
	accept, reload  *widget.Button
	progress        *widget.ProgressBarInfinite
	review, content fyne.CanvasObject
	// byShown maps the names the tool list shows to the tools' names.
	byShown map[string]string
}

// NewView builds the widgets for m in w; they follow m's state.
func NewView(m *Model, w fyne.Window) *View {
	v := &View{m: m, win: w, ctx: context.Background(), spawn: func(f func()) { go f() }, do: fyne.Do}
	label := func() *widget.Label {
		l := widget.NewLabel("")
		l.Wrapping = fyne.TextWrapWord
		return l
	}
	v.intro, v.about, v.summary, v.policy, v.pwNote, v.problem, v.done = label(), label(), label(), label(), label(), label(), label()
	v.intro.SetText("Loading…")
	v.about.SetText("When Scispot changes the definition of a tool your lab allowed — its description, its inputs, what it says it does — " +
		"the Scispot MCP service withholds the tool from your AI clients until the change is reviewed: here, with " +
		"`scispot-mcp tools accept TOOL`, or by your Scispot admin in the policy. A notification tells you when one waits.")
	v.about.Hide()
	v.problem.Importance = widget.DangerImportance
	v.problem.Hide()
	v.done.Importance = widget.SuccessImportance
	v.done.Hide()
	v.tools = widget.NewSelect(nil, func(shown string) { v.m.Select(v.byShown[shown]) })
	v.diff = widget.NewTextGrid()
	v.entry = widget.NewPasswordEntry()
	v.entry.SetPlaceHolder("Password")
	v.entry.OnSubmitted = func(string) { v.submit() }
	v.accept = widget.NewButton("Accept for my account", v.submit)
	v.accept.Importance = widget.HighImportance
	v.reload = widget.NewButton("Check again", func() { v.spawn(func() { v.m.Load(v.ctx) }) })
	v.progress = widget.NewProgressBarInfinite()
	v.progress.Stop()
	v.progress.Hide()
	v.pw = container.NewVBox(v.pwNote, widget.NewForm(widget.NewFormItem("Password", v.entry)))
	v.review = container.NewBorder(
		container.NewVBox(widget.NewForm(widget.NewFormItem("Tool", v.tools)), v.summary),
		container.NewVBox(v.policy, v.pw),
		nil, nil,
		container.NewScroll(v.diff))
	v.review.Hide()
	v.accept.Hide()
	v.content = container.NewPadded(container.NewBorder(
		container.NewVBox(v.intro, v.about, v.done, v.problem, v.progress),
		container.NewHBox(layout.NewSpacer(), v.reload, v.accept),
		nil, nil, v.review))
	m.OnChange(func(s State) { v.do(func() { v.render(s) }) })
	return v
}

// submit accepts the change shown with the password typed, which leaves
// the entry at once: it is typed again after a wrong one.
func (v *View) submit() {
	pw := v.entry.Text
	v.entry.SetText("")
	v.spawn(func() { v.m.Accept(v.ctx, pw) })
}

// Content is the window's content.
func (v *View) Content() fyne.CanvasObject { return v.content }

func (v *View) render(s State) {
	if v.closed {
		return
	}
	// Parts show and hide: lay the window out again.
	defer v.content.Refresh()
	if s.Busy {
		v.progress.Show()
		v.progress.Start()
		v.accept.Disable()
		v.reload.Disable()
		v.tools.Disable()
	} else {
		v.progress.Stop()
		v.progress.Hide()
		v.accept.Enable()
		v.reload.Enable()
		v.tools.Enable()
	}
	show(v.problem, s.Error)
	show(v.done, s.Done)
	if !s.Loaded {
		return
	}
	ch, ok := s.Current()
	if !ok {
		v.intro.SetText("No tool definition is waiting for your review: every tool your AI clients may use is defined as it was approved on this workstation.")
		v.about.Show()
		v.review.Hide()
		v.accept.Hide()
		return
	}
	v.about.Hide()
	v.accept.Show()
	if len(s.Changes) == 1 {
		v.intro.SetText("Scispot changed the definition of a tool your AI clients may use. Read what changed (\"- \" lines go, \"+ \" lines come) before you accept it.")
	} else {
		v.intro.SetText("Scispot changed the definitions of tools your AI clients may use. Read what changed in each (\"- \" lines go, \"+ \" lines come) before you accept it.")
	}
	names := make([]string, 0, len(s.Changes))
	v.byShown = map[string]string{}
	for _, c := range s.Changes {
		names = append(names, pin.Printable(c.Tool))
		v.byShown[pin.Printable(c.Tool)] = c.Tool
	}
	v.tools.Options = names
	v.tools.Selected = pin.Printable(ch.Tool)
	v.tools.Refresh()
	v.summary.SetText(Summary(ch))
	v.policy.SetText(PolicyNote(ch))
	v.setDiff(DiffText(ch))
	if s.Password {
		who := "your account"
		if s.Account != "" {
			who = "the account " + s.Account
		}
		v.pwNote.SetText("Accepting takes the password of " + who + "; the Scispot MCP service checks it itself (a program running as you cannot accept for you).")
		v.pw.Show()
	} else {
		v.pw.Hide()
	}
	v.review.Show()
}

// setDiff shows the diff with what goes in the error colour and what
// comes in the success colour.
func (v *View) setDiff(text string) {
	v.diff.SetText(strings.TrimRight(text, "\n"))
	gone := &widget.CustomTextGridStyle{FGColor: theme.Color(theme.ColorNameError)}
	come := &widget.CustomTextGridStyle{FGColor: theme.Color(theme.ColorNameSuccess)}
	for i, line := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "- "):
			v.diff.SetRowStyle(i, gone)
		case strings.HasPrefix(line, "+ "):
			v.diff.SetRowStyle(i, come)
		}
	}
}

func show(l *widget.Label, text string) {
	l.SetText(text)
	if text == "" {
		l.Hide()
	} else {
		l.Show()
	}
}
