package peercred

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name string
		line string
		want procStat // zero when an error is expected
	}{
		{"plain", "1234 (bash) S 1000 1234 1234 34816 1234 4194304 0\n",
			procStat{PID: 1234, Comm: "bash", State: 'S', PPID: 1000}},
		{"comm with spaces", "77 (Web Content) R 12 77 77 0 -1\n",
			procStat{PID: 77, Comm: "Web Content", State: 'R', PPID: 12}},
		{"comm with parentheses", "9 (a (b) c) S 3 9 9 0 -1",
			procStat{PID: 9, Comm: "a (b) c", State: 'S', PPID: 3}},
		{"comm that imitates the next fields", "9 (x) R 666) S 3 9 9 0 -1",
			procStat{PID: 9, Comm: "x) R 666", State: 'S', PPID: 3}},
		{"comm that is only a parenthesis", "5 ()) Z 1 0 0",
			procStat{PID: 5, Comm: ")", State: 'Z', PPID: 1}},
		{"comm with a newline", "5 (a\nb) S 2 0 0\n",
			procStat{PID: 5, Comm: "a\nb", State: 'S', PPID: 2}},
		{"empty comm", "5 () S 2 0 0",
			procStat{PID: 5, Comm: "", State: 'S', PPID: 2}},
		{"init", "1 (systemd) S 0 1 1 0 -1", procStat{PID: 1, Comm: "systemd", State: 'S', PPID: 0}},
		{"ppid is the last field", "5 (x) S 2\n", procStat{PID: 5, Comm: "x", State: 'S', PPID: 2}},

		{"empty", "", procStat{}},
		{"no comm", "5 S 2 0 0", procStat{}},
		{"no closing parenthesis", "5 (x S 2 0 0", procStat{}},
		{"closing before opening", "5 )x( S 2", procStat{}},
		{"no space after pid", "5(x) S 2", procStat{}},
		{"signed pid", "+5 (x) S 2", procStat{}},
		{"negative pid", "-5 (x) S 2", procStat{}},
		{"no space after comm", "5 (x)S 2", procStat{}},
		{"two-letter state", "5 (x) SS 2", procStat{}},
		{"no ppid", "5 (x) S", procStat{}},
		{"empty ppid", "5 (x) S  2", procStat{}},
		{"negative ppid", "5 (x) S -1 0", procStat{}},
		{"ppid out of range", "5 (x) S 99999999999999999999 0", procStat{}},
		{"ppid not a number", "5 (x) S 0x10 0", procStat{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.line))
			if tt.want == (procStat{}) {
				if err == nil {
					t.Fatalf("parseStat(%q) = %+v, want an error", tt.line, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("parseStat(%q) = %+v, %v; want %+v", tt.line, got, err, tt.want)
			}
		})
	}
}

// FuzzParseStat checks that parseStat never panics on outside input, that
// what it accepts is sane, and that any comm a process can choose (bytes
// between the parentheses, seeded by the fuzzer) never shifts the fields
// after it.
func FuzzParseStat(f *testing.F) {
	for _, seed := range []string{
		"1234 (bash) S 1000 1234 1234 34816 1234 4194304 0\n",
		"9 (x) R 666) S 3 9 9 0 -1",
		"5 ()) Z 1 0 0",
		"5 (a\nb) S 2",
		") S 1 (",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if st, err := parseStat(data); err == nil {
			if st.PID < 0 || st.PPID < 0 {
				t.Fatalf("parseStat(%q) = %+v: negative pid", data, st)
			}
		}

		line := fmt.Appendf(nil, "4242 (%s) S 17 4242 4242 0 -1 4194560 1 0 0 0\n", data)
		st, err := parseStat(line)
		want := procStat{PID: 4242, Comm: string(data), State: 'S', PPID: 17}
		if err != nil || st != want {
			t.Fatalf("parseStat(%q) = %+v, %v; want %+v", line, st, err, want)
		}
	})
}

func TestParseProcArgs2(t *testing.T) {
	argc := func(n uint32) []byte { return binary.NativeEndian.AppendUint32(nil, n) }
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name    string
		in      []byte
		want    string
		wantErr bool
	}{
		{"typical", cat(argc(2), []byte("/Applications/Claude.app/Contents/MacOS/Claude\x00\x00\x00Claude\x00--flag\x00HOME=/Users/a\x00")),
			"/Applications/Claude.app/Contents/MacOS/Claude", false},
		{"path with spaces", cat(argc(1), []byte("/Applications/Visual Studio Code.app/x\x00")), "/Applications/Visual Studio Code.app/x", false},
		{"relative path is returned as is", cat(argc(1), []byte("./node\x00node\x00")), "./node", false},
		{"empty", nil, "", true},
		{"short argc", []byte{1, 0}, "", true},
		{"negative argc", cat(argc(0xffffffff), []byte("/bin/x\x00")), "", true},
		{"unterminated", cat(argc(1), []byte("/bin/x")), "", true},
		{"empty path", cat(argc(1), []byte("\x00x\x00")), "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseProcArgs2(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("parseProcArgs2 = %q, %v; want %q (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func supported() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "windows":
		return true
	}
	return false
}

func TestGetRefusesConnsWithoutPeerCredentials(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	want := ErrUnsupportedConn
	if !supported() {
		want = ErrUnsupported
	}
	for _, c := range []net.Conn{a, nil, wrapped{a}} {
		if _, err := Get(c); !errors.Is(err, want) {
			t.Errorf("Get(%T) error = %v, want %v", c, err, want)
		}
	}
}

// wrapped is a connection wrapper that, like *tls.Conn, reveals what it
// wraps.
type wrapped struct{ net.Conn }

func (w wrapped) NetConn() net.Conn { return w.Conn }

func TestInvalidPID(t *testing.T) {
	for _, pid := range []int{0, -1} {
		if exe, err := ProcessExe(pid); err == nil {
			t.Errorf("ProcessExe(%d) = %q, want an error", pid, exe)
		}
		if ppid, err := ParentPID(pid); err == nil {
			t.Errorf("ParentPID(%d) = %d, want an error", pid, ppid)
		}
	}
}
