package validation

import "errors"

const systemOwner = "SYSTEM"

// checkEndpoint: the named pipe's security is not inspected yet.
func checkEndpoint(string) error {
	return errors.New("checking the named pipe's owner is not implemented on Windows yet")
}
