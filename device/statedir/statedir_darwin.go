package statedir

func platformDir(env Env) (string, error) {
	return darwinDir(env.Home)
}

const serviceDir = "/Library/Application Support/Scispot MCP"
