package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/forward/forwardtest"
	"github.com/scispot/mcp-desktop/mcpserver/upstream"
	"github.com/scispot/mcp-desktop/mcpserver/upstream/upstreamtest"
)

// row is one line of the table.
type row struct {
	figure, target, measured string
}

func TestBenchTable(t *testing.T) {
	if os.Getenv("SCISPOT_BENCH") != "1" {
		t.Skip("set SCISPOT_BENCH=1 (make bench) to measure")
	}
	bin := buildBinary(t)
	// SCISPOT_BENCH_ONLY=kill,serve measures only the named rows (while
	// working on one figure).
	only := strings.FieldsFunc(os.Getenv("SCISPOT_BENCH_ONLY"), func(r rune) bool { return r == ',' || r == ' ' })
	var rows []row
	for _, m := range []struct {
		name string
		fn   func(*testing.T, string) []row
	}{
		{"gateway", benchGatewayOverhead},
		{"gateway-fwd", benchGatewayForwarding},
		{"serve", benchServeStart},
		{"append", benchAuditAppend},
		{"verify", benchAuditVerify},
		{"fleet-verify", benchFleetVerify},
		{"kill", benchKillSwitch},
		{"feed", benchFeedLatency},
		{"injection", benchInjection},
		{"tray", benchTrayIdle},
		{"delivery", benchDeliveryLag},
		{"catchup", benchCatchUp},
		{"fleet", benchFleet},
	} {
		if len(only) == 0 || slices.Contains(only, m.name) {
			rows = append(rows, m.fn(t, bin)...)
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "\n| %-58s | %-22s | %-40s |\n", "figure", "target", "measured")
	fmt.Fprintf(&b, "|%s|%s|%s|\n", strings.Repeat("-", 60), strings.Repeat("-", 24), strings.Repeat("-", 42))
	for _, r := range rows {
		fmt.Fprintf(&b, "| %-58s | %-22s | %-40s |\n", r.figure, r.target, r.measured)
	}
	fmt.Println(b.String())
}

// buildBinary builds the programs as `make build` does: scispot-mcp
// without cgo, the service scispot-mcpd (cgo for PAM), and the tray binary
// scispot-mcp hands tray command lines to. It returns scispot-mcp's path.
//
// SCISPOT_BENCH_BIN names an scispot-mcp to measure instead (scispot-mcpd
// and, for the tray row, scispot-mcp-tray beside it), to compare builds.
func buildBinary(t *testing.T) string {
	if bin := os.Getenv("SCISPOT_BENCH_BIN"); bin != "" {
		return bin
	}
	dir := t.TempDir()
	for _, name := range []string{"scispot-mcp", "scispot-mcpd", "scispot-mcp-tray"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(dir, name), "../cmd/"+name)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
		if name == "scispot-mcp" {
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "scispot-mcp")
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)*50/100], s[min(len(s)-1, len(s)*99/100)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d.Microseconds())/1000) }

// benchGatewayOverhead compares a client calling the loopback upstream
// directly with the same client calling through `scispot-mcp serve` over
// stdio: the relay, the hop to scispot-mcpd, and there the policy, the
// sealed token, the guards and the audit append.
func benchGatewayOverhead(t *testing.T, bin string) []row {
	return gatewayOverhead(t, bin, "gateway overhead per tools/call (1000 calls, loopback)", "")
}

// benchGatewayForwarding is the same with every record forwarded to the
// real OpenTelemetry Collector: forwarding runs after the record is
// fsync'd, off the call path, so the figure should not move.
func benchGatewayForwarding(t *testing.T, bin string) []row {
	col := forwardtest.StartCollector(t, t.TempDir())
	return gatewayOverhead(t, bin, "gateway overhead, records forwarded to a collector", fmt.Sprintf(`, "AuditOTLPEndpoint": %q`, col.Endpoint))
}

func gatewayOverhead(t *testing.T, bin, figure, extraPolicy string) []row {
	const n = 1000
	if os.Geteuid() != 0 || os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return []row{{figure, "p50 < 1 ms, p99 < 3 ms", "skipped: needs root and a keyring session"}}
	}
	token := randomToken()
	up := upstreamtest.New(t, token)
	restore := installPolicy(t, fmt.Sprintf(`{"UpstreamURL": %q, "ManagedBy": "bench", "MaxCallsPerMinute": 1000000, "MaxBytesPerHour": 10000000000%s}`, up.URL, extraPolicy))
	defer restore()
	ws := newWorkstation(t, bin)
	set := ws.command("token", "set", "--no-verify")
	set.Stdin = strings.NewReader(token + "\n")
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("token set: %v\n%s", err, out)
	}
	defer ws.command("token", "remove").Run()
	ctx := context.Background()

	direct, err := upstream.NewHTTP(up.URL, token, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	params := &mcp.CallToolParams{Name: "get_labsheet_row", Arguments: map[string]any{"labsheet": "Cell Lines", "row_id": "abc"}}
	timeCalls := func(call func() error) []time.Duration {
		for range 50 { // warm up connections and caches
			if err := call(); err != nil {
				t.Fatal(err)
			}
		}
		out := make([]time.Duration, n)
		for i := range out {
			start := time.Now()
			if err := call(); err != nil {
				t.Fatal(err)
			}
			out[i] = time.Since(start)
		}
		return out
	}
	directTimes := timeCalls(func() error { _, err := direct.CallTool(ctx, params); return err })

	cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(ctx, &mcp.CommandTransport{Command: ws.command("serve")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	viaTimes := timeCalls(func() error {
		res, err := cs.CallTool(ctx, params)
		if err == nil && res.IsError {
			err = fmt.Errorf("call failed: %v", res.Content)
		}
		return err
	})
	d50, d99 := percentiles(directTimes)
	g50, g99 := percentiles(viaTimes)
	return []row{{figure, "p50 < 1 ms, p99 < 3 ms",
		fmt.Sprintf("+%s p50, +%s p99 (direct %s / %s)", ms(g50-d50), ms(g99-d99), ms(d50), ms(d99))}}
}

// benchServeStart measures process start to handshake answered, with the
// service already running as it is on a workstation.
func benchServeStart(t *testing.T, bin string) []row {
	const n = 30
	ws := newWorkstation(t, bin)
	times := make([]time.Duration, n)
	for i := range times {
		cmd := ws.command("serve", "--demo")
		start := time.Now()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, &mcp.ClientSessionOptions{ProtocolVersion: "2025-06-18"})
		if err != nil {
			t.Fatal(err)
		}
		times[i] = time.Since(start)
		cs.Close()
	}
	p50, p99 := percentiles(times)
	return []row{{"serve start to handshake answered (demo, 30 runs)", "< 50 ms", fmt.Sprintf("p50 %s, max %s", ms(p50), ms(p99))}}
}

func randomToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return "sst_" + hex.EncodeToString(b)
}

const policyPath = "/etc/scispot-mcp/policy.json"

func installPolicy(t *testing.T, body string) (restore func()) {
	saved, err := os.ReadFile(policyPath)
	had := err == nil
	if err := os.MkdirAll(filepath.Dir(policyPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(policyPath, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return func() {
		if had {
			os.WriteFile(policyPath, saved, 0o644)
		} else {
			os.Remove(policyPath)
		}
	}
}
