package forward

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Cursor is how far one trail has been delivered to one destination: the
// byte offset just past the last delivered line, and that record's seq and
// hash (so a trail cut or rewritten below the cursor can be told apart).
type Cursor struct {
	Trail  string `json:"trail"`
	Offset int64  `json:"offset"`
	Seq    int64  `json:"seq"`
	Hash   string `json:"hash,omitempty"`
}

// cursorExt names cursor files: <trail id>.cursor in the destination's
// folder.
const cursorExt = ".cursor"

// maxCursorBytes bounds a cursor file: it holds one small JSON object.
const maxCursorBytes = 4 << 10

// ParseCursor reads a cursor file's content strictly: a damaged cursor is
// reported (and delivery of that trail starts again from its beginning,
// which only repeats records) rather than trusted.
func ParseCursor(data []byte) (Cursor, error) {
	if len(data) > maxCursorBytes {
		return Cursor{}, fmt.Errorf("cursor is %d bytes, more than %d", len(data), maxCursorBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var c Cursor
	if err := dec.Decode(&c); err != nil {
		return Cursor{}, fmt.Errorf("cursor is not valid: %w", err)
	}
	if dec.More() {
		return Cursor{}, errors.New("cursor has data after its object")
	}
	if !validTrailID(c.Trail) {
		return Cursor{}, fmt.Errorf("cursor names an invalid trail %q", c.Trail)
	}
	if c.Offset < 0 || c.Seq < 0 {
		return Cursor{}, fmt.Errorf("cursor of trail %s has a negative offset or seq", c.Trail)
	}
	if len(c.Hash) > 128 || strings.ContainsFunc(c.Hash, func(r rune) bool { return !isHex(r) }) {
		return Cursor{}, fmt.Errorf("cursor of trail %s has an invalid hash", c.Trail)
	}
	return c, nil
}

func isHex(r rune) bool { return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' }

// validTrailID accepts the base names the audit writer gives its files
// (UTC time and session id: [A-Za-z0-9._-]), which are also safe as file
// names for cursors.
func validTrailID(s string) bool {
	if s == "" || len(s) > 128 || s == "." || s == ".." {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

// loadCursors reads every cursor in dir. Damaged files are reported
// through bad and left out.
func loadCursors(dir string, bad func(name string, err error)) (map[string]Cursor, error) {
	out := map[string]Cursor{}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading delivery cursors: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, cursorExt) || !e.Type().IsRegular() {
			continue
		}
		data, err := readLimited(filepath.Join(dir, name), maxCursorBytes)
		if err == nil {
			var c Cursor
			c, err = ParseCursor(data)
			if err == nil && c.Trail+cursorExt != name {
				err = fmt.Errorf("cursor file names trail %s", c.Trail)
			}
			if err == nil {
				out[c.Trail] = c
				continue
			}
		}
		bad(name, err)
	}
	return out, nil
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max+1))
}

// saveCursors writes each cursor atomically (a temporary file, fsync,
// rename) and then syncs the folder once, so that after a crash every
// cursor is either the old or the new one: never torn, never ahead of what
// the destination acknowledged.
func saveCursors(dir string, cs []Cursor) error {
	if len(cs) == 0 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the delivery cursor folder: %w", err)
	}
	for _, c := range cs {
		data, err := json.Marshal(c)
		if err != nil {
			return err
		}
		final := filepath.Join(dir, c.Trail+cursorExt)
		tmp := final + ".tmp"
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return fmt.Errorf("writing delivery cursor: %w", err)
		}
		_, werr := f.Write(append(data, '\n'))
		serr := f.Sync()
		cerr := f.Close()
		if err := errors.Join(werr, serr, cerr); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("writing delivery cursor: %w", err)
		}
		if err := os.Rename(tmp, final); err != nil {
			return fmt.Errorf("writing delivery cursor: %w", err)
		}
	}
	return syncDir(dir)
}

// removeCursor forgets a trail whose file is gone.
func removeCursor(dir, trail string) error {
	err := os.Remove(filepath.Join(dir, trail+cursorExt))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}
