package apptest

import (
	"testing"
	"time"
)

// UI stands for the app's UI goroutine in a test. Fyne's test driver runs
// fyne.Do at once on whichever goroutine calls it, so a background
// goroutine would touch widgets while the test does; code that takes a
// Do function gets UI.Do instead, and the test goroutine runs what was
// queued in Until, as the real driver's loop would.
type UI struct{ q chan func() }

// NewUI returns an empty queue.
func NewUI() *UI { return &UI{q: make(chan func(), 1024)} }

// Do queues f for the test goroutine.
func (u *UI) Do(f func()) { u.q <- f }

// Until runs queued functions on the calling (test) goroutine until cond
// holds, for up to 20 s.
func (u *UI) Until(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	for !cond() {
		select {
		case f := <-u.q:
			f()
		case <-time.After(5 * time.Millisecond):
		case <-deadline.C:
			t.Fatalf("never happened: %s", what)
		}
	}
}

// Drain runs what is queued now.
func (u *UI) Drain() {
	for {
		select {
		case f := <-u.q:
			f()
		default:
			return
		}
	}
}
