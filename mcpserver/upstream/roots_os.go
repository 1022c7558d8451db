//go:build darwin || windows

package upstream

import "crypto/x509"

// systemRootPool returns nil: TLS then verifies through the operating
// system (Security.framework, CryptoAPI), which does not read SSL_CERT_FILE
// or SSL_CERT_DIR.
func systemRootPool() *x509.CertPool { return nil }
