package report

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestWriteReturnsEachFileWithItsHash(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport()
	files, err := Write(dir, r, sampleRequirements())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"html": r.DocID + ".html", "pdf": r.DocID + ".pdf"}
	if len(files) != len(want) {
		t.Fatalf("Write returned %d files, want %d", len(files), len(want))
	}
	for _, f := range files {
		if filepath.Base(f.Path) != want[f.Format] || filepath.Dir(f.Path) != dir {
			t.Errorf("%s report at %s, want %s in %s", f.Format, f.Path, want[f.Format], dir)
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != f.SHA256 {
			t.Errorf("%s: Write said SHA-256 %s, the file's is %s", f.Format, f.SHA256, got)
		}
		if fi, err := os.Stat(f.Path); err != nil {
			t.Fatal(err)
		} else if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %v, want 0644 so the reviewer can read it", f.Format, fi.Mode().Perm())
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the folder holds %d entries, want the 2 reports and no temporary file", len(entries))
	}

	// Writing again replaces the files with the same bytes.
	again, err := Write(dir, r, sampleRequirements())
	if err != nil {
		t.Fatal(err)
	}
	for i := range again {
		if again[i].SHA256 != files[i].SHA256 {
			t.Errorf("%s: a second run of the same report hashes %s, the first %s", again[i].Format, again[i].SHA256, files[i].SHA256)
		}
	}
}

func TestWriteRefusesDocIDsThatAreNotFileNames(t *testing.T) {
	for _, id := range []string{"../escape", "a/b", `a\b`, ".hidden", "with space", "VAL:1", "ü", ""} {
		t.Run(id, func(t *testing.T) {
			dir := t.TempDir()
			r := sampleReport()
			r.DocID = id
			_, err := Write(filepath.Join(dir, "out"), r, nil)
			if !errors.Is(err, ErrBadDocID) {
				t.Errorf("Write(%q) = %v, want ErrBadDocID", id, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("Write(%q) left %d entries", id, len(entries))
			}
		})
	}
}

func TestWriteLeavesNothingWhenTheReportIsBad(t *testing.T) {
	dir := t.TempDir()
	r := sampleReport()
	r.Summary.Skip = 5
	if _, err := Write(dir, r, nil); !errors.Is(err, ErrSummaryMismatch) {
		t.Fatalf("Write = %v, want ErrSummaryMismatch", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("Write left %d entries", len(entries))
	}
}

func TestWriteIntoAMissingFolderFails(t *testing.T) {
	_, err := Write(filepath.Join(t.TempDir(), "absent"), sampleReport(), nil)
	if err == nil {
		t.Fatal("Write into a missing folder succeeded")
	}
}
