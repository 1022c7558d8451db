package upstream

// The CA bundle files and folders crypto/x509 reads on Linux
// (crypto/x509/root_linux.go): the first file found, then every folder.
var (
	rootFiles = []string{
		"/etc/ssl/certs/ca-certificates.crt",                // Debian, Ubuntu, Gentoo, Arch
		"/etc/pki/tls/certs/ca-bundle.crt",                  // Fedora, RHEL 6
		"/etc/ssl/ca-bundle.pem",                            // openSUSE
		"/etc/pki/tls/cacert.pem",                           // OpenELEC
		"/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // CentOS, RHEL 7 and later
		"/etc/ssl/cert.pem",                                 // Alpine
	}
	rootDirs = []string{
		"/etc/ssl/certs",     // SLES
		"/etc/pki/tls/certs", // Fedora, RHEL
	}
)
