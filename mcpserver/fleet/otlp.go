package fleet

import (
	"encoding/json"
	"errors"
)

// The collector's file exporter writes one OTLP JSON object per line: an
// ExportLogsServiceRequest (resourceLogs[].scopeLogs[].logRecords[]). Only
// the members fleet-verify needs are decoded, with encoding/json into the
// structs below, which is several times faster than protojson into the
// full generated types; a test round-trips protojson output through it so
// the two cannot drift apart.

type otlpRequest struct {
	ResourceLogs []otlpResourceLogs `json:"resourceLogs"`
}

type otlpResourceLogs struct {
	Resource struct {
		Attributes []otlpKeyValue `json:"attributes"`
	} `json:"resource"`
	ScopeLogs []struct {
		LogRecords []otlpLogRecord `json:"logRecords"`
	} `json:"scopeLogs"`
}

type otlpLogRecord struct {
	Body struct {
		StringValue *string `json:"stringValue"`
	} `json:"body"`
	Attributes []otlpKeyValue `json:"attributes"`
}

type otlpKeyValue struct {
	Key   string `json:"key"`
	Value struct {
		StringValue string `json:"stringValue"`
	} `json:"value"`
}

// The attributes the forwarder sets (see the issue 15 contract).
const (
	attrTrail   = "scispot.trail"
	attrDevice  = "scispot.device"
	attrSession = "session.id"
	attrHostID  = "host.id"
)

// otlpRecord is one log record of a line: its body and what its
// attributes say about where it belongs.
type otlpRecord struct {
	body          *string
	trail, device string
}

var errNoBody = errors.New("the log record has no string body")

// parseOTLP decodes one OTLP JSON line and calls fn for each log record,
// numbered from 1 within the line.
func parseOTLP(line []byte, req *otlpRequest, fn func(i int, r otlpRecord)) error {
	*req = otlpRequest{}
	if err := json.Unmarshal(line, req); err != nil {
		return err
	}
	i := 0
	for _, rl := range req.ResourceLogs {
		host := attr(rl.Resource.Attributes, attrHostID)
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				i++
				r := otlpRecord{body: lr.Body.StringValue, trail: attr(lr.Attributes, attrTrail), device: attr(lr.Attributes, attrDevice)}
				if r.device == "" {
					r.device = host
				}
				fn(i, r)
			}
		}
	}
	return nil
}

func attr(kvs []otlpKeyValue, key string) string {
	for _, kv := range kvs {
		if kv.Key == key {
			return kv.Value.StringValue
		}
	}
	return ""
}
