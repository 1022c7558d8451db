package validationrun

import (
	"bufio"
	"bytes"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
)

// FolderName is the report folder's name inside the documents folder.
const FolderName = "Scispot validation"

// OperatorName is the OS account's full name, or "" when the system keeps
// none: the form starts with it so the operator usually only confirms.
func OperatorName() string {
	u, err := user.Current()
	if err != nil {
		return ""
	}
	// On Unix the full name is the GECOS field's first part
	// ("Ann Smith,Room 4,,").
	name, _, _ := strings.Cut(u.Name, ",")
	return strings.TrimSpace(name)
}

// Env is where DefaultFolder looks; FromOS is this process's.
type Env struct {
	Home     string
	Getenv   func(string) string
	ReadFile func(string) ([]byte, error)
}

// FromOS is the process's environment and files.
func FromOS() Env {
	home, _ := os.UserHomeDir()
	return Env{Home: home, Getenv: os.Getenv, ReadFile: os.ReadFile}
}

// DefaultFolder is FolderName inside the person's documents folder: the
// XDG documents folder where the desktop names one (it is translated on
// many Linux desktops, e.g. ~/Dokumente), else ~/Documents.
func DefaultFolder(env Env) string {
	return filepath.Join(documents(env), FolderName)
}

func documents(env Env) string {
	if d := expandHome(env.Getenv("XDG_DOCUMENTS_DIR"), env.Home); filepath.IsAbs(d) {
		return d
	}
	config := env.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(config) {
		config = filepath.Join(env.Home, ".config")
	}
	if b, err := env.ReadFile(filepath.Join(config, "user-dirs.dirs")); err == nil {
		if d := userDir(b, "XDG_DOCUMENTS_DIR", env.Home); d != "" {
			return d
		}
	}
	return filepath.Join(env.Home, "Documents")
}

// userDir reads key from xdg-user-dirs' file: shell assignments such as
// XDG_DOCUMENTS_DIR="$HOME/Documents", where $HOME is the only variable
// and relative paths are not allowed.
func userDir(b []byte, key, home string) string {
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || k != key {
			continue
		}
		if u, err := strconv.Unquote(v); err == nil {
			v = u
		}
		if d := expandHome(v, home); filepath.IsAbs(d) && filepath.Clean(d) != filepath.Clean(home) {
			return d
		}
		// "$HOME/" alone means the desktop has no documents folder.
		return ""
	}
	return ""
}

func expandHome(v, home string) string {
	switch {
	case v == "$HOME":
		return home
	case strings.HasPrefix(v, "$HOME/"):
		return filepath.Join(home, v[len("$HOME/"):])
	}
	return v
}
