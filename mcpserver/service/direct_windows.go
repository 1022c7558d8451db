package service

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/registry"
)

// stateAccount is how the periodic check names an account: its SID, from
// the name of its folder in the service's state (users/sid-S-1-5-…).
type stateAccount = string

// folderAccount is the account of a users/ folder, if it names one.
func folderAccount(folder string) (stateAccount, bool) {
	sid, ok := strings.CutPrefix(folder, "sid-")
	if !ok {
		return "", false
	}
	if _, err := windows.StringToSid(sid); err != nil {
		return "", false
	}
	return sid, true
}

// profileList holds every local profile's folder by SID; only
// administrators can write it.
const profileList = `SOFTWARE\Microsoft\Windows NT\CurrentVersion\ProfileList\`

// accountHome returns the profile folder and domain\name of the account
// sid, from the registry's profile list (an account that never logged on
// here has none).
func accountHome(sid stateAccount) (home, name string, err error) {
	s, err := windows.StringToSid(sid)
	if err != nil {
		return "", "", fmt.Errorf("%q is not a SID: %w", sid, err)
	}
	if account, domain, _, err := s.LookupAccount(""); err == nil {
		name = account
		if domain != "" {
			name = domain + `\` + account
		}
	} else {
		name = sid
	}
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, profileList+s.String(), registry.QUERY_VALUE)
	if err != nil {
		return "", "", fmt.Errorf("finding the profile folder of %s: %w", sid, err)
	}
	defer k.Close()
	raw, _, err := k.GetStringValue("ProfileImagePath")
	if err != nil {
		return "", "", fmt.Errorf("finding the profile folder of %s: %w", sid, err)
	}
	// Usually %SystemDrive%\Users\name: the service's environment, not
	// the person's, expands it.
	h, err := registry.ExpandString(raw)
	if err != nil {
		return "", "", fmt.Errorf("expanding the profile folder of %s (%q): %w", sid, raw, err)
	}
	h = filepath.Clean(h)
	if !filepath.IsAbs(h) || filepath.Dir(h) == h {
		return "", "", fmt.Errorf("%s has no usable profile folder (%q)", sid, raw)
	}
	return h, name, nil
}

// machineOwners may own a machine-level file: SYSTEM, Administrators and
// TrustedInstaller (which owns what an installer put under Program Files).
var machineOwners = []string{"S-1-5-18", "S-1-5-32-544",
	"S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"}

// ownedReader reads a client config for the service, which runs as
// LocalSystem, so that the person cannot make it read what they could
// not: a person's file must be a regular file the account owns, opened
// without following a symbolic link or junction at its last step; a
// machine-level file must be owned by SYSTEM, Administrators or
// TrustedInstaller. Reads are bounded.
func ownedReader(sid stateAccount) func(string, bool) ([]byte, error) {
	return func(p string, machine bool) ([]byte, error) {
		name, err := windows.UTF16PtrFromString(p)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		// No FILE_FLAG_BACKUP_SEMANTICS: the file's own access control
		// applies to the service too (it also refuses folders).
		h, err := windows.CreateFile(name, windows.GENERIC_READ,
			windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, nil,
			windows.OPEN_EXISTING, windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: p, Err: err}
		}
		f := os.NewFile(uintptr(h), p)
		defer f.Close()
		var info windows.ByHandleFileInformation
		if err := windows.GetFileInformationByHandle(h, &info); err != nil {
			return nil, &os.PathError{Op: "stat", Path: p, Err: err}
		}
		if t, err := windows.GetFileType(h); err != nil || t != windows.FILE_TYPE_DISK {
			return nil, fmt.Errorf("%s is not a regular file; not read", p)
		}
		switch {
		case info.FileAttributes&windows.FILE_ATTRIBUTE_REPARSE_POINT != 0:
			return nil, fmt.Errorf("%s is a symbolic link or junction; the service does not follow it", p)
		case info.FileAttributes&windows.FILE_ATTRIBUTE_DIRECTORY != 0:
			return nil, fmt.Errorf("%s is not a regular file; not read", p)
		case int64(info.FileSizeHigh)<<32|int64(info.FileSizeLow) > maxConfigBytes:
			return nil, fmt.Errorf("%s is larger than %d bytes; not read", p, maxConfigBytes)
		}
		sd, err := windows.GetSecurityInfo(h, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
		if err != nil {
			return nil, fmt.Errorf("reading the owner of %s: %w", p, err)
		}
		owner, _, err := sd.Owner()
		if err != nil || owner == nil {
			return nil, fmt.Errorf("%s has no owner; not read", p)
		}
		got := owner.String()
		switch {
		case machine && !slices.ContainsFunc(machineOwners, func(o string) bool { return strings.EqualFold(o, got) }):
			return nil, fmt.Errorf("%s belongs to %s, not to an administrator; not read", p, got)
		case !machine && !strings.EqualFold(got, sid):
			return nil, fmt.Errorf("%s belongs to %s, not %s; not read", p, got, sid)
		}
		b, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		if len(b) > maxConfigBytes {
			return nil, fmt.Errorf("%s is larger than %d bytes; not read", p, maxConfigBytes)
		}
		return b, nil
	}
}
