package validation

import (
	"crypto/sha256"
	"encoding/hex"
)

// FileDigest is one file of a report and its SHA-256 (hex).
type FileDigest struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// Digest names b's SHA-256 under name.
func Digest(name string, b []byte) FileDigest {
	sum := sha256.Sum256(b)
	return FileDigest{Name: name, SHA256: hex.EncodeToString(sum[:])}
}

// RunRecord is the Args of the validation.run audit record the service
// writes for each run: every file of the report with its SHA-256, so
// `validate --verify FILE` accepts any of them (JSON, text, HTML, PDF).
type RunRecord struct {
	DocID   string       `json:"doc_id"`
	Files   []FileDigest `json:"files"`
	Summary Summary      `json:"summary"`
}

// Rendering makes one of the report's files from the report alone.
type Rendering struct {
	// File is what follows the document ID in the file's name under
	// --out, e.g. ".html" for VAL-labpc07-20261205T091500Z.html.
	File   string
	Render func(r *Report) ([]byte, error)
}
