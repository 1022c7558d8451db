package audit

// ProcessAlive reports whether a process with this id is running. Feed uses
// it (unless FeedOptions.Alive replaces it) to tell a live session from one
// whose process died without writing session.end.
//
// Process ids are reused, so a long-dead session can look alive if an
// unrelated process got its id; Sessions therefore also requires that the
// session's file has no session.end.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return processAlive(pid)
}
