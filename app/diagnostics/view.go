package diagnostics

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Title is the window's title; Open finds an open window by it.
const Title = "Scispot MCP diagnostics"

// Open shows the diagnostics window (or brings it forward) and runs the
// checks in the background. validate opens the validation window; nil
// leaves the "Run validation…" button out.
func Open(d *app.Deps, validate func()) { open(d, validate, func(f func()) { go f() }) }

func open(d *app.Deps, validate func(), spawn func(func())) {
	for _, w := range d.App.Driver().AllWindows() {
		if w.Title() == Title {
			w.Show()
			w.RequestFocus()
			return
		}
	}
	env := Env{
		Service:  d.Service,
		Keychain: d.Keychain,
		Demo:     d.Demo,
		Clients: func(ctx context.Context) []clients.ClientStatus {
			var hosts []string
			if st, err := d.Service.Status(ctx, localapi.StatusRequest{}); err == nil {
				hosts = clients.UpstreamHost(st.Policy.Effective)
			}
			return clients.Status(ctx, clients.FromOS(), clients.StatusOptions{
				Executable: d.Executable, StateFile: ClientsStateFile(d.StateDir), Hosts: hosts})
		},
		Version: d.Version,
	}
	w := d.App.NewWindow(Title)
	v := NewView(w, d.App.Clipboard())
	v.spawn = spawn
	v.SetOnValidate(validate)
	ctx, cancel := context.WithCancel(context.Background())
	w.SetOnClosed(cancel)
	v.OnRefresh = func() { v.spawn(func() { Collect(ctx, env, v.Update) }) }
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(720, 640))
	w.Show()
	v.OnRefresh()
}

// ClientsStateFile is where the clients package remembers the entries this
// app wrote (clients.Options.StateFile), inside the state folder.
func ClientsStateFile(state string) string { return filepath.Join(state, "clients.json") }

// View renders the checks.
type View struct {
	win       fyne.Window
	clipboard fyne.Clipboard
	spawn     func(func())
	// OnRefresh runs the checks again.
	OnRefresh func()

	mu sync.Mutex
	in Input

	list    *fyne.Container
	copy    *widget.Button
	refresh *widget.Button
	copied  *widget.Label
	// validate opens the validation window; hidden until SetOnValidate.
	validate *widget.Button
	content  fyne.CanvasObject
}

// NewView builds the window's widgets; Update fills them.
func NewView(win fyne.Window, clip fyne.Clipboard) *View {
	v := &View{win: win, clipboard: clip, spawn: func(f func()) { go f() }}
	v.list = container.NewVBox()
	v.copied = widget.NewLabel("")
	v.copy = widget.NewButton("Copy report", v.doCopy)
	v.refresh = widget.NewButton("Refresh", func() {
		if v.OnRefresh != nil {
			v.OnRefresh()
		}
	})
	v.validate = widget.NewButton("Run validation…", nil)
	v.validate.Hide()
	heading := widget.NewLabelWithStyle("Why AI clients can or cannot reach Scispot here", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.content = container.NewBorder(
		heading,
		container.NewHBox(v.refresh, v.copy, v.copied, layout.NewSpacer(), v.validate),
		nil, nil,
		container.NewVScroll(v.list),
	)
	return v
}

// SetOnValidate shows the "Run validation…" button, which calls f (IQ/OQ
// on this workstation, the answer to "is it fit for GxP use"); nil hides
// it.
func (v *View) SetOnValidate(f func()) {
	v.validate.OnTapped = f
	v.validate.Hidden = f == nil
	v.validate.Refresh()
}

// Content is the window's content.
func (v *View) Content() fyne.CanvasObject { return v.content }

// Update shows in; it may be called from any goroutine.
func (v *View) Update(in Input) {
	v.mu.Lock()
	v.in = in
	v.mu.Unlock()
	fyne.Do(func() { v.render(Checks(in)) })
}

// Report is the current plain-text report.
func (v *View) Report() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.in.Time.IsZero() {
		v.in.Time = time.Now()
	}
	return Report(v.in)
}

func (v *View) render(checks []Check) {
	rows := make([]fyne.CanvasObject, 0, len(checks))
	for _, c := range checks {
		rows = append(rows, row(c))
	}
	v.list.Objects = rows
	v.list.Refresh()
}

func row(c Check) fyne.CanvasObject {
	mark := widget.NewLabelWithStyle(c.Status.Mark(), fyne.TextAlignCenter, fyne.TextStyle{Bold: true})
	switch c.Status {
	case OK:
		mark.Importance = widget.SuccessImportance
	case Fail:
		mark.Importance = widget.DangerImportance
	case Info, Pending:
		mark.Importance = widget.LowImportance
	}
	name := widget.NewLabelWithStyle(c.Name, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	detail := widget.NewLabel(c.Detail)
	detail.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(name, detail)
	if c.Remedy != "" {
		r := widget.NewLabel("What to do: " + c.Remedy)
		r.Wrapping = fyne.TextWrapWord
		r.Importance = widget.WarningImportance
		body.Add(r)
	}
	return container.NewBorder(nil, widget.NewSeparator(), container.NewVBox(mark), nil, body)
}

func (v *View) doCopy() {
	v.clipboard.SetContent(v.Report())
	v.copied.SetText("Copied — paste it into a message to IT.")
}
