package devicekey

import (
	"fmt"
	"os"
)

// checkPrivate on Windows relies on the ACL of the service's folder under
// %ProgramData%, which the installer restricts to SYSTEM and
// Administrators; it checks only that the key is a regular file.
func checkPrivate(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("checking the device signing key: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("the device signing key %s is not a regular file", path)
	}
	return nil
}
