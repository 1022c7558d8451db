package validation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Recorder is what filing a report needs of the service; *localapi.Client
// is one.
type Recorder interface {
	Record(ctx context.Context, r localapi.RecordRequest) error
}

// Filed is a report written to disk and recorded in the audit trail.
type Filed struct {
	DocID string
	// Files are the paths written, JSON first.
	Files []string
}

// File writes every rendering of rep into the folder out as
// <DocID><ext>, never over an existing file and never one holding token,
// then records their SHA-256 in the audit trail as validation.run.
func File(ctx context.Context, svc Recorder, rep *Report, out, token string, renderings []Rendering) (Filed, error) {
	filed := Filed{DocID: rep.DocID}
	var digests []FileDigest
	for _, r := range renderings {
		b, err := r.Render(rep)
		if err != nil {
			return filed, fmt.Errorf("rendering %s: %w", r.File, err)
		}
		if FindSecret(b, token) {
			return filed, fmt.Errorf("the %s report would contain a token; nothing more was written", r.File)
		}
		path := filepath.Join(out, rep.DocID+r.File)
		if err := writeNew(path, b); err != nil {
			return filed, err
		}
		filed.Files = append(filed.Files, path)
		digests = append(digests, Digest(filepath.Base(path), b))
	}
	rec, err := json.Marshal(RunRecord{DocID: rep.DocID, Files: digests, Summary: rep.Summary})
	if err != nil {
		return filed, err
	}
	if err := svc.Record(ctx, localapi.RecordRequest{Event: audit.EventValidationRun, Reason: rep.DocID, Client: "scispot-mcp-cli", Args: rec}); err != nil {
		return filed, fmt.Errorf("recording the validation run in the audit trail: %w", err)
	}
	return filed, nil
}

func writeNew(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("writing the report: %w", err)
	}
	_, werr := f.Write(b)
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
