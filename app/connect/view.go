package connect

import (
	"context"
	"fmt"
	"path/filepath"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Title is the window's title; Open finds an open window by it.
const Title = "Connect AI clients to Scispot"

// TrayClient is how the tray names itself in audit records.
const TrayClient = app.TrayClient

// StateFile is where the clients' setup record lives in the state folder
// (clients.Options.StateFile); the CLI's setup should use the same file.
func StateFile(state string) string { return filepath.Join(state, "clients.json") }

// SystemFor returns the real Clients for the tray's dependencies. Each
// change is recorded by the service (setup.write, attributed by the
// kernel), best effort: a config that was written stays written.
func SystemFor(d *app.Deps) System {
	return System{
		Env:        clients.FromOS(),
		Executable: d.Executable,
		StateFile:  StateFile(d.StateDir),
		Demo:       d.Demo,
		Keychain:   d.Keychain,
		Service:    d.Service,
		Record: func(ctx context.Context, c clients.Change) error {
			err := d.Service.Record(ctx, localapi.RecordRequest{
				Event: audit.EventSetupWrite, Tool: c.Client, Client: TrayClient,
				Reason: fmt.Sprintf("%s %s", c.Action, c.Path), Token: c.TokenFingerprint,
			})
			if err != nil {
				d.Log().Warn("the service did not record a client config change", "client", c.Client, "err", err)
			}
			return nil
		},
		Hosts: func(ctx context.Context) []string {
			st, err := d.Service.Status(ctx, localapi.StatusRequest{})
			if err != nil {
				return nil
			}
			return clients.UpstreamHost(st.Policy.Effective)
		},
	}
}

// Reconnect writes the client's entry again, for the tray's "Reconnect"
// notification action. Show the Change's Note to the person.
func Reconnect(ctx context.Context, d *app.Deps, clientID string) (clients.Change, error) {
	return SystemFor(d).Connect(ctx, clientID)
}

// WatchRemoved watches the client configs until ctx ends and calls notify
// (on the watcher's goroutine) when this app's entry disappears from a
// client's config, e.g. after a Claude Desktop update. The tray shows a
// notification offering Reconnect.
func WatchRemoved(ctx context.Context, d *app.Deps, notify func(clientID, clientName string)) error {
	s := SystemFor(d)
	w := &clients.Watcher{
		Env:     s.Env,
		Options: s.statusOptions(ctx),
		OnChange: func(_ context.Context, _ []clients.ClientStatus, changed []clients.StatusChange) {
			for _, c := range Removed(changed) {
				notify(c.Client, c.To.Name)
			}
		},
	}
	return w.Run(ctx)
}

// Removed picks the changes that are an entry disappearing.
func Removed(changed []clients.StatusChange) []clients.StatusChange {
	var out []clients.StatusChange
	for _, c := range changed {
		if c.To.State == clients.Removed && c.From.State != clients.Removed {
			out = append(out, c)
		}
	}
	return out
}

// Open shows the window, or brings it forward if it is open. While it is
// open, it follows changes to the client configs.
func Open(d *app.Deps) { open(d, SystemFor(d), true, func(f func()) { go f() }) }

func open(d *app.Deps, c Clients, watch bool, spawn func(func())) *View {
	for _, w := range d.App.Driver().AllWindows() {
		if w.Title() == Title {
			w.Show()
			w.RequestFocus()
			return nil
		}
	}
	m := NewModel(c, d.Demo)
	w := d.App.NewWindow(Title)
	v := NewView(m)
	v.spawn = spawn
	ctx, cancel := context.WithCancel(context.Background())
	v.ctx = ctx
	w.SetOnClosed(cancel)
	w.SetContent(v.Content())
	w.Resize(fyne.NewSize(640, 620))
	w.Show()
	if s, ok := c.(System); ok && watch {
		cw := &clients.Watcher{Env: s.Env, Options: s.statusOptions(ctx),
			OnChange: func(_ context.Context, all []clients.ClientStatus, _ []clients.StatusChange) { m.Show(all) }}
		go func() {
			if err := cw.Run(ctx); err != nil && d.Logger != nil {
				d.Logger.Warn("watching the AI client configs", "err", err)
			}
		}()
	} else {
		spawn(func() { m.Refresh(ctx) })
	}
	return v
}

// View renders a Model.
type View struct {
	m     *Model
	ctx   context.Context
	spawn func(func())

	intro   *widget.Label
	restart *widget.Label
	cards   *fyne.Container
	content fyne.CanvasObject
	// buttons by client and action, for tests and focus
	buttons map[string]*widget.Button
}

// NewView builds the widgets for m.
func NewView(m *Model) *View {
	v := &View{m: m, ctx: context.Background(), spawn: func(f func()) { go f() }, buttons: map[string]*widget.Button{}}
	intro := "Connect writes a \"scispot\" entry into the client's MCP config that starts this app's gateway. No token goes into any config."
	if m.State().Demo {
		intro += " The entries run the demo workspace (serve --demo)."
	}
	v.intro = widget.NewLabel(intro)
	v.intro.Wrapping = fyne.TextWrapWord
	v.restart = widget.NewLabel("")
	v.restart.Wrapping = fyne.TextWrapWord
	v.restart.Importance = widget.WarningImportance
	v.restart.TextStyle = fyne.TextStyle{Bold: true}
	v.cards = container.NewVBox()
	v.content = container.NewBorder(container.NewVBox(v.intro, v.restart), nil, nil, nil, container.NewVScroll(v.cards))
	m.OnChange(func(s State) { fyne.Do(func() { v.render(s) }) })
	v.render(m.State())
	return v
}

// Content is the window's content.
func (v *View) Content() fyne.CanvasObject { return v.content }

func (v *View) render(s State) {
	v.restart.SetText(s.Restart)
	if s.Restart == "" {
		v.restart.Hide()
	} else {
		v.restart.Show()
	}
	v.buttons = map[string]*widget.Button{}
	objs := make([]fyne.CanvasObject, 0, len(s.Cards))
	for _, c := range s.Cards {
		objs = append(objs, v.card(c, s.Busy != ""))
	}
	v.cards.Objects = objs
	v.cards.Refresh()
}

func (v *View) card(c Card, busy bool) fyne.CanvasObject {
	id := c.Status.Client
	badge := widget.NewLabelWithStyle(c.Label, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	switch {
	case c.Good:
		badge.Importance = widget.SuccessImportance
	case c.Status.State == clients.NotInstalled || c.Status.State == clients.NoConfig:
		badge.Importance = widget.LowImportance
	default:
		badge.Importance = widget.DangerImportance
	}
	detail := widget.NewLabel(c.Status.Detail)
	detail.Wrapping = fyne.TextWrapWord
	body := container.NewVBox(badge, detail)
	if c.Status.Path != "" {
		p := widget.NewLabel(c.Status.Path)
		p.Wrapping = fyne.TextWrapBreak
		p.Importance = widget.LowImportance
		body.Add(p)
	}
	var btns []fyne.CanvasObject
	add := func(key, text string, imp widget.Importance, f func(context.Context, string)) {
		b := widget.NewButton(text, func() { v.spawn(func() { f(v.ctx, id) }) })
		b.Importance = imp
		if busy {
			b.Disable()
		}
		v.buttons[id+"/"+key] = b
		btns = append(btns, b)
	}
	if c.CanMigrate {
		text := "Move token to keychain"
		if len(c.Status.Direct) > 0 {
			text = "Replace with gateway"
		}
		add("migrate", text, widget.HighImportance, v.m.MoveToken)
	}
	if c.ConnectText != "" {
		add("connect", c.ConnectText, widget.HighImportance, v.m.Connect)
	}
	if c.CanDisconnect {
		add("disconnect", "Disconnect", widget.MediumImportance, v.m.Disconnect)
	}
	if len(btns) > 0 {
		body.Add(container.NewHBox(btns...))
	}
	if c.Message != "" {
		msg := widget.NewLabel(c.Message)
		msg.Wrapping = fyne.TextWrapWord
		if c.Err {
			msg.Importance = widget.DangerImportance
		}
		body.Add(msg)
	}
	return widget.NewCard(c.Status.Name, "", body)
}
