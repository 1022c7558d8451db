package validation

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scispot/mcp-desktop/mcpserver/demo"
)

// readRequirements is the table as the binary embeds it.
func readRequirements(t *testing.T) []Requirement {
	t.Helper()
	reqs, err := Requirements()
	if err != nil {
		t.Fatal(err)
	}
	return reqs
}

// runnerCases are the IDs and requirements of every case a run produces.
func runnerCases() map[string][]string {
	r := &run{}
	out := map[string][]string{}
	for _, d := range append(r.iqCases(), r.oqCases()...) {
		out[d.ID] = d.Requirements
	}
	tc := r.tokenCase(&Report{})
	out[tc.ID] = tc.Requirements
	return out
}

// TestRequirementsTrace: every requirement names tests that exist and cases
// the runner makes, and the cases agree with the table both ways.
func TestRequirementsTrace(t *testing.T) {
	reqs := readRequirements(t)
	cases := runnerCases()
	testName := regexp.MustCompile(`^[a-z0-9/_-]+:Test[A-Za-z0-9_]+$`)
	ids := map[string]bool{}
	for _, q := range reqs {
		if !reqID.MatchString(q.ID) || ids[q.ID] {
			t.Errorf("requirement ID %q is malformed or repeated", q.ID)
		}
		ids[q.ID] = true
		if len(q.Tests) == 0 || len(q.Cases) == 0 {
			t.Errorf("%s names %d tests and %d cases; it needs at least one of each", q.ID, len(q.Tests), len(q.Cases))
		}
		for _, tn := range q.Tests {
			if !testName.MatchString(tn) {
				t.Errorf("%s: test %q is not package-dir:TestName", q.ID, tn)
				continue
			}
			dir, name, _ := strings.Cut(tn, ":")
			if !testExists(t, filepath.Join("..", "..", dir), name) {
				t.Errorf("%s names %s, which is not a test in %s", q.ID, name, dir)
			}
		}
		for _, c := range q.Cases {
			reqsOfCase, ok := cases[c]
			if !ok {
				t.Errorf("%s names case %s, which the runner does not make", q.ID, c)
			} else if !slices.Contains(reqsOfCase, q.ID) {
				t.Errorf("%s names case %s, but %s verifies %v", q.ID, c, c, reqsOfCase)
			}
		}
	}
	for id, rs := range cases {
		for _, q := range rs {
			if !ids[q] {
				t.Errorf("case %s verifies %s, which requirements.md does not list", id, q)
			}
			var row *Requirement
			for i := range reqs {
				if reqs[i].ID == q {
					row = &reqs[i]
				}
			}
			if row != nil && !slices.Contains(row.Cases, id) {
				t.Errorf("case %s verifies %s, but its row does not name %s", id, q, id)
			}
		}
	}
}

func testExists(t *testing.T, dir, name string) bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*_test.go"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "\nfunc "+name+"(") {
			return true
		}
	}
	return false
}

func TestInjectedRowIsTheDemos(t *testing.T) {
	if injectedRowID != demo.InjectedRowID {
		t.Fatalf("injectedRowID = %s, the demo's is %s", injectedRowID, demo.InjectedRowID)
	}
}

func TestSumsCheck(t *testing.T) {
	root := t.TempDir()
	write := func(name, body string) {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("usr/bin/scispot-mcp", "binary")
	write("usr/share/doc/x", "doc")
	sums := filepath.Join(t.TempDir(), "SHA256SUMS")
	good := "" +
		Digest("", []byte("binary")).SHA256 + "  usr/bin/scispot-mcp\n" +
		Digest("", []byte("doc")).SHA256 + " *usr/share/doc/x\n"
	tests := []struct {
		name    string
		sums    string
		change  func()
		files   int
		bad     string
		wantErr string
	}{
		{name: "all match", sums: good, files: 2},
		{name: "changed file is named", sums: good, change: func() { write("usr/share/doc/x", "dpc") }, files: 2, bad: "usr/share/doc/x: SHA-256"},
		{name: "missing file is named", sums: good + Digest("", nil).SHA256 + "  usr/bin/gone\n", files: 3, bad: "usr/bin/gone"},
		{name: "not a sums line", sums: "hello world\n", wantErr: "line 1 is not a sha256sum line"},
		{name: "path escapes root", sums: Digest("", nil).SHA256 + "  ../etc/passwd\n", wantErr: "not a sha256sum line"},
		{name: "empty", sums: "\n", wantErr: "lists no files"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write("usr/share/doc/x", "doc")
			if tt.change != nil {
				tt.change()
			}
			os.WriteFile(sums, []byte(tt.sums), 0o644)
			files, bad, err := CheckSums(sums, root)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("CheckSums error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || files != tt.files {
				t.Fatalf("CheckSums = %d, %v, %v", files, bad, err)
			}
			if got := strings.Join(bad, "\n"); (tt.bad == "") != (got == "") || !strings.Contains(got, tt.bad) {
				t.Fatalf("bad = %q, want %q", got, tt.bad)
			}
		})
	}
	// IQ-01 skips without a package install rather than pass.
	var c Case
	(&run{o: Options{SumsFile: filepath.Join(root, "none")}}).checkSums(&c)
	if c.Result != Skip {
		t.Fatalf("IQ-01 without SHA256SUMS = %s %s", c.Result, c.Actual)
	}
}

func FuzzCheckSums(f *testing.F) {
	f.Add([]byte(Digest("", []byte("x")).SHA256 + "  a\n"))
	f.Add([]byte(Digest("", nil).SHA256 + " *b/c\n\n"))
	f.Add([]byte("garbage"))
	root := f.TempDir()
	os.WriteFile(filepath.Join(root, "a"), []byte("x"), 0o644)
	f.Fuzz(func(t *testing.T, sums []byte) {
		p := filepath.Join(t.TempDir(), "SHA256SUMS")
		if err := os.WriteFile(p, sums, 0o644); err != nil {
			t.Fatal(err)
		}
		files, bad, err := CheckSums(p, root)
		if err == nil && (files == 0 || len(bad) > files) {
			t.Fatalf("CheckSums = %d files, %d bad, no error", files, len(bad))
		}
	})
}
