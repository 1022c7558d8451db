package codesign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// codesignPath is Apple's codesign(1), which is on every Mac; reading a
// signature without it would mean parsing Mach-O and CMS here, or
// Security.framework through cgo, which the service does not use.
const codesignPath = "/usr/bin/codesign"

// signer runs codesign -d, which prints the signature's details without
// verifying the code against it (that would mean hashing a whole app
// bundle, far too slow for a session start).
func signer(ctx context.Context, path string) (string, error) {
	// A line break in the path would let the file's name add lines to
	// codesign's output (parseCodesign also guards against that).
	if strings.ContainsAny(path, "\r\n") {
		return "", errors.New("the path contains a line break")
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, codesignPath, "-dv", "--verbose=2", path)
	cmd.Env = []string{"PATH=/usr/bin:/bin:/usr/sbin:/sbin", "LC_ALL=C"}
	cmd.Stderr = &stderr
	cmd.WaitDelay = 100 * time.Millisecond
	err := cmd.Run()
	if ctx.Err() != nil {
		return "", fmt.Errorf("%s: %w", codesignPath, ctx.Err())
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return "", fmt.Errorf("running %s: %w", codesignPath, err)
	}
	s, err := parseCodesign(stderr.Bytes(), err == nil)
	if err != nil {
		return "", err
	}
	return s.String(), nil
}
