package fleet

// The collector's file exporter writes one OTLP JSON object per line: an
// ExportLogsServiceRequest (resourceLogs[].scopeLogs[].logRecords[]).
// otlpScanner (otlpscan.go) reads the members fleet-verify needs.

// The attributes the forwarder sets (see the issue 15 contract).
const (
	attrTrail  = "scispot.trail"
	attrDevice = "scispot.device"
	attrHostID = "host.id"
)

// otlpRecord is one log record of a line: its body and what its
// attributes say about where it belongs. The slices point into the
// scanner, valid until it reads the next line.
type otlpRecord struct {
	body, trail, device []byte
	hasBody             bool
}
