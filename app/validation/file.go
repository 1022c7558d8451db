package validation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

// Filer is what filing a report needs of the service; *localapi.Client
// is one.
type Filer interface {
	FileValidation(ctx context.Context, r localapi.FileValidationRequest) (localapi.FiledValidation, error)
}

var _ Filer = (*localapi.Client)(nil)

// Filed is a report the service checked, rendered and recorded, and the
// files written from it.
type Filed struct {
	DocID string
	// Files are the paths written: JSON, text, HTML, PDF.
	Files []string
	// Record is the hash of the validation.run record.
	Record string
}

// File hands rep to the service, which holds it against what it observed,
// renders its files and records their SHA-256 as validation.run; File then
// writes them into the folder out, never over an existing file and never
// one holding token.
//
// source is the front end filing it, "cli" or "tray", for the record.
func File(ctx context.Context, svc Filer, rep *Report, out, token, source string) (Filed, error) {
	filed := Filed{DocID: rep.DocID}
	b, err := rep.Marshal()
	if err != nil {
		return filed, err
	}
	if FindSecret(b, token) {
		return filed, errors.New("the report would contain a token; nothing was filed")
	}
	got, err := svc.FileValidation(ctx, localapi.FileValidationRequest{Report: b, Source: source})
	if err != nil {
		return filed, err
	}
	filed.Record = got.Record
	for _, f := range got.Files {
		if f.Name != filepath.Base(f.Name) || !strings.HasPrefix(f.Name, rep.DocID+".") {
			return filed, fmt.Errorf("the service returned a report file named %q", f.Name)
		}
		if FindSecret(f.Content, token) {
			return filed, fmt.Errorf("%s would contain a token; nothing more was written", f.Name)
		}
		path := filepath.Join(out, f.Name)
		if err := writeNew(path, f.Content); err != nil {
			return filed, fmt.Errorf("%w (the run is recorded as %s; run validate again to write a full report)", err, rep.DocID)
		}
		filed.Files = append(filed.Files, path)
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

// source is o.Source, "cli" when empty.
func (o Options) source() string {
	if o.Source == "" {
		return "cli"
	}
	return o.Source
}
