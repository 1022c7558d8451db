//go:build !darwin && !windows

package upstream

import "crypto/x509"

// systemRootPool loads the distribution's CA bundle from the places Go
// itself looks (rootFiles, rootDirs), never from SSL_CERT_FILE or
// SSL_CERT_DIR.
func systemRootPool() *x509.CertPool { return loadRoots(rootFiles, rootDirs) }
