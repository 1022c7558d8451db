package forward

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// trailFile is one audit file: the trail id (its base name without
// ".jsonl"), where it is and how long it is now.
type trailFile struct {
	ID   string
	Path string
	Size int64
}

// errPartialList means some audit folder could not be listed: the trails
// returned are not all there are, so a trail missing from them may still
// exist.
var errPartialList = errors.New("an audit folder could not be listed")

// listTrails finds every trail under <state>/users/*/audit, oldest first
// (file names start with their UTC open time). When a folder cannot be
// listed, it returns the others' trails with an error wrapping
// errPartialList.
func listTrails(state string) ([]trailFile, error) {
	dirs, err := filepath.Glob(filepath.Join(state, "users", "*", "audit"))
	if err != nil {
		return nil, err
	}
	var out []trailFile
	var partial error
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue // an account folder being removed
		}
		if err != nil {
			partial = fmt.Errorf("%w: %w", errPartialList, err)
			continue
		}
		for _, e := range entries {
			name := e.Name()
			if !strings.HasSuffix(name, audit.FileExt) || !e.Type().IsRegular() {
				continue
			}
			id := strings.TrimSuffix(name, audit.FileExt)
			if !validTrailID(id) {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue
			}
			out = append(out, trailFile{ID: id, Path: filepath.Join(dir, name), Size: info.Size()})
		}
	}
	slices.SortFunc(out, func(a, b trailFile) int { return strings.Compare(a.ID, b.ID) })
	return out, partial
}

// Fields are the parts of a record the destinations put in attributes.
// The record itself travels as its exact line.
type Fields struct {
	Seq     int64     `json:"seq"`
	Time    time.Time `json:"time"`
	Session string    `json:"session"`
	Event   string    `json:"event"`
	PID     int       `json:"pid"`
	User    string    `json:"user"`
	Device  string    `json:"device"`
	Client  struct {
		Name string `json:"name"`
	} `json:"client"`
	Tool    string `json:"tool"`
	Outcome string `json:"outcome"`
	Hash    string `json:"hash"`
}

// Item is one record on its way: the trail it is in, its exact line
// (without the newline) and its fields.
type Item struct {
	Trail  string
	Line   []byte
	Fields Fields
	// Bad is set when the line is not a record; it is delivered anyway,
	// so that the break shows where the trail is verified.
	Bad bool
	// end is the byte offset just past the line in its file.
	end int64
}

// readItems reads complete lines of a trail from offset, at most max
// records and about maxBytes bytes. A last line without its newline is
// being written (or torn by a crash) and is left for later.
func readItems(tf trailFile, offset int64, max int, maxBytes int64, out []Item) ([]Item, error) {
	trail := tf.ID
	if avail := tf.Size - offset; avail < maxBytes {
		maxBytes = avail
	}
	if maxBytes <= 0 {
		return out, nil
	}
	f, err := os.Open(tf.Path)
	if err != nil {
		return out, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return out, err
	}
	buf := make([]byte, maxBytes)
	n, err := io.ReadFull(f, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return out, err
	}
	data := buf[:n]
	if n == len(buf) && bytes.IndexByte(data, '\n') < 0 {
		// One line longer than a batch (records are far smaller): read
		// to its end.
		rest, err := readLine(f)
		if err != nil {
			return out, err
		}
		data = append(data, rest...)
	}
	pos := offset
	count := 0
	for count < max {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		line := data[:i]
		data = data[i+1:]
		pos += int64(i) + 1
		if len(bytes.TrimSpace(line)) == 0 {
			continue // not a record; nothing to deliver
		}
		it := Item{Trail: trail, Line: line, end: pos}
		if err := json.Unmarshal(line, &it.Fields); err != nil || it.Fields.Seq <= 0 {
			it.Bad = true
		}
		out = append(out, it)
		count++
	}
	if count == 0 && pos > offset {
		// Only blank lines: move past them.
		out = append(out, Item{Trail: trail, end: pos})
	}
	return out, nil
}

// readLine reads from f up to and including the next newline, or to EOF.
func readLine(f *os.File) ([]byte, error) {
	var out []byte
	buf := make([]byte, 4<<10)
	for {
		n, err := f.Read(buf)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 {
			return append(out, buf[:i+1]...), nil
		}
		out = append(out, buf[:n]...)
		if err == io.EOF || n == 0 {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// backlogCount is how many complete records a trail holds between an
// offset and a size, and the time of the first: counted once and then
// only for what was appended, so that status stays cheap while a large
// backlog waits.
type backlogCount struct {
	offset, size int64
	records      int64
	oldest       time.Time
}

// backlog counts the complete records of a trail from offset to its size,
// continuing from prev when prev counted from the same offset.
func backlog(path string, offset, size int64, prev backlogCount) (backlogCount, error) {
	c := backlogCount{offset: offset, size: offset}
	if prev.offset == offset && prev.size <= size && prev.size >= offset {
		c = prev
	}
	if c.size >= size {
		return c, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return prev, err
	}
	defer f.Close()
	if _, err := f.Seek(c.size, io.SeekStart); err != nil {
		return prev, err
	}
	rd := bufio.NewReaderSize(io.LimitReader(f, size-c.size), 256<<10)
	for {
		line, err := rd.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A very long line: skip to its end.
			n := int64(len(line))
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = rd.ReadSlice('\n')
				n += int64(len(line))
			}
			if err != nil {
				break // torn: counted when complete
			}
			c.size += n
			c.records++
			continue
		}
		if err != nil {
			break // EOF, or a torn last line counted when complete
		}
		if c.records == 0 {
			var fl Fields
			if json.Unmarshal(line, &fl) == nil {
				c.oldest = fl.Time
			}
		}
		c.size += int64(len(line))
		c.records++
	}
	return c, nil
}

// firstUndelivered returns the time of the first complete record at
// offset, without reading the rest of the trail.
func firstUndelivered(path string, offset int64) (time.Time, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, false, err
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return time.Time{}, false, err
	}
	line, err := readLine(f)
	if err != nil {
		return time.Time{}, false, err
	}
	if len(line) == 0 || line[len(line)-1] != '\n' {
		return time.Time{}, false, nil
	}
	var fl Fields
	if err := json.Unmarshal(line, &fl); err != nil {
		return time.Time{}, true, fmt.Errorf("record at offset %d is not valid: %w", offset, err)
	}
	return fl.Time, true, nil
}
