package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/scispot/mcp-desktop/app/clients/configfile"
)

// The state file (Options.StateFile, for example <state>/clients.json)
// remembers which entries this app wrote, so that Status can tell an entry
// that something removed (Removed: offer to put it back) from one that was
// never there (NoConfig):
//
//	{"clients": {"claude-desktop": {"path": "…", "command": "…", "args": ["serve"], "written": "…"}}}
//
// It holds no secret.

// record is what Apply wrote for one client.
type record struct {
	Path    string    `json:"path"`
	Command string    `json:"command"`
	Args    []string  `json:"args"`
	Written time.Time `json:"written"`
}

// readState returns the records in the state file. A missing or empty file
// has none; a damaged one is an error (Status then treats it as empty).
func readState(path string) (map[string]record, error) {
	if path == "" {
		return nil, nil
	}
	content, err := configfile.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the client setup record: %w", err)
	}
	var doc struct {
		Clients map[string]record `json:"clients"`
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading the client setup record %s: %w", path, err)
	}
	return doc.Clients, nil
}

// writeRecord stores rec for client id, or deletes the record when rec is
// nil. The state file is edited like a client config (locked, atomic) so
// concurrent setups do not lose each other's records.
func writeRecord(ctx context.Context, stateFile, id string, rec *record) error {
	if stateFile == "" {
		return nil
	}
	edit := configfile.Edit{Path: []string{"clients", id}}
	if rec != nil {
		b, err := json.Marshal(rec)
		if err != nil {
			return fmt.Errorf("recording the setup of %s: %w", id, err)
		}
		edit.Value = b
	}
	_, err := configfile.Apply(ctx, stateFile, []configfile.Edit{edit}, configfile.Options{NoBackup: true, CreateDirs: true})
	if err != nil {
		return fmt.Errorf("recording the setup of %s: %w", id, err)
	}
	return nil
}
