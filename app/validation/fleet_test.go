package validation

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scispot/mcp-desktop/mcpserver/localapi"
)

func TestDeliveredRecord(t *testing.T) {
	rec := time.Date(2026, 12, 5, 9, 0, 0, 0, time.UTC)
	after, before := rec.Add(time.Second), rec.Add(-time.Second)
	tests := []struct {
		name       string
		now, start localapi.AuditDestination
		want       delivery
	}{
		{"delivered, nothing waiting", localapi.AuditDestination{LastDelivery: after}, localapi.AuditDestination{}, deliveryDone},
		{"delivered, only later records waiting", localapi.AuditDestination{LastDelivery: after, Backlog: 3, OldestUndelivered: after}, localapi.AuditDestination{}, deliveryDone},
		{"nothing delivered since the record", localapi.AuditDestination{LastDelivery: before}, localapi.AuditDestination{}, deliveryPending},
		{"never delivered", localapi.AuditDestination{Backlog: 40, OldestUndelivered: before}, localapi.AuditDestination{}, deliveryPending},
		// Another trail's delivery does not prove this one's.
		{"delivered, but the record or an older one waits", localapi.AuditDestination{LastDelivery: after, Backlog: 2, OldestUndelivered: rec}, localapi.AuditDestination{}, deliveryPending},
		{"refused since the start", localapi.AuditDestination{LastDelivery: after, Rejected: 3}, localapi.AuditDestination{Rejected: 2}, deliveryRejected},
		{"refused before the start only", localapi.AuditDestination{LastDelivery: after, Rejected: 2}, localapi.AuditDestination{Rejected: 2}, deliveryDone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := deliveredRecord(tt.now, tt.start, rec); got != tt.want {
				t.Fatalf("deliveredRecord = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestFleetDelivery: with an OTLP/HTTP destination on loopback (a
// receiver that acknowledges every batch) the run's record is delivered
// and OQ-14 passes; without a destination it does not apply.
func TestFleetDelivery(t *testing.T) {
	var batches atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if r.URL.Path != "/v1/logs" {
			http.NotFound(w, r)
			return
		}
		batches.Add(1)
		// An empty ExportLogsServiceResponse: everything accepted.
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(http.StatusOK)
	}))
	defer receiver.Close()
	tests := []struct {
		name   string
		policy string
		want   Result
		actual string
	}{
		{"OTLP destination", `{"AuditOTLPEndpoint": "` + receiver.URL + `"}`, Pass, "was delivered to otlp " + receiver.URL},
		{"no destination", `{}`, Skip, "names no audit destination"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			svc := startService(t, policyText(tt.policy))
			// OQ-04 writes a record of the run for OQ-14 to look for.
			cs := runCases(t, Options{Service: svc}, "OQ-04", "OQ-14")
			c := cs[1]
			if c.Result != tt.want || !strings.Contains(c.Actual, tt.actual) {
				t.Fatalf("OQ-14 = %s %q, want %s with %q\nevidence %+v", c.Result, c.Actual, tt.want, tt.actual, c.Evidence)
			}
			t.Logf("OQ-14 %s: %s", c.Result, c.Actual)
		})
	}
	if batches.Load() == 0 {
		t.Fatal("the receiver got nothing")
	}
}
