package configfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// MaxFileBytes is the largest config file this package edits. Claude Code's
// ~/.claude.json grows with its history; tens of MiB is still far below this.
const MaxFileBytes = 256 << 20

// DefaultKeepBackups is how many backups of a file are kept when
// Options.KeepBackups is 0.
const DefaultKeepBackups = 3

// LockSuffix names the lock file beside a config file: "mcp.json" is locked
// through "mcp.json.scispot-lock". The lock file is empty and stays, since
// removing it would let a waiting writer lock a file nobody else sees.
const LockSuffix = ".scispot-lock"

// lockWait is how long Apply waits for another writer when ctx has no
// deadline.
const lockWait = 30 * time.Second

// newFileMode is the mode of a config file this package creates: client
// configs can hold other servers' secrets, so only the user may read them.
const newFileMode fs.FileMode = 0o600

// Options adjust Apply. The zero value writes, keeps 3 backups and uses the
// system clock.
type Options struct {
	// DryRun computes the change and its diff but writes nothing: no file,
	// no folder, no backup, no lock file.
	DryRun bool
	// NoBackup skips the backup, for a change whose old content must not be
	// kept (it holds a secret that the change removes).
	NoBackup bool
	// KeepBackups is how many backups of the file are kept; 0 means
	// DefaultKeepBackups.
	KeepBackups int
	// CreateDirs creates missing parent folders (mode 0700) for a new file.
	CreateDirs bool
	// Now is the clock for backup names; nil means time.Now.
	Now func() time.Time
}

// Result says what Apply did (or, in a dry run, would do).
type Result struct {
	// Path is the file that was edited: the target when the path given to
	// Apply is a symbolic link.
	Path string
	// Created is true when the file did not exist before.
	Created bool
	// Changed is false when the file already said what the edits say; then
	// nothing was written and no backup was made.
	Changed bool
	// Diff is a unified diff of the change, set in dry-run mode only.
	Diff string
	// Backup is the backup made before the change, if any.
	Backup string
}

// Apply makes edits to the JSON (with comments) config file at path:
//
//   - Everything the edits are not about survives byte for byte: comments,
//     trailing commas, key order, indentation, line endings, a UTF-8 byte
//     order mark and every other key. New members are indented like their
//     neighbours; a new file is a 2-space-indented document.
//   - A file that cannot be parsed is never changed; the error is a
//     *ParseError naming the file, line and column.
//   - An empty file (0 bytes, or only whitespace) reads as {}; a file of only
//     comments reads as {} with the comments kept above it.
//   - A symbolic link is followed and its target is edited (locked, backed up
//     and replaced in the target's folder) so the link stays a link: dotfile
//     managers rely on that. A link to nothing is refused with ErrBrokenLink.
//   - Writers take an exclusive lock on a sidecar file (LockSuffix) and do
//     the whole read-modify-write under it; the new content goes to a temp
//     file in the same folder that is synced, given the old file's mode
//     (0600 for a new file) and renamed over the file, and the folder is
//     synced.
//   - Before a change, the old content is copied beside the file as
//     "<name>.scispot-backup-<UTC time>"; only the newest KeepBackups stay.
//   - After writing, the file is read back and must hold every edit, or the
//     error matches ErrVerify.
//   - When the file already holds the edits, nothing is written, locked or
//     backed up (Result.Changed is false).
func Apply(ctx context.Context, path string, edits []Edit, opts Options) (Result, error) {
	if len(edits) == 0 {
		return Result{Path: path}, nil
	}
	target, err := resolve(path)
	if err != nil {
		return Result{Path: path}, err
	}
	res := Result{Path: target}

	// Decide without the lock first, so a no-op leaves no trace at all.
	cur, err := load(target)
	if err != nil {
		return res, err
	}
	out, changed, err := applyEdits(cur.content, edits)
	if err != nil {
		return res, fileError(target, err)
	}
	res.Created = !cur.exists
	if !changed {
		return res, nil
	}
	if opts.DryRun {
		if err := checkWritable(target, cur, opts.CreateDirs); err != nil {
			return res, err
		}
		aName := target
		if !cur.exists {
			aName = "/dev/null"
		}
		res.Changed = true
		res.Diff = unifiedDiff(aName, target, cur.content, out)
		return res, nil
	}

	if err := checkWritable(target, cur, opts.CreateDirs); err != nil {
		return res, err
	}
	if opts.CreateDirs && !cur.exists {
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return res, fmt.Errorf("creating the folder for %s: %w", target, err)
		}
	}
	unlock, err := lock(ctx, target)
	if err != nil {
		return res, err
	}
	defer unlock()

	// Another writer may have changed the file while we waited.
	cur, err = load(target)
	if err != nil {
		return res, err
	}
	out, changed, err = applyEdits(cur.content, edits)
	if err != nil {
		return res, fileError(target, err)
	}
	res.Created = !cur.exists
	if !changed {
		return res, nil
	}
	if err := checkWritable(target, cur, false); err != nil {
		return res, err
	}

	mode := newFileMode
	if cur.exists {
		mode = cur.info.Mode().Perm()
		if !opts.NoBackup {
			now := time.Now
			if opts.Now != nil {
				now = opts.Now
			}
			keep := opts.KeepBackups
			if keep <= 0 {
				keep = DefaultKeepBackups
			}
			res.Backup, err = backup(target, cur.content, mode, now())
			if err != nil {
				return res, err
			}
			if err := rotateBackups(target, keep); err != nil {
				return res, err
			}
		}
	}
	if err := writeAtomic(target, out, mode, cur.info); err != nil {
		return res, err
	}
	res.Changed = true

	after, err := load(target)
	if err != nil {
		return res, fmt.Errorf("reading %s back after writing: %w", target, err)
	}
	if err := verify(after.content, edits); err != nil {
		return res, fmt.Errorf("%s: %w: %v — another program may have rewritten it at the same moment; try again", target, ErrVerify, err)
	}
	return res, nil
}

