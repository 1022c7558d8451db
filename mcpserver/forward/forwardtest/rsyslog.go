package forwardtest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Rsyslog is a running rsyslogd with a TLS listener (imtcp, gtls driver)
// that stores each message as an RFC 5424 line
// (RSYSLOG_SyslogProtocol23Format) in File.
type Rsyslog struct {
	t      testing.TB
	dir    string
	config string
	Addr   string // 127.0.0.1:PORT
	URL    string // tls://127.0.0.1:PORT, for AuditSyslog
	CAFile string // the CA the listener's certificate chains to
	File   string
	cmd    *exec.Cmd
	exited chan struct{}
	log    *logBuffer
}

// RsyslogPath is rsyslogd, or "" when it is not installed
// (packaging/dev-deps.sh installs it).
func RsyslogPath() string {
	for _, p := range []string{"/usr/sbin/rsyslogd", "/sbin/rsyslogd"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	p, _ := exec.LookPath("rsyslogd")
	return p
}

// StartRsyslog starts rsyslogd with its own configuration, pid file and
// work folder in dir; it is stopped when the test ends.
func StartRsyslog(t testing.TB, dir string) *Rsyslog {
	t.Helper()
	bin := RsyslogPath()
	if bin == "" {
		t.Skip("rsyslogd is not installed (packaging/dev-deps.sh installs rsyslog and rsyslog-gnutls)")
	}
	if _, err := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so"); err != nil {
		if m, _ := filepath.Glob("/usr/lib/*/rsyslog/lmnsd_gtls.so"); len(m) == 0 {
			t.Skip("rsyslog's TLS driver is not installed (apt-get install rsyslog-gnutls)")
		}
	}
	port := FreePort(t)
	r := &Rsyslog{t: t, dir: dir, Addr: "127.0.0.1:" + strconv.Itoa(port), File: filepath.Join(dir, "messages.log"),
		config: filepath.Join(dir, "rsyslog.conf"), log: &logBuffer{}}
	r.URL = "tls://" + r.Addr
	ca, cert, key := writeCertificates(t, dir)
	r.CAFile = ca
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`global(
  workDirectory="%s"
  maxMessageSize="256k"
  defaultNetstreamDriver="gtls"
  defaultNetstreamDriverCAFile="%s"
  defaultNetstreamDriverCertFile="%s"
  defaultNetstreamDriverKeyFile="%s"
)
module(load="imtcp" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon")
input(type="imtcp" address="127.0.0.1" port="%d")
action(type="omfile" file="%s" template="RSYSLOG_SyslogProtocol23Format")
`, work, ca, cert, key, port, r.File)
	if err := os.WriteFile(r.config, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	r.Start()
	t.Cleanup(func() { r.Stop(syscall.SIGKILL) })
	return r
}

// Start starts rsyslogd (again) and waits for its port.
func (r *Rsyslog) Start() {
	r.t.Helper()
	cmd := exec.Command(RsyslogPath(), "-n", "-f", r.config, "-i", filepath.Join(r.dir, "rsyslogd.pid"))
	cmd.Stdout, cmd.Stderr = r.log, r.log
	if err := cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	r.cmd = cmd
	r.exited = make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(r.exited)
	waitPort(r.t, r.Addr, r.exited, r.log)
}

// Stop ends rsyslogd with sig and waits for it.
func (r *Rsyslog) Stop(sig syscall.Signal) {
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Signal(sig)
	select {
	case <-r.exited:
	case <-time.After(10 * time.Second):
		r.cmd.Process.Kill()
		<-r.exited
	}
	r.cmd = nil
}

// sdParam finds a structured-data parameter of the scispot element.
var sdParam = regexp.MustCompile(`\b(trail|seq)="([^"]*)"`)

// ReadSyslogFile reads rsyslog's RFC 5424 lines: the trail and seq from
// the structured data, the record from the MSG after it.
func ReadSyslogFile(path string) ([]Arrival, error) {
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
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.Index(line, "[scispot@")
		if i < 0 {
			continue
		}
		j := strings.Index(line[i:], "] ")
		if j < 0 {
			continue
		}
		sd, msg := line[i:i+j+1], line[i+j+2:]
		msg = strings.TrimPrefix(msg, "\ufeff")
		a := Arrival{Body: msg}
		for _, m := range sdParam.FindAllStringSubmatch(sd, -1) {
			switch m[1] {
			case "trail":
				a.Trail = m[2]
			case "seq":
				a.Seq, _ = strconv.ParseInt(m[2], 10, 64)
			}
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

// writeCertificates makes a CA and a server certificate for 127.0.0.1.
func writeCertificates(t testing.TB, dir string) (caFile, certFile, keyFile string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Scispot test syslog CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames: []string{"localhost"}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	write := func(path, typ string, b []byte, mode os.FileMode) {
		if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(caFile, "CERTIFICATE", caDER, 0o644)
	write(certFile, "CERTIFICATE", der, 0o644)
	write(keyFile, "EC PRIVATE KEY", keyDER, 0o600)
	return caFile, certFile, keyFile
}

// logBuffer collects a receiver's output for failure messages; the
// process writes it while a test reads it.
type logBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b = append(l.b, p...)
	return len(p), nil
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
