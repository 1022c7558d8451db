package main

import "golang.org/x/sys/unix"

// harden keeps the service's memory out of core files; a LaunchDaemon
// runs as root, so other accounts cannot attach to it.
func harden() error {
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}
