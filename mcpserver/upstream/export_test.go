package upstream

// Internals for the tests in package upstream_test.
var (
	NewTransport   = newTransport
	SystemRootPool = systemRootPool
	LoadRoots      = loadRoots
)
