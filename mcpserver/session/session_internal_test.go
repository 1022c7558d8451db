package session

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/audit"
)

// TestEndConnWaitsForTheRecord: Serve and the SDK's end-of-session
// callback both end a session when the client leaves; whichever returns
// first, session.end is already in the file (the process exits right
// after Serve returns).
func TestEndConnWaitsForTheRecord(t *testing.T) {
	for range 50 {
		dir := t.TempDir()
		w, err := audit.Open(dir, audit.SessionInfo{User: "alice", Transport: audit.TransportStdio})
		if err != nil {
			t.Fatal(err)
		}
		c := &conn{key: (*mcp.ServerSession)(nil), w: w, stop: make(chan struct{})}
		h := &Host{log: slog.New(slog.DiscardHandler), conns: map[any]*conn{(*mcp.ServerSession)(nil): c}}
		var wg sync.WaitGroup
		for range 2 {
			wg.Go(func() {
				h.endConn(c, EndClientLeft)
				files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
				if len(files) != 1 {
					t.Errorf("%d audit files", len(files))
					return
				}
				b, _ := os.ReadFile(files[0])
				if !bytes.Contains(b, []byte(`"event":"session.end"`)) {
					t.Errorf("endConn returned before session.end was written:\n%s", b)
				}
			})
		}
		wg.Wait()
		if len(h.conns) != 0 {
			t.Fatal("the ended session is still listed")
		}
	}
}
