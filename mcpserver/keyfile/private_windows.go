package keyfile

import (
	"fmt"
	"os"
)

// CheckPrivate on Windows relies on the ACL of the service's folder under
// %ProgramData%, which the installer restricts to SYSTEM and
// Administrators; it checks only that the key is a regular file.
func CheckPrivate(path, what string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("checking %s: %w", what, err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s %s is not a regular file", what, path)
	}
	return nil
}
