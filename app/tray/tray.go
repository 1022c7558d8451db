package tray

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/assets"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// initTimeout bounds Init's status request; Run asks again anyway.
const initTimeout = 5 * time.Second

// tokenSettle is how long after a token change the tray reads the
// keychain again.
const tokenSettle = 2 * time.Second

// DefaultActiveFor is how long the tray shows the active icon after a call.
const DefaultActiveFor = 2 * time.Second

// LocalServer is the loopback HTTP gateway (`serve --http`) the tray can
// start and stop when policy AllowLocalHTTP allows it.
type LocalServer interface {
	Running() bool
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Config is what a Tray needs. Deps and Open are required.
type Config struct {
	Deps *app.Deps
	// Open shows a window by name: app.Window* names.
	Open app.Opener
	// LocalServer is nil until this build has one; the menu then never
	// offers it.
	LocalServer LocalServer
	// SystemTray is false where no tray icon would show (on Linux without a
	// D-Bus session bus, or with no tray host on it; see Available and
	// HostRunning): the tray then only tracks status and notifies.
	SystemTray bool
	// Quit ends the app; nil means Deps.App.Quit.
	Quit func()
	// ActiveFor is how long a call keeps the icon active (DefaultActiveFor
	// when 0).
	ActiveFor time.Duration
	// NotifyEvery rate-limits each kind of notification
	// (DefaultNotifyEvery when 0).
	NotifyEvery time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Spawn runs the resume window's blocking calls off the UI goroutine
	// (go f() when nil; tests run them in place).
	Spawn func(func())
	// Notifier shows the notifications (AppNotifier{Deps.App} when nil:
	// no clicks).
	Notifier Notifier
}

// Tray keeps the status current and renders it as the tray icon and menu.
type Tray struct {
	cfg Config
	svc app.Service

	mu      sync.Mutex
	status  Status
	req     localapi.StatusRequest // the keychain's item, re-read when the token changes
	limiter Limiter
	// notified are the tool changes waiting (app.ToolChangeKey) that a
	// notification told about.
	notified map[string]bool
	live     app.LiveSessions
	activeT  *time.Timer // fires once, ActiveFor after the last call
	// rendered is what the system tray shows.
	rendered struct {
		icon  Icon
		menu  []Item
		valid bool
	}
	// ctx is Run's context, for menu actions.
	ctx    context.Context
	inited bool
}

// New returns a Tray; Run brings it to life.
func New(cfg Config) *Tray {
	if cfg.ActiveFor <= 0 {
		cfg.ActiveFor = DefaultActiveFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Quit == nil {
		cfg.Quit = cfg.Deps.App.Quit
	}
	if cfg.Spawn == nil {
		cfg.Spawn = func(f func()) { go f() }
	}
	if cfg.Notifier == nil {
		cfg.Notifier = AppNotifier{App: cfg.Deps.App}
	}
	t := &Tray{cfg: cfg, svc: cfg.Deps.Service, ctx: context.Background()}
	t.status.Demo = cfg.Deps.Demo
	t.limiter.Every = cfg.NotifyEvery
	return t
}

// Status is the current status.
func (t *Tray) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// Init asks the service for the status and puts the icon and menu in
// place. Call it once, on the main goroutine, before the app's Run: Fyne
// starts its system tray only when a menu exists by then.
func (t *Tray) Init(ctx context.Context) {
	// The app waits for this: a hung service must not hold it up long.
	ictx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	t.readKeychain(ictx)
	t.fetch(ictx)
	t.mu.Lock()
	t.inited = true
	t.mu.Unlock()
	t.renderWith(func(f func()) { f() })
}

// Run follows the service's events until ctx is done (calling Init first
// if that was not done), reconnecting when the service restarts. Nothing
// polls: every update is caused by an event.
func (t *Tray) Run(ctx context.Context) error {
	t.mu.Lock()
	inited := t.inited
	t.ctx = ctx
	t.mu.Unlock()
	if !inited {
		t.Init(ctx)
	}
	defer func() {
		t.mu.Lock()
		if t.activeT != nil {
			t.activeT.Stop()
		}
		t.mu.Unlock()
	}()
	return app.Follow(ctx, t.svc, app.Follower{
		Connected: t.refresh,
		Event: func(ctx context.Context, e localapi.Event) {
			switch e.Kind {
			case localapi.EventStatus:
				t.refresh(ctx)
			case localapi.EventRecord:
				if e.Record != nil {
					t.onRecord(ctx, *e.Record)
				}
			}
		},
		Down: func(err error) {
			t.setUnavailable(err)
			t.render()
		},
	})
}

// readKeychain keeps the keychain's item for status requests; the tray
// never opens it.
func (t *Tray) readKeychain(ctx context.Context) {
	req := app.StatusRequestFor(ctx, t.cfg.Deps.Keychain, t.cfg.Deps.Demo)
	t.mu.Lock()
	t.req = req
	t.mu.Unlock()
}

// fetch asks the service for the status and notifies when the admin's
// kill switch turned on.
func (t *Tray) fetch(ctx context.Context) {
	t.mu.Lock()
	req, old := t.req, t.status
	t.mu.Unlock()
	st, err := app.ReadStatus(ctx, t.svc, req)
	if errors.Is(ctx.Err(), context.Canceled) {
		return
	}
	if err != nil {
		t.setUnavailable(err)
		return
	}
	if old.Unavailable == "" && PolicyKilled(old.Service, st) {
		t.notify(PolicyKillNote())
	}
	t.noteToolChanges(st.ToolChanges)
	t.live.Set(st.Sessions)
	st.Sessions = t.live.List()
	t.mu.Lock()
	t.status.Service, t.status.Unavailable = st, ""
	t.mu.Unlock()
}

// noteToolChanges notifies once per changed definition waiting for the
// person's review; changes that came together share one notification.
func (t *Tray) noteToolChanges(changes []localapi.ToolChange) {
	t.mu.Lock()
	if t.notified == nil {
		t.notified = map[string]bool{}
	}
	waiting := map[string]bool{}
	var fresh []localapi.ToolChange
	for _, c := range changes {
		k := app.ToolChangeKey(c)
		waiting[k] = true
		if !t.notified[k] {
			fresh = append(fresh, c)
		}
	}
	// A definition no longer waiting that comes back later is a change
	// to tell about again.
	for k := range t.notified {
		if !waiting[k] {
			delete(t.notified, k)
		}
	}
	// Unsent (rate-limited) changes are told about at the next status.
	send := len(fresh) > 0 && t.limiter.Allow(NotifyToolChanged, t.cfg.Now())
	if send {
		for _, c := range fresh {
			t.notified[app.ToolChangeKey(c)] = true
		}
	}
	t.mu.Unlock()
	if send {
		t.send(ToolChangeNote(fresh))
	}
}

func (t *Tray) setUnavailable(err error) {
	msg := err.Error()
	if app.Unreachable(err) {
		msg = app.NotRunning(t.cfg.Deps.Demo)
	}
	t.mu.Lock()
	t.status.Unavailable = msg
	t.mu.Unlock()
}

// refresh re-reads the status and renders it.
func (t *Tray) refresh(ctx context.Context) {
	t.fetch(ctx)
	t.render()
}

func (t *Tray) onRecord(ctx context.Context, r audit.Record) {
	if n, ok := RecordNote(r); ok {
		t.notify(n)
	}
	if t.live.Record(r) {
		t.refresh(ctx)
	}
	switch r.Event {
	case audit.EventTokenSet, audit.EventTokenRemove:
		t.readKeychain(ctx)
		t.refresh(ctx)
		// token.set is recorded before the sealed token reaches the
		// keychain (by the CLI or the token window): look again shortly.
		time.AfterFunc(tokenSettle, func() {
			if ctx.Err() == nil {
				t.readKeychain(ctx)
				t.refresh(ctx)
			}
		})
	case audit.EventToolCall, audit.EventToolDenied:
		t.mu.Lock()
		t.status.Active = true
		// One timer, re-armed by each call: no ticker while idle.
		if t.activeT == nil {
			t.activeT = time.AfterFunc(t.cfg.ActiveFor, t.idle)
		} else {
			t.activeT.Reset(t.cfg.ActiveFor)
		}
		t.mu.Unlock()
		t.render()
	}
}

func (t *Tray) idle() {
	t.mu.Lock()
	t.status.Active = false
	t.mu.Unlock()
	t.render()
}

func (t *Tray) notify(n Note) {
	t.mu.Lock()
	ok := t.limiter.Allow(n.Kind, t.cfg.Now())
	t.mu.Unlock()
	if ok {
		t.send(n)
	}
}

// send shows n; a click opens its window.
func (t *Tray) send(n Note) {
	var click func()
	if n.Open != "" {
		click = func() { t.cfg.Open(n.Open) }
	}
	t.cfg.Notifier.Notify(n.Title, n.Body, click)
}

// render shows the status in the system tray if it changed, on the UI
// thread.
func (t *Tray) render() { t.renderWith(fyne.Do) }

func (t *Tray) renderWith(do func(func())) {
	t.mu.Lock()
	st := t.status
	if t.cfg.LocalServer != nil {
		running := t.cfg.LocalServer.Running()
		st.LocalServer = &running
	}
	icon, items := st.Icon(), st.Menu()
	iconChanged := !t.rendered.valid || icon != t.rendered.icon
	menuChanged := !t.rendered.valid || !slices.Equal(items, t.rendered.menu)
	t.rendered.icon, t.rendered.menu, t.rendered.valid = icon, items, true
	t.mu.Unlock()
	if !t.cfg.SystemTray || (!iconChanged && !menuChanged) {
		return
	}
	desk, ok := t.cfg.Deps.App.(desktop.App)
	if !ok {
		return
	}
	do(func() {
		if iconChanged {
			desk.SetSystemTrayIcon(IconResource(icon))
		}
		if menuChanged {
			desk.SetSystemTrayMenu(t.fyneMenu(items))
		}
	})
}

// IconResource is the tray icon image for i.
func IconResource(i Icon) fyne.Resource {
	switch i {
	case IconActive:
		return fyne.NewStaticResource("tray-active.png", assets.TrayActive)
	case IconBlocked:
		return fyne.NewStaticResource("tray-blocked.png", assets.TrayBlocked)
	default:
		return fyne.NewStaticResource("tray-ready.png", assets.TrayReady)
	}
}

// AppIcon is the app's icon.
func AppIcon() fyne.Resource { return fyne.NewStaticResource("icon.png", assets.Icon) }

// Menu is the tray menu for the current status, with its actions.
func (t *Tray) Menu() *fyne.Menu {
	st := t.Status()
	if t.cfg.LocalServer != nil {
		running := t.cfg.LocalServer.Running()
		st.LocalServer = &running
	}
	return t.fyneMenu(st.Menu())
}

func (t *Tray) fyneMenu(items []Item) *fyne.Menu {
	var out []*fyne.MenuItem
	for _, it := range items {
		if it.ID == ItemSeparator {
			out = append(out, fyne.NewMenuItemSeparator())
			continue
		}
		mi := fyne.NewMenuItem(it.Label, t.action(it.ID))
		mi.Disabled = it.Disabled
		mi.IsQuit = it.ID == ItemQuit
		out = append(out, mi)
	}
	return fyne.NewMenu("Scispot MCP", out...)
}

// action is what a menu item does; it runs on the UI thread.
func (t *Tray) action(id string) func() {
	open := func(name string) func() { return func() { t.cfg.Open(name) } }
	switch id {
	case ItemActivity:
		return open(app.WindowActivity)
	case ItemConnect:
		return open(app.WindowSetup)
	case ItemToken:
		return open(app.WindowToken)
	case ItemDiagnostics:
		return open(app.WindowDiagnostics)
	case ItemToolChanges:
		return open(app.WindowToolChanges)
	case ItemKill:
		return func() {
			t.background("stopping AI access", func(ctx context.Context) error {
				return t.svc.Kill(ctx, localapi.KillRequest{Source: control.SourceTray})
			})
		}
	case ItemResume:
		return t.resume
	case ItemServerStart:
		return func() { t.background("starting the local server", t.cfg.LocalServer.Start) }
	case ItemServerStop:
		return func() { t.background("stopping the local server", t.cfg.LocalServer.Stop) }
	case ItemAbout:
		return t.about
	case ItemQuit:
		return t.cfg.Quit
	default:
		return nil
	}
}

// resume lifts the kill switch: the person types the account password,
// which the service checks; its demo instance asks none.
func (t *Tray) resume() {
	st := t.Status()
	if st.UserDemo() {
		t.background("resuming AI access", func(ctx context.Context) error {
			return t.svc.Resume(ctx, localapi.KillRequest{Source: control.SourceTray})
		})
		return
	}
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	OpenResume(ctx, t.cfg.Deps, st.Service.User.Name, t.cfg.Spawn)
}

// background runs a menu action off the UI thread; a failure shows in a
// notification. The status updates itself from the service's events.
func (t *Tray) background(what string, fn func(context.Context) error) {
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	go func() {
		err := fn(ctx)
		if err == nil {
			t.render()
			return
		}
		if app.Unreachable(err) {
			err = fmt.Errorf("%s: %s", what, app.NotRunning(t.cfg.Deps.Demo))
		} else {
			err = fmt.Errorf("%s: %w", what, err)
		}
		t.cfg.Deps.App.SendNotification(fyne.NewNotification("Scispot MCP", err.Error()))
	}()
}

func (t *Tray) about() {
	d := t.cfg.Deps
	w := d.App.NewWindow("About Scispot MCP")
	icon := canvas.NewImageFromResource(AppIcon())
	icon.SetMinSize(fyne.NewSize(64, 64))
	icon.FillMode = canvas.ImageFillContain
	title := widget.NewLabel("Scispot MCP Desktop " + d.Version)
	title.TextStyle.Bold = true
	text := "AI clients on your Scispot workspace, under your lab's policy."
	st := t.Status()
	if dev := st.Service.Device; dev != "" {
		text += "\nDevice " + dev
	}
	if svc := st.Service.Service; svc.Version != "" {
		text += "\nService scispot-mcpd " + svc.Version + " (" + svc.Mode + ")"
	}
	body := widget.NewLabel(text)
	body.Wrapping = fyne.TextWrapWord
	ok := widget.NewButton("Close", w.Close)
	ok.Importance = widget.HighImportance
	w.SetContent(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), ok), container.NewPadded(icon), nil,
		container.NewVBox(title, body)))
	w.Resize(fyne.NewSize(460, 200))
	w.Show()
	w.Canvas().Focus(ok)
}
