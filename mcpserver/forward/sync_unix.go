//go:build !windows

package forward

import (
	"fmt"
	"os"
)

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing the delivery cursor folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing the delivery cursor folder: %w", err)
	}
	return nil
}
