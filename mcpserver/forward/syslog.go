package forward

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/leodido/go-syslog/v4/rfc5424"
)

// Syslog message constants (see the admin guide): facility 13, "log
// audit"; an enterprise SD-ID under Scispot's private enterprise number
// placeholder 32473 (the documentation example number of RFC 5612).
const (
	syslogFacility = 13
	syslogAppName  = "scispot-mcpd"
	// SDID is the structured-data element every message carries.
	SDID = "scispot@32473"
)

// syslogDest writes RFC 5424 messages with octet-counting framing (RFC
// 6587) over TCP, or TLS (RFC 5425).
//
// TCP syslog has no acknowledgement: a message written into a socket can
// still be lost when the receiver dies before reading it. So a batch counts
// as delivered only once it was written and flushed and the connection is
// still open ConfirmAfter later; if the connection breaks first, every
// batch since the last confirmed one is sent again (at least once:
// receivers see duplicates, never gaps).
type syslogDest struct {
	endpoint string
	addr     string
	tlsConf  *tls.Config // nil for tcp://
	res      Resource

	mu   sync.Mutex
	conn net.Conn
	w    *bufio.Writer
}

func newSyslog(t Targets, res Resource) (*syslogDest, error) {
	u, err := url.Parse(t.Syslog)
	if err != nil {
		return nil, fmt.Errorf("AuditSyslog: %w", err)
	}
	d := &syslogDest{endpoint: t.Syslog, addr: u.Host, res: res}
	if u.Scheme == "tls" {
		conf, err := tlsConfig(t.CAFile)
		if err != nil {
			return nil, err
		}
		conf.ServerName = u.Hostname()
		d.tlsConf = conf
	}
	return d, nil
}

func (d *syslogDest) Kind() string                { return "syslog" }
func (d *syslogDest) Endpoint() string            { return d.endpoint }
func (d *syslogDest) ID() string                  { return destID("syslog", d.endpoint) }
func (d *syslogDest) ConfirmAfter() time.Duration { return 2 * time.Second }

// Lanes: one connection, one stream.
func (d *syslogDest) Lanes() int { return 1 }

func (d *syslogDest) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeLocked()
}

func (d *syslogDest) closeLocked() error {
	if d.conn == nil {
		return nil
	}
	err := d.conn.Close()
	d.conn, d.w = nil, nil
	return err
}

func (d *syslogDest) dial(ctx context.Context) error {
	if d.conn != nil {
		return nil
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	var (
		c   net.Conn
		err error
	)
	if d.tlsConf != nil {
		c, err = (&tls.Dialer{NetDialer: dialer, Config: d.tlsConf}).DialContext(ctx, "tcp", d.addr)
	} else {
		c, err = dialer.DialContext(ctx, "tcp", d.addr)
	}
	if err != nil {
		return fmt.Errorf("connecting to the syslog server: %w", err)
	}
	d.conn, d.w = c, bufio.NewWriterSize(c, 64<<10)
	return nil
}

// Healthy reports whether the connection is still open: the receiver never
// sends anything, so a read that does not time out at once means it closed
// (or reset) the connection, and what it had not read yet is lost.
func (d *syslogDest) Healthy() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.conn == nil {
		return errors.New("not connected to the syslog server")
	}
	d.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var b [1]byte
	_, err := d.conn.Read(b[:])
	d.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil
	}
	d.closeLocked()
	if err == nil {
		err = errors.New("the syslog server sent data")
	}
	return fmt.Errorf("the syslog server closed the connection: %w", err)
}

// Send writes and flushes every message of the batch.
func (d *syslogDest) Send(ctx context.Context, items []Item) (int64, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.dial(ctx); err != nil {
		return 0, &sendError{err: err}
	}
	d.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	// A receiver that stops reading blocks the write until the deadline;
	// when the runner stops (a policy change, the service ending) the
	// write ends at once instead: a deadline in the past unblocks it, and
	// the connection is then closed below.
	conn := d.conn
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Now()) })
	defer stop()
	for _, it := range items {
		msg, err := syslogMessage(it, d.res)
		if err != nil {
			return 0, &sendError{err: err, slow: true}
		}
		if _, err := d.w.WriteString(strconv.Itoa(len(msg))); err != nil {
			d.closeLocked()
			return 0, &sendError{err: fmt.Errorf("writing to the syslog server: %w", err)}
		}
		d.w.WriteByte(' ')
		if _, err := d.w.WriteString(msg); err != nil {
			d.closeLocked()
			return 0, &sendError{err: fmt.Errorf("writing to the syslog server: %w", err)}
		}
	}
	if err := d.w.Flush(); err != nil {
		d.closeLocked()
		return 0, &sendError{err: fmt.Errorf("writing to the syslog server: %w", err)}
	}
	return 0, nil
}

// syslogMessage is one record as an RFC 5424 message: MSGID the event,
// structured data naming trail, session, seq, hash and device, and MSG the
// record's exact line.
func syslogMessage(it Item, res Resource) (string, error) {
	f := it.Fields
	sev := uint8(6) // informational
	if f.Outcome == "denied" || f.Outcome == "error" || it.Bad {
		sev = 4 // warning
	}
	m := &rfc5424.SyslogMessage{}
	m.SetPriority(syslogFacility*8 + sev)
	m.SetVersion(1)
	ts := f.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	// RFC 5424 allows at most six fraction digits.
	m.SetTimestamp(ts.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	if h := res.HostName; h != "" {
		m.SetHostname(h)
	}
	m.SetAppname(syslogAppName)
	if f.PID > 0 {
		m.SetProcID(strconv.Itoa(f.PID))
	} else {
		m.SetProcID(strconv.Itoa(os.Getpid()))
	}
	if f.Event != "" {
		m.SetMsgID(f.Event)
	}
	m.SetParameter(SDID, "trail", it.Trail)
	if f.Session != "" {
		m.SetParameter(SDID, "session", f.Session)
	}
	m.SetParameter(SDID, "seq", strconv.FormatInt(f.Seq, 10))
	if f.Hash != "" {
		m.SetParameter(SDID, "hash", f.Hash)
	}
	if f.Device != "" {
		m.SetParameter(SDID, "device", f.Device)
	}
	m.SetMessage(string(it.Line))
	s, err := m.String()
	if err != nil {
		return "", fmt.Errorf("building the syslog message of %s seq %d: %w", it.Trail, f.Seq, err)
	}
	return s, nil
}
