// Package demo is the built-in demo workspace: an in-process MCP server that
// publishes the same 27 tools as Scispot's own MCP server, over deterministic
// sample lab data, so the gateway and the tray run on a machine with no
// Scispot account.
//
// The gateway connects to it exactly as it connects to the real upstream:
//
//	ct, st := mcp.NewInMemoryTransports()
//	go demo.NewServer().Run(ctx, st)
//	session, err := client.Connect(ctx, ct, nil)
//
// Every [NewServer] call builds its own copy of the sample workspace. Write
// tools change only that copy, and nothing is ever persisted, so a demo
// session cannot leak into another one or into a real workspace.
//
// The sample data is fixed: the same labsheets, rows, UUIDs, hrids and
// dates every time, so tests and other packages can rely on them. One Cell
// Lines row ([InjectedRowID]) carries an injected instruction in its Notes,
// so the gateway's injection guard can be seen working.
package demo

import (
	"log/slog"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ImplementationName is the server name the demo workspace reports in its
// MCP implementation info.
const ImplementationName = "scispot-demo"

// Fixed facts about the sample data that tests and other packages rely on.
const (
	// InjectedRowID is the ID of the one Cell Lines row whose Notes carry
	// a prompt-injection attempt.
	InjectedRowID = "CL-0137"
	// PlateBarcode is the barcode of the 96-well plate manifest.
	PlateBarcode = "PLT-00142"
)

// Options adjusts a demo server. The zero value and nil are valid.
type Options struct {
	// Now stamps records that write tools create or change. Nil means
	// time.Now. The sample data itself has fixed dates whatever Now says.
	Now func() time.Time
	// Logger receives the MCP server's own diagnostics. Nil discards them.
	Logger *slog.Logger
}

// NewServer returns a fresh demo workspace server. Each call has its own
// in-memory copy of the data: writes change only that copy.
func NewServer() *mcp.Server { return New(nil) }

// New is [NewServer] with options; opts may be nil.
func New(opts *Options) *mcp.Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	s := mcp.NewServer(
		&mcp.Implementation{Name: ImplementationName, Title: "Scispot demo workspace", Version: "1.0.0"},
		&mcp.ServerOptions{
			Instructions: "This is the Scispot demo workspace: sample lab data (labsheets, ELN labspaces, " +
				"storage, manifests, labflows). Changes made with write tools live only in this process's " +
				"in-memory copy and are discarded when it exits.",
			Logger: o.Logger,
		},
	)
	w := newWorkspace(o.Now)
	w.registerLabsheetTools(s)
	w.registerELNTools(s)
	w.registerStorageTools(s)
	return s
}
