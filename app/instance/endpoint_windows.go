package instance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// addrName holds "127.0.0.1:PORT SECRET". It lives in the per-user state
// folder, which only the user can read, so the secret proves a request
// comes from the same user.
const addrName = "tray.addr"

func listen(dir string) (net.Listener, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	secret := hex.EncodeToString(b)
	content := ln.Addr().String() + " " + secret + "\n"
	if err := os.WriteFile(filepath.Join(dir, addrName), []byte(content), 0o600); err != nil {
		ln.Close()
		return nil, "", err
	}
	return ln, secret, nil
}

func dial(ctx context.Context, dir string) (net.Conn, string, error) {
	b, err := os.ReadFile(filepath.Join(dir, addrName))
	if err != nil {
		return nil, "", err
	}
	addr, secret, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok || secret == "" {
		return nil, "", fmt.Errorf("%s is damaged", addrName)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host != "127.0.0.1" {
		return nil, "", fmt.Errorf("%s does not name a loopback address", addrName)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	return c, secret, err
}

func cleanup(dir string) { os.Remove(filepath.Join(dir, addrName)) }
