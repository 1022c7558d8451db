package statedir

func platformDir(env Env) (string, error) {
	return xdgDir(env.getenv("XDG_STATE_HOME"), env.Home)
}

const serviceDir = "/var/lib/scispot-mcp"
