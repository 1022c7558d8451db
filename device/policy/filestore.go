package policy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// DefaultMaxFileBytes caps the size of a policy file: a real policy is a few
// hundred bytes, and a huge file is a mistake or an attack.
const DefaultMaxFileBytes = 1 << 20

// FileStore reads policy from one file that only an administrator can
// change. The file is trusted only if it is a regular file (not a symbolic
// link) owned by root (uid 0) and not writable by group or others; otherwise
// Read returns ErrUntrusted with the reason.
//
// Linux uses it for the JSON policy file and macOS for the managed
// preferences property lists (which the system writes as root).
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
// exist.
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
// the file does not exist, and replaced when the file that was checked is not
// the file that was opened.
func (s *FileStore) readOnce() (data []byte, replaced bool, err error) {
	// Lstat first: it neither follows a symbolic link nor blocks on a FIFO,
	// as opening could.
	before, err := os.Lstat(s.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
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

// checkTrust applies the rules that make a file admin-controlled.
func (s *FileStore) checkTrust(fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return &untrustedError{"is a symbolic link (must be a regular file)"}
	case !fi.Mode().IsRegular():
		return &untrustedError{"is not a regular file"}
	}
	owner := s.Owner
	if owner == nil {
		owner = fileOwner
	}
	uid, ok := owner(fi)
	switch {
	case !ok:
		return &untrustedError{"its owner cannot be determined"}
	case uid != 0:
		return &untrustedError{fmt.Sprintf("owned by uid %d (must be owned by root)", uid)}
	case fi.Mode().Perm()&0o022 != 0:
		return &untrustedError{fmt.Sprintf("writable by group or others (mode %04o)", fi.Mode().Perm())}
	}
	return nil
}
