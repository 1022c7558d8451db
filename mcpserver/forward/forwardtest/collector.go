// Package forwardtest starts the real receivers the audit forwarding is
// tested and measured against: the OpenTelemetry Collector, built from its
// official modules at one pinned release (../testdata/otelcol), and
// Debian's rsyslog with a TLS listener. It reads what they stored so that
// tests can check every record arrived.
package forwardtest

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// collectorModule is the folder of the collector's own Go module.
func collectorModule() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "testdata", "otelcol")
}

// CollectorBinary builds the test collector once per go.sum (minutes on a
// small machine) into the user's cache folder and returns its path. The
// build is shared between test processes through a file lock.
func CollectorBinary(t testing.TB) string {
	t.Helper()
	mod := collectorModule()
	sum, err := os.ReadFile(filepath.Join(mod, "go.sum"))
	if err != nil {
		t.Fatalf("the collector module: %v", err)
	}
	main, _ := os.ReadFile(filepath.Join(mod, "main.go"))
	h := sha256.Sum256(append(sum, main...))
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "scispot-mcp-test", "otelcol-"+hex.EncodeToString(h[:8]))
	bin := filepath.Join(dir, "otelcol")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := flock.New(filepath.Join(dir, ".lock"))
	if err := lock.Lock(); err != nil {
		t.Fatal(err)
	}
	defer lock.Unlock()
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	t.Logf("building the OpenTelemetry Collector for the tests into %s (once; takes minutes)", dir)
	build := exec.Command("go", "build", "-trimpath", "-o", bin+".tmp", ".")
	build.Dir = mod
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the test collector: %v\n%s", err, out)
	}
	if err := os.Rename(bin+".tmp", bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// Collector is a running OpenTelemetry Collector: OTLP/HTTP receiver on a
// loopback port, file exporter into File.
type Collector struct {
	t        testing.TB
	bin      string
	config   string
	Endpoint string // http://127.0.0.1:PORT
	File     string // the file exporter's OTLP JSON lines
	cmd      *exec.Cmd
	exited   chan struct{}
	log      *logBuffer
}

// StartCollector starts a collector writing into dir; it is stopped when
// the test ends.
func StartCollector(t testing.TB, dir string) *Collector {
	t.Helper()
	bin := CollectorBinary(t)
	port := FreePort(t)
	c := &Collector{t: t, bin: bin, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port),
		File: filepath.Join(dir, "otlp-logs.jsonl"), config: filepath.Join(dir, "otelcol.yaml"), log: &logBuffer{}}
	// No telemetry server (tests run several collectors at once). With
	// rotation set the file exporter writes through lumberjack, which
	// appends to the file a restart finds (append: true is refused beside
	// rotation), and it writes each request before the receiver
	// acknowledges it (no buffer: flush_interval is ignored), so a
	// collector killed outright has lost nothing it acknowledged. The
	// size limit is never reached in a test.
	conf := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  file:
    path: %s
    rotation:
      max_megabytes: 1000000
service:
  telemetry:
    logs:
      level: warn
    metrics:
      level: none
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, port, c.File)
	if err := os.WriteFile(c.config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(func() { c.Stop(syscall.SIGKILL) })
	return c
}

// Start starts the collector (again) and waits for its port.
func (c *Collector) Start() {
	c.t.Helper()
	cmd := exec.Command(c.bin, "--config", "file:"+c.config)
	cmd.Stdout, cmd.Stderr = c.log, c.log
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.cmd = cmd
	c.exited = make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(c.exited)
	waitPort(c.t, c.Endpoint[len("http://"):], c.exited, c.log)
}

// Stop ends the collector with sig (SIGTERM: a clean stop; SIGKILL: a
// crash) and waits for it.
func (c *Collector) Stop(sig syscall.Signal) {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	c.cmd = nil
}

// Arrival is one record as a receiver stored it.
type Arrival struct {
	Trail string
	Seq   int64
	Body  string // the record's line
}

// ReadCollectorFile reads the file exporter's output: one OTLP JSON
// ExportLogsServiceRequest per line.
func ReadCollectorFile(path string) ([]Arrival, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Arrival
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 256<<20)
	for sc.Scan() {
		var req struct {
			ResourceLogs []struct {
				ScopeLogs []struct {
					LogRecords []struct {
						Body struct {
							StringValue string `json:"stringValue"`
						} `json:"body"`
						Attributes []struct {
							Key   string `json:"key"`
							Value struct {
								StringValue string `json:"stringValue"`
								IntValue    any    `json:"intValue"`
							} `json:"value"`
						} `json:"attributes"`
					} `json:"logRecords"`
				} `json:"scopeLogs"`
			} `json:"resourceLogs"`
		}
		line := sc.Bytes()
		if err := json.Unmarshal(line, &req); err != nil {
			// A collector killed mid-write leaves a torn line, and the one
			// it writes after its restart is glued to it: read from the
			// last object start. (Or the collector is writing it now.)
			i := bytes.LastIndex(line, []byte(`{"resourceLogs"`))
			if i <= 0 || json.Unmarshal(line[i:], &req) != nil {
				continue
			}
		}
		for _, rl := range req.ResourceLogs {
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					a := Arrival{Body: lr.Body.StringValue}
					for _, kv := range lr.Attributes {
						switch kv.Key {
						case "scispot.trail":
							a.Trail = kv.Value.StringValue
						case "scispot.seq":
							// OTLP JSON writes 64-bit integers as strings.
							a.Seq, _ = strconv.ParseInt(fmt.Sprint(kv.Value.IntValue), 10, 64)
						}
					}
					out = append(out, a)
				}
			}
		}
	}
	return out, sc.Err()
}

// FreePort returns a loopback TCP port nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitPort waits until addr accepts connections.
func waitPort(t testing.TB, addr string, exited <-chan struct{}, log *logBuffer) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("the receiver exited before listening on %s:\n%s", addr, log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s:\n%s", addr, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