// Read returns the config file's content as standard JSON (comments and
// trailing commas stripped); the top level is always an object. An empty
// file reads as {}. A missing file is an error matching fs.ErrNotExist; a
// symbolic link is followed.
func Read(path string) ([]byte, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	cur, err := load(target)
	if err != nil {
		return nil, err
	}
	if !cur.exists {
		return nil, fmt.Errorf("reading %s: %w", target, fs.ErrNotExist)
	}
	d, err := parse(cur.content)
	if err != nil {
		return nil, fileError(target, err)
	}
	v := d.root.Clone()
	v.Minimize()
	return v.Pack(), nil
}

// fileError puts the file name into errors from parsing and editing.
func fileError(path string, err error) error {
	var se *syntaxError
	if errors.As(err, &se) {
		return se.withPath(path)
	}
	var ne *notObjectError
	if errors.As(err, &ne) {
		c := *ne
		c.path = path
		return &c
	}
	return fmt.Errorf("editing %s: %w", path, err)
}

// resolve follows a symbolic link at path to the file it names.
func resolve(path string) (string, error) {
	info, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return path, nil
	case err != nil:
		return path, fmt.Errorf("looking at %s: %w", path, err)
	case info.Mode()&fs.ModeSymlink == 0:
		return path, nil
	}
	target, err := filepath.EvalSymlinks(path)
	if errors.Is(err, fs.ErrNotExist) {
		dest, _ := os.Readlink(path)
		return path, fmt.Errorf("%s is a %w to %s, which does not exist; remove the link or create its target", path, ErrBrokenLink, dest)
	}
	if err != nil {
		return path, fmt.Errorf("following the symbolic link %s: %w", path, err)
	}
	return target, nil
}

// current is a file as read: its content, or exists == false.
type current struct {
	exists  bool
	info    fs.FileInfo
	content []byte
}

// load reads the file at path (not a symlink) if it exists.
func load(path string) (current, error) {
	info, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return current{}, nil
	case err != nil:
		return current{}, fmt.Errorf("looking at %s: %w", path, err)
	case info.IsDir():
		return current{}, fmt.Errorf("%s is a folder, %w; move it away so the config file can be written", path, ErrNotRegular)
	case !info.Mode().IsRegular():
		return current{}, fmt.Errorf("%s is a special file, %w", path, ErrNotRegular)
	case info.Size() > MaxFileBytes:
		return current{}, fmt.Errorf("%s is %d bytes: %w (the limit is %d)", path, info.Size(), ErrTooLarge, MaxFileBytes)
	}
	f, err := os.Open(path)
	if err != nil {
		return current{}, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	content, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return current{}, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(content) > MaxFileBytes {
		return current{}, fmt.Errorf("%s: %w (the limit is %d bytes)", path, ErrTooLarge, MaxFileBytes)
	}
	return current{exists: true, info: info, content: content}, nil
}

// checkWritable refuses a read-only file or folder before anything is
// written. The mode bits are checked, not only the write itself, because
// renaming over a read-only file succeeds on Unix and an administrator
// (root) can write anything: a read-only config is a choice to respect.
func checkWritable(path string, cur current, createDirs bool) error {
	if cur.exists && cur.info.Mode().Perm()&0o222 == 0 {
		return fmt.Errorf("%s is %w; make it writable to change it", path, ErrReadOnly)
	}
	dir := filepath.Dir(path)
	info, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist) && createDirs:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the folder %s does not exist: %w", dir, err)
	case err != nil:
		return fmt.Errorf("looking at the folder %s: %w", dir, err)
	case !info.IsDir():
		return fmt.Errorf("%s is not a folder: %w", dir, ErrNotRegular)
	case info.Mode().Perm()&0o222 == 0:
		return fmt.Errorf("the folder %s is %w; make it writable to change %s", dir, ErrReadOnly, filepath.Base(path))
	}
	return nil
}

// lock takes the exclusive lock for path and returns its release.
func lock(ctx context.Context, path string) (func(), error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, lockWait)
		defer cancel()
	}
	fl := flock.New(path+LockSuffix, flock.SetPermissions(0o600))
	ok, err := fl.TryLockContext(ctx, 5*time.Millisecond)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("%s: %w: another program kept it locked (%s); try again", path, ErrBusy, path+LockSuffix)
	case err != nil:
		return nil, fmt.Errorf("locking %s: %w", path, err)
	case !ok:
		return nil, fmt.Errorf("%s: %w", path, ErrBusy)
	}
	return func() { _ = fl.Unlock() }, nil
}

// writeAtomic replaces path with content through a synced temp file in the
// same folder, so a reader sees the old file or the new one, never a mix.
func writeAtomic(path string, content []byte, mode fs.FileMode, old fs.FileInfo) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".scispot-tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: creating a temp file: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(content); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("writing %s: setting its mode: %w", path, err)
	}
	if old != nil {
		keepOwner(tmp, old)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: syncing: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: replacing it: %w", path, err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. It is best effort: the rename has
// happened, and some systems (Windows, some network file systems) cannot
// sync a folder at all.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}
