//go:build !linux

package account

import (
	"os/user"
	"strconv"
)

// currentName asks the OS: on macOS and Windows os/user calls the system
// libraries with or without cgo.
func currentName() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

func nameForUID(id int) (string, error) {
	u, err := user.LookupId(strconv.Itoa(id))
	if err != nil {
		return "", err
	}
	return u.Username, nil
}
