package upstream

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// systemRoots is the CA pool the remote upstream (and an https proxy) is
// verified against, loaded once per process. nil means the operating
// system's own verifier (macOS, Windows), which reads no environment
// variable.
var systemRoots = sync.OnceValue(systemRootPool)

// loadRoots reads the system's CA certificates the way crypto/x509 does on
// Unix systems other than macOS — the first bundle of files that can be
// read, then every file in dirs — but from these fixed places only: Go's
// own loader lets SSL_CERT_FILE and SSL_CERT_DIR replace them, and the
// service must not trust a CA that an environment variable names (an AI
// client's server entry can set one, and with it a man in the middle would
// receive the user's token). A pool with no certificate trusts nothing:
// connections then fail as "not trusted", which is failing closed.
func loadRoots(files, dirs []string) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			pool.AppendCertsFromPEM(data)
			break
		}
	}
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range entries {
			if sameDirLink(dir, e) {
				continue // a hash name for a certificate read under its own name
			}
			if data, err := os.ReadFile(filepath.Join(dir, e.Name())); err == nil {
				pool.AppendCertsFromPEM(data)
			}
		}
	}
	return pool
}

// sameDirLink reports whether e is a symbolic link to a name in the same
// folder, as c_rehash makes them; crypto/x509 skips those too.
func sameDirLink(dir string, e os.DirEntry) bool {
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	target, err := os.Readlink(filepath.Join(dir, e.Name()))
	return err == nil && !strings.Contains(target, "/")
}
