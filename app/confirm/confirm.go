// Package confirm shows the tray's write-signature dialogs. When a write
// needs the person's signature and the AI client cannot ask (no MCP
// elicitation or input_required), the workstation service asks the tray
// through its event stream ("confirm"); the dialog shows which client
// wants to run which tool on what, the change, the value it changes,
// whether it is destructive and how long is left. The person signs with
// a meaning (policy SignatureMeanings, e.g. Approved or Rejected), a
// reason for the change and the account password, which the service
// checks: the signature record then says it was verified. Deny refuses
// without signing and needs nothing. No answer before the deadline is a
// denial; the dialog closes when the service says the request is done
// ("confirm.done").
package confirm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Prompt is what a dialog says about a request.
type Prompt struct {
	Title  string
	Client string
	Tool   string
	Target string
	Change string
	// Current is the value the write changes, as Scispot has it now.
	Current string
	// Warning is set for a destructive change and shown in red.
	Warning string
	// Deadline is when the request stops waiting.
	Deadline time.Time
	// Password: approving needs the account password (the system service
	// checks it; its demo instance asks none). Account names whose.
	Password bool
	Account  string
	// Meanings are what a signature may mean (policy SignatureMeanings);
	// ReasonRequired: a signature must carry a reason for the change.
	Meanings       []string
	ReasonRequired bool
}

// signLabel is the text of the button that signs with meaning.
func signLabel(meaning string) string {
	if meaning == "" {
		return "Sign"
	}
	return "Sign: " + meaning
}

// PromptFor describes c for the person; password says whether approving
// asks for the password of account.
func PromptFor(c localapi.Confirmation, password bool, account string) Prompt {
	p := Prompt{
		Title:          "Sign this change in Scispot?",
		Client:         strings.TrimSpace(c.ClientName + " " + c.ClientVersion),
		Tool:           c.Tool,
		Target:         c.Target,
		Change:         strings.TrimSuffix(strings.TrimPrefix(c.Change, "Change — "), "."),
		Current:        c.Current,
		Deadline:       c.Deadline,
		Password:       password,
		Account:        account,
		Meanings:       c.Meanings,
		ReasonRequired: c.ReasonRequired,
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
	if c.Destructive {
		p.Title = "Sign this destructive change in Scispot?"
		p.Warning = "Destructive: this deletes or overwrites data in Scispot and may not be undoable."
	}
	return p
}

// Lines are the prompt's facts as label/value pairs, in order.
func (p Prompt) Lines() [][2]string {
	return [][2]string{{"AI client", p.Client}, {"Tool", p.Tool}, {"Target", p.Target}, {"Change", p.Change}}
}

// PasswordHint says whose password signing needs, and what a signature
// records.
func (p Prompt) PasswordHint() string {
	who := "your account"
	if p.Account != "" {
		who = "the account " + p.Account
	}
	return "To sign, type the password of " + who + ". The Scispot MCP service checks it and records your name, the time, the meaning and the reason with the change; denying needs none."
}

// Countdown is the line that says how long is left at now.
func (p Prompt) Countdown(now time.Time) string {
	left := p.Deadline.Sub(now).Round(time.Second)
	if left <= 0 {
		return "Time is up: the change is denied."
	}
	return fmt.Sprintf("No answer in %d s denies it.", int(left.Seconds()))
}

// Controller shows one window per pending request. Its methods must run
// on the UI goroutine (Run hands them over with Do).
type Controller struct {
	App fyne.App
	// Service takes the answers.
	Service app.Service
	// Password: approving asks for the account password; false for the
	// account's demo instance, which checks none. Account names it.
	Password bool
	Account  string
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// AfterFunc schedules the close at the deadline; nil means
	// time.AfterFunc.
	AfterFunc func(d time.Duration, f func())
	// Every calls f every d until stop, for the countdown; nil means a
	// time.Ticker (f runs through Do).
	Every func(d time.Duration, f func()) (stop func())
	// Spawn runs an answer off the UI goroutine (go f() when nil; tests
	// run it in place). Its result comes back through Do.
	Spawn func(func())
	// Shown, if set, is called with each dialog once it shows.
	Shown func(id string, w fyne.Window)
	// Do runs a function on the UI goroutine (fyne.Do when nil).
	Do func(func())

	windows map[string]*dialog
}

// dialog is one open request.
type dialog struct {
	win fyne.Window
	// answered: nothing more is sent for it (answered, or the service
	// said it is done).
	answered bool
	stop     func()
}

func (c *Controller) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Controller) do(f func()) {
	if c.Do != nil {
		c.Do(f)
		return
	}
	fyne.Do(f)
}

