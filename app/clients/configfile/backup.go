package configfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BackupInfix sits between a config file's name and the backup's time:
// "claude_desktop_config.json.scispot-backup-20260102T150405Z". Backups made
// in the same second get "-2", "-3", … appended.
const BackupInfix = ".scispot-backup-"

// backupTimeFormat is UTC to the second; its fixed width keeps names in
// time order.
const backupTimeFormat = "20060102T150405Z"

// backup copies content (the file's current bytes) beside path and returns
// the backup's name. The copy gets the file's mode, because a config file
// can hold other servers' secrets.
func backup(path string, content []byte, mode fs.FileMode, now time.Time) (string, error) {
	base := path + BackupInfix + now.UTC().Format(backupTimeFormat)
	for n := 1; n < 1000; n++ {
		name := base
		if n > 1 {
			name = base + "-" + strconv.Itoa(n)
		}
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		_, err = f.Write(content)
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(name)
			return "", fmt.Errorf("backing up %s: %w", path, err)
		}
		return name, nil
	}
	return "", fmt.Errorf("backing up %s: too many backups named %s*", path, base)
}

// Backups lists the backups of the config file at path (following a
// symbolic link, like Apply), oldest first.
func Backups(path string) ([]string, error) {
	target, err := resolve(path)
	if err != nil {
		return nil, err
	}
	return listBackups(target)
}

type backupName struct {
	name string
	time string
	seq  int
}

func listBackups(path string) ([]string, error) {
	dir := filepath.Dir(path)
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("listing the backups of %s: %w", path, err)
	}
	prefix := filepath.Base(path) + BackupInfix
	var found []backupName
	for _, e := range entries {
		b, ok := parseBackupName(e.Name(), prefix)
		if ok && e.Type().IsRegular() {
			b.name = filepath.Join(dir, e.Name())
			found = append(found, b)
		}
	}
	slices.SortFunc(found, func(x, y backupName) int {
		if c := strings.Compare(x.time, y.time); c != 0 {
			return c
		}
		return x.seq - y.seq
	})
	names := make([]string, len(found))
	for i, b := range found {
		names[i] = b.name
	}
	return names, nil
}

// parseBackupName accepts exactly the names backup makes, so rotation never
// deletes a file it did not create.
func parseBackupName(name, prefix string) (backupName, bool) {
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok || len(rest) < len(backupTimeFormat) {
		return backupName{}, false
	}
	ts, suffix := rest[:len(backupTimeFormat)], rest[len(backupTimeFormat):]
	if _, err := time.Parse(backupTimeFormat, ts); err != nil {
		return backupName{}, false
	}
	seq := 1
	if suffix != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(suffix, "-"))
		if !strings.HasPrefix(suffix, "-") || err != nil || n < 2 || strconv.Itoa(n) != suffix[1:] {
			return backupName{}, false
		}
		seq = n
	}
	return backupName{time: ts, seq: seq}, true
}

// rotateBackups deletes all but the newest keep backups of path.
func rotateBackups(path string, keep int) error {
	names, err := listBackups(path)
	if err != nil {
		return err
	}
	for len(names) > keep {
		if err := os.Remove(names[0]); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing the old backup %s: %w", names[0], err)
		}
		names = names[1:]
	}
	return nil
}
