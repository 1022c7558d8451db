package forward

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	collogs "go.opentelemetry.io/proto/slim/otlp/collector/logs/v1"
	commonpb "go.opentelemetry.io/proto/slim/otlp/common/v1"
	logspb "go.opentelemetry.io/proto/slim/otlp/logs/v1"
	resourcepb "go.opentelemetry.io/proto/slim/otlp/resource/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// ScopeName is the instrumentation scope of every forwarded record.
const ScopeName = "io.scispot.mcp.audit"

// otlpDest posts OTLP/HTTP logs in protobuf.
type otlpDest struct {
	endpoint string // as the policy names it
	url      string // where requests go
	headers  http.Header
	client   *http.Client
	res      *resourcepb.Resource
	now      func() time.Time
}

func newOTLP(t Targets, res Resource) (*otlpDest, error) {
	tlsConf, err := tlsConfig(t.CAFile)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for _, line := range t.OTLPHeaders {
		name, value, _ := strings.Cut(line, ":")
		h.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	u := strings.TrimRight(t.OTLPEndpoint, "/")
	if !strings.HasSuffix(u, "/v1/logs") {
		u += "/v1/logs"
	}
	return &otlpDest{
		endpoint: t.OTLPEndpoint,
		url:      u,
		headers:  h,
		client: &http.Client{
			Timeout: 60 * time.Second,
			Transport: &http.Transport{
				// Never a proxy from the environment: the service reads no
				// settings from it.
				Proxy:                 nil,
				DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
				TLSClientConfig:       tlsConf,
				TLSHandshakeTimeout:   10 * time.Second,
				ResponseHeaderTimeout: 30 * time.Second,
				MaxIdleConns:          4,
				IdleConnTimeout:       90 * time.Second,
				ForceAttemptHTTP2:     true,
			},
			// A redirect would resend the records (and the ingest key) to
			// another place than the admin named.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		res: resourceOf(res),
		now: time.Now,
	}, nil
}

// tlsConfig trusts the CAs in caFile instead of the system's when it is
// set.
func tlsConfig(caFile string) (*tls.Config, error) {
	conf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile == "" {
		return conf, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading AuditCAFile: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("AuditCAFile %s holds no PEM certificate", caFile)
	}
	conf.RootCAs = pool
	return conf, nil
}

func resourceOf(r Resource) *resourcepb.Resource {
	attrs := []*commonpb.KeyValue{
		strAttr("service.name", "scispot-mcpd"),
		strAttr("service.version", r.Version),
		strAttr("host.id", r.Device),
		strAttr("host.name", r.HostName),
	}
	return &resourcepb.Resource{Attributes: attrs}
}

func strAttr(k, v string) *commonpb.KeyValue {
	// Protobuf strings must be UTF-8; the host name comes from the
	// system, not from the canonical encoder.
	v = strings.ToValidUTF8(v, "\uFFFD")
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: v}}}
}

func intAttr(k string, v int64) *commonpb.KeyValue {
	return &commonpb.KeyValue{Key: k, Value: &commonpb.AnyValue{Value: &commonpb.AnyValue_IntValue{IntValue: v}}}
}

func (d *otlpDest) Kind() string                { return "otlp" }
func (d *otlpDest) Endpoint() string            { return d.endpoint }
func (d *otlpDest) ID() string                  { return destID("otlp", d.endpoint) }
func (d *otlpDest) ConfirmAfter() time.Duration { return 0 }
func (d *otlpDest) Healthy() error              { return nil }

// Lanes: collectors handle requests in parallel, and a fleet's catch-up
// after an outage is bound by the round trip, not by this side.
func (d *otlpDest) Lanes() int { return 2 }
func (d *otlpDest) Close() error {
	d.client.CloseIdleConnections()
	return nil
}

