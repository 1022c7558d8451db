//go:build !darwin && !windows && !linux && !dragonfly && !freebsd && !netbsd && !openbsd

package upstream

// No known CA bundle here: the pool is empty and nothing is trusted
// (the service does not run on these systems).
var rootFiles, rootDirs []string
