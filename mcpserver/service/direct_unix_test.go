//go:build unix

package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/scispot/mcp-desktop/app/clients"
	"github.com/scispot/mcp-desktop/device/statedir"
	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// TestOwnedReader is the person trying to make the root service read
// what they cannot: links, FIFOs, other owners' files, huge files.
func TestOwnedReader(t *testing.T) {
	home := t.TempDir()
	uid := os.Geteuid()
	own := ownedReader(uid)
	read := func(p string) ([]byte, error) { return own(p, false) }
	write := func(name, body string) string {
		p := filepath.Join(home, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("mcp.json", `{"mcpServers": {}}`)
	if b, err := read(good); err != nil || string(b) != `{"mcpServers": {}}` {
		t.Fatalf("own file: %q, %v", b, err)
	}
	secret := filepath.Join(t.TempDir(), "shadow")
	os.WriteFile(secret, []byte("root only"), 0o600)
	link := filepath.Join(home, "link.json")
	os.Symlink(secret, link)
	fifo := filepath.Join(home, "fifo.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := read(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	if _, err := read(fifo); err == nil {
		t.Error("a FIFO was read")
	}
	if _, err := read(filepath.Join(home, "missing.json")); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
	// Another owner: the same file read on behalf of another uid.
	if _, err := ownedReader(uid+1)(good, false); err == nil || !strings.Contains(err.Error(), "belongs to uid") {
		t.Errorf("foreign file: %v", err)
	}
	// A machine-level file must be root's; a person's file, theirs, even
	// outside the home (a project folder named in ~/.claude.json).
	if _, err := ownedReader(uid+1)(secret, false); err == nil {
		t.Error("a file of another owner was read as the person's")
	}
	if uid != 0 {
		if _, err := own(secret, true); err == nil {
			t.Error("a non-root file was read as machine-level")
		}
	}
	big := filepath.Join(home, "big.json")
	f, _ := os.Create(big)
	f.Truncate(maxConfigBytes + 1)
	f.Close()
	if _, err := read(big); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Errorf("big file: %v", err)
	}
}

// TestRecordDirectOnce records each finding once while it stays, and
// again after it was gone.
func TestRecordDirectOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := &Service{cfg: Config{DeviceID: "dev"}}
	home := t.TempDir()
	cursor := filepath.Join(home, ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(cursor), 0o700)
	env := clients.Env{GOOS: "linux", Home: home}
	scan := func() []clients.Direct {
		found, err := clients.FindDirect(ctx, env, clients.DirectOptions{Read: ownedReader(os.Geteuid())})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	count := func() int {
		recs, err := audit.Read(ctx, statedir.AuditDir(dir), audit.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range recs {
			if r.Event == audit.EventBypassFound {
				n++
				if r.Client.Name != clients.Cursor || !strings.Contains(r.Reason, cursor) || strings.Contains(string(r.Args)+r.Reason, "sst_live_") {
					t.Errorf("record: %+v", r)
				}
			}
		}
		return n
	}
	os.WriteFile(cursor, []byte(`{"mcpServers": {"s": {"url": "https://mcp.scispot.io/", "headers": {"Authorization": "Bearer sst_live_0123456789abcdef"}}}}`), 0o600)
	for range 3 {
		if err := s.recordDirect(ctx, dir, "ann", scan()); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(); n != 2 { // url and token
		t.Fatalf("%d records after three checks, want 2", n)
	}
	os.WriteFile(cursor, []byte(`{"mcpServers": {}}`), 0o600)
	s.recordDirect(ctx, dir, "ann", scan())
	os.WriteFile(cursor, []byte(`{"mcpServers": {"s": {"url": "https://mcp.scispot.io/"}}}`), 0o600)
	s.recordDirect(ctx, dir, "ann", scan())
	if n := count(); n != 3 {
		t.Fatalf("%d records after the entry came back, want 3", n)
	}
}

// The periodic check takes the account only from the name of its folder
// in the service's state, never from anything inside it.
func TestFolderAccount(t *testing.T) {
	tests := []struct {
		folder string
		uid    int
		ok     bool
	}{
		{"uid-1000", 1000, true},
		{"uid-0", 0, true},
		{"uid--1", 0, false},
		{"uid-", 0, false},
		{"uid-12x", 0, false},
		{"sid-S-1-5-21-1-2-3-1001", 0, false},
		{"1000", 0, false},
	}
	for _, tt := range tests {
		uid, ok := folderAccount(tt.folder)
		if ok != tt.ok || (ok && uid != tt.uid) {
			t.Errorf("folderAccount(%q) = %d, %v; want %d, %v", tt.folder, uid, ok, tt.uid, tt.ok)
		}
	}
}
