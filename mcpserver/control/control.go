// Package control reads, writes and watches control.json, the user's kill
// switch for Scispot MCP Desktop.
//
// The file lives in the per-user state folder (see device/statedir). The CLI
// (`scispot-mcp kill` / `resume`) and the tray change it with Update; every
// running `serve` watches it with a Watcher and must stop within 100 ms of a
// kill. The tray can also end single sessions by listing their ids in
// StopSessions.
//
// A serve is expected to:
//
//	st, err := control.Read(path)        // refuse at start if err != nil || st.Killed
//	w := control.NewWatcher(path)
//	go w.Run(ctx)
//	for {
//		select {
//		case snap := <-w.Changes():      // the first one is the state once watching began
//			if snap.Stops(sessionID) { … cancel calls, write session.end, exit … }
//		case <-ctx.Done():
//		}
//	}
//
// Failing closed is the callers' job, made easy here: Read reports a
// damaged file as ErrCorrupt, and a Snapshot holding any read error counts
// as killed. The admin's kill switch (policy Enabled: false) is not written
// to this file; the gateway combines both.
package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"slices"
	"strings"
	"time"
)

// CurrentVersion is the format version this package writes in the "v" key.
// Newer versions may add keys but must keep the meaning of the existing
// ones; readers keep (and Update preserves) keys they do not know.
const CurrentVersion = 1

// MaxFileSize bounds what Read accepts. A real control file is a few
// hundred bytes; anything larger is treated as damaged.
const MaxFileSize = 1 << 20

// MaxStopSessions bounds StopSessions. Entries for sessions that already
// ended are normally removed by the session itself; the bound keeps entries
// of sessions that crashed before seeing their stop from piling up.
const MaxStopSessions = 256

// Sources of a change, for State.Source.
const (
	SourceCLI  = "cli"
	SourceTray = "tray"
)

// ErrCorrupt means control.json exists but is not a valid control file.
// Callers must fail closed (treat it as killed) and say so; Update replaces
// such a file and keeps its old content beside it.
var ErrCorrupt = errors.New("kill switch file is damaged")

// State is the content of control.json.
type State struct {
	// V is the format version (CurrentVersion when written by this package).
	// Files without it, hand-written ones, are read as version 1.
	V int `json:"v"`
	// Killed stops all AI access: new sessions refuse, running ones exit.
	// It is always written, and a file without it is damaged.
	Killed bool `json:"killed"`
	// Reason says why: the person's own words for a kill, if any, or that
	// Update replaced a damaged file.
	Reason string `json:"reason,omitempty"`
	// By is the OS account that made the last kill or resume.
	By string `json:"by,omitempty"`
	// Source is where that was done: SourceCLI or SourceTray.
	Source string `json:"source,omitempty"`
	// At is when the last kill or resume happened.
	At time.Time `json:"at,omitzero"`
	// StopSessions lists ids of sessions that must end although the switch
	// is not killed (the tray's per-session Stop). Oldest first.
	StopSessions []string `json:"stop_sessions,omitempty"`
}

// Kill turns the switch on.
func (s *State) Kill(reason, by, source string, at time.Time) {
	s.Killed, s.Reason, s.By, s.Source, s.At = true, reason, by, source, at
}

// Resume turns the switch off. Pending per-session stops are dropped too:
// a kill already ended every session they named.
func (s *State) Resume(by, source string, at time.Time) {
	s.Killed, s.Reason, s.By, s.Source, s.At = false, "", by, source, at
	s.StopSessions = nil
}

// StopSession asks the session with this id to end. Listing an id twice is
// a no-op; beyond MaxStopSessions the oldest entries are dropped.
func (s *State) StopSession(id string) {
	if id == "" || slices.Contains(s.StopSessions, id) {
		return
	}
	s.StopSessions = append(s.StopSessions, id)
	if n := len(s.StopSessions) - MaxStopSessions; n > 0 {
		s.StopSessions = slices.Delete(s.StopSessions, 0, n)
	}
}

// ForgetSession removes id from StopSessions; a stopped session calls it
// once it has ended so the list does not grow.
func (s *State) ForgetSession(id string) {
	s.StopSessions = slices.DeleteFunc(s.StopSessions, func(v string) bool { return v == id })
	if len(s.StopSessions) == 0 {
		s.StopSessions = nil
	}
}

// Stops reports whether the session with this id must end (or not start):
// the switch is killed or the session is listed.
func (s State) Stops(sessionID string) bool {
	return s.Killed || slices.Contains(s.StopSessions, sessionID)
}

