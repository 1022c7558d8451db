//go:build !unix && !windows

package localsock

import (
	"context"
	"fmt"
	"net"
)

func listen(path string) (net.Listener, error) {
	return nil, fmt.Errorf("listening on %s: %w", path, ErrUnsupported)
}

func dial(_ context.Context, path string) (net.Conn, error) {
	return nil, fmt.Errorf("connecting to %s: %w", path, ErrUnsupported)
}
