package tray

import (
	"context"
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
	"github.com/scispot/mcp-desktop/device/policy"
	"github.com/scispot/mcp-desktop/mcpserver/access"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/control"
)

// DefaultActiveFor is how long the tray shows the active icon after a call.
const DefaultActiveFor = 2 * time.Second

// LocalServer is the loopback HTTP gateway (`serve --http`) the tray can
// start and stop when policy AllowLocalHTTP allows it.
type LocalServer interface {
	Running() bool
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
}

// Config is what a Tray needs. Deps, Open and SetKill are required.
type Config struct {
	Deps *app.Deps
	// Open shows a window by name: app.Window* names, plus "connect".
	Open app.Opener
	// SetKill turns the user's kill switch on or off and records it in
	// the audit trail, the same way `scispot-mcp kill` / `resume` do.
	SetKill func(ctx context.Context, kill bool) error
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
}

// Tray keeps the status current and renders it as the tray icon and menu.
type Tray struct {
	cfg Config
	src access.Sources

	mu       sync.Mutex
	status   Status
	limiter  Limiter
	activeT  *time.Timer // fires once, ActiveFor after the last call
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
	t := &Tray{cfg: cfg, src: cfg.Deps.Sources, ctx: context.Background()}
	t.limiter.Every = cfg.NotifyEvery
	return t
}

// Status is the current status.
func (t *Tray) Status() Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// Init gathers the facts and puts the icon and menu in place. Call it
// once, on the main goroutine, before the app's Run: Fyne starts its
// system tray only when a menu exists by then.
func (t *Tray) Init(ctx context.Context) {
	// Gather also reads the token when it needs it; the tray only keeps
	// the facts (a fingerprint at most), never the token.
	facts, _ := access.Gather(ctx, t.src, t.cfg.Deps.Demo)
	t.mu.Lock()
	t.status.Facts = facts
	t.status.Refusal = refusal(facts)
	t.inited = true
	t.mu.Unlock()
	t.renderWith(func(f func()) { f() })
}

// Run follows the audit feed, the managed policy and the kill switch file
// until ctx is done (calling Init first if that was not done). Nothing
// polls: every update is caused by an event.
func (t *Tray) Run(ctx context.Context) error {
	d := t.cfg.Deps
	feed := d.Feed
	recs, cancel := feed.Subscribe(64)
	defer cancel()
	t.mu.Lock()
	inited := t.inited
	t.ctx = ctx
	t.mu.Unlock()
	if !inited {
		t.Init(ctx)
	}
	t.mu.Lock()
	facts := t.status.Facts
	t.mu.Unlock()

	ctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		stop()
		wg.Wait()
		t.mu.Lock()
		if t.activeT != nil {
			t.activeT.Stop()
		}
		t.mu.Unlock()
	}()
	errs := make(chan error, 2)
	if len(t.src.Policy) > 0 {
		w := &policy.Watcher{Stores: t.src.Policy, Current: facts.Policy, OnChange: func(policy.Snapshot) { t.refreshFacts(ctx, false) }, Logger: d.Logger}
		wg.Go(func() {
			if err := w.Run(ctx); err != nil {
				errs <- fmt.Errorf("watching the managed policy: %w", err)
			}
		})
	}
	var controlChanges <-chan control.Snapshot
	if t.src.ControlFile != "" {
		cw := control.NewWatcher(t.src.ControlFile, control.WithLogger(d.Logger))
		controlChanges = cw.Changes()
		wg.Go(func() {
			if err := cw.Run(ctx); err != nil {
				errs <- fmt.Errorf("watching the kill switch: %w", err)
			}
		})
	}
	select {
	case <-feed.Ready():
	case <-ctx.Done():
		return nil
	}
	t.setSessions(len(feed.Sessions()))
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errs:
			return err
		case <-controlChanges:
			t.refreshFacts(ctx, false)
		case r, ok := <-recs:
			if !ok {
				return nil
			}
			t.onRecord(ctx, r, len(feed.Sessions()))
		}
	}
}

func refusal(f access.Facts) string {
	if r := access.Decide(f); r != nil {
		return r.Sentence
	}
	return ""
}

// refreshFacts re-reads policy, kill switch and enrollment (and the token
// when withToken), and notifies when the admin's kill switch turns on.
func (t *Tray) refreshFacts(ctx context.Context, withToken bool) {
	t.mu.Lock()
	old := t.status.Facts
	t.mu.Unlock()
	var f access.Facts
	if withToken {
		f, _ = access.Gather(ctx, t.src, old.Demo)
	} else {
		f = access.Refresh(ctx, t.src, old)
	}
	if ctx.Err() != nil {
		return
	}
	if PolicyKilled(old, f) {
		t.notify(PolicyKillNote())
	}
	t.mu.Lock()
	t.status.Facts = f
	t.status.Refusal = refusal(f)
	t.mu.Unlock()
	t.render()
}

// PolicyKilled reports whether the admin's kill switch went from off to on
// between two fact sets (an invalid policy is reported as such, not here).
func PolicyKilled(old, now access.Facts) bool {
	return old.Policy.Policy.Enabled && old.Policy.Err == nil &&
		!now.Policy.Policy.Enabled && now.Policy.Err == nil
}

func (t *Tray) setSessions(n int) {
	t.mu.Lock()
	t.status.Sessions = n
	t.mu.Unlock()
	t.render()
}

func (t *Tray) onRecord(ctx context.Context, r audit.Record, sessions int) {
	if n, ok := RecordNote(r); ok {
		t.notify(n)
	}
	switch r.Event {
	case audit.EventTokenSet, audit.EventTokenRemove:
		t.refreshFacts(ctx, true)
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
	}
	t.setSessions(sessions)
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
		t.cfg.Deps.App.SendNotification(fyne.NewNotification(n.Title, n.Body))
	}
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
func (t *Tray) Menu() *fyne.Menu { return t.fyneMenu(t.Status().Menu()) }

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
	case ItemKill:
		return func() {
			t.background("stopping AI access", func(ctx context.Context) error { return t.cfg.SetKill(ctx, true) })
		}
	case ItemResume:
		return func() {
			t.background("resuming AI access", func(ctx context.Context) error { return t.cfg.SetKill(ctx, false) })
		}
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

// background runs a menu action off the UI thread; a failure shows in a
// dialog. The status updates itself through the watchers.
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
		err = fmt.Errorf("%s: %w", what, err)
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
	body := widget.NewLabel("AI clients on your Scispot workspace, under your lab's policy.\nDevice " + d.Device)
	body.Wrapping = fyne.TextWrapWord
	ok := widget.NewButton("Close", w.Close)
	ok.Importance = widget.HighImportance
	w.SetContent(container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), ok), container.NewPadded(icon), nil,
		container.NewVBox(title, body)))
	w.Resize(fyne.NewSize(460, 180))
	w.Show()
	w.Canvas().Focus(ok)
}
