package confirm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Ask writes req into dir and waits for the person's answer, until ctx
// ends. No answer in time is a denial: the Answer has Approved false and
// TimedOut true, and the error matches ErrNoAnswer. Either way both files
// are removed before Ask returns, which tells the tray to close its dialog.
// An empty req.ID or req.Time is filled in.
func Ask(ctx context.Context, dir string, req Request) (Answer, error) {
	if req.ID == "" {
		req.ID = NewID()
	}
	denied := Answer{ID: req.ID}
	if err := CheckID(req.ID); err != nil {
		return denied, fmt.Errorf("asking for confirmation: %w", err)
	}
	if req.Time.IsZero() {
		req.Time = time.Now().UTC()
	}
	if err := ensureDir(dir); err != nil {
		return denied, err
	}
	// Watch before writing, so an answer cannot slip in unseen.
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return denied, fmt.Errorf("asking for confirmation: watching for the answer: %w", err)
	}
	defer fw.Close()
	if err := fw.Add(dir); err != nil {
		return denied, fmt.Errorf("asking for confirmation: watching for the answer: %w", err)
	}

	reqPath, ansPath := requestPath(dir, req.ID), answerPath(dir, req.ID)
	defer func() {
		// The answer first: Respond reads "request gone, answer still
		// there" as an answer nobody took. The request's disappearance
		// then closes the tray's dialog.
		_ = os.Remove(ansPath)
		_ = os.Remove(reqPath)
	}()
	if err := writeAtomic(reqPath, req); err != nil {
		return denied, fmt.Errorf("asking for confirmation: writing the request: %w", err)
	}

	var bad error // the last unusable answer file, for the timeout error
	check := func() (Answer, bool) {
		b, err := readFile(ansPath)
		if errors.Is(err, fs.ErrNotExist) {
			return Answer{}, false
		}
		if err != nil {
			bad = err
			return Answer{}, false
		}
		a, err := ParseAnswer(b)
		if err == nil && a.ID != req.ID {
			err = fmt.Errorf("%w: the answer is for request %q", ErrInvalid, a.ID)
		}
		if err != nil {
			bad = err
			return Answer{}, false
		}
		return a, true
	}
	if a, ok := check(); ok {
		return a, nil
	}
	answerName := filepath.Base(ansPath)
	for {
		select {
		case ev, ok := <-fw.Events:
			if !ok {
				return denied, fmt.Errorf("asking for confirmation: the folder watch ended")
			}
			if filepath.Base(ev.Name) != answerName || ev.Has(fsnotify.Remove) {
				continue
			}
			if a, ok := check(); ok {
				return a, nil
			}
		case <-fw.Errors:
			// Events may have been lost (overflow): look directly.
			if a, ok := check(); ok {
				return a, nil
			}
		case <-ctx.Done():
			if a, ok := check(); ok { // it may have landed just now
				return a, nil
			}
			denied.TimedOut = true
			err := fmt.Errorf("%w: %w", ErrNoAnswer, context.Cause(ctx))
			if bad != nil {
				err = fmt.Errorf("%w (an unusable answer was found: %w)", err, bad)
			}
			return denied, err
		}
	}
}

// Respond writes the answer to request id. It returns an error matching
// ErrNoRequest when that request is no longer waiting.
func Respond(dir, id string, approved bool, by string) error {
	return respond(dir, Answer{ID: id, Approved: approved, By: by, At: time.Now().UTC()})
}

func respond(dir string, a Answer) error {
	if err := CheckID(a.ID); err != nil {
		return fmt.Errorf("answering a confirmation: %w", err)
	}
	reqPath := requestPath(dir, a.ID)
	if _, err := os.Stat(reqPath); err != nil {
		return fmt.Errorf("answering confirmation %s: %w", a.ID, ErrNoRequest)
	}
	ansPath := answerPath(dir, a.ID)
	if err := writeAtomic(ansPath, a); err != nil {
		return fmt.Errorf("answering confirmation %s: %w", a.ID, err)
	}
	// The asker removes the answer before the request once it is done.
	// A request that is gone while the answer is still here was given up
	// before the answer arrived: leave no orphan behind. (An asker that
	// gives up in the instant between this write and its clean-up is not
	// told apart from one that read the answer; it denies either way.)
	if _, err := os.Stat(reqPath); errors.Is(err, fs.ErrNotExist) {
		if _, err := os.Stat(ansPath); err == nil {
			_ = os.Remove(ansPath)
			return fmt.Errorf("answering confirmation %s: %w", a.ID, ErrNoRequest)
		}
	}
	return nil
}
