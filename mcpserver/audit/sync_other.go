//go:build !windows

package audit

import (
	"fmt"
	"os"
)

// syncDir makes a new file's directory entry durable, so a crash right after
// Open cannot lose a file that already holds fsync'd records.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("opening audit folder to sync it: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing audit folder: %w", err)
	}
	return nil
}
