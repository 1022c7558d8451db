//go:build !linux && !darwin && !windows

package statedir

// Other Unix desktops (the BSDs) follow the XDG spec like Linux.
func platformDir(env Env) (string, error) {
	return xdgDir(env.getenv("XDG_STATE_HOME"), env.Home)
}

const serviceDir = "/var/lib/scispot-mcp"