// logRecord is one audit record as an OTLP LogRecord: the body is the
// record's exact line, so the hash chain verifies from what the pipeline
// stored.
func logRecord(it Item, observed uint64) *logspb.LogRecord {
	f := it.Fields
	sev, sevText := logspb.SeverityNumber_SEVERITY_NUMBER_INFO, "INFO"
	if f.Outcome == "denied" || f.Outcome == "error" || it.Bad {
		sev, sevText = logspb.SeverityNumber_SEVERITY_NUMBER_WARN, "WARN"
	}
	attrs := make([]*commonpb.KeyValue, 0, 11)
	attrs = append(attrs,
		strAttr("event.name", f.Event),
		strAttr("user.name", f.User),
		strAttr("scispot.device", f.Device),
		strAttr("scispot.client", f.Client.Name),
	)
	if f.Tool != "" {
		attrs = append(attrs, strAttr("gen_ai.tool.name", f.Tool))
	}
	attrs = append(attrs,
		strAttr("scispot.outcome", f.Outcome),
		strAttr("session.id", f.Session),
		intAttr("scispot.seq", f.Seq),
		strAttr("scispot.hash", f.Hash),
		strAttr("scispot.trail", it.Trail),
	)
	lr := &logspb.LogRecord{
		ObservedTimeUnixNano: observed,
		SeverityNumber:       sev,
		SeverityText:         sevText,
		Body:                 body(it.Line),
		Attributes:           attrs,
	}
	if !f.Time.IsZero() {
		lr.TimeUnixNano = uint64(f.Time.UnixNano())
	}
	return lr
}

// body is a line as a string value, or — for a damaged line that is not
// UTF-8, which a protobuf string cannot hold — as its bytes: otherwise the
// whole batch would fail to encode and every record after the damage
// would wait for ever. The verifier reports such a line either way.
func body(line []byte) *commonpb.AnyValue {
	if !utf8.Valid(line) {
		return &commonpb.AnyValue{Value: &commonpb.AnyValue_BytesValue{BytesValue: line}}
	}
	return &commonpb.AnyValue{Value: &commonpb.AnyValue_StringValue{StringValue: string(line)}}
}

// request builds the ExportLogsServiceRequest of a batch.
func (d *otlpDest) request(items []Item) *collogs.ExportLogsServiceRequest {
	observed := uint64(d.now().UnixNano())
	recs := make([]*logspb.LogRecord, len(items))
	for i, it := range items {
		recs[i] = logRecord(it, observed)
	}
	return &collogs.ExportLogsServiceRequest{ResourceLogs: []*logspb.ResourceLogs{{
		Resource: d.res,
		ScopeLogs: []*logspb.ScopeLogs{{
			Scope:      &commonpb.InstrumentationScope{Name: ScopeName},
			LogRecords: recs,
		}},
	}}}
}

// Send posts the batch. A 2xx is the acknowledgement; 429, 502, 503 and
// 504 and network errors are retried soon (after Retry-After when given);
// any other status is shown in status and retried slowly.
func (d *otlpDest) Send(ctx context.Context, items []Item) (int64, error) {
	body, err := proto.Marshal(d.request(items))
	if err != nil {
		return 0, &sendError{err: fmt.Errorf("encoding OTLP logs: %w", err), slow: true}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(body))
	if err != nil {
		return 0, &sendError{err: err, slow: true}
	}
	for k, v := range d.headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	resp, err := d.client.Do(req)
	if err != nil {
		// The error names the URL, never the headers.
		return 0, &sendError{err: fmt.Errorf("sending to the OTLP endpoint: %w", err)}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 == 2 {
		var out collogs.ExportLogsServiceResponse
		if len(data) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") {
			if err := proto.Unmarshal(data, &out); err == nil && out.GetPartialSuccess() != nil {
				ps := out.GetPartialSuccess()
				if ps.GetRejectedLogRecords() > 0 || ps.GetErrorMessage() != "" {
					return ps.GetRejectedLogRecords(), nil
				}
			}
		}
		return 0, nil
	}
	msg := statusMessage(resp, data)
	e := &sendError{err: fmt.Errorf("the OTLP endpoint answered %s%s", resp.Status, msg)}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		e.retryAfter = retryAfter(resp.Header.Get("Retry-After"), d.now())
	default:
		e.slow = true
	}
	return 0, e
}

// statusMessage is the google.rpc.Status message of an OTLP error answer,
// when there is one.
func statusMessage(resp *http.Response, data []byte) string {
	if len(data) == 0 {
		return ""
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-protobuf") {
		if m, ok := rpcStatusMessage(data); ok && m != "" {
			return ": " + oneLine(m)
		}
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		return ": " + oneLine(string(data))
	}
	return ""
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// retryAfter reads a Retry-After header: seconds or an HTTP date.
func retryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if n, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// rpcStatusMessage reads the message (field 2) of a google.rpc.Status,
// which OTLP receivers answer errors with.
func rpcStatusMessage(b []byte) (string, bool) {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
		if num == 2 && typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return "", false
			}
			return string(v), true
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return "", false
		}
		b = b[n:]
	}
	return "", false
}
