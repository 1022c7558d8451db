// Package validationrun is the tray's "Run validation…" window: the
// workstation's IQ/OQ validation (what `scispot-mcp validate` runs) started
// from the Diagnostics window, with the operator's name and the report's
// folder asked first, a progress bar while the cases run, and at the end
// the summary with the report a click away.
//
// The run itself is injected (RunFunc): cmd/ wires validation.Run and
// validation.File with the service client and the keychain's token, so
// the window's states (idle → running → done, failed or cancelled) are
// tested here without a service or a display.
package validationrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/scispot/mcp-desktop/app"
	"github.com/scispot/mcp-desktop/app/validation"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Phase is where a run is.
type Phase int

// Phases.
const (
	Idle Phase = iota // asking for the operator and the folder
	Running
	Done      // the report is filed
	Failed    // no report was filed, or it could not be recorded; Reason says why
	Cancelled // the person cancelled; nothing was filed
)

// Request is what the person gave before the run.
type Request struct {
	// Operator is the name printed in the report as who ran it.
	Operator string
	// Folder receives the report's files; it is made if missing.
	Folder string
	// Password asks the person for account's password, which lifting the
	// kill switch after its OQ case needs; it blocks until they answer
	// and fails if they decline (the case is then skipped). Runner fills
	// it from its asker.
	Password func(account string) (string, error)
}

// Result is what a run produced. When filing failed, DocID and Summary
// are set and Files lists what was written before the failure.
type Result struct {
	DocID   string
	Summary validation.Summary
	// Files are the paths written (JSON first).
	Files []string
}

// RunFunc runs the validation and files its report in req.Folder,
// calling progress after each case. It blocks; cancelling ctx ends it.
type RunFunc func(ctx context.Context, req Request, progress func(done, total int, c validation.Case)) (Result, error)

// CaseLine is a failed case as the window lists it.
type CaseLine struct {
	ID, Title, Actual string
}

// State is what the window shows. It never holds the password.
type State struct {
	Phase Phase
	// Request is what the run was started with (the form's values).
	Operator, Folder string
	// Problem is why the form cannot start a run (an empty name, a
	// folder that cannot be made); the phase stays Idle.
	Problem string

	// Done and Total count the cases; Total is 0 until the first ends.
	Done, Total int
	// Last is the case that ended last.
	Last       CaseLine
	LastResult validation.Result
	// Cancelling: Cancel was pressed and the run is winding down (the
	// kill switch, if set, is lifted first).
	Cancelling bool
	// Failures are the failed cases so far, in order.
	Failures []CaseLine

	// Result is the run's outcome (Done, and Failed when filing failed).
	Result Result
	// Reason is, for Failed, why in one sentence.
	Reason string
}

// Report is the report to open: the HTML rendering, else the first file.
func (s State) Report() string {
	for _, f := range s.Result.Files {
		if strings.EqualFold(filepath.Ext(f), ".html") {
			return f
		}
	}
	if len(s.Result.Files) > 0 {
		return s.Result.Files[0]
	}
	return ""
}

// Runner is the window's model: it runs one validation at a time.
type Runner struct {
	run RunFunc
	// ask is the view's password prompt.
	ask func(ctx context.Context, account string) (string, error)
	app.Observable[State]

	mu     sync.Mutex
	cancel context.CancelFunc
}

// NewRunner returns the model for run; ask prompts for the account
// password (nil: none is given and the kill-switch case is skipped).
func NewRunner(run RunFunc, ask func(ctx context.Context, account string) (string, error)) *Runner {
	return &Runner{run: run, ask: ask}
}

// errNoPassword is why the kill-switch case is skipped without a prompt.
var errNoPassword = errors.New("no password prompt")

