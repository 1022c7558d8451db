// Package keyfile checks the service's private key files before they are
// used: the token-sealing key (package seal) and the device signing key
// (package devicekey) are only as safe as the file that holds them.
package keyfile
