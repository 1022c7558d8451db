package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
)

// DefaultMaxFileBytes caps the size of a policy file: a real policy is a few
// hundred bytes, and a huge file is a mistake or an attack.
const DefaultMaxFileBytes = 1 << 20

// FileStore reads policy from one file that only an administrator can
// change. It is the rule of design.md ("Where things live"), because the AI
// agent runs as the user with a shell and nothing that user can write may
// weaken a control:
//
//   - The file must be a regular file, not a symbolic link, owned by root
//     (uid 0) and not writable by group or others.
//   - Every folder above it, up to "/", must be a folder, not a symbolic
//     link, owned by root and not writable by group or others (the sticky
//     bit does not help: a world-writable sticky folder still lets anyone
//     create names in it).
//   - A missing file means "no policy" (the defaults apply) only when every
//     folder above it that exists is root's in the same way; the folders are
//     checked before the file is looked for. Otherwise the policy is invalid
//     even though the file is missing, because another account could have
//     moved or deleted it (or the folder that held it) to drop the admin's
//     settings. A missing folder on the way is fine when the folder above
//     it is root's: only root could create it.
//
// When a rule is broken, Read returns an error wrapping ErrUntrusted (and
// ErrInvalid) that names the file or folder and the problem; Load turns it
// into the snapshot's Err, so callers fail closed.
//
// Linux uses it for the JSON policy file and macOS for the managed
// preferences property lists (which the system writes as root, in folders
// that belong to root).
type FileStore struct {
	// Path is the file's absolute path.
	Path string
	// Decode parses the file's contents; nil means ParseJSON.
	Decode func(data []byte) (Settings, error)
	// Owner returns the uid that owns the file described by fi, and false
	// if it cannot tell. Nil means the operating system's answer; tests set
	// it to check the trust rules without being root.
	Owner func(fi fs.FileInfo) (uid uint32, ok bool)
	// MaxBytes caps the file's size; 0 means DefaultMaxFileBytes.
	MaxBytes int64

	// trustTop is the folder where the check of the folders above the file
	// starts; "" means the top of the file system. Only tests set it (see
	// export_test.go), because the folders above a test's temporary folder
	// are not root's alone.
	trustTop string
}

var (
	_ Store       = (*FileStore)(nil)
	_ PathWatcher = (*FileStore)(nil)
)

// NewFileStore returns a FileStore for the JSON policy file at path.
func NewFileStore(path string) *FileStore { return &FileStore{Path: path} }

// Name returns the file's path.
func (s *FileStore) Name() string { return s.Path }

// WatchPaths returns the file's path.
func (s *FileStore) WatchPaths() []string { return []string{s.Path} }

// readAttempts bounds the retries when the file is replaced between the
// trust check and the read (an admin's tool renaming a new file into place).
const readAttempts = 3

// Read returns the file's settings, or (nil, nil) if the file does not
// exist and every folder above it that exists is root's alone.
func (s *FileStore) Read(ctx context.Context) (Settings, error) {
	for range readAttempts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, replaced, err := s.readOnce()
		if replaced {
			continue
		}
		if err != nil || data == nil {
			return nil, err
		}
		decode := s.Decode
		if decode == nil {
			decode = ParseJSON
		}
		return decode(data)
	}
	return nil, fmt.Errorf("reading policy file: it kept changing while being read")
}

// readOnce checks and reads the file. It returns nil data and no error when
// the file does not exist in folders that are root's, and replaced when the
// file that was checked is not the file that was opened.
func (s *FileStore) readOnce() (data []byte, replaced bool, err error) {
	exists, err := s.checkFolders()
	if err != nil || !exists {
		return nil, false, err
	}
	// Lstat first: it neither follows a symbolic link nor blocks on a FIFO,
	// as opening could.
	before, err := os.Lstat(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil // the folders above are root's: root removed it
	}
	if err != nil {
		return nil, false, fmt.Errorf("checking policy file: %w", err)
	}
	if err := s.checkTrust(before); err != nil {
		return nil, false, err
	}

	f, err := os.Open(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, true, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, false, fmt.Errorf("opening policy file (it must be readable by everyone, e.g. mode 0644): %w", err)
	}
	if err != nil {
		return nil, false, fmt.Errorf("opening policy file: %w", err)
	}
	defer f.Close()
	// Check what was opened, not the path, so a swap after the Lstat cannot
	// slip in an untrusted file.
	after, err := f.Stat()
	if err != nil {
		return nil, false, fmt.Errorf("checking policy file: %w", err)
	}
	if !os.SameFile(before, after) {
		return nil, true, nil
	}
	if err := s.checkTrust(after); err != nil {
		return nil, false, err
	}

	limit := s.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxFileBytes
	}
	data, err = io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, false, fmt.Errorf("reading policy file: %w", err)
	}
	if int64(len(data)) > limit {
		return nil, false, invalidf(nil, "policy file is larger than %d bytes", limit)
	}
	if data == nil {
		data = []byte{} // an empty file exists: let the decoder reject it
	}
	return data, false, nil
}

// checkFolders checks every folder above the file, from the top down, and
// reports whether they all exist. It stops at the first one that is missing:
// everything above it was found to be root's, so only root could have
// removed it (or never created it).
func (s *FileStore) checkFolders() (allExist bool, err error) {
	path := s.Path
	if !filepath.IsAbs(path) || filepath.Clean(path) != path {
		// A ".." would make the kernel walk folders this check does not.
		return false, invalidf(nil, "policy file path %q is not a clean absolute path", s.Path)
	}
	// The folders above the file, from the top: "/", "/etc", "/etc/scispot-mcp".
	var dirs []string
	for dir := filepath.Dir(path); ; dir = filepath.Dir(dir) {
		dirs = append(dirs, dir)
		if dir == s.trustTop || filepath.Dir(dir) == dir {
			break
		}
	}
	slices.Reverse(dirs)
	for _, dir := range dirs {
		fi, err := os.Lstat(dir)
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("checking the folder %s above the policy file: %w", dir, err)
		}
		if problem := s.problem(fi, true); problem != "" {
			return false, &untrustedError{what: "the folder " + dir + " above " + path, problem: problem}
		}
	}
	return true, nil
}

// checkTrust applies the rules that make the file itself admin-controlled.
func (s *FileStore) checkTrust(fi fs.FileInfo) error {
	if problem := s.problem(fi, false); problem != "" {
		return &untrustedError{what: s.Path, problem: problem}
	}
	return nil
}

// problem says why fi, a folder or the policy file, is not root's alone;
// "" when it is.
func (s *FileStore) problem(fi fs.FileInfo, folder bool) string {
	mode := fi.Mode()
	switch {
	case mode&fs.ModeSymlink != 0:
		return "is a symbolic link"
	case folder && !mode.IsDir():
		return "is not a folder"
	case !folder && !mode.IsRegular():
		return "is not a regular file"
	}
	owner := s.Owner
	if owner == nil {
		owner = fileOwner
	}
	uid, ok := owner(fi)
	switch {
	case !ok:
		return "has an owner that cannot be determined"
	case uid != 0:
		return fmt.Sprintf("belongs to uid %d, not root", uid)
	case mode.Perm()&0o022 != 0:
		return fmt.Sprintf("is writable by other accounts (mode %04o)", unixMode(mode))
	}
	return ""
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