// Run checks the form, makes the folder and runs the validation. It
// blocks; the view calls it off the UI thread. A call while a run is
// going does nothing.
func (r *Runner) Run(ctx context.Context, operator, folder string) {
	operator, folder = strings.TrimSpace(operator), strings.TrimSpace(folder)
	problem := ""
	switch {
	case operator == "":
		problem = "Type the name of the person running the validation: the report records it as the operator."
	case folder == "":
		problem = "Choose the folder for the report."
	case !filepath.IsAbs(folder):
		problem = "Choose the report's folder with Choose…, or type its full path."
	default:
		if err := os.MkdirAll(folder, 0o755); err != nil {
			problem = fmt.Sprintf("The folder %s cannot be made (%v); choose another one.", folder, unwrapPath(err))
		} else if fi, err := os.Stat(folder); err != nil || !fi.IsDir() {
			problem = fmt.Sprintf("%s is not a folder; choose another one.", folder)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := false
	r.Update(func(s *State) {
		if s.Phase == Running {
			return
		}
		if problem != "" {
			*s = State{Phase: Idle, Operator: operator, Folder: folder, Problem: problem}
			return
		}
		started = true
		*s = State{Phase: Running, Operator: operator, Folder: folder}
	})
	if !started {
		return
	}
	r.mu.Lock()
	r.cancel = cancel
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		r.cancel = nil
		r.mu.Unlock()
	}()

	req := Request{Operator: operator, Folder: folder, Password: func(account string) (string, error) {
		if r.ask == nil {
			return "", errNoPassword
		}
		return r.ask(ctx, account)
	}}
	res, err := r.run(ctx, req, func(done, total int, c validation.Case) {
		r.Update(func(s *State) {
			s.Done, s.Total = done, total
			s.Last, s.LastResult = line(c), c.Result
			if c.Result == validation.Fail {
				s.Failures = append(s.Failures, line(c))
			}
		})
	})
	r.Update(func(s *State) {
		s.Cancelling = false
		s.Result = res
		switch {
		case ctx.Err() != nil:
			// Whatever the run returned, a cancelled run is not filed as
			// a validation (cmd's RunFunc stops before filing).
			s.Phase = Cancelled
		case err != nil:
			s.Phase, s.Reason = Failed, Reason(err, res)
		default:
			s.Phase = Done
		}
	})
}

// Cancel ends the run in progress.
func (r *Runner) Cancel() {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	r.Update(func(s *State) {
		if s.Phase == Running {
			s.Cancelling = true
		}
	})
	cancel()
}

// Reset goes back to the form, keeping its values.
func (r *Runner) Reset() {
	r.Update(func(s *State) {
		if s.Phase != Running {
			*s = State{Phase: Idle, Operator: s.Operator, Folder: s.Folder}
		}
	})
}

func line(c validation.Case) CaseLine {
	return CaseLine{ID: c.ID, Title: c.Title, Actual: c.Actual}
}

// Reason is why a run failed, in one sentence: the service is down or
// refused, the run could not start, or (res has a DocID) the report ran
// but could not be filed.
func Reason(err error, res Result) string {
	why := cause(err)
	if res.DocID != "" {
		s := res.Summary
		return fmt.Sprintf("Validation %s ran (%d passed, %d failed, %d skipped) but its report could not be filed: %s",
			res.DocID, s.Pass, s.Fail, s.Skip, sentence(why))
	}
	if errors.Is(err, localapi.ErrNoService) {
		return "The Scispot MCP service (scispot-mcpd) is not running on this workstation, so validation cannot run; ask your IT admin to install or start it."
	}
	return "Validation could not run: " + sentence(why)
}

// cause is err as the person reads it: the service's own sentence when it
// refused, a plain phrase when it stopped answering.
func cause(err error) string {
	var apiErr *localapi.Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Sentence
	case errors.Is(err, localapi.ErrNoService):
		return "the Scispot MCP service stopped answering"
	}
	return err.Error()
}

// sentence ends s with a full stop, so a Go error reads as the end of the
// sentence it is put in.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "no reason was given."
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// unwrapPath drops the *PathError's repetition of the path.
func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
