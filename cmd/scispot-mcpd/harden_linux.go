package main

import "golang.org/x/sys/unix"

// harden keeps the service's memory (the service key, opened tokens, the
// passwords it checks) out of core files and away from ptrace and
// /proc/<pid>/mem of anyone but root.
func harden() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{}); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
}
