package fleet

import (
	"bytes"
	"context"
	"strings"
	"testing"

	common "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logs "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

func TestParseSyslog(t *testing.T) {
	rec := `{"v":1,"seq":2,"event":"tool.call","hash":"ab"}`
	for _, tc := range []struct {
		name, line, msg, trail, seq string
		err                         bool
	}{
		{"rsyslog line", `<110>1 2026-12-05T07:00:00.123456+00:00 lab-pc scispot-mcpd 42 tool.call [scispot@32473 trail="T-s" session="s" seq="2" hash="ab" device="d"] ` + rec, rec, "T-s", "2", false},
		{"BOM before the message", "<110>1 - h a - m [scispot@32473 trail=\"T\"] \xef\xbb\xbf" + rec, rec, "T", "", false},
		{"escaped values and other elements", `<110>1 - h a - m [other@1 x="a\]b"][scispot@32473 trail="T\"1\\" seq="9"] ` + rec, rec, `T"1\`, "9", false},
		{"no structured data", `<110>1 - h a - m - ` + rec, rec, "", "", false},
		{"rsyslog's extra space and CR", `<110>1 - h a - m - ` + "  " + rec + "\r", rec, "", "", false},
		{"not syslog", `hello`, "", "", "", true},
		{"PRI out of range", `<999>1 - h a - m - x`, "", "", "", true},
		{"version 0", `<13>0 - h a - m - x`, "", "", "", true},
		{"header cut", `<13>1 - h a`, "", "", "", true},
		{"unclosed value", `<13>1 - h a - m [scispot@32473 trail="T] x`, "", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m syslogMessage
			err := parseSyslog([]byte(tc.line), &m)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if err == nil && (string(m.msg) != tc.msg || string(m.trail) != tc.trail || string(m.seq) != tc.seq) {
				t.Fatalf("msg %q trail %q seq %q", m.msg, m.trail, m.seq)
			}
		})
	}
}

// Whatever protojson writes (compact, indented, with its deliberate
// random spacing, with proto field names) must read the same.
func TestOTLPReadsProtojson(t *testing.T) {
	dir := t.TempDir()
	d := newDevice(t, "x")
	path := writeTrail(t, dir, session{dev: d, user: "alice", token: "fp", client: "c", calls: 2})
	lines := trailLines(t, path)
	var recs []*logs.LogRecord
	for _, l := range lines {
		recs = append(recs, logRecord(t, "T-x", l))
	}
	compact := otlpLine(t, d.id, recs)
	var msg logs.LogsData
	if err := protojson.Unmarshal(compact, &msg); err != nil {
		t.Fatal(err)
	}
	for _, opts := range []protojson.MarshalOptions{{}, {Indent: "  "}, {Multiline: true}, {UseProtoNames: true}, {EmitUnpopulated: true}} {
		b, err := opts.Marshal(&msg)
		if err != nil {
			t.Fatal(err)
		}
		b = bytes.ReplaceAll(b, []byte("\n"), nil) // one line, as the exporter writes it
		var got [][]byte
		var sc otlpScanner
		err = sc.parse(b, func(i int, r otlpRecord) {
			if string(r.device) != d.id || string(r.trail) != "T-x" || !r.hasBody {
				t.Fatalf("record %d: device %q trail %q", i, r.device, r.trail)
			}
			got = append(got, bytes.Clone(r.body))
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(lines) {
			t.Fatalf("%d records, want %d", len(got), len(lines))
		}
		for i := range got {
			if !bytes.Equal(got[i], lines[i]) {
				t.Fatalf("body %d changed:\n%s\n%s", i, got[i], lines[i])
			}
		}
	}
}

func FuzzParseSyslog(f *testing.F) {
	dir := f.TempDir()
	d := newDevice(f, "x")
	for _, l := range trailLines(f, writeTrail(f, dir, session{dev: d, user: "u", token: "t", calls: 1})) {
		f.Add(syslogLine(f, "T-x", l))
	}
	f.Add([]byte(`<13>1 - h a - m [a@1 b="\]"][scispot@32473 seq="1"] x`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var m syslogMessage
		if err := parseSyslog(line, &m); err != nil {
			return
		}
		if len(m.msg) > len(line) {
			t.Fatalf("message longer than the line")
		}
		if len(m.msg) > 0 && !bytes.Contains(line, m.msg) {
			t.Fatalf("message %q is not part of the line", m.msg)
		}
	})
}

// FuzzParseOTLP holds the scanner to protojson's reading of the official
// OTLP types: whatever protojson accepts, the scanner reads the same
// bodies and attributes from.
func FuzzParseOTLP(f *testing.F) {
	dir := f.TempDir()
	d := newDevice(f, "x")
	lines := trailLines(f, writeTrail(f, dir, session{dev: d, user: "u", token: "t", calls: 1}))
	var recs []*logs.LogRecord
	for _, l := range lines {
		recs = append(recs, logRecord(f, "T-x", l))
	}
	f.Add(otlpLine(f, d.id, recs))
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"intValue":"3"}}]}]}]}`))
	f.Add([]byte(`{"resource_logs":[{"scope_logs":[{"log_records":[{"body":{"string_value":"\ud83d\ude00\ud800x"},"attributes":[{"key":"scispot.trail","value":{"stringValue":"t"}}]}]}],"resource":{"attributes":[{"key":"host.id","value":{"stringValue":"h"}}]}}]}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var sc otlpScanner
		var got []otlpRecord
		err := sc.parse(line, func(i int, r otlpRecord) {
			if i != len(got)+1 {
				t.Fatalf("record numbered %d, want %d", i, len(got)+1)
			}
			r.body, r.trail, r.device = bytes.Clone(r.body), bytes.Clone(r.trail), bytes.Clone(r.device)
			got = append(got, r)
		})
		// The whole verifier takes any line without panicking.
		v := New(Options{AllowedClients: []string{"c"}})
		v.Read(context.Background(), "fuzz", strings.NewReader(string(line)+"\n"+string(line)))
		v.Report()

		var ref logs.LogsData
		if protojson.Unmarshal(line, &ref) != nil {
			return
		}
		if err != nil {
			t.Fatalf("protojson reads the line, the scanner fails: %v", err)
		}
		var want []otlpRecord
		for _, rl := range ref.ResourceLogs {
			host := lastAttr(rl.GetResource().GetAttributes(), attrHostID)
			for _, sl := range rl.ScopeLogs {
				for _, lr := range sl.LogRecords {
					r := otlpRecord{trail: []byte(lastAttr(lr.Attributes, attrTrail)), device: []byte(lastAttr(lr.Attributes, attrDevice))}
					if sv, ok := lr.GetBody().GetValue().(*common.AnyValue_StringValue); ok {
						r.body, r.hasBody = []byte(sv.StringValue), true
					}
					if len(r.device) == 0 {
						r.device = []byte(host)
					}
					want = append(want, r)
				}
			}
		}
		if len(got) != len(want) {
			t.Fatalf("%d records, protojson reads %d", len(got), len(want))
		}
		for i := range got {
			g, w := got[i], want[i]
			if !bytes.Equal(g.trail, w.trail) || !bytes.Equal(g.device, w.device) || g.hasBody != w.hasBody || !bytes.Equal(g.body, w.body) {
				t.Fatalf("record %d: %+v, protojson reads %+v", i+1, g, w)
			}
		}
	})
}

// lastAttr is the string value of the last attribute named key (the
// scanner keeps the last, as a JSON reader keeps a repeated member's).
func lastAttr(kvs []*common.KeyValue, key string) string {
	v := ""
	for _, kv := range kvs {
		if kv.GetKey() == key {
			v = kv.GetValue().GetStringValue()
		}
	}
	return v
}
