// Package account names the OS account running this process, in every
// form an admin may write in the policy's AuthorizedUsers.
package account

import (
	"errors"
	"fmt"
	"strings"
)

// Account is the current OS account.
type Account struct {
	// Name is how status and audit records show the account: the login
	// name on macOS and Linux, DOMAIN\user on Windows.
	Name string
	// Aliases are the other names the same account answers to in policy:
	// on Windows the user principal name (user@corp.example) when the
	// machine is domain-joined.
	Aliases []string
}

// Current returns the account running this process.
func Current() (Account, error) {
	name, err := currentName()
	if err != nil {
		return Account{}, fmt.Errorf("finding the current OS account: %w", err)
	}
	if name == "" {
		return Account{}, errors.New("finding the current OS account: the OS returned an empty name")
	}
	return Account{Name: name, Aliases: platformAliases()}, nil
}

// ForUID returns the account of a Unix uid, as the workstation service
// learns it from a caller's peer credentials. The name comes from the
// system's account database, never from the caller.
func ForUID(uid int) (Account, error) {
	name, err := nameForUID(uid)
	if err != nil {
		return Account{}, fmt.Errorf("finding the OS account of uid %d: %w", uid, err)
	}
	if name == "" {
		return Account{}, fmt.Errorf("finding the OS account of uid %d: the OS returned an empty name", uid)
	}
	return Account{Name: name}, nil
}

// Authorized reports whether the account is named in allowed
// (case-insensitive). An empty list allows every account.
func (a Account) Authorized(allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, want := range allowed {
		want = strings.TrimSpace(want)
		if strings.EqualFold(want, a.Name) {
			return true
		}
		for _, alias := range a.Aliases {
			if strings.EqualFold(want, alias) {
				return true
			}
		}
	}
	return false
}
