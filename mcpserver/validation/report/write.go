package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// File is one written rendering of the report and the SHA-256 of its bytes,
// which the runner records in the audit trail (validation.run) so that
// `validate --verify` can tell the filed document from a changed one.
type File struct {
	Format string `json:"format"` // "html" or "pdf"
	Path   string `json:"path"`
	SHA256 string `json:"sha256"` // lower-case hex
}

// ErrBadDocID means the document ID cannot name a file: it would reach
// outside the output folder or hold characters file systems refuse.
var ErrBadDocID = errors.New("the document ID cannot be used as a file name")

// Write renders the report as HTML and PDF into dir, named after the
// document ID (<doc_id>.html, <doc_id>.pdf), and returns each file with its
// SHA-256. Each file is written to a temporary name and renamed into place,
// so a reader never sees half a report; a report that cannot be rendered
// writes nothing.
// The folder must exist.
func Write(dir string, r Report, reqs []Requirement) ([]File, error) {
	if err := checkFileName(r.DocID); err != nil {
		return nil, err
	}
	renderers := []struct {
		format string
		render func(io.Writer, Report, []Requirement) error
	}{
		{"html", HTML},
		{"pdf", PDF},
	}
	// Both are rendered before either is written, so a report that cannot
	// be rendered leaves no half-finished pair behind.
	rendered := make([]bytes.Buffer, len(renderers))
	for i, x := range renderers {
		if err := x.render(&rendered[i], r, reqs); err != nil {
			return nil, err
		}
	}
	var files []File
	for i, x := range renderers {
		data := rendered[i].Bytes()
		path := filepath.Join(dir, r.DocID+"."+x.format)
		if err := writeFile(path, data); err != nil {
			return nil, fmt.Errorf("writing the %s report: %w", strings.ToUpper(x.format), err)
		}
		sum := sha256.Sum256(data)
		files = append(files, File{Format: x.format, Path: path, SHA256: hex.EncodeToString(sum[:])})
	}
	return files, nil
}

// checkFileName accepts IDs made of letters, digits, '.', '-' and '_' that
// do not start with a dot: portable on every file system we ship for.
func checkFileName(id string) error {
	if id == "" || strings.HasPrefix(id, ".") || len(id) > 200 {
		return fmt.Errorf("%w: %q", ErrBadDocID, id)
	}
	for _, r := range id {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_'
		if !ok {
			return fmt.Errorf("%w: %q", ErrBadDocID, id)
		}
	}
	return nil
}

func writeFile(path string, data []byte) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
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
	// The reviewer who files the report need not be the admin who ran it.
	if err = f.Chmod(0o644); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
