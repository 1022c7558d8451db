package guard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/scispot/mcp-desktop/mcpserver/guard"
)

func BenchmarkRateLimiter(b *testing.B) {
	l := guard.NewRateLimiter(60)
	now := t0
	for b.Loop() {
		now = now.Add(time.Second) // one call a second: always allowed, window full
		l.Allow(now)
	}
}

// BenchmarkHourlyBudget is the per-call cost: one Check before the call
// and one Add after it, each a locked read (and write) of the usage file.
func BenchmarkHourlyBudget(b *testing.B) {
	ctx := context.Background()
	now := t0
	budget, err := guard.OpenHourlyBudget(filepath.Join(b.TempDir(), "usage.json"), 1<<50,
		&guard.BudgetOptions{Now: func() time.Time { return now }})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		now = now.Add(time.Second) // the file holds about an hour of minutes
		if _, err := budget.Check(ctx); err != nil {
			b.Fatal(err)
		}
		if err := budget.Add(ctx, 4096); err != nil {
			b.Fatal(err)
		}
	}
}

// demoRows is a search result page of realistic rows: the negative corpus
// of the injection package as Notes.
func demoRows(b *testing.B, n int) string {
	raw, err := os.ReadFile("injection/testdata/negatives.json")
	if err != nil {
		b.Fatal(err)
	}
	var notes []struct{ Text string }
	if err := json.Unmarshal(raw, &notes); err != nil {
		b.Fatal(err)
	}
	type row struct {
		UUID     string         `json:"uuid"`
		Labsheet string         `json:"labsheet"`
		Data     map[string]any `json:"data"`
	}
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{UUID: fmt.Sprintf("0b2c4d6e-8f01-4a23-b456-%012d", i), Labsheet: "Cell Lines",
			Data: map[string]any{"ID": fmt.Sprintf("CL-%04d", i), "Name": "HEK293T clone", "Status": "Active",
				"Passage": 12 + i%20, "Medium": "DMEM + 10% FBS", "Owner": "Priya Sharma", "Notes": notes[i%len(notes)].Text}}
	}
	out, err := json.MarshalIndent(map[string]any{"labsheet": "Cell Lines", "total": n, "rows": rows}, "", "  ")
	if err != nil {
		b.Fatal(err)
	}
	return string(out)
}

func BenchmarkApplyInjection(b *testing.B) {
	for _, n := range []int{25, 100} {
		text := demoRows(b, n)
		var structured any
		if err := json.Unmarshal([]byte(text), &structured); err != nil {
			b.Fatal(err)
		}
		res := &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
		b.Run(fmt.Sprintf("rows-%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if _, flagged, err := guard.ApplyInjection(res, guard.ActionFlag); err != nil || flagged {
					b.Fatal(flagged, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(float64(len(text))/1024), "ns/KiB")
		})
		// The same rows also as structured content, as a tool with an
		// output schema returns them.
		both := &mcp.CallToolResult{Content: res.Content, StructuredContent: structured}
		b.Run(fmt.Sprintf("rows-%d-structured", n), func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				if _, flagged, err := guard.ApplyInjection(both, guard.ActionRedact); err != nil || flagged {
					b.Fatal(flagged, err)
				}
			}
		})
	}
}

func BenchmarkHourlyBudgetCheckOnly(b *testing.B) {
	ctx := context.Background()
	now := t0
	budget, _ := guard.OpenHourlyBudget(filepath.Join(b.TempDir(), "usage.json"), 1<<50,
		&guard.BudgetOptions{Now: func() time.Time { return now }})
	for i := range 60 {
		now = t0.Add(time.Duration(i) * time.Minute)
		budget.Add(ctx, 4096)
	}
	for b.Loop() {
		if _, err := budget.Check(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
