package service

import "errors"

// accountHome is not known to the Windows service yet: the periodic check
// for direct connections runs on macOS and Linux; "scispot-mcp status" and
// the tray still look in the person's own files.
func accountHome(uid int) (home, name string, err error) {
	return "", "", errors.New("the periodic check for direct connections is not supported on Windows yet")
}

func ownedReader(uid int) func(string, bool) ([]byte, error) { return nil }
