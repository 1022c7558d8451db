//go:build !linux

package account

import "os/user"

// currentName asks the OS: on macOS and Windows os/user calls the system
// libraries with or without cgo.
func currentName() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}
