//go:build !linux && !darwin && !windows

package audit

// processAlive cannot tell on this platform; a session without session.end
// is shown as live rather than silently hidden.
func processAlive(int) bool { return true }
