//go:build dragonfly || freebsd || netbsd || openbsd

package upstream

// The CA bundle files and folders crypto/x509 reads on the BSDs
// (crypto/x509/root_bsd.go).
var (
	rootFiles = []string{
		"/usr/local/etc/ssl/cert.pem",            // FreeBSD
		"/etc/ssl/cert.pem",                      // OpenBSD
		"/usr/local/share/certs/ca-root-nss.crt", // DragonFly
		"/etc/openssl/certs/ca-certificates.crt", // NetBSD
	}
	rootDirs = []string{
		"/etc/ssl/certs",         // FreeBSD 12.2+
		"/usr/local/share/certs", // FreeBSD
		"/etc/openssl/certs",     // NetBSD
	}
)
