package fleet

import (
	"bytes"
	"context"
	"os"
	"testing"
)

// BenchmarkReadOTLP is for profiling the reader (go test -bench ReadOTLP
// -cpuprofile); make bench's fleet row is the measured figure.
func BenchmarkReadOTLP(b *testing.B) {
	dir := b.TempDir()
	var trails []string
	for i := range 10 {
		d := newDevice(b, string(rune('a'+i)))
		trails = append(trails, writeTrail(b, dir, session{dev: d, user: "u", token: d.id[:8], client: "claude-ai", calls: 996, checkpointAfter: 500}))
	}
	data, err := os.ReadFile(otlpFile(b, dir, "logs.jsonl", 500, trails...))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for range b.N {
		v := New(Options{AllowedClients: []string{"claude-ai"}})
		if err := v.Read(context.Background(), "logs", bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
		if rep := v.Report(); rep.Found() {
			b.Fatal(problems(rep))
		}
	}
	b.ReportMetric(float64(b.N*10000)/b.Elapsed().Seconds(), "records/s")
}
