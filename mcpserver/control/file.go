package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gofrs/flock"
)

// Write replaces the file at path with s. It creates the folder (0700) if
// needed, holds the lock file beside path while writing, and replaces the
// file atomically (temp file in the same folder, fsync, rename, fsync of the
// folder), so a reader sees the old or the new content, never a mix. The
// file's mode is 0600. Write drops keys from newer versions; use Update to
// change a file in place.
func Write(path string, s State) error {
	data, err := encode(s, nil)
	if err != nil {
		return err
	}
	unlock, err := lock(path)
	if err != nil {
		return err
	}
	defer unlock()
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("writing the kill switch file: %w", err)
	}
	return nil
}

// Update changes the file at path under the lock, so concurrent kill,
// resume and per-session stops (from any process) never lose each other.
// fn gets the current state (the zero State for a missing file) and edits
// it; if fn returns an error nothing is written and the error is returned.
// Nothing is written when fn changes nothing.
//
// A damaged file is not an obstacle to `resume`: fn then gets a killed
// state whose Reason says the file was damaged, and the damaged content is
// kept as <path>.corrupt before the file is replaced.
func Update(path string, fn func(*State) error) error {
	unlock, err := lock(path)
	if err != nil {
		return err
	}
	defer unlock()

	st, raw, _, err := readFile(path)
	var extra map[string]json.RawMessage
	switch {
	case errors.Is(err, ErrCorrupt):
		if err := writeAtomic(path+".corrupt", raw); err != nil {
			return fmt.Errorf("keeping a copy of the damaged kill switch file: %w", err)
		}
		st = State{Killed: true, Reason: "the kill switch file was damaged; its old content is in " + filepath.Base(path) + ".corrupt"}
		raw = nil
	case err != nil:
		return err
	case raw != nil:
		_, extra, _ = parse(raw) // cannot fail: readFile just parsed it
	}

	if err := fn(&st); err != nil {
		return fmt.Errorf("updating the kill switch: %w", err)
	}
	data, err := encode(st, extra)
	if err != nil {
		return err
	}
	if raw != nil && bytes.Equal(data, raw) {
		return nil // no change: spare every watcher a wake-up
	}
	if err := writeAtomic(path, data); err != nil {
		return fmt.Errorf("writing the kill switch file: %w", err)
	}
	return nil
}

// lock takes the exclusive lock on <path>.lock, waiting for other writers.
// The lock file is left in place: deleting it would let two writers lock
// different files. The lock is only held for one small read and write, and
// the OS releases it if its holder dies.
func lock(path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("creating the state folder: %w", err)
	}
	l := flock.New(path+".lock", flock.SetPermissions(0o600))
	if err := l.Lock(); err != nil {
		return nil, fmt.Errorf("locking the kill switch file: %w", err)
	}
	return func() { _ = l.Unlock() }, nil
}

// writeAtomic replaces path with data so that readers never see a partial
// file, and the new content is on disk before it returns.
//
// Outside Windows the rename comes before the fsync: every running serve
// reacts to the rename, and the kill switch's 100 ms are mostly theirs. A
// crash between the two can at worst leave the file empty or torn, which
// reads as damaged, which is killed: fail closed. Windows cannot rename a
// file it holds open, so there the order is the usual one.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	// CreateTemp makes the file 0600, whatever the umask.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if isWindows {
		if err = f.Sync(); err != nil {
			return err
		}
		if err = f.Close(); err != nil {
			return err
		}
		if err = replaceFile(tmp, path); err != nil {
			return err
		}
		return syncDir(dir)
	}
	if err = replaceFile(tmp, path); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return syncDir(dir)
}
