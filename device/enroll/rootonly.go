package enroll

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Which kind of file rootOnly expects at the end of a path.
const (
	wantFile = iota // a regular file
	wantDir         // a folder
)

// notRootError says why a path is not under root's sole control: the path
// (or the folder above it that fails) and the problem, e.g.
// "/var/lib/intune belongs to uid 1000, not root".
type notRootError struct {
	path    string
	problem string
}

func (e *notRootError) Error() string { return e.path + " " + e.problem }

// rootChecker tells whether a path is under root's sole control. Both
// functions come from Options (Lstat, Owner), so the rules are tested
// without root.
type rootChecker struct {
	lstat func(name string) (fs.FileInfo, error)
	owner func(fi fs.FileInfo) (uid uint32, ok bool)
}

// rootOnly checks that path, and every folder above it up to "/", is owned
// by root, not writable by group or others and not a symbolic link, and
// that path itself is a regular file (wantFile) or a folder (wantDir). Only
// then can no ordinary account have created, replaced or changed it.
//
// It returns the path's FileInfo when all of that holds; an error wrapping
// fs.ErrNotExist when some part of the path does not exist (everything
// above the missing part was checked first); a *notRootError naming the
// first part that fails; or the error that stopped the check.
func (c rootChecker) rootOnly(name string, want int) (fs.FileInfo, error) {
	// Slash-separated on every OS: these are Linux paths, and the Linux
	// signals are tested everywhere.
	if !path.IsAbs(name) || path.Clean(name) != name {
		return nil, fmt.Errorf("checking %s: not a clean absolute path", name)
	}
	// The parts of the path from the top: "/", "/var", "/var/lib", …
	parts := []string{"/"}
	for _, elem := range strings.Split(strings.Trim(name, "/"), "/") {
		if elem != "" {
			parts = append(parts, path.Join(parts[len(parts)-1], elem))
		}
	}
	var fi fs.FileInfo
	for i, p := range parts {
		var err error
		fi, err = c.lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist: %w", p, fs.ErrNotExist)
		}
		if err != nil {
			return nil, fmt.Errorf("checking %s: %w", p, err)
		}
		last := i == len(parts)-1
		mode := fi.Mode()
		switch {
		case mode&fs.ModeSymlink != 0:
			return nil, &notRootError{p, "is a symbolic link"}
		case (!last || want == wantDir) && !mode.IsDir():
			return nil, &notRootError{p, "is not a folder"}
		case last && want == wantFile && !mode.IsRegular():
			return nil, &notRootError{p, "is not a regular file"}
		}
		uid, ok := c.owner(fi)
		switch {
		case !ok:
			return nil, &notRootError{p, "has an owner that cannot be determined"}
		case uid != 0:
			return nil, &notRootError{p, fmt.Sprintf("belongs to uid %d, not root", uid)}
		case mode.Perm()&0o022 != 0:
			return nil, &notRootError{p, fmt.Sprintf("is writable by other accounts (mode %04o)", unixMode(mode))}
		}
	}
	return fi, nil
}

// unixMode returns m's permission bits as chmod spells them, with the
// setuid, setgid and sticky bits.
func unixMode(m fs.FileMode) uint32 {
	u := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		u |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		u |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		u |= 0o1000
	}
	return u
}