func (c *Controller) spawn(f func()) {
	if c.Spawn != nil {
		c.Spawn(f)
		return
	}
	go f()
}

func (c *Controller) every(d time.Duration, f func()) func() {
	if c.Every != nil {
		return c.Every(d, f)
	}
	t := time.NewTicker(d)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-t.C:
				c.do(f)
			}
		}
	}()
	return func() { t.Stop(); close(done) }
}

// Show opens the dialog for r (once per id).
func (c *Controller) Show(r localapi.Confirmation) {
	if c.windows == nil {
		c.windows = map[string]*dialog{}
	}
	if _, ok := c.windows[r.ID]; ok {
		return
	}
	p := PromptFor(r, c.Password, c.Account)
	w := c.App.NewWindow(p.Title)
	dl := &dialog{win: w}
	c.windows[r.ID] = dl

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
	if p.Current != "" {
		cur := widget.NewLabel(p.Current)
		cur.Wrapping = fyne.TextWrapWord
		scroll := container.NewVScroll(cur)
		scroll.SetMinSize(fyne.NewSize(0, 90))
		body.Add(widget.NewLabelWithStyle("Current value in Scispot", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}))
		body.Add(scroll)
	}
	var meaning *widget.Select
	var reason, password *widget.Entry
	sign := widget.NewButton(signLabel(""), nil)
	signForm := widget.NewForm()
	if len(p.Meanings) > 0 {
		meaning = widget.NewSelect(p.Meanings, func(m string) { sign.SetText(signLabel(m)) })
		meaning.SetSelected(p.Meanings[0])
		signForm.Append("Meaning", meaning)
	}
	reason = widget.NewMultiLineEntry()
	reason.SetMinRowsVisible(2)
	reason.Wrapping = fyne.TextWrapWord
	reasonLabel := "Reason"
	if p.ReasonRequired {
		reason.SetPlaceHolder("Why this change is made (required)")
		reasonLabel = "Reason *"
	} else {
		reason.SetPlaceHolder("Why this change is made")
	}
	signForm.Append(reasonLabel, reason)
	if p.Password {
		hint := widget.NewLabel(p.PasswordHint())
		hint.Wrapping = fyne.TextWrapWord
		body.Add(hint)
		password = widget.NewPasswordEntry()
		password.SetPlaceHolder("Password")
		signForm.Append("Password", password)
	}
	body.Add(signForm)
	problem := widget.NewLabel("")
	problem.Importance = widget.DangerImportance
	problem.Wrapping = fyne.TextWrapWord
	problem.Hide()
	body.Add(problem)
	countdown := widget.NewLabel(p.Countdown(c.now()))
	countdown.Importance = widget.LowImportance
	body.Add(countdown)

	deny := widget.NewButton("Deny", nil)
	sign.Importance = widget.HighImportance
	if p.Warning != "" {
		sign.Importance = widget.DangerImportance
	}
	body.Add(container.NewHBox(layout.NewSpacer(), deny, sign))

	denyIt := func() {
		if dl.answered {
			return
		}
		dl.answered = true
		c.spawn(func() { c.answer(localapi.Answer{ID: r.ID}) })
		c.close(r.ID)
	}
	// incomplete says what the form lacks; fail, what the service said,
	// and asks for the password again.
	incomplete := func(msg string) {
		problem.SetText(msg)
		problem.Show()
	}
	fail := func(msg string) {
		problem.SetText(msg)
		problem.Show()
		sign.Enable()
		deny.Enable()
		if password != nil {
			password.SetText("")
			w.Canvas().Focus(password)
		}
	}
	signIt := func() {
		if dl.answered {
			return
		}
		a := localapi.Answer{ID: r.ID, Approved: true, Reason: strings.TrimSpace(reason.Text)}
		if meaning != nil {
			a.Meaning = meaning.Selected
			if a.Meaning == "" {
				incomplete("Choose what your signature means.")
				return
			}
		}
		if p.ReasonRequired && a.Reason == "" {
			incomplete("Say why this change is made: the signature must carry a reason.")
			w.Canvas().Focus(reason)
			return
		}
		if password != nil {
			a.Password = password.Text
		}
		sign.Disable()
		deny.Disable()
		c.spawn(func() {
			err := c.answer(a)
			c.do(func() {
				var apiErr *localapi.Error
				switch {
				case dl.answered:
				case err == nil, errors.As(err, &apiErr) && (apiErr.Status == http.StatusNotFound || apiErr.Status == http.StatusConflict):
					// Signed, or no longer waiting: nothing to ask.
					dl.answered = true
					c.close(r.ID)
				case errors.As(err, &apiErr):
					fail(apiErr.Sentence)
				case app.Unreachable(err):
					fail(app.NotRunning(false))
				default:
					fail(fmt.Sprintf("The signature could not be given: %v", err))
				}
			})
		})
	}
	deny.OnTapped = denyIt
	sign.OnTapped = signIt
	if password != nil {
		password.OnSubmitted = func(string) { signIt() }
	}
	w.SetContent(container.NewPadded(body))
	w.Resize(fyne.NewSize(520, 0))
	// Escape or closing the window is a denial; Deny has the focus, so
	// Space or Enter never signs by accident.
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			denyIt()
		}
	})
	w.SetOnClosed(func() {
		if dl.stop != nil {
			dl.stop()
		}
		if c.windows[r.ID] == dl {
			delete(c.windows, r.ID)
		}
		if !dl.answered {
			dl.answered = true
			c.spawn(func() { c.answer(localapi.Answer{ID: r.ID}) })
		}
	})
	w.Show()
	w.Canvas().Focus(deny)
	w.RequestFocus()
	if c.Shown != nil {
		c.Shown(r.ID, w)
	}

	dl.stop = c.every(time.Second, func() { countdown.SetText(p.Countdown(c.now())) })
	after := c.AfterFunc
	if after == nil {
		after = func(d time.Duration, f func()) { time.AfterFunc(d, f) }
	}
	// The service ends the request at its deadline and says so; this
	// closes the dialog even if that word never comes.
	after(p.Deadline.Sub(c.now()), func() { c.do(func() { c.Gone(r.ID) }) })
}

