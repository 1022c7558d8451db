//go:build !linux && !darwin

package main

// harden: on Windows the service runs as LocalSystem, whose process other
// accounts cannot open for reading; nothing more to do here.
func harden() error { return nil }