// Read returns the state in the file at path. A missing file means not
// killed. A file that is not a valid control file gives an error wrapping
// ErrCorrupt; other errors (permissions, a folder in the way) are returned
// wrapped as they are. Either way the caller must fail closed.
func Read(path string) (State, error) {
	st, _, _, err := readFile(path)
	return st, err
}

// readFile reads and parses path. exists is false only for a missing file;
// raw is the file's bytes (nil if missing), kept so Update can preserve
// unknown keys and back up damaged content.
func readFile(path string) (st State, raw []byte, exists bool, err error) {
	raw, err = readRaw(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil, false, nil
	}
	if err != nil {
		return State{}, nil, true, fmt.Errorf("reading the kill switch file: %w", err)
	}
	st, _, err = parse(raw)
	if err != nil {
		return State{}, raw, true, fmt.Errorf("reading the kill switch file %s: %w", path, err)
	}
	return st, raw, true, nil
}

func readRaw(path string) ([]byte, error) {
	f, err := openRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return data, nil
}

// parse decodes a control file. It returns the known fields as a State and
// every key as raw JSON (so keys from newer versions survive an Update).
func parse(data []byte) (State, map[string]json.RawMessage, error) {
	if len(data) > MaxFileSize {
		return State{}, nil, fmt.Errorf("%w: larger than %d bytes", ErrCorrupt, MaxFileSize)
	}
	// Windows editors may save a byte-order mark; JSON does not allow one.
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	// Unmarshal into a map accepts "null", so require an object explicitly.
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return State{}, nil, fmt.Errorf("%w: not a JSON object", ErrCorrupt)
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(data, &keys); err != nil {
		return State{}, nil, fmt.Errorf("%w: %v", ErrCorrupt, jsonErr(err))
	}
	// A missing or null "killed" would decode as false, which is the one
	// mistake a kill switch must not make.
	switch k := string(keys["killed"]); k {
	case "true", "false":
	case "":
		return State{}, nil, fmt.Errorf("%w: no \"killed\" value", ErrCorrupt)
	default:
		return State{}, nil, fmt.Errorf("%w: \"killed\" is %.20s, not true or false", ErrCorrupt, k)
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return State{}, nil, fmt.Errorf("%w: %v", ErrCorrupt, jsonErr(err))
	}
	if _, ok := keys["v"]; !ok {
		st.V = 1
	}
	if st.V < 1 {
		return State{}, nil, fmt.Errorf("%w: version %d", ErrCorrupt, st.V)
	}
	st.StopSessions = slices.DeleteFunc(st.StopSessions, func(id string) bool { return id == "" })
	if len(st.StopSessions) == 0 {
		st.StopSessions = nil
	}
	return st, keys, nil
}

// jsonErr keeps decoder messages short: they can quote parts of the file,
// and a control file holds nothing secret, but a screenful helps nobody.
func jsonErr(err error) string {
	msg := err.Error()
	if len(msg) > 200 {
		msg = msg[:200] + "…"
	}
	return msg
}

// encode renders st for writing, carrying over keys this version does not
// know from extra (the raw keys of the file being replaced).
func encode(st State, extra map[string]json.RawMessage) ([]byte, error) {
	if st.V < CurrentVersion {
		st.V = CurrentVersion
	}
	st.StopSessions = slices.DeleteFunc(slices.Clone(st.StopSessions), func(id string) bool { return id == "" })
	unknown := map[string]json.RawMessage{}
	for k, v := range extra {
		if !slices.Contains(knownKeys, k) {
			unknown[k] = v
		}
	}
	var (
		data []byte
		err  error
	)
	if len(unknown) == 0 {
		data, err = json.MarshalIndent(st, "", "  ")
	} else {
		var known []byte
		if known, err = json.Marshal(st); err == nil {
			merged := unknown
			if err = json.Unmarshal(known, &merged); err == nil {
				data, err = json.MarshalIndent(merged, "", "  ")
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("encoding the kill switch state: %w", err)
	}
	// Writing what Read would reject as damaged would stop every session.
	if len(data)+1 > MaxFileSize {
		return nil, fmt.Errorf("encoding the kill switch state: %d bytes is more than the %d allowed", len(data)+1, MaxFileSize)
	}
	return append(data, '\n'), nil
}

// knownKeys are the JSON keys of State, taken from its tags so they cannot
// drift from the struct.
var knownKeys = func() []string {
	t := reflect.TypeFor[State]()
	keys := make([]string, 0, t.NumField())
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		keys = append(keys, name)
	}
	return keys
}()
