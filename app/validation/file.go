package validation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

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

// reportExts are the files a filed report is written as, after its
// document ID, as the service renders them.
func reportExts() []string { return []string{".json", ".txt", ".html", ".pdf"} }

// File hands rep to the service, which holds it against what it observed,
// renders its files and records their SHA-256 as validation.run; File then
// writes them into the folder out, never over an existing file and never
// one holding token. The files are claimed before the service is asked, so
// a folder that cannot take them stops the filing rather than leave a run
// recorded with no report.
//
// source is the front end filing it, "cli" or "tray", for the record.
func File(ctx context.Context, svc Filer, rep *Report, out, token, source string) (filed Filed, err error) {
	filed = Filed{DocID: rep.DocID}
	b, err := rep.Marshal()
	if err != nil {
		return filed, err
	}
	if FindSecret(b, token) {
		return filed, errors.New("the report would contain a token; nothing was filed")
	}
	claimed := map[string]*os.File{}
	defer func() {
		for path, f := range claimed {
			f.Close()
			if err != nil {
				os.Remove(path) // only files this call made, still empty
			}
		}
	}()
	for _, ext := range reportExts() {
		path := filepath.Join(out, rep.DocID+ext)
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return filed, fmt.Errorf("writing the report: %w; nothing was filed", err)
		}
		claimed[path] = f
	}
	got, err := svc.FileValidation(ctx, localapi.FileValidationRequest{Report: b, Source: source})
	if err != nil {
		return filed, err
	}
	filed.Record = got.Record
	for _, rf := range got.Files {
		path := filepath.Join(out, rf.Name)
		f := claimed[path]
		if f == nil || rf.Name != filepath.Base(rf.Name) {
			return filed, fmt.Errorf("the service returned a report file named %q", rf.Name)
		}
		if FindSecret(rf.Content, token) {
			return filed, fmt.Errorf("%s would contain a token; nothing more was written", rf.Name)
		}
		_, werr := f.Write(rf.Content)
		if err := errors.Join(werr, f.Sync()); err != nil {
			return filed, fmt.Errorf("writing %s: %w (the run is recorded as %s; run validate again to write a full report)", path, err, rep.DocID)
		}
		filed.Files = append(filed.Files, path)
	}
	if len(filed.Files) != len(claimed) {
		return filed, fmt.Errorf("the service returned %d report files, not %d (the run is recorded as %s)", len(filed.Files), len(claimed), rep.DocID)
	}
	return filed, nil
}

// source is o.Source, "cli" when empty.
func (o Options) source() string {
	if o.Source == "" {
		return "cli"
	}
	return o.Source
}
