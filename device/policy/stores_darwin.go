package policy

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
)

// DefaultStores returns the policy sources of this system, in order of
// precedence: on macOS, the forced managed preferences of MacDomain, first
// the device's, then the current user's (device wins).
func DefaultStores() []Store {
	device := &FileStore{Path: macManagedPreferencesPath(""), Decode: DecodePlist}
	return []Store{device, userPreferencesStore()}
}

// userPreferencesStore locates the current user's managed preferences. The
// user is looked up by uid, never from $USER, which anyone can set.
func userPreferencesStore() Store {
	uid := strconv.Itoa(os.Getuid())
	u, err := user.LookupId(uid)
	if err != nil {
		return errorStore{
			name: macManagedPreferencesPath("<uid " + uid + ">"),
			err:  fmt.Errorf("looking up the current user for the per-user managed preferences: %w", err),
		}
	}
	if u.Username == "" || strings.ContainsAny(u.Username, "/\x00") || u.Username == "." || u.Username == ".." {
		return errorStore{
			name: macManagedPreferencesPath("<uid " + uid + ">"),
			err:  fmt.Errorf("the current user's name %q cannot name a managed preferences folder", u.Username),
		}
	}
	return &FileStore{Path: macManagedPreferencesPath(u.Username), Decode: DecodePlist}
}