// answer sends a to the service; a denial of a request that is no longer
// waiting is not worth a word.
func (c *Controller) answer(a localapi.Answer) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := c.Service.Answer(ctx, a)
	if err != nil && !a.Approved {
		var apiErr *localapi.Error
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
			fyne.LogError("denying a write", err)
		}
	}
	return err
}

// close closes the dialog for id without answering.
func (c *Controller) close(id string) {
	dl, ok := c.windows[id]
	if !ok {
		return
	}
	delete(c.windows, id)
	dl.answered = true
	dl.win.Close()
}

// Gone closes the dialog for id, if it is open: the service says the
// request was answered (here or elsewhere) or timed out.
func (c *Controller) Gone(id string) { c.close(id) }

// Keep closes every dialog whose id is not in ids (requests that ended
// while the tray was not listening).
func (c *Controller) Keep(ids []string) {
	for id := range c.windows {
		found := false
		for _, k := range ids {
			found = found || k == id
		}
		if !found {
			c.close(id)
		}
	}
}

// Open reports how many dialogs are open.
func (c *Controller) Open() int { return len(c.windows) }

// Run follows the service's events until ctx ends and shows a dialog for
// each write waiting for the person. The tray starts it on its own
// goroutine.
func Run(ctx context.Context, d *app.Deps) error {
	return Follow(ctx, d, &Controller{App: d.App, Service: d.Service, Password: true})
}

// Follow is Run with a Controller of the caller's.
func Follow(ctx context.Context, d *app.Deps, c *Controller) error {
	return app.Follow(ctx, d.Service, app.Follower{
		Connected: func(ctx context.Context) {
			st, err := app.ReadStatus(ctx, d.Service, localapi.StatusRequest{})
			if err != nil {
				return
			}
			var pending []string
			for _, p := range st.Pending {
				pending = append(pending, p.ID)
			}
			c.do(func() {
				c.Password = st.Service.Mode != localapi.ModeUserDemo
				c.Account = st.User.Name
				// The service sends what still waits right after this.
				c.Keep(pending)
			})
		},
		Event: func(_ context.Context, e localapi.Event) {
			switch {
			case e.Kind == localapi.EventConfirm && e.Confirm != nil:
				r := *e.Confirm
				c.do(func() { c.Show(r) })
			case e.Kind == localapi.EventConfirmDone:
				c.do(func() { c.Gone(e.ID) })
			}
		},
		Down: func(error) {
			// The sessions that asked went with the service.
			c.do(func() { c.Keep(nil) })
		},
	})
}
